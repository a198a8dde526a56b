//! Startup as a function: `build(config)` connects, provisions the streams, binds the port and
//! starts the fold, the admitters and the order follower; `run_until_stopped` serves until Ctrl-C
//! or SIGTERM, then ends the open streams and drains.

use crate::admitter::{self, Settings};
use crate::config::Config;
use crate::http::{router, AppState, Services};
use crate::limits::JoinLimits;
use crate::places::Places;
use crate::rooms::Rooms;
use crate::{confirmations, feed};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tv_nats::{EventStore, Naming};

/// How often idle rate-limit keys are forgotten.
const FORGET_IDLE_EVERY: Duration = Duration::from_secs(30);

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    serving: tv_kit::ServeSettings,
    tasks: Vec<JoinHandle<()>>,
    stopping: watch::Sender<bool>,
    pub rooms: Arc<Rooms>,
}

pub async fn build(config: Config) -> anyhow::Result<App> {
    telemetry::metrics_handle();
    let verifier = config
        .auth
        .verifier()
        .context("the waiting room checks bearer tokens")?;
    let cors = config
        .web
        .layer(&tv_kit::cors::pages_default_origins())
        .context("the waiting room answers the web pages' origins")?;
    let key = config
        .admission
        .key(&config.auth)
        .context("the waiting room signs admission tokens")?
        .context(
            "the waiting room signs admission tokens: set TV_ADMISSION_SECRET_FILE (the key \
             command-svc verifies them with)",
        )?;
    let store = EventStore::connect(&config.nats_url, Naming::new(&config.prefix))
        .await
        .with_context(|| {
            format!(
                "connecting to NATS at {} (set NATS_URL)",
                tv_nats::redact_url(&config.nats_url)
            )
        })?;
    store
        .provision()
        .await
        .context("provisioning the JetStream streams")?;
    let (rooms, new_rooms) = Rooms::new();
    let limits = JoinLimits::new(config.joins_per_customer, config.joins_per_address);
    let (stopping, stopping_rx) = watch::channel(false);
    let state = AppState::new(Services {
        store: store.clone(),
        places: Places::new(store.clone(), rooms.clone()),
        rooms: rooms.clone(),
        key,
        limits,
        stopping: stopping_rx,
    });
    let settings = Settings {
        store: store.clone(),
        rooms: rooms.clone(),
        shuffle_grace: config.shuffle_grace(),
    };
    let forgetting = state.clone();
    let tasks = vec![
        tokio::spawn(feed::follow(store.clone(), rooms.clone())),
        tokio::spawn(admitter::run_all(new_rooms, settings)),
        tokio::spawn(confirmations::follow(store, rooms.clone())),
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(FORGET_IDLE_EVERY).await;
                forgetting.limits.forget_idle();
            }
        }),
    ];
    let listener = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("binding {} (set TV_WAITING_ROOM_ADDR)", config.addr))?;
    Ok(App {
        listener,
        router: router(state, verifier, config.http.deadlines()).layer(cors),
        serving: config.http.serve(),
        tasks,
        stopping,
        rooms,
    })
}

impl App {
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener")
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(tv_kit::shutdown_signal()).await
    }

    /// Serves until `stop` completes (tests pass their own); open streams end, requests in flight
    /// finish.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stopping = self.stopping;
        // The client's address reaches the join limits as `ConnectInfo`, set by `tv_kit::serve`.
        let served = tv_kit::serve(self.listener, self.router, self.serving, async move {
            stop.await;
            stopping.send_replace(true);
        })
        .await;
        for task in self.tasks {
            task.abort();
        }
        served.context("serving HTTP")
    }
}
