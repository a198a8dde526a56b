//! The read models as query-svc serves them: moka caches in front of PostgreSQL, kept coherent by
//! the projector's change notices. One module per resource (`events`, `availability`, `seats`,
//! `holds`, `orders`, `listing`), each with its rows, its SQL and its cache, read through the
//! one cached getter ([`cached::Cached`]). The tables, rows, status words and notices are the
//! read-model contract's ([`read_model`]), written once for the projector and query-svc.
//!
//! Coherence rules (per projection and shard, see [`Coherence`]; the inventory projection is kept
//! per shard of its stream, the others have one shard):
//! - Every cached value carries `as_of`, the checkpoint of its shard (for inventory: the shard of
//!   its event) read in the same SQL statement as the value, so it is exact as of that position.
//! - Notices are applied in order by one task. `covered` is the checkpoint up to which every notice
//!   of the shard has been applied; a notice whose `from` for a shard is past that shard's
//!   `covered` reveals lost notices: the projection's caches are dropped and the `floor` of the
//!   notice's shards moves up. A notice only moves the shards it lists (its partition's). A
//!   cached value with `as_of < floor` is treated as missing (it may have been loaded before the
//!   drop and inserted after it).
//! - Every change to a cache entry goes through moka's per-key compute ([`cached::Cached`]): a
//!   load and a notice for the same key never interleave, and concurrent misses of a hot key wait
//!   for the first load instead of all querying PostgreSQL.
//! - Availability rows travel whole in notices and are merged by version, so a cache never
//!   replaces a row with an older one; everything else a notice names is dropped and reloaded.

mod availability;
mod cached;
mod events;
mod holds;
mod listing;
mod orders;
mod seats;

pub use availability::{EventSections, SectionAvailability, Sections};
pub use events::{EventDetail, EventSummary};
pub use listing::{Cursor, EventsPage, Listing, DEFAULT_LIMIT, MAX_LIMIT, STATUSES};
pub use orders::OrderView;
pub use read_model::rows::{HoldRow, SeatRow};
pub use read_model::{event_shard, hold_shard, Projection};
pub use seats::SeatMap;

use cached::Cached;
use deadpool_postgres::Pool;
use read_model::tables::CHECKPOINTS;
use read_model::{Notice, ShardRange};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use tokio::sync::Notify;
use uuid::Uuid;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ReadError(String);

impl From<tokio_postgres::Error> for ReadError {
    fn from(e: tokio_postgres::Error) -> Self {
        // A server error's Display is only "db error": keep its code and message.
        match e.as_db_error() {
            Some(db) => ReadError(format!("PostgreSQL {}: {}", db.code().code(), db.message())),
            None => ReadError(format!("PostgreSQL: {e}")),
        }
    }
}

impl From<deadpool_postgres::PoolError> for ReadError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        ReadError(format!("PostgreSQL pool: {e}"))
    }
}

impl From<read_model::rows::CorruptRow> for ReadError {
    fn from(e: read_model::rows::CorruptRow) -> Self {
        ReadError(e.to_string())
    }
}

impl From<Arc<ReadError>> for ReadError {
    fn from(e: Arc<ReadError>) -> Self {
        (*e).clone()
    }
}

/// How far the caches of one shard of a projection are known to be coherent.
#[derive(Default)]
pub struct Coherence {
    covered: AtomicU64,
    floor: AtomicU64,
    changed: Notify,
}

impl Coherence {
    pub fn covered(&self) -> u64 {
        self.covered.load(Ordering::Acquire)
    }

    /// Resolves at the next applied notice (created before checking, so none is missed).
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    /// True when a value read at `as_of` may be served: not older than the last drop, nor than
    /// `min_as_of` (a position the caller must see, when the notices have not brought the caches
    /// there).
    fn serves(&self, as_of: u64, min_as_of: u64) -> bool {
        as_of >= self.floor.load(Ordering::Acquire).max(min_as_of)
    }
}

