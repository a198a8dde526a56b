//! Catalog commands: create an event, publish it (which opens its inventory), close its sale
//! or cancel it (which closes or cancels the inventory too).
//!
//! The catalog is a cold aggregate, executed like orders and payments by [`crate::cold`]: each
//! command loads the event's few commits, decides and appends, again on a conflict. Publishing
//! touches two aggregates in two streams (`catalog.<event>` and `inventory.<event>`). A JetStream
//! atomic batch cannot span streams, so publishing appends `EventPublished` first and then asks the
//! event's writer to open the inventory. Both steps are idempotent: a publish retried after a crash
//! between them completes the opening (see docs/DECISIONS.md).

use crate::cold::{self, Causes, ColdAggregate, ColdError, Current};
use crate::inventory::{CommandError, Inventories};
use domain::catalog::{
    self, open_inventory, CatalogCommand, CatalogError, CatalogEvent, CatalogState, EventDetails,
    EventStatus,
};
use domain::ids::EventId;
use domain::inventory::{InventoryCommand, InventoryError};
use domain::Timestamp;
use tv_nats::{EventStore, Position, StoreError, Stream};

/// Why a catalog command failed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogFailure {
    #[error(transparent)]
    Rejected(#[from] CatalogError),
    #[error("the event store is unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for CatalogFailure {
    fn from(e: StoreError) -> Self {
        CatalogFailure::Unavailable(e.to_string())
    }
}

/// A catalog command's result.
#[derive(Debug, Clone)]
pub struct CatalogOutcome {
    pub event_id: EventId,
    pub status: EventStatus,
    pub position: Position,
    /// Where the inventory was opened, for a publish.
    pub inventory_position: Option<Position>,
}

#[derive(Clone)]
pub struct Catalog {
    store: EventStore,
    inventories: Inventories,
}

/// The catalog aggregate, on `catalog.<event>`: cold, loaded whole for each command.
pub struct CatalogAggregate;

impl ColdAggregate for CatalogAggregate {
    const STREAM: Stream = Stream::Catalog;
    const NAME: &'static str = "Event";
    type State = CatalogState;
    type Command = CatalogCommand;
    type Event = CatalogEvent;
    type Error = CatalogError;

    fn decide(
        state: &CatalogState,
        command: &CatalogCommand,
        now: Timestamp,
    ) -> Result<Vec<CatalogEvent>, CatalogError> {
        catalog::decide(state, command, now)
    }
    fn evolve(state: CatalogState, event: &CatalogEvent) -> CatalogState {
        catalog::evolve(state, event)
    }
    fn command_name(command: &CatalogCommand) -> &'static str {
        match command {
            CatalogCommand::Create { .. } => "CreateEvent",
            CatalogCommand::Publish => "PublishEvent",
            CatalogCommand::CloseSale => "CloseSale",
            CatalogCommand::Cancel => "CancelEvent",
        }
    }
}

impl From<ColdError<CatalogError>> for CatalogFailure {
    fn from(e: ColdError<CatalogError>) -> Self {
        match e {
            ColdError::Rejected(rule) => CatalogFailure::Rejected(rule),
            ColdError::Unavailable(reason) => CatalogFailure::Unavailable(reason),
        }
    }
}

impl Catalog {
    pub fn new(store: EventStore, inventories: Inventories) -> Self {
        Self { store, inventories }
    }

    async fn execute(
        &self,
        event: EventId,
        command: CatalogCommand,
        traceparent: Option<String>,
    ) -> Result<Current<CatalogState>, CatalogFailure> {
        let causes = Causes {
            traceparent,
            ..Causes::default()
        };
        let executed =
            cold::execute::<CatalogAggregate>(&self.store, &event.to_string(), &command, &causes)
                .await?;
        Ok(executed.current)
    }

