//! The notifier's operations endpoints: `/healthz` (alive), `/readyz` (NATS connected, the
//! streams replicated as `TV_STREAM_REPLICAS` asks, and the outbox's PostgreSQL answering) and `/metrics` (notices written and skipped, consumer lag).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use deadpool_postgres::Pool;
use tv_nats::EventStore;

#[derive(Clone)]
pub(crate) struct Ops {
    pub store: EventStore,
    pub pool: Pool,
}

pub(crate) fn router(ops: Ops) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

async fn readyz(State(ops): State<Ops>) -> Response {
    let nats = ops.store.is_connected();
    let postgres = match ops.pool.get().await {
        Ok(client) => client.simple_query("select 1").await.is_ok(),
        Err(_) => false,
    };
    let (replicated, replication) = ops.store.replication_readiness().await;
    let ready = nats && postgres && replicated;
    let body = Json(serde_json::json!({
        "status": if ready { "ready" } else { "not_ready" },
        "nats": if nats { "connected" } else { "disconnected" },
        "postgres": if postgres { "reachable" } else { "unreachable" },
        "replication": replication,
    }));
    if ready {
        body.into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        telemetry::render_metrics(),
    )
}
