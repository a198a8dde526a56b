//! Bounded waits on a cluster that is electing a leader.
//!
//! While a node is dead or frozen and the cluster elects new leaders, requests to the streams it
//! led are not answered. With the connection's request timeout (10 s) one unanswered request, and
//! the client's own re-creation of an ordered consumer after two missed heartbeats (30 s each),
//! stall a reader far longer than the election. Here each attempt waits at most [`ATTEMPT`] and is
//! made again until [`PATIENCE`] has passed, so a reader resumes as soon as the election is over.
//! Ordered consumers (replays and followers) are created so, and carry the same short timeout for
//! the client's own re-creations.

use crate::error::StoreError;
use crate::naming::Stream;
use crate::store::EventStore;
use async_nats::jetstream::consumer::pull::{Ordered, OrderedConfig};
use std::future::Future;
use std::time::{Duration, Instant};

/// How long one request waits for the cluster's answer.
pub(crate) const ATTEMPT: Duration = Duration::from_secs(2);
/// How long a request is made again before the caller gets the error: longer than an election.
pub(crate) const PATIENCE: Duration = Duration::from_secs(15);
/// The pause between two attempts.
const RETRY_PAUSE: Duration = Duration::from_millis(250);
/// How long a replay or a follower waits for a message it knows is stored before it gives up on
/// its consumer and creates another from where it stopped (its replica may have died).
pub(crate) const STALL: Duration = Duration::from_secs(3);

/// `attempt` until it succeeds, each try bounded by [`ATTEMPT`], for at most [`PATIENCE`]; then the
/// last error, as unavailable. `what` says what was being done, for the error and the log.
pub(crate) async fn patiently<T, E, F, Fut>(what: &str, mut attempt: F) -> Result<T, StoreError>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let error = match tokio::time::timeout(ATTEMPT, attempt()).await {
            Ok(Ok(value)) => {
                if attempts > 1 {
                    tracing::info!(
                        attempts,
                        waited_ms = started.elapsed().as_millis() as u64,
                        "{what}: done after a retry"
                    );
                }
                return Ok(value);
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no answer within {ATTEMPT:?}"),
        };
        if started.elapsed() >= PATIENCE {
            return Err(StoreError::Unavailable(format!(
                "{what}: still failing after {attempts} attempts in {:?} (is the NATS cluster \
                 electing a leader, or short of a majority?): {error}",
                started.elapsed()
            )));
        }
        tracing::debug!(attempts, %error, "{what}: trying again");
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

impl EventStore {
    /// An ordered consumer on `stream` with `config`, started, created [`patiently`]. `what`
    /// names the reader in errors ("a replay", "a follower").
    pub(crate) async fn ordered_messages(
        &self,
        stream: Stream,
        config: OrderedConfig,
        what: &str,
    ) -> Result<Ordered, StoreError> {
        let mut context = self.jetstream().clone();
        context.set_timeout(ATTEMPT);
        let name = self.naming().stream(stream);
        patiently(
            &format!("creating the consumer of {what} on {name}"),
            || {
                let (context, name, config) = (&context, &name, config.clone());
                async move {
                    let handle = context
                        .get_stream_no_info(name.clone())
                        .await
                        .map_err(|e| format!("opening the stream: {e}"))?;
                    let consumer = handle
                        .create_consumer(config)
                        .await
                        .map_err(|e| format!("creating the consumer: {e}"))?;
                    consumer
                        .messages()
                        .await
                        .map_err(|e| format!("starting the consumer: {e}"))
                }
            },
        )
        .await
    }
}
