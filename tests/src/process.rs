//! Real processes for the fault tests: a service binary of this workspace run as a child (so that
//! a test can `kill -9` it), a private nats-server (so that a test can stop and restart it without
//! disturbing the shared one), free loopback ports and scratch directories.
//!
//! Every process started here is owned by a guard that kills it when dropped, so a test that
//! panics half-way leaves nothing running. Nothing here listens or connects beyond 127.0.0.1.

use std::collections::HashMap;
use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The pinned nats-server that `scripts/lib/infra.sh` installs (keep the two in step).
pub const NATS_SERVER_VERSION: &str = "2.15.1";

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the workspace root when relative),
/// else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// Builds (once per test process) and locates the binary `bin` of package `package`, in the
/// profile these tests were built with.
///
/// `cargo build` runs every time the first test of a process asks, not only when the file is
/// missing: it is a no-op when the binary is current, and a stale binary would test old code.
/// Concurrent test processes serialise on a file lock (and on cargo's own lock of the target
/// directory), so a binary is never built twice at once.
pub fn service_binary(package: &str, bin: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(bin) {
        return path.clone();
    }
    let release = !cfg!(debug_assertions);
    let path = target_dir()
        .join(if release { "release" } else { "debug" })
        .join(bin);
    std::fs::create_dir_all(target_dir()).expect("creating the target directory");
    let lock = File::create(target_dir().join(".tv-fault-build.lock")).expect("a lock file");
    lock.lock().expect("locking the build lock file");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args(["build", "--quiet", "-p", package, "--bin", bin]);
    if release {
        command.arg("--release");
    }
    let started = Instant::now();
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("running cargo build -p {package}: {e}"));
    drop(lock);
    assert!(
        status.success(),
        "cargo build -p {package} --bin {bin} failed: {status}"
    );
    assert!(
        path.is_file(),
        "cargo built {bin} but {} is missing",
        path.display()
    );
    eprintln!(
        "{bin}: {} (cargo build took {:.1?})",
        path.display(),
        started.elapsed()
    );
    built.insert(bin.to_owned(), path.clone());
    path
}

/// A loopback port that was free a moment ago: bound on :0, read, released. Another process could
/// take it in between; on one test machine that is rare enough, and a bind failure says so.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("a bound address").port()
}

