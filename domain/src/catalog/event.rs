//! Facts of the catalog, as stored on `catalog.<event>` and read by downstream systems.
//! Schema version 1 for every variant; a changed shape gets a new version, never an edit.

use super::EventDetails;
use crate::ids::EventId;
use serde::{Deserialize, Serialize};

/// A catalog fact lives for one fold and is never kept in bulk (an event has a handful), so the
/// size of `EventCreated` (the whole event's details) against the other variants costs nothing
/// worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum CatalogEvent {
    EventCreated {
        event_id: EventId,
        details: EventDetails,
    },
    EventPublished {
        event_id: EventId,
    },
    SaleClosed {
        event_id: EventId,
    },
    EventCancelled {
        event_id: EventId,
    },
}

impl CatalogEvent {
    /// The name a downstream system matches on.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::EventCreated { .. } => "EventCreated",
            Self::EventPublished { .. } => "EventPublished",
            Self::SaleClosed { .. } => "SaleClosed",
            Self::EventCancelled { .. } => "EventCancelled",
        }
    }
}
