//! The waiting list from outside: a sold-out section, 200 customers waiting, then 50 holders
//! giving their seats back while 200 others try to hold them. The 50 seats go to the 50 earliest
//! entries, none to the public and none twice, as the answers and the stream both tell. Also: an
//! unclaimed offer expires and moves on, and bad input appends nothing.

use domain::inventory::{InventoryEvent, WaitlistStatus};
use e2e::{error_code, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv};
use e2e::{eventually, GA_SECTION};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const SEATS: usize = 50;
const WAITING: usize = 200;
const PUBLIC: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn returned_seats_go_to_the_earliest_entries_and_never_to_the_public() {
    scenario(race).await;
}

async fn race(env: TestEnv) {
    let svc = CommandSvc::spawn(&env.prefix).await;
    let api = svc.api().clone();
    let event = api
        .create_on_sale("waitlist-race", &EventSpec::ga(SEATS as u32).to_json())
        .await;

    // Sold out: 50 holders of one ticket each.
    let holds = futures::future::join_all((0..SEATS).map(|i| {
        let (api, event) = (api.clone(), event.clone());
        async move {
            let customer = format!("holder-{i}");
            let body = HoldBody::quantity(&customer, GA_SECTION, 1);
            let (status, answer) = api.hold(&event, &format!("h-{i}"), &body).await;
            assert_eq!(status, StatusCode::CREATED, "{answer}");
            (customer, answer["hold_id"].as_str().unwrap().to_owned())
        }
    }))
    .await;

    // 200 customers join at once: each gets one entry and a distinct place.
    let joins = futures::future::join_all((0..WAITING).map(|i| {
        let (api, event) = (api.clone(), event.clone());
        async move {
            let body = json!({ "section_id": GA_SECTION, "quantity": 1 });
            let customer = format!("waiter-{i}");
            let (status, answer) = api.join_waitlist(&event, &customer, "w", &body).await;
            assert_eq!(status, StatusCode::CREATED, "{answer}");
            assert_eq!(answer["status"], "waiting", "{answer}");
            (customer, answer)
        }
    }))
    .await;
    let positions: HashSet<u64> = joins
        .iter()
        .map(|(_, a)| a["position"].as_u64().expect("a position"))
        .collect();
    assert_eq!(positions, (1..=WAITING as u64).collect(), "one place each");
    let entry_of: HashMap<String, String> = joins
        .iter()
        .map(|(c, a)| (a["waitlist_id"].as_str().unwrap().to_owned(), c.clone()))
        .collect();

    // The race: 50 releases and 200 public holds at once.
    let releases = holds.iter().cloned().map(|(customer, hold)| {
        let api = api.clone();
        tokio::spawn(async move {
            let (status, answer) = api.release(&hold, &customer).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        })
    });
    let public = (0..PUBLIC).map(|i| {
        let (api, event) = (api.clone(), event.clone());
        tokio::spawn(async move {
            let customer = format!("public-{i}");
            let body = HoldBody::quantity(&customer, GA_SECTION, 1);
            api.hold(&event, &format!("p-{i}"), &body).await
        })
    });
    let releases: Vec<_> = releases.collect();
    let public: Vec<_> = public.collect();
    for release in releases {
        release.await.expect("a release task");
    }
    for answer in public {
        let (status, body) = answer.await.expect("a public hold task");
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "the public got a seat: {body}"
        );
        assert_eq!(error_code(&body), Some("sold_out"), "{body}");
    }

    // The stream: 50 offers, to the 50 earliest entries, each once, each with its own seat.
    let log = InventoryLog::read(&env.store, &event).await;
    let joined: Vec<String> = log
        .facts()
        .filter_map(|f| match f {
            InventoryEvent::WaitlistJoined { waitlist_id, .. } => Some(waitlist_id.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(joined.len(), WAITING, "one entry per customer");
    let offered: Vec<String> = log
        .facts()
        .filter_map(|f| match f {
            InventoryEvent::WaitlistOffered { waitlist_id, .. } => Some(waitlist_id.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(offered.len(), SEATS, "one offer per returned seat");
    let earliest: HashSet<&String> = joined[..SEATS].iter().collect();
    assert_eq!(
        offered.iter().collect::<HashSet<_>>(),
        earliest,
        "the offers went to the earliest entries"
    );
    let public_holds = log.facts().filter(|f| {
        matches!(f, InventoryEvent::SeatsHeld { customer_id, .. } if customer_id.as_str().starts_with("public-"))
    });
    assert_eq!(public_holds.count(), 0);
    log.seat_owners();

    // The folded aggregate: the section is full of offers, and the other 150 still wait in order.
    let state = log.fold();
    let now = time::OffsetDateTime::now_utc();
    let floor = &state.availability(now)[0];
    assert_eq!((floor.available, floor.held), (0, SEATS as u32));
    let mut still_waiting = Vec::new();
    for entry in state.waitlist_entries() {
        let customer = &entry_of[&entry.waitlist_id.to_string()];
        match entry.status {
            WaitlistStatus::Offered { hold_id } => {
                let hold = state.hold(&hold_id).expect("the offered hold");
                assert_eq!(hold.customer_id.as_str(), customer);
            }
            WaitlistStatus::Waiting => still_waiting.push(entry.waitlist_id),
            other => panic!("{customer}'s entry is {other:?}"),
        }
    }
    assert_eq!(still_waiting.len(), WAITING - SEATS);
    let first = state.waitlist_place(&still_waiting[0]).unwrap();
    assert_eq!(first.position, Some(1));

    // An offered customer's answer to a repeated join names the offer.
    let (offered_id, offered_customer) = entry_of
        .iter()
        .find(|(id, _)| offered.contains(id))
        .unwrap();
    let body = json!({ "section_id": GA_SECTION, "quantity": 1 });
    let (status, answer) = api
        .join_waitlist(&event, offered_customer, "again", &body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["waitlist_id"], offered_id.as_str(), "{answer}");
    assert_eq!(answer["status"], "offered", "{answer}");
    assert!(answer["hold_id"].is_string(), "{answer}");
    svc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unclaimed_offer_expires_and_moves_on() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let spec = EventSpec::ga(1).ttl(5);
        let event = api.create_on_sale("waitlist-expiry", &spec.to_json()).await;
        let (status, held) = api
            .hold(&event, "h", &HoldBody::quantity("alice", GA_SECTION, 1))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        let body = json!({ "section_id": GA_SECTION, "quantity": 1 });
        let (_, bob) = api.join_waitlist(&event, "bob", "w", &body).await;
        let (_, carol) = api.join_waitlist(&event, "carol", "w", &body).await;
        assert_eq!(
            (bob["position"].as_u64(), carol["position"].as_u64()),
            (Some(1), Some(2))
        );

        // Alice gives her ticket back: bob is offered it; he lets it run out; carol gets it.
        let (status, _) = api
            .release(held["hold_id"].as_str().unwrap(), "alice")
            .await;
        assert_eq!(status, StatusCode::OK);
        let moved_on = eventually(Duration::from_secs(30), || {
            let store = env.store.clone();
            let event = event.clone();
            async move {
                let log = InventoryLog::read(&store, &event).await;
                (log.count("WaitlistOfferExpired") == 1 && log.count("WaitlistOffered") == 2)
                    .then_some(log)
            }
        })
        .await
        .expect("bob's offer expires and carol is offered the ticket");
        let state = moved_on.fold();
        let bob_id = bob["waitlist_id"].as_str().unwrap().parse().unwrap();
        let carol_id = carol["waitlist_id"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            state.waitlist_place(&bob_id).unwrap().entry.status,
            WaitlistStatus::Expired
        );
        assert!(matches!(
            state.waitlist_place(&carol_id).unwrap().entry.status,
            WaitlistStatus::Offered { .. }
        ));

        // Carol leaves: her offer goes back, and the ticket is on sale again.
        let (status, left) = api
            .leave_waitlist(carol["waitlist_id"].as_str().unwrap(), "carol")
            .await;
        assert_eq!(status, StatusCode::OK, "{left}");
        assert_eq!(left["status"], "left", "{left}");
        let (status, again) = api
            .leave_waitlist(carol["waitlist_id"].as_str().unwrap(), "carol")
            .await;
        assert_eq!((status, &again["status"]), (StatusCode::OK, &json!("left")));
        let (status, answer) = api
            .hold(&event, "d", &HoldBody::quantity("dave", GA_SECTION, 1))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_waiting_list_requests_change_nothing() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let spec = EventSpec::ga(2).with_ga("balcony", 10).limit(4);
        let event = api.create_on_sale("waitlist-bad", &spec.to_json()).await;
        let (status, _) = api
            .hold(&event, "h", &HoldBody::quantity("alice", GA_SECTION, 2))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let before = InventoryLog::read(&env.store, &event).await.last_sequence;

        let join =
            |section: &str, quantity: u32| json!({ "section_id": section, "quantity": quantity });
        let cases = [
            (
                event.clone(),
                join("balcony", 1),
                StatusCode::CONFLICT,
                "not_sold_out",
            ),
            (
                event.clone(),
                join("nowhere", 1),
                StatusCode::NOT_FOUND,
                "unknown_section",
            ),
            (
                event.clone(),
                join(GA_SECTION, 0),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_quantity",
            ),
            (
                event.clone(),
                join(GA_SECTION, 5),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_quantity",
            ),
            (
                uuid::Uuid::new_v4().to_string(),
                join(GA_SECTION, 1),
                StatusCode::NOT_FOUND,
                "unknown_event",
            ),
        ];
        for (event_id, body, status, code) in cases {
            let (got, answer) = api.join_waitlist(&event_id, "bob", "bad", &body).await;
            assert_eq!(
                (got, error_code(&answer)),
                (status, Some(code)),
                "{body}: {answer}"
            );
        }
        let (status, answer) = api
            .join_waitlist(&event, "bob", "x", &json!({ "section_id": GA_SECTION }))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        let (status, answer) = api.leave_waitlist("not-an-id", "bob").await;
        assert!(status.is_client_error(), "{status}: {answer}");
        assert_eq!(
            InventoryLog::read(&env.store, &event).await.last_sequence,
            before,
            "a refused request appended nothing"
        );

        // A second entry of one customer is the first one, and appends nothing.
        let (status, first) = api
            .join_waitlist(&event, "bob", "w1", &join(GA_SECTION, 1))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        let after_first = InventoryLog::read(&env.store, &event).await.last_sequence;
        let (status, second) = api
            .join_waitlist(&event, "bob", "w2", &join(GA_SECTION, 2))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{second}");
        assert_eq!(second["waitlist_id"], first["waitlist_id"]);
        assert_eq!(
            InventoryLog::read(&env.store, &event).await.last_sequence,
            after_first
        );
        // Another customer cannot see or end bob's entry.
        let (status, answer) = api
            .leave_waitlist(first["waitlist_id"].as_str().unwrap(), "mallory")
            .await;
        assert_eq!(
            (status, error_code(&answer)),
            (StatusCode::NOT_FOUND, Some("unknown_waitlist_entry"))
        );
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_svc_shows_each_entry_its_place_its_offer_and_the_notice() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let read = e2e::readside::ReadSide::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_on_sale("waitlist-read", &EventSpec::ga(2).to_json())
            .await;
        let (_, held) = api
            .hold(&event, "h", &HoldBody::quantity("alice", GA_SECTION, 2))
            .await;
        let body = json!({ "section_id": GA_SECTION, "quantity": 2 });
        let (_, bob) = api.join_waitlist(&event, "bob", "w", &body).await;
        let (_, carol) = api.join_waitlist(&event, "carol", "w", &body).await;
        let path = |entry: &serde_json::Value| {
            format!(
                "/waitlist/{}?after={}",
                entry["waitlist_id"].as_str().unwrap(),
                entry["stream_position"].as_str().unwrap()
            )
        };

        // Each customer reads their own entry and place; nobody else's.
        let bob_token = e2e::client::customer_authorization("bob");
        let (status, seen) = read.get_as(&path(&carol), Some(&bob_token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{seen}");
        let (status, seen) = read.get_as(&path(&bob), Some(&bob_token)).await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(
            (seen["status"].as_str(), seen["position"].as_u64()),
            (Some("waiting"), Some(1))
        );
        let (_, seen) = read.get(&path(&carol)).await;
        assert_eq!(seen["position"], 2, "{seen}");

        // Alice gives her tickets back: bob is offered them, carol moves up.
        let (status, released) = api
            .release(held["hold_id"].as_str().unwrap(), "alice")
            .await;
        assert_eq!(status, StatusCode::OK, "{released}");
        let after = |entry: &serde_json::Value| {
            format!(
                "/waitlist/{}?after={}",
                entry["waitlist_id"].as_str().unwrap(),
                released["position"].as_str().unwrap()
            )
        };
        let (_, seen) = read.get(&after(&bob)).await;
        assert_eq!(seen["status"], "offered", "{seen}");
        let offered_hold = seen["hold_id"]
            .as_str()
            .expect("the offered hold")
            .to_owned();
        let (_, hold) = read.get(&format!("/holds/{offered_hold}")).await;
        assert_eq!(
            (hold["customer_id"].as_str(), hold["status"].as_str()),
            (Some("bob"), Some("active"))
        );
        let (_, seen) = read.get(&after(&carol)).await;
        assert_eq!(seen["position"], 1, "{seen}");
        let (_, availability) = read
            .get(&format!(
                "/events/{event}/availability?after={}",
                released["position"].as_str().unwrap()
            ))
            .await;
        assert_eq!(
            availability["sections"][0]["available"], 0,
            "{availability}"
        );

        // The notifier tells bob of the offer, once.
        let bob_entry = bob["waitlist_id"].as_str().unwrap().to_owned();
        let told = eventually(Duration::from_secs(20), || {
            let database = &read.database;
            let bob_entry = bob_entry.clone();
            async move {
                let rows = database
                    .client()
                    .await
                    .query(
                        "SELECT id, customer_id FROM notifications WHERE kind = 'waitlist_offer'",
                        &[],
                    )
                    .await
                    .unwrap_or_default();
                let rows: Vec<(String, String)> =
                    rows.iter().map(|r| (r.get(0), r.get(1))).collect();
                (!rows.is_empty())
                    .then_some(rows)
                    .filter(|r| r[0].0.starts_with(&bob_entry))
            }
        })
        .await
        .expect("the notifier tells bob of the offer");
        assert_eq!(
            told,
            vec![(format!("{bob_entry}:waitlist_offer"), "bob".to_owned())]
        );
        read.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}
