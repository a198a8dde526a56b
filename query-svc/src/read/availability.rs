//! `GET /events/{id}/availability`: the stored sections of an event (`availability`, the hot
//! rows, updated in place by notices and merged by version) and what they show at `now`.
//!
//! Lazy expiry: a hold stops counting as held at its `expires_at`, before its `HoldExpired` is
//! projected. A section row is exact until its `next_expiry`; past it the pending holds already
//! due are read (cached per event, row versions and second) and subtracted. Until then the answer
//! is the same bytes for every request, serialized once per cached state ([`Sections::answer_at`]).

use super::cached::{Cached, Versioned};
use super::{event_shard, Projection, ReadError, ReadModels};
use crate::weight;
use bytes::Bytes;
use moka::future::Cache;
use moka::ops::compute::Op;
use read_model::status::PENDING_HOLD_WORDS;
use read_model::tables::{AVAILABILITY, CHECKPOINTS, HOLDS};
use read_model::{AvailabilityRow, Version};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// A section's availability as answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionAvailability {
    pub section_id: String,
    pub capacity: i64,
    pub available: i64,
    pub held: i64,
    pub sold: i64,
    /// Seats an operator took off sale: not available, neither held nor sold.
    pub blocked: i64,
    /// The stream sequence of the section's last change: a newer answer never has a lower one.
    pub version: Version,
}

impl SectionAvailability {
    /// What a reader shows of `row` once `lapsed` of its held tickets are past their expiry.
    pub fn of(row: &AvailabilityRow, lapsed: i64) -> Self {
        let held = (row.held - lapsed).max(0);
        Self {
            section_id: row.section_id.clone(),
            capacity: row.capacity,
            available: (row.capacity - held - row.sold - row.blocked).max(0),
            held,
            sold: row.sold,
            blocked: row.blocked,
            version: row.version,
        }
    }
}

/// The sections of one event whose inventory is open, in their order.
pub type EventSections = Arc<Sections>;

/// The stored sections of one event, and their answer serialized once: the hot read is answered
/// with these bytes for as long as no hold they count is due.
#[derive(Debug)]
pub struct Sections {
    rows: Vec<AvailabilityRow>,
    answer: OnceLock<Bytes>,
}

impl Sections {
    pub fn new(rows: Vec<AvailabilityRow>) -> Self {
        Self {
            rows,
            answer: OnceLock::new(),
        }
    }

