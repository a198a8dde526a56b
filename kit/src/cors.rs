//! Cross-origin requests from the web pages: which origins may call a service from a browser
//! (`TV_WEB_ORIGINS`), and the one CORS layer command-svc, query-svc and the waiting room put
//! around their routes.
//!
//! Only the listed origins are answered; never `*`, and a preflight from any other origin gets no
//! `Access-Control-Allow-Origin`, so the browser refuses the call. The pages send a bearer token
//! in `Authorization` (never a cookie), so credentials are not allowed. The headers allowed are
//! the ones the pages send; `Retry-After` is exposed so that a page can back off on a `429`.

use axum::http::{header, HeaderName, HeaderValue, Method, Request, Response};
use futures::future::Either;
use futures::FutureExt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::util::Oneshot;
use tower::{Layer, Service, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// `Idempotency-Key`: sent on every command that creates something.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// `Admission`: the waiting room's token, sent on holds for an event behind a queue.
pub const ADMISSION: HeaderName = HeaderName::from_static("admission");
/// `Last-Event-ID`: sent by a page that resumes an event stream.
pub const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The origins allowed to call a service from a browser, flattened into its configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct WebOrigins {
    /// Origins (`scheme://host[:port]`, comma-separated) whose pages may call this service from
    /// a browser. Unset: query-svc's own origin (each service says which). `*` is refused.
    #[arg(long = "web-origins", env = "TV_WEB_ORIGINS", value_delimiter = ',')]
    pub web_origins: Vec<String>,
}

/// A configured origin that is not `scheme://host[:port]`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("TV_WEB_ORIGINS: {origin:?} is not an origin (scheme://host[:port], no path, not *)")]
pub struct InvalidOrigin {
    pub origin: String,
}

impl WebOrigins {
    /// The configured origins, or `default` when none is configured; each checked.
    pub fn allowed(&self, default: &[String]) -> Result<Vec<HeaderValue>, InvalidOrigin> {
        let configured: Vec<&str> = self
            .web_origins
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty())
            .collect();
        let origins: Vec<&str> = if configured.is_empty() {
            default.iter().map(String::as_str).collect()
        } else {
            configured
        };
        origins.into_iter().map(parse_origin).collect()
    }

    /// The CORS layer for these origins (or `default`).
    pub fn layer(&self, default: &[String]) -> Result<Cors, InvalidOrigin> {
        Ok(layer(self.allowed(default)?))
    }
}

/// An origin as browsers send it: a scheme, a host and maybe a port; no path, no `*`. A
/// trailing `/` is dropped (an origin never carries one, a pasted URL often does).
fn parse_origin(text: &str) -> Result<HeaderValue, InvalidOrigin> {
    let invalid = || InvalidOrigin {
        origin: text.to_owned(),
    };
    let origin = text.strip_suffix('/').unwrap_or(text);
    let (scheme, rest) = origin.split_once("://").ok_or_else(invalid)?;
    let scheme_ok = matches!(scheme, "http" | "https");
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !scheme_ok || !host_ok {
        return Err(invalid());
    }
    HeaderValue::from_str(&origin.to_ascii_lowercase()).map_err(|_| invalid())
}

/// The origins of a service on `port` of this machine, as a browser on it names them.
pub fn loopback_origins(port: u16) -> Vec<String> {
    vec![
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ]
}

/// Where the pages come from when nothing says otherwise: query-svc at its default address.
pub const PAGES_DEFAULT_PORT: u16 = 8081;

/// The origins of the pages served by query-svc at its default address on this machine.
pub fn pages_default_origins() -> Vec<String> {
    loopback_origins(PAGES_DEFAULT_PORT)
}

/// The CORS layer answering `origins` only: `GET` and `POST` with the pages' headers, no
/// credentials, `Retry-After` readable.
pub fn layer(origins: Vec<HeaderValue>) -> Cors {
    Cors {
        cors: CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                IDEMPOTENCY_KEY,
                ADMISSION,
                LAST_EVENT_ID,
            ])
            .expose_headers([header::RETRY_AFTER])
            .max_age(PREFLIGHT_MAX_AGE),
    }
}

/// tower-http's CORS layer, for cross-origin requests only. A request without `Origin` (curl, a
/// load test, a same-origin `GET`) passes straight to the routes and only gets `Vary: Origin`:
/// tower-http's layer costs about a microsecond on every request (`kit/examples/cors_cost.rs`),
/// a few per cent of a cached read. And tower-http takes every `OPTIONS` for a preflight and
/// answers it `200`; an `OPTIONS` that is not one (no `Access-Control-Request-Method`) goes to the
/// routes instead, which answer `405` with `Allow` as they did before CORS.
#[derive(Clone)]
pub struct Cors {
    cors: CorsLayer,
}

