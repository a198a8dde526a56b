//! Shared by the projector's and query-svc's integration tests (query-svc includes this file by
//! path): a private stream prefix and database per test, a simulated inventory that appends
//! consistent facts, and an independent fold of those facts to compare read models with.
//!
//! Needs NATS_URL and DATABASE_URL (a server database the tests create their own databases from).
#![allow(dead_code)]

use domain::catalog::{EventDetails, Row, Section, SectionLayout};
use domain::ids::{
    CustomerId, EventId, HoldId, IdempotencyKey, OrderId, RowLabel, SeatLabel, SectionId,
};
use domain::inventory::{InventoryEvent, InventorySection, Selection};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use read_model::seat_map;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use time::OffsetDateTime;
use tokio_postgres::NoTls;
use tv_nats::{CommitMeta, EventRecord, EventStore, Naming, Stream};
use uuid::Uuid;

pub fn nats_url() -> String {
    std::env::var("NATS_URL").expect("NATS_URL must point at a nats-server with JetStream")
}

pub fn server_database_url() -> String {
    std::env::var("DATABASE_URL").expect("DATABASE_URL must point at a PostgreSQL server")
}

/// A test's own stream prefix and database, dropped when the test ends (even by a panic).
pub struct TestEnv {
    pub prefix: String,
    pub database: String,
    pub database_url: String,
    pub store: EventStore,
}

