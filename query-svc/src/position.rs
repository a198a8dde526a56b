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
//!
//! What a waiting query costs is bounded: a position past the end of its stream is `400
//! position_ahead` at once (it could only wait out the whole bound); PostgreSQL and the stream are
//! read once on entry and once more at the deadline, and in between the query sleeps on its
//! shard's notice signal ([`crate::read::Coherence::notified`]); at most `TV_QUERY_MAX_WAITERS`
//! queries wait at once, and one more is `503 not_caught_up` with `Retry-After` at once.
use crate::error::ApiError;
use crate::read::{event_shard, Projection};
use crate::AppState;
use std::sync::atomic::Ordering;
use tokio::time::Instant;
use tv_nats::{Position, Stream};
use uuid::Uuid;

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
        let covered = |shard: &u16| self.read.coherence(projection, *shard).covered() >= target;
        if shards.iter().all(covered) {
            return Ok(0);
        }
        let started = Instant::now();
        let outcome = self
            .wait_until_reached(projection, &shards, &position)
            .await
            .map(|min_as_of| if projection == reads { min_as_of } else { 0 });
        metrics::histogram!("tv_query_after_wait_seconds", "projection" => projection.as_str())
            .record(started.elapsed().as_secs_f64());
        outcome
    }

    /// The wait itself, for a position not yet covered by the notices: the lowest `as_of` of
    /// `projection` that the answer needs.
    async fn wait_until_reached(
        &self,
        projection: Projection,
        shards: &[u16],
        position: &Position,
    ) -> Result<u64, ApiError> {
        let target = position.sequence;
        let not_caught_up = || ApiError::NotCaughtUp {
            position: position.to_string(),
        };
        // The stream's end only grows: read it again only for a position past the highest seen.
        let seen = &self.stream_ends[projection as usize];
        if target > seen.load(Ordering::Acquire) {
            let end = self
                .store
                .last_sequence(projection.stream())
                .await
                .map_err(|e| ApiError::Unavailable(format!("reading the event stream: {e}")))?;
            seen.fetch_max(end, Ordering::AcqRel);
            if target > end {
                return Err(ApiError::PositionAhead {
                    position: position.to_string(),
                    end,
                });
            }
        }
        let deadline = Instant::now() + self.config.after_wait();
        let mut min_as_of = 0;
        let mut waiting = Vec::new();
        for shard in shards {
            match self.reached(projection, *shard, target).await? {
                Some(as_of) => min_as_of = min_as_of.max(as_of),
                None => waiting.push(*shard),
            }
        }
        if waiting.is_empty() {
            return Ok(min_as_of);
        }
        let Ok(_permit) = self.waiters.try_acquire() else {
            metrics::counter!("tv_query_after_refused_total", "projection" => projection.as_str())
                .increment(1);
            return Err(not_caught_up());
        };
        let mut late = Vec::new();
        for shard in waiting {
            if !self
                .notified_past(projection, shard, target, deadline)
                .await
            {
                late.push(shard);
            }
        }
        // At the deadline, PostgreSQL once more: its notice may have been lost.
        for shard in late {
            match self.reached(projection, shard, target).await? {
                Some(as_of) => min_as_of = min_as_of.max(as_of),
                None => return Err(not_caught_up()),
            }
        }
        Ok(min_as_of)
    }

    /// Sleeps on the shard's notice signal until the notices cover `target` (true) or until the
    /// deadline (false). No PostgreSQL, no NATS: a waiter costs a timer and a registration.
    async fn notified_past(
        &self,
        projection: Projection,
        shard: u16,
        target: u64,
        deadline: Instant,
    ) -> bool {
        let coherence = self.read.coherence(projection, shard);
        loop {
            // Registered before the check, so that no notice falls in between.
            let notified = coherence.notified();
            if coherence.covered() >= target {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return coherence.covered() >= target;
            }
        }
    }

    /// Whether shard `shard` of `projection` is at `target` (the stream being known to have
    /// reached it): `Some(0)` when the notices covered it, `Some(as_of)` when PostgreSQL is there
    /// (values at or past `as_of` are exact as of `target`), `None` when it must still be waited for.
    async fn reached(
        &self,
        projection: Projection,
        shard: u16,
        target: u64,
    ) -> Result<Option<u64>, ApiError> {
        if self.read.coherence(projection, shard).covered() >= target {
            return Ok(Some(0));
        }
        let checkpoint = self.read.checkpoint(projection, shard).await?;
        if checkpoint >= target {
            return Ok(Some(target));
        }
        if projection.shards() > 1
            && self
                .idle_until(projection, shard, checkpoint, target)
                .await?
        {
            return Ok(Some(checkpoint));
        }
        Ok(None)
    }

    /// True when shard `shard` of `projection` has no commit between `checkpoint` and `target`
    /// (the stream being past `target`, none can come): applied up to `checkpoint`, it is exact as
    /// of `target`.
    async fn idle_until(
        &self,
        projection: Projection,
        shard: u16,
        checkpoint: u64,
        target: u64,
    ) -> Result<bool, ApiError> {
        let stream = projection.stream();
        let filter = self.naming.shard_wildcard(stream, shard);
        let next = self
            .store
            .first_matching_after(stream, &filter, checkpoint)
            .await
            .map_err(|e| ApiError::Unavailable(format!("reading the event stream: {e}")))?;
        Ok(next.is_none_or(|(sequence, _)| sequence > target))
    }
}
