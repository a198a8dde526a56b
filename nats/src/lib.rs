//! The event store and bus adapter over NATS JetStream.
//!
//! It knows envelopes, not rules: an aggregate is a subject (`<prefix>.<context>.<id>`), a
//! **commit** is one message on it carrying the events of one decision (or of one group commit of
//! several decisions), appended with `Nats-Expected-Last-Subject-Sequence` for optimistic
//! concurrency and `Nats-Msg-Id` for deduplication. JetStream's wire error codes stop here: callers see
//! [`AppendError::Conflict`] and friends.
//!
//! Also here: connecting as a NATS user (credentials from the environment or the URL), stream provisioning under a prefix (so tests run side by side), the streams' replication as readiness reports it, replay of one
//! aggregate or a whole stream, following a stream live, durable pull consumers for projectors and reactors, snapshots in an
//! object store, timers on a stream with message schedules, leases in a key-value bucket, and request-reply between instances.

mod append;
mod connect;
mod consumer;
mod envelope;
mod error;
mod follow;
mod lease;
mod load;
mod naming;
mod patience;
mod provision;
mod records;
mod replication;

mod request;
mod schedule;
mod snapshot;
mod store;

pub use append::AppendOptions;
pub use connect::{
    connect, redact_url, seed_list, split_user_info, Credentials, CONNECT_TIMEOUT_VAR,
    DEFAULT_CONNECT_TIMEOUT, PASSWORD_FILE_VAR, USER_VAR,
};
pub use consumer::{Delivery, Durable, DurableOptions};
pub use envelope::{
    headers, CommitMeta, EventRecord, RawCommit, SkippedFact, StoredCommit, Tolerant,
};
pub use error::{AppendError, StoreError};
pub use follow::{FollowFrom, Following};
pub use lease::{Claim, Leases, LEASE_TTL};
pub use load::{Loaded, Replay};
pub use naming::{shard_of, Naming, Position, Stream, INVENTORY_SHARDS};
pub use provision::{StreamSettings, MIN_SERVER_VERSION, REPLICAS_VAR};
pub use replication::{Replication, StreamReplicas};

pub use request::{Request, RequestError, Requests};
pub use schedule::Timers;
pub use snapshot::Snapshots;
pub use store::{EventStore, Upcaster};
