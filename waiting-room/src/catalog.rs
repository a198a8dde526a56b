//! What the waiting room needs of the catalog: an event's waiting room and where its sale is, read
//! from the catalog's event log (never a projection), so an event is known as soon as
//! `POST /events` has answered.

use domain::catalog::{self, CatalogEvent, CatalogState, EventStatus};
use domain::ids::EventId;
use domain::waiting_room::{CloseReason, WaitingRoomConfig};
use tv_nats::{EventStore, StoreError, Stream};

/// An event as the waiting room sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Listing {
    /// No such event, or a draft: nobody may queue for it yet.
    Unknown,
    /// The event is sold without a waiting room.
    NoWaitingRoom,
    Room {
        config: WaitingRoomConfig,
        /// Set when the catalog ended the sale.
        closed: Option<CloseReason>,
    },
}

/// Reads the event's catalog aggregate.
pub async fn lookup(store: &EventStore, event: EventId) -> Result<Listing, StoreError> {
    let loaded = store
        .load::<CatalogEvent>(Stream::Catalog, &event.to_string(), 0)
        .await?;
    let state = loaded
        .commits
        .iter()
        .flat_map(|commit| &commit.events)
        .fold(CatalogState::default(), catalog::evolve);
    Ok(listing(&state))
}

fn listing(state: &CatalogState) -> Listing {
    let (Some(details), Some(status)) = (state.details(), state.status()) else {
        return Listing::Unknown;
    };
    let closed = match status {
        EventStatus::Draft => return Listing::Unknown,
        EventStatus::OnSale => None,
        EventStatus::Closed => Some(CloseReason::SaleClosed),
        EventStatus::Cancelled => Some(CloseReason::EventCancelled),
    };
    match details.waiting_room {
        Some(config) => Listing::Room { config, closed },
        None => Listing::NoWaitingRoom,
    }
}
