//! The projector's operations endpoints: `/healthz` (alive), `/readyz` (NATS connected, the
//! streams replicated as `TV_STREAM_REPLICAS` asks, PostgreSQL answering, and every projection this instance runs caught up within a bound) and
//! `/metrics` (batch sizes, projection lag, checkpoints).
//!
//! "Caught up" is measured in time, not in commits: the oldest commit of the instance's shards not
//! yet applied must be younger than `TV_READY_MAX_LAG_MS`. A count of commits means nothing
//! without the rate (500 commits are 0.1 s of a flash sale and an hour of a quiet day), while the
//! age of the oldest unapplied commit is exactly how stale a read of it can be.

use crate::lag::shard_lags;
use crate::projection::ProjectionName;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use deadpool_postgres::Pool;
use serde_json::{json, Map, Value};
use std::time::Duration;
use tv_nats::EventStore;

#[derive(Clone)]
pub(crate) struct Ops {
    pub store: EventStore,
    pub pool: Pool,
    /// The projections this instance runs, each with the shards it applies.
    pub runs: Vec<(ProjectionName, Vec<u16>)>,
    /// The oldest an unapplied commit may be for the instance to be ready.
    pub max_lag: Duration,
}

pub(crate) fn router(ops: Ops) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

async fn readyz(State(ops): State<Ops>) -> Response {
    let nats = ops.store.is_connected();
    let client = match ops.pool.get().await {
        Ok(client) if client.simple_query("select 1").await.is_ok() => Some(client),
        _ => None,
    };
    let mut projections = Map::new();
    let mut caught_up = true;
    if let (true, Some(client)) = (nats, &client) {
        let now = time::OffsetDateTime::now_utc();
        for (projection, shards) in &ops.runs {
            let lags = tokio::time::timeout(
                Duration::from_secs(2),
                shard_lags(&ops.store, client, *projection, shards),
            )
            .await;
            let entry = match lags {
                Ok(Ok(lags)) => {
                    let behind = lags.iter().map(|l| l.behind(now)).max().unwrap_or_default();
                    caught_up &= behind <= ops.max_lag;
                    json!({
                        "lag_ms": behind.as_millis() as u64,
                        "checkpoint": lags.iter().map(|l| l.checkpoint).min(),
                        "oldest_unapplied": lags.iter().filter_map(|l| l.oldest_unapplied.map(|(s, _)| s)).min(),
                        "shards": lags.iter().map(|l| l.shard).collect::<Vec<_>>(),
                    })
                }
                Ok(Err(e)) => {
                    caught_up = false;
                    json!({ "lag_ms": Value::Null, "error": e.to_string() })
                }
                Err(_) => {
                    caught_up = false;
                    json!({ "lag_ms": Value::Null, "error": "measuring the lag took over 2 s" })
                }
            };
            projections.insert(projection.as_str().to_owned(), entry);
        }
    }
    let (replicated, replication) = ops.store.replication_readiness().await;
    let ready = nats && client.is_some() && caught_up && replicated;
    let body = Json(json!({
        "status": if ready { "ready" } else { "not_ready" },
        "nats": if nats { "connected" } else { "disconnected" },
        "postgres": if client.is_some() { "reachable" } else { "unreachable" },
        "max_lag_ms": ops.max_lag.as_millis() as u64,
        "projections": projections,
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
        .into_response()
}
