//! `POST /events/{event_id}/holds` and `POST /holds/{hold_id}/release`. A hold during a presale
//! carries an access code, hashed at the edge (`presales.rs`).

use super::caller::Customer;
use super::error::ApiError;
use super::extract::{parse_path, JsonBody, PathParams, RequiredKey, TraceParent};
use super::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use domain::ids::{EventId, HoldId, SeatLabel, SectionId, TicketTypeId};
use domain::inventory::{Hold, HoldRequest, InventoryCommand, InventoryError, Selection};
use domain::waiting_room::AdmissionClaims;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceHoldBody {
    /// Optional: the customer is the token's subject; when given, it must be the same.
    customer_id: Option<String>,
    section_id: String,
    seats: Option<Vec<String>>,
    quantity: Option<u32>,
    /// Needed during a presale; hashed at once, never kept or logged as typed.
    access_code: Option<super::presales::TypedAccessCode>,
    /// One of the section's ticket types; absent: its first (default) type.
    type_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    customer_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct HoldAnswer {
    hold_id: HoldId,
    event_id: EventId,
    section_id: SectionId,
    seats: Vec<SeatLabel>,
    quantity: u32,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: time::OffsetDateTime,
    status: &'static str,
    position: String,
    /// The ticket type of the hold's tickets, and what one costs.
    #[serde(skip_serializing_if = "Option::is_none")]
    type_id: Option<TicketTypeId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    price_minor: Option<i64>,
}

fn answer(hold: &Hold, position: String) -> HoldAnswer {
    HoldAnswer {
        hold_id: hold.hold_id,
        event_id: hold.hold_id.event(),
        section_id: hold.section_id.clone(),
        seats: hold.seats.clone(),
        quantity: hold.quantity,
        expires_at: hold.expires_at,
        status: hold.status.name(),
        position,
        type_id: None,
        price_minor: None,
    }
}

/// Named seats or a quantity, exactly one of them: a hold's and a block's body alike.
pub(super) fn selection(
    seats: Option<&[String]>,
    quantity: Option<u32>,
) -> Result<Selection, ApiError> {
    match (seats, quantity) {
        (Some(seats), None) => Ok(Selection::Seats(
            seats
                .iter()
                .map(|s| s.parse::<SeatLabel>())
                .collect::<Result<_, _>>()?,
        )),
        (None, Some(quantity)) => Ok(Selection::Quantity(quantity)),
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "give either `seats` (labels like \"A-12\") or `quantity`, not both and not neither",
        )),
    }
}

/// The claims of the request's `Admission` token when its signature is ours. An absent, forged or
/// malformed token gives none: an event sold through a waiting room then refuses the hold as
/// `not_admitted`, and any other event does not look at it.
fn admission(state: &AppState, headers: &HeaderMap) -> Option<AdmissionClaims> {
    let token = headers.get(ADMISSION_HEADER)?.to_str().ok()?.trim();
    let claims = state.admission.as_ref()?.verify(token).ok()?;
    Some(AdmissionClaims {
        sub: claims.sub.parse().ok()?,
        event_id: claims.event_id.parse().ok()?,
        iat: claims.iat,
        exp: claims.exp,
    })
}

/// The header that carries a waiting room's admission token.
const ADMISSION_HEADER: &str = "admission";

#[tracing::instrument(skip(caller, state, key, trace, headers, body), fields(event_id = %event_id))]
pub async fn place(
    caller: Customer,
    State(state): State<AppState>,
    PathParams(event_id): PathParams<String>,
    RequiredKey(key): RequiredKey,
    TraceParent(trace): TraceParent,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PlaceHoldBody>,
) -> Result<(StatusCode, Json<HoldAnswer>), ApiError> {
    let event: EventId = parse_path(&event_id, "event_id")?;
    let customer = caller.acting_as(body.customer_id.as_deref())?;
    let request = HoldRequest {
        hold_id: HoldId::derive(event, &customer, &key),
        customer_id: customer,
        section_id: SectionId::parse(&body.section_id)?,
        selection: selection(body.seats.as_deref(), body.quantity)?,
        admission: admission(&state, &headers),
        access_code: super::presales::access_code(&state, event, body.access_code.as_ref())?,
        type_id: body
            .type_id
            .as_deref()
            .map(TicketTypeId::parse)
            .transpose()?,
    };
    let decided = state
        .inventories
        .decide(event, InventoryCommand::PlaceHold(request), trace)
        .await;
    let decided = match decided {
        Err(crate::inventory::CommandError::Rejected(InventoryError::NotOpen)) => {
            return Err(not_open(&state, event).await)
        }
        other => other?,
    };
    let hold = decided.hold.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the hold was not recorded",
        )
    })?;
    let mut answer = answer(hold, decided.position.to_string());
    answer.type_id = decided.type_id.clone();
    answer.price_minor = decided.price.map(|p| p.minor);
    Ok((StatusCode::CREATED, Json(answer)))
}

/// An inventory that is not open: the event is unknown, or known but not on sale.
pub(super) async fn not_open(state: &AppState, event: EventId) -> ApiError {
    match state.catalog.exists(event).await {
        Ok(true) => InventoryError::NotOpen.into(),
        Ok(false) => ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_event",
            "no event with this id exists",
        ),
        Err(e) => crate::inventory::CommandError::Unavailable(e.to_string()).into(),
    }
}

#[derive(Debug, Serialize)]
pub struct ReleaseAnswer {
    hold_id: HoldId,
    status: &'static str,
    position: String,
}

/// The customer is the token's; a hold of another customer is `404 unknown_hold`, as if it did
/// not exist.
#[tracing::instrument(skip(caller, state, trace, body), fields(hold_id = %hold_id))]
pub async fn release(
    caller: Customer,
    State(state): State<AppState>,
    PathParams(hold_id): PathParams<String>,
    TraceParent(trace): TraceParent,
    JsonBody(body): JsonBody<ReleaseBody>,
) -> Result<Json<ReleaseAnswer>, ApiError> {
    let hold_id: HoldId = parse_path(&hold_id, "hold_id")?;
    let customer = caller.acting_as(body.customer_id.as_deref())?;
    let command = InventoryCommand::ReleaseHold {
        hold_id,
        customer_id: customer,
    };
    let decided = match state
        .inventories
        .decide(hold_id.event(), command, trace)
        .await
    {
        // A hold of an event that does not exist is simply unknown.
        Err(crate::inventory::CommandError::Rejected(InventoryError::NotOpen)) => {
            return Err(InventoryError::UnknownHold.into())
        }
        other => other?,
    };
    Ok(Json(ReleaseAnswer {
        hold_id,
        status: decided.hold.map_or("released", |h| h.status.name()),
        position: decided.position.to_string(),
    }))
}
