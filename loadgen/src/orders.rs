//! The buying half of the sale: some holds become orders paid through the test gateway
//! (`tok_ok`, or `tok_decline` for a share of them), and the audit follows every acknowledged
//! order through its stream until it settles: placed once, paid at most once, and confirmed,
//! failed or expired.

use domain::ordering::{evolve, OrderEvent, OrderState, OrderStatus};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tv_nats::{EventStore, Stream};

/// How long the audit waits for every order to settle after the sale.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);

#[derive(Debug, Default, Serialize)]
pub struct OrderAudit {
    pub acknowledged: u64,
    /// Orders by their final status (`confirmed`, `payment_failed`, …).
    pub statuses: BTreeMap<String, u64>,
    pub settle_seconds: f64,
    pub violations: Vec<String>,
}

fn settled(status: OrderStatus) -> bool {
    !matches!(status, OrderStatus::PendingPayment | OrderStatus::Paid)
}

/// Reads every acknowledged order's stream until all are settled (bounded), then checks them.
pub async fn audit(store: &EventStore, orders: &[String]) -> anyhow::Result<OrderAudit> {
    let started = Instant::now();
    let mut audit = OrderAudit {
        acknowledged: orders.len() as u64,
        ..OrderAudit::default()
    };
    let mut pending: Vec<&String> = orders.iter().collect();
    let mut finals = Vec::new();
    loop {
        let mut still = Vec::new();
        for id in pending {
            let loaded = store.load::<OrderEvent>(Stream::Orders, id, 0).await?;
            let facts: Vec<&OrderEvent> = loaded.commits.iter().flat_map(|c| &c.events).collect();
            let state = facts.iter().copied().fold(OrderState::default(), evolve);
            match state.status() {
                Some(status) if settled(status) => {
                    finals.push((id.clone(), status, facts.len(), count(&facts)))
                }
                _ if started.elapsed() > SETTLE_LIMIT => {
                    audit
                        .violations
                        .push(format!("order {id} did not settle: {:?}", state.status()));
                }
                _ => still.push(id),
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
