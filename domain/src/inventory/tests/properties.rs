//! Property tests: random sales (four customers on the fixture's general-admission, seated and box
//! sections; time moving forward; holds, retries, releases, checkouts, abandoned checkouts,
//! expiries, sales and returns, a waiting list that customers join and leave, and an operator's
//! seat blocks made and released)
//! keep every promise of the inventory after every step. The expectations are recounted the slow, obvious way
//! from the holds, not read from the indexes under test.

use super::*;
use crate::ids::{HoldId, OrderId};
use crate::inventory::{
    decide, EventInventory, HoldStatus, InventoryError, SeatStatus, SectionAvailability,
    WaitlistStatus,
};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::HashMap;

#[derive(Debug, Clone)]
enum Op {
    /// Time moves forward by this many seconds.
    Advance(i64),
    PlaceQuantity {
        customer: usize,
        key: u8,
        section: usize,
        quantity: u32,
    },
    PlaceSeats {
        customer: usize,
        key: u8,
        section: usize,
        seats: Vec<(usize, u32)>,
    },
    /// Repeat a hold request that was accepted earlier.
    Retry(Index),
    Release {
        hold: Index,
        by_owner: bool,
    },
    Checkout {
        hold: Index,
        order: u128,
        by_owner: bool,
    },
    /// Sell a hold, mostly to the order that checked it out.
    Sell {
        hold: Index,
        order: u128,
        to_its_order: bool,
    },
    Return {
        order: u128,
    },
    /// Abandon a checkout, mostly by the order that checked the hold out.
    Abandon {
        hold: Index,
        order: u128,
        by_its_order: bool,
    },
    ExpireDue,
    JoinWaitlist {
        customer: usize,
        key: u8,
        section: usize,
        quantity: u32,
        adjacent: bool,
    },
    LeaveWaitlist {
        entry: Index,
        by_owner: bool,
    },
    /// An operator cancels the event.
    Cancel,
    /// An operator blocks named seats (when `seats` is not empty) or a quantity.
    Block {
        key: u8,
        section: usize,
        seats: Vec<(usize, u32)>,
        quantity: u32,
    },
    /// An operator releases one of the blocks made so far.
    ReleaseBlock(Index),
}

const CUSTOMERS: [&str; 4] = ["alice", "bob", "carol", "dave"];
const SECTIONS: [&str; 3] = ["floor", "stalls", "boxes"];

fn op() -> impl Strategy<Value = Op> {
    let quantity = prop_oneof![12 => 1..=4u32, 1 => Just(0u32), 1 => Just(MAX + 1)];
    let named = prop_oneof![
        1 => Just(Vec::new()),
        12 => prop::collection::vec((0..16usize, 0..1000u32), 1..4),
    ];
    prop_oneof![
        6 => (0i64..400).prop_map(Op::Advance),
        // Now and then a long pause: every hold lapses, and the sale may close.
        1 => prop_oneof![9 => Just(2 * TTL), 1 => Just(CLOSES / 2)].prop_map(Op::Advance),
        6 => (0..4usize, 0..10u8, 0..3usize, quantity).prop_map(|(customer, key, section, quantity)| {
            Op::PlaceQuantity { customer, key, section, quantity }
        }),
        5 => (0..4usize, 0..10u8, prop_oneof![1 => Just(0usize), 6 => Just(1), 3 => Just(2)], named)
            .prop_map(|(customer, key, section, seats)| Op::PlaceSeats { customer, key, section, seats }),
        2 => any::<Index>().prop_map(Op::Retry),
        2 => (any::<Index>(), prop::bool::weighted(0.8))
            .prop_map(|(hold, by_owner)| Op::Release { hold, by_owner }),
        3 => (any::<Index>(), 1..5u128, prop::bool::weighted(0.9))
            .prop_map(|(hold, order, by_owner)| Op::Checkout { hold, order, by_owner }),
        3 => (any::<Index>(), 1..5u128, prop::bool::weighted(0.8))
            .prop_map(|(hold, order, to_its_order)| Op::Sell { hold, order, to_its_order }),
        1 => (1..5u128).prop_map(|order| Op::Return { order }),
        2 => (any::<Index>(), 1..5u128, prop::bool::weighted(0.8))
            .prop_map(|(hold, order, by_its_order)| Op::Abandon { hold, order, by_its_order }),
        1 => Just(Op::ExpireDue),
        3 => (0..4usize, 0..10u8, 0..3usize, 1..=3u32, any::<bool>()).prop_map(
            |(customer, key, section, quantity, adjacent)| {
                Op::JoinWaitlist { customer, key, section, quantity, adjacent }
            }
        ),
        1 => (any::<Index>(), prop::bool::weighted(0.9))
            .prop_map(|(entry, by_owner)| Op::LeaveWaitlist { entry, by_owner }),
        2 => (0..6u8, 0..3usize, prop::collection::vec((0..16usize, 0..1000u32), 0..4), 0..=4u32)
            .prop_map(|(key, section, seats, quantity)| Op::Block { key, section, seats, quantity }),
        2 => any::<Index>().prop_map(Op::ReleaseBlock),
    ]
}

