//! The projector: folds the event streams into PostgreSQL read models for query-svc.
//!
//! One durable pull consumer per projection ([`ProjectionName`]): `catalog` (event listing and
//! detail), `inventory` (availability per section, seat maps, holds) and `orders` (orders per
//! customer, their status and tickets). The inventory stream is sharded by event: an instance
//! started as partition `k/N` ([`Partition`]) runs inventory on one consumer filtered to its shards,
//! beside the other partitions' instances. A fetched batch is applied in one transaction with bulk
//! statements, the projection's checkpoint (the last stream sequence applied) moves in the same
//! transaction, then the batch is acked: commits at or below the checkpoint are skipped, so effects
//! are exactly once across crashes and re-deliveries. After each commit a change notice
//! ([`notice::Notice`]) goes out on core NATS so query-svc updates its caches in place.
//!
//! Boundaries: it reads the streams through `tv_nats` and the facts through `domain`; it owns the
//! read-model schema (`migrations/`, applied at start); it calls no other service. Besides the live
//! loop ([`Projector`]) it offers [`rebuild`] (replay into fresh tables and swap them in while the
//! live tables keep serving) and [`status`] (lag per projection), which the CLI and tests call.

mod config;
pub mod db;
mod error;
mod lag;
mod live;
pub mod notice;
mod ops;
mod partition;
mod projection;
mod rebuild;
mod status;

pub use config::{Cli, Command, Config};
pub use error::ProjectError;
pub use lag::ShardLag;
pub use live::Projector;
pub use partition::{InvalidPartition, Partition};
pub use projection::{apply_batch, apply_shards, BatchOutcome, Consumption, ProjectionName};
pub use rebuild::{rebuild, Lap, Phases, RebuildOptions, RebuildReport};
pub use status::{status, ProjectionStatus, ShardStatus, StatusTable};
pub use tv_kit::shutdown_signal;
