//! The catalog's decider: which lifecycle commands an event accepts in which status.
//!
//! Every command is safe to retry: asking for the status an event already has decides nothing
//! (`Ok(vec![])`), so a client or reactor that did not see the first answer can simply ask again.

use super::{CatalogCommand, CatalogError, CatalogEvent, CatalogState, EventStatus};
use crate::Timestamp;

/// Decide what `command` means for the event in `state`. `now` is part of every decider's
/// signature; the catalog's rules do not depend on it yet.
pub fn decide(
    state: &CatalogState,
    command: &CatalogCommand,
    _now: Timestamp,
) -> Result<Vec<CatalogEvent>, CatalogError> {
    let (Some(current_id), Some(current_details), Some(status)) =
        (state.event_id(), state.details(), state.status())
    else {
        return match command {
            CatalogCommand::Create { event_id, details } => Ok(vec![CatalogEvent::EventCreated {
                event_id: *event_id,
                details: details.clone(),
            }]),
            _ => Err(CatalogError::UnknownEvent),
        };
    };
    let event_id = current_id;
    let refuse = |action| {
        Err(CatalogError::InvalidState {
            current: status,
            action,
        })
    };

    use EventStatus::*;
    match (command, status) {
        (
            CatalogCommand::Create {
                event_id: asked,
                details,
            },
            _,
        ) => {
            if *asked == current_id && details == current_details {
                Ok(vec![])
            } else {
                Err(CatalogError::AlreadyExists)
            }
        }

        (CatalogCommand::Publish, Draft) => Ok(vec![CatalogEvent::EventPublished { event_id }]),
        (CatalogCommand::Publish, OnSale) => Ok(vec![]),
        (CatalogCommand::Publish, Closed | Cancelled) => refuse("published"),

        (CatalogCommand::CloseSale, OnSale) => Ok(vec![CatalogEvent::SaleClosed { event_id }]),
        (CatalogCommand::CloseSale, Closed) => Ok(vec![]),
        (CatalogCommand::CloseSale, Draft | Cancelled) => refuse("closed"),

        (CatalogCommand::Cancel, Draft | OnSale | Closed) => {
            Ok(vec![CatalogEvent::EventCancelled { event_id }])
        }
        (CatalogCommand::Cancel, Cancelled) => Ok(vec![]),
    }
}

/// Fold one fact into the state. Facts that make no sense in the current state (which `decide`
/// never produces) leave it unchanged, so replaying a log never panics.
pub fn evolve(state: CatalogState, event: &CatalogEvent) -> CatalogState {
    match event {
        CatalogEvent::EventCreated { event_id, details } if !state.exists() => {
            CatalogState::created(*event_id, details.clone())
        }
        CatalogEvent::EventCreated { .. } => state,
        CatalogEvent::EventPublished { .. } => state.with_status(EventStatus::OnSale),
        CatalogEvent::SaleClosed { .. } => state.with_status(EventStatus::Closed),
        CatalogEvent::EventCancelled { .. } => state.with_status(EventStatus::Cancelled),
    }
}
