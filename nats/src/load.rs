//! Reading back: one aggregate's commits after a sequence, or a whole stream from a sequence.
//!
//! Both use an ordered consumer (ephemeral, in order, gap-free, re-created by the client if a
//! message is lost) and stop at the last sequence that existed when the read began.
//!
//! A replay passes on each sequence once and in order, whatever the consumer delivers: on a
//! cluster, an ordered consumer re-created (after a leader change) before it delivered anything
//! starts again from the stream's first message, and a commit read twice would be applied twice.

use crate::envelope::{RawCommit, StoredCommit};
use crate::error::StoreError;
use crate::naming::Stream;
use crate::patience::{patiently, STALL};
use crate::store::EventStore;
use async_nats::jetstream::consumer::{pull::OrderedConfig, DeliverPolicy};
use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::stream::DirectGetErrorKind;
use futures::StreamExt;
use serde::de::DeserializeOwned;

/// Commits of one aggregate read with direct gets before switching to an ordered consumer.
const DIRECT_READS: usize = 32;

/// An aggregate's commits after some sequence, and the subject's last sequence.
#[derive(Debug)]
pub struct Loaded<E> {
    pub commits: Vec<StoredCommit<E>>,
    /// The subject's last sequence: the expected sequence of the next append (0 = no aggregate).
    pub last_sequence: u64,
}

/// A stream read from a sequence to the end it had when the read began.
pub struct Replay {
    messages: Option<async_nats::jetstream::consumer::pull::Ordered>,
    end_sequence: u64,
    /// The highest sequence passed on (or the one the replay starts after).
    passed: u64,
    /// What re-creates the consumer when it stalls: the store, the stream, the subject filters.
    source: Option<(EventStore, Stream, Vec<String>)>,
}

pub(crate) fn raw_commit(message: async_nats::jetstream::Message) -> Result<RawCommit, StoreError> {
    let sequence = message
        .info()
        .map_err(|e| StoreError::other("reading message info", e))?
        .stream_sequence;
    let message = message.message;
    Ok(RawCommit {
        subject: message.subject.to_string(),
        sequence,
        headers: message.headers,
        payload: message.payload,
    })
}

impl Replay {
    /// The next commit, or `None` once the end sequence has been read.
    ///
    /// Every commit up to the end sequence is stored, so a consumer that delivers nothing for
    /// [`STALL`] has lost its replica (a node died and the cluster is moving its streams): it is
    /// replaced by one from the next sequence, which waits for the election, not the client's own
    /// re-creation after two missed heartbeats (a minute).
    pub async fn next(&mut self) -> Option<Result<RawCommit, StoreError>> {
        self.messages.as_ref()?;
        let result = loop {
            let messages = self.messages.as_mut()?;
            let result = match tokio::time::timeout(STALL, messages.next()).await {
                Ok(Some(Ok(message))) => raw_commit(message),
                Ok(Some(Err(e))) => Err(StoreError::other("replaying", e)),
                Ok(None) => Err(StoreError::Other("replay ended early".into())),
                Err(_) => match self.restart().await {
                    Ok(()) => continue,
                    Err(e) => Err(e),
                },
            };
            match &result {
                // Delivered again by a re-created consumer: already passed on.
                Ok(commit) if commit.sequence <= self.passed => continue,
                Ok(commit) => self.passed = commit.sequence,
                Err(_) => {}
            }
            break result;
        };
        if result
            .as_ref()
            .map_or(true, |c| c.sequence >= self.end_sequence)
        {
            self.messages = None;
        }
        Some(result)
    }

    /// Replaces a stalled consumer by one from the sequence after the last one passed on.
    async fn restart(&mut self) -> Result<(), StoreError> {
        let Some((store, stream, filters)) = &self.source else {
            return Err(StoreError::Other("replay stalled".into()));
        };
        tracing::warn!(
            stream = ?stream,
            passed = self.passed,
            end = self.end_sequence,
            "a replay received nothing for {STALL:?}; creating its consumer again"
        );
        self.messages = None;
        let messages = store
            .ordered_messages(
                *stream,
                replay_config(filters.clone(), self.passed),
                "a replay",
            )
            .await?;
        self.messages = Some(messages);
        Ok(())
    }

    /// The last sequence this replay reads up to.
    pub fn end_sequence(&self) -> u64 {
        self.end_sequence
    }
}

impl EventStore {
    /// Every commit of `stream` with a sequence above `after_seq`, up to its last sequence now.
    pub async fn replay(&self, stream: Stream, after_seq: u64) -> Result<Replay, StoreError> {
        let end_sequence = self.last_sequence(stream).await?;
        self.replay_filtered(stream, None, after_seq, end_sequence)
            .await
    }

    /// Every commit of `stream` on a subject matching one of `filters` with a sequence above
    /// `after_seq`, up to the last such commit now (a projector partition filling a gap).
    pub async fn replay_subjects(
        &self,
        stream: Stream,
        filters: Vec<String>,
        after_seq: u64,
    ) -> Result<Replay, StoreError> {
        let mut end_sequence = 0;
        for filter in &filters {
            if let Some(last) = self.last_matching(stream, filter).await? {
                end_sequence = end_sequence.max(last);
            }
        }
        self.replay_matching(stream, filters, after_seq, end_sequence)
            .await
    }

