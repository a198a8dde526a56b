//! Check-in at the gate (`POST /tickets/{code}/check-in`): a `CheckIn` on the ticket's order.
//!
//! A signed code names its order ([`TicketRef`]), so the order is loaded from the log straight
//! away, never from a read model that may lag. The order decides: a code it never issued (a
//! forged one, or one of an order that does not exist) is unknown, a ticket of an order called off
//! is void, a ticket already checked in says when. The append carries the order's last sequence
//! as its expected sequence, so when two scanners race on one ticket one append wins and the
//! other decides again on the winner's fact and is told `AlreadyCheckedIn` with its time.
//!
//! Codes issued before codes were signed name no order and are not found here.

use crate::cold::{self, Causes, ColdError, OrderAggregate};
use domain::ids::{EventId, SeatLabel};
use domain::ordering::{ticket_id, OrderCommand, OrderError, TicketRef};
use domain::Timestamp;
use tv_nats::EventStore;
use uuid::Uuid;

/// The ticket service.
#[derive(Clone)]
pub struct Tickets {
    store: EventStore,
}

/// A ticket just checked in.
#[derive(Debug, Clone)]
pub struct CheckedIn {
    pub ticket_id: Uuid,
    pub event_id: EventId,
    pub seat: Option<SeatLabel>,
    pub checked_in_at: Timestamp,
}

/// Why a check-in did not go through.
#[derive(Debug, thiserror::Error)]
pub enum CheckInFailure {
    /// The order refused it: `UnknownTicket`, `AlreadyCheckedIn` or `TicketVoid`.
    #[error(transparent)]
    Rejected(OrderError),
    /// The store did not answer, or the order kept changing: retrying is safe (503).
    #[error("the event store is unavailable: {0}")]
    Unavailable(String),
}

impl From<ColdError<OrderError>> for CheckInFailure {
    fn from(e: ColdError<OrderError>) -> Self {
        match e {
            // No such order: to the caller, no such ticket.
            ColdError::Rejected(OrderError::UnknownOrder) => {
                CheckInFailure::Rejected(OrderError::UnknownTicket)
            }
            ColdError::Rejected(rule) => CheckInFailure::Rejected(rule),
            ColdError::Unavailable(reason) => CheckInFailure::Unavailable(reason),
        }
    }
}

impl Tickets {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    /// Checks in the ticket with `code`, scanned by `scanner` (the token's subject).
    pub async fn check_in(
        &self,
        code: &str,
        scanner: &str,
        traceparent: Option<String>,
    ) -> Result<CheckedIn, CheckInFailure> {
        let Some(ticket) = TicketRef::of_code(code) else {
            return Err(CheckInFailure::Rejected(OrderError::UnknownTicket));
        };
        let order_id = ticket.order_id;
        let causes = Causes {
            traceparent,
            correlation_id: Some(order_id.to_string()),
            causation_id: None,
        };
        let command = OrderCommand::CheckIn {
            code: code.to_owned(),
            scanner: scanner.to_owned(),
        };
        let executed =
            cold::execute::<OrderAggregate>(&self.store, &order_id.to_string(), &command, &causes)
                .await?;
        let order = executed
            .current
            .state
            .order()
            .ok_or(CheckInFailure::Rejected(OrderError::UnknownTicket))?;
        let (index, issued) = order
            .tickets
            .iter()
            .enumerate()
            .find(|(_, t)| t.code == code)
            .ok_or(CheckInFailure::Rejected(OrderError::UnknownTicket))?;
        let checked_in_at = *order
            .checked_in
            .get(code)
            .ok_or(CheckInFailure::Rejected(OrderError::UnknownTicket))?;
        metrics::counter!("tv_tickets_checked_in_total").increment(1);
        Ok(CheckedIn {
            ticket_id: ticket_id(order_id, index as u32),
            event_id: order.event_id,
            seat: issued.seat.clone(),
            checked_in_at,
        })
    }
}
