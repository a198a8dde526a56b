//! The fold as stories (given stored holds, when these facts, then these row changes), and
//! against folding the same facts one at a time: [`Tables`] writes a fold's changes the way
//! `sql` does, so any split of a history into batches must leave the same rows as one fact per
//! batch.

use super::fold::{holds_ended_before_created, Commit, Fold};
use domain::catalog::{Row, SectionLayout};
use domain::ids::{
    CustomerId, EventId, HoldId, IdempotencyKey, OrderId, RowLabel, SeatLabel, SectionId,
};
use domain::inventory::{InventoryEvent, InventorySection, Selection};
use proptest::prelude::*;
use read_model::status::{HoldStatus, SeatStatus};
use std::collections::{BTreeMap, HashMap};
use time::macros::datetime;
use time::OffsetDateTime;
use uuid::Uuid;

const AT: OffsetDateTime = datetime!(2030-06-01 20:00 UTC);
const GA: &str = "floor";
const SEATED: &str = "stalls";
const GA_CAPACITY: u32 = 6;
/// Rows A and B of the seated section, this many seats each.
const SEATS_PER_ROW: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Section {
    capacity: i32,
    held: i64,
    sold: i64,
    blocked: i64,
    version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Seat {
    status: SeatStatus,
    expires_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Hold {
    section_id: String,
    quantity: i32,
    status: HoldStatus,
    order_id: Option<Uuid>,
    version: i64,
}

/// The inventory tables as maps, written as `sql` writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Tables {
    sections: BTreeMap<(Uuid, String), Section>,
    seats: BTreeMap<(Uuid, String, String), Seat>,
    /// Each seat map's version (the seats are the map's cells, by label).
    maps: BTreeMap<(Uuid, String), i64>,
    holds: BTreeMap<String, Hold>,
}

impl Tables {
    /// Folds `commits` as one batch and writes it, as `apply` does.
    fn project(&mut self, commits: &[Commit]) {
        let stored = holds_ended_before_created(commits)
            .into_iter()
            .filter_map(|id| self.holds.get(&id).map(|h| (id, h.status)))
            .collect();
        let mut fold = Fold::new(stored);
        for (event_id, version, at, events) in commits.iter().cloned() {
            for event in events {
                fold.apply(event_id, version, at, event);
            }
        }
        self.write(fold);
    }

    /// The statements of `sql`, in their order.
    fn write(&mut self, fold: Fold) {
        for s in &fold.opened {
            self.sections
                .entry((s.event_id, s.section_id.clone()))
                .or_insert(Section {
                    capacity: s.capacity,
                    held: 0,
                    sold: 0,
                    blocked: 0,
                    version: s.version,
                });
        }
        for m in &fold.opened_maps {
            let key = (m.event_id, m.section_id.clone());
            if self.maps.contains_key(&key) {
                continue;
            }
            self.maps.insert(key, m.version);
            for (row, seats) in m.layout.row_labels.iter().zip(&m.layout.row_seats) {
                for number in 1..=*seats {
                    self.seats.insert(
                        (m.event_id, m.section_id.clone(), format!("{row}-{number}")),
                        Seat {
                            status: SeatStatus::Available,
                            expires_at: None,
                        },
                    );
                }
            }
        }
        for (id, h) in &fold.new_holds {
            let row = self.holds.entry(id.clone()).or_insert(Hold {
                section_id: h.section_id.clone(),
                quantity: h.quantity,
                status: h.status,
                order_id: h.order_id,
                version: h.version,
            });
            row.status = h.status;
            row.order_id = h.order_id;
            row.version = h.version;
        }
        for (id, c) in &fold.hold_changes {
            if let Some(row) = self.holds.get_mut(id) {
                row.status = c.status;
                row.order_id = c.order_id.or(row.order_id);
                row.version = c.version;
            }
        }
        for (order, version) in &fold.returned {
            for row in self.holds.values_mut() {
                if row.order_id == Some(*order) && row.status == HoldStatus::Sold {
                    row.status = HoldStatus::Returned;
                    row.version = *version;
                }
            }
        }
        for (key, c) in fold.seats {
            if let Some(row) = self.seats.get_mut(&key) {
                *row = Seat {
                    status: c.status,
                    expires_at: c.expires_at,
                };
                let version = self.maps.get_mut(&(key.0, key.1)).expect("a seat of a map");
                *version = (*version).max(c.version);
            }
        }
        for (key, d) in &fold.sections {
            let row = self
                .sections
                .get_mut(key)
                .expect("a fact about a section never opened");
            row.held += d.held;
            row.sold += d.sold;
            row.blocked += d.blocked;
            row.version = d.version;
        }
    }
}

fn event() -> Uuid {
    Uuid::from_u128(7)
}

fn section(id: &str) -> SectionId {
    SectionId::parse(id).unwrap()
}

fn seat(label: &str) -> SeatLabel {
    label.parse().unwrap()
}

fn customer(n: usize) -> CustomerId {
    CustomerId::parse(&format!("c{n}")).unwrap()
}

fn hold_id(n: usize) -> HoldId {
    let key = IdempotencyKey::parse(&format!("k{n}")).unwrap();
    HoldId::derive(EventId::from_uuid(event()), &customer(n), &key)
}

fn opened() -> InventoryEvent {
    let rows = ["A", "B"]
        .iter()
        .map(|r| Row {
            row: RowLabel::parse(r).unwrap(),
            seats: SEATS_PER_ROW,
        })
        .collect();
    InventoryEvent::InventoryOpened {
        sections: vec![
            InventorySection {
                section_id: section(GA),
                price_minor: 5_000,
                layout: SectionLayout::GeneralAdmission {
                    capacity: GA_CAPACITY,
                },
                ticket_types: Vec::new(),
            },
            InventorySection {
                section_id: section(SEATED),
                price_minor: 9_000,
                layout: SectionLayout::Seated { rows },
                ticket_types: Vec::new(),
            },
        ],
        currency: "EUR".parse().unwrap(),
        hold_ttl_seconds: 600,
        max_tickets_per_customer: 100,
        sale_opens_at: None,
        sale_closes_at: None,
        waiting_room: false,
        presales: Vec::new(),
    }
}

/// A hold `n` of `seats` in the seated section, or of `quantity` on the floor when `seats` is
/// empty.
fn held(n: usize, seats: &[&str], quantity: u32) -> InventoryEvent {
    let seats: Vec<SeatLabel> = seats.iter().map(|s| seat(s)).collect();
    let (section_id, request) = if seats.is_empty() {
        (section(GA), Selection::Quantity(quantity))
    } else {
        (section(SEATED), Selection::Seats(seats.clone()))
    };
    InventoryEvent::SeatsHeld {
        hold_id: hold_id(n),
        customer_id: customer(n),
        section_id,
        quantity: if seats.is_empty() {
            quantity
        } else {
            seats.len() as u32
        },
        seats,
        expires_at: AT + time::Duration::minutes(10),
        request,
    }
}

/// The facts that end or move hold `n`, as the domain records them.
#[derive(Debug, Clone, Copy)]
enum Next {
    Release,
    Expire,
    CheckOut(OrderId),
    Sell(OrderId),
    Return(OrderId),
}

fn next(n: usize, seats: &[&str], quantity: u32, what: Next) -> InventoryEvent {
    let seats: Vec<SeatLabel> = seats.iter().map(|s| seat(s)).collect();
    let section_id = section(if seats.is_empty() { GA } else { SEATED });
    let quantity = if seats.is_empty() {
        quantity
    } else {
        seats.len() as u32
    };
    let (hold_id, customer_id) = (hold_id(n), customer(n));
    match what {
        Next::Release => InventoryEvent::HoldReleased {
            hold_id,
            customer_id,
            section_id,
            seats,
            quantity,
        },
        Next::Expire => InventoryEvent::HoldExpired {
            hold_id,
            customer_id,
            section_id,
            seats,
            quantity,
        },
        Next::CheckOut(order_id) => InventoryEvent::HoldCheckedOut {
            hold_id,
            order_id,
            customer_id,
            section_id,
            seats,
            quantity,
        },
        Next::Sell(order_id) => InventoryEvent::SeatsSold {
            hold_id,
            order_id,
            customer_id,
            section_id,
            seats,
            quantity,
        },
        Next::Return(order_id) => InventoryEvent::SeatsReturned {
            order_id,
            customer_id,
            section_id,
            seats,
            quantity,
        },
    }
}

fn commit(version: i64, events: Vec<InventoryEvent>) -> Commit {
    (event(), version, AT, events)
}

fn order(n: u128) -> OrderId {
    OrderId::from_uuid(Uuid::from_u128(1_000 + n))
}

/// Tables with the opened event and `history` applied one commit per batch.
fn given(history: Vec<Vec<InventoryEvent>>) -> Tables {
    let mut tables = Tables::default();
    tables.project(&[commit(1, vec![opened()])]);
    for (i, events) in history.into_iter().enumerate() {
        tables.project(&[commit(i as i64 + 2, events)]);
    }
    tables
}

fn floor(tables: &Tables) -> (i64, i64) {
    let s = &tables.sections[&(event(), GA.to_owned())];
    (s.held, s.sold)
}

fn hold(tables: &Tables, n: usize) -> &Hold {
    &tables.holds[&hold_id(n).to_string()]
}

fn seat_row<'a>(tables: &'a Tables, label: &str) -> &'a Seat {
    &tables.seats[&(event(), SEATED.to_owned(), label.to_owned())]
}

