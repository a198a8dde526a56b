//! Offers to the waiting list, inside the decision that frees the seats.
//!
//! After the facts of a decision that may free seats (due expiries, a release, an abandoned
//! checkout, a return, a block released), every section with waiting entries is looked at as it will stand after
//! those facts: the seats free then go to the earliest waiting entry whose quantity they can fill,
//! as a hold of its customer (`SeatsHeld` with the hold `HoldId::offered_to` the entry, followed by
//! `WaitlistOffered`), then to the next entry that fits, and so on. So a freed seat is never on
//! sale while an entry could take it: the public's next command already sees it held.
//!
//! An entry is skipped (it keeps its place) while its customer could not take the quantity
//! without going over the event's limit. A seated entry gets the best available block of adjacent
//! seats; without `adjacent` it takes the best seats left when no block is free. No offers are
//! made outside the sale window.

use super::best_available::{best_available, SeatMap};
use super::live_view::LiveView;
use super::state::SaleConfig;
use super::waitlist::WaitlistEntry;
use super::{InventoryEvent, Selection};
use crate::ids::{CustomerId, HoldId, SeatLabel, SectionId, WaitlistId};
use std::collections::HashMap;
use time::Duration;

/// The offers the state after `view` and the decision's own `decided` facts calls for.
/// `decided` must not take seats (only free them); due expiries are part of `view` already.
pub(super) fn offers(
    view: &LiveView<'_>,
    config: &SaleConfig,
    decided: &[InventoryEvent],
) -> Vec<InventoryEvent> {
    let state = view.state;
    if !state.waitlist.anyone_waiting() || !in_sale_window(view, config) {
        return Vec::new();
    }
    let freed = Freed::from(decided);
    let mut offered_to: HashMap<CustomerId, u32> = HashMap::new();
    let mut facts = Vec::new();
    for (i, section) in config.sections.iter().enumerate() {
        let mut line = state.waitlist.waiting_in(&section.section_id).peekable();
        if line.peek().is_none() {
            continue;
        }
        let mut pool = Pool::of(view, i, &section.section_id, &freed);
        for entry in line {
            if pool.free == 0 {
                break;
            }
            let hold_id = HoldId::offered_to(entry.waitlist_id);
            if entry.quantity > pool.free
                || state.hold(&hold_id).is_some()
                || freed.left.contains(&entry.waitlist_id)
            {
                continue;
            }
            let tickets = view
                .tickets_of(&entry.customer_id)
                .saturating_sub(freed.of_customer(&entry.customer_id))
                + offered_to.get(&entry.customer_id).copied().unwrap_or(0);
            if tickets + entry.quantity > config.max_tickets_per_customer {
                continue;
            }
            let Some(seats) = pool.take(entry) else {
                continue;
            };
            *offered_to.entry(entry.customer_id.clone()).or_default() += entry.quantity;
            facts.push(InventoryEvent::SeatsHeld {
                hold_id,
                customer_id: entry.customer_id.clone(),
                section_id: entry.section_id.clone(),
                seats,
                quantity: entry.quantity,
                expires_at: view
                    .now
                    .saturating_add(Duration::seconds(i64::from(config.hold_ttl_seconds))),
                request: Selection::Quantity(entry.quantity),
            });
            facts.push(InventoryEvent::WaitlistOffered {
                waitlist_id: entry.waitlist_id,
                customer_id: entry.customer_id.clone(),
                hold_id,
            });
        }
    }
    facts
}

fn in_sale_window(view: &LiveView<'_>, config: &SaleConfig) -> bool {
    config.sale_opens_at.is_none_or(|opens| view.now >= opens) && !config.closed(view.now)
}

/// What a decision's own facts give back, on top of the view: holds released or returned.
#[derive(Default)]
struct Freed<'f> {
    by_section: HashMap<&'f SectionId, (u32, Vec<&'f SeatLabel>)>,
    by_customer: HashMap<&'f CustomerId, u32>,
    /// Entries that end in this decision.
    left: Vec<WaitlistId>,
}

impl<'f> Freed<'f> {
    fn from(decided: &'f [InventoryEvent]) -> Self {
        let mut freed = Freed::default();
        for fact in decided {
            let (customer, section, seats, quantity) = match fact {
                InventoryEvent::HoldReleased {
                    customer_id,
                    section_id,
                    seats,
                    quantity,
                    ..
                }
                | InventoryEvent::SeatsReturned {
                    customer_id,
                    section_id,
                    seats,
                    quantity,
                    ..
                } => (customer_id, section_id, seats, *quantity),
                InventoryEvent::WaitlistLeft { waitlist_id, .. } => {
                    freed.left.push(*waitlist_id);
                    continue;
                }
                // A block has no customer: its seats only come back to the section.
                InventoryEvent::BlockReleased {
                    section_id,
                    seats,
                    quantity,
                    ..
                } => {
                    let (count, labels) = freed.by_section.entry(section_id).or_default();
                    *count += quantity;
                    labels.extend(seats);
                    continue;
                }
                _ => continue,
            };
            let (count, labels) = freed.by_section.entry(section).or_default();
            *count += quantity;
            labels.extend(seats);
            *freed.by_customer.entry(customer).or_default() += quantity;
        }
        freed
    }

