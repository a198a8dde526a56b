//! Deadlines of a request on a bounded route: its body must have arrived within
//! [`Deadlines::body`] of its head, and the handler must have answered within
//! [`Deadlines::request`]; a late body is `408 request_timeout` (and the connection closes), a
//! late answer `503 timeout` with `Retry-After`, both the API's JSON error.
//!
//! Whether a route is bounded is a choice made per route, where the router is built: the bounded
//! routes go through [`Deadlines::bound`], and the stream routes (server-sent events, which stay
//! open as long as the client listens) are merged in after it and get no deadline:
//!
//! ```ignore
//! let bounded = deadlines.bound(Router::new().route("/things", post(create)));
//! // A stream: open as long as the client listens, so no total deadline.
//! let streams = Router::new().route("/things/stream", get(stream));
//! bounded.merge(streams)
//! ```
//!
//! The handler's future is dropped at the deadline: a command may still have been decided, and
//! its retry with the same `Idempotency-Key` gets its answer.

use crate::error::{json_error, json_error_retry_after};
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The deadlines of the bounded routes of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// The whole request body must have arrived within this, counted from its head. Guards
    /// against clients that send a body a byte at a time to hold a request open.
    pub body: Duration,
    /// The answer (its status and headers) must be ready within this, counted from the head.
    /// Bounds how long any one request holds the service's resources.
    pub request: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            body: Duration::from_secs(10),
            request: Duration::from_secs(30),
        }
    }
}

impl Deadlines {
    /// `routes` with these deadlines on every route and fallback they hold. Merge stream routes
    /// in after this call, never before.
    pub fn bound<S: Clone + Send + Sync + 'static>(
        self,
        routes: axum::Router<S>,
    ) -> axum::Router<S> {
        routes.layer(axum::middleware::from_fn(
            move |request: Request, next: Next| enforce(self, request, next),
        ))
    }
}

async fn enforce(deadlines: Deadlines, request: Request, next: Next) -> Response {
    let late = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        // A request without a body has nothing to wait for.
        match http_body::Body::is_end_stream(&body) {
            true => body,
            false => Body::new(DeadlineBody {
                inner: body,
                deadline: tokio::time::sleep(deadlines.body),
                late: late.clone(),
            }),
        }
    });
    let answered = tokio::time::timeout(deadlines.request, next.run(request)).await;
    if late.load(Ordering::Acquire) {
        return body_too_slow(deadlines.body);
    }
    match answered {
        Ok(response) => response,
        Err(_) => {
            metrics::counter!("tv_http_request_timeouts_total").increment(1);
            tracing::warn!(
                timeout_ms = deadlines.request.as_millis() as u64,
                "a request was not answered in time"
            );
            json_error_retry_after(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                &format!(
                    "the service did not answer within {} ms; retry shortly (a command with the \
                     same Idempotency-Key)",
                    deadlines.request.as_millis()
                ),
                Duration::from_secs(1),
            )
        }
    }
}

fn body_too_slow(limit: Duration) -> Response {
    metrics::counter!("tv_http_body_timeouts_total").increment(1);
    let mut response = json_error(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        &format!(
            "the request body did not arrive within {} ms; send the request again, body at once",
            limit.as_millis()
        ),
    );
    // The rest of the body may still be on its way: this connection reads no further request.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

pin_project_lite::pin_project! {
    /// A request body that fails once its deadline has passed with frames still missing, and
    /// marks the request late.
    struct DeadlineBody {
        #[pin]
        inner: Body,
        #[pin]
        deadline: tokio::time::Sleep,
        late: Arc<AtomicBool>,
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if this.deadline.poll(cx).is_ready() {
            this.late.store(true, Ordering::Release);
            let late = std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            );
            return Poll::Ready(Some(Err(axum::Error::new(late))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