/// Waits until something accepts TCP connections on `addr`; false after `limit`.
pub async fn wait_for_port(addr: SocketAddr, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let probe = tokio::task::spawn_blocking(move || {
            TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
        });
        if probe.await.unwrap_or(false) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The last `lines` lines of a log file, for a failure message.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A scratch directory under the system's temporary directory, removed when dropped.
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    pub fn new(label: &str) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let path = std::env::temp_dir().join(format!("tv-{label}-{}", &id[..12]));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if std::env::var("TV_TEST_KEEP").is_ok_and(|v| v == "1") {
            eprintln!("TV_TEST_KEEP=1: keeping {}", self.path.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A child process that is killed (SIGKILL) and reaped when the guard is dropped.
pub struct ChildProcess {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl ChildProcess {
    /// Starts `command` with its stdout and stderr appended to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Self {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("opening {}: {e}", log.display()));
        let err = out.try_clone().expect("cloning a file handle");
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Self {
            name: name.to_owned(),
            child: Some(child),
            log: log.to_path_buf(),
        }
    }

    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Where its output goes.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The last `lines` lines of its output, for a failure message.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// `kill -9`: no shutdown, no flush, no goodbye. Reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits up to `limit` for it to exit (SIGKILL after that). True if it exited
    /// by itself.
    pub fn terminate(&mut self, limit: Duration) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + limit;
        while sent && Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "{} did not stop within {limit:?} of SIGTERM; killing it",
            self.name
        );
        let _ = child.kill();
        let _ = child.wait();
        false
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// command-svc as a real process on a port of its own, under a stream prefix of its own.
/// A service binary of the workspace that a fault test runs as a child.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    pub package: &'static str,
    pub bin: &'static str,
    /// The variable naming the address it listens on.
    pub addr_var: &'static str,
    /// The path that answers 200 once it serves.
    pub ready_path: &'static str,
}

pub const COMMAND_SVC: Service = Service {
    package: "command-svc",
    bin: "command-svc",
    addr_var: "TV_COMMAND_ADDR",
    ready_path: "/healthz",
};

pub const WAITING_ROOM: Service = Service {
    package: "waiting-room",
    bin: "waiting-room",
    addr_var: "TV_WAITING_ROOM_ADDR",
    ready_path: "/readyz",
};

/// A service run as a child process on a loopback port of its own, restartable on that port.
pub struct ServiceProcess {
    pub service: Service,
    pub addr: SocketAddr,
    pub base_url: String,
    nats_url: String,
    prefix: String,
    log: PathBuf,
    /// Settings beyond the defaults, as environment variables.
    settings: Vec<(String, String)>,
    process: Option<ChildProcess>,
}

/// command-svc as a child process.
pub type CommandSvcProcess = ServiceProcess;

impl ServiceProcess {
    /// Starts `target/<profile>/command-svc` (built first if needed) on a free loopback port and
    /// waits until `/healthz` answers. Its output goes to `log`.
    pub async fn start(nats_url: &str, prefix: &str, log: &Path) -> Self {
        Self::start_with(nats_url, prefix, log, &[]).await
    }

    /// [`ServiceProcess::start`] with other settings (`TV_…` variables), kept for restarts.
    pub async fn start_with(
        nats_url: &str,
        prefix: &str,
        log: &Path,
        settings: &[(&str, &str)],
    ) -> Self {
        Self::start_service(COMMAND_SVC, nats_url, prefix, log, settings).await
    }

    /// Any service of the workspace, like [`ServiceProcess::start_with`].
    pub async fn start_service(
        service: Service,
        nats_url: &str,
        prefix: &str,
        log: &Path,
        settings: &[(&str, &str)],
    ) -> Self {
        let port = free_port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut svc = Self {
            service,
            addr,
            base_url: format!("http://{addr}"),
            nats_url: nats_url.to_owned(),
            prefix: prefix.to_owned(),
            log: log.to_path_buf(),
            settings: settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            process: None,
        };
        svc.restart().await;
        svc
    }

    /// Starts the process again on the same port and prefix (after a kill) and waits for it.
    pub async fn restart(&mut self) {
        let Service {
            package,
            bin,
            addr_var,
            ready_path,
        } = self.service;
        assert!(self.process.is_none(), "{bin} is still running");
        let binary = tokio::task::spawn_blocking(move || service_binary(package, bin))
            .await
            .expect("building the service");
        let mut command = Command::new(binary);
        command
            .env(addr_var, self.addr.to_string())
            .env("NATS_URL", &self.nats_url)
            .env("TV_PREFIX", &self.prefix)
            .env("TV_LOG_FORMAT", "text")
            // The tests' public secrets: the client's tokens are signed with them.
            .env("TV_JWT_SECRET", auth::testing::SECRET)
            .env_remove("TV_JWT_SECRET_FILE")
            .env("TV_ADMISSION_SECRET", auth::testing::ADMISSION_SECRET)
            .env_remove("TV_ADMISSION_SECRET_FILE")
            .env("TV_TICKET_SECRET", auth::testing::TICKET_SECRET)
            .env_remove("TV_TICKET_SECRET_FILE")
            // The test gateway, named: command-svc has no default one.
            .env("TV_PAYMENT_GATEWAY", "test")
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or("info".into()),
            )
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .envs(self.settings.iter().map(|(k, v)| (k, v)));
        let mut process = ChildProcess::spawn(bin, command, &self.log);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .no_proxy()
            .build()
            .expect("an HTTP client");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = http
                .get(format!("{}{ready_path}", self.base_url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(
                process.is_running(),
                "{bin} exited at start; its log ({}):\n{}",
                process.log().display(),
                process.log_tail(30)
            );
            assert!(
                Instant::now() < deadline,
                "{bin} did not answer {ready_path} within 30 s; its log:\n{}",
                process.log_tail(30)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.process = Some(process);
    }

    /// `kill -9` the process.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    /// Graceful stop (SIGTERM, bounded).
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.terminate(Duration::from_secs(10));
        }
    }

    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }
}

/// The pinned nats-server binary installed by `scripts/lib/infra.sh`, if it is there.
pub fn nats_server_binary() -> Option<PathBuf> {
    let path = workspace_root()
        .join(".tools")
        .join(format!("nats-{NATS_SERVER_VERSION}"))
        .join("bin")
        .join("nats-server");
    path.is_file().then_some(path)
}

/// A nats-server of the test's own, with JetStream in a scratch directory, on a free port. It can
/// be stopped and started again on the same port and store, as an operator's restart would.
pub struct PrivateNats {
    binary: PathBuf,
    pub port: u16,
    store: ScratchDir,
    process: Option<ChildProcess>,
}

impl PrivateNats {
    /// Starts the server; `None` when the pinned binary is not installed (run `./scripts/test`
    /// or `source scripts/lib/infra.sh && ensure_nats_server` once).
    pub async fn start() -> Option<Self> {
        Self::start_on(free_port()).await
    }

    /// [`PrivateNats::start`] on a given loopback port.
    pub async fn start_on(port: u16) -> Option<Self> {
        let binary = nats_server_binary()?;
        let mut server = Self {
            binary,
            port,
            store: ScratchDir::new("nats"),
            process: None,
        };
        server.restart().await;
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server again with the same port and store directory.
    pub async fn restart(&mut self) {
        assert!(self.process.is_none(), "nats-server is still running");
        let mut command = Command::new(&self.binary);
        command.args([
            "-a",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-js",
            "-sd",
            &self.store.path().join("jetstream").to_string_lossy(),
            "-n",
            "tv-fault-test",
        ]);
        let log = self.store.path().join("nats.log");
        let mut process = ChildProcess::spawn("nats-server", command, &log);
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        if !wait_for_port(addr, Duration::from_secs(15)).await {
            let running = process.is_running();
            panic!(
                "the private nats-server did not listen on {addr} within 15 s (running: \
                 {running}); its log:\n{}",
                process.log_tail(30)
            );
        }
        self.process = Some(process);
    }

    /// SIGTERM (a clean shutdown: JetStream flushes its store), waited for.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.terminate(Duration::from_secs(15));
        }
    }

    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.store.path().join("nats.log"), lines)
    }
}

