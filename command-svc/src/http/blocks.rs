//! `POST /events/{event_id}/blocks` and `POST /blocks/{block_id}/release` (operator commands):
//! seats taken off sale for the press or the production, and given back.
//!
//! The block id is derived from the event and the `Idempotency-Key` and carries its event, as a
//! hold id does: a retry names the same block and appends nothing, and a release finds the event's
//! inventory from the id alone.

use super::caller::Operator;
use super::error::ApiError;
use super::extract::{parse_path, JsonBody, PathParams, RequiredKey, TraceParent};
use super::holds::not_open;
use super::AppState;
use crate::inventory::{CommandError, Decided};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::ids::{BlockId, EventId, SeatLabel, SectionId};
use domain::inventory::{BlockReason, InventoryCommand, InventoryError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockBody {
    section_id: String,
    seats: Option<Vec<String>>,
    quantity: Option<u32>,
    reason: String,
}

/// A block as command-svc answers it.
#[derive(Debug, Serialize)]
pub struct BlockAnswer {
    block_id: BlockId,
    event_id: EventId,
    section_id: SectionId,
    /// The blocked seats; empty in a general-admission section.
    seats: Vec<SeatLabel>,
    quantity: u32,
    reason: String,
    /// `blocked`, or `released` once its seats are back on sale.
    status: &'static str,
    /// The stream position of the commit that decided it (`?after=` for query-svc).
    position: String,
}

fn answer(decided: Decided) -> Result<BlockAnswer, ApiError> {
    let block = decided.block.ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the block was not recorded",
        )
    })?;
    Ok(BlockAnswer {
        block_id: block.block_id,
        event_id: block.block_id.event(),
        section_id: block.section_id,
        seats: block.seats,
        quantity: block.quantity,
        reason: block.reason.as_str().to_owned(),
        status: if block.released {
            "released"
        } else {
            "blocked"
        },
        position: decided.position.to_string(),
    })
}

/// `201` with the block. Seats that are not free are `409 seat_unavailable`, a quantity that is
/// not free too (named seats list the taken ones in the message).
#[tracing::instrument(skip(state, key, trace, body), fields(event_id = %event_id))]
pub async fn block(
    _: Operator,
    State(state): State<AppState>,
    PathParams(event_id): PathParams<String>,
    RequiredKey(key): RequiredKey,
    TraceParent(trace): TraceParent,
    JsonBody(body): JsonBody<BlockBody>,
) -> Result<(StatusCode, Json<BlockAnswer>), ApiError> {
    let event: EventId = parse_path(&event_id, "event_id")?;
    let command = InventoryCommand::BlockSeats {
        block_id: BlockId::derive(event, &key),
        section_id: SectionId::parse(&body.section_id)?,
        selection: super::holds::selection(body.seats.as_deref(), body.quantity)?,
        reason: BlockReason::parse(&body.reason)?,
    };
    let decided = match state.inventories.decide(event, command, trace).await {
        Err(CommandError::Rejected(InventoryError::NotOpen)) => {
            return Err(not_open(&state, event).await)
        }
        Err(CommandError::Rejected(refused @ InventoryError::SoldOut { .. }))
        | Err(CommandError::Rejected(refused @ InventoryError::NoAdjacentSeats { .. })) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "seat_unavailable",
                refused.to_string(),
            ))
        }
        other => other?,
    };
    Ok((StatusCode::CREATED, Json(answer(decided)?)))
}

/// `200` with the block, `released`; releasing it again answers the same and appends nothing.
/// The body, if any, is not read.
#[tracing::instrument(skip(state, trace), fields(block_id = %block_id))]
pub async fn release(
    _: Operator,
    State(state): State<AppState>,
    PathParams(block_id): PathParams<String>,
    TraceParent(trace): TraceParent,
) -> Result<Json<BlockAnswer>, ApiError> {
    let block_id: BlockId = parse_path(&block_id, "block_id")?;
    let command = InventoryCommand::ReleaseBlock { block_id };
    let decided = match state
        .inventories
        .decide(block_id.event(), command, trace)
        .await
    {
        // A block of an event that does not exist is simply unknown.
        Err(CommandError::Rejected(InventoryError::NotOpen)) => {
            return Err(InventoryError::UnknownBlock.into())
        }
        other => other?,
    };
    Ok(Json(answer(decided)?))
}