fn with_database(url: &str, database: &str) -> String {
    // postgres://user@host:port/db?params → replace the path.
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..path_start], database);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestEnv {
    pub async fn new() -> TestEnv {
        let id = Uuid::new_v4().simple().to_string();
        let prefix = format!("t{}", &id[..12]);
        let database = format!("tv_test_{}", &id[..16]);
        let (admin, connection) = tokio_postgres::connect(&server_database_url(), NoTls)
            .await
            .expect("connecting to DATABASE_URL");
        tokio::spawn(connection);
        admin
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .await
            .expect("creating the test database");
        let store = EventStore::connect(&nats_url(), Naming::new(&prefix))
            .await
            .expect("connecting to NATS_URL");
        store.provision().await.expect("provisioning streams");
        TestEnv {
            prefix,
            database_url: with_database(&server_database_url(), &database),
            database,
            store,
        }
    }

    pub fn projector_config(&self) -> projector::Config {
        let mut config = projector::Config::new(&nats_url(), &self.database_url, &self.prefix);
        config.fetch_wait_ms = 20;
        config
    }

    pub fn stream_name(&self, stream: Stream) -> String {
        self.store.naming().stream(stream)
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.database_url, NoTls)
            .await
            .expect("connecting to the test database");
        tokio::spawn(connection);
        client
    }

    /// The lowest checkpoint of `projection`'s shards: everything up to it is applied.
    pub async fn checkpoint(&self, projection: &str) -> u64 {
        let client = self.client().await;
        client
            .query_opt(
                "SELECT min(last_sequence) FROM projection_checkpoints WHERE projection = $1",
                &[&projection],
            )
            .await
            .ok()
            .flatten()
            .and_then(|r| r.get::<_, Option<i64>>(0))
            .map_or(0, |c| c as u64)
    }

    /// Waits until `projection`'s checkpoint reaches `sequence`.
    pub async fn wait_for_checkpoint(&self, projection: &str, sequence: u64) {
        self.wait_for_checkpoint_within(projection, sequence, Duration::from_secs(30))
            .await;
    }

    /// Waits until `projection`'s checkpoint reaches `sequence`, failing after `limit`; returns
    /// how long it took.
    pub async fn wait_for_checkpoint_within(
        &self,
        projection: &str,
        sequence: u64,
        limit: Duration,
    ) -> Duration {
        let started = tokio::time::Instant::now();
        loop {
            let checkpoint = self.checkpoint(projection).await;
            if checkpoint >= sequence {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < limit,
                "{projection} stuck at {checkpoint} for {limit:?}, expected {sequence}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The inventory read model, as plain text lines, sorted: comparable between runs.
    pub async fn dump_inventory(&self) -> InventoryDump {
        let client = self.client().await;
        let availability = client
            .query(
                "SELECT event_id::text, section_id, capacity, held, sold, version FROM availability",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    (r.get::<_, String>(0), r.get::<_, String>(1)),
                    (
                        i64::from(r.get::<_, i32>(2)),
                        i64::from(r.get::<_, i32>(3)),
                        i64::from(r.get::<_, i32>(4)),
                        r.get::<_, i64>(5) as u64,
                    ),
                )
            })
            .collect();
        let mut seats = BTreeMap::new();
        let mut seat_maps = BTreeMap::new();
        for r in client
            .query(
                "SELECT event_id::text, section_id, row_labels, row_seats, statuses, hold_expiries,
                     version
                 FROM seat_maps",
                &[],
            )
            .await
            .unwrap()
        {
            let (event, section) = (r.get::<_, String>(0), r.get::<_, String>(1));
            let layout = seat_map::Layout {
                row_labels: r.get(2),
                row_seats: r.get(3),
            };
            let cells = seat_map::Cells::decode(r.get(4), r.get(5)).unwrap();
            for seat in seat_map::seat_rows(&layout, &cells).unwrap() {
                seats.insert(
                    (event.clone(), section.clone(), seat.seat.to_string()),
                    (
                        seat.status.as_str().to_owned(),
                        seat.hold_expires_at
                            .map(|t| (t.unix_timestamp_nanos() / 1_000) as i64),
                    ),
                );
            }
            seat_maps.insert((event, section), r.get::<_, i64>(6) as u64);
        }
        let holds = client
            .query(
                "SELECT hold_id, status, quantity, seats, order_id::text, version FROM holds",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    (
                        r.get::<_, String>(1),
                        i64::from(r.get::<_, i32>(2)),
                        r.get::<_, Vec<String>>(3),
                        r.get::<_, Option<String>>(4),
                        r.get::<_, i64>(5) as u64,
                    ),
                )
            })
            .collect();
        InventoryDump {
            availability,
            seats,
            seat_maps,
            holds,
        }
    }

    /// The next_expiry column per section (checked separately: the fold computes it from holds).
    pub async fn next_expiries(&self) -> BTreeMap<(String, String), Option<OffsetDateTime>> {
        let client = self.client().await;
        client
            .query(
                "SELECT event_id::text, section_id, next_expiry FROM availability",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| ((r.get(0), r.get(1)), r.get(2)))
            .collect()
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let database = self.database.clone();
        let prefix = self.prefix.clone();
        let nats = nats_url();
        // Async cleanup from a plain thread with its own runtime: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok((admin, connection)) =
                    tokio_postgres::connect(&server_database_url(), NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                        .await;
                }
                if let Ok(client) = tv_nats::connect(&nats).await {
                    let js = async_nats::jetstream::new(client);
                    let naming = Naming::new(&prefix);
                    for stream in Stream::ALL {
                        let _ = js.delete_stream(naming.stream(stream)).await;
                    }
                }
            });
        })
        .join();
    }
}

/// The inventory read model: availability (capacity, held, sold, version), seats (status, hold
/// expiry), seat map versions, holds (status, quantity, seats, order, version).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InventoryDump {
    pub availability: BTreeMap<(String, String), (i64, i64, i64, u64)>,
    pub seats: BTreeMap<(String, String, String), SeatState>,
    pub seat_maps: BTreeMap<(String, String), u64>,
    pub holds: BTreeMap<String, HoldState>,
}

/// A seat: status, and its hold's expiry in microseconds while held.
pub type SeatState = (String, Option<i64>);
/// A hold: status, quantity, seats, order, version.
pub type HoldState = (String, i64, Vec<String>, Option<String>, u64);

/// A stored inventory commit: its sequence, event and facts.
#[derive(Debug, Clone)]
pub struct Appended {
    pub sequence: u64,
    pub event_id: EventId,
    pub events: Vec<InventoryEvent>,
}

