//! `POST /events/{id}/queue`, `GET …/queue/me`, `POST …/queue/leave` and the public
//! `GET /events/{id}/queue`.

use super::error::ApiError;
use super::AppState;
use crate::metrics::count_join;
use crate::rooms::Room;
use crate::view::{CountersView, QueueView};
use auth::{Identity, Role};
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::ids::{CustomerId, EventId};
use domain::Timestamp;
use std::net::SocketAddr;

/// The customer of the bearer token.
pub struct Customer(pub CustomerId);

impl<S: Send + Sync> FromRequestParts<S> for Customer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let identity = Identity::from_request_parts(parts, state).await?;
        identity.require(Role::Customer)?;
        CustomerId::parse(identity.subject())
            .map(Self)
            .map_err(|_| {
                ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "the token's subject is not a customer id (1 to 64 letters, digits and - _ . : @)",
            )
            })
    }
}

/// The `{event_id}` of the path.
pub struct Event(pub EventId);

impl<S: Send + Sync> FromRequestParts<S> for Event {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(text): Path<String> =
            Path::from_request_parts(parts, state)
                .await
                .map_err(|e: PathRejection| {
                    ApiError::new(StatusCode::BAD_REQUEST, "invalid_path", e.body_text())
                })?;
        text.parse().map(Self).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_event_id",
                "event_id must be a UUID",
            )
        })
    }
}

/// The customer's place at `now` as the API shows it.
pub(super) fn view(
    state: &AppState,
    room: &Room,
    customer: &CustomerId,
    now: Timestamp,
) -> Result<QueueView, ApiError> {
    let measured = room.rate();
    let (status, ttl) = room.read(|s| {
        let ttl = s.config().map_or(0, |c| c.admission_ttl_seconds());
        (s.status(customer, now, measured), ttl)
    });
    let status = status.ok_or(crate::places::QueueError::NotInQueue)?;
    Ok(QueueView::of(
        room.event(),
        customer,
        &status,
        now,
        &state.key,
        ttl,
    ))
}

pub async fn join(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Customer(customer): Customer,
    Event(event): Event,
) -> Result<Response, ApiError> {
    if let Err(wait) = state.limits.check(&customer, peer.ip()) {
        count_join("refused");
        return Err(ApiError::rate_limited(wait));
    }
    let now = Timestamp::now_utc();
    let (room, created) = state
        .places
        .join(
            event,
            &customer,
            now,
            telemetry::propagation::current_traceparent(),
        )
        .await?;
    count_join(if created { "created" } else { "existing" });
    let view = view(&state, &room, &customer, Timestamp::now_utc())?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)).into_response())
}

pub async fn me(
    State(state): State<AppState>,
    Customer(customer): Customer,
    Event(event): Event,
) -> Result<Json<QueueView>, ApiError> {
    let room = state.places.existing_room(event).await?;
    Ok(Json(view(&state, &room, &customer, Timestamp::now_utc())?))
}

pub async fn leave(
    State(state): State<AppState>,
    Customer(customer): Customer,
    Event(event): Event,
) -> Result<Json<QueueView>, ApiError> {
    let now = Timestamp::now_utc();
    let room = state
        .places
        .leave(
            event,
            &customer,
            now,
            telemetry::propagation::current_traceparent(),
        )
        .await?;
    Ok(Json(view(&state, &room, &customer, Timestamp::now_utc())?))
}

pub async fn counters(
    State(state): State<AppState>,
    Event(event): Event,
) -> Result<Json<CountersView>, ApiError> {
    let room = state.places.room(event).await?;
    let counters = room.read(|s| s.counters(Timestamp::now_utc()));
    Ok(Json(CountersView::of(event, &counters)))
}
