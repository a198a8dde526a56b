//! `POST /events/{event_id}/waitlist` and `POST /waitlist/{waitlist_id}/leave`: a customer waits
//! for seats of a sold-out section to come back, and leaves the list.

use super::caller::Customer;
use super::error::ApiError;
use super::extract::{parse_path, JsonBody, PathParams, RequiredKey, TraceParent};
use super::holds::not_open;
use super::AppState;
use crate::inventory::{CommandError, Decided};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::ids::{EventId, HoldId, SectionId, WaitlistId};
use domain::inventory::{InventoryCommand, InventoryError, WaitlistStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinBody {
    section_id: String,
    quantity: u32,
    /// Seated sections: only seats side by side in one row will do (default: any seats).
    #[serde(default)]
    adjacent: bool,
}

/// A waiting-list entry as command-svc answers it.
#[derive(Debug, Serialize)]
pub struct EntryAnswer {
    waitlist_id: WaitlistId,
    event_id: EventId,
    section_id: SectionId,
    quantity: u32,
    adjacent: bool,
    status: &'static str,
    /// 1 for the next entry to be offered seats; absent once the entry no longer waits.
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<u32>,
    /// The offered hold, once seats were offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    hold_id: Option<HoldId>,
    /// The stream position of the commit that decided it (`?after=` for query-svc).
    stream_position: String,
}

fn answer(decided: Decided) -> Result<EntryAnswer, ApiError> {
    let place = decided.waitlist.ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the waiting-list entry was not recorded",
        )
    })?;
    let entry = place.entry;
    let hold_id = match entry.status {
        WaitlistStatus::Offered { hold_id } => Some(hold_id),
        _ => None,
    };
    Ok(EntryAnswer {
        waitlist_id: entry.waitlist_id,
        event_id: entry.waitlist_id.event(),
        section_id: entry.section_id,
        quantity: entry.quantity,
        adjacent: entry.adjacent,
        status: entry.status.name(),
        position: place.position,
        hold_id,
        stream_position: decided.position.to_string(),
    })
}

/// `201` with the entry; a customer who already waits (or holds an offer) for this event gets
/// that entry again, whatever the key. `409 not_sold_out` while the section has seats on sale.
#[tracing::instrument(skip(caller, state, key, trace, body), fields(event_id = %event_id))]
pub async fn join(
    caller: Customer,
    State(state): State<AppState>,
    PathParams(event_id): PathParams<String>,
    RequiredKey(key): RequiredKey,
    TraceParent(trace): TraceParent,
    JsonBody(body): JsonBody<JoinBody>,
) -> Result<(StatusCode, Json<EntryAnswer>), ApiError> {
    let event: EventId = parse_path(&event_id, "event_id")?;
    let customer = caller.acting_as(None)?;
    let command = InventoryCommand::JoinWaitlist {
        waitlist_id: WaitlistId::derive(event, &customer, &key),
        customer_id: customer,
        section_id: SectionId::parse(&body.section_id)?,
        quantity: body.quantity,
        adjacent: body.adjacent,
    };
    let decided = match state.inventories.decide(event, command, trace).await {
        Err(CommandError::Rejected(InventoryError::NotOpen)) => {
            return Err(not_open(&state, event).await)
        }
        other => other?,
    };
    Ok((StatusCode::CREATED, Json(answer(decided)?)))
}

/// `200` with the entry, `left` (or how it had ended already). Another customer's entry is
/// `404 unknown_waitlist_entry`, as if it did not exist.
/// The body, if any, is not read.
#[tracing::instrument(skip(caller, state, trace), fields(waitlist_id = %waitlist_id))]
pub async fn leave(
    caller: Customer,
    State(state): State<AppState>,
    PathParams(waitlist_id): PathParams<String>,
    TraceParent(trace): TraceParent,
) -> Result<Json<EntryAnswer>, ApiError> {
    let waitlist_id: WaitlistId = parse_path(&waitlist_id, "waitlist_id")?;
    let customer = caller.acting_as(None)?;
    let command = InventoryCommand::LeaveWaitlist {
        waitlist_id,
        customer_id: customer,
    };
    let decided = match state
        .inventories
        .decide(waitlist_id.event(), command, trace)
        .await
    {
        Err(CommandError::Rejected(InventoryError::NotOpen)) => {
            return Err(InventoryError::UnknownWaitlistEntry.into())
        }
        other => other?,
    };
    Ok(Json(answer(decided)?))
}
