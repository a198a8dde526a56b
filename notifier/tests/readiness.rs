//! `/readyz` of a notifier whose PostgreSQL is out of reach: 503, naming what is down, while
//! `/healthz` still answers (the process is alive; it is not ready).

mod support;

use std::sync::Arc;
use support::{Running, TestEnv};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_postgres_is_unreachable() {
    let env = TestEnv::new().await;
    // A port nobody listens on: taken, then given back.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut config = env.config();
    config.database_url = format!("postgres://postgres@127.0.0.1:{closed}/postgres");
    let notifier = notifier::Notifier::build_with_sinks(config, vec![Arc::new(notifier::LogSink)])
        .await
        .expect("the notifier starts without touching PostgreSQL");
    let running = Running::start(notifier).await;
    let http = reqwest::Client::new();

    let health = http.get(running.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let ready = http.get(running.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    let body: serde_json::Value = ready.json().await.expect("JSON");
    assert_eq!(
        (&body["status"], &body["nats"], &body["postgres"]),
        (
            &"not_ready".into(),
            &"connected".into(),
            &"unreachable".into()
        ),
        "{body}"
    );
    running.stop().await;
}
