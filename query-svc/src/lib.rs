//! query-svc: TicketView's HTTP queries, answered from in-process moka caches.
//!
//! Each read model (events, availability per section, seat maps, holds, orders) is loaded from the
//! projector's PostgreSQL tables on a cache miss and kept coherent by the projector's change
//! notices on core NATS (see [`read`] for the rules). A query may pass `?after=<STREAM>:<seq>` (a
//! command's position) and is then answered only once the projection of that stream has reached
//! it, within a bounded wait ([`position`]).
//!
//! Events, availability and seat maps are public. A hold or an order is answered only to its
//! customer (the bearer token's subject) or to an operator, and to anyone else exactly as an id
//! that does not exist; the caches are shared by everyone and the check is made on the cached row.
//!
//! Boundaries: it reads, never writes; it never migrates (the projector owns the schema); it calls
//! no other service. Startup is [`build`], which binds the configured address (port 0 in tests),
//! then [`App::run_until_stopped`], which serves with `tv_kit::serve` (header timeout, connection
//! limit, request deadlines).

// The hand-written OpenAPI document is one large `json!`.
#![recursion_limit = "256"]

mod availability;
mod config;
mod error;
mod extract;
mod http;
mod listing;
mod live;
mod notice;
mod openapi;
mod position;
pub mod read;
mod report;
mod tickets;
mod waitlist;
mod web;
mod weight;

pub use config::Config;
pub use error::ApiError;
pub use web::settings::WebConfig;

use anyhow::Context;
use read::ReadModels;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tv_nats::{EventStore, Naming};

/// What handlers share.
pub(crate) struct AppState {
    pub read: ReadModels,
    pub store: EventStore,
    pub naming: Naming,
    pub config: Config,
    /// Permits of the queries waiting for `?after=` (`TV_QUERY_MAX_WAITERS`).
    pub waiters: tokio::sync::Semaphore,
    /// The highest last sequence seen of each projection's stream, by `Projection as usize`.
    pub stream_ends: [std::sync::atomic::AtomicU64; 3],
    pub prometheus: metrics_exporter_prometheus::PrometheusHandle,
    /// The live availability feeds and the count of open streams (`TV_QUERY_MAX_STREAMS`).
    pub live: Arc<live::Live>,
    /// The web pages and the demo sign-in.
    pub web: web::Web,
}

/// A started query service: listening, subscribed to notices, not yet serving.
pub struct App {
    listener: TcpListener,
    router: axum::Router,
    local_addr: SocketAddr,
    serving: tv_kit::ServeSettings,
    notices: tokio::task::JoinHandle<()>,
}

/// Connects to NATS and PostgreSQL, subscribes to change notices and binds `config.bind`.
pub async fn build(config: Config) -> anyhow::Result<App> {
    // Without a secret nobody could read their own orders: refuse to start rather than serve
    // them to anyone.
    let verifier = config
        .auth
        .verifier()
        .context("query-svc checks bearer tokens")?;
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    let local_addr = listener.local_addr()?;
    let web = web::Web::new(&config.web, &config.auth, local_addr)?;
    let cors = config
        .web
        .cors(local_addr)
        .context("query-svc answers the web pages' origins")?;
    let naming = Naming::new(&config.prefix);
    let store = EventStore::connect(&config.nats_url, naming.clone())
        .await
        .with_context(|| {
            format!(
                "connecting to NATS at {}",
                tv_nats::redact_url(&config.nats_url)
            )
        })?;
    let pool =
        tv_kit::pg::pool(&config.database_url, config.pg_pool_size).context("PostgreSQL pool")?;
    let state = Arc::new(AppState {
        read: ReadModels::new(pool, config.cache_bytes),
        store: store.clone(),
        naming: naming.clone(),
        prometheus: telemetry::metrics_handle(),
        waiters: tokio::sync::Semaphore::new(config.max_waiters),
        stream_ends: Default::default(),
        live: Arc::new(live::Live::new(config.max_streams)),
        web,
        config: config.clone(),
    });
    // Subscribe before reading the checkpoints, so that no notice falls between the two.
    let subscription = store
        .client()
        .subscribe(naming.notice_subject("*"))
        .await
        .context("subscribing to change notices")?;
    store
        .client()
        .flush()
        .await
        .context("flushing the notice subscription")?;
    state.read.start_coherence().await;
    let notices = tokio::spawn(http::follow_notices(state.clone(), subscription));

    Ok(App {
        listener,
        router: http::router(state, verifier, config.http.deadlines()).layer(cors),
        serving: config.http.serve(),
        local_addr,
        notices,
    })
}

impl App {
    /// The address it listens on (the real port when the configured one was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(tv_kit::shutdown_signal()).await
    }

    /// Serves until `stop` resolves, then finishes the requests in flight.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr, "query-svc listening");
        let result = tv_kit::serve(self.listener, self.router, self.serving, stop)
            .await
            .context("serving HTTP");
        self.notices.abort();
        result
    }
}
