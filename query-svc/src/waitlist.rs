//! `GET /waitlist/{waitlist_id}`: a waiting-list entry as its customer (or an operator) sees it,
//! with its place in its section's line while it waits.
//!
//! Read from the `waitlist` table the inventory projection writes; the place is counted there (the
//! waiting entries of the section that joined before it, through a partial index), so it is
//! never stale against the status. Not cached: an entry is read by one customer now and then.

use crate::error::ApiError;
use crate::extract::{AfterQuery, PathParams, QueryParams};
use crate::http::Caller;
use crate::read::{Projection, ReadError};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use domain::ids::WaitlistId;
use serde::Serialize;
use std::sync::Arc;

/// An entry as query-svc answers it.
#[derive(Debug, Serialize)]
pub(crate) struct EntryView {
    waitlist_id: String,
    event_id: uuid::Uuid,
    section_id: String,
    customer_id: String,
    quantity: i32,
    adjacent: bool,
    /// `waiting`, `offered`, `left` or `expired`.
    status: String,
    /// While waiting: 1 for the next entry to be offered seats.
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<i64>,
    /// The offered hold, once seats were offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    hold_id: Option<String>,
    /// The stream sequence of the last commit that changed the entry.
    version: i64,
}

pub(crate) async fn entry(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    PathParams(waitlist_id): PathParams<String>,
    QueryParams(q): AfterQuery,
) -> Result<Json<EntryView>, ApiError> {
    let id: WaitlistId = waitlist_id.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_waitlist_id",
            "waitlist_id must be <event uuid>.<entry uuid>",
        )
    })?;
    state
        .wait_for(
            q.after.as_deref(),
            Projection::Inventory,
            Some(id.event().as_uuid()),
        )
        .await?;
    // Someone else's entry is answered exactly as one that does not exist.
    read(&state, &waitlist_id)
        .await?
        .filter(|entry| caller.may_read(&entry.customer_id))
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_waitlist_entry",
                "no waiting-list entry with this id",
            )
        })
}

async fn read(state: &AppState, waitlist_id: &str) -> Result<Option<EntryView>, ReadError> {
    let client = state.read.pool().get().await?;
    let statement = client
        .prepare_cached(
            "SELECT w.waitlist_id, w.event_id, w.section_id, w.customer_id, w.quantity,
                    w.adjacent, w.status, w.hold_id, w.version,
                    CASE WHEN w.status = 'waiting' THEN (
                        SELECT count(*) + 1 FROM waitlist a
                        WHERE a.status = 'waiting' AND a.event_id = w.event_id
                          AND a.section_id = w.section_id AND a.joined_order < w.joined_order
                    ) END AS position
             FROM waitlist w WHERE w.waitlist_id = $1",
        )
        .await
        .map_err(ReadError::from)?;
    let row = client
        .query_opt(&statement, &[&waitlist_id])
        .await
        .map_err(ReadError::from)?;
    Ok(row.map(|row| EntryView {
        waitlist_id: row.get("waitlist_id"),
        event_id: row.get("event_id"),
        section_id: row.get("section_id"),
        customer_id: row.get("customer_id"),
        quantity: row.get("quantity"),
        adjacent: row.get("adjacent"),
        status: row.get("status"),
        position: row.get("position"),
        hold_id: row.get("hold_id"),
        version: row.get("version"),
    }))
}
