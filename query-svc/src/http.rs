//! The HTTP surface: routes, thin handlers, and the notice follower (request spans and metrics come
//! from the shared telemetry middleware). A read starts a span only when its caller is tracing
//! (`http_span_when_traced`); the handlers' own spans are at debug level, off unless `RUST_LOG`
//! asks for them, for the same reason: a span costs more than a cached read.

use crate::error::ApiError;
use crate::extract::{AfterQuery, ListParams, MaybeIdentity, PathParams, QueryParams};
use crate::notice::Notice;
use crate::read::{Projection, SeatMap};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::ids::{CustomerId, SectionId};
use futures::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

type Shared = Arc<AppState>;

const JSON: axum::http::HeaderValue = axum::http::HeaderValue::from_static("application/json");

/// The routes of query-svc, every one bounded by `deadlines` (time to the answer's head). A
/// stream route (server-sent events) must be merged in after the bounded ones, never inside them.
pub(crate) fn router(
    state: Shared,
    verifier: auth::Verifier,
    deadlines: tv_kit::Deadlines,
) -> Router {
    let bounded = Router::new()
        .route("/events", get(list_events))
        .route("/events/{event_id}", get(event_detail))
        .route("/events/{event_id}/availability", get(availability))
        .route("/events/{event_id}/report", get(crate::report::report))
        .route("/events/{event_id}/sections/{section_id}/seats", get(seats))
        .route("/holds/{hold_id}", get(hold))
        .route("/waitlist/{waitlist_id}", get(crate::waitlist::entry))
        .route("/orders/{order_id}", get(order))
        .route("/customers/{customer_id}/orders", get(customer_orders))
        .route("/customers/{customer_id}/holds", get(customer_holds))
        .route("/tickets/{code}", get(crate::tickets::ticket))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(openapi))
        .merge(crate::web::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    // Live streams answer their head at once and then stay open: no deadline past the head.
    let streams = Router::new()
        .route(
            "/events/{event_id}/availability/stream",
            get(crate::live::availability_stream),
        )
        .route(
            "/events/{event_id}/sections/{section_id}/seats/stream",
            get(crate::live::seats_stream),
        );
    deadlines
        .bound(bounded)
        .merge(streams)
        .layer(auth::layer(verifier))
        .layer(middleware::from_fn(
            telemetry::propagation::http_span_when_traced,
        ))
        .with_state(state)
}

/// Applies change notices in arrival order, for as long as the subscription lives.
pub(crate) async fn follow_notices(state: Shared, mut subscription: async_nats::Subscriber) {
    while let Some(message) = subscription.next().await {
        match serde_json::from_slice::<Notice>(&message.payload) {
            Ok(notice) => {
                // Read before the notice is consumed; the streams look after the caches moved.
                let events: Vec<Uuid> = notice.availability.iter().map(|r| r.event_id).collect();
                let dropped = state.read.apply_notice(notice).await;
                state.live.touched(events, dropped);
            }
            Err(e) => {
                tracing::warn!(subject = %message.subject, error = %e, "unreadable change notice")
            }
        }
    }
    tracing::warn!("change notice subscription ended");
}