    fn of_customer(&self, customer: &CustomerId) -> u32 {
        self.by_customer.get(customer).copied().unwrap_or(0)
    }
}

/// The free seats of one section after the decision, as offers take them.
struct Pool {
    free: u32,
    /// Seated sections: which seats are free, row by row; `None` for general admission.
    grid: Option<FreeGrid>,
    labels: Vec<Vec<Option<SeatLabel>>>,
}

impl Pool {
    fn of(view: &LiveView<'_>, section: usize, section_id: &SectionId, freed: &Freed<'_>) -> Self {
        let (freed_count, freed_seats) = freed
            .by_section
            .get(section_id)
            .map_or((0, &[][..]), |(n, seats)| (*n, seats.as_slice()));
        let free = view.free_in_section(section) + freed_count;
        let seats = &view.state.index.sections[section];
        let (grid, labels) = match view
            .seat_map(section)
            .filter(|_| seats.is_seated() && free > 0)
        {
            None => (None, Vec::new()),
            Some(map) => {
                let mut rows: Vec<Vec<bool>> = (0..map.rows())
                    .map(|row| {
                        (0..map.seats_in_row(row))
                            .map(|seat| map.is_free(row, seat))
                            .collect()
                    })
                    .collect();
                for seat in freed_seats {
                    if let Some((row, index)) = seats.locate(seat) {
                        rows[row][index] = true;
                    }
                }
                let labels = rows
                    .iter()
                    .enumerate()
                    .map(|(row, row_seats)| {
                        (0..row_seats.len())
                            .map(|seat| seats.label(row, seat))
                            .collect()
                    })
                    .collect();
                (Some(FreeGrid::new(rows)), labels)
            }
        };
        Pool { free, grid, labels }
    }

    /// The seats this entry is offered, taken from the pool; `None` when they are not there.
    /// General admission names no seat.
    fn take(&mut self, entry: &WaitlistEntry) -> Option<Vec<SeatLabel>> {
        let quantity = entry.quantity as usize;
        let Some(grid) = &mut self.grid else {
            self.free -= entry.quantity;
            return Some(Vec::new());
        };
        let picked: Vec<(usize, usize)> = match best_available(grid, quantity) {
            Some(block) => (block.first..block.first + block.len)
                .map(|seat| (block.row, seat))
                .collect(),
            None if entry.adjacent => return None,
            None => grid.best_scattered(quantity)?,
        };
        let mut seats = Vec::with_capacity(quantity);
        for (row, seat) in picked {
            grid.take(row, seat);
            seats.push(self.labels[row][seat].clone()?);
        }
        self.free -= entry.quantity;
        Some(seats)
    }
}

/// Free seats row by row, for the best-available search and for scattered picks.
struct FreeGrid {
    rows: Vec<Vec<bool>>,
    free_in_row: Vec<usize>,
}

impl FreeGrid {
    fn new(rows: Vec<Vec<bool>>) -> Self {
        let free_in_row = rows
            .iter()
            .map(|row| row.iter().filter(|f| **f).count())
            .collect();
        Self { rows, free_in_row }
    }

    fn take(&mut self, row: usize, seat: usize) {
        if std::mem::replace(&mut self.rows[row][seat], false) {
            self.free_in_row[row] -= 1;
        }
    }

    /// `quantity` free seats not side by side: the earliest rows first, each row's seats nearest
    /// its centre first.
    fn best_scattered(&self, quantity: usize) -> Option<Vec<(usize, usize)>> {
        let mut picked = Vec::with_capacity(quantity);
        for (row, seats) in self.rows.iter().enumerate() {
            let mut free: Vec<usize> = (0..seats.len()).filter(|&s| seats[s]).collect();
            // Twice the distance to the centre, then the lower seat: integers, no ties.
            free.sort_by_key(|&s| ((2 * s + 1).abs_diff(seats.len()), s));
            for seat in free {
                picked.push((row, seat));
                if picked.len() == quantity {
                    return Some(picked);
                }
            }
        }
        None
    }
}

impl SeatMap for FreeGrid {
    fn rows(&self) -> usize {
        self.rows.len()
    }

    fn seats_in_row(&self, row: usize) -> usize {
        self.rows[row].len()
    }

    fn free_in_row(&self, row: usize) -> usize {
        self.free_in_row[row]
    }

    fn is_free(&self, row: usize, seat: usize) -> bool {
        self.rows[row][seat]
    }
}
