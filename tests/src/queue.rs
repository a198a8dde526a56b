//! The waiting room in a test: spawned in-process on port 0 under the test's prefix, a client for
//! its endpoints as a given customer, and its facts read back from the queue stream.

use crate::client::{customer_authorization, http_client};
use domain::waiting_room::WaitingRoomEvent;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tv_nats::{EventStore, Stream};
use waiting_room::Config;

/// A waiting-room instance serving on a free port.
pub struct WaitingRoomSvc {
    pub base_url: String,
    http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), String>>>,
}

impl WaitingRoomSvc {
    /// An instance with the test defaults under `prefix`.
    pub async fn spawn(prefix: &str) -> Self {
        Self::spawn_with(Config::for_test(&crate::nats_url(), prefix)).await
    }

    pub async fn spawn_with(config: Config) -> Self {
        let app = waiting_room::build(config)
            .await
            .expect("the waiting room starts (is NATS_URL a nats-server 2.12+?)");
        let base_url = format!("http://{}", app.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run_until(async {
                let _ = stopped.await;
            })
            .await
            .map_err(|e| format!("{e:#}"))
        });
        let svc = Self {
            base_url,
            http: http_client(),
            stop: Some(stop),
            task: Some(task),
        };
        svc.wait_ready().await;
        svc
    }

    async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(response) = self
                .http
                .get(format!("{}/readyz", self.base_url))
                .send()
                .await
            {
                if response.status() == StatusCode::OK {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the waiting room at {} was not ready in 10 s",
            self.base_url
        );
    }

    /// `POST /events/{event}/queue` as `customer`.
    pub async fn join(&self, event: &str, customer: &str) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            &format!("/events/{event}/queue"),
            Some(customer),
        )
        .await
    }

    /// `GET /events/{event}/queue/me` as `customer`.
    pub async fn me(&self, event: &str, customer: &str) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::GET,
            &format!("/events/{event}/queue/me"),
            Some(customer),
        )
        .await
    }

    /// `POST /events/{event}/queue/leave` as `customer`.
    pub async fn leave(&self, event: &str, customer: &str) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            &format!("/events/{event}/queue/leave"),
            Some(customer),
        )
        .await
    }

    /// The public `GET /events/{event}/queue`.
    pub async fn counters(&self, event: &str) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::GET,
            &format!("/events/{event}/queue"),
            None,
        )
        .await
    }

    /// A request builder with this `Authorization` header.
    pub fn http_as(&self, authorization: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            authorization.parse().expect("a header value"),
        );
        reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("an HTTP client")
    }

    /// Any request, as `customer` when given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        customer: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        if let Some(customer) = customer {
            request = request.header("Authorization", customer_authorization(customer));
        }
        let response = request.send().await.expect("the waiting room answers");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Waits until `customer` is admitted to `event`; their view then, with the token.
    pub async fn admitted(&self, event: &str, customer: &str, limit: Duration) -> Value {
        let found = crate::eventually(limit, || async {
            let (status, view) = self.me(event, customer).await;
            (status == StatusCode::OK && view["state"] == "admitted").then_some(view)
        })
        .await;
        found.unwrap_or_else(|| panic!("{customer} was not admitted within {limit:?}"))
    }

    /// Stops serving and reports a serving error.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(Duration::from_secs(10), task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => panic!("the waiting room stopped with an error: {e}"),
                Ok(Err(e)) => panic!("the waiting room's task failed: {e}"),
                Err(_) => panic!("the waiting room did not stop within 10 s of its shutdown"),
            }
        }
    }

    /// Stops at once, as a crash would (no draining; the stream keeps what was stored).
    pub fn kill(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for WaitingRoomSvc {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// One stored fact of the queue stream.
#[derive(Debug, Clone)]
pub struct QueueFact {
    pub subject: String,
    pub sequence: u64,
    pub event: WaitingRoomEvent,
}

/// Every fact of `event`'s waiting room, in stream order.
pub async fn queue_facts(store: &EventStore, event: &str) -> Vec<QueueFact> {
    let marker = format!(".queue.{event}.");
    let mut replay = store
        .replay(Stream::Queue, 0)
        .await
        .expect("replaying the queue stream");
    let mut facts = Vec::new();
    while let Some(raw) = replay.next().await {
        let raw = raw.expect("a queue commit");
        if !raw.subject.contains(&marker) {
            continue;
        }
        let commit = raw
            .decode::<WaitingRoomEvent>()
            .expect("a decodable queue commit");
        for event in commit.events {
            facts.push(QueueFact {
                subject: commit.subject.clone(),
                sequence: commit.sequence,
                event,
            });
        }
    }
    facts
}
