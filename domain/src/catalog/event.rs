//! Facts of the catalog, as stored on `catalog.<event>` and read by downstream systems.
//! Schema version 1 for every variant; a changed shape gets a new version, never an edit.

use super::EventDetails;
use crate::ids::EventId;
use serde::{Deserialize, Serialize};

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
