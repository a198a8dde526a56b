//! The pages' files under `/app/`: a file is answered as itself; any other path answers
//! `index.html` (`200 text/html`), so that a link to a page (`/app/events/{id}`) can be shared and
//! reloaded; a missing file that looks like an asset (its name ends in a short extension, as
//! `app.js` does and `/app/events/{id}` does not) is `404`, so that a broken script reference
//! fails loudly instead of loading a page as JavaScript.
//!
//! Caching: HTML `no-cache` (always revalidated, so a deploy shows at once); a file whose name
//! carries a content hash (`name.<8+ hex>.ext`) `immutable` for a year; any other file a minute.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// Where the pages are mounted.
pub const MOUNT: &str = "/app";

const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Files without a hash in their name change with a deploy: kept a minute, then revalidated
/// (`Last-Modified`), so a page and its modules are never far apart.
const SHORT: HeaderValue = HeaderValue::from_static("public, max-age=60");

/// The pages' directory, served.
#[derive(Clone)]
pub struct Pages {
    dir: PathBuf,
}

/// What `web/` holds for its developers, not for the browser: the npm manifest and lock, the
/// installed packages, the browser specs, the benchmark and the scripts. Never served.
const TOOLING: [&str; 7] = [
    "node_modules",
    "tests",
    "bench",
    "scripts",
    "package.json",
    "package-lock.json",
    "README.md",
];

/// Whether `inside` (a path under the mount, from its `/`) names tooling.
fn is_tooling(inside: &str) -> bool {
    inside
        .trim_start_matches('/')
        .split('/')
        .next()
        .is_some_and(|first| TOOLING.contains(&first))
}

impl Pages {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Answers a `GET` or `HEAD` of a path under [`MOUNT`] (the path still carrying it).
    pub async fn answer(&self, request: Request) -> Response {
        let path = request.uri().path().to_owned();
        let Some(inside) = path.strip_prefix(MOUNT).filter(|p| p.starts_with('/')) else {
            // `/app` itself: the catalog is at `/app/`, where relative links resolve.
            return Redirect::permanent(&format!("{MOUNT}/")).into_response();
        };
        if inside.split('/').any(|segment| segment.starts_with('.')) || is_tooling(inside) {
            return not_found();
        }
        let (mut parts, body) = request.into_parts();
        parts.uri = match Uri::builder().path_and_query(inside).build() {
            Ok(uri) => uri,
            Err(_) => return not_found(),
        };
        let looks_like_asset = is_asset_name(inside);
        let index = self.dir.join("index.html");
        let fallback = tower::service_fn(move |request: Request| {
            let index = index.clone();
            async move {
                if looks_like_asset {
                    return Ok::<_, Infallible>(not_found());
                }
                Ok(ServeFile::new(index)
                    .oneshot(request)
                    .await
                    .map(|r| r.map(Body::new))
                    .unwrap_or_else(|e| match e {}))
            }
        });
        let served = ServeDir::new(&self.dir)
            .append_index_html_on_directories(true)
            .fallback(fallback)
            .oneshot(Request::from_parts(parts, body))
            .await;
        let mut response = match served {
            Ok(response) => response.map(Body::new),
            Err(e) => match e {},
        };
        mount_redirect(&mut response);
        set_cache_control(&mut response, inside);
        response
    }
}

/// A directory asked for without its slash is redirected by the file service to the path it saw,
/// which lacks the mount: put it back.
fn mount_redirect(response: &mut Response) {
    if !response.status().is_redirection() {
        return;
    }
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .filter(|l| l.starts_with('/'))
        .map(|l| format!("{MOUNT}{l}"));
    if let Some(value) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
}

fn set_cache_control(response: &mut Response, path: &str) {
    let status = response.status();
    if !(status.is_success() || status == StatusCode::NOT_MODIFIED) {
        return;
    }
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let value = if html || path.ends_with('/') {
        NO_CACHE
    } else if has_content_hash(path) {
        IMMUTABLE
    } else {
        SHORT
    };
    response.headers_mut().insert(header::CACHE_CONTROL, value);
}

/// The last segment of `path`.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether a name carries a content hash: `name.<8 or more hex digits>.ext`.
pub fn has_content_hash(path: &str) -> bool {
    let parts: Vec<&str> = file_name(path).split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1]
            .iter()
            .any(|p| p.len() >= 8 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a path names a file rather than a page: its name ends in an extension of one to five
/// letters or digits (`.js`, `.woff2`). A page's path never does: its ids are UUIDs.
pub fn is_asset_name(path: &str) -> bool {
    file_name(path).rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && (1..=5).contains(&ext.len())
            && ext.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

fn not_found() -> Response {
    tv_kit::error::json_error(StatusCode::NOT_FOUND, "not_found", "no such file")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_between_the_name_and_the_extension_marks_an_immutable_file() {
        assert!(has_content_hash("/js/app.3f2a9c1b.js"));
        assert!(has_content_hash("/vendor/qr.0123456789abcdef.min.js"));
        assert!(!has_content_hash("/js/app.js"));
        assert!(!has_content_hash("/js/app.3f2a9c1.js"), "7 digits");
        assert!(!has_content_hash("/js/app.notahash.js"));
        assert!(!has_content_hash("/3f2a9c1b3f2a9c1b.js"), "no name");
    }

    #[test]
    fn assets_have_short_extensions_and_pages_do_not() {
        assert!(is_asset_name("/js/missing.js"));
        assert!(is_asset_name("/fonts/a.woff2"));
        assert!(!is_asset_name(
            "/events/9f1c2d3e-0000-4000-8000-000000000001"
        ));
        assert!(!is_asset_name("/operator/"));
        assert!(!is_asset_name("/me"));
        let hold =
            "/holds/9f1c2d3e-0000-4000-8000-000000000001.0b1c2d3e-0000-4000-8000-000000000002";
        assert!(
            !is_asset_name(hold),
            "a hold id's second half is no extension"
        );
    }
}
