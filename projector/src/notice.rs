//! Change notices: what the projector tells query-svc after each committed batch, on core NATS
//! subject `<prefix>.notices.<projection>` (in no stream: a lost notice is detected by its range
//! and repaired by reloading from PostgreSQL). The types are the read-model contract's
//! ([`read_model::notice`]), shared with query-svc; the JSON is documented in `projector/README.md`.

pub use read_model::notice::{AvailabilityRow, Notice, ShardRange, MAX_NOTICE_BYTES};
