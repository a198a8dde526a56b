//! The read models as query-svc serves them: moka caches in front of PostgreSQL, kept coherent by
//! the projector's change notices.
//!
//! Coherence rules (per projection and shard, see [`Coherence`]; the inventory projection is kept
//! per shard of its stream, the others have one shard):
//! - Every cached value carries `as_of`, the checkpoint of its shard (for inventory: the shard of
//!   its event) read in the same SQL statement as the value, so it is exact as of that position.
//! - Notices are applied in order by one task. `covered` is the checkpoint up to which every notice
//!   of the shard has been applied; a notice whose `from` for a shard is past that shard's
//!   `covered` reveals lost notices: the projection's caches are dropped and the `floor` of the
//!   notice's shards moves up. A notice only moves the shards it lists (its partition's). A cached value with `as_of < floor` is
//!   treated as missing (it may have been loaded before the drop and inserted after it).
//! - Every change to a cache entry goes through moka's `entry(..).and_try_compute_with`, which
//!   moka serialises per key: a load and a notice for the same key never interleave, and concurrent
//!   misses of a hot key wait for the first load instead of all querying PostgreSQL.
//! - Availability rows travel whole in notices and are merged by version, so a cache never
//!   replaces a row with an older one; everything else a notice names is dropped and reloaded.
//!
//! Lazy expiry: a hold stops counting as held at its `expires_at`, before its `HoldExpired` is
//! projected. A section row is exact until its `next_expiry`; past it the active holds already
//! due are read (cached per event, row versions and second) and subtracted.

use crate::notice::{AvailabilityRow, Notice, ShardRange};
use crate::weight;
use bytes::Bytes;
use deadpool_postgres::Pool;
use domain::ids::SectionId;
use moka::future::Cache;
use moka::ops::compute::{CompResult, Op};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Notify;
use uuid::Uuid;

mod listing;
pub use listing::{Cursor, EventsPage, Listing, DEFAULT_LIMIT, MAX_LIMIT, STATUSES};

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

impl From<Arc<ReadError>> for ReadError {
    fn from(e: Arc<ReadError>) -> Self {
        (*e).clone()
    }
}

/// The projections query-svc reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    Catalog,
    Inventory,
    /// Read straight from PostgreSQL (not cached): its notices only tell how far it is.
    Orders,
}

/// The inventory shard of an event (the shard token of its stream subject).
pub fn event_shard(event_id: Uuid) -> u16 {
    tv_nats::shard_of(&event_id.to_string(), tv_nats::INVENTORY_SHARDS)
}

/// The inventory shard of a hold, `<event uuid>.<hold uuid>`: its event's (0 for a malformed id,
/// which is never found anyway).
pub fn hold_shard(hold_id: &str) -> u16 {
    hold_id
        .split_once('.')
        .and_then(|(event, _)| Uuid::try_parse(event).ok())
        .map_or(0, event_shard)
}

impl Projection {
    pub const ALL: [Projection; 3] = [
        Projection::Catalog,
        Projection::Inventory,
        Projection::Orders,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Catalog => "catalog",
            Self::Inventory => "inventory",
            Self::Orders => "orders",
        }
    }

    /// The shards its checkpoints are kept for.
    pub fn shards(self) -> u16 {
        match self {
            Self::Inventory => tv_nats::INVENTORY_SHARDS,
            Self::Catalog | Self::Orders => 1,
        }
    }

    /// Its stream.
    pub fn stream(self) -> tv_nats::Stream {
        match self {
            Self::Catalog => tv_nats::Stream::Catalog,
            Self::Inventory => tv_nats::Stream::Inventory,
            Self::Orders => tv_nats::Stream::Orders,
        }
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

    fn floor(&self) -> u64 {
        self.floor.load(Ordering::Acquire)
    }
}

/// A cached value and the checkpoint it is exact at.
#[derive(Debug, Clone)]
struct Versioned<T> {
    as_of: u64,
    value: T,
}

