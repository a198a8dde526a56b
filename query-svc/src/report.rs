//! `GET /events/{event_id}/report` (operator): where an event's sale stands, per section and in
//! total — capacity, available, held, sold and blocked seats, and the orders behind them: confirmed (tickets
//! and revenue), refunded (and how much), awaiting payment; and tickets checked in at the gate.
//!
//! Read from the read models (`availability`, `holds`, `orders`, `tickets`) in one statement. Held counts only
//! holds live at the time of the read (expiry is lazy in the tables). Not cached: an operator's
//! screen reads it now and then, and it must be current.

use crate::error::ApiError;
use crate::extract::{AfterQuery, PathParams, QueryParams};
use crate::read::{Projection, ReadError};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use std::sync::Arc;
use uuid::Uuid;

/// One section's figures, or the event's totals.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Figures {
    capacity: i64,
    available: i64,
    held: i64,
    sold: i64,
    /// Seats taken off sale by operators' blocks.
    blocked: i64,
    orders_confirmed: i64,
    tickets_confirmed: i64,
    revenue_minor: i64,
    orders_refunded: i64,
    refunded_minor: i64,
    orders_pending: i64,
    /// Tickets checked in at the gate (and not void since).
    checked_in: i64,
}

impl Figures {
    fn add(&mut self, other: &Figures) {
        self.capacity += other.capacity;
        self.available += other.available;
        self.held += other.held;
        self.sold += other.sold;
        self.blocked += other.blocked;
        self.orders_confirmed += other.orders_confirmed;
        self.tickets_confirmed += other.tickets_confirmed;
        self.revenue_minor += other.revenue_minor;
        self.orders_refunded += other.orders_refunded;
        self.refunded_minor += other.refunded_minor;
        self.orders_pending += other.orders_pending;
        self.checked_in += other.checked_in;
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct SectionReport {
    section_id: String,
    #[serde(flatten)]
    figures: Figures,
    /// Confirmed tickets and revenue per ticket type of the section, in type id order.
    types: Vec<TypeReport>,
}

/// One ticket type's confirmed sales in a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TypeReport {
    type_id: String,
    tickets_confirmed: i64,
    revenue_minor: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct Report {
    event_id: Uuid,
    name: String,
    /// `draft`, `on_sale`, `closed` or `cancelled`.
    status: String,
    currency: String,
    sections: Vec<SectionReport>,
    totals: Figures,
}

pub(crate) async fn report(
    identity: auth::Identity,
    State(state): State<Arc<AppState>>,
    PathParams(event_id): PathParams<String>,
    QueryParams(q): AfterQuery,
) -> Result<Json<Report>, ApiError> {
    identity.require(auth::Role::Operator)?;
    let event_id = Uuid::try_parse(&event_id)
        .map_err(|_| ApiError::bad_request("invalid_event_id", "event_id must be a UUID"))?;
    state
        .wait_for(q.after.as_deref(), Projection::Inventory, Some(event_id))
        .await?;
    read(&state, event_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("unknown_event", "no event with this id"))
}

async fn read(state: &AppState, event_id: Uuid) -> Result<Option<Report>, ReadError> {
    let client = state.read.pool().get().await?;
    let event = client
        .query_opt(
            "SELECT name, status, currency FROM events WHERE event_id = $1",
            &[&event_id],
        )
        .await
        .map_err(ReadError::from)?;
    let Some(event) = event else {
        return Ok(None);
    };
    let statement = client
        .prepare_cached(
            "SELECT a.section_id, a.capacity::bigint AS capacity, a.sold::bigint AS sold,
                    a.blocked::bigint AS blocked,
                    COALESCE((SELECT sum(h.quantity) FROM holds h
                              WHERE h.event_id = a.event_id AND h.section_id = a.section_id
                                AND h.status IN ('active', 'ordered') AND h.expires_at > now()),
                             0)::bigint AS held,
                    count(o.order_id) FILTER (WHERE o.status = 'confirmed') AS orders_confirmed,
                    COALESCE(sum(jsonb_array_length(o.tickets))
                             FILTER (WHERE o.status = 'confirmed'), 0)::bigint
                        AS tickets_confirmed,
                    COALESCE(sum(o.total_minor) FILTER (WHERE o.status = 'confirmed'), 0)::bigint
                        AS revenue_minor,
                    count(o.order_id) FILTER (WHERE o.status = 'refunded') AS orders_refunded,
                    COALESCE(sum(o.total_minor) FILTER (WHERE o.status = 'refunded'), 0)::bigint
                        AS refunded_minor,
                    count(o.order_id) FILTER (WHERE o.status = 'pending_payment')
                        AS orders_pending,
                    (SELECT count(*) FROM tickets t
                     WHERE t.event_id = a.event_id AND t.section_id = a.section_id
                       AND t.status = 'checked_in')::bigint AS checked_in
             FROM availability a
             LEFT JOIN holds h ON h.event_id = a.event_id AND h.section_id = a.section_id
                              AND h.order_id IS NOT NULL
             LEFT JOIN orders o ON o.order_id = h.order_id
             WHERE a.event_id = $1
             GROUP BY a.event_id, a.section_id, a.ordinal, a.capacity, a.sold, a.blocked
             ORDER BY a.ordinal",
        )
        .await
        .map_err(ReadError::from)?;
    let rows = client
        .query(&statement, &[&event_id])
        .await
        .map_err(ReadError::from)?;
    let mut types = types_of(&client, event_id).await?;
    let mut totals = Figures::default();
    let sections = rows
        .iter()
        .map(|row| {
            let (capacity, held, sold, blocked): (i64, i64, i64, i64) = (
                row.get("capacity"),
                row.get("held"),
                row.get("sold"),
                row.get("blocked"),
            );
            let figures = Figures {
                capacity,
                available: (capacity - held - sold - blocked).max(0),
                held,
                sold,
                blocked,
                orders_confirmed: row.get("orders_confirmed"),
                tickets_confirmed: row.get("tickets_confirmed"),
                revenue_minor: row.get("revenue_minor"),
                orders_refunded: row.get("orders_refunded"),
                refunded_minor: row.get("refunded_minor"),
                orders_pending: row.get("orders_pending"),
                checked_in: row.get("checked_in"),
            };
            totals.add(&figures);
            let section_id: String = row.get("section_id");
            SectionReport {
                types: types.remove(&section_id).unwrap_or_default(),
                section_id,
                figures,
            }
        })
        .collect();
    Ok(Some(Report {
        event_id,
        name: event.get("name"),
        status: event.get("status"),
        currency: event.get("currency"),
        sections,
        totals,
    }))
}

/// Confirmed tickets and revenue per section and ticket type. An order is of one type (its hold's),
/// so its total is its type's revenue; tickets confirmed before types existed are of their
/// section's default type.
async fn types_of(
    client: &deadpool_postgres::Object,
    event_id: Uuid,
) -> Result<std::collections::HashMap<String, Vec<TypeReport>>, ReadError> {
    let statement = client
        .prepare_cached(&format!(
            "SELECT h.section_id,
                    COALESCE(o.tickets->0->>'type_id', '{default}') AS type_id,
                    COALESCE(sum(jsonb_array_length(o.tickets)), 0)::bigint AS tickets_confirmed,
                    COALESCE(sum(o.total_minor), 0)::bigint AS revenue_minor
             FROM holds h JOIN orders o ON o.order_id = h.order_id
             WHERE h.event_id = $1 AND o.status = 'confirmed'
             GROUP BY 1, 2
             ORDER BY 1, 2",
            default = domain::catalog::DEFAULT_TYPE_ID
        ))
        .await
        .map_err(ReadError::from)?;
    let rows = client
        .query(&statement, &[&event_id])
        .await
        .map_err(ReadError::from)?;
    let mut types: std::collections::HashMap<String, Vec<TypeReport>> = Default::default();
    for row in rows {
        types.entry(row.get(0)).or_default().push(TypeReport {
            type_id: row.get(1),
            tickets_confirmed: row.get(2),
            revenue_minor: row.get(3),
        });
    }
    Ok(types)
}
