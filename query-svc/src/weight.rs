//! What a cached value weighs, in bytes, for the caches' byte bounds (`TV_QUERY_CACHE_BYTES`).
//!
//! An estimate, not an allocator's count: the bytes of every string plus a fixed allowance per
//! entry and per element for the structs, pointers and moka's own bookkeeping. It only has to
//! grow with what a value holds, so that no cache outgrows its bound whatever its keys and values.

use crate::read::{EventDetail, EventSummary, HoldRow, SeatMap};
use read_model::AvailabilityRow;
use time::OffsetDateTime;

/// Per cache entry: moka's node, the key, `Versioned`, the `Arc`.
const ENTRY: usize = 160;
/// Per element of a list (a seat, a section, an event): its struct beyond its strings.
const ELEMENT: usize = 48;

fn clamp(bytes: usize) -> u32 {
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

pub fn events(events: &[EventSummary]) -> u32 {
    clamp(
        ENTRY
            + events
                .iter()
                .map(|e| ELEMENT + e.name.len() + e.venue.len())
                .sum::<usize>(),
    )
}

pub fn event_detail(event: Option<&EventDetail>) -> u32 {
    clamp(
        ENTRY
            + event.map_or(0, |e| {
                ELEMENT
                    + e.name.len()
                    + e.venue.len()
                    + e.currency.len()
                    // serde_json::Value's nodes are larger than their text; twice is generous.
                    + 2 * e.sections.to_string().len()
                    + 2 * e.presales.to_string().len()
            }),
    )
}

pub fn sections(sections: Option<&[AvailabilityRow]>) -> u32 {
    clamp(
        ENTRY
            + sections.map_or(0, |rows| {
                // Each row, and its part of the answer serialized once (`Sections::answer_at`):
                // its id again and about 96 bytes of names and numbers.
                rows.iter()
                    .map(|r| ELEMENT + 2 * r.section_id.len() + 96)
                    .sum::<usize>()
            }),
    )
}

pub fn seat_map(section_id: &str, map: Option<&SeatMap>) -> u32 {
    clamp(
        ENTRY
            + section_id.len()
            + map.map_or(0, |m| {
                m.seats
                    .iter()
                    .map(|s| ELEMENT + 16 + s.seat.row().as_str().len())
                    .sum::<usize>()
            }),
    )
}

pub fn hold(hold_id: &str, hold: Option<&HoldRow>) -> u32 {
    clamp(
        ENTRY
            + hold_id.len()
            + hold.map_or(0, |h| {
                // Two UUIDs of the hold id, its event, order, times and status are fixed-size.
                ELEMENT
                    + 96
                    + h.section_id.as_str().len()
                    + h.customer_id.as_str().len()
                    + h.seats
                        .iter()
                        .map(|s| 24 + s.row().as_str().len())
                        .sum::<usize>()
            }),
    )
}

pub fn due_holds(holds: &[(String, OffsetDateTime, i64)]) -> u32 {
    clamp(
        ENTRY
            + holds
                .iter()
                .map(|(section, ..)| ELEMENT + section.len())
                .sum::<usize>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::SeatRow;

    fn map(seats: usize) -> SeatMap {
        SeatMap {
            version: read_model::Version(1),
            seats: (1..=seats)
                .map(|n| SeatRow {
                    seat: format!("R{}-{}", n / 100, n % 100 + 1).parse().unwrap(),
                    status: read_model::status::SeatStatus::Available,
                    hold_expires_at: None,
                })
                .collect(),
        }
    }

    #[test]
    fn a_seat_map_weighs_at_least_its_seats_text() {
        let big = map(20_000);
        let text: usize = big.seats.iter().map(|s| s.seat.to_string().len() + 9).sum();
        assert!(seat_map("stalls", Some(&big)) as usize >= text);
        assert!(seat_map("stalls", Some(&big)) > 100 * seat_map("stalls", Some(&map(10))));
    }

    #[test]
    fn a_key_weighs_what_it_holds_even_without_a_value() {
        let long = "x".repeat(64);
        assert!(seat_map(&long, None) >= seat_map("a", None) + 63);
        assert!(hold(&long, None) >= hold("a", None) + 63);
    }
}