    /// The last sequence of a subject filter (wildcards allowed), if any commit matches it.
    pub async fn last_matching(
        &self,
        stream: Stream,
        filter: &str,
    ) -> Result<Option<u64>, StoreError> {
        let last = self
            .direct_get(stream, filter, None, "reading a subject's last sequence")
            .await?;
        Ok(last.map(|message| message.sequence))
    }

    /// The first commit on a subject matching `filter` (wildcards allowed) above `after_seq`: its
    /// sequence and when it was stored. `None` when there is none yet: whoever applied everything
    /// up to `after_seq` of that filter is caught up.
    pub async fn first_matching_after(
        &self,
        stream: Stream,
        filter: &str,
        after_seq: u64,
    ) -> Result<Option<(u64, time::OffsetDateTime)>, StoreError> {
        let next = self
            .direct_get(
                stream,
                filter,
                Some(after_seq + 1),
                "reading a subject's next commit",
            )
            .await?;
        Ok(next.map(|message| (message.sequence, message.time)))
    }

    /// One message of `stream` on `filter` read with a direct get, [`patiently`]: the first at or
    /// after sequence `from`, or the last one when `from` is `None`; `None` when none matches.
    async fn direct_get(
        &self,
        stream: Stream,
        filter: &str,
        from: Option<u64>,
        what: &str,
    ) -> Result<Option<StreamMessage>, StoreError> {
        let handle = self
            .jetstream()
            .get_stream_no_info(self.naming().stream(stream))
            .await
            .map_err(|e| StoreError::other("opening stream", e))?;
        patiently(what, || {
            let handle = &handle;
            async move {
                let got = match from {
                    Some(from) => handle.direct_get_next_for_subject(filter, Some(from)).await,
                    None => handle.direct_get_last_for_subject(filter).await,
                };
                match got {
                    Ok(message) => Ok(Some(message)),
                    Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                }
            }
        })
        .await
    }

    async fn replay_filtered(
        &self,
        stream: Stream,
        subject: Option<String>,
        after_seq: u64,
        end_sequence: u64,
    ) -> Result<Replay, StoreError> {
        self.replay_matching(
            stream,
            subject.into_iter().collect(),
            after_seq,
            end_sequence,
        )
        .await
    }

    async fn replay_matching(
        &self,
        stream: Stream,
        filters: Vec<String>,
        after_seq: u64,
        end_sequence: u64,
    ) -> Result<Replay, StoreError> {
        if end_sequence <= after_seq {
            return Ok(Replay {
                messages: None,
                end_sequence,
                passed: after_seq,
                source: None,
            });
        }
        let messages = self
            .ordered_messages(
                stream,
                replay_config(filters.clone(), after_seq),
                "a replay",
            )
            .await?;
        Ok(Replay {
            messages: Some(messages),
            end_sequence,
            passed: after_seq,
            source: Some((self.clone(), stream, filters)),
        })
    }

    /// The last sequence of one aggregate's subject (0 when it has no commit).
    pub async fn subject_last_sequence(&self, stream: Stream, id: &str) -> Result<u64, StoreError> {
        let subject = self.naming().subject(stream, id);
        let last = self
            .direct_get(
                stream,
                &subject,
                None,
                "reading an aggregate's last sequence",
            )
            .await?;
        Ok(last.map_or(0, |message| message.sequence))
    }

    /// The commits of aggregate `id` after `after_seq`, in order, decoded as `E`.
    ///
    /// A short history (most orders, payments and events) is read with direct gets, one request
    /// per commit and no consumer: thousands of loads at once must not create thousands of
    /// consumers (the server caps them). A long one continues with an ordered consumer.
    pub async fn load<E: DeserializeOwned>(
        &self,
        stream: Stream,
        id: &str,
        after_seq: u64,
    ) -> Result<Loaded<E>, StoreError> {
        let last_sequence = self.subject_last_sequence(stream, id).await?;
        let mut commits = Vec::new();
        let subject = self.naming().subject(stream, id);
        let mut read_up_to = after_seq;
        for _ in 0..DIRECT_READS {
            if read_up_to >= last_sequence {
                return Ok(Loaded {
                    commits,
                    last_sequence: last_sequence.max(after_seq),
                });
            }
            let next = self
                .direct_get(
                    stream,
                    &subject,
                    Some(read_up_to + 1),
                    "reading an aggregate",
                )
                .await?;
            let Some(message) = next else {
                return Ok(Loaded {
                    commits,
                    last_sequence: last_sequence.max(after_seq),
                });
            };
            read_up_to = message.sequence;
            let raw = RawCommit {
                subject: message.subject.to_string(),
                sequence: message.sequence,
                headers: Some(message.headers),
                payload: message.payload,
            };
            commits.push(self.decode_whole(&raw)?);
        }
        let mut replay = self
            .replay_filtered(stream, Some(subject), read_up_to, last_sequence)
            .await?;
        while let Some(raw) = replay.next().await {
            commits.push(self.decode_whole(&raw?)?);
        }
        Ok(Loaded {
            commits,
            last_sequence: last_sequence.max(after_seq),
        })
    }
}

/// An ordered consumer's configuration for the commits on `filters` (all when empty) after `after`.
fn replay_config(filters: Vec<String>, after: u64) -> OrderedConfig {
    OrderedConfig {
        filter_subject: match filters.as_slice() {
            [one] => one.clone(),
            _ => String::new(),
        },
        filter_subjects: match filters.len() {
            0 | 1 => Vec::new(),
            _ => filters,
        },
        deliver_policy: DeliverPolicy::ByStartSequence {
            start_sequence: after + 1,
        },
        ..OrderedConfig::default()
    }
}
