//! The HTTP interface of `../../shared/API.md` ("Waiting room"): thin handlers over [`Places`]
//! and the folded rooms.

mod error;
mod ops;
mod queue;
mod stream;

use crate::limits::JoinLimits;
use crate::places::Places;
use crate::rooms::Rooms;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use tokio::sync::watch;
use tv_nats::EventStore;

/// What handlers share.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    pub store: EventStore,
    pub places: Places,
    pub rooms: Arc<Rooms>,
    pub key: auth::AdmissionKey,
    pub limits: JoinLimits,
    /// True once the service is stopping: open streams end.
    pub stopping: watch::Receiver<bool>,
}

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The routes of the waiting room. Every route is bounded by `deadlines` but the queue stream,
/// which stays open as long as its customer follows it and is merged in after the bound.
pub fn router(state: AppState, verifier: auth::Verifier, deadlines: tv_kit::Deadlines) -> Router {
    let bounded = Router::new()
        .route(
            "/events/{event_id}/queue",
            post(queue::join).get(queue::counters),
        )
        .route("/events/{event_id}/queue/me", get(queue::me))
        .route("/events/{event_id}/queue/leave", post(queue::leave))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed);
    // A stream: open as long as the customer follows it, so no request deadline.
    let streams = Router::new().route("/events/{event_id}/queue/me/stream", get(stream::follow));
    deadlines
        .bound(bounded)
        .merge(streams)
        .layer(auth::layer(verifier))
        .layer(axum::middleware::from_fn(telemetry::propagation::http_span))
        .with_state(state)
}
