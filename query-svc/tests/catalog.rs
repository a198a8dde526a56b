//! `GET /events` is the public catalog: published events only (drafts are an operator's, with
//! `?status=draft`), in pages of `?limit=` (default 100, at most 1000) linked by an opaque cursor
//! in `Link: <…>; rel="next"`.

mod common;

use common::support::*;
use common::{request, Stack};
use domain::catalog::CatalogEvent;
use domain::ids::EventId;
use serde_json::Value;
use tv_nats::{CommitMeta, EventRecord, Stream};

/// Appends a created, never published event; returns its id and the commit's sequence.
async fn draft(stack: &Stack, name: &str) -> (EventId, u64) {
    let event_id = EventId::new_random();
    let records = vec![EventRecord::new(
        1,
        CatalogEvent::EventCreated {
            event_id,
            details: event_details(name),
        },
    )];
    let position = stack
        .env
        .store
        .append(
            Stream::Catalog,
            &event_id.to_string(),
            0,
            &CommitMeta::new("catalog", "test"),
            &records,
        )
        .await
        .expect("appending a draft");
    (event_id, position.sequence)
}

/// GET as this caller: status, the `Link` header's next path (if any), the body.
async fn list(stack: &Stack, path: &str, token: Option<&str>) -> (u16, Option<String>, Value) {
    let authorization = token.map(|t| format!("Bearer {t}"));
    let (status, head, body) = request(stack.addr, "GET", path, authorization.as_deref()).await;
    let next = head.lines().find_map(|line| {
        let value = line.strip_prefix("link: ")?;
        let (target, rel) = value.split_once(';')?;
        (rel.trim() == "rel=\"next\"").then(|| target.trim_matches(['<', '>']).to_owned())
    });
    let body = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, next, body)
}

fn ids(page: &Value) -> Vec<String> {
    page.as_array()
        .unwrap_or_else(|| panic!("an array: {page}"))
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_catalog_lists_published_events_in_pages() {
    let stack = Stack::start(2_000).await;
    let mut published = Vec::new();
    for n in 0..3 {
        let event_id = EventId::new_random();
        create_event(
            &stack.env.store,
            event_id,
            &event_details(&format!("Show {n}")),
        )
        .await;
        published.push(event_id.to_string());
    }
    let (hidden, last) = draft(&stack, "Unannounced").await;
    let hidden = hidden.to_string();
    stack.env.wait_for_checkpoint("catalog", last).await;
    let after = format!("{}:{last}", stack.env.stream_name(Stream::Catalog));

    // The public sees the published events, not the draft, in one page.
    let (status, next, page) = list(&stack, &format!("/events?after={after}"), None).await;
    assert_eq!(status, 200, "{page}");
    let mut listed = ids(&page);
    assert!(!listed.contains(&hidden), "a draft is public: {page}");
    listed.sort();
    let mut expected = published.clone();
    expected.sort();
    assert_eq!(listed, expected, "{page}");
    assert_eq!(next, None);

    // Pages of two, followed by their links, give the same events once each.
    let mut paged = Vec::new();
    let mut path = Some("/events?limit=2".to_owned());
    let mut pages = 0;
    while let Some(current) = path {
        let (status, next, page) = list(&stack, &current, None).await;
        assert_eq!(status, 200, "{current}: {page}");
        assert!(ids(&page).len() <= 2, "{current}: {page}");
        paged.extend(ids(&page));
        pages += 1;
        path = next;
    }
    assert_eq!(pages, 2);
    paged.sort();
    assert_eq!(paged, expected);

    // Drafts are an operator's.
    let operator = auth::testing::operator_token();
    let customer = auth::testing::customer_token("alice");
    let (status, _, body) = list(&stack, "/events?status=draft", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let (status, _, body) = list(&stack, "/events?status=draft", Some(&customer)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, _, body) = list(&stack, "/events?status=draft", Some(&operator)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), vec![hidden.clone()]);
    let (_, _, body) = list(&stack, "/events", Some(&operator)).await;
    assert!(!ids(&body).contains(&hidden), "drafts only when asked for");

    // Malformed paging is the API's JSON error.
    for (path, code) in [
        ("/events?limit=0", "invalid_limit"),
        ("/events?limit=1001", "invalid_limit"),
        ("/events?limit=ten", "invalid_limit"),
        ("/events?cursor=zz", "invalid_cursor"),
        ("/events?status=secret", "invalid_status"),
    ] {
        let (status, _, body) = list(&stack, path, None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some(code)),
            "{path}: {body}"
        );
    }
    stack.stop().await;
}
