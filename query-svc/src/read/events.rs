//! `GET /events/{id}`: one event with its sections and prices (catalog projection, `events`).

use super::cached::{Cached, Versioned};
use super::{Projection, ReadError, ReadModels};
use crate::weight;
use read_model::tables::{CHECKPOINTS, EVENTS};
use serde::Serialize;
use std::sync::{Arc, LazyLock};
use time::OffsetDateTime;
use uuid::Uuid;

/// An event as a listing shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EventSummary {
    pub event_id: Uuid,
    pub name: String,
    pub venue: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub status: domain::catalog::EventStatus,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventDetail {
    pub event_id: Uuid,
    pub name: String,
    pub venue: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub status: domain::catalog::EventStatus,
    pub currency: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sale_opens_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sale_closes_at: Option<OffsetDateTime>,
    pub hold_ttl_seconds: i32,
    pub max_tickets_per_customer: i32,
    pub sections: serde_json::Value,
    /// `[{presale_id, opens_at, closes_at, max_tickets_per_code}]`: windows before the general sale
    /// in which a hold needs an access code.
    pub presales: serde_json::Value,
}

pub(super) fn cache(bytes: u64) -> Cached<Uuid, Arc<EventDetail>> {
    Cached::new("event_detail", bytes, |_, e: &Arc<EventDetail>| {
        weight::event_detail(Some(&**e))
    })
}

/// An event's stored status word, parsed.
pub(super) fn event_status(word: &str) -> Result<domain::catalog::EventStatus, ReadError> {
    Ok(read_model::rows::column(EVENTS, "status", word, |w| {
        read_model::status::event_status(w).ok_or(())
    })?)
}

impl ReadModels {
    /// One event with its sections and prices.
    pub async fn event(
        &self,
        event_id: Uuid,
        min_as_of: u64,
    ) -> Result<Option<Arc<EventDetail>>, ReadError> {
        self.caches
            .event_detail
            .get(&event_id, &self.catalog, min_as_of, |_| {
                self.load_event(event_id)
            })
            .await
    }

    async fn load_event(
        &self,
        event_id: Uuid,
    ) -> Result<Versioned<Option<Arc<EventDetail>>>, ReadError> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT cp.last_sequence, e.event_id, e.name, e.venue, e.starts_at, e.status, e.currency,
                        e.sale_opens_at, e.sale_closes_at, e.hold_ttl_seconds, e.max_tickets_per_customer,
                        e.sections, e.presales
                 FROM {CHECKPOINTS} cp
                 LEFT JOIN {EVENTS} e ON e.event_id = $1
                 WHERE cp.projection = '{catalog}'",
                catalog = Projection::Catalog.as_str()
            )
        });
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(&SQL).await?;
        let row = client.query_one(&statement, &[&event_id]).await?;
        let as_of = row.get::<_, i64>(0) as u64;
        let value = match row.get::<_, Option<Uuid>>(1) {
            Some(event_id) => Some(Arc::new(EventDetail {
                event_id,
                name: row.get(2),
                venue: row.get(3),
                starts_at: row.get(4),
                status: event_status(row.get(5))?,
                currency: row.get(6),
                sale_opens_at: row.get(7),
                sale_closes_at: row.get(8),
                hold_ttl_seconds: row.get(9),
                max_tickets_per_customer: row.get(10),
                sections: row.get(11),
                presales: row.get(12),
            })),
            None => None,
        };
        Ok(Versioned { as_of, value })
    }
}
