//! The server side of the web pages, on the real services: query-svc serves a pages directory
//! under `/app/` (deep links answer the page, hashed files are immutable, a missing asset is
//! `404`), tells the pages where the services are (`/app/config.json`), answers CORS for the
//! configured origins only, as command-svc and the waiting room do, and mints demo customer
//! tokens only when told to, which command-svc takes for a hold and never for an operator's
//! command. A customer reads their holds back from `GET /customers/{id}/holds`.

use e2e::process::ScratchDir;
use e2e::readside::{spawn_projector, spawn_query_with, Database, Running};
use e2e::{error_code, scenario, CommandSvc, EventSpec, HoldBody, WaitingRoomSvc, SEATED_SECTION};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// The page every non-file path answers.
const INDEX: &str =
    "<!doctype html><title>TicketView</title><script type=module src=/app/js/app.js></script>";
/// The pages' origin allowed by the services in these tests.
const PAGES: &str = "http://pages.test:8081";
/// An origin nobody allowed.
const ELSEWHERE: &str = "http://elsewhere.test";

/// A pages directory of the test's own: an index, a script, a hashed script large enough to
/// be compressed, and an empty directory.
fn pages_dir() -> ScratchDir {
    let dir = ScratchDir::new("web-serving");
    let root = dir.path();
    std::fs::create_dir_all(root.join("js")).unwrap();
    std::fs::create_dir_all(root.join("img")).unwrap();
    std::fs::write(root.join("index.html"), INDEX).unwrap();
    std::fs::write(root.join("js/app.js"), "export const page = 'catalog';\n").unwrap();
    let hashed = "export const seats = [];\n".repeat(200);
    std::fs::write(root.join("js/seatmap.3f2a9c1b.js"), hashed).unwrap();
    std::fs::create_dir_all(root.join("node_modules/axe-core")).unwrap();
    std::fs::write(root.join("node_modules/axe-core/axe.js"), "// tooling\n").unwrap();
    std::fs::write(root.join("package.json"), "{}\n").unwrap();
    dir
}

/// query-svc serving `pages` with the demo sign-in `demo` on or off, the pages' origin
/// allowed.
async fn query_svc(
    prefix: &str,
    database: &Database,
    pages: &Path,
    demo: bool,
) -> (Running, SocketAddr) {
    let pages = pages.to_owned();
    spawn_query_with(prefix, database, move |config| {
        config.web.web_dir = Some(pages);
        config.web.demo_signin = demo;
        config.web.origins.web_origins = vec![PAGES.to_owned()];
    })
    .await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .unwrap()
}

