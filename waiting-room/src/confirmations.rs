//! Confirmed orders end admissions: the orders stream is followed (from an hour before start,
//! which covers any order still being paid), the customer and event of each order are taken from
//! its `OrderPlaced`, and an `OrderConfirmed` of an event with a waiting room hands the customer
//! to that room's admitter. An order placed before the window is read from its own subject. The
//! orders between their `OrderPlaced` and their end are kept in memory: an hour of a flash sale's
//! orders at about a hundred bytes each.

use crate::rooms::Rooms;
use domain::ids::{CustomerId, EventId};
use domain::ordering::OrderEvent;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tv_nats::{EventStore, FollowFrom, StoreError, Stream};

/// How far back the orders stream is read at start.
const LOOK_BACK: time::Duration = time::Duration::HOUR;

/// Follows the orders stream until the task is aborted.
pub async fn follow(store: EventStore, rooms: Arc<Rooms>) {
    let started = time::OffsetDateTime::now_utc();
    let mut next: Option<u64> = None;
    let mut orders: HashMap<String, (CustomerId, EventId)> = HashMap::new();
    loop {
        let from = next.map_or(FollowFrom::Time(started - LOOK_BACK), FollowFrom::Sequence);
        if let Err(e) = follow_once(&store, &rooms, from, &mut next, &mut orders).await {
            tracing::warn!(error = %e, "following the orders stream stopped; resuming");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn follow_once(
    store: &EventStore,
    rooms: &Rooms,
    from: FollowFrom,
    next: &mut Option<u64>,
    orders: &mut HashMap<String, (CustomerId, EventId)>,
) -> Result<(), StoreError> {
    let mut following = store.follow(Stream::Orders, from).await?;
    loop {
        let raw = following.next().await?;
        *next = Some(raw.sequence + 1);
        let order = order_id_of(store, &raw.subject);
        let Ok(commit) = raw.decode::<OrderEvent>() else {
            continue;
        };
        for event in &commit.events {
            match event {
                OrderEvent::OrderPlaced {
                    customer_id,
                    event_id,
                    ..
                } => {
                    orders.insert(order.clone(), (customer_id.clone(), *event_id));
                }
                OrderEvent::OrderConfirmed { .. } => {
                    let placed = match orders.remove(&order) {
                        Some(placed) => Some(placed),
                        None => placed_by(store, &order).await,
                    };
                    if let Some((customer, event)) = placed {
                        if let Some(room) = rooms.get(event) {
                            room.finish_later(customer);
                        }
                    }
                }
                OrderEvent::PaymentFailed { .. }
                | OrderEvent::OrderExpired { .. }
                | OrderEvent::OrderCancelled { .. } => {
                    orders.remove(&order);
                }
                _ => {}
            }
        }
    }
}

/// The order id of an orders subject (`<prefix>.orders.<id>`).
fn order_id_of(store: &EventStore, subject: &str) -> String {
    let wildcard = store.naming().wildcard(Stream::Orders);
    let prefix = wildcard.trim_end_matches('>');
    subject.strip_prefix(prefix).unwrap_or(subject).to_owned()
}

/// The customer and event of an order placed before the window, from its own subject.
async fn placed_by(store: &EventStore, order: &str) -> Option<(CustomerId, EventId)> {
    let loaded = store
        .load::<OrderEvent>(Stream::Orders, order, 0)
        .await
        .ok()?;
    loaded
        .commits
        .iter()
        .flat_map(|commit| &commit.events)
        .find_map(|event| match event {
            OrderEvent::OrderPlaced {
                customer_id,
                event_id,
                ..
            } => Some((customer_id.clone(), *event_id)),
            _ => None,
        })
}
