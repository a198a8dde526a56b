//! The web pages in a real headless Chromium: this test starts the services the pages talk to
//! (command-svc with the test payment gateway, the projector, query-svc serving `web/` with the
//! demo sign-in on, the waiting room), each under this test's own stream prefix and database and
//! answering CORS for query-svc's origin, then runs the pages' browser specs, `node
//! web/tests/run.mjs`, and passes when they pass. The specs create the events they need through
//! the APIs with the operator token they are given.
//!
//! What the specs get, as environment variables: `TV_WEB_BASE` (query-svc; the pages are at
//! `$TV_WEB_BASE/app/`), `TV_COMMAND_URL`, `TV_WAITING_ROOM_URL`, `TV_OPERATOR_TOKEN`,
//! `TV_SCANNER_TOKEN`, `TV_CUSTOMER_TOKEN`, `TV_EXPIRED_TOKEN`, `TV_CHROMIUM` and
//! `TV_ARTIFACTS_DIR` (screenshots: `<target>/browser-artifacts`).
//!
//! Needs Debian's `chromium`, Node.js and the pages' npm packages: `./scripts/test` installs them
//! when missing (or `apt-get install chromium chromium-driver nodejs npm` and `npm ci --prefix
//! web`). `TV_SKIP_BROWSER=1` skips the test. `TV_BROWSER_SPECS` and `TV_BROWSER_PAGES` point it
//! at another spec script and pages directory, to check this harness on its own.

