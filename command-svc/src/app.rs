//! Startup as a function: `build(config)` connects, provisions the streams, binds the port and
//! starts the reactors; `run_until_stopped` serves until Ctrl-C or SIGTERM, then drains. Serving
//! is `tv_kit::serve`: header timeout, connection limit, graceful shutdown.
//!
//! The payment gateway is the one thing from outside: `build` uses the gateway the configuration
//! names (`TV_PAYMENT_GATEWAY`), and refuses the test gateway in production before connecting to
//! anything; `build_with_gateway` takes any [`PaymentGateway`] and no webhook (tests share one
//! test gateway between instances and restarts, as one external gateway would be).

use crate::cancellation::Cancellations;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::fulfilment::reactor::{self, ReactorSettings};
use crate::fulfilment::Fulfilment;
use crate::http::rate::CommandLimits;
use crate::http::{router, AppState, Services};
use crate::inventory::{Inventories, WriterSettings};
use crate::orders::Orders;
use crate::payments::{PaymentGateway, PaymentWebhook, Payments};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tv_nats::{EventStore, Naming};

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    reactors: Vec<JoinHandle<()>>,
    serving: tv_kit::ServeSettings,
    inventories: Inventories,
    pub state: AppState,
}

pub async fn build(config: Config) -> anyhow::Result<App> {
    let payments = config
        .gateway
        .payments(config.test_gateway())
        .context("choosing the payment gateway (TV_PAYMENT_GATEWAY)")?;
    tracing::info!(gateway = ?config.gateway.kind, "payment gateway");
    build_with_payments(config, payments).await
}

pub async fn build_with_gateway(
    config: Config,
    gateway: Arc<dyn PaymentGateway>,
) -> anyhow::Result<App> {
    let payments = Payments {
        gateway,
        webhook: None,
    };
    build_with_payments(config, payments).await
}

async fn build_with_payments(config: Config, payments: Payments) -> anyhow::Result<App> {
    telemetry::metrics_handle();
    // Without a secret nobody could be verified: refuse to start rather than let anyone in.
    let verifier = config
        .auth
        .verifier()
        .context("command-svc checks bearer tokens")?;
    let cors = config
        .web
        .layer(&tv_kit::cors::pages_default_origins())
        .context("command-svc answers the web pages' origins")?;
    let admission = config
        .admission
        .key(&config.auth)
        .context("command-svc checks admission tokens")?;
    let ticket_key = config
        .tickets
        .secret(&config.auth, &config.admission)
        .map(|secret| domain::ordering::TicketKey::new(secret.expose()))
        .context("command-svc signs ticket codes")?;
    if admission.is_none() {
        tracing::info!("no admission key (TV_ADMISSION_SECRET_FILE): events sold through a waiting room admit nobody");
    }
    let store = EventStore::connect(&config.nats_url, Naming::new(&config.prefix))
        .await
        .with_context(|| {
            format!(
                "connecting to NATS at {} (set NATS_URL)",
                tv_nats::redact_url(&config.nats_url)
            )
        })?
        .with_upcaster(tv_nats::Upcaster {
            written: domain::schema::WRITTEN,
            upcast: domain::schema::upcaster,
        });
    store
        .provision()
        .await
        .context("provisioning the JetStream streams")?;
    let inventories = Inventories::new(
        store.clone(),
        WriterSettings {
            max_batch: config.max_batch.max(1),
            queue_depth: config.queue_depth.max(1),
            snapshot_every: config.snapshot_every.max(1),
            idle: std::time::Duration::from_secs_f64(config.writer_idle_secs.clamp(0.05, 86_400.0)),
            max_commit_bytes: config.max_commit_bytes,
            ownership: config.event_ownership,
        },
    )
    .await
    .context("opening the snapshot and lease buckets")?;
    let catalog = Catalog::new(store.clone(), inventories.clone());
    let fulfilment = Fulfilment::new(
        store.clone(),
        inventories.clone(),
        payments.gateway,
        ticket_key.clone(),
        config.fulfilment_halt,
    );
    let webhook = PaymentWebhook::new(payments.webhook, fulfilment.clone());
    let orders = Orders::new(store.clone(), inventories.clone(), fulfilment.clone());
    let tickets = crate::tickets::Tickets::new(store.clone());
    let state = AppState::new(Services {
        store: store.clone(),
        catalog,
        inventories: inventories.clone(),
        orders,
        admission,
        webhook,
        tickets,
        ticket_key,
    });
    let owned = inventories.clone();
    let mut reactors = Vec::new();
    if config.expiry_reactor {
        reactors.push(tokio::spawn(crate::expiry::run(store.clone(), inventories)));
    }
    if config.fulfilment_reactor {
        let settings = ReactorSettings {
            ack_wait: Duration::from_secs(config.fulfilment_ack_wait_secs.max(1)),
            pending_poll: config.gateway.pending_poll(),
        };
        let cancellations = Cancellations::new(store.clone(), owned.clone(), fulfilment.clone());
        reactors.push(tokio::spawn(crate::cancellation::reactor::run(
            store.clone(),
            cancellations,
            settings.ack_wait,
        )));
        reactors.push(tokio::spawn(reactor::run(store, fulfilment, settings)));
    }
    let listener = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("binding {} (set TV_COMMAND_ADDR)", config.addr))?;
    Ok(App {
        listener,
        router: router(
            state.clone(),
            verifier,
            CommandLimits::new(config.commands_per_address, config.commands_per_customer),
            config.http.deadlines(),
        )
        .layer(cors),
        serving: config.http.serve(),
        reactors,
        inventories: owned,
        state,
    })
}

impl App {
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener")
    }

    /// Serves until Ctrl-C or SIGTERM; in-flight requests finish first.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(tv_kit::shutdown_signal()).await
    }

    /// Serves until `stop` completes (tests pass their own).
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let served = tv_kit::serve(self.listener, self.router, self.serving, stop).await;
        for reactor in self.reactors {
            reactor.abort();
        }
        // Other instances take this one's events at once, not after its leases expire.
        self.inventories.release_leases().await;
        served.context("serving HTTP")
    }
}
