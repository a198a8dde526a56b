//! `POST /events/{event_id}/presales/{presale_id}/codes` (operator): loads access codes into a
//! presale, and the access code a hold carries.
//!
//! A plain code lives only in the request: it is parsed and hashed here at once with the event's
//! key (`TicketKey::access_code_key`, from `TV_TICKET_SECRET_FILE`), and only the hash goes to the
//! inventory, the stream and any forwarded command. Handlers skip bodies in their spans, and no
//! answer or log line repeats a code.

use super::caller::Operator;
use super::error::ApiError;
use super::extract::{parse_path, JsonBody, PathParams, TraceParent};
use super::holds::not_open;
use super::AppState;
use crate::inventory::CommandError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::ids::{EventId, PresaleId};
use domain::inventory::{
    AccessCode, AccessCodeHash, InventoryCommand, InventoryError, MAX_ACCESS_CODE_CHARS,
    MIN_ACCESS_CODE_CHARS,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The most codes one request may load: its fact stays far below a commit's size bound.
pub const MAX_CODES_PER_REQUEST: usize = 1_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadCodesBody {
    codes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct LoadCodesAnswer {
    event_id: EventId,
    presale_id: PresaleId,
    /// Distinct codes in the request (codes the presale had already are not added again).
    codes: usize,
    /// The stream position of the commit that decided it (`?after=` for query-svc).
    position: String,
}

/// `200` once the codes are loaded; loading them again changes nothing. `422` for an empty or
/// oversized list or a malformed code (the answer names its index, never the code), `404
/// unknown_presale`, and `403` for a caller who is not an operator.
#[tracing::instrument(skip(state, trace, body), fields(event_id = %event_id, presale_id = %presale_id))]
pub async fn load_codes(
    _: Operator,
    State(state): State<AppState>,
    PathParams((event_id, presale_id)): PathParams<(String, String)>,
    TraceParent(trace): TraceParent,
    JsonBody(body): JsonBody<LoadCodesBody>,
) -> Result<Json<LoadCodesAnswer>, ApiError> {
    let event: EventId = parse_path(&event_id, "event_id")?;
    let presale_id: PresaleId = parse_path(&presale_id, "presale_id")?;
    if body.codes.is_empty() || body.codes.len() > MAX_CODES_PER_REQUEST {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            format!("`codes` must list 1 to {MAX_CODES_PER_REQUEST} codes"),
        ));
    }
    let key = state.ticket_key.access_code_key(event);
    let mut codes = BTreeSet::new();
    for (i, text) in body.codes.iter().enumerate() {
        let code = AccessCode::parse(text).map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                format!(
                    "codes[{i}]: an access code has {MIN_ACCESS_CODE_CHARS} to \
                     {MAX_ACCESS_CODE_CHARS} visible ASCII characters"
                ),
            )
        })?;
        codes.insert(key.hash(&code));
    }
    let count = codes.len();
    let command = InventoryCommand::LoadAccessCodes {
        presale_id: presale_id.clone(),
        codes: codes.into_iter().collect(),
    };
    let decided = match state.inventories.decide(event, command, trace).await {
        Err(CommandError::Rejected(InventoryError::NotOpen)) => {
            return Err(not_open(&state, event).await)
        }
        other => other?,
    };
    Ok(Json(LoadCodesAnswer {
        event_id: event,
        presale_id,
        codes: count,
        position: decided.position.to_string(),
    }))
}

/// An access code as a request body carries it: `Debug` shows nothing of it.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct TypedAccessCode(String);

impl std::fmt::Debug for TypedAccessCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The hash of a hold's access code. A text that cannot be a code is no code of any presale:
/// `403 access_code_invalid`, whatever the sale's window.
pub(super) fn access_code(
    state: &AppState,
    event: EventId,
    typed: Option<&TypedAccessCode>,
) -> Result<Option<AccessCodeHash>, ApiError> {
    let Some(TypedAccessCode(text)) = typed else {
        return Ok(None);
    };
    let code = AccessCode::parse(text).map_err(|_| InventoryError::AccessCodeInvalid)?;
    Ok(Some(state.ticket_key.access_code_key(event).hash(&code)))
}
