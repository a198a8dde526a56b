//! The waiting list's notices, from the INVENTORY stream: an offer and an offer that ran out each
//! become one notice of the entry's customer, however often the commits come again.

mod support;

use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, SectionId, WaitlistId};
use domain::inventory::{InventoryEvent, Selection};
use std::time::{Duration, Instant};
use support::{Running, TestEnv};
use tv_nats::{CommitMeta, EventRecord, Stream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_and_its_expiry_are_told_once_each() {
    let env = TestEnv::new().await;
    let event = EventId::new_random();
    let carol = CustomerId::parse("carol").unwrap();
    let entry = WaitlistId::derive(event, &carol, &IdempotencyKey::parse("w").unwrap());
    let hold_id = HoldId::offered_to(entry);
    let commits = [
        vec![InventoryEvent::WaitlistJoined {
            waitlist_id: entry,
            customer_id: carol.clone(),
            section_id: SectionId::parse("floor").unwrap(),
            quantity: 2,
            adjacent: false,
        }],
        vec![
            InventoryEvent::SeatsHeld {
                hold_id,
                customer_id: carol.clone(),
                section_id: SectionId::parse("floor").unwrap(),
                seats: Vec::new(),
                quantity: 2,
                expires_at: time::OffsetDateTime::now_utc() + time::Duration::minutes(10),
                request: Selection::Quantity(2),
            },
            InventoryEvent::WaitlistOffered {
                waitlist_id: entry,
                customer_id: carol.clone(),
                hold_id,
            },
        ],
        vec![InventoryEvent::WaitlistOfferExpired {
            waitlist_id: entry,
            customer_id: carol,
            hold_id,
        }],
    ];
    let mut expected = 0;
    for facts in commits {
        let records: Vec<_> = facts.iter().map(|e| EventRecord::new(1, e)).collect();
        expected = env
            .store
            .append(
                Stream::Inventory,
                &event.to_string(),
                expected,
                &CommitMeta::new("EventInventory", "test"),
                &records,
            )
            .await
            .expect("appending an inventory commit")
            .sequence;
    }

    let notifier = notifier::Notifier::build(env.config())
        .await
        .expect("the notifier starts");
    let running = Running::start(notifier).await;
    let wanted = vec![
        (
            format!("{entry}:waitlist_offer"),
            "waitlist_offer".to_owned(),
        ),
        (
            format!("{entry}:waitlist_offer_expired"),
            "waitlist_offer_expired".to_owned(),
        ),
    ];
    let started = Instant::now();
    while env.outbox().await != wanted {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the notices never came: {:?}",
            env.outbox().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    running.stop().await;
}