use e2e::process::{target_dir, workspace_root};
use e2e::readside::{spawn_projector, spawn_query_with, Database, Running};
use e2e::{scenario, CommandSvc, WaitingRoomSvc};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The longest the specs may run (the pages' suite is meant to take under three minutes).
const SPECS_TIME_LIMIT: Duration = Duration::from_secs(360);

/// The services of one run, and where the pages find them.
struct Site {
    query_url: String,
    command: CommandSvc,
    room: WaitingRoomSvc,
    _query: Running,
    _projector: Running,
    _database: Database,
}

impl Site {
    async fn start(prefix: &str, pages: &Path) -> Self {
        // query-svc's port is chosen first: the other services answer its origin.
        let query_port = e2e::process::free_port();
        let query_url = format!("http://127.0.0.1:{query_port}");
        let pages_origins = vec![query_url.clone(), format!("http://localhost:{query_port}")];

        let mut command_config = command_svc::Config::for_test(&e2e::nats_url(), prefix);
        command_config.web.web_origins = pages_origins.clone();
        let command = CommandSvc::spawn_with(command_config, e2e::client::http_client()).await;
        let mut room_config = waiting_room::Config::for_test(&e2e::nats_url(), prefix);
        room_config.web.web_origins = pages_origins;
        let room = WaitingRoomSvc::spawn_with(room_config).await;

        let database = Database::create().await;
        let projector = spawn_projector(prefix, &database).await;
        let (pages, command_url, room_url) = (
            pages.to_owned(),
            command.base_url.clone(),
            room.base_url.clone(),
        );
        let (query, _) = spawn_query_with(prefix, &database, move |config| {
            config.bind = ([127, 0, 0, 1], query_port).into();
            config.web.web_dir = Some(pages);
            config.web.web_command_url = Some(command_url);
            config.web.web_waiting_room_url = Some(room_url);
            config.web.demo_signin = true;
            // One spec keeps this address's demo sign-ins used up with a burst of calls from the
            // browser, to see the page's own call refused: a low limit keeps it used up however
            // slowly a loaded machine answers the burst (a browser sends at most six at once).
            config.web.demo_signins_per_address = 2;
        })
        .await;
        Self {
            query_url,
            command,
            room,
            _query: query,
            _projector: projector,
            _database: database,
        }
    }

    async fn stop(self) {
        self.command.shutdown().await;
        self.room.shutdown().await;
    }
}

/// The tokens the specs act with, signed with the key the test's services trust.
struct Tokens {
    operator: String,
    scanner: String,
    customer: String,
    expired: String,
}

impl Tokens {
    fn mint() -> Self {
        let issuer = auth::testing::issuer();
        let hour = Duration::from_secs(3600);
        let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
        // A one-second token whose second ended two minutes ago: expired beyond the verifiers'
        // leeway (30 s) without the test waiting it out.
        let expired = issuer.mint_claims(&auth::Claims {
            sub: "browser-expired".into(),
            roles: vec![auth::Role::Customer],
            iat: now - 121,
            exp: now - 120,
            iss: None,
            aud: Some(auth::DEFAULT_AUDIENCE.into()),
        });
        Self {
            operator: issuer.mint("browser-operator", &[auth::Role::Operator], hour),
            scanner: issuer.mint("browser-scanner", &[auth::Role::Scanner], hour),
            customer: issuer.mint("browser-customer", &[auth::Role::Customer], hour),
            expired,
        }
    }
}

/// What the specs need on this machine, or the message that says how to get it.
fn missing_tools(specs: &Path, pages: &Path, chromium: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if !specs.is_file() {
        missing.push(format!(
            "{} does not exist: the pages' browser specs are not on this branch",
            specs.display()
        ));
    }
    if !pages.join("index.html").is_file() {
        missing.push(format!("{} has no index.html", pages.display()));
    }
    if !chromium.is_file() {
        missing.push(format!(
            "no Chromium at {}: `apt-get install chromium chromium-driver` (./scripts/test does it)",
            chromium.display()
        ));
    }
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !node {
        missing.push("no `node`: `apt-get install nodejs npm` (./scripts/test does it)".into());
    }
    let web = workspace_root().join("web");
    if web.join("package-lock.json").is_file() && !web.join("node_modules").is_dir() {
        missing.push(
            "web/node_modules is missing: `npm ci --prefix web` (./scripts/test does it)".into(),
        );
    }
    missing
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pages_pass_their_specs_in_headless_chromium() {
    if std::env::var("TV_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("TV_SKIP_BROWSER=1: the browser specs are skipped");
        return;
    }
    let root = workspace_root();
    let path_from =
        |var: &str, default: PathBuf| std::env::var_os(var).map_or(default, PathBuf::from);
    let specs = path_from("TV_BROWSER_SPECS", root.join("web/tests/run.mjs"));
    let pages = path_from("TV_BROWSER_PAGES", root.join("web"));
    let chromium = path_from("TV_CHROMIUM", PathBuf::from("/usr/bin/chromium"));
    let missing = missing_tools(&specs, &pages, &chromium);
    assert!(
        missing.is_empty(),
        "the browser specs cannot run (TV_SKIP_BROWSER=1 skips them):\n- {}",
        missing.join("\n- ")
    );
    let artifacts = target_dir().join("browser-artifacts");
    std::fs::create_dir_all(&artifacts).expect("creating the artifacts directory");

    scenario(move |env| async move {
        let site = Site::start(&env.prefix, &pages).await;
        let tokens = Tokens::mint();
        let started = Instant::now();
        let mut node = tokio::process::Command::new("node");
        node.arg(&specs)
            .current_dir(specs.parent().expect("a spec file's directory"))
            .env("TV_WEB_BASE", &site.query_url)
            .env("TV_COMMAND_URL", &site.command.base_url)
            .env("TV_WAITING_ROOM_URL", &site.room.base_url)
            .env("TV_OPERATOR_TOKEN", &tokens.operator)
            .env("TV_SCANNER_TOKEN", &tokens.scanner)
            .env("TV_CUSTOMER_TOKEN", &tokens.customer)
            .env("TV_EXPIRED_TOKEN", &tokens.expired)
            .env("TV_CHROMIUM", &chromium)
            .env("TV_ARTIFACTS_DIR", &artifacts)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout(SPECS_TIME_LIMIT, node.output())
            .await
            .unwrap_or_else(|_| panic!("the browser specs ran longer than {SPECS_TIME_LIMIT:?}"))
            .expect("starting node");
        println!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        println!(
            "browser specs: {} in {:.1} s; screenshots in {}",
            output.status,
            started.elapsed().as_secs_f64(),
            artifacts.display()
        );
        site.stop().await;
        assert!(
            output.status.success(),
            "the browser specs failed ({}): their output is above",
            output.status
        );
    })
    .await;
}
