//! Serving an axum router over HTTP/1.1 with the defences `axum::serve` leaves out: a request
//! head (request line and headers) must arrive within [`ServeSettings::header_timeout`], else the
//! connection is closed (a slowloris client holds nothing for long); an idle keep-alive
//! connection is closed after the same time (hyper starts that clock whenever it waits for the
//! next request); and at most [`ServeSettings::max_connections`] connections are open at once.
//!
//! Beyond the limit, new connections **wait**: nothing is accepted until a connection closes, so
//! they queue in the kernel's listen backlog (and the kernel refuses them once that is full). A
//! waiting client is never answered an error by this process; it is served as soon as a slot
//! frees, or gives up on its own connect or request timeout.
//!
//! Every request carries the peer's address as axum's `ConnectInfo<SocketAddr>` (per-address
//! rate limits read it). HTTP/2 is not spoken: clients talk HTTP/1.1, a proxy in front may speak
//! HTTP/2 to browsers. On `stop`, accepting ends and every open connection finishes its request
//! in flight and closes (a stream route ends its stream on its service's own stop signal).

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How the connections of one listener are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeSettings {
    /// A request head must be complete within this, counted from when the connection starts
    /// waiting for it (a new connection, or the end of the previous answer on a kept-alive one);
    /// else the connection is closed. Guards against slowloris clients and bounds idle
    /// keep-alive connections.
    pub header_timeout: Duration,
    /// The most connections open at once (streams included); more wait unaccepted in the listen
    /// backlog until one closes. Guards file descriptors and memory.
    pub max_connections: usize,
}

impl Default for ServeSettings {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(30),
            max_connections: 16_384,
        }
    }
}

/// How often a full connection limit is logged while it stays full.
const LIMIT_LOG_EVERY: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `stop` completes, then lets the open connections finish
/// their requests in flight. Errors of one connection end that connection only; accept errors
/// (too many open files, say) are logged and accepting goes on after a pause.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    settings: ServeSettings,
    stop: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .keep_alive(true);
    let slots = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut limit_logged: Option<Instant> = None;
    tokio::pin!(stop);
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if limit_logged.is_none_or(|at| at.elapsed() >= LIMIT_LOG_EVERY) {
                    tracing::warn!(
                        max_connections = settings.max_connections,
                        "connection limit reached: new connections wait until one closes \
                         (raise TV_HTTP_MAX_CONNECTIONS if this is normal load)"
                    );
                    limit_logged = Some(Instant::now());
                }
                tokio::select! {
                    biased;
                    () = &mut stop => break,
                    slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                }
            }
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    on_accept_error(e).await;
                    continue;
                }
            },
        };
        // Answers are written whole; waiting for more to send would only add latency.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(Body::new))
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                if e.is_timeout() {
                    metrics::counter!("tv_http_header_timeouts_total").increment(1);
                    tracing::debug!(%peer, "closed a connection whose request head came too slowly");
                } else {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A connection that failed between the kernel and `accept` concerns that client only; anything
/// else (out of file descriptors) would fail again at once, so accepting pauses a moment.
async fn on_accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
