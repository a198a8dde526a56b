//! An event's lifecycle at the edge: nothing is sold before it is published, publishing is safe to
//! repeat and opens the inventory once, and creating it is idempotent by key.

use domain::catalog::CatalogEvent;
use e2e::SEATED_SECTION;
use e2e::{error_code, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv};
use reqwest::StatusCode;
use serde_json::Value;
use tv_nats::{EventStore, Stream};

const CONCURRENT: usize = 10;

async fn catalog_kinds(store: &EventStore, event: &str) -> Vec<&'static str> {
    store
        .load::<CatalogEvent>(Stream::Catalog, event, 0)
        .await
        .expect("reading the catalog")
        .commits
        .iter()
        .flat_map(|c| c.events.iter().map(CatalogEvent::kind))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_is_held_before_publish_and_publish_opens_once() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_event("lifecycle-event", &EventSpec::seated().to_json())
            .await;

        let body = HoldBody::seats("early-bird", SEATED_SECTION, &["A-1"]);
        let (status, refused) = api.hold(&event, "too-early", &body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert_eq!(error_code(&refused), Some("sale_not_open"));
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(log.last_sequence, 0, "a draft has no inventory commit");

        // Twice in a row, then several at once: every one succeeds with the same answer.
        let first = api.publish(&event).await;
        let second = api.publish(&event).await;
        assert_eq!(first["position"], second["position"], "{first} vs {second}");
        let tasks: Vec<_> = (0..CONCURRENT)
            .map(|_| {
                let (api, event) = (api.clone(), event.clone());
                tokio::spawn(async move { api.try_publish(&event).await })
            })
            .collect();
        for answer in futures::future::join_all(tasks).await {
            let (status, body) = answer.expect("a client task");
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["status"], "on_sale");
            assert_eq!(body["event_id"], event.as_str());
            assert_eq!(body["position"], first["position"], "{body}");
        }

        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(log.count("InventoryOpened"), 1, "the inventory opens once");
        assert_eq!(log.facts().count(), 1);
        assert_eq!(
            catalog_kinds(&env.store, &event).await,
            ["EventCreated", "EventPublished"]
        );

        // On sale now: the hold that was refused goes through with a fresh key...
        let (status, held) = api.hold(&event, "on-time", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        // ...and the refused key was not burnt by its refusal.
        let (status, held) = api
            .hold(
                &event,
                "too-early",
                &HoldBody::seats("early-bird", SEATED_SECTION, &["A-2"]),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{held}");

        // Publishing an event nobody created is refused.
        let unknown = uuid::Uuid::new_v4().to_string();
        let (status, answer) = api.try_publish(&unknown).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
        assert_eq!(error_code(&answer), Some("unknown_event"));
        assert_eq!(
            InventoryLog::read(&env.store, &unknown).await.last_sequence,
            0
        );

        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sale_that_opens_later_refuses_holds_until_then() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let spec = EventSpec::seated().sale_opens_at("2029-01-01T10:00:00Z");
        let event = api.create_on_sale("later-event", &spec.to_json()).await;
        let before = InventoryLog::read(&env.store, &event).await.last_sequence;

        let body = HoldBody::quantity("eager", SEATED_SECTION, 2);
        let (status, refused) = api.hold(&event, "eager-1", &body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert_eq!(error_code(&refused), Some("sale_not_open"));
        let after = InventoryLog::read(&env.store, &event).await;
        assert_eq!(after.last_sequence, before, "a refusal appended something");

        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn creating_an_event_is_idempotent_by_key() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let spec = EventSpec::seated().limit(6).to_json();

        let (status, first) = api.try_create_event(Some("create-1"), &spec).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert_eq!(first["status"], "draft");
        let event = first["event_id"].as_str().expect("event_id").to_owned();

        let (status, again) = api.try_create_event(Some("create-1"), &spec).await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        assert_eq!(again, first, "a retry gets the first answer");

        let tasks: Vec<_> = (0..CONCURRENT)
            .map(|_| {
                let (api, spec) = (api.clone(), spec.clone());
                tokio::spawn(async move { api.try_create_event(Some("create-2"), &spec).await })
            })
            .collect();
        let answers: Vec<(StatusCode, Value)> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(|a| a.expect("a client task"))
            .collect();
        for (status, body) in &answers {
            assert_eq!(*status, StatusCode::CREATED, "{body}");
            assert_eq!(body, &answers[0].1, "concurrent retries get one answer");
        }
        let other_event = answers[0].1["event_id"].as_str().expect("event_id");
        assert_ne!(other_event, event, "another key, another event");
        assert_eq!(
            catalog_kinds(&env.store, other_event).await,
            ["EventCreated"]
        );

        // The same key with other details is refused and changes nothing.
        let catalog_end = env
            .store
            .last_sequence(Stream::Catalog)
            .await
            .expect("info");
        let other = EventSpec::seated().limit(2).to_json();
        let (status, refused) = api.try_create_event(Some("create-1"), &other).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(error_code(&refused), Some("idempotency_key_reused"));

        // An invalid event is refused with the field to fix, and changes nothing.
        let too_short = EventSpec::seated().ttl(4).to_json();
        let (status, refused) = api.try_create_event(Some("create-3"), &too_short).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(error_code(&refused), Some("invalid_event"));
        let message = refused["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("hold_ttl_seconds"), "{refused}");

        assert_eq!(
            env.store
                .last_sequence(Stream::Catalog)
                .await
                .expect("info"),
            catalog_end,
            "a refused create appended something"
        );
        assert_eq!(catalog_kinds(&env.store, &event).await, ["EventCreated"]);

        svc.shutdown().await;
    })
    .await;
}
