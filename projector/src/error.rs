//! The projector's own errors. PostgreSQL and JetStream errors are translated here, so that the
//! rest of the crate (and its callers) act on what went wrong, not on a wire code.

use tokio_postgres::error::SqlState;

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The event store could not be reached or refused a request.
    #[error("event store: {0}")]
    Store(#[from] tv_nats::StoreError),
    /// A stored commit is not a valid fact of its stream (a schema the projector does not know).
    #[error("undecodable commit at {stream}#{sequence}: {reason}")]
    Undecodable {
        stream: &'static str,
        sequence: u64,
        reason: String,
    },
    /// Applying a batch would break a read-model invariant (for example `held` below zero): the
    /// stream and the read model disagree, which is a bug; the batch is not applied.
    #[error("read-model invariant broken: {0}")]
    Invariant(String),
    /// The schema is missing or older than this projector (migrations not applied).
    #[error("read-model schema is missing or out of date: {0}")]
    Schema(String),
    /// Another `projector rebuild` of the same projection holds its lock.
    #[error("a rebuild of projection {0} is already running")]
    RebuildRunning(&'static str),
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error("PostgreSQL pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The pool could not be built (a malformed `DATABASE_URL`).
    #[error("{0}")]
    PoolConfig(#[from] tv_kit::pg::PoolError),
}

/// The server's own words when there are some (`Display` of a server error is only "db error").
pub(crate) fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => error.to_string(),
    }
}

impl From<tokio_postgres::Error> for ProjectError {
    fn from(error: tokio_postgres::Error) -> Self {
        match error.code() {
            Some(code)
                if *code == SqlState::CHECK_VIOLATION || *code == SqlState::NOT_NULL_VIOLATION =>
            {
                ProjectError::Invariant(describe(&error))
            }
            Some(code)
                if *code == SqlState::UNDEFINED_TABLE || *code == SqlState::UNDEFINED_COLUMN =>
            {
                ProjectError::Schema(describe(&error))
            }
            _ => ProjectError::Postgres(describe(&error)),
        }
    }
}
