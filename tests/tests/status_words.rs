//! Every status word query-svc answers means what the domain means: after each command of a sale
//! (hold, release, checkout and payment, a refund that returns the seats, a hold left to run
//! out), the words of every hold and seat read through query-svc come to be the words the
//! read-model contract gives the domain's state at that moment (`read_model::status`), with
//! lazy expiry applied the same way on both sides.

use domain::ids::{HoldId, SeatLabel, SectionId};
use domain::inventory::{EventInventory, SeatStatus};
use e2e::readside::ReadSide;
use e2e::{
    scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv, GA_SECTION, SEATED_SECTION,
};
use read_model::status::HoldStatus;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use time::OffsetDateTime;

const SETTLED: Duration = Duration::from_secs(30);
/// The shortest hold time to live an event accepts: long enough for the steps before the last.
const TTL_SECONDS: u32 = 5;

/// The words the API answers for the domain's state at `now`: each hold's and each named seat's.
fn domain_words(
    inventory: &EventInventory,
    holds: &[String],
    seats: &[&str],
    now: OffsetDateTime,
) -> BTreeMap<String, String> {
    let mut words = BTreeMap::new();
    for id in holds {
        let hold_id: HoldId = id.parse().expect("a hold id");
        let hold = inventory.hold(&hold_id).expect("a hold the stream knows");
        let stored = HoldStatus::of_domain(&hold.status).expect("a status of the contract");
        let word = stored.at(hold.expires_at, now).api_word();
        words.insert(format!("hold {id}"), word.to_owned());
    }
    let section = SectionId::parse(SEATED_SECTION).unwrap();
    for label in seats {
        let seat: SeatLabel = label.parse().unwrap();
        let word = match inventory.seat_status(&section, &seat, now).expect("a seat") {
            SeatStatus::Available => "available",
            SeatStatus::Held(_) => "held",
            SeatStatus::Sold(_) => "sold",
            SeatStatus::Blocked(_) => "blocked",
        };
        words.insert(format!("seat {label}"), word.to_owned());
    }
    words
}

/// The same words as query-svc answers them.
async fn read_words(read: &ReadSide, event: &str, holds: &[String]) -> BTreeMap<String, String> {
    let mut words = BTreeMap::new();
    for id in holds {
        let (status, hold) = read.get(&format!("/holds/{id}")).await;
        let word = match status {
            StatusCode::OK => hold["status"].as_str().unwrap_or("?").to_owned(),
            other => format!("{other}"),
        };
        words.insert(format!("hold {id}"), word);
    }
    let (_, map) = read
        .get(&format!("/events/{event}/sections/{SEATED_SECTION}/seats"))
        .await;
    for seat in map.as_array().into_iter().flatten() {
        let label = seat["seat"].as_str().unwrap_or("?");
        words.insert(
            format!("seat {label}"),
            seat["status"].as_str().unwrap_or("?").to_owned(),
        );
    }
    words
}

/// Waits until query-svc answers, for every hold and for the seats named, the words the domain
/// gives its state; panics with both after `SETTLED`.
async fn agree(env: &TestEnv, read: &ReadSide, event: &str, holds: &[String], step: &str) {
    let seats = ["A-1", "A-2", "A-3", "A-4", "A-5"];
    let deadline = tokio::time::Instant::now() + SETTLED;
    loop {
        let now = OffsetDateTime::now_utc();
        let inventory = InventoryLog::read(&env.store, event).await.fold();
        let expected = domain_words(&inventory, holds, &seats, now);
        let mut answered = read_words(read, event, holds).await;
        answered.retain(|k, _| expected.contains_key(k));
        if answered == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "after {step}: query-svc answers {answered:#?}, the domain means {expected:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn id(hold: &Value) -> String {
    hold["hold_id"].as_str().expect("a hold id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_status_word_read_means_what_the_domain_means() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let read = ReadSide::spawn(&env.prefix).await;
        let spec = EventSpec::seated().with_ga(GA_SECTION, 20).ttl(TTL_SECONDS);
        let event = svc.api().create_on_sale("words", &spec.to_json()).await;
        let api = svc.api();
        let mut holds = Vec::new();

        let (status, alice) = api
            .hold(
                &event,
                "alice-1",
                &HoldBody::seats("alice", SEATED_SECTION, &["A-1", "A-2"]),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{alice}");
        holds.push(id(&alice));
        agree(&env, &read, &event, &holds, "a hold (active, seats held)").await;

        let (status, bob) = api
            .hold(&event, "bob-1", &HoldBody::quantity("bob", GA_SECTION, 2))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{bob}");
        holds.push(id(&bob));
        let (status, released) = api.release(&id(&bob), "bob").await;
        assert_eq!(status, StatusCode::OK, "{released}");
        agree(&env, &read, &event, &holds, "a release (released)").await;

        // Checked out and paid: `ordered` (checked out, then sold), seats sold.
        let (status, placed) = api
            .place_order("alice-order", &id(&alice), "alice", "tok_ok")
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        let order = placed["order_id"].as_str().unwrap().to_owned();
        agree(&env, &read, &event, &holds, "a checkout (ordered)").await;
        read.get_until(&format!("/orders/{order}"), SETTLED, |_, o| {
            o["status"] == "confirmed"
        })
        .await;
        agree(&env, &read, &event, &holds, "a payment (sold)").await;

        // A refund returns the seats: the hold stays `ordered` to the API, its seats are free.
        let (status, cancelled) = api.cancel_order(&order, "alice").await;
        assert!(status.is_success(), "{status} {cancelled}");
        read.get_until(&format!("/orders/{order}"), SETTLED, |_, o| {
            o["status"] == "refunded"
        })
        .await;
        agree(&env, &read, &event, &holds, "a refund (returned)").await;

        // Left to run out: expired at its expires_at on both sides, recorded or not.
        let (status, carol) = api
            .hold(
                &event,
                "carol-1",
                &HoldBody::seats("carol", SEATED_SECTION, &["A-5"]),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{carol}");
        holds.push(id(&carol));
        agree(&env, &read, &event, &holds, "a second hold").await;
        tokio::time::sleep(Duration::from_secs(u64::from(TTL_SECONDS) + 1)).await;
        agree(
            &env,
            &read,
            &event,
            &holds,
            "an expiry (expired, seat available)",
        )
        .await;
        let (_, hold) = read.get(&format!("/holds/{}", id(&carol))).await;
        assert_eq!(hold["status"], "expired", "{hold}");

        read.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}
