//! Following a whole stream live: an ordered consumer (ephemeral, in order, gap-free) from a
//! sequence or a time, yielding every commit as it is stored, with no end. For services that fold
//! a stream into memory and must see every commit in stream order.

use crate::envelope::RawCommit;
use crate::error::StoreError;
use crate::load::raw_commit;
use crate::naming::Stream;
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
        let handle = self
            .jetstream()
            .get_stream_no_info(self.naming().stream(stream))
            .await
            .map_err(|e| StoreError::other("opening stream", e))?;
        let deliver_policy = match from {
            FollowFrom::Sequence(start_sequence) => DeliverPolicy::ByStartSequence {
                start_sequence: start_sequence.max(1),
            },
            FollowFrom::Time(start_time) => DeliverPolicy::ByStartTime { start_time },
        };
        let consumer = handle
            .create_consumer(OrderedConfig {
                filter_subject: filter,
                deliver_policy,
                ..OrderedConfig::default()
            })
            .await
            .map_err(|e| StoreError::other("creating a following consumer", e))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| StoreError::other("starting to follow", e))?;
        let passed = match from {
            FollowFrom::Sequence(start_sequence) => start_sequence.max(1) - 1,
            FollowFrom::Time(_) => 0,
        };
        Ok(Following { messages, passed })
    }
}

impl Following {
    /// The next commit stored; an error when the consumer failed (follow again from the next
    /// sequence).
    pub async fn next(&mut self) -> Result<RawCommit, StoreError> {
        loop {
            let commit = match self.messages.next().await {
                Some(Ok(message)) => raw_commit(message)?,
                Some(Err(e)) => return Err(StoreError::other("following", e)),
                None => return Err(StoreError::Other("the following consumer ended".into())),
            };
            if commit.sequence > self.passed {
                self.passed = commit.sequence;
                return Ok(commit);
            }
        }
    }
}
