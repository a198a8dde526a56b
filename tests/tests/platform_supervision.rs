//! `scripts/platform` supervising a real service: a command-svc killed with SIGKILL is started
//! again after its back-off (the platform says so, the service's log says so, and its /healthz
//! answers again), and a command-svc that exits at once (its port taken) is given up after the
//! crash-loop limit, the platform stopping with a message that names it.
//!
//! The platform runs beside anything else: the tests' NATS and PostgreSQL (not started by it), a
//! stream prefix, ports, a log directory of its own, and the debug binaries (`--bin-dir`, no build).

use e2e::process::{free_port, service_binary, target_dir, workspace_root, ScratchDir};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Exits within the crash-loop window that make a crash loop: the two kills below and two exits
/// at start.
const CRASH_LOOP_LIMIT: usize = 4;

/// The platform script as a child, killed (with its services, by its own TERM trap) when dropped.
struct Platform {
    child: Option<Child>,
    output: std::path::PathBuf,
}

impl Platform {
    fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// Waits until the platform's output holds `text` (true), or `limit` passes.
    async fn wait_for_output(&self, text: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.output().contains(text) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Waits up to `limit` for the script to exit; its status.
    async fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut()?.try_wait().ok().flatten() {
                self.child = None;
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The pid after `"{name}: {word} (pid "` in the platform's output, the last such line.
fn pid_in(output: &str, name: &str, word: &str) -> Option<u32> {
    let marker = format!("{name}: {word} (pid ");
    let at = output.rfind(&marker)? + marker.len();
    output[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

async fn healthy(http: &reqwest::Client, url: &str) -> bool {
    http.get(format!("{url}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

async fn wait_healthy(http: &reqwest::Client, url: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if healthy(http, url).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn kill_9(pid: u32) {
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -9 {pid} failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_restarts_a_killed_service_and_stops_on_a_crash_loop() {
    let prefix = e2e::unique_prefix();
    for (package, bin) in [("command-svc", "command-svc"), ("tv-nats", "tv-provision")] {
        tokio::task::spawn_blocking(move || service_binary(package, bin))
            .await
            .expect("building a binary");
    }
    // The bound counts from here: building the binaries is not the platform's time.
    let started = Instant::now();
    let bin_dir = target_dir().join(if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    });
    let scratch = ScratchDir::new("platform");
    let logs = scratch.path().join("logs");
    let output = scratch.path().join("platform.out");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");

    let mut command = Command::new(workspace_root().join("scripts/platform"));
    command
        .args(["--no-demo", "--services", "command-svc"])
        .arg("--bin-dir")
        .arg(&bin_dir)
        .args(["--port-base", &port.to_string()])
        .arg("--log-dir")
        .arg(&logs)
        .env("NATS_URL", e2e::nats_url())
        // The tests' servers are used, never adopted (restarted, reconfigured) by the platform.
        .env_remove("TV_NATS_URL_OURS")
        .env_remove("TV_DATABASE_URL_OURS")
        .env("TV_PREFIX", &prefix)
        .env("TV_CRASH_LOOP_LIMIT", CRASH_LOOP_LIMIT.to_string())
        .env("TV_CRASH_LOOP_SECONDS", "60")
        .env("TV_JWT_SECRET", auth::testing::SECRET)
        .env_remove("TV_JWT_SECRET_FILE")
        .env("TV_ADMISSION_SECRET", auth::testing::ADMISSION_SECRET)
        .env_remove("TV_ADMISSION_SECRET_FILE")
        .env("RUST_LOG", "info")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    if std::env::var_os("DATABASE_URL").is_none() {
        command.env("DATABASE_URL", "postgres://unused@127.0.0.1:1/unused");
    }
    let out = std::fs::File::create(&output).expect("creating the output file");
    let child = command
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("a file handle"))
        .stderr(out)
        .spawn()
        .expect("starting scripts/platform");
    let mut platform = Platform {
        child: Some(child),
        output,
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .no_proxy()
        .build()
        .expect("an HTTP client");

    assert!(
        platform
            .wait_for_output("supervising:", Duration::from_secs(60))
            .await,
        "the platform did not start supervising within 60 s; its output:\n{}",
        platform.output()
    );
    assert!(
        healthy(&http, &url).await,
        "command-svc does not answer at {url}"
    );
    let first = pid_in(&platform.output(), "command-svc", "started").expect("command-svc's pid");

    // 1. kill -9: restarted after the first back-off (1 s), serving again, and said so.
    kill_9(first);
    assert!(
        platform
            .wait_for_output("command-svc: restarted (pid", Duration::from_secs(15))
            .await,
        "command-svc was not restarted within 15 s of kill -9; the platform said:\n{}",
        platform.output()
    );
    let second = pid_in(&platform.output(), "command-svc", "restarted").expect("the restarted pid");
    assert_ne!(first, second, "the restarted command-svc is a new process");
    assert!(
        wait_healthy(&http, &url, Duration::from_secs(30)).await,
        "the restarted command-svc did not answer /healthz within 30 s; the platform said:\n{}",
        platform.output()
    );
    let service_log = std::fs::read_to_string(logs.join("command-svc.log")).unwrap_or_default();
    assert!(
        service_log.contains("restarted by scripts/platform after exit status 137"),
        "the service's log does not record the restart after SIGKILL (137):\n{service_log}"
    );
    assert!(
        platform.output().contains("command-svc exited (status 137"),
        "the platform did not report the exit status:\n{}",
        platform.output()
    );

    // 2. Killed again with its port taken: every restart exits at once, until the crash-loop limit.
    kill_9(second);
    let squatter = loop {
        match TcpListener::bind(("127.0.0.1", port)) {
            Ok(listener) => break listener,
            Err(_) if started.elapsed() < Duration::from_secs(80) => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            Err(e) => panic!("taking port {port} after the kill: {e}"),
        }
    };
    let status = platform.wait_exit(Duration::from_secs(40)).await;
    drop(squatter);
    let said = platform.output();
    let status = status.unwrap_or_else(|| {
        panic!("the platform did not stop on command-svc's crash loop within 40 s:\n{said}")
    });
    assert!(
        !status.success(),
        "a crash loop must stop the platform with a failure status, got {status}:\n{said}"
    );
    assert!(
        said.contains(&format!(
            "error: command-svc crash-looped: it exited {CRASH_LOOP_LIMIT} times within 60 s"
        )),
        "the platform's message does not name the crash loop:\n{said}"
    );
    let restarts = said.matches("command-svc: restarted (pid").count();
    assert_eq!(
        restarts,
        CRASH_LOOP_LIMIT - 1,
        "every exit but the last is followed by a restart:\n{said}"
    );
    assert!(
        !healthy(&http, &url).await,
        "nothing of the platform may serve after it stopped"
    );

    let store = e2e::store(&prefix).await;
    e2e::cleanup(&store).await;
    eprintln!("the supervision test took {:?}", started.elapsed());
}
