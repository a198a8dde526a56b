//! `POST /events`, `POST /events/{event_id}/publish`, `POST /events/{event_id}/close` and
//! `POST /events/{event_id}/cancel`
//! (operator commands).

use super::caller::Operator;
use super::error::ApiError;
use super::extract::{parse_path, JsonBody, OptionalKey, PathParams, TraceParent};
use super::AppState;
use crate::catalog::CatalogOutcome;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::catalog::{
    EventDetails, EventDraft, EventStatus, PresaleDraft, RowDraft, SectionDraft, TicketTypeDraft,
};
use domain::ids::EventId;
use domain::waiting_room::WaitingRoomDraft;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateEventBody {
    name: String,
    venue: String,
    #[serde(with = "time::serde::rfc3339")]
    starts_at: OffsetDateTime,
    currency: String,
    sections: Vec<SectionBody>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    sale_opens_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    sale_closes_at: Option<OffsetDateTime>,
    hold_ttl_seconds: Option<u32>,
    max_tickets_per_customer: Option<u32>,
    /// `{opens_at, admit_per_minute, max_active?, admission_ttl_seconds?}`: sold only through a
    /// waiting room.
    waiting_room: Option<WaitingRoomDraft>,
    /// `[{presale_id, opens_at, closes_at, max_tickets_per_code}]`: windows before the general
    /// sale that need an access code.
    #[serde(default)]
    presales: Vec<PresaleDraft>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionBody {
    section_id: String,
    name: String,
    price_minor: i64,
    rows: Option<Vec<RowBody>>,
    capacity: Option<u32>,
    /// `[{type_id, name, price_minor}]`; absent: one type at `price_minor`.
    ticket_types: Option<Vec<TicketTypeBody>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketTypeBody {
    type_id: String,
    name: String,
    price_minor: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowBody {
    row: String,
    seats: u32,
}

impl From<CreateEventBody> for EventDraft {
    fn from(body: CreateEventBody) -> Self {
        EventDraft {
            name: body.name,
            venue: body.venue,
            starts_at: body.starts_at,
            currency: body.currency,
            sections: body
                .sections
                .into_iter()
                .map(|s| SectionDraft {
                    section_id: s.section_id,
                    name: s.name,
                    price_minor: s.price_minor,
                    rows: s.rows.map(|rows| {
                        rows.into_iter()
                            .map(|r| RowDraft {
                                row: r.row,
                                seats: r.seats,
                            })
                            .collect()
                    }),
                    capacity: s.capacity,
                    ticket_types: s.ticket_types.map(|types| {
                        types
                            .into_iter()
                            .map(|t| TicketTypeDraft {
                                type_id: t.type_id,
                                name: t.name,
                                price_minor: t.price_minor,
                            })
                            .collect()
                    }),
                })
                .collect(),
            sale_opens_at: body.sale_opens_at,
            sale_closes_at: body.sale_closes_at,
            hold_ttl_seconds: body.hold_ttl_seconds,
            max_tickets_per_customer: body.max_tickets_per_customer,
            waiting_room: body.waiting_room,
            presales: body.presales,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EventAnswer {
    event_id: EventId,
    status: EventStatus,
    position: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    inventory_position: Option<String>,
}

impl From<CatalogOutcome> for EventAnswer {
    fn from(outcome: CatalogOutcome) -> Self {
        Self {
            event_id: outcome.event_id,
            status: outcome.status,
            position: outcome.position.to_string(),
            inventory_position: outcome.inventory_position.map(|p| p.to_string()),
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn create(
    _: Operator,
    State(state): State<AppState>,
    OptionalKey(key): OptionalKey,
    TraceParent(trace): TraceParent,
    JsonBody(body): JsonBody<CreateEventBody>,
) -> Result<(StatusCode, Json<EventAnswer>), ApiError> {
    let details = EventDetails::parse(body.into()).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
            e.to_string(),
        )
    })?;
    let event = key
        .as_ref()
        .map_or_else(EventId::new_random, EventId::derive);
    let outcome = state.catalog.create(event, details, trace).await?;
    Ok((StatusCode::CREATED, Json(outcome.into())))
}

#[tracing::instrument(skip(state, trace), fields(event_id = %event_id))]
pub async fn publish(
    _: Operator,
    State(state): State<AppState>,
    PathParams(event_id): PathParams<String>,
    TraceParent(trace): TraceParent,
) -> Result<Json<EventAnswer>, ApiError> {
    let event: EventId = parse_path(&event_id, "event_id")?;
    let outcome = state.catalog.publish(event, trace).await?;
    Ok(Json(outcome.into()))
}

#[tracing::instrument(skip(state, trace), fields(event_id = %event_id))]
pub async fn close(
    _: Operator,
    State(state): State<AppState>,
    PathParams(event_id): PathParams<String>,
    TraceParent(trace): TraceParent,
) -> Result<Json<EventAnswer>, ApiError> {
    let event: EventId = parse_path(&event_id, "event_id")?;
    let outcome = state.catalog.close(event, trace).await?;
    Ok(Json(outcome.into()))
}

/// `202`: the event is cancelled and no longer sells; its orders are settled by the cancellation
/// reactor (see `crate::cancellation`).
#[tracing::instrument(skip(state, trace), fields(event_id = %event_id))]
pub async fn cancel(
    _: Operator,
    State(state): State<AppState>,
    PathParams(event_id): PathParams<String>,
    TraceParent(trace): TraceParent,
) -> Result<(StatusCode, Json<EventAnswer>), ApiError> {
    let event: EventId = parse_path(&event_id, "event_id")?;
    let outcome = state.catalog.cancel(event, trace).await?;
    Ok((StatusCode::ACCEPTED, Json(outcome.into())))
}