/// One section's stored availability. `held` counts every hold not yet released, expired or sold
/// as projected; see [`SectionRow::view`] for what a reader shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionRow {
    pub section_id: String,
    pub ordinal: i32,
    pub seated: bool,
    pub capacity: i64,
    pub held: i64,
    pub sold: i64,
    pub next_expiry: Option<OffsetDateTime>,
    /// The stream sequence of the row's last change.
    pub version: u64,
}

impl From<&AvailabilityRow> for SectionRow {
    fn from(r: &AvailabilityRow) -> Self {
        Self {
            section_id: r.section_id.clone(),
            ordinal: r.ordinal,
            seated: r.seated,
            capacity: r.capacity,
            held: r.held,
            sold: r.sold,
            next_expiry: r.next_expiry,
            version: r.version,
        }
    }
}

/// A section's availability as answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionAvailability {
    pub section_id: String,
    pub capacity: i64,
    pub available: i64,
    pub held: i64,
    pub sold: i64,
    /// The stream sequence of the section's last change: a newer answer never has a lower one.
    pub version: u64,
}

impl SectionAvailability {
    /// What a reader shows of `row` once `lapsed` of its held tickets are past their expiry.
    pub fn of(row: &SectionRow, lapsed: i64) -> Self {
        let held = (row.held - lapsed).max(0);
        Self {
            section_id: row.section_id.clone(),
            capacity: row.capacity,
            available: (row.capacity - held - row.sold).max(0),
            held,
            sold: row.sold,
            version: row.version,
        }
    }
}

/// The sections of one event whose inventory is open, in their order.
pub type EventSections = Arc<Sections>;

/// The stored sections of one event, and their `GET …/availability` answer serialized once: the
/// hot read is answered with these bytes for as long as no hold they count is due.
#[derive(Debug)]
pub struct Sections {
    rows: Vec<SectionRow>,
    answer: OnceLock<Bytes>,
}

impl Sections {
    pub fn new(rows: Vec<SectionRow>) -> Self {
        Self {
            rows,
            answer: OnceLock::new(),
        }
    }

    /// The JSON answer at `now`, serialized at most once per cached state; `None` once a hold
    /// they count as held is due: the answer then depends on `now` ([`ReadModels::availability_at`]).
    pub fn answer_at(&self, event_id: Uuid, now: OffsetDateTime) -> Option<Bytes> {
        let due = self
            .rows
            .iter()
            .any(|s| s.held > 0 && s.next_expiry.is_some_and(|t| t <= now));
        if due {
            return None;
        }
        let answer = self.answer.get_or_init(|| {
            let body = crate::availability::AvailabilityBody {
                event_id,
                sections: self
                    .rows
                    .iter()
                    .map(|r| SectionAvailability::of(r, 0))
                    .collect(),
            };
            Bytes::from(serde_json::to_vec(&body).expect("availability serializes"))
        });
        Some(answer.clone())
    }
}

impl std::ops::Deref for Sections {
    type Target = [SectionRow];

