//! A seated section's seat map as one row of `seat_maps`: its layout (row labels and seats per
//! row, fixed when the inventory opens) and, for every seat in layout order, a status letter and
//! the expiry of the hold that has it.
//!
//! One row per section rather than one per seat: a batch that takes a thousand seats of a section
//! rewrites one row, not a thousand. The columns, as the projector writes them and query-svc reads
//! them:
//! - `statuses text`: one letter per seat, `a` available, `h` held, `s` sold, `b` blocked;
//! - `hold_expiries bytea`: eight bytes per seat, the hold's `expires_at` in microseconds since
//!   the Unix epoch (big-endian, as PostgreSQL's `int8send`), 0 when no hold has the seat.

use crate::rows::{CorruptRow, SeatRow};
use crate::status::SeatStatus;
use crate::tables::SEAT_MAPS;
use domain::ids::{RowLabel, SeatLabel};
use time::OffsetDateTime;

const EXPIRY_BYTES: usize = 8;

/// The layout of a seat map: each row's label and seat count, in row order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    pub row_labels: Vec<String>,
    pub row_seats: Vec<i32>,
}

impl Layout {
    /// Seats in the section.
    pub fn len(&self) -> usize {
        self.row_seats.iter().map(|n| (*n).max(0) as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The place of seat `<row>-<number>` in the map, if the layout has it.
    pub fn index_of(&self, row: &str, number: u32) -> Option<usize> {
        let mut before = 0usize;
        for (label, seats) in self.row_labels.iter().zip(&self.row_seats) {
            let seats = (*seats).max(0) as usize;
            if label == row {
                let n = number as usize;
                return (1..=seats).contains(&n).then(|| before + n - 1);
            }
            before += seats;
        }
        None
    }

    /// The place of a seat written `<row>-<number>`.
    pub fn index_of_label(&self, seat: &str) -> Option<usize> {
        let (row, number) = seat.rsplit_once('-')?;
        self.index_of(row, number.parse().ok()?)
    }
}

/// The seats of a map: status letters and hold expiries, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cells {
    statuses: Vec<u8>,
    expiries: Vec<u8>,
}

impl Cells {
    /// `seats` seats, every one available.
    pub fn available(seats: usize) -> Self {
        Self {
            statuses: vec![letter(SeatStatus::Available); seats],
            expiries: vec![0; seats * EXPIRY_BYTES],
        }
    }

    /// The stored columns, checked: one known letter per seat and eight bytes of expiry each.
    pub fn decode(statuses: &str, expiries: &[u8]) -> Result<Self, CorruptRow> {
        let corrupt = |column: &'static str, found: String| CorruptRow {
            table: SEAT_MAPS,
            column,
            found,
        };
        if let Some(bad) = statuses.bytes().find(|b| status_of(*b).is_none()) {
            return Err(corrupt("statuses", format!("letter {:?}", bad as char)));
        }
        if expiries.len() != statuses.len() * EXPIRY_BYTES {
            return Err(corrupt(
                "hold_expiries",
                format!("{} bytes for {} seats", expiries.len(), statuses.len()),
            ));
        }
        Ok(Self {
            statuses: statuses.as_bytes().to_vec(),
            expiries: expiries.to_vec(),
        })
    }

    pub fn len(&self) -> usize {
        self.statuses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty()
    }

    /// Seat `index`'s stored status and hold expiry.
    pub fn get(&self, index: usize) -> (SeatStatus, Option<OffsetDateTime>) {
        let status = status_of(self.statuses[index]).unwrap_or(SeatStatus::Available);
        let at = index * EXPIRY_BYTES;
        let micros = i64::from_be_bytes(
            self.expiries[at..at + EXPIRY_BYTES]
                .try_into()
                .expect("eight bytes"),
        );
        let expires = (micros != 0)
            .then(|| OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok())
            .flatten();
        (status, expires)
    }

    /// Gives seat `index` a status and its hold's expiry (kept to the microsecond, as a
    /// `timestamptz`).
    pub fn set(&mut self, index: usize, status: SeatStatus, expires: Option<OffsetDateTime>) {
        self.statuses[index] = letter(status);
        let micros = expires.map_or(0, |t| (t.unix_timestamp_nanos() / 1_000) as i64);
        let at = index * EXPIRY_BYTES;
        self.expiries[at..at + EXPIRY_BYTES].copy_from_slice(&micros.to_be_bytes());
    }

    /// The `statuses` column.
    pub fn statuses(&self) -> &str {
        // Only letters of `letter` are ever stored.
        std::str::from_utf8(&self.statuses).expect("ASCII letters")
    }

    /// The `hold_expiries` column.
    pub fn expiries(&self) -> &[u8] {
        &self.expiries
    }
}

