//! The HTTP interface: thin handlers that parse at the edge, call one service and map the result.
//!
//! Every command needs a bearer token ([`caller`]): catalog commands and seat blocks an operator's, holds and
//! orders a customer's, whose subject is the customer they act for; a check-in a scanner's or an
//! operator's. The payment gateway's webhook
//! takes no token: its signature is its credential ([`payments`]). Commands are rate-limited per
//! client address and per token subject ([`rate`]).

mod blocks;
mod caller;
mod error;
mod events;
mod extract;
mod holds;
mod ops;
mod orders;
mod payments;
mod presales;
pub mod rate;
mod tickets;
mod waitlist;

pub use error::ApiError;

use crate::catalog::Catalog;
use crate::inventory::Inventories;
use crate::orders::Orders;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tv_nats::EventStore;

/// The largest command body: an event with many sections, rows and prices fits with room to spare.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What handlers share: one allocation, cloned per request as a pointer.
#[derive(Clone)]
pub struct AppState(std::sync::Arc<Services>);

/// The services behind the handlers.
pub struct Services {
    pub store: EventStore,
    pub catalog: Catalog,
    pub inventories: Inventories,
    pub orders: Orders,
    /// Verifies the `Admission` header of holds; `None` when no admission key is configured.
    pub admission: Option<auth::AdmissionKey>,
    /// Takes the payment gateway's signed webhook requests.
    pub webhook: crate::payments::PaymentWebhook,
    /// Checks tickets in at the gate.
    pub tickets: crate::tickets::Tickets,
    /// The server's ticket secret: it also keys the hashes of presales' access codes.
    pub ticket_key: domain::ordering::TicketKey,
}

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(std::sync::Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The routes of command-svc. Every command (a `POST`) passes the per-client rate limits
/// ([`rate`]) before its handler; every route is bounded by `deadlines` (none is a stream).
pub fn router(
    state: AppState,
    verifier: auth::Verifier,
    limits: rate::CommandLimits,
    deadlines: tv_kit::Deadlines,
) -> Router {
    let commands = Router::new()
        .route("/events", post(events::create))
        .route("/events/{event_id}/publish", post(events::publish))
        .route("/events/{event_id}/close", post(events::close))
        .route("/events/{event_id}/cancel", post(events::cancel))
        .route(
            "/events/{event_id}/presales/{presale_id}/codes",
            post(presales::load_codes),
        )
        .route("/events/{event_id}/blocks", post(blocks::block))
        .route("/blocks/{block_id}/release", post(blocks::release))
        .route("/events/{event_id}/holds", post(holds::place))
        .route("/holds/{hold_id}/release", post(holds::release))
        .route("/events/{event_id}/waitlist", post(waitlist::join))
        .route("/waitlist/{waitlist_id}/leave", post(waitlist::leave))
        .route("/orders", post(orders::place))
        .route("/orders/{order_id}/cancel", post(orders::cancel))
        .route("/payments/webhook", post(payments::webhook))
        .route("/tickets/{code}/check-in", post(tickets::check_in))
        .route_layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(limits),
            rate::limit,
        ));
    let operations = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi));
    deadlines
        .bound(
            commands
                .merge(operations)
                .fallback(ops::not_found)
                .method_not_allowed_fallback(ops::method_not_allowed),
        )
        .layer(auth::layer(verifier))
        .layer(axum::middleware::from_fn(telemetry::propagation::http_span))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
