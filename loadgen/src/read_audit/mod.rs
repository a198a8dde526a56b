//! The read-model audit: once query-svc has caught up to the last position of the sale
//! (`?after=<STREAM>:<seq>`), its answers must agree exactly with the streams.
//!
//! - availability: per section held + sold ≤ capacity, sold as the stream's, held as the stream's
//!   live holds (lazy expiry included, see [`window`]);
//! - seat maps of seated sections: sold seats exactly the stream's, held seats the live holds';
//! - every acknowledged hold found by `GET /holds/{id}` with the stream's status and seats, no
//!   seat in two active holds;
//! - every acknowledged order found by `GET /orders/{id}` with the stream's final status and
//!   tickets, listed once by its customer, no two orders on one hold, no ticket or seat in two
//!   confirmed orders;
//! - every abandoned hold shown expired, its tickets available again.
//!
//! A round compares against the inventory stream as loaded at its start; when the stream moved
//! while a round found violations (a fact appended meanwhile), the round starts again.

mod check;
mod violations;
mod window;

#[cfg(test)]
mod tests;

pub use violations::Violations;

use crate::api::{Answer, Api};
use crate::audit;
use crate::cli::Cli;
use crate::fold::{HoldState, InventoryFold};
use crate::orders::SettledOrder;
use crate::stats::{Fate, HoldTaken};
use check::{HoldSeen, OrderSeen, SeatSeen, SectionSeen};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tv_nats::{EventStore, Naming, Stream};
use window::{AskAgain, Window};

/// Rounds before the audit settles for the violations of the last one.
const ROUNDS: u32 = 3;
/// Times one answer is asked again because a hold expired while it was computed.
const ASK_AGAIN: u32 = 10;
/// Longest wait for query-svc to catch up with a position (it answers 503 after its own wait).
const CATCH_UP_LIMIT: Duration = Duration::from_secs(30);
/// Reads in flight at once.
const IN_FLIGHT: usize = 32;

#[derive(Debug, Default, Serialize)]
pub struct ReadAudit {
    pub checked: bool,
    /// The inventory position query-svc was asked to have reached.
    pub position: String,
    pub sections: u64,
    pub seats: u64,
    pub holds: u64,
    pub orders: u64,
    pub rounds: u32,
    /// Answers asked again because a hold expired while query-svc computed them.
    pub asked_again: u64,
    pub seconds: f64,
    /// Tickets of abandoned holds query-svc shows available again.
    pub abandoned_tickets_returned: u64,
    pub violations: Violations,
}

/// What the audit reads and compares against.
pub struct Sale<'a> {
    pub event_id: &'a str,
    pub holds: &'a [HoldTaken],
    pub orders: &'a [SettledOrder],
}

pub async fn run(
    cli: &Cli,
    api: &Api,
    sale: &Sale<'_>,
    first: InventoryFold,
) -> anyhow::Result<ReadAudit> {
    let started = Instant::now();
    let naming = Naming::new(&cli.prefix);
    let store = EventStore::connect(&cli.nats_url, naming.clone()).await?;
    let mut fold = first;
    let mut rounds = 0;
    loop {
        rounds += 1;
        let mut audit = round(api, &naming, sale, &fold).await;
        let now = store
            .subject_last_sequence(Stream::Inventory, sale.event_id)
            .await?;
        let moved = now != fold.last_sequence;
        if !moved || audit.violations.is_empty() || rounds >= ROUNDS {
            audit.rounds = rounds;
            audit.seconds = started.elapsed().as_secs_f64();
            return Ok(audit);
        }
        fold = audit::load(cli, sale.event_id).await?.0;
    }
}

