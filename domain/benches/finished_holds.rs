//! Memory per finished hold, and what folding costs on the hot path.
//!
//! A long sale: hold after hold (2 seats, best available in a 10,000-seat section, or 2 tickets of
//! general admission), one a second, each released at once or left to expire 600 s later, by 1,000
//! customers in turn. Run once keeping every finished hold whole (as every version before
//! tombstones did) and once folding them (`EventInventory::compact` after every decision, as the
//! writer does after every commit). Heap bytes are counted by a global allocator: what the process
//! holds after the sale, less what it held before.
//!
//! `cargo bench -p domain --bench finished_holds` (`TV_BENCH_HOLDS`, default 200,000).

use domain::catalog::{Row, SectionLayout};
use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, SectionId};
use domain::inventory::{
    decide, EventInventory, HoldRequest, InventoryCommand, InventoryEvent, InventorySection,
    Selection,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Counting;
static HEAP: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HEAP.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        HEAP.fetch_add(new_size, Ordering::Relaxed);
        HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const TTL: i64 = 600;

fn opened() -> InventoryEvent {
    let rows = (0..100)
        .map(|r| Row {
            row: format!("R{r}").parse().unwrap(),
            seats: 100,
        })
        .collect();
    InventoryEvent::InventoryOpened {
        sections: vec![
            InventorySection {
                section_id: SectionId::parse("floor").unwrap(),
                price_minor: 3_000,
                layout: SectionLayout::GeneralAdmission { capacity: 10_000 },
                ticket_types: Vec::new(),
            },
            InventorySection {
                section_id: SectionId::parse("stalls").unwrap(),
                price_minor: 4_500,
                layout: SectionLayout::Seated { rows },
                ticket_types: Vec::new(),
            },
        ],
        currency: "EUR".parse().unwrap(),
        hold_ttl_seconds: TTL as u32,
        max_tickets_per_customer: 8,
        sale_opens_at: None,
        sale_closes_at: None,
        waiting_room: false,
        presales: Vec::new(),
    }
}

struct Run {
    heap: usize,
    whole: usize,
    positions: usize,
    per_decision: Duration,
}

/// The sale; `positions` stands for the writer's first position of every hold (a retried request
/// is answered with it), kept beside the aggregate.
fn sale(holds: usize, fold: bool) -> Run {
    let event = EventId::from_uuid(uuid::Uuid::from_u128(0xbe));
    let customers: Vec<CustomerId> = (0..1_000)
        .map(|c| CustomerId::parse(&format!("customer-{c:04}@example.com")).unwrap())
        .collect();
    let before = HEAP.load(Ordering::Relaxed);
    let mut state = EventInventory::default();
    state.apply(&opened());
    let mut positions: HashMap<HoldId, u64> = HashMap::new();
    let start = time::macros::datetime!(2030-06-01 18:00 UTC);
    let started = Instant::now();
    let mut decisions = 0u32;
    for i in 0..holds {
        let now = start + time::Duration::seconds(i as i64);
        let customer = &customers[i % customers.len()];
        let key = IdempotencyKey::parse(&format!("key-{i}")).unwrap();
        let hold_id = HoldId::derive(event, customer, &key);
        let section = ["stalls", "floor"][i % 2];
        let place = InventoryCommand::PlaceHold(HoldRequest {
            hold_id,
            customer_id: customer.clone(),
            section_id: SectionId::parse(section).unwrap(),
            selection: Selection::Quantity(2),
            admission: None,
            access_code: None,
            type_id: None,
        });
        let mut commands = vec![place];
        if i % 3 == 0 {
            commands.push(InventoryCommand::ReleaseHold {
                hold_id,
                customer_id: customer.clone(),
            });
        }
        for command in commands {
            let facts = decide(&state, &command, now).expect("room for every hold");
            for fact in &facts {
                state.apply(fact);
            }
            decisions += 1;
            if fold {
                state.compact();
            }
        }
        positions.insert(hold_id, i as u64 + 1);
    }
    let per_decision = started.elapsed() / decisions;
    let heap = HEAP.load(Ordering::Relaxed) - before;
    let whole = state.whole_holds_count();
    drop(state);
    let positions_heap = HEAP.load(Ordering::Relaxed) - before;
    drop(positions);
    Run {
        heap: heap - positions_heap,
        whole,
        positions: positions_heap,
        per_decision,
    }
}

/// What counting a fact's bytes costs the writer (once per fact it appends).
fn counting_cost() -> Duration {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut state = EventInventory::default();
    state.apply(&opened());
    let customer = CustomerId::parse("customer-0001@example.com").unwrap();
    let key = IdempotencyKey::parse("k").unwrap();
    let place = InventoryCommand::PlaceHold(HoldRequest {
        hold_id: HoldId::derive(
            EventId::from_uuid(uuid::Uuid::from_u128(1)),
            &customer,
            &key,
        ),
        customer_id: customer,
        section_id: SectionId::parse("stalls").unwrap(),
        selection: Selection::Quantity(4),
        admission: None,
        access_code: None,
        type_id: None,
    });
    let now = time::macros::datetime!(2030-06-01 18:00 UTC);
    let fact = decide(&state, &place, now).unwrap().remove(0);
    let rounds = 200_000;
    let started = Instant::now();
    let mut total = 0;
    for _ in 0..rounds {
        let mut count = Count(0);
        serde_json::to_writer(&mut count, std::hint::black_box(&fact)).unwrap();
        total += count.0;
    }
    std::hint::black_box(total);
    started.elapsed() / rounds
}

fn main() {
    let holds: usize = std::env::var("TV_BENCH_HOLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    println!("{holds} holds (2 tickets each; a third released at once, the rest expire)");
    for (name, fold) in [("kept whole", false), ("folded", true)] {
        let run = sale(holds, fold);
        println!(
            "{name:>10}: aggregate {:>6.1} MB = {:>5} B per finished hold, {} holds whole; \
             first positions {:>5.1} MB = {} B per hold; {:?} per decision",
            run.heap as f64 / 1e6,
            run.heap / holds,
            run.whole,
            run.positions as f64 / 1e6,
            run.positions / holds,
            run.per_decision,
        );
    }
    println!(
        "counting the bytes of a SeatsHeld fact (4 seats): {:?}",
        counting_cost()
    );
}