/// The folding done independently of the projector: final status of each hold and seat, `held`
/// as the sum of active holds, `sold` as sold minus returned, versions as the last commit that
/// touched a row.
pub fn independent_fold(commits: &[Appended]) -> InventoryDump {
    let mut dump = InventoryDump::default();
    let mut sold: BTreeMap<(String, String), i64> = BTreeMap::new();
    for commit in commits {
        let event = commit.event_id.to_string();
        let seq = commit.sequence;
        for fact in &commit.events {
            match fact {
                InventoryEvent::InventoryOpened { sections, .. } => {
                    for s in sections {
                        let (capacity, seats) = match &s.layout {
                            SectionLayout::Seated { rows } => (
                                rows.iter().map(|r| r.seats).sum::<u32>(),
                                rows.iter()
                                    .flat_map(|r| {
                                        (1..=r.seats).map(move |n| format!("{}-{}", r.row, n))
                                    })
                                    .collect::<Vec<_>>(),
                            ),
                            SectionLayout::GeneralAdmission { capacity } => (*capacity, vec![]),
                        };
                        dump.availability.insert(
                            (event.clone(), s.section_id.to_string()),
                            (i64::from(capacity), 0, 0, seq),
                        );
                        if !seats.is_empty() {
                            dump.seat_maps
                                .insert((event.clone(), s.section_id.to_string()), seq);
                        }
                        for seat in seats {
                            dump.seats.insert(
                                (event.clone(), s.section_id.to_string(), seat),
                                ("available".into(), None),
                            );
                        }
                    }
                }
                InventoryEvent::SeatsHeld {
                    hold_id,
                    section_id,
                    seats,
                    quantity,
                    expires_at,
                    ..
                } => {
                    dump.holds.insert(
                        hold_id.to_string(),
                        (
                            "active".into(),
                            i64::from(*quantity),
                            seats.iter().map(ToString::to_string).collect(),
                            None,
                            seq,
                        ),
                    );
                    touch(&mut dump, &event, section_id, seq);
                    let micros = (expires_at.unix_timestamp_nanos() / 1_000) as i64;
                    for seat in seats {
                        dump.seats.insert(
                            (event.clone(), section_id.to_string(), seat.to_string()),
                            ("held".into(), Some(micros)),
                        );
                    }
                    seat_map_changed(&mut dump, &event, section_id, seats, seq);
                }
                InventoryEvent::HoldReleased {
                    hold_id,
                    section_id,
                    seats,
                    ..
                }
                | InventoryEvent::HoldExpired {
                    hold_id,
                    section_id,
                    seats,
                    ..
                } => {
                    let status = if matches!(fact, InventoryEvent::HoldReleased { .. }) {
                        "released"
                    } else {
                        "expired"
                    };
                    let hold = dump
                        .holds
                        .get_mut(&hold_id.to_string())
                        .expect("known hold");
                    hold.0 = status.into();
                    hold.4 = seq;
                    touch(&mut dump, &event, section_id, seq);
                    for seat in seats {
                        dump.seats.insert(
                            (event.clone(), section_id.to_string(), seat.to_string()),
                            ("available".into(), None),
                        );
                    }
                    seat_map_changed(&mut dump, &event, section_id, seats, seq);
                }
                InventoryEvent::SeatsSold {
                    hold_id,
                    order_id,
                    section_id,
                    seats,
                    quantity,
                    ..
                } => {
                    let hold = dump
                        .holds
                        .get_mut(&hold_id.to_string())
                        .expect("known hold");
                    hold.0 = "sold".into();
                    hold.3 = Some(order_id.to_string());
                    hold.4 = seq;
                    *sold
                        .entry((event.clone(), section_id.to_string()))
                        .or_default() += i64::from(*quantity);
                    touch(&mut dump, &event, section_id, seq);
                    for seat in seats {
                        dump.seats.insert(
                            (event.clone(), section_id.to_string(), seat.to_string()),
                            ("sold".into(), None),
                        );
                    }
                    seat_map_changed(&mut dump, &event, section_id, seats, seq);
                }
                InventoryEvent::SeatsReturned {
                    order_id,
                    section_id,
                    seats,
                    quantity,
                    ..
                } => {
                    let order = Some(order_id.to_string());
                    for hold in dump.holds.values_mut() {
                        if hold.0 == "sold" && hold.3 == order {
                            hold.0 = "returned".into();
                            hold.4 = seq;
                        }
                    }
                    *sold
                        .entry((event.clone(), section_id.to_string()))
                        .or_default() -= i64::from(*quantity);
                    touch(&mut dump, &event, section_id, seq);
                    for seat in seats {
                        dump.seats.insert(
                            (event.clone(), section_id.to_string(), seat.to_string()),
                            ("available".into(), None),
                        );
                    }
                    seat_map_changed(&mut dump, &event, section_id, seats, seq);
                }
                InventoryEvent::HoldCheckedOut {
                    hold_id, order_id, ..
                } => {
                    let hold = dump
                        .holds
                        .get_mut(&hold_id.to_string())
                        .expect("known hold");
                    hold.0 = "ordered".into();
                    hold.3 = Some(order_id.to_string());
                    hold.4 = seq;
                }
                other => panic!("the simulation never produces {}", other.kind()),
            }
        }
    }
    // held = the pending (active or ordered: checked out) holds of a section, by their final status.
    let mut held: BTreeMap<(String, String), i64> = BTreeMap::new();
    for commit in commits {
        for fact in &commit.events {
            if let InventoryEvent::SeatsHeld {
                hold_id,
                section_id,
                quantity,
                ..
            } = fact
            {
                if matches!(
                    dump.holds[&hold_id.to_string()].0.as_str(),
                    "active" | "ordered"
                ) {
                    *held
                        .entry((commit.event_id.to_string(), section_id.to_string()))
                        .or_default() += i64::from(*quantity);
                }
            }
        }
    }
    for (key, row) in dump.availability.iter_mut() {
        row.1 = held.get(key).copied().unwrap_or(0);
        row.2 = sold.get(key).copied().unwrap_or(0);
    }
    dump
}