/// Ops of a sold-out sale: joins and leaves of the waiting list among the usual ones.
fn waitlist_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..4usize, 0..10u8, prop_oneof![Just(0usize), Just(2)], 1..=3u32, any::<bool>())
            .prop_map(|(customer, key, section, quantity, adjacent)| {
                Op::JoinWaitlist { customer, key, section, quantity, adjacent }
            }),
        1 => (any::<Index>(), prop::bool::weighted(0.9))
            .prop_map(|(entry, by_owner)| Op::LeaveWaitlist { entry, by_owner }),
        6 => op(),
        // Rarely: the rest of the run is a cancelled sale being settled.
        1 => prop::bool::weighted(0.1).prop_map(|cancel| match cancel {
            true => Op::Cancel,
            false => Op::ExpireDue,
        }),
    ]
}

/// A seat of a section from two random numbers: mostly real seats, now and then one that does not
/// exist (row Z, or one number past the end of its row).
fn seat_in(section: &str, row: usize, number: u32) -> SeatLabel {
    let rows: &[(&str, u32)] = match section {
        "boxes" => &[("X", 3), ("Y", 2)],
        _ => &[("A", 10), ("B", 10), ("C", 10)],
    };
    let (label, seats) = match row {
        15 => ("Z", 10),
        _ => rows[row % rows.len()],
    };
    SeatLabel::new(label.parse().unwrap(), number % (seats + 1) + 1).unwrap()
}

/// A random sale as it runs: the state, every fact decided so far, and the clock.
struct Sale {
    state: EventInventory,
    log: Vec<InventoryEvent>,
    now: Timestamp,
    accepted: Vec<InventoryCommand>,
}

impl Sale {
    fn new() -> Self {
        Self::after(vec![opened()])
    }

    /// A sale that starts from these facts.
    fn after(log: Vec<InventoryEvent>) -> Self {
        let state = log.iter().fold(EventInventory::default(), |s, e| {
            crate::inventory::evolve(s, e)
        });
        Sale {
            state,
            log,
            now: T0,
            accepted: Vec::new(),
        }
    }

    /// The floor and the boxes sold out at `T0`, in holds of all four customers.
    fn sold_out() -> Self {
        let boxes = |who: &CustomerId, key: &str, labels: &[&str]| {
            held(
                who,
                key,
                "boxes",
                labels,
                Selection::Seats(seats(labels)),
                0,
            )
        };
        Self::after(vec![
            opened(),
            held_floor(&customer("alice"), "pa", 4, 0),
            held_floor(&customer("bob"), "pb", 6, 0),
            boxes(&customer("carol"), "pc", &["X-1", "X-2", "X-3"]),
            boxes(&customer("dave"), "pd", &["Y-1", "Y-2"]),
        ])
    }