    /// The JSON answer at `now`, serialized at most once per cached state; `None` once a hold
    /// they count as held is due: the answer then depends on `now` ([`ReadModels::availability_at`]).
    pub fn answer_at(&self, event_id: Uuid, now: OffsetDateTime) -> Option<Bytes> {
        if self.any_due(now) {
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

    /// True when a hold counted as held by some section is due at `now`.
    fn any_due(&self, now: OffsetDateTime) -> bool {
        self.rows
            .iter()
            .any(|s| s.held > 0 && s.next_expiry.is_some_and(|t| t <= now))
    }
}

impl std::ops::Deref for Sections {
    type Target = [AvailabilityRow];

    fn deref(&self) -> &[AvailabilityRow] {
        &self.rows
    }
}

/// Pending holds of an event due before the end of one second: `(section, expires_at, quantity)`.
type DueHolds = Arc<Vec<(String, OffsetDateTime, i64)>>;

/// By event, highest row version and second.
pub(super) type DueHoldsCache = Cache<(Uuid, Version, i64), DueHolds>;

pub(super) fn cache(bytes: u64) -> Cached<Uuid, EventSections> {
    Cached::new("availability", bytes, |_, s: &EventSections| {
        weight::sections(Some(&s[..]))
    })
}

pub(super) fn due_holds_cache(bytes: u64) -> DueHoldsCache {
    Cache::builder()
        .weigher(|_, v: &DueHolds| weight::due_holds(v))
        .max_capacity(bytes)
        .time_to_live(Duration::from_secs(5))
        .build()
}

impl ReadModels {
    /// The stored availability rows of an event (`None` when its inventory is not open).
    pub async fn sections(
        &self,
        event_id: Uuid,
        min_as_of: u64,
    ) -> Result<Option<EventSections>, ReadError> {
        let shard = event_shard(event_id);
        let coherence = self.coherence(Projection::Inventory, shard);
        self.caches
            .availability
            .get(&event_id, coherence, min_as_of, |cached| async move {
                let loaded = self.load_sections(event_id, shard).await?;
                // Never go back: keep the newer of each row (a reload cannot be older than what
                // a notice brought, but a notice can be newer than a slow reload).
                let value = match (cached, loaded.value) {
                    (Some(cached), Some(loaded_rows)) => Some(merge(&loaded_rows, &cached)),
                    (cached, loaded_rows) => loaded_rows.or(cached),
                };
                Ok(Versioned {
                    as_of: loaded.as_of,
                    value,
                })
            })
            .await
    }

    async fn load_sections(
        &self,
        event_id: Uuid,
        shard: u16,
    ) -> Result<Versioned<Option<EventSections>>, ReadError> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT cp.last_sequence, a.section_id, a.ordinal, a.seated, a.capacity, a.held, a.sold,
                        a.next_expiry, a.version, a.blocked
                 FROM {CHECKPOINTS} cp
                 LEFT JOIN {AVAILABILITY} a ON a.event_id = $1
                 WHERE cp.projection = '{inventory}' AND cp.shard = $2
                 ORDER BY a.ordinal",
                inventory = Projection::Inventory.as_str()
            )
        });
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(&SQL).await?;
        let rows = client
            .query(&statement, &[&event_id, &i32::from(shard)])
            .await?;
        let as_of = rows.first().map_or(0, |r| r.get::<_, i64>(0) as u64);
        let sections: Vec<AvailabilityRow> = rows
            .iter()
            .filter(|r| r.get::<_, Option<String>>(1).is_some())
            .map(|r| AvailabilityRow {
                event_id,
                section_id: r.get(1),
                ordinal: r.get(2),
                seated: r.get(3),
                capacity: i64::from(r.get::<_, i32>(4)),
                held: i64::from(r.get::<_, i32>(5)),
                sold: i64::from(r.get::<_, i32>(6)),
                next_expiry: r.get(7),
                version: Version::from_sql(r.get(8)),
                blocked: i64::from(r.get::<_, i32>(9)),
            })
            .collect();
        Ok(Versioned {
            as_of,
            value: (!sections.is_empty()).then(|| Arc::new(Sections::new(sections))),
        })
    }

    /// A notice's rows of one event, merged into its cached sections (the shard's notice is new,
    /// up to `to`).
    pub(super) async fn availability_noticed(
        &self,
        event_id: Uuid,
        rows: &[&AvailabilityRow],
        to: u64,
    ) {
        let incoming: Vec<AvailabilityRow> = rows.iter().map(|r| (*r).clone()).collect();
        self.caches
            .availability
            .change(event_id, |current| {
                Op::Put(Versioned {
                    as_of: current.as_of.max(to),
                    value: merge(&current.value, &incoming),
                })
            })
            .await;
    }

    /// What an event's sections look like at `now`: holds past their `expires_at` no longer count.
    pub async fn availability_at(
        &self,
        event_id: Uuid,
        sections: &EventSections,
        now: OffsetDateTime,
    ) -> Result<Vec<SectionAvailability>, ReadError> {
        let mut due: HashMap<&str, i64> = HashMap::new();
        let due_holds = if sections.any_due(now) {
            let version = sections.iter().map(|s| s.version).max().unwrap_or_default();
            Some(self.due_holds(event_id, version, now).await?)
        } else {
            None
        };
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

    /// The pending holds of an event due before the end of `now`'s second, read once per event,
    /// state (highest row version) and second, however many requests ask.
    async fn due_holds(
        &self,
        event_id: Uuid,
        version: Version,
        now: OffsetDateTime,
    ) -> Result<DueHolds, ReadError> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT section_id, expires_at, quantity FROM {HOLDS}
                 WHERE event_id = $1 AND status IN ({PENDING_HOLD_WORDS}) AND expires_at < $2"
            )
        });
        let second = now.unix_timestamp();
        let pool = self.pool.clone();
        self.caches
            .due_holds
            .try_get_with((event_id, version, second), async move {
                let until = OffsetDateTime::from_unix_timestamp(second + 1).unwrap_or(now);
                let client = pool.get().await?;
                let statement = client.prepare_cached(&SQL).await?;
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
}

/// `base` with every row of `newer` that has a higher version (rows unknown to `base` are added).
fn merge(base: &[AvailabilityRow], newer: &[AvailabilityRow]) -> EventSections {
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

    fn row(section: &str, ordinal: i32, held: i64, version: u64) -> AvailabilityRow {
        AvailabilityRow {
            event_id: Uuid::nil(),
            section_id: section.into(),
            ordinal,
            seated: false,
            capacity: 10,
            held,
            sold: 0,
            blocked: 0,
            next_expiry: None,
            version: Version(version),
        }
    }

    #[test]
    fn merging_never_replaces_a_row_with_an_older_one() {
        let cached = vec![row("a", 0, 1, 5), row("b", 1, 2, 9)];
        let incoming = vec![row("a", 0, 3, 7), row("b", 1, 0, 8)];
        let merged = merge(&cached, &incoming);
        assert_eq!(merged.to_vec(), vec![row("a", 0, 3, 7), row("b", 1, 2, 9)]);
    }

    #[test]
    fn the_answer_is_serialized_once_and_withheld_once_a_counted_hold_is_due() {
        let now = OffsetDateTime::now_utc();
        let mut due = row("a", 0, 2, 5);
        due.next_expiry = Some(now);
        let sections = Sections::new(vec![row("b", 1, 0, 3)]);
        let first = sections.answer_at(Uuid::nil(), now).expect("nothing due");
        let again = sections.answer_at(Uuid::nil(), now).expect("nothing due");
        assert_eq!(first.as_ptr(), again.as_ptr(), "the same bytes");
        let body: serde_json::Value = serde_json::from_slice(&first).unwrap();
        assert_eq!(body["sections"][0]["available"], 10);
        assert!(Sections::new(vec![due])
            .answer_at(Uuid::nil(), now)
            .is_none());
    }
}