#[test]
fn opening_an_event_inserts_its_sections_and_every_seat_available() {
    let tables = given(vec![]);
    assert_eq!(tables.sections.len(), 2);
    assert_eq!(floor(&tables), (0, 0));
    assert_eq!(tables.seats.len(), 2 * SEATS_PER_ROW as usize);
    assert!(tables
        .seats
        .values()
        .all(|s| s.status == SeatStatus::Available));
}

#[test]
fn a_hold_counts_as_held_and_takes_its_seats() {
    let tables = given(vec![vec![held(1, &["A-1", "A-2"], 0), held(2, &[], 3)]]);
    assert_eq!(hold(&tables, 1).status, HoldStatus::Active);
    assert_eq!(seat_row(&tables, "A-1").status, SeatStatus::Held);
    assert_eq!(
        seat_row(&tables, "A-1").expires_at,
        Some(AT + time::Duration::minutes(10))
    );
    assert_eq!(tables.maps[&(event(), SEATED.to_owned())], 2);
    assert_eq!(floor(&tables), (3, 0));
    let stalls = &tables.sections[&(event(), SEATED.to_owned())];
    assert_eq!((stalls.held, stalls.sold, stalls.version), (2, 0, 2));
}

#[test]
fn a_checked_out_hold_is_ordered_and_still_held() {
    let tables = given(vec![
        vec![held(1, &[], 2)],
        vec![next(1, &[], 2, Next::CheckOut(order(1)))],
    ]);
    assert_eq!(hold(&tables, 1).status, HoldStatus::Ordered);
    assert_eq!(hold(&tables, 1).order_id, Some(order(1).as_uuid()));
    assert_eq!(floor(&tables), (2, 0));
}