    /// The command an op stands for at this point of the sale (`None` when it needs a hold and
    /// there is none yet).
    fn command(&self, op: &Op) -> Option<InventoryCommand> {
        let pick_hold = |index: &Index| {
            let holds: Vec<_> = self.state.holds().collect();
            (!holds.is_empty()).then(|| holds[index.index(holds.len())].clone().into_owned())
        };
        Some(match op {
            Op::Advance(_) => return None,
            Op::PlaceQuantity {
                customer: c,
                key,
                section: s,
                quantity,
            } => place_quantity(
                &customer(CUSTOMERS[*c]),
                &key.to_string(),
                SECTIONS[*s],
                *quantity,
            ),
            Op::PlaceSeats {
                customer: c,
                key,
                section: s,
                seats,
            } => {
                let labels = seats
                    .iter()
                    .map(|(row, number)| seat_in(SECTIONS[*s], *row, *number))
                    .collect();
                place(
                    &customer(CUSTOMERS[*c]),
                    &key.to_string(),
                    SECTIONS[*s],
                    Selection::Seats(labels),
                )
            }
            Op::Retry(index) if !self.accepted.is_empty() => {
                self.accepted[index.index(self.accepted.len())].clone()
            }
            Op::Retry(_) => return None,
            Op::Release { hold, by_owner } => {
                let hold = pick_hold(hold)?;
                let by = match by_owner {
                    true => hold.customer_id,
                    false => customer("mallory"),
                };
                InventoryCommand::ReleaseHold {
                    hold_id: hold.hold_id,
                    customer_id: by,
                }
            }
            Op::Checkout {
                hold,
                order: n,
                by_owner,
            } => {
                let hold = pick_hold(hold)?;
                InventoryCommand::CheckoutHold {
                    hold_id: hold.hold_id,
                    order_id: order(*n),
                    customer_id: match by_owner {
                        true => hold.customer_id,
                        false => customer("mallory"),
                    },
                }
            }
            Op::Sell {
                hold,
                order: n,
                to_its_order,
            } => {
                let hold = pick_hold(hold)?;
                InventoryCommand::SellHold {
                    hold_id: hold.hold_id,
                    order_id: match (to_its_order, hold.order_id) {
                        (true, Some(its)) => its,
                        _ => order(*n),
                    },
                }
            }
            Op::Return { order: n } => InventoryCommand::ReturnSeats {
                order_id: order(*n),
            },
            Op::Abandon {
                hold,
                order: n,
                by_its_order,
            } => {
                let hold = pick_hold(hold)?;
                InventoryCommand::AbandonCheckout {
                    hold_id: hold.hold_id,
                    order_id: match (by_its_order, hold.order_id) {
                        (true, Some(its)) => its,
                        _ => order(*n),
                    },
                }
            }
            Op::ExpireDue => InventoryCommand::ExpireDue,
            Op::Cancel => InventoryCommand::CancelSale,
            Op::JoinWaitlist {
                customer: c,
                key,
                section: s,
                quantity,
                adjacent,
            } => {
                let who = customer(CUSTOMERS[*c]);
                InventoryCommand::JoinWaitlist {
                    waitlist_id: waitlist_id(&who, &key.to_string()),
                    customer_id: who,
                    section_id: section(SECTIONS[*s]),
                    quantity: *quantity,
                    adjacent: *adjacent,
                }
            }
            Op::Block {
                key,
                section: s,
                seats,
                quantity,
            } => InventoryCommand::BlockSeats {
                block_id: super::blocks::block_id(&format!("blk{key}")),
                section_id: section(SECTIONS[*s]),
                selection: match seats.is_empty() {
                    true => Selection::Quantity(*quantity),
                    false => Selection::Seats(
                        seats
                            .iter()
                            .map(|(row, number)| seat_in(SECTIONS[*s], *row, *number))
                            .collect(),
                    ),
                },
                reason: crate::inventory::BlockReason::parse("production").unwrap(),
            },
            Op::ReleaseBlock(index) => {
                let blocks = self.state.blocks();
                if blocks.is_empty() {
                    return None;
                }
                InventoryCommand::ReleaseBlock {
                    block_id: blocks[index.index(blocks.len())].block_id,
                }
            }
            Op::LeaveWaitlist { entry, by_owner } => {
                let entries = self.state.waitlist_entries();
                if entries.is_empty() {
                    return None;
                }
                let entry = &entries[entry.index(entries.len())];
                InventoryCommand::LeaveWaitlist {
                    waitlist_id: entry.waitlist_id,
                    customer_id: match by_owner {
                        true => entry.customer_id.clone(),
                        false => customer("mallory"),
                    },
                }
            }
        })
    }