impl Drop for PrivateNats {
    /// Stops the server before its store directory is removed.
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }
}

// ------------------------------------------------------------------ buyers that outlive a fault

/// A hold a buyer wants: its idempotency key, who asks and for which seats.
#[derive(Debug, Clone)]
pub struct HoldWish {
    pub key: String,
    pub customer: String,
    pub section: String,
    pub seats: Vec<String>,
}

/// How one buyer's hold ended after retrying through a fault with the same key.
#[derive(Debug, Clone)]
pub struct HoldOutcome {
    pub wish: HoldWish,
    /// The final answer: a status that is not 429/503, and its body. `None` when the buyer gave up
    /// at the deadline.
    pub answer: Option<(reqwest::StatusCode, serde_json::Value)>,
    /// When the final answer arrived.
    pub answered_at: Option<Instant>,
    /// Attempts that got no HTTP answer (refused, reset, timed out): the request may or may not
    /// have been decided.
    pub lost_attempts: u32,
    /// Attempts answered 503 or 429.
    pub unavailable_answers: u32,
    /// Every status seen, in order (for the report and the "no other 5xx" check).
    pub statuses: Vec<u16>,
}

impl HoldOutcome {
    /// The hold id of a 201.
    pub fn hold_id(&self) -> Option<&str> {
        match &self.answer {
            Some((status, body)) if *status == reqwest::StatusCode::CREATED => {
                body["hold_id"].as_str()
            }
            _ => None,
        }
    }
}

/// An HTTP client for buyers under faults: short timeouts, so a request into a dead process fails
/// fast and is retried; a fresh connection after any failure.
pub fn fault_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(20))
        .no_proxy()
        .build()
        .expect("an HTTP client")
}

