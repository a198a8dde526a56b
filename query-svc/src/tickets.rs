//! `GET /tickets/{code}`: a ticket by its code, for its customer, a scanner or an operator; and
//! the fields every ticket of an order answer gets (`ticket_id`, `qr`).
//!
//! Read from the `tickets` table the orders projection writes. Someone else's ticket is answered
//! exactly as one that does not exist. Not cached: a ticket is read now and then.
//!
//! The QR payload of a ticket is its code: a signed code carries its order, its index and a MAC
//! under its event's scanner key, so a scanner verifies it offline (`docs/TICKETS.md`). A code
//! issued before codes were signed is its own payload too, checked online only.

use crate::error::ApiError;
use crate::extract::{AfterQuery, PathParams, QueryParams};
use crate::read::{Projection, ReadError};
use crate::AppState;
use auth::{Identity, Role};
use axum::extract::State;
use axum::Json;
use domain::ids::OrderId;
use domain::ordering::ticket_id;
use read_model::status::TicketStatus;
use read_model::tables::TICKETS;
use serde::Serialize;
use serde_json::Value;
use std::sync::{Arc, LazyLock};
use uuid::Uuid;

/// A ticket as query-svc answers it.
#[derive(Debug, Serialize)]
pub(crate) struct TicketView {
    ticket_id: Uuid,
    order_id: Uuid,
    event_id: Option<Uuid>,
    section_id: String,
    seat: Option<String>,
    /// `valid`, `checked_in` or `void`.
    status: &'static str,
    #[serde(with = "time::serde::rfc3339::option")]
    checked_in_at: Option<time::OffsetDateTime>,
    #[serde(skip)]
    customer_id: String,
}

pub(crate) async fn ticket(
    caller: Identity,
    State(state): State<Arc<AppState>>,
    PathParams(code): PathParams<String>,
    QueryParams(q): AfterQuery,
) -> Result<Json<TicketView>, ApiError> {
    let at_gate = caller.has(Role::Scanner) || caller.has(Role::Operator);
    if !at_gate {
        caller.require(Role::Customer)?;
    }
    state
        .wait_for(q.after.as_deref(), Projection::Orders, None)
        .await?;
    read(&state, &code)
        .await?
        .filter(|ticket| at_gate || caller.subject() == ticket.customer_id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("unknown_ticket", "no ticket with this code"))
}

async fn read(state: &AppState, code: &str) -> Result<Option<TicketView>, ReadError> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT order_id, ticket_index, event_id, section_id, seat, status, checked_in_at,
                    customer_id
             FROM {TICKETS} WHERE code = $1"
        )
    });
    let client = state.read.pool().get().await?;
    let statement = client.prepare_cached(&SQL).await?;
    let Some(row) = client.query_opt(&statement, &[&code]).await? else {
        return Ok(None);
    };
    let order_id: Uuid = row.get("order_id");
    let index: i32 = row.get("ticket_index");
    let status = read_model::rows::column(TICKETS, "status", row.get("status"), |w| {
        TicketStatus::parse(w).ok_or(())
    })?;
    Ok(Some(TicketView {
        ticket_id: ticket_id(OrderId::from_uuid(order_id), index as u32),
        order_id,
        event_id: row.get("event_id"),
        section_id: row.get("section_id"),
        seat: row.get("seat"),
        status: status.as_str(),
        checked_in_at: row.get("checked_in_at"),
        customer_id: row.get("customer_id"),
    }))
}

/// An order's stored tickets with what the answer adds to each: `ticket_id` (from the order and
/// the ticket's place in it) and `qr`, the payload of its QR code.
pub(crate) fn with_ids_and_qr(order_id: Uuid, mut tickets: Value) -> Value {
    if let Value::Array(items) = &mut tickets {
        for (index, item) in items.iter_mut().enumerate() {
            let Value::Object(fields) = item else {
                continue;
            };
            let id = ticket_id(OrderId::from_uuid(order_id), index as u32);
            fields.insert("ticket_id".into(), Value::String(id.to_string()));
            if let Some(code) = fields.get("code").cloned() {
                fields.insert("qr".into(), code);
            }
        }
    }
    tickets
}
