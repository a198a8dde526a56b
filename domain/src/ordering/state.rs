//! What an order remembers: the facts it was placed with, where it is in its life, its payment,
//! its tickets and its refund. Built only by folding `OrderEvent`s (see `evolve` in `decide.rs`).

use super::{PaymentMeans, Ticket};
use crate::ids::{CustomerId, EventId, HoldId, OrderId, PaymentId, SeatLabel, SectionId};
use crate::money::Currency;
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Where an order is in its life:
///
/// ```text
/// pending_payment ─► paid ─► confirmed ─► cancelled* ─► refunded
///        │            └────► expired* ──────────────────► refunded
///        ├─► payment_failed
///        ├─► expired   (deadline passed unpaid)
///        └─► cancelled (by the customer, before payment)
/// ```
///
/// `*` with a refund due. An expired or cancelled order whose payment is captured late owes a
/// refund too. `paid` is internal: the money is taken, the seats are being sold.
/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Confirmed,
    PaymentFailed,
    Expired,
    Cancelled,
    Refunded,
}

impl OrderStatus {
    /// The stable name used in APIs, logs and read models (`pending_payment`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::PendingPayment => "pending_payment",
            Self::Paid => "paid",
            Self::Confirmed => "confirmed",
            Self::PaymentFailed => "payment_failed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The payment that paid an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedPayment {
    pub payment_id: PaymentId,
    pub amount_minor: i64,
}

/// A placed order, as its facts left it. Read it through [`OrderState::order`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Order {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub hold_id: HoldId,
    pub event_id: EventId,
    pub section_id: SectionId,
    pub seats: Vec<SeatLabel>,
    pub quantity: u32,
    pub unit_price_minor: i64,
    pub total_minor: i64,
    pub currency: Currency,
    /// What the charge is made with; `None` when the gateway refused the means of payment at
    /// placement (the order failed at once: there is nothing to charge).
    pub payment_means: Option<PaymentMeans>,
    /// Unpaid by then, the order expires.
    pub expires_at: Timestamp,
    pub status: OrderStatus,
    /// Set once, by the one capture an order accepts; kept whatever happens next.
    pub payment: Option<CapturedPayment>,
    pub decline_reason: Option<String>,
    /// Issued at confirmation; kept after a cancellation, to recognise a retried `Confirm`.
    pub tickets: Vec<Ticket>,
    pub refunded_minor: i64,
    /// `Expired` or `Cancelled`, once the order ended so; kept when it is refunded, so that a
    /// retried `Expire` or `Cancel` is still recognised.
    pub ended_as: Option<OrderStatus>,
    /// When each checked-in ticket (by code) was first checked in.
    pub checked_in: BTreeMap<String, Timestamp>,
}

impl Order {
    /// What the customer paid and has not been given back.
    pub fn captured_minor(&self) -> i64 {
        self.payment.as_ref().map_or(0, |p| p.amount_minor)
    }

    /// The money owed back: an order that expired or was cancelled with money captured and not
    /// yet refunded. The refund reactor pays this.
    pub fn refund_due_minor(&self) -> i64 {
        match self.status {
            OrderStatus::Expired | OrderStatus::Cancelled => {
                (self.captured_minor() - self.refunded_minor).max(0)
            }
            _ => 0,
        }
    }
}

/// The order aggregate of one order id. `Default` is the state before `OrderPlaced`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderState {
    pub(super) order: Option<Order>,
}

impl OrderState {
    /// True once the order has been placed.
    pub fn exists(&self) -> bool {
        self.order.is_some()
    }

    pub fn order(&self) -> Option<&Order> {
        self.order.as_ref()
    }

    pub fn status(&self) -> Option<OrderStatus> {
        self.order.as_ref().map(|o| o.status)
    }

    /// The money owed back to the customer now; 0 when none (see [`Order::refund_due_minor`]).
    pub fn refund_due_minor(&self) -> i64 {
        self.order.as_ref().map_or(0, Order::refund_due_minor)
    }
}
