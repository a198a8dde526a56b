//! The orders projection: one `orders` row per order, with its status as the API shows it, its
//! tickets, its total and its customer, for `GET /orders/{id}` and `GET /customers/{id}/orders`.
//!
//! Only `OrderPlaced` carries the order's facts; every later fact changes its status (and
//! `OrderConfirmed` its tickets). The order's decider only appends facts that make sense in its
//! status, so within the stream's order the last fact of a batch gives the status: a batch folds
//! into orders to insert whole and changes to apply, two bulk statements.
//!
//! Statuses: `pending_payment` (also while paid and being confirmed: `paid` is internal),
//! `confirmed`, `payment_failed`, `expired`, `cancelled`, `refunded`.
//!
//! It also keeps one `tickets` row per ticket (`read_model::tables::TICKETS`): inserted `valid`
//! at confirmation (customer and event read from the order's row), `checked_in` by
//! `TicketCheckedIn`, `void` once the order is cancelled, expired or refunded. A batch writes them
//! in that order, after the orders, which gives the right end state whatever the facts' order
//! within it (the decider never checks a ticket in after its order was called off).

use super::{aggregate_id, decode, undecodable};
use crate::error::ProjectError;
use deadpool_postgres::Transaction;
use domain::ordering::OrderStatus;
use domain::ordering::{OrderEvent, Ticket};
use read_model::status::TicketStatus;
use read_model::tables::{ORDERS, TICKETS};
use read_model::Notice;
use serde_json::json;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use tv_nats::{RawCommit, Stream};
use uuid::Uuid;

struct NewOrder {
    customer_id: String,
    event_id: Uuid,
    hold_id: String,
    status: &'static str,
    tickets: serde_json::Value,
    total_minor: i64,
    currency: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i64,
}

#[derive(Default)]
struct OrderChange {
    status: Option<&'static str>,
    tickets: Option<serde_json::Value>,
    updated_at: Option<OffsetDateTime>,
    version: i64,
}

/// A ticket issued by a batch's `OrderConfirmed`.
struct IssuedTicket {
    code: String,
    order_id: Uuid,
    index: i32,
    section_id: String,
    seat: Option<String>,
    version: i64,
}

/// What a batch does to `tickets`.
#[derive(Default)]
struct TicketChanges {
    issued: Vec<IssuedTicket>,
    /// (code, first check-in time, version).
    checked_in: Vec<(String, OffsetDateTime, i64)>,
    /// (order, version) of orders called off.
    voided: BTreeMap<Uuid, i64>,
}

impl TicketChanges {
    fn record(&mut self, order_id: Uuid, event: &OrderEvent, version: i64) {
        match event {
            OrderEvent::OrderConfirmed { tickets } => {
                self.issued
                    .extend(tickets.iter().enumerate().map(|(index, t)| IssuedTicket {
                        code: t.code.clone(),
                        order_id,
                        index: index as i32,
                        section_id: t.section_id.to_string(),
                        seat: t.seat.as_ref().map(ToString::to_string),
                        version,
                    }))
            }
            OrderEvent::TicketCheckedIn {
                code,
                checked_in_at,
                ..
            } => self
                .checked_in
                .push((code.clone(), *checked_in_at, version)),
            OrderEvent::OrderExpired { .. }
            | OrderEvent::OrderCancelled { .. }
            | OrderEvent::OrderRefunded { .. } => {
                self.voided.insert(order_id, version);
            }
            _ => {}
        }
    }
}

/// The tickets as the read model stores them.
fn tickets_json(tickets: &[Ticket]) -> serde_json::Value {
    tickets
        .iter()
        .map(|t| {
            let mut ticket = json!({
                "code": t.code,
                "section_id": t.section_id,
                "seat": t.seat.as_ref().map(ToString::to_string),
            });
            // Tickets issued before ticket types existed have none: their section's default.
            if let Some(type_id) = &t.type_id {
                ticket["type_id"] = json!(type_id);
            }
            ticket
        })
        .collect()
}

/// The status a fact leaves the order in, and its tickets if it issues them; `None` for a fact
/// that changes nothing shown (a capture: the order stays `pending_payment` until confirmed, or
/// stays ended until refunded).
fn shown(event: &OrderEvent) -> Option<(&'static str, Option<serde_json::Value>)> {
    Some(match event {
        OrderEvent::PaymentFailed { .. } => (OrderStatus::PaymentFailed.as_str(), None),
        OrderEvent::OrderConfirmed { tickets } => {
            (OrderStatus::Confirmed.as_str(), Some(tickets_json(tickets)))
        }
        OrderEvent::OrderExpired { .. } => (OrderStatus::Expired.as_str(), None),
        OrderEvent::OrderCancelled { .. } => (OrderStatus::Cancelled.as_str(), None),
        OrderEvent::OrderRefunded { .. } => (OrderStatus::Refunded.as_str(), None),
        OrderEvent::OrderPlaced { .. }
        | OrderEvent::PaymentCaptured { .. }
        | OrderEvent::TicketCheckedIn { .. } => return None,
        other => {
            tracing::warn!(
                kind = other.kind(),
                "order fact unknown to the projector; skipped"
            );
            return None;
        }
    })
}

