//! Token keys as an operator deploys them, with the real binaries: `tv-keys generate` writes a
//! key pair, command-svc is started with the public key set alone (no secret, no private key),
//! `tv-token` signs with the private key. Tokens of that key are accepted; an HS256 token (the
//! secret services trusted before) and a token of a key the service does not hold are not. A
//! service given a published default secret refuses to start and says which variable to fix.

use e2e::process::{
    fault_event, service_binary, ScratchDir, ServiceProcess, COMMAND_SVC, WAITING_ROOM,
};
use e2e::{scenario, Api, TestEnv};
use reqwest::StatusCode;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The secret compose.yaml shipped as its default before it had none.
const OLD_COMPOSE_SECRET: &str = "ticketview-development-secret-not-for-production";
/// The admission key compose.yaml shipped likewise.
const OLD_COMPOSE_ADMISSION: &str = "ticketview-development-admission-key-not-for-production";

/// A command of the workspace's binary `bin` (of `package`), with no token setting of the
/// caller's environment.
fn binary(package: &str, bin: &str) -> Command {
    let mut command = Command::new(service_binary(package, bin));
    for var in [
        "TV_JWT_SECRET",
        "TV_JWT_SECRET_FILE",
        "TV_JWT_PRIVATE_KEY",
        "TV_JWT_PRIVATE_KEY_FILE",
        "TV_JWT_PUBLIC_KEYS",
        "TV_JWT_PUBLIC_KEYS_FILE",
        "TV_JWT_ISSUER",
        "TV_JWT_AUDIENCE",
        "TV_ADMISSION_SECRET",
        "TV_ADMISSION_SECRET_FILE",
    ] {
        command.env_remove(var);
    }
    command
}

fn succeeded(what: &str, output: Output) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .trim()
        .to_owned()
}

/// `tv-keys generate dir`: the new key's kid.
fn generate(dir: &Path) -> String {
    let output = binary("auth", "tv-keys")
        .arg("generate")
        .arg(dir)
        .output()
        .expect("running tv-keys");
    succeeded("tv-keys generate", output)
}

/// `tv-token` signing an operator's token with the private key at `private_key`.
fn operator_token(private_key: &Path) -> String {
    let output = binary("auth", "tv-token")
        .env("TV_JWT_PRIVATE_KEY_FILE", private_key)
        .args([
            "--subject",
            "ops",
            "--role",
            "operator",
            "--ttl-seconds",
            "600",
        ])
        .output()
        .expect("running tv-token");
    succeeded("tv-token", output)
}

/// Creating an event with `token`: the answer's status and error code, if any.
async fn create_event(base_url: &str, token: &str, key: &str) -> (StatusCode, String) {
    let api =
        Api::new(reqwest::Client::new(), base_url).with_authorization(&format!("Bearer {token}"));
    let (status, body) = api
        .try_create_event(Some(key), &fault_event(1).to_json())
        .await;
    let code = e2e::error_code(&body).unwrap_or_default().to_owned();
    (status, code)
}

#[tokio::test]
async fn a_service_holding_only_public_keys_accepts_its_issuers_tokens_and_no_hs256_token() {
    scenario(|env: TestEnv| async move {
        let keys = ScratchDir::new("token-keys");
        let ours = keys.path().join("ours");
        let kid = generate(&ours);
        let theirs = keys.path().join("theirs");
        generate(&theirs);
        let jwks = ours.join("jwks.json");
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("token-keys-{}.log", env.prefix));
        // The harness's default HS256 secret emptied (an empty variable counts as unset): the
        // service holds the public key set and nothing else.
        let svc = ServiceProcess::start_with(
            &e2e::nats_url(),
            &env.prefix,
            &log,
            &[
                ("TV_JWT_SECRET", ""),
                ("TV_JWT_PUBLIC_KEYS_FILE", jwks.to_str().unwrap()),
            ],
        )
        .await;

        let token = operator_token(&ours.join("private.pem"));
        let (status, _) = create_event(&svc.base_url, &token, "ours").await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "a token of the held key (kid {kid})"
        );

        // The shared secret the harness's services trust everywhere else: refused here.
        let hs256 = auth::testing::operator_token();
        assert_eq!(
            create_event(&svc.base_url, &hs256, "hs256").await,
            (StatusCode::UNAUTHORIZED, "unauthenticated".into())
        );
        // A key pair the service does not hold.
        let foreign = operator_token(&theirs.join("private.pem"));
        assert_eq!(
            create_event(&svc.base_url, &foreign, "foreign").await,
            (StatusCode::UNAUTHORIZED, "unauthenticated".into())
        );
        drop(svc);
    })
    .await;
}

/// Runs a service binary that must exit at startup; its exit status and standard error.
fn start_expecting_exit(mut command: Command) -> (std::process::ExitStatus, String) {
    let mut child = command
        .env("NATS_URL", e2e::nats_url())
        .env("TV_PREFIX", e2e::unique_prefix())
        .env("TV_PAYMENT_GATEWAY", "test")
        .env("TV_LOG_FORMAT", "text")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning the service");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the service") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the service kept running with a published secret");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status, stderr)
}

#[test]
fn a_service_given_compose_s_old_default_secret_refuses_to_start_naming_the_variable() {
    let mut command = binary(COMMAND_SVC.package, COMMAND_SVC.bin);
    command
        .env("TV_COMMAND_ADDR", "127.0.0.1:0")
        .env("TV_JWT_SECRET", OLD_COMPOSE_SECRET);
    let (status, stderr) = start_expecting_exit(command);
    assert!(!status.success(), "{status}");
    assert!(
        stderr.contains("TV_JWT_SECRET holds a published default"),
        "{stderr}"
    );
    assert!(!stderr.contains(OLD_COMPOSE_SECRET), "{stderr}");
}

#[test]
fn a_waiting_room_given_compose_s_old_admission_key_refuses_to_start_naming_the_variable() {
    let jwks = ScratchDir::new("token-keys-admission");
    let path = jwks.path().join("jwks.json");
    std::fs::write(&path, auth::testing::public_keys().to_json()).unwrap();
    let mut command = binary(WAITING_ROOM.package, WAITING_ROOM.bin);
    command
        .env("TV_WAITING_ROOM_ADDR", "127.0.0.1:0")
        .env("TV_JWT_PUBLIC_KEYS_FILE", &path)
        .env("TV_ADMISSION_SECRET", OLD_COMPOSE_ADMISSION);
    let (status, stderr) = start_expecting_exit(command);
    assert!(!status.success(), "{status}");
    assert!(
        stderr.contains("TV_ADMISSION_SECRET holds a published default"),
        "{stderr}"
    );
}
