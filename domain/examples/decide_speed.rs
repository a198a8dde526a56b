//! How long deciding one hold takes, in memory: the part of a flash sale that one writer task does
//! alone for every command. Measured, not asserted. Run it optimised:
//!
//! ```text
//! cargo run --release -p domain --example decide_speed
//! ```
//!
//! Commands are built before the clock starts (deriving a hold id hashes); each figure is the
//! time of `decide` alone, and of `decide` followed by applying its facts, per command.

use domain::catalog::{Row, SectionLayout};
use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, RowLabel, SeatLabel, SectionId};
use domain::inventory::{
    decide, EventInventory, HoldRequest, InventoryCommand, InventoryEvent, InventorySection,
    Selection,
};
use domain::Timestamp;
use std::time::{Duration as Elapsed, Instant};
use time::macros::datetime;
use time::Duration;

const T0: Timestamp = datetime!(2030-06-01 18:00 UTC);

fn main() {
    general_admission();
    seated_quantities();
    seated_named_seats();
    seated_with_expiries_every_step();
    seated_worst_case_every_block_orphans();
}

/// A 1M-capacity general-admission floor, 200k holds of two tickets.
fn general_admission() {
    let floor = InventorySection {
        section_id: SectionId::parse("floor").unwrap(),
        price_minor: 5_000,
        layout: SectionLayout::GeneralAdmission {
            capacity: 1_000_000,
        },
        ticket_types: Vec::new(),
    };
    let commands: Vec<_> = (0..200_000)
        .map(|i| hold(i, "floor", Selection::Quantity(2)))
        .collect();
    run(
        "GA quantity 2, 1M capacity",
        open(vec![floor], 600),
        &commands,
        |_| T0,
    );
}

/// A 20k-seat section (200 rows of 100) filled by quantity holds of 1 to 4 until nothing is left.
fn seated_quantities() {
    let commands: Vec<_> = (0..12_000)
        .map(|i| hold(i, "arena", Selection::Quantity(1 + (i as u32 * 7) % 4)))
        .collect();
    run(
        "seated best available, 20k seats",
        open(vec![arena()], 600),
        &commands,
        |_| T0,
    );
}

/// The same section, two named seats at a time, scattered (some taken: refusals count too).
fn seated_named_seats() {
    let commands: Vec<_> = (0..10_000)
        .map(|i| {
            let row = (i * 37) % 200;
            let number = 1 + (i * 53) % 99;
            let seats = vec![seat(row, number), seat(row, number + 1)];
            hold(i, "arena", Selection::Seats(seats))
        })
        .collect();
    run(
        "seated named seats, 20k seats",
        open(vec![arena()], 600),
        &commands,
        |_| T0,
    );
}

/// Holds live 5 s and a command arrives every millisecond: about one hold falls due per decision,
/// which records its expiry first (the lazy path), in a section kept about a quarter full.
fn seated_with_expiries_every_step() {
    let commands: Vec<_> = (0..50_000)
        .map(|i| hold(i, "arena", Selection::Quantity(1 + (i as u32 * 7) % 4)))
        .collect();
    run(
        "seated best available with expiries, 20k seats",
        open(vec![arena()], 5),
        &commands,
        |i| T0 + Duration::milliseconds(i as i64),
    );
}

/// The slowest case of the search: every row is cut into free runs of three, so every pair would
/// orphan a seat and every row must be scanned before the least bad pair is taken.
fn seated_worst_case_every_block_orphans() {
    let mut state = open(vec![arena()], 600);
    let mut i = 0;
    for row in 0..200 {
        for number in (4..=100).step_by(4) {
            let command = hold(i, "arena", Selection::Seats(vec![seat(row, number)]));
            for event in decide(&state, &command, T0).unwrap() {
                state.apply(&event);
            }
            i += 1;
        }
    }
    let commands: Vec<_> = (i..i + 2_000)
        .map(|i| hold(i, "arena", Selection::Quantity(2)))
        .collect();
    run(
        "seated worst case (every pair orphans), 20k seats",
        state,
        &commands,
        |_| T0,
    );
}

fn run(
    name: &str,
    mut state: EventInventory,
    commands: &[InventoryCommand],
    now: impl Fn(usize) -> Timestamp,
) {
    let (mut deciding, mut applying) = (Elapsed::ZERO, Elapsed::ZERO);
    let mut each = Vec::with_capacity(commands.len());
    let (mut held, mut refused) = (0, 0);
    for (i, command) in commands.iter().enumerate() {
        let started = Instant::now();
        let result = decide(&state, command, now(i));
        let decided = Instant::now();
        match result {
            Ok(events) => {
                for event in &events {
                    state.apply(event);
                }
                held += events
                    .iter()
                    .filter(|e| matches!(e, InventoryEvent::SeatsHeld { .. }))
                    .count();
            }
            Err(_) => refused += 1,
        }
        applying += decided.elapsed();
        deciding += decided - started;
        each.push(decided - started);
    }
    let per = |total: Elapsed| total.as_nanos() / commands.len() as u128;
    println!(
        "{name}: {} commands ({held} held, {refused} refused): decide {} ns, decide + apply {} ns \
         per command; decide p99 {} ns",
        commands.len(),
        per(deciding),
        per(deciding + applying),
        p99(&mut each).as_nanos(),
    );
}

/// The 99th percentile: the slowest decisions bar a few that the OS preempted.
fn p99(times: &mut [Elapsed]) -> Elapsed {
    times.sort_unstable();
    times
        .get(times.len() * 99 / 100)
        .copied()
        .unwrap_or_default()
}

fn open(sections: Vec<InventorySection>, hold_ttl_seconds: u32) -> EventInventory {
    let open = InventoryCommand::Open {
        sections,
        currency: "EUR".parse().unwrap(),
        hold_ttl_seconds,
        max_tickets_per_customer: 8,
        sale_opens_at: None,
        sale_closes_at: None,
        waiting_room: false,
        presales: Vec::new(),
    };
    let mut state = EventInventory::default();
    for event in decide(&state, &open, T0).unwrap() {
        state.apply(&event);
    }
    state
}

fn arena() -> InventorySection {
    InventorySection {
        section_id: SectionId::parse("arena").unwrap(),
        price_minor: 9_000,
        layout: SectionLayout::Seated {
            rows: (0..200)
                .map(|r| Row {
                    row: row_label(r),
                    seats: 100,
                })
                .collect(),
        },
        ticket_types: Vec::new(),
    }
}

fn row_label(row: usize) -> RowLabel {
    RowLabel::parse(&format!("R{row}")).unwrap()
}

fn seat(row: usize, number: usize) -> SeatLabel {
    SeatLabel::new(row_label(row), number as u32).unwrap()
}

/// One customer per hold: the per-customer limit never gets in the way of the measurement.
fn hold(i: usize, section: &str, selection: Selection) -> InventoryCommand {
    let customer = CustomerId::parse(&format!("customer-{i}")).unwrap();
    let key = IdempotencyKey::parse("k").unwrap();
    InventoryCommand::PlaceHold(HoldRequest {
        hold_id: HoldId::derive(EventId::from_uuid(uuid::Uuid::nil()), &customer, &key),
        customer_id: customer,
        section_id: SectionId::parse(section).unwrap(),
        selection,
        admission: None,
        access_code: None,
        type_id: None,
    })
}
