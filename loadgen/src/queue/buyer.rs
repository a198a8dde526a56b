//! One buyer of the waiting-room sale: joins the queue (before the opening, or after it for a
//! late joiner), follows their place by polling as `poll_after_ms` says or on the SSE stream until
//! admitted, then holds one or two tickets with the admission token and orders them, paid with
//! the test gateway's `tok_ok`. What each buyer saw is kept in its own [`BuyerStats`], merged at
//! the end: small (latencies as samples, holds and orders only once bought), so that a crowd of
//! 100,000 buyers fits in memory.

use super::room_api::{next_message, Place, RoomApi};
use crate::api::Api;
use crate::stats::{ClientStats, Fate, HoldTaken};
use hdrhistogram::Histogram;
use rand::Rng;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Late joiners arrive spread over this long after the opening.
pub const LATE_SPREAD: Duration = Duration::from_secs(2);
/// Pause before joining again after a `503` (the room is starting, or its store is busy).
const UNAVAILABLE_PAUSE: Duration = Duration::from_millis(200);

/// Who a buyer is and how they wait.
#[derive(Debug, Clone)]
pub struct Buyer {
    pub index: usize,
    pub customer: String,
    /// Joins after the sale opened (at the back of the line), not into the prequeue.
    pub late: bool,
    /// Follows their place on the SSE stream instead of polling.
    pub streams: bool,
}

/// What every buyer shares.
pub struct Shared {
    pub room: RoomApi,
    pub api: Api,
    pub event_id: String,
    pub section_id: String,
    /// When the sale opens (`sale_opens_at`), on this process's clock.
    pub opens: Instant,
    /// When buyers still waiting give up.
    pub deadline: Instant,
    /// Bounds the joins in flight.
    pub joins_in_flight: Semaphore,
    /// Buyers only join.
    pub join_only: bool,
    /// When the run started: command times are counted in seconds from here.
    pub started: Instant,
}

/// What one buyer (or, merged, all of them) saw.
pub struct BuyerStats {
    pub join_latency_us: Samples,
    /// Join answers: `201`, `200`, `429 rate_limited`, `error: connection`, …
    pub join_outcomes: BTreeMap<String, u64>,
    /// Customers whose join was acknowledged (201 or 200).
    pub joined: Vec<String>,
    /// When the first prequeue join was sent and the last answered (the join burst).
    pub first_join: Option<Instant>,
    pub last_join: Option<Instant>,
    pub polls: u64,
    pub poll_failures: u64,
    pub streams_opened: u64,
    pub stream_messages: u64,
    /// From the join's answer to the customer seeing themselves admitted.
    pub time_in_queue_us: Samples,
    /// From the later of the join and the opening to the customer seeing themselves admitted.
    pub wait_after_open_us: Samples,
    /// Customers who saw themselves admitted, and when (seconds since the start of the run).
    pub admitted: Vec<(String, f64)>,
    /// Buyers still waiting at the deadline.
    pub gave_up: u64,
    /// Holds and orders, as the plain sale records them (once the buyer held).
    pub sale: Option<ClientStats>,
    /// Every hold's answer: (seconds since the start, status, error code).
    pub hold_answers: Vec<(f64, u16, String)>,
    /// Commands sent to command-svc per second since the start of the run.
    pub commands_per_second: BTreeMap<u64, u64>,
}

/// Latencies in microseconds, kept as samples until the report: a histogram per buyer would
/// take more memory than a crowd of 100,000 buyers can have.
#[derive(Default)]
pub struct Samples(Vec<u64>);

impl Samples {
    pub fn saturating_record(&mut self, micros: u64) {
        self.0.push(micros);
    }

    pub fn histogram(&self) -> Histogram<u64> {
        let mut histogram = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds");
        for &micros in &self.0 {
            histogram.saturating_record(micros);
        }
        histogram
    }

    fn add(&mut self, other: Samples) {
        self.0.extend(other.0);
    }
}

impl BuyerStats {
    pub fn new() -> Self {
        Self {
            join_latency_us: Samples::default(),
            join_outcomes: BTreeMap::new(),
            joined: Vec::new(),
            first_join: None,
            last_join: None,
            polls: 0,
            poll_failures: 0,
            streams_opened: 0,
            stream_messages: 0,
            time_in_queue_us: Samples::default(),
            wait_after_open_us: Samples::default(),
            admitted: Vec::new(),
            gave_up: 0,
            sale: None,
            hold_answers: Vec::new(),
            commands_per_second: BTreeMap::new(),
        }
    }