    fn deref(&self) -> &[SectionRow] {
        &self.rows
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EventSummary {
    pub event_id: Uuid,
    pub name: String,
    pub venue: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventDetail {
    pub event_id: Uuid,
    pub name: String,
    pub venue: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub status: String,
    pub currency: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sale_opens_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sale_closes_at: Option<OffsetDateTime>,
    pub hold_ttl_seconds: i32,
    pub max_tickets_per_customer: i32,
    pub sections: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct SeatRow {
    pub seat: String,
    pub status: String,
    pub hold_expires_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub struct SeatMap {
    /// The section's availability version when the map was read.
    pub version: u64,
    pub seats: Vec<SeatRow>,
}

#[derive(Debug, Clone)]
pub struct HoldRow {
    pub hold_id: String,
    pub event_id: Uuid,
    pub section_id: String,
    pub customer_id: String,
    pub seats: Vec<String>,
    pub quantity: i32,
    pub expires_at: OffsetDateTime,
    pub status: String,
    pub order_id: Option<Uuid>,
    pub version: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub order_id: Uuid,
    pub customer_id: String,
    pub event_id: Option<Uuid>,
    pub hold_id: Option<String>,
    pub status: String,
    pub tickets: serde_json::Value,
    pub total_minor: i64,
    pub currency: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Active holds of an event due before the end of one second: `(section, expires_at, quantity)`.
type DueHolds = Arc<Vec<(String, OffsetDateTime, i64)>>;

struct Caches {
    /// First pages of the listing ([`listing`]).
    events: Cache<listing::FirstPage, Versioned<Arc<listing::EventsPage>>>,
    event_detail: Cache<Uuid, Versioned<Option<Arc<EventDetail>>>>,
    availability: Cache<Uuid, Versioned<Option<EventSections>>>,
    seat_maps: Cache<(Uuid, SectionId), Versioned<Option<Arc<SeatMap>>>>,
    holds: Cache<String, Versioned<Option<Arc<HoldRow>>>>,
    due_holds: Cache<(Uuid, u64, i64), DueHolds>,
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

/// Hits and misses per request; `tv_query_cache_loads_total` counts the PostgreSQL loads, fewer
/// than the misses when concurrent misses of one key wait for one load.
fn count(cache: &'static str, hit: bool) {
    if hit {
        metrics::counter!("tv_query_cache_hits_total", "cache" => cache).increment(1);
    } else {
        metrics::counter!("tv_query_cache_misses_total", "cache" => cache).increment(1);
    }
}

/// Stores what a load found, and only that: a miss (an id nobody stored, or not yet) is never
/// cached, so that unknown keys cannot fill memory; the next request loads again.
fn known<T>(loaded: Versioned<Option<T>>) -> Op<Versioned<Option<T>>> {
    match loaded.value {
        Some(_) => Op::Put(loaded),
        None => Op::Remove,
    }
}

/// The value of a compute's result (every compute below ends with an entry or none).
fn computed<K, V: Clone>(result: CompResult<K, V>) -> Option<V> {
    match result {
        CompResult::Inserted(e) | CompResult::ReplacedWith(e) | CompResult::Unchanged(e) => {
            Some(e.into_value())
        }
        CompResult::Removed(_) | CompResult::StillNone(_) => None,
    }
}

impl ReadModels {
    /// Caches of at most `cache_bytes` each, by the weight of their entries ([`weight`]): a
    /// cache is bounded by the memory it holds, not by how many entries, whatever their size.
    pub fn new(pool: Pool, cache_bytes: u64) -> Self {
        let bytes = cache_bytes.max(1 << 20);
        Self {
            pool,
            caches: Caches {
                events: Cache::builder()
                    .weigher(|_, v: &Versioned<Arc<listing::EventsPage>>| {
                        weight::events(&v.value.events)
                    })
                    .max_capacity(bytes)
                    .build(),
                event_detail: Cache::builder()
                    .weigher(|_, v: &Versioned<Option<Arc<EventDetail>>>| {
                        weight::event_detail(v.value.as_deref())
                    })
                    .max_capacity(bytes)
                    .build(),
                availability: Cache::builder()
                    .weigher(|_, v: &Versioned<Option<EventSections>>| {
                        weight::sections(v.value.as_deref().map(|s| &s[..]))
                    })
                    .max_capacity(bytes)
                    .build(),
                seat_maps: Cache::builder()
                    .weigher(
                        |k: &(Uuid, SectionId), v: &Versioned<Option<Arc<SeatMap>>>| {
                            weight::seat_map(k.1.as_str(), v.value.as_deref())
                        },
                    )
                    .max_capacity(bytes)
                    .build(),
                holds: Cache::builder()
                    .weigher(|k: &String, v: &Versioned<Option<Arc<HoldRow>>>| {
                        weight::hold(k, v.value.as_deref())
                    })
                    .max_capacity(bytes)
                    .build(),
                due_holds: Cache::builder()
                    .weigher(|_, v: &DueHolds| weight::due_holds(v))
                    .max_capacity(bytes)
                    .time_to_live(Duration::from_secs(5))
                    .build(),
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
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "SELECT last_sequence FROM projection_checkpoints WHERE projection = $1 AND shard = $2",
            )
            .await?;
        let shard = i32::from(shard % projection.shards());
        let row = client
            .query_opt(&statement, &[&projection.as_str(), &shard])
            .await?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    /// The checkpoint of every shard of `projection` in PostgreSQL now, by shard.
    pub async fn checkpoints(&self, projection: Projection) -> Result<Vec<(u16, u64)>, ReadError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "SELECT shard, last_sequence FROM projection_checkpoints WHERE projection = $1
                 ORDER BY shard",
            )
            .await?;
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
        let projection = match notice.projection.as_str() {
            "catalog" => Projection::Catalog,
            "inventory" => Projection::Inventory,
            "orders" => Projection::Orders,
            _ => return false,
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
                self.caches.events.invalidate_all();
                self.caches.event_detail.invalidate_all();
            }
            Projection::Inventory => {
                self.caches.availability.invalidate_all();
                self.caches.seat_maps.invalidate_all();
                self.caches.holds.invalidate_all();
                self.caches.due_holds.invalidate_all();
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
            self.caches
                .event_detail
                .entry(*event_id)
                .and_compute_with(|_| async { Op::Remove })
                .await;
        }
    }

    /// Applies the rows of the shards whose notices are new (`newer`: shard → its `to`).
    async fn apply_inventory_notice(&self, notice: &Notice, newer: &HashMap<u16, u64>) {
        let mut by_event: HashMap<Uuid, Vec<&AvailabilityRow>> = HashMap::new();
        for row in &notice.availability {
            by_event.entry(row.event_id).or_default().push(row);
        }
        for (event_id, rows) in by_event {
            let Some(&to) = newer.get(&event_shard(event_id)) else {
                continue;
            };
            let incoming: Vec<SectionRow> = rows.iter().map(|r| SectionRow::from(*r)).collect();
            self.caches
                .availability
                .entry(event_id)
                .and_compute_with(|current| async move {
                    let Some(current) = current.map(|e| e.into_value()) else {
                        return Op::Nop;
                    };
                    match current.value {
                        // Opened since it was cached as not open: reload it whole.
                        None => Op::Remove,
                        Some(sections) => Op::Put(Versioned {
                            as_of: current.as_of.max(to),
                            value: Some(merge_sections(&sections, &incoming)),
                        }),
                    }
                })
                .await;
            for row in rows {
                let version = row.version;
                // A section id that does not parse was never cached.
                let Ok(section_id) = SectionId::parse(&row.section_id) else {
                    continue;
                };
                self.caches
                    .seat_maps
                    .entry((event_id, section_id))
                    .and_compute_with(|current| async move {
                        match current.map(|e| e.into_value()) {
                            Some(Versioned {
                                value: Some(map), ..
                            }) if map.version >= version => Op::Nop,
                            Some(_) => Op::Remove,
                            None => Op::Nop,
                        }
                    })
                    .await;
            }
        }
        for hold_id in &notice.holds {
            if !newer.contains_key(&hold_shard(hold_id)) {
                continue;
            }
            self.caches
                .holds
                .entry(hold_id.clone())
                .and_compute_with(|_| async { Op::Remove })
                .await;
        }
    }

    // ------------------------------------------------------------------ reads

    /// True when a cached value may be served: not older than the last drop, nor than `min_as_of`
    /// (a position the caller must see, when the notices have not brought the caches there).
    fn valid(&self, projection: Projection, shard: u16, as_of: u64, min_as_of: u64) -> bool {
        as_of >= self.coherence(projection, shard).floor().max(min_as_of)
    }

    /// One event with its sections and prices.
    pub async fn event(
        &self,
        event_id: Uuid,
        min_as_of: u64,
    ) -> Result<Option<Arc<EventDetail>>, ReadError> {
        if let Some(hit) = self.caches.event_detail.get(&event_id).await {
            if self.valid(Projection::Catalog, 0, hit.as_of, min_as_of) {
                count("event_detail", true);
                return Ok(hit.value);
            }
        }
        count("event_detail", false);
        let result = self
            .caches
            .event_detail
            .entry(event_id)
            .and_try_compute_with(|current| async move {
                if let Some(current) = current {
                    if self.valid(Projection::Catalog, 0, current.value().as_of, min_as_of) {
                        return Ok(Op::Nop);
                    }
                }
                self.load_event(event_id).await.map(known)
            })
            .await?;
        Ok(computed(result).and_then(|v| v.value))
    }

    async fn load_event(
        &self,
        event_id: Uuid,
    ) -> Result<Versioned<Option<Arc<EventDetail>>>, ReadError> {
        metrics::counter!("tv_query_cache_loads_total", "cache" => "event_detail").increment(1);
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "SELECT cp.last_sequence, e.event_id, e.name, e.venue, e.starts_at, e.status, e.currency,
                        e.sale_opens_at, e.sale_closes_at, e.hold_ttl_seconds, e.max_tickets_per_customer,
                        e.sections
                 FROM projection_checkpoints cp
                 LEFT JOIN events e ON e.event_id = $1
                 WHERE cp.projection = 'catalog'",
            )
            .await?;
        let row = client.query_one(&statement, &[&event_id]).await?;
        let as_of = row.get::<_, i64>(0) as u64;
        let value = row.get::<_, Option<Uuid>>(1).map(|event_id| {
            Arc::new(EventDetail {
                event_id,
                name: row.get(2),
                venue: row.get(3),
                starts_at: row.get(4),
                status: row.get(5),
                currency: row.get(6),
                sale_opens_at: row.get(7),
                sale_closes_at: row.get(8),
                hold_ttl_seconds: row.get(9),
                max_tickets_per_customer: row.get(10),
                sections: row.get(11),
            })
        });
        Ok(Versioned { as_of, value })
    }

    /// The stored availability rows of an event (`None` when its inventory is not open).
    pub async fn sections(
        &self,
        event_id: Uuid,
        min_as_of: u64,
    ) -> Result<Option<EventSections>, ReadError> {
        let shard = event_shard(event_id);
        if let Some(hit) = self.caches.availability.get(&event_id).await {
            if self.valid(Projection::Inventory, shard, hit.as_of, min_as_of) {
                count("availability", true);
                return Ok(hit.value);
            }
        }
        count("availability", false);
        let result = self
            .caches
            .availability
            .entry(event_id)
            .and_try_compute_with(|current| async move {
                let current = current.map(|e| e.into_value());
                if let Some(current) = &current {
                    if self.valid(Projection::Inventory, shard, current.as_of, min_as_of) {
                        return Ok(Op::Nop);
                    }
                }
                let loaded = self.load_sections(event_id, shard).await?;
                // Never go back: keep the newer of each row (a reload cannot be older than what
                // a notice brought, but a notice can be newer than a slow reload).
                let value = match (current.and_then(|c| c.value), loaded.value) {
                    (Some(cached), Some(loaded_rows)) => {
                        Some(merge_sections(&loaded_rows, &cached))
                    }
                    (cached, loaded_rows) => loaded_rows.or(cached),
                };
                Ok::<_, ReadError>(known(Versioned {
                    as_of: loaded.as_of,
                    value,
                }))
            })
            .await?;
        Ok(computed(result).and_then(|v| v.value))
    }

    async fn load_sections(
        &self,
        event_id: Uuid,
        shard: u16,
    ) -> Result<Versioned<Option<EventSections>>, ReadError> {
        metrics::counter!("tv_query_cache_loads_total", "cache" => "availability").increment(1);
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "SELECT cp.last_sequence, a.section_id, a.ordinal, a.seated, a.capacity, a.held, a.sold,
                        a.next_expiry, a.version
                 FROM projection_checkpoints cp
                 LEFT JOIN availability a ON a.event_id = $1
                 WHERE cp.projection = 'inventory' AND cp.shard = $2
                 ORDER BY a.ordinal",
            )
            .await?;
        let rows = client
            .query(&statement, &[&event_id, &i32::from(shard)])
            .await?;
        let as_of = rows.first().map_or(0, |r| r.get::<_, i64>(0) as u64);
        let sections: Vec<SectionRow> = rows
            .iter()
            .filter(|r| r.get::<_, Option<String>>(1).is_some())
            .map(|r| SectionRow {
                section_id: r.get(1),
                ordinal: r.get(2),
                seated: r.get(3),
                capacity: i64::from(r.get::<_, i32>(4)),
                held: i64::from(r.get::<_, i32>(5)),
                sold: i64::from(r.get::<_, i32>(6)),
                next_expiry: r.get(7),
                version: r.get::<_, i64>(8) as u64,
            })
            .collect();
        Ok(Versioned {
            as_of,
            value: (!sections.is_empty()).then(|| Arc::new(Sections::new(sections))),
        })
    }

    /// What an event's sections look like at `now`: holds past their `expires_at` no longer count.
    pub async fn availability_at(
        &self,
        event_id: Uuid,
        sections: &EventSections,
        now: OffsetDateTime,
    ) -> Result<Vec<SectionAvailability>, ReadError> {
        let needs_expiry = sections
            .iter()
            .any(|s| s.held > 0 && s.next_expiry.is_some_and(|t| t <= now));
        let mut due: HashMap<&str, i64> = HashMap::new();
        let mut due_holds = None;
        if needs_expiry {
            let version = sections.iter().map(|s| s.version).max().unwrap_or(0);
            due_holds = Some(self.due_holds(event_id, version, now).await?);
        }
        if let Some(holds) = &due_holds {
            for (section_id, expires_at, quantity) in holds.iter() {
                if *expires_at <= now {
                    *due.entry(section_id.as_str()).or_default() += quantity;
                }
            }
        }
        Ok(sections
            .iter()
            .map(|s| {
                let lapsed = if s.next_expiry.is_some_and(|t| t <= now) {
                    due.get(s.section_id.as_str()).copied().unwrap_or(0)
                } else {
                    0
                };
                SectionAvailability::of(s, lapsed)
            })
            .collect())
    }

    /// The active holds of an event due before the end of `now`'s second, read once per event,
    /// state (highest row version) and second, however many requests ask.
    async fn due_holds(
        &self,
        event_id: Uuid,
        version: u64,
        now: OffsetDateTime,
    ) -> Result<DueHolds, ReadError> {
        let second = now.unix_timestamp();
        let pool = self.pool.clone();
        self.caches
            .due_holds
            .try_get_with((event_id, version, second), async move {
                let until = OffsetDateTime::from_unix_timestamp(second + 1).unwrap_or(now);
                let client = pool.get().await?;
                let statement = client
                    .prepare_cached(
                        "SELECT section_id, expires_at, quantity FROM holds
                         WHERE event_id = $1 AND status IN ('active', 'checked_out')
                           AND expires_at < $2",
                    )
                    .await?;
                let rows = client.query(&statement, &[&event_id, &until]).await?;
                Ok::<_, ReadError>(Arc::new(
                    rows.iter()
                        .map(|r| (r.get(0), r.get(1), i64::from(r.get::<_, i32>(2))))
                        .collect(),
                ))
            })
            .await
            .map_err(ReadError::from)
    }

    /// The seat map of a section (`None` when the section is unknown; that is not cached).
    pub async fn seat_map(
        &self,
        event_id: Uuid,
        section_id: &SectionId,
        min_as_of: u64,
    ) -> Result<Option<Arc<SeatMap>>, ReadError> {
        let shard = event_shard(event_id);
        let key = (event_id, section_id.clone());
        if let Some(hit) = self.caches.seat_maps.get(&key).await {
            if self.valid(Projection::Inventory, shard, hit.as_of, min_as_of) {
                count("seat_maps", true);
                return Ok(hit.value);
            }
        }
        count("seat_maps", false);
        let result = self
            .caches
            .seat_maps
            .entry(key)
            .and_try_compute_with(|current| async move {
                if let Some(current) = current {
                    if self.valid(
                        Projection::Inventory,
                        shard,
                        current.value().as_of,
                        min_as_of,
                    ) {
                        return Ok(Op::Nop);
                    }
                }
                self.load_seat_map(event_id, section_id.as_str(), shard)
                    .await
                    .map(known)
            })
            .await?;
        Ok(computed(result).and_then(|v| v.value))
    }

    async fn load_seat_map(
        &self,
        event_id: Uuid,
        section_id: &str,
        shard: u16,
    ) -> Result<Versioned<Option<Arc<SeatMap>>>, ReadError> {
        metrics::counter!("tv_query_cache_loads_total", "cache" => "seat_maps").increment(1);
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "SELECT cp.last_sequence, a.version, s.seat, s.status, s.hold_expires_at
                 FROM projection_checkpoints cp
                 LEFT JOIN availability a ON a.event_id = $1 AND a.section_id = $2
                 LEFT JOIN seats s ON s.event_id = a.event_id AND s.section_id = a.section_id
                 WHERE cp.projection = 'inventory' AND cp.shard = $3
                 ORDER BY s.row_ordinal, s.number",
            )
            .await?;
        let rows = client
            .query(&statement, &[&event_id, &section_id, &i32::from(shard)])
            .await?;
        let as_of = rows.first().map_or(0, |r| r.get::<_, i64>(0) as u64);
        let Some(version) = rows.first().and_then(|r| r.get::<_, Option<i64>>(1)) else {
            return Ok(Versioned { as_of, value: None });
        };
        let seats = rows
            .iter()
            .filter(|r| r.get::<_, Option<String>>(2).is_some())
            .map(|r| SeatRow {
                seat: r.get(2),
                status: r.get(3),
                hold_expires_at: r.get(4),
            })
            .collect();
        Ok(Versioned {
            as_of,
            value: Some(Arc::new(SeatMap {
                version: version as u64,
                seats,
            })),
        })
    }

    /// A hold by id.
    pub async fn hold(
        &self,
        hold_id: &str,
        min_as_of: u64,
    ) -> Result<Option<Arc<HoldRow>>, ReadError> {
        let shard = hold_shard(hold_id);
        if let Some(hit) = self.caches.holds.get(hold_id).await {
            if self.valid(Projection::Inventory, shard, hit.as_of, min_as_of) {
                count("holds", true);
                return Ok(hit.value);
            }
        }
        count("holds", false);
        let result = self
            .caches
            .holds
            .entry(hold_id.to_owned())
            .and_try_compute_with(|current| async move {
                if let Some(current) = current {
                    if self.valid(
                        Projection::Inventory,
                        shard,
                        current.value().as_of,
                        min_as_of,
                    ) {
                        return Ok(Op::Nop);
                    }
                }
                self.load_hold(hold_id, shard).await.map(known)
            })
            .await?;
        Ok(computed(result).and_then(|v| v.value))
    }

    async fn load_hold(
        &self,
        hold_id: &str,
        shard: u16,
    ) -> Result<Versioned<Option<Arc<HoldRow>>>, ReadError> {
        metrics::counter!("tv_query_cache_loads_total", "cache" => "holds").increment(1);
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "SELECT cp.last_sequence, h.hold_id, h.event_id, h.section_id, h.customer_id, h.seats,
                        h.quantity, h.expires_at, h.status, h.order_id, h.version
                 FROM projection_checkpoints cp
                 LEFT JOIN holds h ON h.hold_id = $1
                 WHERE cp.projection = 'inventory' AND cp.shard = $2",
            )
            .await?;
        let row = client
            .query_one(&statement, &[&hold_id, &i32::from(shard)])
            .await?;
        let as_of = row.get::<_, i64>(0) as u64;
        let value = row.get::<_, Option<String>>(1).map(|hold_id| {
            Arc::new(HoldRow {
                hold_id,
                event_id: row.get(2),
                section_id: row.get(3),
                customer_id: row.get(4),
                seats: row.get(5),
                quantity: row.get(6),
                expires_at: row.get(7),
                status: row.get(8),
                order_id: row.get(9),
                version: row.get::<_, i64>(10) as u64,
            })
        });
        Ok(Versioned { as_of, value })
    }

    /// An order by id, read straight from PostgreSQL: an order is read by its customer a few
    /// times, not by thousands at once, so it is not cached.
    pub async fn order(&self, order_id: Uuid) -> Result<Option<OrderView>, ReadError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "SELECT order_id, customer_id, event_id, hold_id, status, tickets, total_minor, currency,
                        created_at, updated_at
                 FROM orders WHERE order_id = $1",
            )
            .await?;
        Ok(client
            .query_opt(&statement, &[&order_id])
            .await?
            .map(|r| order_view(&r)))
    }

    /// A customer's orders, newest first.
    pub async fn customer_orders(&self, customer_id: &str) -> Result<Vec<OrderView>, ReadError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "SELECT order_id, customer_id, event_id, hold_id, status, tickets, total_minor, currency,
                        created_at, updated_at
                 FROM orders WHERE customer_id = $1
                 ORDER BY created_at DESC, order_id LIMIT 1000",
            )
            .await?;
        Ok(client
            .query(&statement, &[&customer_id])
            .await?
            .iter()
            .map(order_view)
            .collect())
    }
}