pub(super) async fn apply(
    tx: &Transaction<'_>,
    schema: &str,
    commits: &[RawCommit],
) -> Result<(usize, Notice), ProjectError> {
    let mut created: BTreeMap<Uuid, NewOrder> = BTreeMap::new();
    let mut changes: BTreeMap<Uuid, OrderChange> = BTreeMap::new();
    let mut tickets = TicketChanges::default();
    let mut events = 0;
    for raw in commits {
        let commit = decode::<OrderEvent>(Stream::Orders, raw)?;
        let order_id: Uuid = aggregate_id(&raw.subject).parse().map_err(|e| {
            undecodable(Stream::Orders, raw, format!("subject {}: {e}", raw.subject))
        })?;
        let version = raw.sequence as i64;
        for event in commit.events {
            events += 1;
            tickets.record(order_id, &event, version);
            if let OrderEvent::OrderPlaced {
                customer_id,
                hold_id,
                event_id,
                total_minor,
                currency,
                ..
            } = &event
            {
                created.insert(
                    order_id,
                    NewOrder {
                        customer_id: customer_id.to_string(),
                        event_id: event_id.as_uuid(),
                        hold_id: hold_id.to_string(),
                        status: OrderStatus::PendingPayment.as_str(),
                        tickets: json!([]),
                        total_minor: *total_minor,
                        currency: currency.to_string(),
                        created_at: commit.recorded_at,
                        updated_at: commit.recorded_at,
                        version,
                    },
                );
                continue;
            }
            let Some((status, tickets)) = shown(&event) else {
                continue;
            };
            match created.get_mut(&order_id) {
                Some(new) => {
                    new.status = status;
                    if let Some(tickets) = tickets {
                        new.tickets = tickets;
                    }
                    new.updated_at = commit.recorded_at;
                    new.version = version;
                }
                None => {
                    let change = changes.entry(order_id).or_default();
                    change.status = Some(status);
                    if tickets.is_some() {
                        change.tickets = tickets;
                    }
                    change.updated_at = Some(commit.recorded_at);
                    change.version = version;
                }
            }
        }
    }
    write_created(tx, schema, &created).await?;
    write_changes(tx, schema, &changes).await?;
    write_tickets(tx, schema, &tickets).await?;
    Ok((
        events,
        Notice {
            projection: "orders".into(),
            ..Notice::default()
        },
    ))
}

async fn write_created(
    tx: &Transaction<'_>,
    schema: &str,
    created: &BTreeMap<Uuid, NewOrder>,
) -> Result<(), ProjectError> {
    if created.is_empty() {
        return Ok(());
    }
    let o: Vec<(&Uuid, &NewOrder)> = created.iter().collect();
    let statement = tx
        .prepare_cached(&format!(
            "INSERT INTO {schema}.orders (order_id, customer_id, event_id, hold_id, status, tickets,
                 total_minor, currency, created_at, updated_at, version)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[],
                 $6::jsonb[], $7::int8[], $8::text[], $9::timestamptz[], $10::timestamptz[],
                 $11::int8[])
             ON CONFLICT (order_id) DO UPDATE
                 SET status = EXCLUDED.status, tickets = EXCLUDED.tickets,
                     updated_at = EXCLUDED.updated_at, version = EXCLUDED.version"
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &o.iter().map(|(id, _)| **id).collect::<Vec<_>>(),
            &o.iter()
                .map(|(_, n)| n.customer_id.as_str())
                .collect::<Vec<_>>(),
            &o.iter().map(|(_, n)| n.event_id).collect::<Vec<_>>(),
            &o.iter()
                .map(|(_, n)| n.hold_id.as_str())
                .collect::<Vec<_>>(),
            &o.iter().map(|(_, n)| n.status).collect::<Vec<_>>(),
            &o.iter().map(|(_, n)| n.tickets.clone()).collect::<Vec<_>>(),
            &o.iter().map(|(_, n)| n.total_minor).collect::<Vec<_>>(),
            &o.iter()
                .map(|(_, n)| n.currency.as_str())
                .collect::<Vec<_>>(),
            &o.iter().map(|(_, n)| n.created_at).collect::<Vec<_>>(),
            &o.iter().map(|(_, n)| n.updated_at).collect::<Vec<_>>(),
            &o.iter().map(|(_, n)| n.version).collect::<Vec<_>>(),
        ],
    )
    .await?;
    Ok(())
}