    /// Applies an op; true when it was a decision that was taken (facts or not).
    fn step(&mut self, op: &Op) -> Result<bool, TestCaseError> {
        if let Op::Advance(seconds) = op {
            self.now += Duration::seconds(*seconds);
            return Ok(false);
        }
        let Some(command) = self.command(op) else {
            return Ok(false);
        };
        let expiries = decide(&self.state, &InventoryCommand::ExpireDue, self.now);
        let result = decide(&self.state, &command, self.now);
        let Ok(events) = result else {
            return Ok(false);
        };
        // Rule 1: every decision starts with exactly the expiries due now.
        let expiries = expiries.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(&events[..expiries.len()], &expiries[..], "{:?}", command);
        let retryable = matches!(
            command,
            InventoryCommand::PlaceHold(_)
                | InventoryCommand::CheckoutHold { .. }
                | InventoryCommand::JoinWaitlist { .. }
                | InventoryCommand::BlockSeats { .. }
                | InventoryCommand::ReleaseBlock { .. }
        );
        if retryable && events.len() > expiries.len() {
            self.accepted.push(command.clone());
        }
        // A cancelled sale takes no seats and no one joins or is offered any.
        if self.state.cancelled_at().is_some() {
            let takes = events.iter().any(|event| {
                matches!(
                    event,
                    InventoryEvent::SeatsHeld { .. }
                        | InventoryEvent::SeatsSold { .. }
                        | InventoryEvent::HoldCheckedOut { .. }
                        | InventoryEvent::WaitlistJoined { .. }
                        | InventoryEvent::WaitlistOffered { .. }
                )
            });
            prop_assert!(
                !takes,
                "{:?} decided {:?} after the cancellation",
                command,
                events
            );
        }
        for event in &events {
            self.state.apply(event);
        }
        self.log.extend(events);
        Ok(true)
    }

