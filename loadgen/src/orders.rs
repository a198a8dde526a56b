//! The buying half of the sale: some holds become orders paid through the test gateway
//! (`tok_ok`, or `tok_decline` for a share of them), and the audit follows every acknowledged
//! order through its stream until it settles: placed once, paid at most once, and confirmed,
//! failed or expired.

use crate::stats::OrderTaken;
use domain::ordering::{evolve, OrderEvent, OrderState, OrderStatus};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tv_nats::{EventStore, Stream};

/// How long the audit waits for every order to settle after the sale.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);
/// Order streams read at once.
const LOADS_IN_FLIGHT: usize = 32;

#[derive(Debug, Default, Serialize)]
pub struct OrderAudit {
    pub acknowledged: u64,
    /// Orders by their final status (`confirmed`, `payment_failed`, …).
    pub statuses: BTreeMap<String, u64>,
    pub settle_seconds: f64,
    pub violations: Vec<String>,
    /// Every settled order as its stream left it, for the read-model audit.
    #[serde(skip)]
    pub settled: Vec<SettledOrder>,
}

/// An acknowledged order once settled, from its stream.
#[derive(Debug, Clone, PartialEq)]
pub struct SettledOrder {
    pub order_id: String,
    pub customer: String,
    pub hold_id: String,
    /// As the API shows it (`confirmed`, `payment_failed`, …).
    pub status: String,
    /// (code, section, seat) of every ticket issued.
    pub tickets: Vec<(String, String, Option<String>)>,
    /// The sequence of the order's last commit in the orders stream.
    pub last_sequence: u64,
}

fn settled(status: OrderStatus) -> bool {
    !matches!(status, OrderStatus::PendingPayment | OrderStatus::Paid)
}

/// Reads every acknowledged order's stream until all are settled (bounded), then checks them.
pub async fn audit(store: &EventStore, orders: &[OrderTaken]) -> anyhow::Result<OrderAudit> {
    let started = Instant::now();
    let mut audit = OrderAudit {
        acknowledged: orders.len() as u64,
        ..OrderAudit::default()
    };
    let mut pending: Vec<&OrderTaken> = orders.iter().collect();
    let mut finals = Vec::new();
    loop {
        let mut still = Vec::new();
        let loads: Vec<_> = stream::iter(pending)
            .map(|taken| async move {
                let loaded = store
                    .load::<OrderEvent>(Stream::Orders, &taken.order_id, 0)
                    .await;
                (taken, loaded)
            })
            .buffered(LOADS_IN_FLIGHT)
            .collect()
            .await;
        for (taken, loaded) in loads {
            let id = &taken.order_id;
            let loaded = loaded?;
            let facts: Vec<&OrderEvent> = loaded.commits.iter().flat_map(|c| &c.events).collect();
            let state = facts.iter().copied().fold(OrderState::default(), evolve);
            match state.status() {
                // An order that ended with money taken settles once refunded.
                Some(status) if settled(status) && state.refund_due_minor() == 0 => {
                    audit
                        .settled
                        .push(settled_order(taken, &state, &facts, loaded.last_sequence));
                    finals.push((id.clone(), status, facts.len(), count(&facts)))
                }
                _ if started.elapsed() > SETTLE_LIMIT => {
                    audit
                        .violations
                        .push(format!("order {id} did not settle: {:?}", state.status()));
                }
                _ => still.push(taken),
            }
        }
        if still.is_empty() {
            break;
        }
        pending = still;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    audit.settle_seconds = started.elapsed().as_secs_f64();
    for (id, status, _, (placed, captured)) in finals {
        *audit
            .statuses
            .entry(status.as_str().to_owned())
            .or_default() += 1;
        if placed != 1 {
            audit
                .violations
                .push(format!("order {id} placed {placed} times"));
        }
        if captured > 1 {
            audit
                .violations
                .push(format!("order {id} paid {captured} times"));
        }
    }
    Ok(audit)
}

fn settled_order(
    taken: &OrderTaken,
    state: &OrderState,
    facts: &[&OrderEvent],
    last_sequence: u64,
) -> SettledOrder {
    let tickets = facts
        .iter()
        .rev()
        .find_map(|f| match f {
            OrderEvent::OrderConfirmed { tickets } => Some(tickets),
            _ => None,
        })
        .map(|tickets| {
            tickets
                .iter()
                .map(|t| {
                    (
                        t.code.clone(),
                        t.section_id.to_string(),
                        t.seat.as_ref().map(ToString::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    SettledOrder {
        order_id: taken.order_id.clone(),
        customer: taken.customer.clone(),
        hold_id: state
            .order()
            .map(|o| o.hold_id.to_string())
            .unwrap_or_default(),
        status: state
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        tickets,
        last_sequence,
    }
}

/// (OrderPlaced, PaymentCaptured) counts of one order's facts.
fn count(facts: &[&OrderEvent]) -> (usize, usize) {
    let placed = facts
        .iter()
        .filter(|f| matches!(f, OrderEvent::OrderPlaced { .. }))
        .count();
    let captured = facts
        .iter()
        .filter(|f| matches!(f, OrderEvent::PaymentCaptured { .. }))
        .count();
    (placed, captured)
}
