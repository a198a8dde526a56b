//! Cross-origin requests from the web pages: which origins may call a service from a browser
//! (`TV_WEB_ORIGINS`), and the one CORS layer command-svc, query-svc and the waiting room put
//! around their routes.
//!
//! Only the listed origins are answered; never `*`, and a preflight from any other origin gets no
//! `Access-Control-Allow-Origin`, so the browser refuses the call. The pages send a bearer token
//! in `Authorization` (never a cookie), so credentials are not allowed. The headers allowed are
//! the ones the pages send; `Retry-After` is exposed so that a page can back off on a `429`.

use axum::http::{header, HeaderName, HeaderValue, Method};
use std::time::Duration;
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
    pub fn layer(&self, default: &[String]) -> Result<CorsLayer, InvalidOrigin> {
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
pub fn layer(origins: Vec<HeaderValue>) -> CorsLayer {
    CorsLayer::new()
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
        .max_age(PREFLIGHT_MAX_AGE)
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

        let refused = preflight("http://elsewhere.test").await;
        assert!(refused
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none());
    }
}
