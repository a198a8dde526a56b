//! Following a whole stream live: an ordered consumer (ephemeral, in order, gap-free) from a
//! sequence or a time, yielding every commit as it is stored, with no end. For services that fold
//! a stream into memory and must see every commit in stream order.

use crate::envelope::RawCommit;
use crate::error::StoreError;
use crate::load::raw_commit;
use crate::naming::Stream;
use crate::patience::STALL;
use crate::store::EventStore;
use async_nats::jetstream::consumer::{pull::OrderedConfig, DeliverPolicy};
use futures::StreamExt;
use time::OffsetDateTime;

/// Where following starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowFrom {
    /// At this sequence (1: the beginning).
    Sequence(u64),
    /// At the first commit stored at or after this time.
    Time(OffsetDateTime),
}

/// A stream being followed.
pub struct Following {
    messages: async_nats::jetstream::consumer::pull::Ordered,
    /// The highest sequence passed on: a consumer re-created after a cluster leader change may
    /// deliver earlier commits again, which are skipped (see `load`).
    passed: u64,
    /// What re-creates the consumer when it stalls.
    store: EventStore,
    stream: Stream,
    filter: String,
}

impl EventStore {
    /// Follows every subject of `stream` from `from`.
    pub async fn follow(&self, stream: Stream, from: FollowFrom) -> Result<Following, StoreError> {
        self.follow_subject(stream, self.naming().wildcard(stream), from)
            .await
    }

    /// Follows the subjects of `stream` that `filter` matches (one aggregate's subject, or a
    /// wildcard), from `from`.
    pub async fn follow_subject(
        &self,
        stream: Stream,
        filter: String,
        from: FollowFrom,
    ) -> Result<Following, StoreError> {
        let deliver_policy = match from {
            FollowFrom::Sequence(start_sequence) => DeliverPolicy::ByStartSequence {
                start_sequence: start_sequence.max(1),
            },
            FollowFrom::Time(start_time) => DeliverPolicy::ByStartTime { start_time },
        };
        let messages = self
            .ordered_messages(
                stream,
                OrderedConfig {
                    filter_subject: filter.clone(),
                    deliver_policy,
                    ..OrderedConfig::default()
                },
                "a follower",
            )
            .await?;
        let passed = match from {
            FollowFrom::Sequence(start_sequence) => start_sequence.max(1) - 1,
            FollowFrom::Time(_) => 0,
        };
        Ok(Following {
            messages,
            passed,
            store: self.clone(),
            stream,
            filter,
        })
    }
}

impl Following {
    /// The next commit stored; an error when the consumer failed (follow again from the next
    /// sequence).
    ///
    /// A silence of [`STALL`] is normal for a follower, unless the stream holds a commit it has not
    /// delivered: then its consumer's replica is gone (a node died) and it is replaced by one from
    /// the next sequence, rather than after the client's two missed heartbeats (a minute).
    pub async fn next(&mut self) -> Result<RawCommit, StoreError> {
        loop {
            let commit = match tokio::time::timeout(STALL, self.messages.next()).await {
                Ok(Some(Ok(message))) => raw_commit(message)?,
                Ok(Some(Err(e))) => return Err(StoreError::other("following", e)),
                Ok(None) => return Err(StoreError::Other("the following consumer ended".into())),
                Err(_) => {
                    self.restart_if_stalled().await?;
                    continue;
                }
            };
            if commit.sequence > self.passed {
                self.passed = commit.sequence;
                return Ok(commit);
            }
        }
    }

    /// After a silence: a new consumer from the next sequence when the stream holds more.
    async fn restart_if_stalled(&mut self) -> Result<(), StoreError> {
        let last = match self.store.last_matching(self.stream, &self.filter).await {
            Ok(last) => last.unwrap_or(0),
            // The stream cannot be read either (an election): the consumer may well be fine.
            Err(_) => return Ok(()),
        };
        if last <= self.passed {
            return Ok(());
        }
        tracing::warn!(
            stream = ?self.stream,
            passed = self.passed,
            last,
            "a follower received nothing for {STALL:?} with commits stored; creating its consumer again"
        );
        self.messages = self
            .store
            .ordered_messages(
                self.stream,
                OrderedConfig {
                    filter_subject: self.filter.clone(),
                    deliver_policy: DeliverPolicy::ByStartSequence {
                        start_sequence: self.passed + 1,
                    },
                    ..OrderedConfig::default()
                },
                "a follower",
            )
            .await?;
        Ok(())
    }
}