fn parse_uuid(text: &str, what: &'static str, code: &'static str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(text).map_err(|_| ApiError::bad_request(code, format!("{what} must be a UUID")))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Published events to everyone; `?status=draft` to an operator only. The answer is the array of
/// the contract; a next page is announced by `Link: <…>; rel="next"`.
#[tracing::instrument(level = "debug", skip(state, caller))]
async fn list_events(
    State(state): State<Shared>,
    caller: MaybeIdentity,
    QueryParams(q): QueryParams<ListParams>,
) -> Result<Response, ApiError> {
    let request = crate::listing::ListRequest::parse(&q)?;
    if request.needs_operator() {
        caller.0?.require(auth::Role::Operator)?;
    }
    let min_as_of = state
        .wait_for(q.after.as_deref(), Projection::Catalog, None)
        .await?;
    let page = state
        .read
        .events_page(request.listing, request.cursor, request.limit, min_as_of)
        .await?;
    let mut response = Json(&page.events).into_response();
    if let Some(next) = page.next {
        response
            .headers_mut()
            .insert(header::LINK, request.next_link(next));
    }
    Ok(response)
}

#[tracing::instrument(level = "debug", skip(state))]
async fn event_detail(
    State(state): State<Shared>,
    PathParams(event_id): PathParams<String>,
    QueryParams(q): AfterQuery,
) -> Result<Response, ApiError> {
    let event_id = parse_uuid(&event_id, "event_id", "invalid_event_id")?;
    let min_as_of = state
        .wait_for(q.after.as_deref(), Projection::Catalog, Some(event_id))
        .await?;
    let event = state
        .read
        .event(event_id, min_as_of)
        .await?
        .ok_or_else(|| ApiError::not_found("unknown_event", "no event with this id"))?;
    Ok(Json(&*event).into_response())
}

#[tracing::instrument(level = "debug", skip(state))]
async fn availability(
    State(state): State<Shared>,
    PathParams(event_id): PathParams<String>,
    QueryParams(q): AfterQuery,
) -> Result<Response, ApiError> {
    let event_id = parse_uuid(&event_id, "event_id", "invalid_event_id")?;
    let min_as_of = state
        .wait_for(q.after.as_deref(), Projection::Inventory, Some(event_id))
        .await?;
    // The hot path: the cached state's answer, serialized once.
    if let Some(sections) = state.read.sections(event_id, min_as_of).await? {
        if let Some(answer) = sections.answer_at(event_id, OffsetDateTime::now_utc()) {
            return Ok(([(header::CONTENT_TYPE, JSON)], answer).into_response());
        }
    }
    let computed = crate::availability::current(&state, event_id, min_as_of).await?;
    Ok(Json(computed.body).into_response())
}

#[derive(Serialize)]
struct SeatBody {
    seat: String,
    status: &'static str,
}

#[tracing::instrument(level = "debug", skip(state))]
async fn seats(
    State(state): State<Shared>,
    PathParams((event_id, section_id)): PathParams<(String, String)>,
    QueryParams(q): AfterQuery,
) -> Result<Response, ApiError> {
    let event_id = parse_uuid(&event_id, "event_id", "invalid_event_id")?;
    let section_id = SectionId::parse(&section_id)
        .map_err(|e| ApiError::bad_request("invalid_section_id", e.to_string()))?;
    let min_as_of = state
        .wait_for(q.after.as_deref(), Projection::Inventory, Some(event_id))
        .await?;
    let Some(map) = state
        .read
        .seat_map(event_id, &section_id, min_as_of)
        .await?
    else {
        return no_seat_map(&state, event_id).await;
    };
    Ok(Json(seat_statuses(&map, OffsetDateTime::now_utc())).into_response())
}

/// The answer when a section has no seat map: `404 unknown_section` if the event is known,
/// `404 unknown_event` if not.
pub(crate) async fn no_seat_map<T>(state: &AppState, event_id: Uuid) -> Result<T, ApiError> {
    let known = state.read.sections(event_id, 0).await?.is_some()
        || state.read.event(event_id, 0).await?.is_some();
    Err(if known {
        ApiError::not_found("unknown_section", "the event has no section with this id")
    } else {
        ApiError::not_found("unknown_event", "no event with this id")
    })
}

/// Seat statuses at `now`: a seat whose hold has passed its `expires_at` is available again.
fn seat_statuses(map: &SeatMap, now: OffsetDateTime) -> Vec<SeatBody> {
    map.seats
        .iter()
        .map(|s| SeatBody {
            seat: s.seat.to_string(),
            status: s.status_at(now).as_str(),
        })
        .collect()
}

/// The token is checked first: without one, not even the id's shape is told.
#[tracing::instrument(level = "debug", skip(caller, state))]
async fn hold(
    caller: Caller,
    State(state): State<Shared>,
    PathParams(hold_id): PathParams<String>,
    QueryParams(q): AfterQuery,
) -> Result<Response, ApiError> {
    let event_id = hold_id
        .split_once('.')
        .filter(|(_, h)| Uuid::try_parse(h).is_ok())
        .and_then(|(e, _)| Uuid::try_parse(e).ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_hold_id",
                "hold_id must be <event uuid>.<hold uuid>",
            )
        })?;
    let min_as_of = state
        .wait_for(q.after.as_deref(), Projection::Inventory, Some(event_id))
        .await?;
    // Someone else's hold is answered exactly as one that does not exist.
    let hold = state
        .read
        .hold(&hold_id, min_as_of)
        .await?
        .filter(|hold| caller.may_read(hold.customer_id.as_str()))
        .ok_or_else(|| ApiError::not_found("unknown_hold", "no hold with this id"))?;
    Ok(Json(hold_body(&hold, OffsetDateTime::now_utc())).into_response())
}

