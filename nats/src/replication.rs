//! The streams' replication as the services' `/readyz` reports it: each stream's configured replica
//! count and how many of its replicas are current, against the count `TV_STREAM_REPLICAS` asks
//! for.
//!
//! A stream configured with fewer replicas than asked (one created as R1 on a cluster, say) makes
//! the service not ready: it runs, but a single node's loss would lose acknowledged facts, which an
//! operator must hear about before the sale, not after. A replica that is down or behind does not:
//! the quorum still serves, and taking every instance out of rotation for one lost node would turn
//! a survivable fault into an outage; it is shown in the body for the operator.

use crate::error::StoreError;
use crate::naming::Stream;
use crate::store::EventStore;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How long a reading is reused: probes of several instances and tests that poll `/readyz` must
/// not turn into a stream-info request storm.
const FRESH_FOR: Duration = Duration::from_secs(2);
/// The longest a reading may take; JetStream answering slower than this is itself not ready.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// One stream's replication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamReplicas {
    pub stream: String,
    /// The replica count in the stream's configuration (0 when the stream is missing).
    pub replicas: usize,
    /// Replicas that are current: the leader and every follower that has caught up.
    pub current: usize,
    /// The server leading the stream, when it has a leader.
    pub leader: Option<String>,
}

/// Every stream's replication against the wanted replica count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replication {
    pub wanted: usize,
    pub streams: Vec<StreamReplicas>,
}

impl Replication {
    /// The streams configured with fewer replicas than wanted.
    pub fn short(&self) -> Vec<&StreamReplicas> {
        self.streams
            .iter()
            .filter(|s| s.replicas < self.wanted)
            .collect()
    }

    /// Every stream has at least the wanted replica count.
    pub fn is_ready(&self) -> bool {
        self.short().is_empty()
    }

    /// The reading as `/readyz` shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "wanted": self.wanted,
            "meets_wanted": self.is_ready(),
            "streams": self.streams.iter().map(|s| json!({
                "stream": s.stream,
                "replicas": s.replicas,
                "current": s.current,
                "leader": s.leader,
            })).collect::<Vec<_>>(),
        })
    }

    /// Why the service is not ready, in words; `None` when it is.
    pub fn problem(&self) -> Option<String> {
        let short = self.short();
        (!short.is_empty()).then(|| {
            let names: Vec<String> = short
                .iter()
                .map(|s| format!("{} has {}", s.stream, s.replicas))
                .collect();
            format!(
                "streams with fewer replicas than TV_STREAM_REPLICAS={}: {}; run tv-provision \
                 with it to raise them",
                self.wanted,
                names.join(", ")
            )
        })
    }
}

impl EventStore {
    /// Every stream's replication (a reading at most two seconds old).
    pub async fn replication(&self) -> Result<Replication, StoreError> {
        let mut cached = self.replication_cache.lock().await;
        if let Some((at, reading)) = cached.as_ref() {
            if at.elapsed() < FRESH_FOR {
                return Ok(reading.clone());
            }
        }
        let reading = tokio::time::timeout(READ_TIMEOUT, self.read_replication())
            .await
            .map_err(|_| {
                StoreError::Unavailable(format!(
                    "reading the streams' replication took over {READ_TIMEOUT:?}"
                ))
            })??;
        *cached = Some((Instant::now(), reading.clone()));
        Ok(reading)
    }

    /// For `/readyz`: whether every stream has the wanted replica count, and the reading to show
    /// (or why there is none).
    pub async fn replication_readiness(&self) -> (bool, Value) {
        let wanted = self.stream_settings().replicas;
        if !self.is_connected() {
            return (
                false,
                json!({ "wanted": wanted, "error": "NATS is not connected" }),
            );
        }
        match self.replication().await {
            Ok(reading) => {
                let mut shown = reading.to_json();
                if let Some(problem) = reading.problem() {
                    shown["problem"] = json!(problem);
                }
                (reading.is_ready(), shown)
            }
            Err(e) => (false, json!({ "wanted": wanted, "error": e.to_string() })),
        }
    }

    async fn read_replication(&self) -> Result<Replication, StoreError> {
        let mut streams = Vec::with_capacity(Stream::ALL.len());
        for stream in Stream::ALL {
            let name = self.naming().stream(stream);
            let info = match self.jetstream().get_stream(&name).await {
                Ok(mut handle) => Some(
                    handle
                        .info()
                        .await
                        .map_err(|e| StoreError::other("reading stream info", e))?
                        .clone(),
                ),
                Err(e) if is_not_found(&e) => None,
                Err(e) => return Err(StoreError::other("reading stream info", e)),
            };
            streams.push(match info {
                None => StreamReplicas {
                    stream: name,
                    replicas: 0,
                    current: 0,
                    leader: None,
                },
                Some(info) => {
                    let cluster = info.cluster.as_ref();
                    let leader = cluster.and_then(|c| c.leader.clone());
                    let followers_current = cluster
                        .map(|c| c.replicas.iter().filter(|p| p.current).count())
                        .unwrap_or(0);
                    StreamReplicas {
                        stream: name,
                        replicas: info.config.num_replicas,
                        // A single server has no cluster section: the one copy is current.
                        current: match cluster {
                            Some(_) => usize::from(leader.is_some()) + followers_current,
                            None => 1,
                        },
                        leader,
                    }
                }
            });
        }
        Ok(Replication {
            wanted: self.stream_settings().replicas,
            streams,
        })
    }
}

fn is_not_found(error: &async_nats::jetstream::context::GetStreamError) -> bool {
    use async_nats::jetstream::context::GetStreamErrorKind;
    matches!(
        error.kind(),
        GetStreamErrorKind::JetStream(e) if e.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(name: &str, replicas: usize) -> StreamReplicas {
        StreamReplicas {
            stream: name.into(),
            replicas,
            current: replicas,
            leader: None,
        }
    }

    #[test]
    fn a_stream_with_fewer_replicas_than_wanted_is_not_ready() {
        let reading = Replication {
            wanted: 3,
            streams: vec![stream("TV_CATALOG", 3), stream("TV_INVENTORY", 1)],
        };
        assert!(!reading.is_ready());
        let problem = reading.problem().unwrap();
        assert!(problem.contains("TV_INVENTORY has 1"), "{problem}");
        assert!(!problem.contains("TV_CATALOG"), "{problem}");
        assert_eq!(reading.to_json()["meets_wanted"], false);

        let more = Replication {
            wanted: 1,
            streams: vec![stream("TV_CATALOG", 3)],
        };
        assert!(more.is_ready() && more.problem().is_none());
    }
}