    pub fn merge(&mut self, other: BuyerStats) {
        self.join_latency_us.add(other.join_latency_us);
        self.time_in_queue_us.add(other.time_in_queue_us);
        self.wait_after_open_us.add(other.wait_after_open_us);
        for (outcome, n) in other.join_outcomes {
            *self.join_outcomes.entry(outcome).or_default() += n;
        }
        self.joined.extend(other.joined);
        self.first_join = earliest(self.first_join, other.first_join);
        self.last_join = self.last_join.max(other.last_join);
        self.polls += other.polls;
        self.poll_failures += other.poll_failures;
        self.streams_opened += other.streams_opened;
        self.stream_messages += other.stream_messages;
        self.admitted.extend(other.admitted);
        self.gave_up += other.gave_up;
        if let Some(sale) = other.sale {
            self.sale.get_or_insert_with(ClientStats::new).merge(sale);
        }
        self.hold_answers.extend(other.hold_answers);
        for (second, n) in other.commands_per_second {
            *self.commands_per_second.entry(second).or_default() += n;
        }
    }

    fn command_sent(&mut self, started: Instant) {
        let second = started.elapsed().as_secs();
        *self.commands_per_second.entry(second).or_default() += 1;
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// One buyer from joining to their order.
pub async fn run(buyer: Buyer, shared: Arc<Shared>, late_after: Duration) -> BuyerStats {
    let mut stats = BuyerStats::new();
    let token = shared.api.customer_token(&buyer.customer);
    if buyer.late {
        tokio::time::sleep_until((shared.opens + late_after).into()).await;
    }
    let Some((joined_at, place)) = join(&buyer, &shared, &token, &mut stats).await else {
        return stats;
    };
    if shared.join_only {
        return stats;
    }
    let admitted = if buyer.streams {
        follow_stream(&shared, &token, place, &mut stats).await
    } else {
        poll(&shared, &token, place, &mut stats).await
    };
    let Some(admission) = admitted else {
        stats.gave_up += 1;
        return stats;
    };
    let seen = Instant::now();
    stats
        .time_in_queue_us
        .saturating_record(seen.duration_since(joined_at).as_micros() as u64);
    stats
        .wait_after_open_us
        .saturating_record(seen.duration_since(joined_at.max(shared.opens)).as_micros() as u64);
    stats.admitted.push((
        buyer.customer.clone(),
        seen.duration_since(shared.started).as_secs_f64(),
    ));
    buy(&buyer, &shared, &admission, &mut stats).await;
    stats
}

/// Joins until the answer is a place (201 or 200); `None` on any other refusal.
async fn join(
    buyer: &Buyer,
    shared: &Shared,
    token: &str,
    stats: &mut BuyerStats,
) -> Option<(Instant, Place)> {
    loop {
        let permit = shared.joins_in_flight.acquire().await.ok()?;
        let sent = Instant::now();
        if !buyer.late {
            stats.first_join = earliest(stats.first_join, Some(sent));
        }
        let answer = shared.room.join(&shared.event_id, token).await;
        let answered = Instant::now();
        drop(permit);
        stats
            .join_latency_us
            .saturating_record(answered.duration_since(sent).as_micros() as u64);
        let outcome = match &answer {
            Ok(a) if a.error_code().is_empty() => a.status.to_string(),
            Ok(a) => format!("{} {}", a.status, a.error_code()),
            Err(_) => "error: connection".to_owned(),
        };
        *stats.join_outcomes.entry(outcome).or_default() += 1;
        match answer {
            Ok(a) if a.status == 201 || a.status == 200 => {
                if !buyer.late {
                    stats.last_join = Some(answered);
                }
                stats.joined.push(buyer.customer.clone());
                return Some((answered, Place::of(&a.body)));
            }
            Ok(a) if a.status == 429 => tokio::time::sleep(Duration::from_secs(1)).await,
            Ok(a) if a.status == 503 => tokio::time::sleep(UNAVAILABLE_PAUSE).await,
            Err(_) => tokio::time::sleep(UNAVAILABLE_PAUSE).await,
            Ok(_) => return None,
        }
        if Instant::now() >= shared.deadline {
            return None;
        }
    }
}

/// Polls `GET …/queue/me` as `poll_after_ms` says until admitted (the token) or the deadline.
async fn poll(
    shared: &Shared,
    token: &str,
    mut place: Place,
    stats: &mut BuyerStats,
) -> Option<String> {
    loop {
        if place.state == "admitted" {
            return place.admission_token;
        }
        if place.state == "expired" || place.state == "left" {
            return None;
        }
        let now = Instant::now();
        if now >= shared.deadline {
            return None;
        }
        let wake = (now + place.poll_after).min(shared.deadline);
        tokio::time::sleep_until(wake.into()).await;
        stats.polls += 1;
        match shared.room.me(&shared.event_id, token).await {
            Ok(a) if a.status == 200 => place = Place::of(&a.body),
            _ => stats.poll_failures += 1,
        }
    }
}

/// Follows the SSE stream until admitted (the token) or the deadline; reconnects if it ends.
async fn follow_stream(
    shared: &Shared,
    token: &str,
    place: Place,
    stats: &mut BuyerStats,
) -> Option<String> {
    if place.state == "admitted" {
        return place.admission_token;
    }
    let until = tokio::time::Instant::from_std(shared.deadline);
    let followed = tokio::time::timeout_at(until, async {
        loop {
            let Ok(mut response) = shared.room.stream(&shared.event_id, token).await else {
                stats.poll_failures += 1;
                tokio::time::sleep(UNAVAILABLE_PAUSE).await;
                continue;
            };
            stats.streams_opened += 1;
            let mut buffer = String::new();
            while let Some(view) = next_message(&mut response, &mut buffer).await {
                stats.stream_messages += 1;
                let place = Place::of(&view);
                match place.state.as_str() {
                    "admitted" => return place.admission_token,
                    "expired" | "left" => return None,
                    _ => {}
                }
            }
        }
    })
    .await;
    followed.ok().flatten()
}

/// Holds one or two tickets with the admission token, then orders them.
async fn buy(buyer: &Buyer, shared: &Shared, admission: &str, stats: &mut BuyerStats) {
    let mut sale = ClientStats::new();
    buy_into(buyer, shared, admission, stats, &mut sale).await;
    stats.sale = Some(sale);
}

async fn buy_into(
    buyer: &Buyer,
    shared: &Shared,
    admission: &str,
    stats: &mut BuyerStats,
    sale: &mut ClientStats,
) {
    let quantity = rand::rng().random_range(1..=2);
    let body = json!({
        "customer_id": buyer.customer,
        "section_id": shared.section_id,
        "quantity": quantity,
    });
    let key = format!("q{}-{}", shared.event_id, buyer.index);
    let path = format!("/events/{}/holds", shared.event_id);
    let sent = Instant::now();
    stats.command_sent(shared.started);
    let answer = shared
        .api
        .admitted_command(&path, &buyer.customer, &key, admission, &body)
        .await;
    let at = shared.started.elapsed().as_secs_f64();
    let Ok(answer) = answer else {
        sale.count("error: connection".into());
        stats.hold_answers.push((at, 0, "connection".into()));
        return;
    };
    sale.latency_us
        .saturating_record(sent.elapsed().as_micros() as u64);
    let code = answer.error_code().to_owned();
    sale.count(if code.is_empty() {
        answer.status.to_string()
    } else {
        format!("{} {code}", answer.status)
    });
    stats.hold_answers.push((at, answer.status, code));
    if answer.status != 201 {
        return;
    }
    let hold_id = answer.body["hold_id"].as_str().unwrap_or_default();
    sale.acked.push(HoldTaken {
        hold_id: hold_id.to_owned(),
        customer: buyer.customer.clone(),
        fate: Fate::Ordered,
        expires_at: None,
    });
    let order = json!({
        "hold_id": hold_id,
        "customer_id": buyer.customer,
        "payment": {"token": "tok_ok"},
    });
    stats.command_sent(shared.started);
    crate::sale::place_order(
        &shared.api,
        &buyer.customer,
        &format!("o{key}"),
        &order,
        sale,
    )
    .await;
}