#[test]
fn a_sale_moves_a_pending_hold_from_held_to_sold() {
    let tables = given(vec![
        vec![held(1, &["B-1"], 0)],
        vec![next(1, &["B-1"], 1, Next::CheckOut(order(1)))],
        vec![next(1, &["B-1"], 1, Next::Sell(order(1)))],
    ]);
    assert_eq!(hold(&tables, 1).status, HoldStatus::Sold);
    assert_eq!(seat_row(&tables, "B-1").status, SeatStatus::Sold);
    assert_eq!(seat_row(&tables, "B-1").expires_at, None);
    assert_eq!(tables.maps[&(event(), SEATED.to_owned())], 4);
}

#[test]
fn a_sale_after_the_hold_expired_does_not_count_it_off_held_twice() {
    let tables = given(vec![
        vec![held(1, &[], 2)],
        vec![next(1, &[], 2, Next::Expire)],
        vec![next(1, &[], 2, Next::Sell(order(1)))],
    ]);
    assert_eq!(floor(&tables), (0, 2));
    assert_eq!(hold(&tables, 1).status, HoldStatus::Sold);
}

#[test]
fn a_block_takes_seats_off_sale_without_a_hold_and_its_release_gives_them_back() {
    let block_id = domain::ids::BlockId::derive(
        EventId::from_uuid(event()),
        &IdempotencyKey::parse("press").unwrap(),
    );
    let blocked =
        |section_id: &str, seats: Vec<SeatLabel>, quantity| InventoryEvent::SeatsBlocked {
            block_id,
            section_id: section(section_id),
            request: Selection::Quantity(quantity),
            seats,
            quantity,
            reason: domain::inventory::BlockReason::parse("press").unwrap(),
        };
    let released =
        |section_id: &str, seats: Vec<SeatLabel>, quantity| InventoryEvent::BlockReleased {
            block_id,
            section_id: section(section_id),
            seats,
            quantity,
        };
    let tables = given(vec![vec![
        blocked(SEATED, vec![seat("A-1"), seat("A-2")], 2),
        blocked(GA, vec![], 4),
    ]]);
    assert_eq!(seat_row(&tables, "A-1").status, SeatStatus::Blocked);
    assert_eq!(seat_row(&tables, "A-1").expires_at, None);
    let stalls = &tables.sections[&(event(), SEATED.to_owned())];
    assert_eq!((stalls.held, stalls.blocked), (0, 2));
    assert_eq!(tables.sections[&(event(), GA.to_owned())].blocked, 4);
    assert!(tables.holds.is_empty());

    let tables = given(vec![
        vec![blocked(SEATED, vec![seat("A-1"), seat("A-2")], 2)],
        vec![released(SEATED, vec![seat("A-1"), seat("A-2")], 2)],
    ]);
    assert_eq!(seat_row(&tables, "A-2").status, SeatStatus::Available);
    let stalls = &tables.sections[&(event(), SEATED.to_owned())];
    assert_eq!((stalls.blocked, stalls.version), (0, 3));
}