/// A hold as the API answers it at `now`.
fn hold_body(hold: &crate::read::HoldRow, now: OffsetDateTime) -> Value {
    // Lazy expiry: past expires_at a pending hold (active, or ordered by an order that did not
    // pay in time) is expired, whether or not HoldExpired is in (read_model::status).
    let status = hold.status_at(now).api_word();
    let seats: Vec<String> = hold.seats.iter().map(ToString::to_string).collect();
    json!({
        "hold_id": hold.hold_id.to_string(),
        "event_id": hold.event_id.as_uuid(),
        "section_id": hold.section_id.as_str(),
        "customer_id": hold.customer_id.as_str(),
        "status": status,
        "seats": seats,
        "quantity": hold.quantity,
        "expires_at": rfc3339(hold.expires_at),
        "order_id": hold.order_id.map(|o| o.as_uuid()),
        "version": hold.version,
    })
}

#[tracing::instrument(level = "debug", skip(caller, state))]
async fn order(
    caller: Caller,
    State(state): State<Shared>,
    PathParams(order_id): PathParams<String>,
    QueryParams(q): AfterQuery,
) -> Result<Response, ApiError> {
    let order_id = parse_uuid(&order_id, "order_id", "invalid_order_id")?;
    // Orders are read straight from PostgreSQL: only the position wait applies.
    state
        .wait_for(q.after.as_deref(), Projection::Orders, None)
        .await?;
    let order = state
        .read
        .order(order_id)
        .await?
        .filter(|order| caller.may_read(&order.customer_id))
        .ok_or_else(|| ApiError::not_found("unknown_order", "no order with this id"))?;
    Ok(Json(order).into_response())
}

/// The customer a path names, if the caller may read that customer's orders and holds (the
/// customer or an operator). Refused for every other customer id, known or not: it tells nothing.
fn readable_customer(caller: &Caller, customer_id: &str) -> Result<CustomerId, ApiError> {
    let customer_id = CustomerId::parse(customer_id)
        .map_err(|e| ApiError::bad_request("invalid_customer_id", e.to_string()))?;
    if !caller.may_read(customer_id.as_str()) {
        return Err(auth::AuthError::Forbidden {
            needed: auth::Role::Operator,
        }
        .into());
    }
    Ok(customer_id)
}

#[tracing::instrument(level = "debug", skip(caller, state))]
async fn customer_orders(
    caller: Caller,
    State(state): State<Shared>,
    PathParams(customer_id): PathParams<String>,
    QueryParams(q): AfterQuery,
) -> Result<Response, ApiError> {
    let customer_id = readable_customer(&caller, &customer_id)?;
    let customer_id = customer_id.as_str();
    state
        .wait_for(q.after.as_deref(), Projection::Orders, None)
        .await?;
    let orders = state.read.customer_orders(customer_id).await?;
    Ok(Json(orders).into_response())
}

/// A customer's holds, newest first, to that customer or an operator (as their orders).
#[tracing::instrument(level = "debug", skip(caller, state))]
async fn customer_holds(
    caller: Caller,
    State(state): State<Shared>,
    PathParams(customer_id): PathParams<String>,
    QueryParams(q): AfterQuery,
) -> Result<Response, ApiError> {
    let customer_id = readable_customer(&caller, &customer_id)?;
    let customer_id = customer_id.as_str();
    state
        .wait_for(q.after.as_deref(), Projection::Inventory, None)
        .await?;
    let now = OffsetDateTime::now_utc();
    let holds: Vec<Value> = state
        .read
        .customer_holds(customer_id)
        .await?
        .iter()
        .map(|hold| hold_body(hold, now))
        .collect();
    Ok(Json(holds).into_response())
}

