//! Catalog commands: create an event, publish it (which opens its inventory).
//!
//! The catalog is cold: each command loads the event's few commits, decides and appends. Publishing
//! touches two aggregates in two streams (`catalog.<event>` and `inventory.<event>`). A JetStream
//! atomic batch cannot span streams, so publishing appends `EventPublished` first and then asks the
//! event's writer to open the inventory. Both steps are idempotent: a publish retried after a crash
//! between them completes the opening (see docs/DECISIONS.md).

use crate::inventory::{CommandError, Inventories};
use domain::catalog::{
    self, open_inventory, CatalogCommand, CatalogError, CatalogEvent, CatalogState, EventDetails,
    EventStatus,
};
use domain::ids::EventId;
use domain::inventory::InventoryError;
use tv_nats::{AppendError, CommitMeta, EventRecord, EventStore, Position, StoreError, Stream};

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

/// How many times a catalog command is decided again after a concurrent append.
const MAX_CONFLICT_RETRIES: u32 = 3;

struct Loaded {
    state: CatalogState,
    last_sequence: u64,
    first_sequence: u64,
}

impl Catalog {
    pub fn new(store: EventStore, inventories: Inventories) -> Self {
        Self { store, inventories }
    }

    async fn load(&self, event: EventId) -> Result<Loaded, StoreError> {
        let loaded = self
            .store
            .load::<CatalogEvent>(Stream::Catalog, &event.to_string(), 0)
            .await?;
        let first_sequence = loaded.commits.first().map_or(0, |c| c.sequence);
        let state = loaded
            .commits
            .iter()
            .flat_map(|c| c.events.iter())
            .fold(CatalogState::default(), catalog::evolve);
        Ok(Loaded {
            state,
            last_sequence: loaded.last_sequence,
            first_sequence,
        })
    }

    /// Loads, decides and appends one catalog command; returns the state after it and where it
    /// is stored (the aggregate's last position when the command changed nothing).
    async fn execute(
        &self,
        event: EventId,
        command: CatalogCommand,
        traceparent: Option<String>,
    ) -> Result<(Loaded, Position), CatalogFailure> {
        let stream = self.store.naming().stream(Stream::Catalog);
        for _ in 0..=MAX_CONFLICT_RETRIES {
            let mut loaded = self.load(event).await?;
            let now = time::OffsetDateTime::now_utc();
            let facts = catalog::decide(&loaded.state, &command, now)?;
            if facts.is_empty() {
                let sequence = match command {
                    CatalogCommand::Create { .. } => loaded.first_sequence,
                    _ => loaded.last_sequence,
                };
                let position = Position { stream, sequence };
                return Ok((loaded, position));
            }
            let mut meta = CommitMeta::new("Event", facts[0].kind());
            meta.traceparent = traceparent.clone();
            let records: Vec<_> = facts.iter().map(|f| EventRecord::new(1, f)).collect();
            match self
                .store
                .append(
                    Stream::Catalog,
                    &event.to_string(),
                    loaded.last_sequence,
                    &meta,
                    &records,
                )
                .await
            {
                Ok(position) => {
                    loaded.state = facts.iter().fold(loaded.state, catalog::evolve);
                    if loaded.first_sequence == 0 {
                        loaded.first_sequence = position.sequence;
                    }
                    loaded.last_sequence = position.sequence;
                    return Ok((loaded, position));
                }
                Err(AppendError::Conflict { .. }) => continue,
                Err(e) => return Err(CatalogFailure::Unavailable(e.to_string())),
            }
        }
        Err(CatalogFailure::Unavailable(
            "the event changed concurrently too often; retry".into(),
        ))
    }

    /// Creates the event as a draft. A retry with the same details returns the first answer.
    pub async fn create(
        &self,
        event: EventId,
        details: EventDetails,
        traceparent: Option<String>,
    ) -> Result<CatalogOutcome, CatalogFailure> {
        let (loaded, position) = self
            .execute(
                event,
                CatalogCommand::Create {
                    event_id: event,
                    details,
                },
                traceparent,
            )
            .await?;
        Ok(CatalogOutcome {
            event_id: event,
            status: loaded.state.status().unwrap_or(EventStatus::Draft),
            position,
            inventory_position: None,
        })
    }

    /// Puts the event on sale and opens its inventory. Safe to retry.
    pub async fn publish(
        &self,
        event: EventId,
        traceparent: Option<String>,
    ) -> Result<CatalogOutcome, CatalogFailure> {
        let (loaded, position) = self
            .execute(event, CatalogCommand::Publish, traceparent.clone())
            .await?;
        let details = loaded
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
            status: loaded.state.status().unwrap_or(EventStatus::OnSale),
            position,
            inventory_position: Some(inventory_position),
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
