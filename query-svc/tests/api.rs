//! query-svc against real NATS and PostgreSQL, with a live projector filling the read models.

mod common;

use common::support::*;
use common::{get, get_json, section, Stack};
use domain::inventory::InventoryEvent;
use std::collections::BTreeMap;
use std::time::Duration;
use time::OffsetDateTime;
use tv_nats::Stream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_answers_as_the_api_says() {
    let stack = Stack::start(2_000).await;
    let addr = stack.addr;
    let mut sim = open_event(&stack.env.store, 11).await;
    let event = sim.event_id.to_string();
    let in_the_future = OffsetDateTime::now_utc() + time::Duration::minutes(10);
    let hold = sim.hold(0, 2, in_the_future).unwrap();
    let InventoryEvent::SeatsHeld { hold_id, seats, .. } = &hold else {
        unreachable!()
    };
    let (hold_id, seats) = (hold_id.to_string(), seats.clone());
    let seq = sim.append(&stack.env.store, vec![hold]).await;
    let after = stack.inventory_position(seq);

    let (status, events) = get_json(
        addr,
        &format!("/events?after={}:1", stack.env.stream_name(Stream::Catalog)),
    )
    .await;
    assert_eq!(status, 200, "{events}");
    assert_eq!(events[0]["event_id"], event.as_str());
    assert_eq!(events[0]["status"], "on_sale");
    assert_eq!(events[0]["venue"], "Arena");

    let (status, detail) = get_json(addr, &format!("/events/{event}")).await;
    assert_eq!(status, 200);
    assert_eq!(detail["currency"], "EUR");
    assert_eq!(detail["sections"][0]["price_minor"], 5000);
    assert_eq!(detail["sections"][1]["kind"], "general_admission");

    let (status, availability) =
        get_json(addr, &format!("/events/{event}/availability?after={after}")).await;
    assert_eq!(status, 200);
    let stalls = section(&availability, "stalls");
    assert_eq!(
        (
            stalls["capacity"].as_i64(),
            stalls["held"].as_i64(),
            stalls["available"].as_i64()
        ),
        (Some(14), Some(2), Some(12))
    );
    assert_eq!(stalls["version"].as_u64(), Some(seq));
    assert_eq!(section(&availability, "floor")["available"], 40);

    let (status, seat_map) =
        get_json(addr, &format!("/events/{event}/sections/stalls/seats")).await;
    assert_eq!(status, 200);
    assert_eq!(seat_map.as_array().unwrap().len(), 14);
    assert_eq!(
        seat_map[0],
        serde_json::json!({"seat": seats[0].to_string(), "status": "held"})
    );
    assert_eq!(seat_map[13]["status"], "available");
    let (_, ga) = get_json(addr, &format!("/events/{event}/sections/floor/seats")).await;
    assert_eq!(ga, serde_json::json!([]));

    let (status, hold) = get_json(addr, &format!("/holds/{hold_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(hold["status"], "active");
    assert_eq!(hold["quantity"], 2);
    assert_eq!(hold["seats"].as_array().unwrap().len(), 2);

    // Errors: stable codes, one shape.
    for (path, status, code) in [
        (
            format!("/events/{}", uuid::Uuid::new_v4()),
            404,
            "unknown_event",
        ),
        (
            format!("/events/{}/availability", uuid::Uuid::new_v4()),
            404,
            "unknown_event",
        ),
        (
            format!("/events/{event}/sections/nope/seats"),
            404,
            "unknown_section",
        ),
        (
            format!("/events/{}/sections/stalls/seats", uuid::Uuid::new_v4()),
            404,
            "unknown_event",
        ),
        ("/events/not-a-uuid".to_owned(), 400, "invalid_event_id"),
        (
            format!("/holds/{event}.{}", uuid::Uuid::new_v4()),
            404,
            "unknown_hold",
        ),
        ("/holds/garbage".to_owned(), 400, "invalid_hold_id"),
        (
            format!("/events/{event}/availability?after=garbage"),
            400,
            "invalid_position",
        ),
        (
            format!("/events/{event}/availability?after=NOPE:1"),
            400,
            "invalid_position",
        ),
        (
            format!("/orders/{}", uuid::Uuid::new_v4()),
            404,
            "unknown_order",
        ),
        ("/nowhere".to_owned(), 404, "not_found"),
    ] {
        let (got, body) = get_json(addr, &path).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}: {body}"
        );
        assert!(body["error"]["message"].is_string(), "{path}: {body}");
    }

    // Orders answer from the orders table, empty until the ordering context projects into it.
    let (status, orders) = get_json(addr, "/customers/c1/orders").await;
    assert_eq!((status, orders), (200, serde_json::json!([])));

    // Operations.
    assert_eq!(get_json(addr, "/healthz").await.0, 200);
    let (status, ready) = get_json(addr, "/readyz").await;
    assert_eq!(status, 200, "{ready}");
    let (status, openapi) = get_json(addr, "/openapi.json").await;
    assert_eq!(status, 200);
    assert!(openapi["paths"]["/events/{event_id}/availability"]["get"].is_object());
    let (status, metrics) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    for name in [
        "tv_query_cache_hits_total",
        "tv_query_cache_misses_total",
        "tv_http_request_seconds_bucket",
    ] {
        assert!(
            metrics.contains(name),
            "{name} missing from /metrics:\n{metrics}"
        );
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sees_the_effect_of_the_command_that_returned_the_position() {
    let stack = Stack::start(2_000).await;
    let mut sim = open_event(&stack.env.store, 12).await;
    let event = sim.event_id.to_string();
    // Warm the caches, so a stale cached copy would show if `after` were ignored.
    let (status, before) = get_json(
        stack.addr,
        &format!(
            "/events/{event}/availability?after={}",
            stack.inventory_position(sim.last_sequence)
        ),
    )
    .await;
    assert_eq!(status, 200, "{before}");
    for round in 0..30u32 {
        let in_the_future = OffsetDateTime::now_utc() + time::Duration::minutes(10);
        let Some(hold) = sim.hold(1, 1, in_the_future) else {
            break;
        };
        let InventoryEvent::SeatsHeld { hold_id, .. } = &hold else {
            unreachable!()
        };
        let hold_id = hold_id.to_string();
        let seq = sim.append(&stack.env.store, vec![hold]).await;
        let after = stack.inventory_position(seq);
        let (status, body) = get_json(stack.addr, &format!("/holds/{hold_id}?after={after}")).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("active")),
            "round {round}: {body}"
        );
        let (status, availability) = get_json(
            stack.addr,
            &format!("/events/{event}/availability?after={after}"),
        )
        .await;
        assert_eq!(status, 200);
        let floor = section(&availability, "floor");
        assert_eq!(
            floor["held"].as_u64(),
            Some(u64::from(round) + 1),
            "round {round}: {availability}"
        );
        assert!(floor["version"].as_u64().unwrap() >= seq);
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_position_not_reached_in_time_is_not_caught_up() {
    let mut stack = Stack::start(300).await;
    let mut sim = open_event(&stack.env.store, 13).await;
    stack
        .env
        .wait_for_checkpoint("inventory", sim.last_sequence)
        .await;
    // In the stream, never projected.
    stack.stop_projector().await;
    let unprojected = sim.run(&stack.env.store, 1).await;
    let position = stack.inventory_position(unprojected);
    let started = std::time::Instant::now();
    let (status, body) = get_json(
        stack.addr,
        &format!("/events/{}/availability?after={position}", sim.event_id),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("not_caught_up")),
        "{body}"
    );
    assert!(started.elapsed() >= Duration::from_millis(250), "it waited");
    let orders = format!("{}:1", stack.env.stream_name(Stream::Orders));
    let (status, body) = get_json(
        stack.addr,
        &format!("/orders/{}?after={orders}", uuid::Uuid::new_v4()),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("position_ahead")),
        "no order is stored at that position: {body}"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_stops_counting_as_held_at_its_expiry_before_hold_expired_arrives() {
    let stack = Stack::start(2_000).await;
    let mut sim = open_event(&stack.env.store, 14).await;
    let event = sim.event_id.to_string();
    let soon = OffsetDateTime::now_utc() + time::Duration::seconds(4);
    let later = OffsetDateTime::now_utc() + time::Duration::minutes(10);
    let short = sim.hold(0, 2, soon).unwrap();
    let long = sim.hold(0, 1, later).unwrap();
    let ga = sim.hold(1, 3, soon).unwrap();
    let InventoryEvent::SeatsHeld { hold_id, seats, .. } = &short else {
        unreachable!()
    };
    let (short_id, short_seat) = (hold_id.to_string(), seats[0].to_string());
    let seq = sim.append(&stack.env.store, vec![short, long, ga]).await;
    let after = stack.inventory_position(seq);

    let (_, availability) = get_json(
        stack.addr,
        &format!("/events/{event}/availability?after={after}"),
    )
    .await;
    assert_eq!(section(&availability, "stalls")["held"], 3);
    assert_eq!(section(&availability, "floor")["held"], 3);

    let wait = soon - OffsetDateTime::now_utc() + time::Duration::milliseconds(50);
    tokio::time::sleep(Duration::try_from(wait).unwrap_or_default()).await;
    let (_, availability) = get_json(stack.addr, &format!("/events/{event}/availability")).await;
    let stalls = section(&availability, "stalls");
    assert_eq!(
        (stalls["held"].as_i64(), stalls["available"].as_i64()),
        (Some(1), Some(13)),
        "{availability}"
    );
    let floor = section(&availability, "floor");
    assert_eq!(
        (floor["held"].as_i64(), floor["available"].as_i64()),
        (Some(0), Some(40)),
        "{availability}"
    );
    let (_, hold) = get_json(stack.addr, &format!("/holds/{short_id}")).await;
    assert_eq!(hold["status"], "expired");
    let (_, seats) = get_json(
        stack.addr,
        &format!("/events/{event}/sections/stalls/seats"),
    )
    .await;
    let seat = seats
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["seat"] == short_seat.as_str())
        .unwrap();
    assert_eq!(seat["status"], "available");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_never_serves_an_availability_older_than_one_it_served() {
    let stack = Stack::start(2_000).await;
    let mut sim = open_event(&stack.env.store, 15).await;
    let event = sim.event_id;
    let addr = stack.addr;
    let path = format!("/events/{event}/availability");
    stack
        .env
        .wait_for_checkpoint("inventory", sim.last_sequence)
        .await;
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            tokio::spawn(async move {
                let mut seen: BTreeMap<String, u64> = BTreeMap::new();
                let mut answers = 0;
                let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
                while tokio::time::Instant::now() < deadline {
                    let (status, body) = get_json(addr, &path).await;
                    assert_eq!(status, 200, "{body}");
                    for s in body["sections"].as_array().unwrap() {
                        let id = s["section_id"].as_str().unwrap().to_owned();
                        let version = s["version"].as_u64().unwrap();
                        let last = seen.entry(id.clone()).or_default();
                        assert!(
                            version >= *last,
                            "section {id} went back from {last} to {version}"
                        );
                        *last = version;
                    }
                    answers += 1;
                }
                answers
            })
        })
        .collect();
    // Writers meanwhile; and a stale notice, as a slow or re-ordered one would be.
    let store = stack.env.store.clone();
    let mut last = sim.run(&store, 60).await;
    stack.env.wait_for_checkpoint("inventory", last).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stale = serde_json::json!({
        "projection": "inventory", "stream": stack.env.stream_name(Stream::Inventory),
        "from": last, "to": last,
        "availability": [{"event_id": event.to_string(), "section_id": "floor", "ordinal": 1, "seated": false,
                          "capacity": 40, "held": 39, "sold": 0, "next_expiry": null, "version": 2}]
    });
    store
        .client()
        .publish(
            store.naming().notice_subject("inventory"),
            serde_json::to_vec(&stale).unwrap().into(),
        )
        .await
        .unwrap();
    last = sim.run(&store, 60).await;
    for reader in readers {
        assert!(reader.await.unwrap() > 10);
    }
    stack.env.wait_for_checkpoint("inventory", last).await;
    let (_, availability) = get_json(
        addr,
        &format!("{path}?after={}", stack.inventory_position(last)),
    )
    .await;
    let expected = independent_fold(&sim.appended);
    let floor = &expected.availability[&(event.to_string(), "floor".to_owned())];
    assert_eq!(
        section(&availability, "floor")["version"].as_u64(),
        Some(floor.3)
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_during_live_traffic_keeps_answering_and_ends_equal_to_live() {
    let stack = Stack::start(2_000).await;
    let mut sim = open_event(&stack.env.store, 16).await;
    let store = stack.env.store.clone();
    sim.run(&store, 200).await;
    stack
        .env
        .wait_for_checkpoint("inventory", sim.last_sequence)
        .await;
    let event = sim.event_id;
    let addr = stack.addr;

    let config = stack.env.projector_config();
    let rebuild = tokio::spawn(async move {
        projector::rebuild(&config, &[], projector::RebuildOptions::default()).await
    });
    let mut answered = 0;
    while !rebuild.is_finished() {
        sim.run(&store, 2).await;
        for path in [
            format!("/events/{event}/availability"),
            format!("/events/{event}/sections/stalls/seats"),
            format!("/events/{event}"),
        ] {
            let (status, body) = get(addr, &path).await;
            assert_eq!(status, 200, "{path} during the rebuild: {body}");
            answered += 1;
        }
    }
    rebuild.await.unwrap().unwrap();
    assert!(answered > 0);
    let last = sim.run(&store, 10).await;
    let (status, availability) = get_json(
        addr,
        &format!(
            "/events/{event}/availability?after={}",
            stack.inventory_position(last)
        ),
    )
    .await;
    assert_eq!(status, 200);
    let expected = independent_fold(&sim.appended);
    for (key, (capacity, held, sold, version)) in &expected.availability {
        let got = section(&availability, &key.1);
        assert_eq!(
            (
                got["capacity"].as_i64(),
                got["sold"].as_i64(),
                got["version"].as_u64()
            ),
            (Some(*capacity), Some(*sold), Some(*version)),
            "{key:?}"
        );
        // Some simulated holds are past their expiry already: served held never exceeds stored.
        assert!(got["held"].as_i64().unwrap() <= *held);
    }
    assert_eq!(stack.env.dump_inventory().await, expected);
    stack.stop().await;
}

/// Neither a client's method nor its path becomes a metric label: an invented method is `other`,
/// a path no route matches is `other`, a matched one is its route's template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_labels_are_bounded_whatever_the_method_and_path() {
    let stack = Stack::start(2_000).await;
    let event = uuid::Uuid::new_v4();
    let invented = "XYZZYMETHOD4711";
    let (status, _, body) = common::request(stack.addr, invented, "/events", None).await;
    assert!(status >= 400, "{status} {body}");
    let (status, _) = get(stack.addr, "/no-route-zq7wx/at/all").await;
    assert_eq!(status, 404);
    let (status, _) = get(stack.addr, &format!("/events/{event}")).await;
    assert_eq!(status, 404);
    let (_, metrics) = get(stack.addr, "/metrics").await;
    let series: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("tv_http_request_seconds"))
        .collect();
    assert!(!series.is_empty(), "{metrics}");
    for line in &series {
        assert!(!line.contains(invented), "a method became a label: {line}");
        assert!(!line.contains("zq7wx"), "a path became a label: {line}");
        assert!(
            !line.contains(&event.to_string()),
            "an id became a label: {line}"
        );
    }
    assert!(
        series
            .iter()
            .any(|l| l.contains(r#"route="/events/{event_id}""#)),
        "{series:?}"
    );
    assert!(
        series
            .iter()
            .any(|l| l.contains(r#"method="other""#) && l.contains(r#"route="/events""#)),
        "{series:?}"
    );
    stack.stop().await;
}