/// One comparison of every read model with `fold`.
async fn round(api: &Api, naming: &Naming, sale: &Sale<'_>, fold: &InventoryFold) -> ReadAudit {
    let after = format!(
        "{}:{}",
        naming.stream(Stream::Inventory),
        fold.last_sequence
    );
    let mut audit = ReadAudit {
        checked: true,
        position: after.clone(),
        ..ReadAudit::default()
    };
    let event = sale.event_id;
    let mut found = Violations::default();

    // Availability.
    let path = format!("/events/{event}/availability");
    let mut availability_ok = false;
    if let Some(Some(sections)) = ask_until_exact(
        api,
        &path,
        None,
        Some(&after),
        &mut audit.asked_again,
        &mut found,
        |body, window, found| {
            let Some(seen) = parse::<Vec<SectionSeen>>(&body["sections"], "availability", found)
            else {
                return Ok(None);
            };
            let before = found.total();
            check::availability(fold, &seen, window, found)?;
            availability_ok = found.total() == before;
            Ok(Some(seen.len() as u64))
        },
    )
    .await
    {
        audit.sections = sections;
    }

    // Seat maps.
    let mut seat_statuses: HashMap<(String, String), String> = HashMap::new();
    for (section_id, _) in fold.sections.iter().filter(|(_, s)| s.seated) {
        let path = format!("/events/{event}/sections/{section_id}/seats");
        if let Some(Some(seen)) = ask_until_exact(
            api,
            &path,
            None,
            Some(&after),
            &mut audit.asked_again,
            &mut found,
            |body, window, found| {
                let Some(seen) = parse::<Vec<SeatSeen>>(body, "seat map", found) else {
                    return Ok(None);
                };
                check::seat_map(fold, section_id, &seen, window, found)?;
                Ok(Some(seen))
            },
        )
        .await
        {
            audit.seats += seen.len() as u64;
            seat_statuses.extend(
                seen.into_iter()
                    .map(|s| ((section_id.clone(), s.seat), s.status)),
            );
        }
    }

    // Holds, each with its customer.
    let mut unique = HashSet::new();
    let holds: Vec<&HoldTaken> = sale
        .holds
        .iter()
        .filter(|h| unique.insert(h.hold_id.as_str()))
        .collect();
    let answers: Vec<(Violations, u64, Option<HoldSeen>)> = stream::iter(holds.iter().copied())
        .map(|taken| {
            let after = after.clone();
            async move {
                let mut found = Violations::default();
                let mut again = 0;
                let path = format!("/holds/{}", taken.hold_id);
                let seen: Option<HoldSeen> = ask_until_exact(
                    api,
                    &path,
                    Some(&taken.customer),
                    Some(&after),
                    &mut again,
                    &mut found,
                    |body, window, found| {
                        if body.is_null() {
                            check::hold(fold, &taken.hold_id, None, window, found)?;
                            return Ok(None);
                        }
                        let Some(seen) = parse::<HoldSeen>(body, "hold", found) else {
                            return Ok(None);
                        };
                        check::hold(fold, &taken.hold_id, Some(&seen), window, found)?;
                        Ok(Some(seen))
                    },
                )
                .await
                .flatten();
                (found, again, seen)
            }
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    audit.holds = holds.len() as u64;
    let mut seen_holds = HashMap::new();
    for ((found_here, again, seen), taken) in answers.into_iter().zip(&holds) {
        found.merge(found_here);
        audit.asked_again += again;
        if let Some(seen) = seen {
            seen_holds.insert(taken.hold_id.as_str(), seen);
        }
    }
    check::holds_together(&seen_holds.values().collect::<Vec<_>>(), &mut found);

    // Abandoned holds: expired, their tickets available again.
    for taken in holds.iter().filter(|h| h.fate == Fate::Abandoned) {
        let Some(fact) = fold.holds.get(&taken.hold_id) else {
            continue;
        };
        let shown_expired = seen_holds
            .get(taken.hold_id.as_str())
            .is_some_and(|h| h.status == "expired");
        let seats_free = fact.seats.iter().all(|seat| {
            let key = (fact.section_id.clone(), seat.clone());
            seat_statuses.get(&key).is_some_and(|s| s == "available")
                || fold.seats.contains_key(&key)
        });
        let returned =
            fact.state == HoldState::Expired && shown_expired && seats_free && availability_ok;
        if returned {
            audit.abandoned_tickets_returned += fact.quantity;
        } else {
            found.add(
                "abandoned_not_returned",
                format!(
                    "abandoned hold {} ({:?}, shown expired: {shown_expired}, seats free: {seats_free})",
                    taken.hold_id, fact.state
                ),
            );
        }
    }

    // Orders, one by one, then as their customers list them.
    let orders_stream = naming.stream(Stream::Orders);
    let answers: Vec<Violations> = stream::iter(sale.orders)
        .map(|settled| {
            let after = format!("{orders_stream}:{}", settled.last_sequence);
            async move {
                let mut found = Violations::default();
                let path = format!("/orders/{}", settled.order_id);
                if let Some(answer) = ask(
                    api,
                    &path,
                    Some(&settled.customer),
                    Some(&after),
                    &mut found,
                )
                .await
                {
                    if answer.1.status == 404 {
                        check::order(settled, None, &mut found);
                    } else if let Some(seen) =
                        parse::<OrderSeen>(&answer.1.body, "order", &mut found)
                    {
                        check::order(settled, Some(&seen), &mut found);
                    }
                }
                found
            }
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    audit.orders = sale.orders.len() as u64;
    for found_here in answers {
        found.merge(found_here);
    }
    let last_order = sale.orders.iter().map(|o| o.last_sequence).max();
    if let Some(last_order) = last_order {
        let after = format!("{orders_stream}:{last_order}");
        let mut by_customer: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for o in sale.orders {
            by_customer
                .entry(&o.customer)
                .or_default()
                .push(&o.order_id);
        }
        let lists: Vec<(Violations, Vec<OrderSeen>)> = stream::iter(by_customer)
            .map(|(customer, acknowledged)| {
                let after = after.clone();
                async move {
                    let mut found = Violations::default();
                    let path = format!("/customers/{customer}/orders");
                    let mut listed: Vec<OrderSeen> = Vec::new();
                    if let Some((_, answer)) =
                        ask(api, &path, Some(customer), Some(&after), &mut found).await
                    {
                        let all: Vec<OrderSeen> =
                            parse(&answer.body, "customer orders", &mut found).unwrap_or_default();
                        listed = all
                            .into_iter()
                            .filter(|o| o.event_id.as_deref() == Some(event))
                            .collect();
                    }
                    for id in acknowledged {
                        if !listed.iter().any(|o| o.order_id == id) {
                            found.add(
                                "order_not_listed",
                                format!("order {id} is not in its customer {customer}'s orders"),
                            );
                        }
                    }
                    (found, listed)
                }
            })
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        let mut listed = Vec::new();
        for (found_here, l) in lists {
            found.merge(found_here);
            listed.extend(l);
        }
        check::orders_together(&listed, &mut found);
    }
    audit.violations = found;
    audit
}

/// Asks `path` until `compare` can tell exactly (no hold expired while the answer was computed),
/// at most [`ASK_AGAIN`] times. `compare` gets the body (`Null` for a 404) and its window.
#[allow(clippy::too_many_arguments)]
async fn ask_until_exact<T>(
    api: &Api,
    path: &str,
    customer: Option<&str>,
    after: Option<&str>,
    asked_again: &mut u64,
    found: &mut Violations,
    mut compare: impl FnMut(&serde_json::Value, &Window, &mut Violations) -> Result<T, AskAgain>,
) -> Option<T> {
    for _ in 0..ASK_AGAIN {
        let (window, answer) = ask(api, path, customer, after, found).await?;
        let body = if answer.status == 404 {
            serde_json::Value::Null
        } else {
            answer.body
        };
        let mut attempt = Violations::default();
        match compare(&body, &window, &mut attempt) {
            Ok(value) => {
                found.merge(attempt);
                return Some(value);
            }
            Err(again) => {
                *asked_again += 1;
                let wait = again.at - OffsetDateTime::now_utc();
                if wait.is_positive() {
                    tokio::time::sleep(wait.unsigned_abs()).await;
                }
            }
        }
    }
    found.add(
        "not_exact",
        format!("{path}: holds kept expiring while it was answered, {ASK_AGAIN} times"),
    );
    None
}

/// One read with its window; waits out `503 not_caught_up` up to [`CATCH_UP_LIMIT`]. A 404 is an
/// answer (the caller decides); anything else is a violation.
async fn ask(
    api: &Api,
    path: &str,
    customer: Option<&str>,
    after: Option<&str>,
    found: &mut Violations,
) -> Option<(Window, Answer)> {
    let started = Instant::now();
    loop {
        let sent = OffsetDateTime::now_utc();
        let answer = api.query(path, customer, after).await;
        let window = Window {
            sent,
            received: OffsetDateTime::now_utc(),
        };
        match answer {
            Ok(a) if a.status == 200 || a.status == 404 => return Some((window, a)),
            Ok(a) if a.status == 503 && started.elapsed() < CATCH_UP_LIMIT => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(a) if a.status == 503 => {
                found.add(
                    "not_caught_up",
                    format!(
                        "{path}?after={}: still 503 after {CATCH_UP_LIMIT:?}",
                        after.unwrap_or("")
                    ),
                );
                return None;
            }
            Ok(a) => {
                found.add("query_failed", format!("{path}: {} {}", a.status, a.body));
                return None;
            }
            Err(e) => {
                found.add("query_failed", format!("{path}: {e}"));
                return None;
            }
        }
    }
}

/// Parses an answer's body as `T`; a body that does not parse is a violation.
fn parse<T: serde::de::DeserializeOwned>(
    body: &serde_json::Value,
    what: &str,
    found: &mut Violations,
) -> Option<T> {
    match serde_json::from_value(body.clone()) {
        Ok(v) => Some(v),
        Err(e) => {
            found.add("unreadable_answer", format!("{what}: {e}"));
            None
        }
    }
}