/// A commit that changes seats of a section is its seat map's version.
fn seat_map_changed(
    dump: &mut InventoryDump,
    event: &str,
    section: &SectionId,
    seats: &[SeatLabel],
    seq: u64,
) {
    if !seats.is_empty() {
        dump.seat_maps
            .insert((event.to_owned(), section.to_string()), seq);
    }
}

fn touch(dump: &mut InventoryDump, event: &str, section: &SectionId, seq: u64) {
    dump.availability
        .get_mut(&(event.to_owned(), section.to_string()))
        .expect("known section")
        .3 = seq;
}

// ---------------------------------------------------------------------------- simulation

struct SimSection {
    id: SectionId,
    free_seats: BTreeSet<SeatLabel>,
    seated: bool,
    free_quantity: u32,
}

#[derive(Clone)]
struct SimHold {
    id: HoldId,
    customer: CustomerId,
    section: usize,
    seats: Vec<SeatLabel>,
    quantity: u32,
    /// Expired by a HoldExpired fact (may still be sold if its seats are free).
    expired: bool,
    /// The order that checked it out, if any: the one it is sold to.
    checked_out: Option<OrderId>,
}

struct SimOrder {
    id: OrderId,
    customer: CustomerId,
    section: usize,
    seats: Vec<SeatLabel>,
    quantity: u32,
}

/// One event's inventory, simulated: produces only facts a correct decider could produce.
pub struct Sim {
    pub event_id: EventId,
    sections: Vec<SimSection>,
    holds: Vec<SimHold>,
    orders: Vec<SimOrder>,
    rng: StdRng,
    keys: u64,
    /// The subject's last sequence (for the expected-sequence append).
    pub last_sequence: u64,
    pub appended: Vec<Appended>,
}

