//! The rows query-svc reads, in the domain's types: ids, status words and expiry are parsed when a
//! row is read, so past this point nothing handles a raw string. A stored value that does not
//! parse is a [`CorruptRow`]: the projector wrote something this contract does not allow.
//!
//! The hot row, a section's availability, is [`crate::AvailabilityRow`]: it also travels in
//! change notices.

use crate::position::Version;
use crate::status::{HoldStatus, SeatStatus};
use domain::ids::{CustomerId, EventId, HoldId, OrderId, SeatLabel, SectionId};
use time::OffsetDateTime;

/// A stored value outside the contract: which table and column, and what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table}.{column} holds {found:?}, which the read-model contract does not allow")]
pub struct CorruptRow {
    pub table: &'static str,
    pub column: &'static str,
    pub found: String,
}

/// Parses one stored column, naming it if it does not parse.
pub fn column<T, E>(
    table: &'static str,
    column: &'static str,
    stored: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, CorruptRow> {
    parse(stored).map_err(|_| CorruptRow {
        table,
        column,
        found: stored.to_owned(),
    })
}

/// A hold (`holds`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRow {
    pub hold_id: HoldId,
    pub event_id: EventId,
    pub section_id: SectionId,
    pub customer_id: CustomerId,
    /// Its named seats (empty for general admission).
    pub seats: Vec<SeatLabel>,
    pub quantity: u32,
    pub expires_at: OffsetDateTime,
    /// As stored; [`HoldRow::status_at`] applies lazy expiry.
    pub status: HoldStatus,
    pub order_id: Option<OrderId>,
    pub version: Version,
}

impl HoldRow {
    /// Its status at `now`: expired once past `expires_at` if it was still pending.
    pub fn status_at(&self, now: OffsetDateTime) -> HoldStatus {
        self.status.at(self.expires_at, now)
    }
}

/// A seat of a seated section (one of a `seat_maps` row's, [`crate::seat_map`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatRow {
    pub seat: SeatLabel,
    /// As stored; [`SeatRow::status_at`] applies lazy expiry.
    pub status: SeatStatus,
    /// The expiry of the hold that holds it, while held.
    pub hold_expires_at: Option<OffsetDateTime>,
}

impl SeatRow {
    /// Its status at `now`: available again once its hold ran out.
    pub fn status_at(&self, now: OffsetDateTime) -> SeatStatus {
        self.status.at(self.hold_expires_at, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_value_outside_the_contract_names_its_table_and_column() {
        let err = column("holds", "status", "checked_out", |w| {
            HoldStatus::parse(w).ok_or(())
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "holds.status holds \"checked_out\", which the read-model contract does not allow"
        );
        let ok = column("holds", "status", "sold", |w| {
            HoldStatus::parse(w).ok_or(())
        });
        assert_eq!(ok, Ok(HoldStatus::Sold));
    }
}
