//! Helpers of query-svc's integration tests: a projector and a query-svc on port 0 over a test's
//! own prefix and database, and a minimal HTTP client.
#![allow(dead_code)]

#[path = "../../../projector/tests/support/mod.rs"]
pub mod support;

use serde_json::Value;
use std::net::SocketAddr;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tv_nats::Stream;

/// A minimal HTTP/1.1 GET (the workspace has no HTTP client crate; this is all the tests need),
/// as an operator, who may read every hold and order.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let operator = format!("Bearer {}", auth::testing::operator_token());
    get_as(addr, path, Some(&operator)).await
}

/// A GET with this `Authorization` header, or none.
pub async fn get_as(addr: SocketAddr, path: &str, authorization: Option<&str>) -> (u16, String) {
    let (status, _, body) = request(addr, "GET", path, authorization).await;
    (status, body)
}

/// A request with this method (any token, even one no server knows): status, header block
/// (lower-cased) and body.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    authorization: Option<&str>,
) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let authorization = authorization
        .map(|value| format!("Authorization: {value}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{authorization}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

pub async fn get_json(addr: SocketAddr, path: &str) -> (u16, Value) {
    let (status, body) = get(addr, path).await;
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")),
    )
}

pub struct Stack {
    pub env: TestEnv,
    pub addr: SocketAddr,
    stop_projector: Option<oneshot::Sender<()>>,
    projector: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    stop_query: Option<oneshot::Sender<()>>,
}

impl Stack {
    pub async fn start(after_wait_ms: u64) -> Stack {
        Self::start_with(|config| config.after_wait_ms = after_wait_ms).await
    }

    /// A stack whose query-svc configuration `configure` changes first.
    pub async fn start_with(configure: impl FnOnce(&mut query_svc::Config)) -> Stack {
        let env = TestEnv::new().await;
        let projector = projector::Projector::build(env.projector_config())
            .await
            .unwrap();
        let (stop_projector, stopped) = oneshot::channel::<()>();
        let projector = tokio::spawn(projector.run_until(async {
            let _ = stopped.await;
        }));
        let mut config = query_svc::Config::for_test(&nats_url(), &env.database_url, &env.prefix);
        config.bind = "127.0.0.1:0".parse().unwrap();
        configure(&mut config);
        let app = query_svc::build(config).await.unwrap();
        let addr = app.local_addr();
        let (stop_query, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Stack {
            env,
            addr,
            stop_projector: Some(stop_projector),
            projector: Some(projector),
            stop_query: Some(stop_query),
        }
    }

    pub fn inventory_position(&self, sequence: u64) -> String {
        format!("{}:{}", self.env.stream_name(Stream::Inventory), sequence)
    }

    /// Stops the projector: from now on the read models stand still while the streams move.
    pub async fn stop_projector(&mut self) {
        if let Some(stop) = self.stop_projector.take() {
            let _ = stop.send(());
        }
        if let Some(projector) = self.projector.take() {
            projector.await.unwrap().unwrap();
        }
    }

    pub async fn stop(mut self) {
        let _ = self.stop_query.take().unwrap().send(());
        self.stop_projector().await;
    }
}

pub fn section<'a>(availability: &'a Value, id: &str) -> &'a Value {
    availability["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["section_id"] == id)
        .unwrap_or_else(|| panic!("no section {id} in {availability}"))
}