async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// Ready when PostgreSQL answers (and has the read models), NATS is connected, every stream has the
/// replica count `TV_STREAM_REPLICAS` asks for, and no projection
/// has an unapplied commit older than `TV_READY_MAX_LAG_MS` (the lag, per projection, is in the
/// body either way).
async fn readyz(State(state): State<Shared>) -> Response {
    let nats = state.store.is_connected();
    let lags = tokio::time::timeout(Duration::from_secs(2), projection_lags(&state)).await;
    let (postgres, lags) = match lags {
        Ok(Ok(lags)) => (true, lags),
        Ok(Err(LagError::Store(e))) => {
            tracing::warn!(error = %e, "readyz: reading the streams failed");
            (true, serde_json::Map::new())
        }
        _ => (false, serde_json::Map::new()),
    };
    let max_lag = state.config.ready_max_lag();
    let behind: Vec<&str> = lags
        .iter()
        .filter(|(_, lag)| {
            lag["lag_ms"]
                .as_u64()
                .is_none_or(|ms| ms > max_lag.as_millis() as u64)
        })
        .map(|(name, _)| name.as_str())
        .collect();
    let (replicated, replication) = state.store.replication_readiness().await;
    let caught_up =
        nats && postgres && replicated && lags.len() == Projection::ALL.len() && behind.is_empty();
    let details = json!({
        "nats": if nats { "connected" } else { "disconnected" },
        "postgres": if postgres { "reachable" } else { "unreachable" },
        "max_lag_ms": max_lag.as_millis() as u64,
        "projections": lags,
        "replication": replication,
    });
    if caught_up {
        let mut body = details;
        body["status"] = json!("ready");
        Json(body).into_response()
    } else {
        let message = match (nats, postgres) {
            (false, false) => "NATS is not connected and PostgreSQL is unreachable".to_owned(),
            (false, true) => "NATS is not connected".to_owned(),
            (true, false) => "PostgreSQL is unreachable or has no read models yet".to_owned(),
            (true, true) if !replicated => match replication["problem"].as_str() {
                Some(problem) => problem.to_owned(),
                None => "the streams' replication could not be read".to_owned(),
            },
            (true, true) if behind.is_empty() => "the event streams could not be read".to_owned(),
            (true, true) => format!(
                "projections behind their streams by more than {} ms: {}",
                max_lag.as_millis(),
                behind.join(", ")
            ),
        };
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "error": {"code": "not_ready", "message": message},
                "status": "not_ready",
                "details": details,
            })),
        )
            .into_response()
    }
}

enum LagError {
    Postgres,
    Store(tv_nats::StoreError),
}

/// Per projection: its lowest shard checkpoint and the age of its oldest commit not yet applied
/// in PostgreSQL (the stream's first commit of each shard after the shard's checkpoint).
async fn projection_lags(state: &AppState) -> Result<serde_json::Map<String, Value>, LagError> {
    let now = OffsetDateTime::now_utc();
    let mut lags = serde_json::Map::new();
    for projection in Projection::ALL {
        let checkpoints = state
            .read
            .checkpoints(projection)
            .await
            .map_err(|_| LagError::Postgres)?;
        if checkpoints.is_empty() {
            return Err(LagError::Postgres);
        }
        let stream = projection.stream();
        let firsts =
            futures::future::try_join_all(checkpoints.iter().map(|(shard, checkpoint)| {
                let filter = state.naming.shard_wildcard(stream, *shard);
                async move {
                    state
                        .store
                        .first_matching_after(stream, &filter, *checkpoint)
                        .await
                }
            }))
            .await
            .map_err(LagError::Store)?;
        let oldest = firsts
            .iter()
            .flatten()
            .min_by_key(|(sequence, _)| *sequence);
        let lag_ms = oldest.map_or(0, |(_, stored)| {
            (now - *stored).whole_milliseconds().max(0) as u64
        });
        lags.insert(
            projection.as_str().to_owned(),
            json!({
                "lag_ms": lag_ms,
                "checkpoint": checkpoints.iter().map(|(_, c)| *c).min(),
                "oldest_unapplied": oldest.map(|(sequence, _)| *sequence),
            }),
        );
    }
    Ok(lags)
}

async fn metrics_text(State(state): State<Shared>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.prometheus.render(),
    )
        .into_response()
}

async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such route")
}

/// The caller of a read of holds and orders: a valid bearer token with the customer or the
/// operator role.
pub(crate) struct Caller(auth::Identity);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let identity = auth::Identity::from_request_parts(parts, state).await?;
        if !identity.has(auth::Role::Operator) {
            identity.require(auth::Role::Customer)?;
        }
        Ok(Self(identity))
    }
}

impl Caller {
    /// Whether the caller may read what belongs to `owner`: that customer, or an operator.
    pub(crate) fn may_read(&self, owner: &str) -> bool {
        self.0.may_read_customer(owner)
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