pub fn event_details(name: &str) -> EventDetails {
    EventDetails {
        name: name.into(),
        venue: "Arena".into(),
        starts_at: OffsetDateTime::now_utc() + time::Duration::days(30),
        currency: "EUR".parse().unwrap(),
        sections: vec![
            Section {
                section_id: SectionId::parse("stalls").unwrap(),
                name: "Stalls".into(),
                price_minor: 5_000,
                layout: SectionLayout::Seated {
                    rows: vec![
                        Row {
                            row: RowLabel::parse("A").unwrap(),
                            seats: 6,
                        },
                        Row {
                            row: RowLabel::parse("B").unwrap(),
                            seats: 8,
                        },
                    ],
                },
                ticket_types: Vec::new(),
            },
            Section {
                section_id: SectionId::parse("floor").unwrap(),
                name: "Floor".into(),
                price_minor: 3_000,
                layout: SectionLayout::GeneralAdmission { capacity: 40 },
                ticket_types: Vec::new(),
            },
        ],
        sale_opens_at: None,
        sale_closes_at: None,
        hold_ttl_seconds: 600,
        max_tickets_per_customer: 8,
        waiting_room: None,
        presales: Vec::new(),
    }
}

impl Sim {
    /// Opens an event's inventory (appended by the first [`Sim::step`]).
    pub fn new(seed: u64, details: &EventDetails) -> Sim {
        let event_id = EventId::new_random();
        let sections = details
            .sections
            .iter()
            .map(|s| match &s.layout {
                SectionLayout::Seated { rows } => SimSection {
                    id: s.section_id.clone(),
                    free_seats: rows
                        .iter()
                        .flat_map(|r| {
                            (1..=r.seats).map(move |n| SeatLabel::new(r.row.clone(), n).unwrap())
                        })
                        .collect(),
                    seated: true,
                    free_quantity: 0,
                },
                SectionLayout::GeneralAdmission { capacity } => SimSection {
                    id: s.section_id.clone(),
                    free_seats: BTreeSet::new(),
                    seated: false,
                    free_quantity: *capacity,
                },
            })
            .collect();
        Sim {
            event_id,
            sections,
            holds: Vec::new(),
            orders: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            keys: 0,
            last_sequence: 0,
            appended: Vec::new(),
        }
    }

    pub fn opened(details: &EventDetails) -> InventoryEvent {
        InventoryEvent::InventoryOpened {
            sections: details
                .sections
                .iter()
                .map(|s| InventorySection {
                    section_id: s.section_id.clone(),
                    price_minor: s.price_minor,
                    layout: s.layout.clone(),
                    ticket_types: Vec::new(),
                })
                .collect(),
            currency: details.currency,
            hold_ttl_seconds: details.hold_ttl_seconds,
            max_tickets_per_customer: details.max_tickets_per_customer,
            sale_opens_at: None,
            sale_closes_at: None,
            waiting_room: false,
            presales: Vec::new(),
        }
    }

    fn key(&mut self) -> IdempotencyKey {
        self.keys += 1;
        IdempotencyKey::parse(&format!("k-{}", self.keys)).unwrap()
    }

    /// A hold of `section` (seats when seated) if there is room, expiring at `expires_at`.
    pub fn hold(
        &mut self,
        section: usize,
        quantity: u32,
        expires_at: OffsetDateTime,
    ) -> Option<InventoryEvent> {
        let customer = CustomerId::parse(&format!("c{}", self.rng.random_range(0..20))).unwrap();
        let key = self.key();
        let s = &mut self.sections[section];
        let seats: Vec<SeatLabel> = if s.seated {
            if s.free_seats.len() < quantity as usize {
                return None;
            }
            let picked: Vec<SeatLabel> = s
                .free_seats
                .iter()
                .take(quantity as usize)
                .cloned()
                .collect();
            for seat in &picked {
                s.free_seats.remove(seat);
            }
            picked
        } else {
            if s.free_quantity < quantity {
                return None;
            }
            s.free_quantity -= quantity;
            vec![]
        };
        let hold_id = HoldId::derive(self.event_id, &customer, &key);
        self.holds.push(SimHold {
            id: hold_id,
            customer: customer.clone(),
            section,
            seats: seats.clone(),
            quantity,
            expired: false,
            checked_out: None,
        });
        Some(InventoryEvent::SeatsHeld {
            hold_id,
            customer_id: customer,
            section_id: s.id.clone(),
            request: if s.seated {
                Selection::Seats(seats.clone())
            } else {
                Selection::Quantity(quantity)
            },
            seats,
            quantity,
            expires_at,
        })
    }