#[test]
fn released_and_expired_holds_free_their_seats() {
    let tables = given(vec![
        vec![held(1, &["A-3"], 0), held(2, &["A-4"], 0)],
        vec![
            next(1, &["A-3"], 1, Next::Release),
            next(2, &["A-4"], 1, Next::Expire),
        ],
    ]);
    assert_eq!(hold(&tables, 1).status, HoldStatus::Released);
    assert_eq!(hold(&tables, 2).status, HoldStatus::Expired);
    assert_eq!(seat_row(&tables, "A-3").status, SeatStatus::Available);
    assert_eq!(seat_row(&tables, "A-3").expires_at, None);
    let stalls = &tables.sections[&(event(), SEATED.to_owned())];
    assert_eq!((stalls.held, stalls.sold), (0, 0));
}

#[test]
fn returned_seats_go_back_on_sale_and_their_hold_is_returned_in_the_same_batch_or_later() {
    let history = vec![
        vec![held(1, &[], 2)],
        vec![next(1, &[], 2, Next::Sell(order(1)))],
        vec![next(1, &[], 2, Next::Return(order(1)))],
    ];
    // By its order in the table (sold in an earlier batch)...
    let later = given(history.clone());
    assert_eq!(hold(&later, 1).status, HoldStatus::Returned);
    assert_eq!(floor(&later), (0, 0));
    // ... and in the fold (sold in the same batch).
    let mut together = Tables::default();
    together.project(&[
        commit(1, vec![opened()]),
        commit(2, history[0].clone()),
        commit(3, history[1].clone()),
        commit(4, history[2].clone()),
    ]);
    assert_eq!(together, later);
}

#[test]
fn a_batch_ending_a_hold_it_did_not_create_asks_for_its_stored_status() {
    let commits = [
        commit(5, vec![held(2, &[], 1), next(2, &[], 1, Next::Release)]),
        commit(6, vec![next(1, &[], 1, Next::Expire)]),
    ];
    assert_eq!(
        holds_ended_before_created(&commits),
        vec![hold_id(1).to_string()]
    );
}

/// What a generated step does to hold `pick` (modulo the holds there are), or a new hold.
#[derive(Debug, Clone, Copy)]
enum Step {
    HoldFloor(u32),
    HoldSeats(usize),
    Release(usize),
    Expire(usize),
    CheckOut(usize),
    Sell(usize),
    Return(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u32..=3).prop_map(Step::HoldFloor),
        (0usize..8).prop_map(Step::HoldSeats),
        any::<usize>().prop_map(Step::Release),
        any::<usize>().prop_map(Step::Expire),
        any::<usize>().prop_map(Step::CheckOut),
        any::<usize>().prop_map(Step::Sell),
        any::<usize>().prop_map(Step::Return),
    ]
}

#[derive(Clone, Copy, PartialEq)]
enum Life {
    Active,
    Ordered(OrderId),
    Sold(OrderId),
    Over,
}

