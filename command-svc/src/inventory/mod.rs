//! The inventory side of command-svc: one writer task per hot event, and the registry that routes
//! each command to its event's writer.

mod error;
mod load;
mod registry;
mod timer;
mod writer;

pub use error::CommandError;
pub use registry::{Decided, Inventories, WriterSettings};
