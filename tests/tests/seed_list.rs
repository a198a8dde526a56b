//! A service started on a seed list none of whose servers answers says so, keeps trying, and
//! serves once one of them comes up: a platform whose NATS cluster starts after the services (as
//! an orchestrator may start them) needs no restart.

use e2e::process::{free_port, service_binary, ChildProcess, PrivateNats, ScratchDir};
use std::process::Command;
use std::time::{Duration, Instant};

const WAITING: &str = "no NATS server of the seed list answers yet; retrying";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_on_an_unreachable_seed_list_says_so_and_connects_when_a_seed_comes_up() {
    if e2e::process::nats_server_binary().is_none() {
        eprintln!(
            "SKIPPED: the pinned nats-server is not installed; ./scripts/test installs it \
             (scripts/lib/infra.sh)"
        );
        return;
    }
    let binary = tokio::task::spawn_blocking(|| service_binary("command-svc", "command-svc"))
        .await
        .expect("building command-svc");
    let (first, second) = (free_port(), free_port());
    let seeds = format!("nats://127.0.0.1:{first}, nats://127.0.0.1:{second}");
    let scratch = ScratchDir::new("seed-list");
    let log = scratch.path().join("command-svc.log");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut command = Command::new(binary);
    command
        .env("TV_COMMAND_ADDR", &addr)
        .env("NATS_URL", &seeds)
        .env("TV_NATS_CONNECT_TIMEOUT_SECS", "60")
        .env("TV_PREFIX", e2e::unique_prefix())
        .env("TV_LOG_FORMAT", "text")
        .env("TV_JWT_SECRET", auth::testing::SECRET)
        .env_remove("TV_JWT_SECRET_FILE")
        .env("TV_ADMISSION_SECRET", auth::testing::ADMISSION_SECRET)
        .env_remove("TV_ADMISSION_SECRET_FILE")
        .env("TV_TICKET_SECRET", auth::testing::TICKET_SECRET)
        .env_remove("TV_TICKET_SECRET_FILE")
        .env("TV_PAYMENT_GATEWAY", "test")
        .env("RUST_LOG", "info")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    let mut svc = ChildProcess::spawn("command-svc", command, &log);

    // It reports the wait, naming the seeds, and is still running.
    let reported = e2e::eventually(Duration::from_secs(15), || async {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .find(|line| line.contains(WAITING))
            .map(str::to_owned)
    })
    .await;
    let Some(line) = reported else {
        panic!(
            "no report of the unreachable seeds within 15 s; log:\n{}",
            svc.log_tail(20)
        );
    };
    assert!(
        line.contains(&format!("127.0.0.1:{first}"))
            && line.contains(&format!("127.0.0.1:{second}")),
        "the report names the seed list: {line}"
    );
    assert!(svc.is_running(), "it gave up: {}", svc.log_tail(20));

    // The second seed comes up; the service connects and serves without a restart.
    let _nats = PrivateNats::start_on(second)
        .await
        .expect("the pinned nats-server");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let up = Instant::now();
    let ready = e2e::eventually(Duration::from_secs(20), || {
        let (http, url) = (http.clone(), format!("http://{addr}/readyz"));
        async move {
            let response = http.get(url).send().await.ok()?;
            response.status().is_success().then_some(())
        }
    })
    .await;
    assert!(
        ready.is_some(),
        "not ready within 20 s of a seed coming up; log:\n{}",
        svc.log_tail(20)
    );
    eprintln!("ready {:.1?} after the seed came up", up.elapsed());
    svc.terminate(Duration::from_secs(10));
}
