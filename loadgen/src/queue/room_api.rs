//! Requests to the waiting room: joining, a customer's place (one poll, or the SSE stream), the
//! public counters and `/healthz`. Each buyer signs its bearer token once and sends it with every
//! request; answers are status and JSON, as [`crate::api::Answer`].

use crate::api::Answer;
use serde_json::Value;
use std::time::Duration;

#[derive(Clone)]
pub struct RoomApi {
    http: reqwest::Client,
    base_url: String,
}

/// A customer's place in the queue as the waiting room shows it.
#[derive(Debug, Clone)]
pub struct Place {
    pub state: String,
    pub poll_after: Duration,
    pub admission_token: Option<String>,
}

impl Place {
    pub fn of(view: &Value) -> Self {
        Self {
            state: view["state"].as_str().unwrap_or_default().to_owned(),
            poll_after: Duration::from_millis(view["poll_after_ms"].as_u64().unwrap_or(1_000)),
            admission_token: view["admission_token"].as_str().map(str::to_owned),
        }
    }
}

impl RoomApi {
    pub fn new(base_url: &str, connections: usize) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /events/{event}/queue` with the customer's bearer token.
    pub async fn join(&self, event: &str, token: &str) -> reqwest::Result<Answer> {
        let request = self
            .http
            .post(format!("{}/events/{event}/queue", self.base_url))
            .bearer_auth(token);
        answer(request).await
    }

    /// `GET /events/{event}/queue/me`.
    pub async fn me(&self, event: &str, token: &str) -> reqwest::Result<Answer> {
        let request = self
            .http
            .get(format!("{}/events/{event}/queue/me", self.base_url))
            .bearer_auth(token);
        answer(request).await
    }

    /// `GET /events/{event}/queue/me/stream`: the open response, read with [`next_message`].
    pub async fn stream(&self, event: &str, token: &str) -> reqwest::Result<reqwest::Response> {
        self.http
            .get(format!("{}/events/{event}/queue/me/stream", self.base_url))
            .bearer_auth(token)
            .timeout(Duration::from_secs(3_600))
            .send()
            .await?
            .error_for_status()
    }

    /// The public `GET /events/{event}/queue`.
    pub async fn counters(&self, event: &str) -> reqwest::Result<Answer> {
        answer(
            self.http
                .get(format!("{}/events/{event}/queue", self.base_url)),
        )
        .await
    }

    /// `GET /healthz`: the service's cheapest answer, a baseline for the poll flood.
    pub async fn healthz(&self) -> reqwest::Result<u16> {
        let response = self
            .http
            .get(format!("{}/healthz", self.base_url))
            .send()
            .await?;
        let status = response.status().as_u16();
        response.bytes().await?;
        Ok(status)
    }
}

async fn answer(request: reqwest::RequestBuilder) -> reqwest::Result<Answer> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok(Answer { status, body })
}

/// The next `event: queue` message of an SSE response (its `data` as JSON), reading more chunks
/// into `buffer` as needed; `None` when the stream ended.
pub async fn next_message(response: &mut reqwest::Response, buffer: &mut String) -> Option<Value> {
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let message: String = buffer.drain(..end + 2).collect();
            let mut is_queue = false;
            let mut data = String::new();
            for line in message.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    is_queue = name.trim() == "queue";
                } else if let Some(part) = line.strip_prefix("data:") {
                    data.push_str(part.trim_start());
                }
            }
            if is_queue {
                if let Ok(view) = serde_json::from_str(&data) {
                    return Some(view);
                }
            }
        }
        let chunk = response.chunk().await.ok()??;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}
