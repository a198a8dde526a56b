//! `tv_kit::serve` and `Deadlines` against real clients on a loopback port, with a tiny router and
//! short timeouts: slow heads and bodies are cut off, connections beyond the limit wait, a slow
//! handler is answered, a stream route outlives every deadline, shutdown lets requests finish.

use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tv_kit::{Deadlines, ServeSettings};

const SHORT: Duration = Duration::from_millis(400);

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(settings: ServeSettings, deadlines: Deadlines) -> Self {
        let bounded = deadlines.bound(
            Router::new()
                .route("/", get(|| async { "hello" }))
                .route("/echo", post(|body: String| async move { body }))
                .route(
                    "/slow",
                    get(|| async {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        "late"
                    }),
                )
                .route(
                    "/peer",
                    get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                        peer.ip().to_string()
                    }),
                ),
        );
        // A stream: open as long as the client listens, so no deadline.
        let streams = Router::new().route("/stream", get(ticking_stream));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(tv_kit::serve(
            listener,
            bounded.merge(streams),
            settings,
            async move {
                let _ = stopped.await;
            },
        ));
        Self {
            addr,
            stop: Some(stop),
            served,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Twelve chunks, one every 100 ms: 1.2 s in all.
async fn ticking_stream() -> axum::body::Body {
    let ticks = futures::stream::unfold(0u32, |n| async move {
        if n == 12 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((Ok::<_, std::io::Error>(format!("tick {n}\n")), n + 1))
    });
    axum::body::Body::from_stream(ticks)
}

fn short_settings() -> ServeSettings {
    ServeSettings {
        header_timeout: SHORT,
        max_connections: 64,
    }
}

fn short_deadlines() -> Deadlines {
    Deadlines {
        body: SHORT,
        request: SHORT,
    }
}

/// Reads until the peer closes or `limit` passes: what was read, and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut read = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&read).into_owned(), false),
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&read).into_owned(), true),
            Ok(Ok(n)) => read.extend_from_slice(&buf[..n]),
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn a_client_that_sends_half_a_request_head_is_cut_off_after_the_header_timeout() {
    let server = Server::start(short_settings(), Deadlines::default()).await;
    let mut slowloris = TcpStream::connect(server.addr).await.unwrap();
    slowloris
        .write_all(b"GET / HTTP/1.1\r\nHost: example\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut slowloris, Duration::from_secs(5)).await;
    let took = started.elapsed();
    assert!(closed, "the connection is still open after 5 s");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "closed, or answered 408: {answer:?}"
    );
    assert!(
        took >= SHORT - Duration::from_millis(50) && took < Duration::from_secs(3),
        "closed after {took:?}, the timeout is {SHORT:?}"
    );
    // The server still serves everyone else.
    let answer = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(answer.text().await.unwrap(), "hello");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let server = Server::start(short_settings(), Deadlines::default()).await;
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(closed, "an idle connection is still open after 5 s");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with("hello"),
        "answered before it closed: {answer}"
    );
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let settings = ServeSettings {
        header_timeout: Duration::from_secs(20),
        max_connections: 2,
    };
    let server = Server::start(settings, Deadlines::default()).await;
    let request = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut connection = TcpStream::connect(server.addr).await.unwrap();
        connection.write_all(request).await.unwrap();
        let mut buf = [0u8; 1024];
        let n = connection.read(&mut buf).await.unwrap();
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "a held connection is served"
        );
        held.push(connection); // kept alive: it holds its slot
    }
    // The kernel completes the handshake (backlog), but nobody accepts and answers it.
    let mut waiting = TcpStream::connect(server.addr).await.unwrap();
    waiting.write_all(request).await.unwrap();
    let mut buf = [0u8; 1024];
    let early = tokio::time::timeout(Duration::from_millis(700), waiting.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a third connection was served while two held the limit"
    );
    drop(held.pop());
    let n = tokio::time::timeout(Duration::from_secs(3), waiting.read(&mut buf))
        .await
        .expect("served once a slot freed")
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_answered_408_and_the_connection_closes() {
    let server = Server::start(
        ServeSettings {
            header_timeout: Duration::from_secs(20),
            max_connections: 64,
        },
        short_deadlines(),
    )
    .await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(
        b"POST /echo HTTP/1.1\r\nHost: example\r\nContent-Type: text/plain\r\n\
          Content-Length: 100\r\n\r\nten bytes.",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    let took = started.elapsed();
    assert!(
        closed,
        "the connection stays open after a late body: {answer}"
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/json"), "{answer}");
    let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["error"]["code"], "request_timeout", "{json}");
    assert!(json["error"]["message"].is_string(), "{json}");
    assert!(took < Duration::from_secs(3), "answered after {took:?}");

    // A body sent at once is not held to anything.
    let answer = client()
        .post(server.url("/echo"))
        .body("at once")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.text().await.unwrap(), "at once");
}

#[tokio::test]
async fn a_handler_too_slow_is_answered_503_timeout_with_retry_after() {
    let server = Server::start(short_settings(), short_deadlines()).await;
    let started = Instant::now();
    let answer = client().get(server.url("/slow")).send().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.headers()["retry-after"], "1");
    let json: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(json["error"]["code"], "timeout", "{json}");
}

#[tokio::test]
async fn a_stream_route_outlives_every_timeout() {
    let server = Server::start(short_settings(), short_deadlines()).await;
    let started = Instant::now();
    let answer = client().get(server.url("/stream")).send().await.unwrap();
    let text = answer.text().await.unwrap();
    assert_eq!(text.lines().count(), 12, "{text}");
    assert!(
        started.elapsed() > SHORT * 2,
        "the stream ran {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn every_request_knows_its_peer_address() {
    let server = Server::start(short_settings(), short_deadlines()).await;
    let answer = client().get(server.url("/peer")).send().await.unwrap();
    assert_eq!(answer.text().await.unwrap(), "127.0.0.1");
}

#[tokio::test]
async fn a_request_in_flight_finishes_when_the_server_stops() {
    let mut server = Server::start(
        short_settings(),
        Deadlines {
            body: SHORT,
            request: Duration::from_secs(10),
        },
    )
    .await;
    let pending = tokio::spawn(client().get(server.url("/slow")).send());
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.stop.take().unwrap().send(()).unwrap();
    let answer = pending.await.unwrap().expect("answered, not cut");
    assert_eq!(answer.text().await.unwrap(), "late");
    tokio::time::timeout(Duration::from_secs(5), server.served)
        .await
        .expect("serve returns once its connections are done")
        .unwrap()
        .unwrap();
}
