//! What the catalog remembers of one event: whether it exists, its details and where it is in its
//! lifecycle. Built only by folding `CatalogEvent`s (see `evolve` in `decide.rs`).

use super::EventDetails;
use crate::ids::EventId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an event is in its lifecycle: Draft → OnSale → Closed, and Cancelled from any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    Draft,
    OnSale,
    Closed,
    Cancelled,
}

impl EventStatus {
    /// The stable name used in APIs, logs and read models (`on_sale`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::OnSale => "on_sale",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for EventStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The catalog aggregate of one event. `Default` is the state before `EventCreated`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogState {
    event: Option<CreatedEvent>,
}

/// The three facts exist together or not at all, hence one `Option` around them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CreatedEvent {
    event_id: EventId,
    details: EventDetails,
    status: EventStatus,
}

impl CatalogState {
    /// True once the event has been created.
    pub fn exists(&self) -> bool {
        self.event.is_some()
    }

    pub fn event_id(&self) -> Option<EventId> {
        self.event.as_ref().map(|e| e.event_id)
    }

    pub fn details(&self) -> Option<&EventDetails> {
        self.event.as_ref().map(|e| &e.details)
    }

    pub fn status(&self) -> Option<EventStatus> {
        self.event.as_ref().map(|e| e.status)
    }

    pub(super) fn created(event_id: EventId, details: EventDetails) -> Self {
        Self {
            event: Some(CreatedEvent {
                event_id,
                details,
                status: EventStatus::Draft,
            }),
        }
    }

    pub(super) fn with_status(mut self, status: EventStatus) -> Self {
        if let Some(event) = &mut self.event {
            event.status = status;
        }
        self
    }
}
