//! The store's own errors. JetStream's numeric codes are translated here and nowhere else.

/// Why an append did not store the commit.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Someone appended to the aggregate since the caller read it: catch up and decide again.
    /// `actual` is the subject's last sequence when the server said so.
    #[error("conflict on {subject}: expected last sequence {expected}, found {actual:?}")]
    Conflict {
        subject: String,
        expected: u64,
        actual: Option<u64>,
    },
    /// The server did not answer in time and the outcome could not be settled by reading back.
    #[error("append to {subject} has an unknown outcome: {reason}")]
    Unknown { subject: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A failure to talk to the store, or an answer that makes no sense.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot reach NATS: {0}")]
    Unavailable(String),
    #[error("nats-server {found} is too old: TicketView needs {needed} or newer (JetStream message schedules)")]
    ServerTooOld { found: String, needed: String },
    #[error("JetStream refused the request (code {code}): {description}")]
    Api { code: u64, description: String },
    #[error("a stored commit cannot be decoded at {subject}#{sequence}: {reason}")]
    Decode {
        subject: String,
        sequence: u64,
        reason: String,
    },
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    pub(crate) fn other(context: &str, err: impl std::fmt::Display) -> Self {
        StoreError::Other(format!("{context}: {err}"))
    }
}

/// JetStream error codes the adapter acts on.
pub(crate) mod codes {
    /// Wrong last sequence (the expected-sequence check failed).
    pub const WRONG_LAST_SEQUENCE: u64 = 10071;
    /// Expected last subject sequence not ready: reported under load instead of 10071.
    pub const WRONG_LAST_SEQUENCE_UNDER_LOAD: u64 = 10164;
}