    fn free(&mut self, section: usize, seats: &[SeatLabel], quantity: u32) {
        let s = &mut self.sections[section];
        if s.seated {
            s.free_seats.extend(seats.iter().cloned());
        } else {
            s.free_quantity += quantity;
        }
    }

    fn take_free(&mut self, section: usize, seats: &[SeatLabel], quantity: u32) -> bool {
        let s = &mut self.sections[section];
        if s.seated {
            if !seats.iter().all(|seat| s.free_seats.contains(seat)) {
                return false;
            }
            for seat in seats {
                s.free_seats.remove(seat);
            }
            true
        } else if s.free_quantity >= quantity {
            s.free_quantity -= quantity;
            true
        } else {
            false
        }
    }

    /// A random valid fact (or none when nothing fits).
    pub fn random_fact(&mut self) -> Option<InventoryEvent> {
        let choice = self.rng.random_range(0..100);
        let live: Vec<usize> = (0..self.holds.len())
            .filter(|i| !self.holds[*i].expired)
            .collect();
        if choice < 45 || live.is_empty() {
            let section = self.rng.random_range(0..self.sections.len());
            let quantity = self.rng.random_range(1..=3);
            // Some holds are already past their expiry: lazily expired, never HoldExpired'd.
            let expires_at = if self.rng.random_bool(0.1) {
                OffsetDateTime::now_utc() - time::Duration::minutes(5)
            } else {
                OffsetDateTime::now_utc() + time::Duration::minutes(10)
            };
            return match self.hold(section, quantity, expires_at) {
                Some(fact) => Some(fact),
                // Sold out with nothing held: only a return frees seats.
                None if live.is_empty() => self.return_an_order(),
                None => None,
            };
        }
        let pick = live[self.rng.random_range(0..live.len())];
        let hold = self.holds[pick].clone();
        let section_id = self.sections[hold.section].id.clone();
        match choice {
            45..=59 => {
                self.holds.remove(pick);
                self.free(hold.section, &hold.seats, hold.quantity);
                Some(InventoryEvent::HoldReleased {
                    hold_id: hold.id,
                    customer_id: hold.customer,
                    section_id,
                    seats: hold.seats,
                    quantity: hold.quantity,
                })
            }
            60..=74 => {
                self.holds[pick].expired = true;
                self.free(hold.section, &hold.seats, hold.quantity);
                Some(InventoryEvent::HoldExpired {
                    hold_id: hold.id,
                    customer_id: hold.customer,
                    section_id,
                    seats: hold.seats,
                    quantity: hold.quantity,
                })
            }
            75..=89 => self.sell(pick),
            90..=94 if hold.checked_out.is_none() => {
                let order_id = OrderId::new_random();
                self.holds[pick].checked_out = Some(order_id);
                Some(InventoryEvent::HoldCheckedOut {
                    hold_id: hold.id,
                    order_id,
                    customer_id: hold.customer,
                    section_id,
                    seats: hold.seats,
                    quantity: hold.quantity,
                })
            }
            _ => self.return_an_order(),
        }
    }

    fn return_an_order(&mut self) -> Option<InventoryEvent> {
        if self.orders.is_empty() {
            return None;
        }
        let i = self.rng.random_range(0..self.orders.len());
        let order = self.orders.remove(i);
        self.free(order.section, &order.seats, order.quantity);
        Some(InventoryEvent::SeatsReturned {
            order_id: order.id,
            customer_id: order.customer,
            section_id: self.sections[order.section].id.clone(),
            seats: order.seats,
            quantity: order.quantity,
        })
    }

