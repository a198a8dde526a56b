//! Read-your-writes: `?after=<STREAM>:<seq>`.
//!
//! The stream names the projection that must have reached the position (TV_CATALOG → catalog,
//! TV_INVENTORY → inventory, TV_ORDERS → orders). The wait ends as soon as either the notices
//! brought the caches there (answer from the caches) or PostgreSQL's checkpoint is there although
//! its notice has not arrived yet (answer with values loaded at or past the position). After the
//! bounded wait: 503 `not_caught_up`.

use crate::error::ApiError;
use crate::read::Projection;
use crate::AppState;
use std::time::Duration;
use tokio::time::Instant;
use tv_nats::{Position, Stream};

/// How often a waiting query looks at PostgreSQL's checkpoint when no notice arrives.
const POLL: Duration = Duration::from_millis(50);

impl AppState {
    /// Waits until `after` (if any) is reached; returns the lowest `as_of` a cached value of
    /// `reads` may have to be served (0: any coherent cached value will do).
    pub(crate) async fn wait_for(
        &self,
        after: Option<&str>,
        reads: Projection,
    ) -> Result<u64, ApiError> {
        let Some(after) = after else { return Ok(0) };
        let position: Position = after.parse().map_err(|_| {
            ApiError::bad_request(
                "invalid_position",
                "after must be <STREAM>:<sequence>, like TV_INVENTORY:42",
            )
        })?;
        let projection = match self.naming.stream_of(&position.stream) {
            Some(Stream::Catalog) => Projection::Catalog,
            Some(Stream::Inventory) => Projection::Inventory,
            Some(Stream::Orders) => Projection::Orders,
            Some(_) => {
                // A known stream that no projection folds (payments, timers).
                return Err(ApiError::NotCaughtUp {
                    position: position.to_string(),
                });
            }
            None => {
                return Err(ApiError::bad_request(
                    "invalid_position",
                    format!("{} is not a stream of this deployment", position.stream),
                ))
            }
        };
        let coherence = self.read.coherence(projection);
        let deadline = Instant::now() + self.config.after_wait();
        let started = Instant::now();
        let outcome = loop {
            let notified = coherence.notified();
            if coherence.covered() >= position.sequence {
                break Ok(0);
            }
            if self.read.checkpoint(projection).await? >= position.sequence {
                break Ok(if projection == reads {
                    position.sequence
                } else {
                    0
                });
            }
            let now = Instant::now();
            if now >= deadline {
                break Err(ApiError::NotCaughtUp {
                    position: position.to_string(),
                });
            }
            let _ = tokio::time::timeout(POLL.min(deadline - now), notified).await;
        };
        metrics::histogram!("tv_query_after_wait_seconds", "projection" => projection.as_str())
            .record(started.elapsed().as_secs_f64());
        outcome
    }
}