    /// Creates the event as a draft. A retry with the same details returns the first answer.
    pub async fn create(
        &self,
        event: EventId,
        details: EventDetails,
        traceparent: Option<String>,
    ) -> Result<CatalogOutcome, CatalogFailure> {
        let current = self
            .execute(
                event,
                CatalogCommand::Create {
                    event_id: event,
                    details,
                },
                traceparent,
            )
            .await?;
        // A retried creation answers with where the event was first stored.
        Ok(CatalogOutcome {
            event_id: event,
            status: current.state.status().unwrap_or(EventStatus::Draft),
            position: current.first_position(),
            inventory_position: None,
        })
    }

    /// Puts the event on sale and opens its inventory. Safe to retry.
    pub async fn publish(
        &self,
        event: EventId,
        traceparent: Option<String>,
    ) -> Result<CatalogOutcome, CatalogFailure> {
        let current = self
            .execute(event, CatalogCommand::Publish, traceparent.clone())
            .await?;
        let position = current.last_position();
        let details = current
            .state
            .details()
            .ok_or(CatalogFailure::Rejected(CatalogError::UnknownEvent))?;
        let opened = self
            .inventories
            .decide(event, open_inventory(details), traceparent)
            .await;
        let inventory_position = match opened {
            Ok(decided) => decided.position,
            Err(CommandError::Rejected(InventoryError::AlreadyOpen)) => {
                return Err(CatalogFailure::Unavailable(
                    "the inventory was opened with other details".into(),
                ))
            }
            Err(e) => return Err(CatalogFailure::Unavailable(e.to_string())),
        };
        Ok(CatalogOutcome {
            event_id: event,
            status: current.state.status().unwrap_or(EventStatus::OnSale),
            position,
            inventory_position: Some(inventory_position),
        })
    }

    /// Closes the sale: the catalog first (the event is listed as closed), then the inventory,
    /// whose writer refuses every hold from then on. Live holds may still check out.
    pub async fn close(
        &self,
        event: EventId,
        traceparent: Option<String>,
    ) -> Result<CatalogOutcome, CatalogFailure> {
        self.end(
            event,
            (CatalogCommand::CloseSale, InventoryCommand::CloseSale),
            EventStatus::Closed,
            traceparent,
        )
        .await
    }

    /// Cancels the event: the catalog first (the event is listed as cancelled, and the
    /// cancellation reactor settles its orders from this fact), then the inventory, whose writer
    /// releases every live hold and refuses every hold and sale from then on.
    pub async fn cancel(
        &self,
        event: EventId,
        traceparent: Option<String>,
    ) -> Result<CatalogOutcome, CatalogFailure> {
        self.end(
            event,
            (CatalogCommand::Cancel, InventoryCommand::CancelSale),
            EventStatus::Cancelled,
            traceparent,
        )
        .await
    }

    /// Ends the sale in the catalog, then in the inventory. Like publishing, both steps are
    /// idempotent, so an end retried after a crash between them completes it.
    async fn end(
        &self,
        event: EventId,
        (in_catalog, in_inventory): (CatalogCommand, InventoryCommand),
        ended: EventStatus,
        traceparent: Option<String>,
    ) -> Result<CatalogOutcome, CatalogFailure> {
        let current = self.execute(event, in_catalog, traceparent.clone()).await?;
        let decided = self
            .inventories
            .decide(event, in_inventory, traceparent)
            .await;
        let inventory_position = match decided {
            Ok(decided) => Some(decided.position),
            // A draft, or published but never opened (a crash right after the publish): no
            // inventory to end.
            Err(CommandError::Rejected(InventoryError::NotOpen)) => None,
            Err(e) => return Err(CatalogFailure::Unavailable(e.to_string())),
        };
        Ok(CatalogOutcome {
            event_id: event,
            status: current.state.status().unwrap_or(ended),
            position: current.last_position(),
            inventory_position,
        })
    }

    /// True if the catalog knows the event (used to tell `unknown_event` from `sale_not_open`).
    pub async fn exists(&self, event: EventId) -> Result<bool, StoreError> {
        Ok(self
            .store
            .subject_last_sequence(Stream::Catalog, &event.to_string())
            .await?
            > 0)
    }
}
