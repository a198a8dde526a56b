//! What the application and its reactors can ask of an order.

use super::{Preparation, Ticket};
use crate::ids::{CustomerId, EventId, HoldId, OrderId, PaymentId, SeatLabel, SectionId};
use crate::money::Currency;
use crate::Timestamp;

/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OrderCommand {
    /// Place the order for a hold the customer just checked out. The facts are copied from the
    /// checked-out hold and its section by the application; `expires_at` is the hold's, the
    /// order's deadline. The total is `unit_price_minor × quantity`. Repeating it with the same
    /// facts decides nothing; the same order id with other facts is refused. A refused means of
    /// payment places the order failed at once (`OrderPlaced` then `PaymentFailed`).
    Place {
        order_id: OrderId,
        customer_id: CustomerId,
        hold_id: HoldId,
        event_id: EventId,
        section_id: SectionId,
        /// Empty in a general-admission section; otherwise one per ticket.
        seats: Vec<SeatLabel>,
        quantity: u32,
        unit_price_minor: i64,
        currency: Currency,
        /// What the gateway made of the customer's means of payment, asked before placing: the
        /// reference of the payment it prepared (charged later by the process manager), or its
        /// refusal (the order is placed failed). Never the card token itself.
        payment: Preparation,
        expires_at: Timestamp,
    },
    /// The order's payment captured this amount (from the payment's `ChargeCaptured`).
    RecordPaymentCaptured {
        payment_id: PaymentId,
        amount_minor: i64,
    },
    /// The order's payment was declined (from the payment's `ChargeDeclined`).
    RecordPaymentDeclined { reason: String },
    /// The seats were sold to the order: issue its tickets (see [`super::tickets_for`]).
    Confirm { tickets: Vec<Ticket> },
    /// The order cannot be fulfilled: its deadline passed unpaid, or its seats were lost before
    /// they could be sold. A paid order then owes its customer a refund.
    Expire,
    /// The customer calls the order off: before payment, or after confirmation (refunded, and the
    /// application returns the seats).
    Cancel { customer_id: CustomerId },
    /// The organiser called the event off: the order ends as the customer's cancellation would
    /// (its hold given back, or its seats returned and its money refunded). A paid order whose
    /// seats are not sold yet is refused (`InvalidState`): it is being settled, and the cancelled
    /// sale refuses its seats, so it expires with a refund; asking again once it has settled
    /// decides nothing.
    CancelForEvent,
    /// The order's payment refunded this amount (from the payment's `RefundIssued`).
    RecordRefunded { amount_minor: i64 },
    /// A scanner at the gate admits the ticket with this code, at `now`: once per ticket, and
    /// only while the order stands confirmed. `scanner` is who scanned it (the token's subject).
    CheckIn { code: String, scanner: String },
}
