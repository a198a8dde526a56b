//! Orders: a checked-out hold on its way to tickets. One aggregate per order, on subject
//! `orders.<order>`.
//!
//! An order is placed with the facts of the hold the customer checked out (seats, price, the
//! hold's `expires_at` as its deadline) and the gateway's reference of the payment prepared for it
//! (never the card token: [`PaymentMeans`]), then paid, then confirmed with its tickets once the
//! inventory sold its seats; or it fails (payment declined), expires (unpaid at the deadline, or
//! its seats lost), or is cancelled by its customer, and is refunded when money was taken.
//!
//! It guards the promises of a purchase: an order is paid at most once, by exactly its total; it
//! gets its tickets only once paid; it never records more refunded than captured; a retried
//! command decides nothing new. At the gate, each ticket of a confirmed order is checked in at
//! most once (`CheckIn`, `TicketCheckedIn`); a ticket of an order called off is void. Ticket
//! codes are signed ([`TicketKey`]), so a code names its order and cannot be made up. The order does not move seats or money itself: reactors carry
//! its facts to the inventory (`SellHold`, `ReturnSeats`) and to its payment ([`crate::payments`]),
//! and bring their outcome back as commands.

mod command;
mod decide;
mod error;
mod event;
mod payment_means;
mod state;
#[cfg(test)]
mod tests;
mod ticket;

pub use command::OrderCommand;
pub use decide::{decide, evolve};
pub use error::OrderError;
pub use event::OrderEvent;
pub use payment_means::{PaymentMeans, Preparation};
pub use state::{CapturedPayment, Order, OrderState, OrderStatus};
pub use ticket::{
    ticket_id, tickets_for, ScannerKey, Ticket, TicketKey, TicketRef, CODE_PREFIX,
    SIGNED_CODE_CHARS,
};
