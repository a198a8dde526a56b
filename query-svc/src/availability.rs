//! An event's availability as answered to clients: the read model's sections at `now` (holds past
//! their `expires_at` no longer held), or the catalog's capacities while the inventory is not open.
//! One computation for `GET …/availability` and for the live stream's publisher.

use crate::error::ApiError;
use crate::read::{EventSections, SectionAvailability};
use crate::AppState;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Serialize)]
pub(crate) struct AvailabilityBody {
    pub event_id: Uuid,
    pub sections: Vec<SectionAvailability>,
}

/// What an answer was computed from: the sections of an open inventory (their expiry times tell
/// when the numbers change without a notice).
pub(crate) struct Computed {
    pub body: AvailabilityBody,
    pub sections: Option<EventSections>,
}

impl Computed {
    /// The highest section version: the inventory stream's sequence this answer is exact as of.
    pub fn version(&self) -> u64 {
        self.body
            .sections
            .iter()
            .map(|s| s.version.0)
            .max()
            .unwrap_or(0)
    }

    /// When a hold counted as held falls due, if one does: the numbers change then without any
    /// notice. A section past its first expiry has more due ones whose times the row does not
    /// know: `None` with `due_now` true, so the caller looks again shortly.
    pub fn next_change(&self, now: OffsetDateTime) -> (Option<OffsetDateTime>, bool) {
        let Some(sections) = &self.sections else {
            return (None, false);
        };
        let mut next: Option<OffsetDateTime> = None;
        let mut due_now = false;
        for section in sections.iter().filter(|s| s.held > 0) {
            match section.next_expiry {
                Some(at) if at > now => next = Some(next.map_or(at, |n| n.min(at))),
                Some(_) => due_now = true,
                None => {}
            }
        }
        (next, due_now)
    }
}

/// The event's availability, as of at least `min_as_of` of its inventory shard.
pub(crate) async fn current(
    state: &AppState,
    event_id: Uuid,
    min_as_of: u64,
) -> Result<Computed, ApiError> {
    match state.read.sections(event_id, min_as_of).await? {
        Some(sections) => {
            let answer = state
                .read
                .availability_at(event_id, &sections, OffsetDateTime::now_utc())
                .await?;
            Ok(Computed {
                body: AvailabilityBody {
                    event_id,
                    sections: answer,
                },
                sections: Some(sections),
            })
        }
        // Not opened yet (a draft, or the publish not projected yet): nothing held or sold.
        None => {
            let event = state
                .read
                .event(event_id, 0)
                .await?
                .ok_or_else(|| ApiError::not_found("unknown_event", "no event with this id"))?;
            Ok(Computed {
                body: AvailabilityBody {
                    event_id,
                    sections: catalog_sections(&event.sections),
                },
                sections: None,
            })
        }
    }
}

/// The sections of an event whose inventory is not open: the catalog's capacities, all available.
fn catalog_sections(sections: &serde_json::Value) -> Vec<SectionAvailability> {
    sections
        .as_array()
        .map(|list| {
            list.iter()
                .map(|s| {
                    let capacity = s["capacity"].as_i64().unwrap_or(0);
                    SectionAvailability {
                        section_id: s["section_id"].as_str().unwrap_or_default().to_owned(),
                        capacity,
                        available: capacity,
                        held: 0,
                        sold: 0,
                        blocked: 0,
                        version: read_model::Version(0),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}