impl<S> Layer<S> for Cors {
    type Service = CorsService<S>;

    fn layer(&self, inner: S) -> CorsService<S> {
        CorsService {
            inner,
            cors: Arc::new(self.cors.clone()),
        }
    }
}

/// The service of [`Cors`]. axum clones a route's service for every request: the CORS rules are
/// shared, not copied, and tower-http's service is made only for a cross-origin request.
#[derive(Clone)]
pub struct CorsService<S> {
    inner: S,
    cors: Arc<CorsLayer>,
}

/// Whether tower-http's layer has anything to do with a request: a cross-origin request, or a
/// preflight (an `OPTIONS` naming the method it asks for).
fn is_cross_origin<B>(request: &Request<B>) -> bool {
    let headers = request.headers();
    headers.contains_key(header::ORIGIN)
        && (request.method() != Method::OPTIONS
            || headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD))
}

/// The answer to a request without `Origin` varies with it all the same: a cache must not give
/// it to a cross-origin caller.
fn vary_origin<B, E>(answer: Result<Response<B>, E>) -> Result<Response<B>, E> {
    answer.map(|mut response| {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("origin"));
        response
    })
}

type PlainFuture<F, B, E> =
    futures::future::Map<F, fn(Result<Response<B>, E>) -> Result<Response<B>, E>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CorsService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Either<
        PlainFuture<S::Future, ResBody, S::Error>,
        Oneshot<tower_http::cors::Cors<S>, Request<ReqBody>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if is_cross_origin(&request) {
            let cors = self.cors.layer(self.inner.clone());
            Either::Right(cors.oneshot(request))
        } else {
            let vary: fn(_) -> _ = vary_origin;
            Either::Left(self.inner.call(request).map(vary))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::post;
    use axum::Router;
    use tower::ServiceExt;

    fn origins(list: &[&str]) -> WebOrigins {
        WebOrigins {
            web_origins: list.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn unset_origins_fall_back_to_the_default_and_set_ones_replace_it() {
        let default = loopback_origins(8081);
        let allowed = origins(&[]).allowed(&default).unwrap();
        assert_eq!(allowed, ["http://127.0.0.1:8081", "http://localhost:8081"]);
        let allowed = origins(&["https://Tickets.example.com/", " "])
            .allowed(&default)
            .unwrap();
        assert_eq!(allowed, ["https://tickets.example.com"]);
    }

    #[test]
    fn a_wildcard_a_path_or_a_bare_host_is_refused() {
        for bad in [
            "*",
            "https://*.example.com",
            "https://example.com/app",
            "example.com",
            "ftp://example.com",
            "null",
        ] {
            assert_eq!(
                origins(&[bad]).allowed(&[]),
                Err(InvalidOrigin {
                    origin: bad.to_owned()
                }),
                "{bad}"
            );
        }
    }

    async fn preflight(origin: &str) -> axum::http::Response<Body> {
        let app = Router::new()
            .route("/orders", post(|| async { "placed" }))
            .layer(layer(vec![HeaderValue::from_static("http://pages.test")]));
        let request = Request::options("/orders")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization,content-type,idempotency-key",
            )
            .body(Body::empty())
            .unwrap();
        app.oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn a_listed_origin_is_allowed_with_the_pages_headers_and_another_is_not() {
        let allowed = preflight("http://pages.test").await;
        assert_eq!(allowed.status(), StatusCode::OK);
        let headers = allowed.headers();
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://pages.test"
        );
        let allowed_headers = headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap();
        for name in [
            "authorization",
            "idempotency-key",
            "admission",
            "last-event-id",
        ] {
            assert!(allowed_headers.contains(name), "{allowed_headers}");
        }
        assert!(headers
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none());

        let plain = Router::new()
            .route("/orders", post(|| async { "placed" }))
            .layer(layer(vec![HeaderValue::from_static("http://pages.test")]))
            .oneshot(Request::options("/orders").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(
            plain.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "an OPTIONS that is no preflight goes to the routes"
        );

        let same_origin = Router::new()
            .route("/orders", post(|| async { "placed" }))
            .layer(layer(vec![HeaderValue::from_static("http://pages.test")]))
            .oneshot(Request::post("/orders").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(same_origin.status(), StatusCode::OK);
        assert_eq!(same_origin.headers()[header::VARY], "origin");
        assert!(same_origin
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none());

        let refused = preflight("http://elsewhere.test").await;
        assert!(refused
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none());
    }
}