    /// Sells hold `pick`; an expired hold only when its seats are free again.
    fn sell(&mut self, pick: usize) -> Option<InventoryEvent> {
        let hold = self.holds[pick].clone();
        if hold.expired && !self.take_free(hold.section, &hold.seats, hold.quantity) {
            return None;
        }
        self.holds.remove(pick);
        let order_id = hold.checked_out.unwrap_or_else(OrderId::new_random);
        self.orders.push(SimOrder {
            id: order_id,
            customer: hold.customer.clone(),
            section: hold.section,
            seats: hold.seats.clone(),
            quantity: hold.quantity,
        });
        Some(InventoryEvent::SeatsSold {
            hold_id: hold.id,
            order_id,
            customer_id: hold.customer,
            section_id: self.sections[hold.section].id.clone(),
            seats: hold.seats,
            quantity: hold.quantity,
        })
    }

    /// Sells an expired hold whose seats are free (the late-payment path), if there is one.
    pub fn sell_an_expired_hold(&mut self) -> Option<InventoryEvent> {
        let pick = (0..self.holds.len()).find(|i| self.holds[*i].expired)?;
        self.sell(pick)
    }

    /// Appends `events` as one commit of this event's inventory.
    pub async fn append(&mut self, store: &EventStore, events: Vec<InventoryEvent>) -> u64 {
        let records: Vec<EventRecord<InventoryEvent>> = events
            .iter()
            .cloned()
            .map(|e| EventRecord::new(1, e))
            .collect();
        let position = store
            .append(
                Stream::Inventory,
                &self.event_id.to_string(),
                self.last_sequence,
                &CommitMeta::new("inventory", "test"),
                &records,
            )
            .await
            .expect("appending a test commit");
        self.last_sequence = position.sequence;
        self.appended.push(Appended {
            sequence: position.sequence,
            event_id: self.event_id,
            events,
        });
        position.sequence
    }

    /// Appends `commits` random commits of 1 to 4 facts each; returns the last sequence.
    pub async fn run(&mut self, store: &EventStore, commits: usize) -> u64 {
        let mut last = self.last_sequence;
        for _ in 0..commits {
            let size = self.rng.random_range(1..=4);
            let mut facts = Vec::new();
            while facts.len() < size {
                if let Some(fact) = self.random_fact() {
                    facts.push(fact);
                }
            }
            if self.rng.random_bool(0.05) {
                if let Some(fact) = self.sell_an_expired_hold() {
                    facts.push(fact);
                }
            }
            last = self.append(store, facts).await;
        }
        last
    }
}

/// Appends the catalog facts of a new published event.
pub async fn create_event(store: &EventStore, event_id: EventId, details: &EventDetails) -> u64 {
    use domain::catalog::CatalogEvent;
    let records = vec![
        EventRecord::new(
            1,
            CatalogEvent::EventCreated {
                event_id,
                details: details.clone(),
            },
        ),
        EventRecord::new(1, CatalogEvent::EventPublished { event_id }),
    ];
    store
        .append(
            Stream::Catalog,
            &event_id.to_string(),
            0,
            &CommitMeta::new("catalog", "test"),
            &records,
        )
        .await
        .expect("appending the catalog commit")
        .sequence
}

/// An event created, published and opened, with its simulation.
pub async fn open_event(store: &EventStore, seed: u64) -> Sim {
    let details = event_details(&format!("Show {seed}"));
    let mut sim = Sim::new(seed, &details);
    create_event(store, sim.event_id, &details).await;
    sim.append(store, vec![Sim::opened(&details)]).await;
    sim
}

/// Every commit of several simulations, in stream order.
pub fn all_commits(sims: &[&Sim]) -> Vec<Appended> {
    let mut commits: Vec<Appended> = sims.iter().flat_map(|s| s.appended.clone()).collect();
    commits.sort_by_key(|c| c.sequence);
    commits
}
