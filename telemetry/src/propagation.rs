//! W3C trace context across process boundaries.
//!
//! HTTP → span: [`http_span`] middleware opens a request span whose parent is the caller's
//! `traceparent`. Span → NATS: [`current_traceparent`] renders the current span's context for a
//! message header. NATS → span: [`follow`] makes a consumer's span a child of the context a
//! message carried, so one trace id follows a hold from request to read model; [`link`] links a
//! span that serves many (a group commit, a projector batch) to each of them.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt;
use std::collections::HashMap;
use std::time::Instant;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct Headers<'a>(&'a axum::http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct One<'a>(Option<&'a str>);

impl Extractor for One<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        (key == "traceparent").then_some(self.0).flatten()
    }
    fn keys(&self) -> Vec<&str> {
        vec!["traceparent"]
    }
}

struct Collect(HashMap<String, String>);

impl Injector for Collect {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

/// The `traceparent` of the current span, for a message header.
pub fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut collect = Collect(HashMap::new());
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut collect));
    collect.0.remove("traceparent")
}

/// The trace id of the current span (32 hex digits), for logs and tests.
pub fn current_trace_id() -> Option<String> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

/// Makes `span` a child of the remote context in `traceparent` (from a message or a request).
pub fn follow(span: &tracing::Span, traceparent: Option<&str>) {
    if traceparent.is_none() {
        return;
    }
    let context = opentelemetry::global::get_text_map_propagator(|p| p.extract(&One(traceparent)));
    let _ = span.set_parent(context);
}

/// Links `span` to the span `traceparent` names (a request's, a commit's), for a span that serves
/// many: a group commit links the request of every command in it, a projector batch every commit
/// it applies, so a trace from any of them reaches the work done for it. An absent or invalid
/// `traceparent` links nothing.
pub fn link(span: &tracing::Span, traceparent: Option<&str>) {
    if traceparent.is_none() {
        return;
    }
    let context = opentelemetry::global::get_text_map_propagator(|p| p.extract(&One(traceparent)));
    span.add_link(context.span().span_context().clone());
}

/// The trace id inside a `traceparent` header value (`00-<trace id>-<span id>-<flags>`).
pub fn trace_id_of(traceparent: &str) -> Option<&str> {
    traceparent.split('-').nth(1).filter(|id| id.len() == 32)
}

/// Axum middleware: one span per request, child of the caller's `traceparent`, with request
/// count and latency metrics per route template, method and status: labels from a bounded set,
/// whatever a client sends.
pub async fn http_span(request: Request, next: Next) -> Response {
    traced(request, next).await
}

/// Axum middleware for routes read thousands of times a second (query-svc's): the metrics of
/// [`http_span`] for every request, and its span only for a request whose caller is tracing (a
/// `traceparent` marked sampled), so a traced call still continues its trace. An untraced read
/// starts no span: measured here, the span and its OpenTelemetry bookkeeping cost more than a
/// cached read itself (docs/BENCHMARKS.md, "Cached reads").
pub async fn http_span_when_traced(request: Request, next: Next) -> Response {
    if sampled(request.headers()) {
        return traced(request, next).await;
    }
    let route = route_label(request.extensions().get::<MatchedPath>());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    record(route, method, response.status().as_u16(), started);
    response
}

async fn traced(request: Request, next: Next) -> Response {
    let route = route_label(request.extensions().get::<MatchedPath>());
    let method = method_label(request.method());
    let span = tracing::info_span!("http.request", http.method = %method, http.route = %route, http.status = tracing::field::Empty);
    let parent =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(request.headers())));
    let _ = span.set_parent(parent);
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("http.status", status);
    record(route, method, status, started);
    response
}

fn record(route: String, method: &'static str, status: u16, started: Instant) {
    metrics::histogram!(
        "tv_http_request_seconds",
        "route" => route,
        "method" => method,
        "status" => status_label(status)
    )
    .record(started.elapsed().as_secs_f64());
}

/// The status label: a static string for the statuses the services answer, so the common case
/// allocates nothing.
fn status_label(status: u16) -> metrics::SharedString {
    const KNOWN: [(u16, &str); 16] = [
        (200, "200"),
        (201, "201"),
        (202, "202"),
        (204, "204"),
        (304, "304"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (408, "408"),
        (409, "409"),
        (422, "422"),
        (429, "429"),
        (500, "500"),
        (503, "503"),
    ];
    match KNOWN.iter().find(|(code, _)| *code == status) {
        Some((_, label)) => metrics::SharedString::const_str(label),
        None => metrics::SharedString::from(status.to_string()),
    }
}

/// Whether a request's `traceparent` (`00-<trace id>-<span id>-<flags>`) asks for the trace to be
/// recorded: its flags' sampled bit.
fn sampled(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit('-').next())
        .and_then(|flags| u8::from_str_radix(flags, 16).ok())
        .is_some_and(|flags| flags & 1 == 1)
}

/// The route label of a request: its route's template (`/holds/{hold_id}`), never the path a
/// client sent, which would make one time series per path; `other` for a request no route matched.
fn route_label(matched: Option<&MatchedPath>) -> String {
    matched.map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned())
}

/// The method label of a request: one of HTTP's own methods, else `other` (a client may send any
/// token as a method; each would be a new time series).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::PATCH, "PATCH"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| known == method)
        .map_or("other", |(_, label)| label)
}

#[cfg(test)]
mod label_tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn only_http_s_own_methods_become_labels() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let invented = Method::from_bytes(b"XYZZY-1234").unwrap();
        assert_eq!(method_label(&invented), "other");
    }

    #[test]
    fn only_a_sampled_traceparent_asks_for_a_span() {
        let mut headers = axum::http::HeaderMap::new();
        assert!(!sampled(&headers));
        let id = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7";
        headers.insert("traceparent", format!("{id}-01").parse().unwrap());
        assert!(sampled(&headers));
        headers.insert("traceparent", format!("{id}-00").parse().unwrap());
        assert!(!sampled(&headers));
        headers.insert("traceparent", "garbage".parse().unwrap());
        assert!(!sampled(&headers));
    }

    #[test]
    fn status_labels_are_the_numbers() {
        assert_eq!(&*status_label(200), "200");
        assert_eq!(&*status_label(599), "599");
    }

    #[test]
    fn an_unmatched_request_is_other_whatever_its_path() {
        assert_eq!(route_label(None), "other");
    }
}

#[cfg(test)]
mod link_tests {
    use super::*;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::propagation::TraceContextPropagator;
    use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    /// The spans a provider finished, kept in memory.
    #[derive(Debug, Clone, Default)]
    struct Recorded(Arc<Mutex<Vec<SpanData>>>);

    impl SpanExporter for Recorded {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            self.0.lock().expect("not poisoned").extend(batch);
            Ok(())
        }
    }

    #[test]
    fn a_span_serving_many_links_every_traceparent_and_nothing_else() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let recorded = Recorded::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(recorded.clone())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let first = "4bf92f3577b34da6a3ce929d0e0e4736";
        let second = "0af7651916cd43dd8448eb211c80319c";
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("projection.batch");
            link(&span, Some(&format!("00-{first}-00f067aa0ba902b7-01")));
            link(&span, Some(&format!("00-{second}-b7ad6b7169203331-01")));
            link(&span, Some("garbage"));
            link(&span, None);
        });
        let spans = recorded.0.lock().expect("not poisoned");
        assert_eq!(spans.len(), 1);
        let linked: Vec<String> = spans[0]
            .links
            .links
            .iter()
            .map(|l| l.span_context.trace_id().to_string())
            .collect();
        assert_eq!(linked, [first, second]);
    }
}