/// Every seat of a map as query-svc answers it, in layout order.
pub fn seat_rows(layout: &Layout, cells: &Cells) -> Result<Vec<SeatRow>, CorruptRow> {
    if layout.len() != cells.len() {
        return Err(CorruptRow {
            table: SEAT_MAPS,
            column: "statuses",
            found: format!("{} seats for a layout of {}", cells.len(), layout.len()),
        });
    }
    let mut seats = Vec::with_capacity(cells.len());
    for (label, count) in layout.row_labels.iter().zip(&layout.row_seats) {
        let row = RowLabel::parse(label).map_err(|_| CorruptRow {
            table: SEAT_MAPS,
            column: "row_labels",
            found: label.clone(),
        })?;
        for number in 1..=(*count).max(0) as u32 {
            let seat = SeatLabel::new(row.clone(), number).map_err(|_| CorruptRow {
                table: SEAT_MAPS,
                column: "row_seats",
                found: count.to_string(),
            })?;
            let (status, hold_expires_at) = cells.get(seats.len());
            seats.push(SeatRow {
                seat,
                status,
                hold_expires_at,
            });
        }
    }
    Ok(seats)
}

fn letter(status: SeatStatus) -> u8 {
    match status {
        SeatStatus::Available => b'a',
        SeatStatus::Held => b'h',
        SeatStatus::Sold => b's',
        SeatStatus::Blocked => b'b',
    }
}

fn status_of(letter: u8) -> Option<SeatStatus> {
    match letter {
        b'a' => Some(SeatStatus::Available),
        b'h' => Some(SeatStatus::Held),
        b's' => Some(SeatStatus::Sold),
        b'b' => Some(SeatStatus::Blocked),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn layout() -> Layout {
        Layout {
            row_labels: vec!["A".into(), "B".into()],
            row_seats: vec![2, 3],
        }
    }

    #[test]
    fn a_seat_is_found_by_its_row_and_number_in_layout_order() {
        let layout = layout();
        assert_eq!(layout.len(), 5);
        assert_eq!(layout.index_of_label("A-1"), Some(0));
        assert_eq!(layout.index_of_label("A-2"), Some(1));
        assert_eq!(layout.index_of_label("B-1"), Some(2));
        assert_eq!(layout.index_of_label("B-3"), Some(4));
        assert_eq!(layout.index_of_label("B-4"), None);
        assert_eq!(layout.index_of_label("A-0"), None);
        assert_eq!(layout.index_of_label("C-1"), None);
        assert_eq!(layout.index_of_label("nonsense"), None);
    }

    #[test]
    fn cells_keep_each_seat_status_and_expiry_through_the_stored_columns() {
        let at = datetime!(2030-06-01 20:00:00.123456 UTC);
        let mut cells = Cells::available(5);
        cells.set(1, SeatStatus::Held, Some(at));
        cells.set(4, SeatStatus::Sold, None);
        assert_eq!(cells.statuses(), "ahaas");
        let stored = Cells::decode(cells.statuses(), cells.expiries()).unwrap();
        assert_eq!(stored, cells);
        assert_eq!(stored.get(0), (SeatStatus::Available, None));
        assert_eq!(stored.get(1), (SeatStatus::Held, Some(at)));
        assert_eq!(stored.get(4), (SeatStatus::Sold, None));
        let rows = seat_rows(&layout(), &stored).unwrap();
        let labels: Vec<String> = rows.iter().map(|r| r.seat.to_string()).collect();
        assert_eq!(labels, ["A-1", "A-2", "B-1", "B-2", "B-3"]);
        assert_eq!(rows[1].status_at(at), SeatStatus::Available);
        assert_eq!(
            rows[1].status_at(at - time::Duration::seconds(1)),
            SeatStatus::Held
        );
    }

    #[test]
    fn an_expiry_is_kept_to_the_microsecond_as_a_timestamptz_is() {
        let mut cells = Cells::available(1);
        cells.set(
            0,
            SeatStatus::Held,
            Some(datetime!(2030-06-01 20:00:00.1234567 UTC)),
        );
        assert_eq!(
            cells.get(0).1,
            Some(datetime!(2030-06-01 20:00:00.123456 UTC))
        );
    }

    #[test]
    fn stored_columns_outside_the_contract_are_named() {
        let err = Cells::decode("ax", &[0; 16]).unwrap_err();
        assert_eq!(err.column, "statuses");
        let err = Cells::decode("aa", &[0; 8]).unwrap_err();
        assert_eq!(err.column, "hold_expiries");
        let short = Cells::available(4);
        assert_eq!(seat_rows(&layout(), &short).unwrap_err().column, "statuses");
    }
}