async fn get(url: &str) -> (StatusCode, HeaderMap, String) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map_or("", |v| v.to_str().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_served_with_deep_links_and_their_caching_rules() {
    scenario(|env| async move {
        let pages = pages_dir();
        let database = Database::create().await;
        let (_query, addr) = query_svc(&env.prefix, &database, pages.path(), false).await;
        let base = format!("http://{addr}");

        for path in [
            "/app/",
            "/app/events/9f1c2d3e-0000-4000-8000-000000000001",
            "/app/operator/events/9f1c2d3e-0000-4000-8000-000000000001",
            "/app/me",
            "/app/img/",
        ] {
            let (status, headers, body) = get(&format!("{base}{path}")).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(
                header(&headers, "content-type").starts_with("text/html"),
                "{path}"
            );
            assert_eq!(header(&headers, "cache-control"), "no-cache", "{path}");
            assert_eq!(body, INDEX, "{path} answers the page");
        }

        let (status, headers, _) = get(&format!("{base}/app")).await;
        assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
        assert_eq!(header(&headers, "location"), "/app/");

        let (status, headers, body) = get(&format!("{base}/app/js/app.js")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(header(&headers, "content-type").contains("javascript"));
        assert_eq!(header(&headers, "cache-control"), "public, max-age=60");
        assert!(body.contains("catalog"));

        let (status, headers, _) = get(&format!("{base}/app/js/seatmap.3f2a9c1b.js")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            header(&headers, "cache-control"),
            "public, max-age=31536000, immutable"
        );

        // A missing asset under an existing directory is missing, not the page.
        let (status, headers, body) = get(&format!("{base}/app/js/missing.js")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!header(&headers, "content-type").starts_with("text/html"));
        assert_eq!(
            error_code(&serde_json::from_str(&body).unwrap()),
            Some("not_found")
        );
        let (status, _, _) = get(&format!("{base}/app/.env")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "no dotfile is served");
        for tooling in ["package.json", "node_modules/axe-core/axe.js"] {
            let (status, _, _) = get(&format!("{base}/app/{tooling}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{tooling} is not served");
        }

        // Text is compressed for a client that takes gzip.
        let response = client()
            .get(format!("{base}/app/js/seatmap.3f2a9c1b.js"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(header(response.headers(), "content-encoding"), "gzip");
        let compressed = response.bytes().await.unwrap();
        assert_eq!(&compressed[..2], &[0x1f, 0x8b], "a gzip stream");
        assert!(compressed.len() < 5_000 / 4, "{} bytes", compressed.len());

        // The other routes pass none of the pages' layers: not compressed, however large.
        let response = client()
            .get(format!("{base}/openapi.json"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get("content-encoding").is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_json_tells_the_pages_where_the_services_are() {
    scenario(|env| async move {
        let pages = pages_dir();
        let database = Database::create().await;
        let (_query, addr) = query_svc(&env.prefix, &database, pages.path(), false).await;
        let (status, headers, body) = get(&format!("http://{addr}/app/config.json")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "cache-control"), "no-cache");
        let config: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            config,
            json!({
                "command_url": "http://127.0.0.1:8080",
                "query_url": format!("http://{addr}"),
                "waiting_room_url": "http://127.0.0.1:8084",
                "demo_signin": false,
            })
        );

        let pages_dir = pages.path().to_owned();
        let (_configured, addr) = spawn_query_with(&env.prefix, &database, move |config| {
            config.web.web_dir = Some(pages_dir);
            config.web.web_command_url = Some("https://commands.example.com".into());
            config.web.web_waiting_room_url = Some("https://queue.example.com".into());
            config.web.web_query_url = Some("https://tickets.example.com".into());
        })
        .await;
        let (_, _, body) = get(&format!("http://{addr}/app/config.json")).await;
        let config: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(config["command_url"], "https://commands.example.com");
        assert_eq!(config["waiting_room_url"], "https://queue.example.com");
        assert_eq!(config["query_url"], "https://tickets.example.com");
    })
    .await;
}

/// A preflight of `method path` from `origin`, as a browser sends it before a page's call.
async fn preflight(base: &str, path: &str, origin: &str, method: &str) -> HeaderMap {
    let response = client()
        .request(Method::OPTIONS, format!("{base}{path}"))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header(
            "access-control-request-headers",
            "authorization,content-type,idempotency-key,admission",
        )
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{base}{path}: {}",
        response.status()
    );
    response.headers().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_services_answer_cors_for_the_pages_origin_only() {
    scenario(|env| async move {
        let pages = pages_dir();
        let database = Database::create().await;
        let (_query, query_addr) = query_svc(&env.prefix, &database, pages.path(), false).await;
        let mut command_config = command_svc::Config::for_test(&e2e::nats_url(), &env.prefix);
        command_config.web.web_origins = vec![PAGES.to_owned()];
        let command = CommandSvc::spawn_with(command_config, e2e::client::http_client()).await;
        let mut room_config = waiting_room::Config::for_test(&e2e::nats_url(), &env.prefix);
        room_config.web.web_origins = vec![PAGES.to_owned()];
        let room = WaitingRoomSvc::spawn_with(room_config).await;

        let query = format!("http://{query_addr}");
        let event = "9f1c2d3e-0000-4000-8000-000000000001";
        let calls = [
            (command.base_url.as_str(), "/orders".to_owned(), "POST"),
            (
                command.base_url.as_str(),
                format!("/events/{event}/holds"),
                "POST",
            ),
            (
                query.as_str(),
                "/customers/demo-ann/orders".to_owned(),
                "GET",
            ),
            (
                room.base_url.as_str(),
                format!("/events/{event}/queue"),
                "POST",
            ),
        ];
        for (base, path, method) in &calls {
            let allowed = preflight(base, path, PAGES, method).await;
            assert_eq!(
                header(&allowed, "access-control-allow-origin"),
                PAGES,
                "{base}{path}"
            );
            let headers = header(&allowed, "access-control-allow-headers").to_ascii_lowercase();
            for name in [
                "authorization",
                "content-type",
                "idempotency-key",
                "admission",
                "last-event-id",
            ] {
                assert!(headers.contains(name), "{base}{path}: {headers}");
            }
            assert!(header(&allowed, "access-control-allow-methods").contains(method));

            let refused = preflight(base, path, ELSEWHERE, method).await;
            assert!(
                refused.get("access-control-allow-origin").is_none(),
                "{base}{path} answered {ELSEWHERE}"
            );
        }

        // An actual call from the page's origin may read the answer and its Retry-After.
        for base in [
            query.as_str(),
            command.base_url.as_str(),
            room.base_url.as_str(),
        ] {
            let response = client()
                .get(format!("{base}/healthz"))
                .header("origin", PAGES)
                .send()
                .await
                .unwrap();
            assert_eq!(
                header(response.headers(), "access-control-allow-origin"),
                PAGES
            );
            assert!(header(response.headers(), "access-control-expose-headers")
                .to_ascii_lowercase()
                .contains("retry-after"));
            let response = client()
                .get(format!("{base}/healthz"))
                .header("origin", ELSEWHERE)
                .send()
                .await
                .unwrap();
            assert!(response
                .headers()
                .get("access-control-allow-origin")
                .is_none());
        }
        command.shutdown().await;
        room.shutdown().await;
    })
    .await;
}

async fn sign_in(query: &str, body: &Value) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{query}/signin/demo"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_sign_in_is_refused_unless_it_is_turned_on() {
    scenario(|env| async move {
        let pages = pages_dir();
        let database = Database::create().await;
        let (_query, addr) = query_svc(&env.prefix, &database, pages.path(), false).await;
        let (status, body) = sign_in(&format!("http://{addr}"), &json!({"name": "Ann"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(error_code(&body), Some("demo_signin_disabled"), "{body}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_customer_holds_seats_and_reads_them_back_but_is_never_an_operator() {
    scenario(|env| async move {
        let pages = pages_dir();
        let database = Database::create().await;
        let _projector = spawn_projector(&env.prefix, &database).await;
        let (_query, addr) = query_svc(&env.prefix, &database, pages.path(), true).await;
        let query = format!("http://{addr}");
        let command = CommandSvc::spawn(&env.prefix).await;

        let (_, _, config) = get(&format!("{query}/app/config.json")).await;
        assert_eq!(
            serde_json::from_str::<Value>(&config).unwrap()["demo_signin"],
            true
        );

        // The body asks for an operator: it gets a customer.
        let (status, signed_in) = sign_in(
            &query,
            &json!({"name": " Ann Lee ", "roles": ["operator"], "role": "operator"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{signed_in}");
        assert_eq!(signed_in["subject"], "demo-ann-lee");
        let expires_at = time::OffsetDateTime::parse(
            signed_in["expires_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let lifetime = expires_at - time::OffsetDateTime::now_utc();
        assert!(
            lifetime > time::Duration::minutes(14) && lifetime <= time::Duration::minutes(15),
            "{lifetime}"
        );
        let bearer = format!("Bearer {}", signed_in["token"].as_str().unwrap());
        let as_ann = command.api().with_authorization(&bearer);

        let event_id = command
            .api()
            .create_on_sale("web-demo-event", &EventSpec::seated().to_json())
            .await;
        let (status, hold) = as_ann
            .hold(
                &event_id,
                "web-demo-hold",
                &HoldBody::seats("demo-ann-lee", SEATED_SECTION, &["A-1", "A-2"]),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");
        let (status, refused) = as_ann
            .try_create_event(Some("web-demo-operator"), &EventSpec::seated().to_json())
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");

        // Ann reads her hold back; nobody else may list them.
        let position = hold["position"].as_str().unwrap();
        let holds = client()
            .get(format!(
                "{query}/customers/demo-ann-lee/holds?after={position}"
            ))
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(holds.status(), StatusCode::OK);
        let holds: Value = holds.json().await.unwrap();
        assert_eq!(holds.as_array().map(Vec::len), Some(1), "{holds}");
        assert_eq!(holds[0]["hold_id"], hold["hold_id"]);
        assert_eq!(holds[0]["status"], "active");
        assert_eq!(holds[0]["seats"], json!(["A-1", "A-2"]));
        let (status, other) = sign_in(&query, &json!({"name": "Bob"})).await;
        assert_eq!(status, StatusCode::OK);
        let as_bob = client()
            .get(format!("{query}/customers/demo-ann-lee/holds"))
            .header(
                "authorization",
                format!("Bearer {}", other["token"].as_str().unwrap()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(as_bob.status(), StatusCode::FORBIDDEN);

        for bad in [
            json!({"name": ""}),
            json!({"name": "x".repeat(41)}),
            json!({"nom": "Ann"}),
        ] {
            let (status, body) = sign_in(&query, &bad).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(error_code(&body), Some("invalid_name"), "{body}");
        }
        command.shutdown().await;
    })
    .await;
}