/// Every cache, one per cached resource (orders are read straight from PostgreSQL).
struct Caches {
    /// First pages of the listing.
    events: Cached<listing::FirstPage, Arc<EventsPage>>,
    event_detail: Cached<Uuid, Arc<EventDetail>>,
    availability: Cached<Uuid, EventSections>,
    due_holds: availability::DueHoldsCache,
    seat_maps: Cached<(Uuid, domain::ids::SectionId), Arc<SeatMap>>,
    holds: Cached<String, Arc<HoldRow>>,
}

/// The read side: a PostgreSQL pool, the caches and their coherence.
pub struct ReadModels {
    pool: Pool,
    caches: Caches,
    catalog: Coherence,
    /// One per inventory shard.
    inventory: Vec<Coherence>,
    orders: Coherence,
    /// Cached listing pages older than this are not served ([`listing`]).
    listing_floor: AtomicU64,
}

impl ReadModels {
    /// Caches of at most `cache_bytes` each, by the weight of their entries ([`crate::weight`]):
    /// a cache is bounded by the memory it holds, not by how many entries, whatever their size.
    pub fn new(pool: Pool, cache_bytes: u64) -> Self {
        let bytes = cache_bytes.max(1 << 20);
        Self {
            pool,
            caches: Caches {
                events: listing::cache(bytes),
                event_detail: events::cache(bytes),
                availability: availability::cache(bytes),
                due_holds: availability::due_holds_cache(bytes),
                seat_maps: seats::cache(bytes),
                holds: holds::cache(bytes),
            },
            catalog: Coherence::default(),
            inventory: (0..tv_nats::INVENTORY_SHARDS)
                .map(|_| Coherence::default())
                .collect(),
            orders: Coherence::default(),
            listing_floor: AtomicU64::new(0),
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The coherence of one shard of `projection` (the shard is ignored for an unsharded one).
    pub fn coherence(&self, projection: Projection, shard: u16) -> &Coherence {
        match projection {
            Projection::Catalog => &self.catalog,
            Projection::Inventory => &self.inventory[usize::from(shard % projection.shards())],
            Projection::Orders => &self.orders,
        }
    }

    /// The checkpoint of one shard of `projection` in PostgreSQL now.
    pub async fn checkpoint(&self, projection: Projection, shard: u16) -> Result<u64, ReadError> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!("SELECT last_sequence FROM {CHECKPOINTS} WHERE projection = $1 AND shard = $2")
        });
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(&SQL).await?;
        let shard = i32::from(shard % projection.shards());
        let row = client
            .query_opt(&statement, &[&projection.as_str(), &shard])
            .await?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    /// The checkpoint of every shard of `projection` in PostgreSQL now, by shard.
    pub async fn checkpoints(&self, projection: Projection) -> Result<Vec<(u16, u64)>, ReadError> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT shard, last_sequence FROM {CHECKPOINTS} WHERE projection = $1 ORDER BY shard"
            )
        });
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(&SQL).await?;
        Ok(client
            .query(&statement, &[&projection.as_str()])
            .await?
            .iter()
            .map(|r| (r.get::<_, i32>(0) as u16, r.get::<_, i64>(1) as u64))
            .collect())
    }

    /// Starts coherence at the checkpoints in PostgreSQL (called once notices are subscribed to,
    /// so that none falls between). Without a schema yet, all start at 0 and the first notice
    /// resets them.
    pub async fn start_coherence(&self) {
        for projection in Projection::ALL {
            match self.checkpoints(projection).await {
                Ok(checkpoints) => {
                    for (shard, position) in checkpoints {
                        let c = self.coherence(projection, shard);
                        c.floor.store(position, Ordering::Release);
                        c.covered.store(position, Ordering::Release);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading checkpoints at start; caches start cold")
                }
            }
        }
    }

    // ------------------------------------------------------------------ notices

    /// Applies one change notice to the caches (called by the one notice task, in arrival order).
    /// True when it dropped a projection's caches (a reset, or lost notices): any value may have
    /// changed.
    pub async fn apply_notice(&self, notice: Notice) -> bool {
        let Some(projection) = Projection::parse(&notice.projection) else {
            return false;
        };
        metrics::counter!("tv_query_notices_total", "projection" => projection.as_str())
            .increment(1);
        // The shards it covers: those it lists, or every shard.
        let ranges: Vec<ShardRange> = if notice.shards.is_empty() {
            (0..projection.shards())
                .map(|shard| ShardRange {
                    shard,
                    from: notice.from,
                    to: notice.to,
                })
                .collect()
        } else {
            notice
                .shards
                .iter()
                .filter(|r| r.shard < projection.shards())
                .copied()
                .collect()
        };
        let lost = ranges
            .iter()
            .find(|r| r.from > self.coherence(projection, r.shard).covered());
        let dropped = notice.reset || lost.is_some();
        if dropped {
            if let Some(lost) = lost.filter(|_| !notice.reset) {
                metrics::counter!("tv_query_notice_gaps_total", "projection" => projection.as_str())
                    .increment(1);
                tracing::info!(
                    projection = projection.as_str(),
                    shard = lost.shard,
                    covered = self.coherence(projection, lost.shard).covered(),
                    from = lost.from,
                    "change notices were lost; dropping the projection's caches"
                );
            }
            // Floors first, then the drop: a value loaded before the drop and inserted after it
            // is below the floor.
            for r in &ranges {
                let coherence = self.coherence(projection, r.shard);
                let position = r.to.max(coherence.covered());
                coherence.floor.store(position, Ordering::Release);
            }
            self.drop_all(projection);
            for r in &ranges {
                let coherence = self.coherence(projection, r.shard);
                let position = r.to.max(coherence.covered());
                coherence.covered.store(position, Ordering::Release);
            }
        } else {
            let newer: HashMap<u16, u64> = ranges
                .iter()
                .filter(|r| r.to > self.coherence(projection, r.shard).covered())
                .map(|r| (r.shard, r.to))
                .collect();
            if !newer.is_empty() {
                match projection {
                    Projection::Catalog => self.apply_catalog_notice(&notice).await,
                    Projection::Inventory => self.apply_inventory_notice(&notice, &newer).await,
                    Projection::Orders => {}
                }
                for (shard, to) in newer {
                    self.coherence(projection, shard)
                        .covered
                        .store(to, Ordering::Release);
                }
            }
        }
        for r in &ranges {
            self.coherence(projection, r.shard).changed.notify_waiters();
        }
        dropped
    }

    fn drop_all(&self, projection: Projection) {
        match projection {
            Projection::Catalog => {
                self.caches.events.forget_all();
                self.caches.event_detail.forget_all();
            }
            Projection::Inventory => {
                self.caches.availability.forget_all();
                self.caches.due_holds.invalidate_all();
                self.caches.seat_maps.forget_all();
                self.caches.holds.forget_all();
            }
            Projection::Orders => {}
        }
    }

    async fn apply_catalog_notice(&self, notice: &Notice) {
        if notice.events.is_empty() {
            return;
        }
        self.drop_listing(notice.to);
        for event_id in &notice.events {
            self.caches.event_detail.forget(*event_id).await;
        }
    }

    /// Applies the rows of the shards whose notices are new (`newer`: shard → its `to`).
    async fn apply_inventory_notice(&self, notice: &Notice, newer: &HashMap<u16, u64>) {
        let mut by_event: HashMap<Uuid, Vec<&read_model::AvailabilityRow>> = HashMap::new();
        for row in &notice.availability {
            by_event.entry(row.event_id).or_default().push(row);
        }
        for (event_id, rows) in by_event {
            let Some(&to) = newer.get(&event_shard(event_id)) else {
                continue;
            };
            self.availability_noticed(event_id, &rows, to).await;
            self.seat_maps_noticed(event_id, &rows).await;
        }
        for hold_id in &notice.holds {
            if newer.contains_key(&hold_shard(hold_id)) {
                self.caches.holds.forget(hold_id.clone()).await;
            }
        }
    }
}