/// `POST /events/{event}/holds` for `wish`, retried with the same key after no answer, 503 or 429
/// (every 50 ms), until a final answer or `deadline`. `base_url` is read before each attempt, so a
/// test can move the service.
pub async fn hold_until_answered(
    http: &reqwest::Client,
    base_url: &str,
    event: &str,
    wish: HoldWish,
    deadline: Instant,
) -> HoldOutcome {
    let body = serde_json::json!({
        "customer_id": wish.customer,
        "section_id": wish.section,
        "seats": wish.seats,
    });
    let mut outcome = HoldOutcome {
        wish,
        answer: None,
        answered_at: None,
        lost_attempts: 0,
        unavailable_answers: 0,
        statuses: Vec::new(),
    };
    let path = format!("/events/{event}/holds");
    let authorization = crate::client::authorization_for(&path, &body);
    while Instant::now() < deadline {
        let sent = http
            .post(format!("{base_url}{path}"))
            .header("Authorization", &authorization)
            .header("Idempotency-Key", &outcome.wish.key)
            .json(&body)
            .send()
            .await;
        let answered = match sent {
            Ok(response) => {
                let status = response.status();
                match response.bytes().await {
                    Ok(bytes) => Some((status, bytes)),
                    Err(_) => None, // cut while the body was on its way
                }
            }
            Err(_) => None,
        };
        match answered {
            None => outcome.lost_attempts += 1,
            Some((status, bytes)) => {
                outcome.statuses.push(status.as_u16());
                if status == reqwest::StatusCode::SERVICE_UNAVAILABLE
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                {
                    outcome.unavailable_answers += 1;
                } else {
                    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                        serde_json::Value::String(format!(
                            "not JSON ({e}): {}",
                            String::from_utf8_lossy(&bytes)
                        ))
                    });
                    outcome.answer = Some((status, body));
                    outcome.answered_at = Some(Instant::now());
                    return outcome;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    outcome
}

// ------------------------------------------------------------------------------- the verdict

/// Checks the inventory stream of one event against what the buyers were told, after a fault:
///
/// - no hold id is recorded twice (`SeatsHeld`), and no seat is taken by two live holds;
/// - every hold answered 201 is in the stream, at the position its answer names, with the seats
///   the buyer asked for;
/// - every hold in the stream was answered 201 to someone (call it only when every buyer got a
///   final answer: a hold decided but never answered would otherwise be a seat lost to the sale).
///
/// Returns how many holds the stream records.
pub fn assert_holds_match_stream(
    log: &crate::InventoryLog,
    inventory_stream: &str,
    outcomes: &[HoldOutcome],
) -> usize {
    use domain::ids::HoldId;
    use domain::inventory::InventoryEvent;
    use std::collections::HashSet;

    let mut held: HashMap<HoldId, (u64, String, Vec<String>)> = HashMap::new();
    let mut duplicates = Vec::new();
    for (sequence, facts) in &log.commits {
        for fact in facts {
            if let InventoryEvent::SeatsHeld {
                hold_id,
                section_id,
                seats,
                ..
            } = fact
            {
                let seats = seats.iter().map(ToString::to_string).collect();
                let first = held.insert(*hold_id, (*sequence, section_id.to_string(), seats));
                if let Some((earlier, ..)) = first {
                    duplicates.push(format!("{hold_id} at {earlier} and {sequence}"));
                }
            }
        }
    }
    assert!(
        duplicates.is_empty(),
        "holds recorded more than once: {duplicates:?}"
    );
    // Panics on a seat taken while another hold occupies it.
    let _ = log.seat_owners();

    let mut answered = HashSet::new();
    for outcome in outcomes {
        let Some(text) = outcome.hold_id() else {
            continue;
        };
        let key = &outcome.wish.key;
        let hold = crate::stream::hold_id(text);
        answered.insert(hold);
        let (sequence, section, seats) = held.get(&hold).unwrap_or_else(|| {
            panic!("hold {text} (key {key}) was acknowledged with 201 but is not in the stream")
        });
        let (_, body) = outcome.answer.as_ref().expect("a 201 has a body");
        assert_eq!(
            body["position"].as_str(),
            Some(format!("{inventory_stream}:{sequence}").as_str()),
            "key {key}: the answer's position does not name the commit of its hold: {body}"
        );
        assert_eq!(
            (section, seats),
            (&outcome.wish.section, &outcome.wish.seats),
            "key {key}: the stream holds other seats than asked: {body}"
        );
    }
    let mut orphans: Vec<String> = held
        .keys()
        .filter(|h| !answered.contains(*h))
        .map(ToString::to_string)
        .collect();
    orphans.sort();
    assert!(
        orphans.is_empty(),
        "{} holds are in the stream but no buyer was answered 201 for them (seats lost to the \
         sale): {orphans:?}",
        orphans.len()
    );
    held.len()
}

/// The name of the `i`-th seated section of a fault test's event (`stalls`, `block-1`, …).
pub fn fault_section(i: usize) -> String {
    if i == 0 {
        crate::SEATED_SECTION.to_owned()
    } else {
        format!("block-{i}")
    }
}

/// An event of `sections` seated sections of 100 seats each ([`fault_section`] names them).
pub fn fault_event(sections: usize) -> crate::EventSpec {
    (1..sections).fold(crate::EventSpec::seated(), |spec, i| {
        spec.with_seated(&fault_section(i))
    })
}

/// `buyers` lists of `per_buyer` holds of 1 or 2 random seats in a random section, keys
/// `<label>-<buyer>-<n>`, one customer per hold (the per-customer limit is not what a fault test
/// checks), overlapping freely so that some buyers lose seats to others.
pub fn hold_wishes(
    rng: &mut impl rand::Rng,
    label: &str,
    buyers: usize,
    per_buyer: usize,
    sections: usize,
) -> Vec<Vec<HoldWish>> {
    let labels = crate::seat_labels();
    (0..buyers)
        .map(|buyer| {
            (0..per_buyer)
                .map(|n| {
                    let count = rng.random_range(1..=2);
                    HoldWish {
                        key: format!("{label}-{buyer}-{n}"),
                        customer: format!("{label}-buyer-{buyer}-{n}"),
                        section: fault_section(rng.random_range(0..sections)),
                        seats: rand::seq::index::sample(rng, labels.len(), count)
                            .into_iter()
                            .map(|i| labels[i].clone())
                            .collect(),
                    }
                })
                .collect()
        })
        .collect()
}
