//! Stories of the catalog: parsing an operator's draft, and an event's lifecycle.

mod details;
mod lifecycle;
mod presales;

use super::{EventDetails, EventDraft, RowDraft, SectionDraft};
use time::macros::datetime;

/// A small valid draft: a seated section of two rows and a general-admission floor.
pub(super) fn draft() -> EventDraft {
    EventDraft {
        name: "Nightfall in Lisbon".into(),
        venue: "Coliseu".into(),
        starts_at: datetime!(2030-07-01 21:00 UTC),
        currency: "EUR".into(),
        sections: vec![
            SectionDraft {
                section_id: "stalls".into(),
                name: "Stalls".into(),
                price_minor: 4_500,
                rows: Some(vec![
                    RowDraft {
                        row: "A".into(),
                        seats: 10,
                    },
                    RowDraft {
                        row: "B".into(),
                        seats: 12,
                    },
                ]),
                capacity: None,
                ticket_types: None,
            },
            SectionDraft {
                section_id: "floor".into(),
                name: "Floor".into(),
                price_minor: 3_000,
                rows: None,
                capacity: Some(500),
                ticket_types: None,
            },
        ],
        sale_opens_at: Some(datetime!(2030-06-01 10:00 UTC)),
        sale_closes_at: Some(datetime!(2030-07-01 20:00 UTC)),
        hold_ttl_seconds: None,
        max_tickets_per_customer: None,
        waiting_room: None,
        presales: Vec::new(),
    }
}

pub(super) fn details() -> EventDetails {
    EventDetails::parse(draft()).expect("the fixture draft is valid")
}
