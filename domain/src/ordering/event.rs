//! Facts of an order, as stored on `orders.<order>` and read by projections, reactors and
//! downstream systems (the notifier sends the confirmation). The subject names the order, so only
//! `OrderPlaced` repeats its id. Schema version 1 for every variant.
//!
//! `OrderPlaced` changed additively within version 1: `payment_ref` (the gateway's reference) was
//! added, and `payment_token` (the card token, on orders placed before references existed) is
//! still read but never written. Readers take both as optional.

use super::Ticket;
use crate::ids::{CustomerId, EventId, HoldId, OrderId, PaymentId, SeatLabel, SectionId};
use crate::money::Currency;
use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
#[non_exhaustive]
pub enum OrderEvent {
    /// Everything the order needs later, copied from the checked-out hold: nobody has to read the
    /// inventory to charge, sell, confirm or refund it.
    OrderPlaced {
        order_id: OrderId,
        customer_id: CustomerId,
        hold_id: HoldId,
        event_id: EventId,
        section_id: SectionId,
        seats: Vec<SeatLabel>,
        quantity: u32,
        unit_price_minor: i64,
        total_minor: i64,
        currency: Currency,
        /// The gateway's reference of the payment prepared for the order (a payment intent):
        /// what the charge confirms. Absent when the gateway refused the means of payment at
        /// placement (a `PaymentFailed` follows in the same commit), and on orders placed before
        /// references existed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payment_ref: Option<String>,
        /// Orders placed before references existed: the card token, charged with as it was then.
        /// Read, never written (`decide` always leaves it `None`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payment_token: Option<String>,
        /// The hold's deadline: unpaid by then, the order expires.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: Timestamp,
    },
    /// The money was taken. When the order had already expired or been cancelled, it is now owed
    /// back (a refund is due).
    PaymentCaptured {
        payment_id: PaymentId,
        amount_minor: i64,
    },
    PaymentFailed {
        reason: String,
    },
    OrderConfirmed {
        tickets: Vec<Ticket>,
    },
    /// `refund_due`: money was captured and must go back.
    OrderExpired {
        refund_due: bool,
    },
    /// `refund_due`: money was captured and must go back (a confirmed order; its seats return).
    /// `event_cancelled`: the organiser called the event off (absent, so false, when the customer
    /// cancelled, and on every order cancelled before events could be).
    OrderCancelled {
        refund_due: bool,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        event_cancelled: bool,
    },
    OrderRefunded {
        amount_minor: i64,
    },
    /// The ticket with this code was admitted at the gate, by `scanner`: once per ticket.
    TicketCheckedIn {
        code: String,
        #[serde(with = "time::serde::rfc3339")]
        checked_in_at: Timestamp,
        scanner: String,
    },
}

impl OrderEvent {
    /// The name a downstream system matches on.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::OrderPlaced { .. } => "OrderPlaced",
            Self::PaymentCaptured { .. } => "PaymentCaptured",
            Self::PaymentFailed { .. } => "PaymentFailed",
            Self::OrderConfirmed { .. } => "OrderConfirmed",
            Self::OrderExpired { .. } => "OrderExpired",
            Self::OrderCancelled { .. } => "OrderCancelled",
            Self::OrderRefunded { .. } => "OrderRefunded",
            Self::TicketCheckedIn { .. } => "TicketCheckedIn",
        }
    }
}
