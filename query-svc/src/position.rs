//! Read-your-writes: `?after=<STREAM>:<seq>`.
//!
//! The stream names the projection that must have reached the position (TV_CATALOG → catalog,
//! TV_INVENTORY → inventory, TV_ORDERS → orders). The inventory projection is checkpointed per
//! shard and its partitions move independently, so a query about one event waits for that event's
//! shard only (a query about no event waits for every shard). For each shard waited on, the wait
//! ends as soon as either the notices brought the caches there (answer from the caches), or
//! PostgreSQL's checkpoint is there although its notice has not arrived yet (answer with values
//! loaded at or past the position), or the shard has no commit between its checkpoint and the
//! position (its partition may have nothing to move it with: answer with values loaded at or past
//! that checkpoint, which are exact as of the position). After the bounded wait: 503
//! `not_caught_up`.

use crate::error::ApiError;
use crate::read::{event_shard, Projection};
use crate::AppState;
use std::time::Duration;
use tokio::time::Instant;
use tv_nats::{Position, Stream};
use uuid::Uuid;

/// How often a waiting query looks at PostgreSQL's checkpoint when no notice arrives.
const POLL: Duration = Duration::from_millis(50);

impl AppState {
    /// Waits until `after` (if any) is reached for `event` (every shard when `None`); returns the
    /// lowest `as_of` a cached value of `reads` may have to be served (0: any coherent cached
    /// value will do).
    pub(crate) async fn wait_for(
        &self,
        after: Option<&str>,
        reads: Projection,
        event: Option<Uuid>,
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
        let shards: Vec<u16> = match (projection, event) {
            (Projection::Inventory, Some(event)) => vec![event_shard(event)],
            _ => (0..projection.shards()).collect(),
        };
        let target = position.sequence;
        let deadline = Instant::now() + self.config.after_wait();
        let started = Instant::now();
        let outcome = 'wait: loop {
            let mut min_as_of = 0;
            for shard in &shards {
                let coherence = self.read.coherence(projection, *shard);
                let notified = coherence.notified();
                if coherence.covered() >= target {
                    continue;
                }
                let checkpoint = self.read.checkpoint(projection, *shard).await?;
                if checkpoint >= target {
                    min_as_of = min_as_of.max(target);
                    continue;
                }
                if projection.shards() > 1
                    && self
                        .idle_until(projection, *shard, checkpoint, target)
                        .await?
                {
                    min_as_of = min_as_of.max(checkpoint);
                    continue;
                }
                let now = Instant::now();
                if now >= deadline {
                    break 'wait Err(ApiError::NotCaughtUp {
                        position: position.to_string(),
                    });
                }
                let _ = tokio::time::timeout(POLL.min(deadline - now), notified).await;
                continue 'wait;
            }
            break Ok(if projection == reads { min_as_of } else { 0 });
        };
        metrics::histogram!("tv_query_after_wait_seconds", "projection" => projection.as_str())
            .record(started.elapsed().as_secs_f64());
        outcome
    }

    /// True when shard `shard` of `projection` has no commit between `checkpoint` and `target`,
    /// and none can come (the stream is past `target`): applied up to `checkpoint`, it is exact as
    /// of `target`.
    async fn idle_until(
        &self,
        projection: Projection,
        shard: u16,
        checkpoint: u64,
        target: u64,
    ) -> Result<bool, ApiError> {
        let stream = projection.stream();
        let unavailable = |e| ApiError::Unavailable(format!("reading the event stream: {e}"));
        // Read first: once the stream has reached `target`, no later commit gets a sequence below.
        if self
            .store
            .last_sequence(stream)
            .await
            .map_err(unavailable)?
            < target
        {
            return Ok(false);
        }
        let filter = self.naming.shard_wildcard(stream, shard);
        let next = self
            .store
            .first_matching_after(stream, &filter, checkpoint)
            .await
            .map_err(unavailable)?;
        Ok(next.is_none_or(|(sequence, _)| sequence > target))
    }
}
