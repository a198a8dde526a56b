//! Running command-svc inside a test: `build` on port 0, served by a task until `shutdown`.

use crate::client::Api;
use command_svc::http::AppState;
use command_svc::payments::{PaymentGateway, TestGateway};
use command_svc::Config;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// One command-svc instance serving on a free loopback port.
pub struct CommandSvc {
    pub base_url: String,
    /// The application state, cloned before the app started serving: lets a test send commands
    /// that have no HTTP endpoint yet (a `SellHold` from a payment) through the same writers.
    pub app_state: AppState,
    api: Api,
    stop: Option<oneshot::Sender<()>>,
    /// The serving task; its error (an `anyhow::Error` in command-svc) is kept as text.
    task: Option<JoinHandle<Result<(), String>>>,
}

impl CommandSvc {
    /// command-svc with the test defaults under `prefix` (and the tests' token secret), with its
    /// own HTTP client.
    pub async fn spawn(prefix: &str) -> Self {
        Self::spawn_with(
            Config::for_test(&crate::nats_url(), prefix),
            crate::client::http_client(),
        )
        .await
    }

    /// command-svc with `config` (its `addr` should be port 0), talked to through `http`.
    pub async fn spawn_with(config: Config, http: reqwest::Client) -> Self {
        let gateway = Arc::new(TestGateway::new(config.test_gateway()));
        Self::spawn_with_gateway(config, http, gateway).await
    }

    /// command-svc with the payment gateway its configuration names (`config.gateway`), as the
    /// binary starts it.
    pub async fn spawn_configured(config: Config, http: reqwest::Client) -> Self {
        let app = command_svc::build(config)
            .await
            .expect("command-svc starts (is NATS_URL a nats-server 2.12+?)");
        Self::serve(app, http)
    }

    /// command-svc charging through `gateway`: share one test gateway between instances and
    /// restarts, as they would share one real gateway.
    pub async fn spawn_with_gateway(
        config: Config,
        http: reqwest::Client,
        gateway: Arc<dyn PaymentGateway>,
    ) -> Self {
        let app = command_svc::build_with_gateway(config, gateway)
            .await
            .expect("command-svc starts (is NATS_URL a nats-server 2.12+?)");
        Self::serve(app, http)
    }

    fn serve(app: command_svc::App, http: reqwest::Client) -> Self {
        let base_url = format!("http://{}", app.local_addr());
        let app_state = app.state.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run_until(async {
                let _ = stopped.await;
            })
            .await
            .map_err(|e| format!("{e:#}"))
        });
        Self {
            api: Api::new(http, &base_url),
            base_url,
            app_state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The HTTP client of this instance.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The instance's own store handle (same prefix), for reading back what it wrote.
    pub fn store(&self) -> &tv_nats::EventStore {
        &self.app_state.store
    }

    /// Stops serving (in-flight requests finish first, bounded) and reports a serving error.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(Duration::from_secs(10), task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => panic!("command-svc stopped with an error: {e}"),
                Ok(Err(e)) => panic!("command-svc's task failed: {e}"),
                Err(_) => panic!("command-svc did not stop within 10 s of its shutdown"),
            }
        }
    }
}

impl Drop for CommandSvc {
    /// A test that panicked never called `shutdown`: stop serving anyway.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