/// Turns steps into a valid history (a step that would break a rule is skipped): the facts the
/// domain would record, one per step.
fn history(steps: &[Step]) -> Vec<InventoryEvent> {
    let labels: Vec<String> = ["A", "B"]
        .iter()
        .flat_map(|r| (1..=SEATS_PER_ROW).map(move |n| format!("{r}-{n}")))
        .collect();
    let mut taken = vec![false; labels.len()];
    let mut floor_free = GA_CAPACITY;
    let mut holds: Vec<(Vec<usize>, u32, Life)> = Vec::new();
    let mut facts = vec![opened()];
    for (i, s) in steps.iter().enumerate() {
        let pick = |k: usize| (!holds.is_empty()).then(|| k % holds.len());
        match *s {
            Step::HoldFloor(q) if q <= floor_free => {
                floor_free -= q;
                holds.push((vec![], q, Life::Active));
                facts.push(held(holds.len(), &[], q));
            }
            Step::HoldSeats(from) => {
                let Some(free) = (0..labels.len())
                    .map(|k| (from + k) % labels.len())
                    .find(|k| !taken[*k])
                else {
                    continue;
                };
                taken[free] = true;
                holds.push((vec![free], 1, Life::Active));
                facts.push(held(holds.len(), &[&labels[free]], 1));
            }
            Step::Release(k)
            | Step::Expire(k)
            | Step::CheckOut(k)
            | Step::Sell(k)
            | Step::Return(k) => {
                let Some(h) = pick(k) else { continue };
                let n = h + 1;
                let (seats, q, life) = holds[h].clone();
                let names: Vec<&str> = seats.iter().map(|s| labels[*s].as_str()).collect();
                let pending = matches!(life, Life::Active | Life::Ordered(_));
                let order_id = match life {
                    Life::Ordered(o) | Life::Sold(o) => o,
                    _ => order(i as u128),
                };
                let (fact, after) = match *s {
                    Step::Release(_) if pending => (Next::Release, Life::Over),
                    Step::Expire(_) if pending => (Next::Expire, Life::Over),
                    Step::CheckOut(_) if life == Life::Active => {
                        (Next::CheckOut(order_id), Life::Ordered(order_id))
                    }
                    Step::Sell(_) if pending => (Next::Sell(order_id), Life::Sold(order_id)),
                    Step::Return(_) if matches!(life, Life::Sold(_)) => {
                        (Next::Return(order_id), Life::Over)
                    }
                    _ => continue,
                };
                if matches!(fact, Next::Release | Next::Expire | Next::Return(_)) {
                    seats.iter().for_each(|s| taken[*s] = false);
                    if seats.is_empty() {
                        floor_free += q;
                    }
                }
                holds[h].2 = after;
                facts.push(next(n, &names, q, fact));
            }
            Step::HoldFloor(_) => {}
        }
    }
    facts
}

/// `facts` grouped into commits of the given sizes (cycled), each its own version.
fn commits(facts: Vec<InventoryEvent>, sizes: &[usize]) -> Vec<Commit> {
    let mut out = Vec::new();
    let mut facts = facts.into_iter().peekable();
    let mut i = 0;
    while facts.peek().is_some() {
        let size = sizes[i % sizes.len()].max(1);
        out.push(commit(i as i64 + 1, facts.by_ref().take(size).collect()));
        i += 1;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any split of a history into commits and batches leaves the rows that applying its facts
    /// one at a time leaves: a batch's fold is the composition of its facts.
    #[test]
    fn a_batch_leaves_the_rows_its_facts_leave_one_at_a_time(
        steps in prop::collection::vec(step(), 1..60),
        commit_sizes in prop::collection::vec(1usize..4, 1..8),
        batch_sizes in prop::collection::vec(1usize..6, 1..8),
    ) {
        let facts = history(&steps);
        let grouped = commits(facts, &commit_sizes);

        let mut one_by_one = Tables::default();
        for (event_id, version, at, events) in &grouped {
            for fact in events {
                one_by_one.project(&[(*event_id, *version, *at, vec![fact.clone()])]);
            }
        }

        let mut batched = Tables::default();
        let mut rest = grouped.as_slice();
        let mut i = 0;
        while !rest.is_empty() {
            let size = batch_sizes[i % batch_sizes.len()].min(rest.len());
            batched.project(&rest[..size]);
            rest = &rest[size..];
            i += 1;
        }
        prop_assert_eq!(&batched, &one_by_one);

        // And the counts are the holds': held is what pending holds hold, sold what sold ones do.
        let mut expected: HashMap<String, (i64, i64)> = HashMap::new();
        for h in one_by_one.holds.values() {
            let e = expected.entry(h.section_id.clone()).or_default();
            if h.status.is_pending() { e.0 += i64::from(h.quantity); }
            if h.status == HoldStatus::Sold { e.1 += i64::from(h.quantity); }
        }
        for ((_, id), s) in &one_by_one.sections {
            prop_assert_eq!((s.held, s.sold), expected.get(id).copied().unwrap_or_default(), "section {}", id);
        }
    }
}