async fn write_changes(
    tx: &Transaction<'_>,
    schema: &str,
    changes: &BTreeMap<Uuid, OrderChange>,
) -> Result<(), ProjectError> {
    if changes.is_empty() {
        return Ok(());
    }
    let c: Vec<(&Uuid, &OrderChange)> = changes.iter().collect();
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE {schema}.orders o
             SET status = COALESCE(d.status, o.status), tickets = COALESCE(d.tickets, o.tickets),
                 updated_at = COALESCE(d.updated_at, o.updated_at), version = d.version
             FROM UNNEST($1::uuid[], $2::text[], $3::jsonb[], $4::timestamptz[], $5::int8[])
                 AS d(order_id, status, tickets, updated_at, version)
             WHERE o.order_id = d.order_id"
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &c.iter().map(|(id, _)| **id).collect::<Vec<_>>(),
            &c.iter().map(|(_, ch)| ch.status).collect::<Vec<_>>(),
            &c.iter()
                .map(|(_, ch)| ch.tickets.clone())
                .collect::<Vec<_>>(),
            &c.iter().map(|(_, ch)| ch.updated_at).collect::<Vec<_>>(),
            &c.iter().map(|(_, ch)| ch.version).collect::<Vec<_>>(),
        ],
    )
    .await?;
    Ok(())
}

async fn write_tickets(
    tx: &Transaction<'_>,
    schema: &str,
    changes: &TicketChanges,
) -> Result<(), ProjectError> {
    let issued = &changes.issued;
    if !issued.is_empty() {
        let statement = tx
            .prepare_cached(&format!(
                "INSERT INTO {schema}.{TICKETS} (code, order_id, ticket_index, customer_id, event_id,
                     section_id, seat, status, checked_in_at, version)
                 SELECT d.code, d.order_id, d.ticket_index, o.customer_id, o.event_id,
                     d.section_id, d.seat, $7, NULL, d.version
                 FROM UNNEST($1::text[], $2::uuid[], $3::int4[], $4::text[], $5::text[],
                     $6::int8[]) AS d(code, order_id, ticket_index, section_id, seat, version)
                 JOIN {schema}.{ORDERS} o ON o.order_id = d.order_id
                 ON CONFLICT (code) DO NOTHING"
            ))
            .await?;
        tx.execute(
            &statement,
            &[
                &issued.iter().map(|t| t.code.as_str()).collect::<Vec<_>>(),
                &issued.iter().map(|t| t.order_id).collect::<Vec<_>>(),
                &issued.iter().map(|t| t.index).collect::<Vec<_>>(),
                &issued
                    .iter()
                    .map(|t| t.section_id.as_str())
                    .collect::<Vec<_>>(),
                &issued.iter().map(|t| t.seat.as_deref()).collect::<Vec<_>>(),
                &issued.iter().map(|t| t.version).collect::<Vec<_>>(),
                &TicketStatus::Valid.as_str(),
            ],
        )
        .await?;
    }
    let checked_in = &changes.checked_in;
    if !checked_in.is_empty() {
        // The first check-in's time stays; a void ticket stays void.
        let statement = tx
            .prepare_cached(&format!(
                "UPDATE {schema}.{TICKETS} t
                 SET status = CASE WHEN t.status = $4 THEN t.status ELSE $5 END,
                     checked_in_at = COALESCE(t.checked_in_at, d.at),
                     version = GREATEST(t.version, d.version)
                 FROM UNNEST($1::text[], $2::timestamptz[], $3::int8[]) AS d(code, at, version)
                 WHERE t.code = d.code"
            ))
            .await?;
        tx.execute(
            &statement,
            &[
                &checked_in.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
                &checked_in.iter().map(|c| c.1).collect::<Vec<_>>(),
                &checked_in.iter().map(|c| c.2).collect::<Vec<_>>(),
                &TicketStatus::Void.as_str(),
                &TicketStatus::CheckedIn.as_str(),
            ],
        )
        .await?;
    }
    let voided = &changes.voided;
    if !voided.is_empty() {
        let statement = tx
            .prepare_cached(&format!(
                "UPDATE {schema}.{TICKETS} t
                 SET status = $3, version = GREATEST(t.version, d.version)
                 FROM UNNEST($1::uuid[], $2::int8[]) AS d(order_id, version)
                 WHERE t.order_id = d.order_id"
            ))
            .await?;
        tx.execute(
            &statement,
            &[
                &voided.keys().copied().collect::<Vec<_>>(),
                &voided.values().copied().collect::<Vec<_>>(),
                &TicketStatus::Void.as_str(),
            ],
        )
        .await?;
    }
    Ok(())
}
