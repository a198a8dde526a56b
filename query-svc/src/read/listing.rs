//! `GET /events`: the catalog listing, in pages by start time, behind an opaque cursor.
//!
//! Drafts are not public: a listing shows published events (on sale, closed, cancelled) unless it
//! asks for one status (`draft` only for an operator, which the HTTP layer checks). A page is read
//! by keyset (`(starts_at, event_id)` after the cursor, on `events_listing_idx`). Only first pages
//! are cached, one per (status, limit): whoever sends cursors of their own makes no cache entry.
//! A catalog notice naming events raises `listing_floor` to its position before dropping the
//! pages, so that a page loaded before the notice and inserted after the drop is never served.

use super::cached::{Cached, Versioned};
use super::events::event_status;
use super::{EventSummary, ReadError, ReadModels};
use crate::weight;
use read_model::tables::{CHECKPOINTS, EVENTS};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::LazyLock;
use time::OffsetDateTime;
use uuid::Uuid;

/// The statuses of a catalog event; all but `draft` are published.
pub const STATUSES: [&str; 4] = ["draft", "on_sale", "closed", "cancelled"];

/// Events per page when the client does not say, and at most.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1_000;

/// Which events a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listing {
    /// On sale, closed or cancelled: what the public sees.
    Published,
    /// Only this status (one of [`STATUSES`]).
    Status(&'static str),
}

/// Where the previous page ended: the last event's start time (microseconds, PostgreSQL's
/// precision) and id. Opaque to clients: 48 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor {
    starts_at_micros: i64,
    event_id: Uuid,
}

impl Cursor {
    fn after(event: &EventSummary) -> Self {
        Self {
            starts_at_micros: (event.starts_at.unix_timestamp_nanos() / 1_000) as i64,
            event_id: event.event_id,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 48 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let micros = u64::from_str_radix(&text[..16], 16).ok()? as i64;
        let event_id = Uuid::try_parse(&text[16..]).ok()?;
        let cursor = Self {
            starts_at_micros: micros,
            event_id,
        };
        // No page ever ended before the year 1: such a time (which PostgreSQL cannot even
        // compare with, below 4713 BC) is a cursor no Link header gave.
        cursor.starts_at().filter(|at| at.year() >= 1)?;
        Some(cursor)
    }

    fn starts_at(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.starts_at_micros) * 1_000).ok()
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:016x}{}",
            self.starts_at_micros as u64,
            self.event_id.simple()
        )
    }
}

/// One page of the listing, and where the next begins (none on the last page).
#[derive(Debug, Clone)]
pub struct EventsPage {
    pub events: Vec<EventSummary>,
    pub next: Option<Cursor>,
}

/// The key of a cached first page.
pub(super) type FirstPage = (Listing, u32);

pub(super) fn cache(bytes: u64) -> Cached<FirstPage, Arc<EventsPage>> {
    Cached::new("events", bytes, |_, page: &Arc<EventsPage>| {
        weight::events(&page.events)
    })
}

impl ReadModels {
    /// A page of `limit` events (1 to [`MAX_LIMIT`]) of `listing`, after `cursor`.
    pub async fn events_page(
        &self,
        listing: Listing,
        cursor: Option<Cursor>,
        limit: u32,
        min_as_of: u64,
    ) -> Result<Arc<EventsPage>, ReadError> {
        let limit = limit.clamp(1, MAX_LIMIT);
        if cursor.is_some() {
            return Ok(self.load_page(listing, cursor, limit).await?.value);
        }
        // A page loaded before the last notice naming events is not served either.
        let min_as_of = min_as_of.max(self.listing_floor.load(Ordering::Acquire));
        let page = self
            .caches
            .events
            .get(
                &(listing, limit),
                &self.catalog,
                min_as_of,
                |_| async move {
                    let page = self.load_page(listing, None, limit).await?;
                    Ok(Versioned {
                        as_of: page.as_of,
                        value: Some(page.value),
                    })
                },
            )
            .await?;
        Ok(page.unwrap_or_else(|| {
            Arc::new(EventsPage {
                events: Vec::new(),
                next: None,
            })
        }))
    }

    /// Drops every cached page: called for a catalog notice naming events, up to `to`.
    pub(super) fn drop_listing(&self, to: u64) {
        self.listing_floor.fetch_max(to, Ordering::AcqRel);
        self.caches.events.forget_all();
    }

    async fn load_page(
        &self,
        listing: Listing,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<Versioned<Arc<EventsPage>>, ReadError> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT cp.last_sequence, e.event_id, e.name, e.venue, e.starts_at, e.status
                 FROM {CHECKPOINTS} cp
                 LEFT JOIN (
                     SELECT * FROM {EVENTS}
                     WHERE CASE WHEN $1::text IS NULL THEN status <> '{draft}' ELSE status = $1 END
                       AND ($2::timestamptz IS NULL OR (starts_at, event_id) > ($2, $3::uuid))
                     ORDER BY starts_at, event_id LIMIT $4
                 ) e ON true
                 WHERE cp.projection = '{catalog}'
                 ORDER BY e.starts_at, e.event_id",
                draft = domain::catalog::EventStatus::Draft.as_str(),
                catalog = super::Projection::Catalog.as_str(),
            )
        });
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(&SQL).await?;
        let status = match listing {
            Listing::Published => None,
            Listing::Status(status) => Some(status),
        };
        let starts_at = cursor.and_then(|c| c.starts_at());
        let after_id = cursor.map(|c| c.event_id);
        // One more than asked: whether a next page exists.
        let fetch = i64::from(limit) + 1;
        let rows = client
            .query(&statement, &[&status, &starts_at, &after_id, &fetch])
            .await?;
        let as_of = rows.first().map_or(0, |r| r.get::<_, i64>(0) as u64);
        let mut events: Vec<EventSummary> = rows
            .iter()
            .filter(|r| r.get::<_, Option<Uuid>>(1).is_some())
            .map(|r| {
                Ok(EventSummary {
                    event_id: r.get(1),
                    name: r.get(2),
                    venue: r.get(3),
                    starts_at: r.get(4),
                    status: event_status(r.get(5))?,
                })
            })
            .collect::<Result<_, ReadError>>()?;
        let next = (events.len() > limit as usize).then(|| {
            events.truncate(limit as usize);
            Cursor::after(&events[events.len() - 1])
        });
        Ok(Versioned {
            as_of,
            value: Arc::new(EventsPage { events, next }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_written_and_nothing_else_parses() {
        for micros in [0_i64, 1_700_000_000_123_456, -86_400_000_000] {
            let cursor = Cursor {
                starts_at_micros: micros,
                event_id: Uuid::new_v4(),
            };
            assert_eq!(Cursor::parse(&cursor.to_string()), Some(cursor));
        }
        for bad in ["", "zz", &"g".repeat(48), &"0".repeat(47)] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
