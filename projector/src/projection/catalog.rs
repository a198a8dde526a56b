//! The catalog projection: one `events` row per event, for the listing and the detail.
//!
//! A batch is folded into final rows first: events created in the batch are inserted whole (with
//! whatever status later commits of the batch gave them), status changes of older events are one
//! bulk update.

use super::{aggregate_id, decode};
use crate::error::ProjectError;
use deadpool_postgres::Transaction;
use domain::catalog::EventStatus;
use domain::catalog::{effective_types, CatalogEvent, EventDetails, SectionLayout};
use read_model::Notice;
use serde_json::json;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use tv_nats::{RawCommit, Stream};
use uuid::Uuid;

struct NewEvent {
    details: EventDetails,
    status: &'static str,
    created_at: OffsetDateTime,
    version: i64,
}

/// The sections of an event as the API shows them.
fn sections_json(details: &EventDetails) -> serde_json::Value {
    let sections: Vec<_> = details
        .sections
        .iter()
        .map(|s| {
            let mut section = section_json(s);
            // Every type the section sells, the default one included: a page shows its prices.
            section["ticket_types"] = json!(effective_types(&s.ticket_types, s.price_minor));
            section
        })
        .collect();
    serde_json::Value::Array(sections)
}

/// The presales of an event as the API shows them (their windows and budgets; codes are the
/// inventory's, hashed, and never shown).
fn presales_json(details: &EventDetails) -> serde_json::Value {
    json!(details.presales)
}

fn section_json(s: &domain::catalog::Section) -> serde_json::Value {
    match &s.layout {
        SectionLayout::Seated { rows } => json!({
            "section_id": s.section_id,
            "name": s.name,
            "price_minor": s.price_minor,
            "kind": "seated",
            "capacity": s.capacity(),
            "rows": rows.iter().map(|r| json!({"row": r.row, "seats": r.seats})).collect::<Vec<_>>(),
        }),
        SectionLayout::GeneralAdmission { capacity } => json!({
            "section_id": s.section_id,
            "name": s.name,
            "price_minor": s.price_minor,
            "kind": "general_admission",
            "capacity": capacity,
        }),
    }
}

pub(super) async fn apply(
    tx: &Transaction<'_>,
    schema: &str,
    commits: &[RawCommit],
) -> Result<(usize, Notice), ProjectError> {
    let mut created: BTreeMap<Uuid, NewEvent> = BTreeMap::new();
    let mut status_changes: BTreeMap<Uuid, (&'static str, i64)> = BTreeMap::new();
    let mut events = 0;

    for raw in commits {
        let commit = decode::<CatalogEvent>(Stream::Catalog, raw)?;
        let version = raw.sequence as i64;
        let subject_id = aggregate_id(&raw.subject);
        for event in commit.events {
            events += 1;
            let (event_id, status) = match event {
                CatalogEvent::EventCreated { event_id, details } => {
                    created.insert(
                        event_id.as_uuid(),
                        NewEvent {
                            details,
                            status: EventStatus::Draft.as_str(),
                            created_at: commit.recorded_at,
                            version,
                        },
                    );
                    continue;
                }
                CatalogEvent::EventPublished { event_id } => (event_id, EventStatus::OnSale),
                CatalogEvent::SaleClosed { event_id } => (event_id, EventStatus::Closed),
                CatalogEvent::EventCancelled { event_id } => (event_id, EventStatus::Cancelled),
            };
            debug_assert_eq!(subject_id, event_id.to_string());
            let status = status.as_str();
            match created.get_mut(&event_id.as_uuid()) {
                Some(new) => {
                    new.status = status;
                    new.version = version;
                }
                None => {
                    status_changes.insert(event_id.as_uuid(), (status, version));
                }
            }
        }
    }

    if !created.is_empty() {
        let mut ids = Vec::with_capacity(created.len());
        let mut names = Vec::new();
        let mut venues = Vec::new();
        let mut starts = Vec::new();
        let mut currencies = Vec::new();
        let mut statuses = Vec::new();
        let mut opens = Vec::new();
        let mut closes = Vec::new();
        let mut ttls = Vec::new();
        let mut limits = Vec::new();
        let mut sections = Vec::new();
        let mut presales = Vec::new();
        let mut created_ats = Vec::new();
        let mut versions = Vec::new();
        for (id, new) in &created {
            let d = &new.details;
            ids.push(*id);
            names.push(d.name.as_str());
            venues.push(d.venue.as_str());
            starts.push(d.starts_at);
            currencies.push(d.currency.as_str());
            statuses.push(new.status);
            opens.push(d.sale_opens_at);
            closes.push(d.sale_closes_at);
            ttls.push(d.hold_ttl_seconds as i32);
            limits.push(d.max_tickets_per_customer as i32);
            sections.push(sections_json(d));
            presales.push(presales_json(d));
            created_ats.push(new.created_at);
            versions.push(new.version);
        }
        let statement = tx
            .prepare_cached(&format!(
                "INSERT INTO {schema}.events (event_id, name, venue, starts_at, currency, status,
                     sale_opens_at, sale_closes_at, hold_ttl_seconds, max_tickets_per_customer,
                     sections, created_at, version, presales)
                 SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::timestamptz[],
                     $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::int4[],
                     $10::int4[], $11::jsonb[], $12::timestamptz[], $13::int8[], $14::jsonb[])
                 ON CONFLICT (event_id) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version"
            ))
            .await?;
        tx.execute(
            &statement,
            &[
                &ids,
                &names,
                &venues,
                &starts,
                &currencies,
                &statuses,
                &opens,
                &closes,
                &ttls,
                &limits,
                &sections,
                &created_ats,
                &versions,
                &presales,
            ],
        )
        .await?;
    }

    if !status_changes.is_empty() {
        let ids: Vec<Uuid> = status_changes.keys().copied().collect();
        let statuses: Vec<&str> = status_changes.values().map(|(s, _)| *s).collect();
        let versions: Vec<i64> = status_changes.values().map(|(_, v)| *v).collect();
        let statement = tx
            .prepare_cached(&format!(
                "UPDATE {schema}.events e SET status = d.status, version = d.version
                 FROM UNNEST($1::uuid[], $2::text[], $3::int8[]) AS d(event_id, status, version)
                 WHERE e.event_id = d.event_id"
            ))
            .await?;
        tx.execute(&statement, &[&ids, &statuses, &versions])
            .await?;
    }

    let mut touched: Vec<Uuid> = created
        .keys()
        .chain(status_changes.keys())
        .copied()
        .collect();
    touched.sort();
    touched.dedup();
    Ok((
        events,
        Notice {
            projection: "catalog".into(),
            events: touched,
            ..Notice::default()
        },
    ))
}