    /// Every promise, checked against a recount from the holds.
    fn check(&self) -> Result<(), TestCaseError> {
        let state = &self.state;
        let now = self.now;
        let live = |status: HoldStatus, expires_at: Timestamp| match status {
            HoldStatus::Active | HoldStatus::Ordered { .. } => expires_at > now,
            HoldStatus::Sold { .. } => true,
            _ => false,
        };

        // A seat is in at most one live hold or order.
        let mut seat_owner: HashMap<(SectionId, SeatLabel), SeatStatus> = HashMap::new();
        let mut tickets: HashMap<CustomerId, u32> = HashMap::new();
        let mut counts: HashMap<SectionId, (u32, u32, u32)> = HashMap::new();
        for hold in state.holds().filter(|h| live(h.status, h.expires_at)) {
            let status = match hold.status {
                HoldStatus::Sold { order_id } => SeatStatus::Sold(order_id),
                _ => SeatStatus::Held(hold.hold_id),
            };
            for seat in &hold.seats {
                let previous = seat_owner.insert((hold.section_id.clone(), seat.clone()), status);
                prop_assert!(previous.is_none(), "{seat} in two live holds");
            }
            *tickets.entry(hold.customer_id.clone()).or_default() += hold.quantity;
            let (held, sold, _) = counts.entry(hold.section_id.clone()).or_default();
            match hold.status {
                HoldStatus::Sold { .. } => *sold += hold.quantity,
                _ => *held += hold.quantity,
            }
        }
        // No seat is both blocked and held or sold, nor in two blocks.
        for block in state.blocks().iter().filter(|b| !b.released) {
            for seat in &block.seats {
                let key = (block.section_id.clone(), seat.clone());
                let previous = seat_owner.insert(key, SeatStatus::Blocked(block.block_id));
                prop_assert!(previous.is_none(), "{seat} blocked and {previous:?}");
            }
            counts.entry(block.section_id.clone()).or_default().2 += block.quantity;
        }

        // Availability matches the recount, and nothing is oversold.
        let recount: Vec<SectionAvailability> = sections()
            .iter()
            .map(|s| {
                let capacity = match &s.layout {
                    crate::catalog::SectionLayout::Seated { rows } => {
                        rows.iter().map(|r| r.seats).sum()
                    }
                    crate::catalog::SectionLayout::GeneralAdmission { capacity } => *capacity,
                };
                let (held, sold, blocked) = counts.get(&s.section_id).copied().unwrap_or_default();
                prop_assert!(
                    held + sold + blocked <= capacity,
                    "{} oversold",
                    s.section_id
                );
                Ok(SectionAvailability {
                    section_id: s.section_id.clone(),
                    capacity,
                    available: capacity - held - sold - blocked,
                    held,
                    sold,
                    blocked,
                })
            })
            .collect::<Result<_, TestCaseError>>()?;
        prop_assert_eq!(state.availability(now), recount);

        // Every seat reads as the recount says.
        for s in sections() {
            if let crate::catalog::SectionLayout::Seated { rows } = &s.layout {
                for row in rows {
                    for n in 1..=row.seats {
                        let seat = SeatLabel::new(row.row.clone(), n).unwrap();
                        let expected = seat_owner
                            .get(&(s.section_id.clone(), seat.clone()))
                            .copied()
                            .unwrap_or(SeatStatus::Available);
                        prop_assert_eq!(
                            state.seat_status(&s.section_id, &seat, now),
                            Some(expected)
                        );
                    }
                }
            }
        }

        // No customer above the limit.
        for name in CUSTOMERS {
            let c = customer(name);
            let count = tickets.get(&c).copied().unwrap_or(0);
            prop_assert!(count <= MAX, "{name} has {count}");
            prop_assert_eq!(state.customer_tickets(&c, now), count);
        }

        // The next expiry is the earliest Active or Ordered hold's.
        let earliest = state
            .holds()
            .filter(|h| h.status.is_pending())
            .map(|h| h.expires_at)
            .min();
        prop_assert_eq!(state.next_expiry(), earliest);

        // Folding the log from nothing, and loading a snapshot, give the same state and indexes.
        let folded = self.log.iter().fold(EventInventory::default(), |s, e| {
            crate::inventory::evolve(s, e)
        });
        prop_assert!(folded == *state);
        prop_assert!(folded.index == state.index, "folded indexes differ");
        let json = serde_json::to_string(state).unwrap();
        let loaded: EventInventory =
            serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(loaded.index == state.index, "snapshot indexes differ");
        // The binary form loads the same state, indexes included.
        let binary = postcard::to_allocvec(state).unwrap();
        let loaded: EventInventory =
            postcard::from_bytes(&binary).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(loaded == *state, "binary snapshot differs");
        prop_assert!(
            loaded.index == state.index,
            "binary snapshot indexes differ"
        );

        self.check_orders()?;
        self.check_blocks()?;

        // Repeating any accepted hold request or checkout decides nothing beyond the expiries due
        // now.
        let expiries = decide(state, &InventoryCommand::ExpireDue, now);
        for retry in &self.accepted {
            prop_assert_eq!(
                &decide(state, retry, now),
                &expiries,
                "retry of {:?}",
                retry
            );
        }
        Ok(())
    }
}

impl Sale {
    /// The promises of blocks, read from the log: a block is made once and released at most once,
    /// and every seat it took comes back exactly once, in its `BlockReleased`.
    fn check_blocks(&self) -> Result<(), TestCaseError> {
        let mut live: HashMap<crate::ids::BlockId, (SectionId, Vec<SeatLabel>, u32)> =
            HashMap::new();
        let mut released = std::collections::HashSet::new();
        for event in &self.log {
            match event {
                InventoryEvent::SeatsBlocked {
                    block_id,
                    section_id,
                    seats,
                    quantity,
                    ..
                } => {
                    let again =
                        live.insert(*block_id, (section_id.clone(), seats.clone(), *quantity));
                    prop_assert!(
                        again.is_none() && !released.contains(block_id),
                        "{block_id} made twice"
                    );
                }
                InventoryEvent::BlockReleased {
                    block_id,
                    section_id,
                    seats,
                    quantity,
                } => {
                    let made = live.remove(block_id);
                    prop_assert_eq!(made, Some((section_id.clone(), seats.clone(), *quantity)));
                    prop_assert!(released.insert(*block_id), "{block_id} released twice");
                }
                _ => {}
            }
        }
        for block in self.state.blocks() {
            prop_assert_eq!(block.released, released.contains(&block.block_id));
        }
        Ok(())
    }

