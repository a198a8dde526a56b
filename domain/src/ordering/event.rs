//! Facts of an order, as stored on `orders.<order>` and read by projections, reactors and
//! downstream systems (the notifier sends the confirmation). The subject names the order, so only
//! `OrderPlaced` repeats its id. Schema version 1 for every variant.

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
        payment_token: String,
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
    OrderCancelled {
        refund_due: bool,
    },
    OrderRefunded {
        amount_minor: i64,
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
        }
    }
}
