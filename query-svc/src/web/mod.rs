//! The web pages' side of query-svc: the files of `web/` under `/app/` ([`pages`]), where the
//! pages find the services (`/app/config.json`, [`settings`]) and the demo sign-in
//! (`POST /signin/demo`, [`signin`]).
//!
//! These routes have their own layers (gzip for text): the cached read routes pass none of them.
//! The pages call the services from the browser with a bearer token; cross-origin calls are
//! answered for `TV_WEB_ORIGINS` only (`tv_kit::cors`, put around every route of the service).

pub mod pages;
pub mod settings;
pub mod signin;

use crate::AppState;
use anyhow::Context;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pages::{Pages, MOUNT};
use settings::WebConfig;
use signin::DemoSignin;
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;

type Shared = Arc<AppState>;

/// The pages, their settings and the demo sign-in when it is on.
pub struct Web {
    config: WebConfig,
    /// The address query-svc listens on: the origin of last resort in `/app/config.json`.
    bind: SocketAddr,
    pages: Option<Pages>,
    pub signin: Option<DemoSignin>,
}

impl Web {
    /// The pages' directory found, and the demo sign-in's issuer loaded when it is on (it must
    /// be: `TV_DEMO_SIGNIN=1` without a signing key refuses to start).
    pub fn new(
        config: &WebConfig,
        auth: &auth::AuthConfig,
        bind: SocketAddr,
    ) -> anyhow::Result<Self> {
        let pages = config.pages_dir().map(Pages::new);
        match &pages {
            Some(pages) => {
                tracing::info!(dir = %pages.dir().display(), "serving the web pages under /app/")
            }
            None => tracing::info!(
                "no web pages to serve (TV_WEB_DIR unset and no web/index.html found)"
            ),
        }
        let signin = if config.demo_signin {
            let issuer = auth.issuer().context(
                "TV_DEMO_SIGNIN=1 mints tokens: give query-svc the issuer key (TV_JWT_PRIVATE_KEY_FILE)",
            )?;
            tracing::warn!("the demo sign-in is on: anyone may get a customer token for a name");
            Some(DemoSignin::new(issuer, config.demo_signins_per_address))
        } else {
            None
        };
        Ok(Self {
            config: config.clone(),
            bind,
            pages,
            signin,
        })
    }
}

/// The routes of the pages and the demo sign-in.
pub(crate) fn routes() -> Router<Shared> {
    let pages = Router::new()
        .route(MOUNT, get(page))
        .route(&format!("{MOUNT}/"), get(page))
        .route(&format!("{MOUNT}/{{*path}}"), get(page))
        .layer(CompressionLayer::new());
    Router::new()
        .route(&format!("{MOUNT}/config.json"), get(page_config))
        .merge(pages)
        .route("/signin/demo", post(signin::demo))
}

async fn page(State(state): State<Shared>, request: Request) -> Response {
    match &state.web.pages {
        Some(pages) => pages.answer(request).await,
        None => tv_kit::error::json_error(
            axum::http::StatusCode::NOT_FOUND,
            "pages_not_installed",
            "this query-svc serves no web pages: set TV_WEB_DIR to the web directory",
        ),
    }
}

async fn page_config(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let web = &state.web;
    let mut response = Json(web.config.page_config(&headers, web.bind)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