    /// The promises of the waiting list, right after a decision at `now`: one live entry per
    /// customer; every offered entry holds its own offer; and no seat is on sale while a waiting
    /// entry could take it (inside the sale window), so every freed seat went to one place.
    fn check_waitlist(&self) -> Result<(), TestCaseError> {
        let (state, now) = (&self.state, self.now);
        let mut live = std::collections::HashSet::new();
        let open = now >= T0 && now < at(CLOSES);
        for entry in state.waitlist_entries() {
            if entry.status.is_live() {
                prop_assert!(live.insert(entry.customer_id.clone()), "two live entries");
            }
            match entry.status {
                WaitlistStatus::Offered { hold_id } => {
                    prop_assert_eq!(hold_id, HoldId::offered_to(entry.waitlist_id));
                    let hold = state.hold(&hold_id).expect("an offer's hold exists");
                    prop_assert_eq!(&hold.customer_id, &entry.customer_id);
                    prop_assert_eq!(&hold.section_id, &entry.section_id);
                    prop_assert_eq!(hold.quantity, entry.quantity);
                }
                WaitlistStatus::Waiting if open => {
                    let available = state
                        .availability(now)
                        .into_iter()
                        .find(|a| a.section_id == entry.section_id)
                        .map_or(0, |a| a.available);
                    let fits = match (entry.section_id.as_str(), entry.adjacent) {
                        ("floor", _) | (_, false) => available >= entry.quantity,
                        (seated, true) => longest_free_run(state, seated, now) >= entry.quantity,
                    };
                    let room =
                        state.customer_tickets(&entry.customer_id, now) + entry.quantity <= MAX;
                    prop_assert!(
                        !(fits && room),
                        "{} could take {} free tickets of {} but waits",
                        entry.customer_id,
                        available,
                        entry.section_id
                    );
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The promises about orders, read from the log: a hold is checked out by one order and sold
    /// at most once, only to that order; a seat is sold to one order at a time; every hold names
    /// the order its status names.
    fn check_orders(&self) -> Result<(), TestCaseError> {
        let mut checked_out: HashMap<HoldId, OrderId> = HashMap::new();
        let mut sold: HashMap<HoldId, OrderId> = HashMap::new();
        let mut seat_sold_to: HashMap<(SectionId, SeatLabel), OrderId> = HashMap::new();
        for event in &self.log {
            match event {
                InventoryEvent::HoldCheckedOut {
                    hold_id, order_id, ..
                } => {
                    let first = checked_out.insert(*hold_id, *order_id);
                    prop_assert!(first.is_none(), "{hold_id} checked out twice");
                }
                InventoryEvent::SeatsSold {
                    hold_id,
                    order_id,
                    section_id,
                    seats,
                    ..
                } => {
                    prop_assert_eq!(checked_out.get(hold_id), Some(order_id), "sold unordered");
                    let first = sold.insert(*hold_id, *order_id);
                    prop_assert!(first.is_none(), "{hold_id} sold twice");
                    for seat in seats {
                        let key = (section_id.clone(), seat.clone());
                        let before = seat_sold_to.insert(key, *order_id);
                        prop_assert!(before.is_none(), "{seat} sold to two orders");
                    }
                }
                InventoryEvent::SeatsReturned {
                    section_id, seats, ..
                } => {
                    for seat in seats {
                        seat_sold_to.remove(&(section_id.clone(), seat.clone()));
                    }
                }
                _ => {}
            }
        }
        for hold in self.state.holds() {
            let named = match hold.status {
                HoldStatus::Ordered { order_id }
                | HoldStatus::Sold { order_id }
                | HoldStatus::Returned { order_id } => Some(order_id),
                _ => None,
            };
            if named.is_some() {
                prop_assert_eq!(hold.order_id, named);
            }
            prop_assert_eq!(hold.order_id, checked_out.get(&hold.hold_id).copied());
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_step_of_a_random_sale_keeps_every_promise(ops in prop::collection::vec(op(), 1..60)) {
        let mut sale = Sale::new();
        for op in &ops {
            let decided = sale.step(op)?;
            sale.check()?;
            if decided {
                sale.check_waitlist()?;
            }
        }
    }

    /// The same promises on a sale that starts sold out, where customers mostly join and leave
    /// the waiting list while holds are released, expire, are paid and returned.
    #[test]
    fn a_sold_out_sale_with_a_waiting_list_keeps_every_promise(
        ops in prop::collection::vec(waitlist_op(), 1..60),
    ) {
        let mut sale = Sale::sold_out();
        for op in &ops {
            let decided = sale.step(op)?;
            sale.check()?;
            if decided {
                sale.check_waitlist()?;
            }
        }
    }

    #[test]
    fn quantity_holds_get_adjacent_seats_and_refusals_tell_the_truth(
        ops in prop::collection::vec(op(), 1..60),
    ) {
        let mut sale = Sale::new();
        for op in &ops {
            if let Op::PlaceQuantity { section: s, quantity, .. } = op {
                let command = sale.command(op).unwrap();
                let result = decide(&sale.state, &command, sale.now);
                let expiries = decide(&sale.state, &InventoryCommand::ExpireDue, sale.now).unwrap();
                check_quantity_decision(&sale, SECTIONS[*s], *quantity, result, expiries.len())?;
            }
            sale.step(op)?;
        }
    }
}

/// Every command worth asking of a sale at some point: each hold released, checked out, sold and
/// abandoned (by its owner and order, and by others), each order returned, an expiry, and every
/// hold request accepted so far.
fn probes(sale: &Sale) -> Vec<InventoryCommand> {
    let mut probes = vec![InventoryCommand::ExpireDue];
    for hold in sale.state.holds() {
        let its_order = hold.order_id.unwrap_or(order(1));
        for by in [hold.customer_id.clone(), customer("mallory")] {
            probes.push(InventoryCommand::ReleaseHold {
                hold_id: hold.hold_id,
                customer_id: by.clone(),
            });
            probes.push(InventoryCommand::CheckoutHold {
                hold_id: hold.hold_id,
                order_id: its_order,
                customer_id: by,
            });
        }
        for order_id in [its_order, order(9)] {
            probes.push(InventoryCommand::SellHold {
                hold_id: hold.hold_id,
                order_id,
            });
            probes.push(InventoryCommand::AbandonCheckout {
                hold_id: hold.hold_id,
                order_id,
            });
        }
    }
    probes.extend((1..6).map(|n| InventoryCommand::ReturnSeats { order_id: order(n) }));
    for entry in sale.state.waitlist_entries() {
        for by in [entry.customer_id.clone(), customer("mallory")] {
            probes.push(InventoryCommand::LeaveWaitlist {
                waitlist_id: entry.waitlist_id,
                customer_id: by,
            });
        }
    }
    for block in sale.state.blocks() {
        probes.push(InventoryCommand::ReleaseBlock {
            block_id: block.block_id,
        });
    }
    probes.extend(sale.accepted.iter().cloned());
    probes
}

/// What a decision could read of two states is the same: every hold, count and seat at `now`.
fn same_reads(
    full: &EventInventory,
    compacted: &EventInventory,
    now: Timestamp,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(full.availability(now), compacted.availability(now));
    prop_assert_eq!(full.next_expiry(), compacted.next_expiry());
    prop_assert_eq!(full.holds_count(), compacted.holds_count());
    prop_assert_eq!(full.blocks(), compacted.blocks());
    for hold in full.holds() {
        let found = compacted.hold(&hold.hold_id).map(|h| h.into_owned());
        prop_assert_eq!(Some(hold.into_owned()), found);
    }
    for name in CUSTOMERS {
        let c = customer(name);
        prop_assert_eq!(
            full.customer_tickets(&c, now),
            compacted.customer_tickets(&c, now)
        );
    }
    for s in sections() {
        if let crate::catalog::SectionLayout::Seated { rows } = &s.layout {
            for row in rows {
                for n in 1..=row.seats {
                    let seat = SeatLabel::new(row.row.clone(), n).unwrap();
                    prop_assert_eq!(
                        full.seat_status(&s.section_id, &seat, now),
                        compacted.seat_status(&s.section_id, &seat, now)
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    /// The safety argument of folding finished holds: a state whose finished holds are folded into
    /// tombstones (after every step, or now and then), and that state saved and loaded again,
    /// decide every command exactly as the state that keeps every hold whole: the same facts and
    /// the same refusals, read the same seats, counts and holds.
    #[test]
    fn a_compacted_inventory_decides_exactly_as_the_full_one(
        ops in prop::collection::vec((op(), prop::bool::weighted(0.5)), 1..80),
    ) {
        let mut full = Sale::new();
        let mut compacted = full.state.clone();
        for (op, fold_now) in &ops {
            if let Some(command) = full.command(op) {
                let decided = decide(&full.state, &command, full.now);
                prop_assert_eq!(&decide(&compacted, &command, full.now), &decided, "{:?}", command);
                if let Ok(events) = &decided {
                    for event in events {
                        compacted.apply(event);
                    }
                }
            }
            full.step(op)?;
            if *fold_now {
                compacted.fold_finished();
            }
            let now = full.now;
            same_reads(&full.state, &compacted, now)?;
            let json = serde_json::to_string(&compacted).unwrap();
            let loaded: EventInventory =
                serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
            same_reads(&full.state, &loaded, now)?;
            for probe in probes(&full) {
                let expected = decide(&full.state, &probe, now);
                prop_assert_eq!(&decide(&compacted, &probe, now), &expected, "{:?}", probe);
                prop_assert_eq!(&decide(&loaded, &probe, now), &expected, "loaded: {:?}", probe);
            }
        }
        // Every finished hold folded: the whole holds are the live ones only.
        compacted.fold_finished();
        let live = full.state.holds().filter(|h| !matches!(
            h.status,
            HoldStatus::Released | HoldStatus::Expired | HoldStatus::Returned { .. }
        )).count();
        prop_assert_eq!(compacted.whole_holds_count(), live);
    }
}

/// The free runs of each row of a seated section at `now`, read seat by seat.
fn longest_free_run(state: &EventInventory, section_id: &str, now: Timestamp) -> u32 {
    let mut longest = 0;
    for s in sections()
        .iter()
        .filter(|s| s.section_id.as_str() == section_id)
    {
        if let crate::catalog::SectionLayout::Seated { rows } = &s.layout {
            for row in rows {
                let mut run = 0;
                for n in 1..=row.seats {
                    let seat = SeatLabel::new(row.row.clone(), n).unwrap();
                    match state.seat_status(&s.section_id, &seat, now) {
                        Some(SeatStatus::Available) => run += 1,
                        _ => run = 0,
                    }
                    longest = longest.max(run);
                }
            }
        }
    }
    longest
}

fn check_quantity_decision(
    sale: &Sale,
    section_id: &str,
    quantity: u32,
    result: Result<Vec<InventoryEvent>, InventoryError>,
    expiries: usize,
) -> Result<(), TestCaseError> {
    // A decision records the due expiries, and offers their seats to the waiting list, first.
    let mut settled = sale.state.clone();
    for fact in decide(&sale.state, &InventoryCommand::ExpireDue, sale.now).unwrap() {
        settled.apply(&fact);
    }
    let available = settled
        .availability(sale.now)
        .into_iter()
        .find(|a| a.section_id.as_str() == section_id)
        .map(|a| a.available)
        .unwrap_or(0);
    let seated = section_id != "floor";
    match result {
        Ok(events) => {
            if let Some(InventoryEvent::SeatsHeld {
                seats,
                quantity: q,
                request,
                ..
            }) = events.get(expiries)
            {
                prop_assert_eq!(*q, quantity);
                prop_assert_eq!(request, &Selection::Quantity(quantity));
                if seated {
                    prop_assert_eq!(seats.len(), quantity as usize);
                    for pair in seats.windows(2) {
                        prop_assert_eq!(pair[0].row(), pair[1].row(), "one row");
                        prop_assert_eq!(pair[0].number() + 1, pair[1].number(), "adjacent");
                    }
                } else {
                    prop_assert!(seats.is_empty());
                }
            }
        }
        Err(InventoryError::SoldOut { available: said }) => {
            prop_assert_eq!(said, available);
            prop_assert!(available < quantity);
        }
        Err(InventoryError::NoAdjacentSeats { requested }) => {
            prop_assert!(seated && requested == quantity && available >= quantity);
            prop_assert!(longest_free_run(&settled, section_id, sale.now) < quantity);
        }
        Err(_) => {}
    }
    Ok(())
}