fn order_view(r: &tokio_postgres::Row) -> OrderView {
    OrderView {
        order_id: r.get(0),
        customer_id: r.get(1),
        event_id: r.get(2),
        hold_id: r.get(3),
        status: r.get(4),
        tickets: r.get(5),
        total_minor: r.get(6),
        currency: r.get(7),
        created_at: r.get(8),
        updated_at: r.get(9),
    }
}

/// `base` with every row of `newer` that has a higher version (rows unknown to `base` are added).
fn merge_sections(base: &[SectionRow], newer: &[SectionRow]) -> EventSections {
    let mut merged = base.to_vec();
    for row in newer {
        match merged.iter_mut().find(|r| r.section_id == row.section_id) {
            Some(existing) if existing.version < row.version => *existing = row.clone(),
            Some(_) => {}
            None => merged.push(row.clone()),
        }
    }
    merged.sort_by_key(|r| r.ordinal);
    Arc::new(Sections::new(merged))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(section: &str, ordinal: i32, held: i64, version: u64) -> SectionRow {
        SectionRow {
            section_id: section.into(),
            ordinal,
            seated: false,
            capacity: 10,
            held,
            sold: 0,
            next_expiry: None,
            version,
        }
    }

    #[test]
    fn merging_never_replaces_a_row_with_an_older_one() {
        let cached = vec![row("a", 0, 1, 5), row("b", 1, 2, 9)];
        let incoming = vec![row("a", 0, 3, 7), row("b", 1, 0, 8)];
        let merged = merge_sections(&cached, &incoming);
        assert_eq!(merged.to_vec(), vec![row("a", 0, 3, 7), row("b", 1, 2, 9)]);
    }
}
