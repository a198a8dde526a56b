//! What a command sent to a writer can come to, besides success.

use domain::inventory::InventoryError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A business rule refused the command; nothing was appended.
    #[error(transparent)]
    Rejected(#[from] InventoryError),
    /// The event's queue is full: the client should retry later (429).
    #[error("too many commands are queued for this event; retry shortly")]
    Overloaded,
    /// The store could not be reached or the outcome is unknown; retrying with the same
    /// idempotency key is safe (503).
    #[error("the event store is unavailable: {0}")]
    Unavailable(String),
}
