//! A private nats-server with TicketView's users and permissions: deploy/nats/auth.conf as it is,
//! its `$TV_NATS_<USER>_PASSWORD` variables given in the server's environment (as compose does),
//! one random password per user. For tests of who may do what on the streams.

use crate::process::{
    free_port, log_tail, nats_server_binary, wait_for_port, workspace_root, ChildProcess,
    ScratchDir,
};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The users deploy/nats/auth.conf defines (`waiting-room` for `$TV_NATS_WAITING_ROOM_PASSWORD`),
/// each with the name of its password variable.
pub fn users_of(auth_conf: &str) -> BTreeMap<String, String> {
    let mut users = BTreeMap::new();
    for (at, _) in auth_conf.match_indices("$TV_NATS_") {
        let rest = &auth_conf[at + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
            .unwrap_or(rest.len());
        let var = &rest[..end];
        if let Some(user) = var
            .strip_prefix("TV_NATS_")
            .and_then(|v| v.strip_suffix("_PASSWORD"))
        {
            users.insert(user.to_ascii_lowercase().replace('_', "-"), var.to_owned());
        }
    }
    users
}

/// The server, stopped when dropped.
pub struct SecuredNats {
    pub port: u16,
    passwords: BTreeMap<String, String>,
    dir: ScratchDir,
    process: Option<ChildProcess>,
}

impl SecuredNats {
    /// Starts the server; `None` when the pinned binary is not installed (`./scripts/test`
    /// installs it).
    pub async fn start() -> Option<Self> {
        let binary = nats_server_binary()?;
        let dir = ScratchDir::new("nats-auth");
        let auth = std::fs::read_to_string(workspace_root().join("deploy/nats/auth.conf"))
            .expect("reading deploy/nats/auth.conf");
        std::fs::write(dir.path().join("auth.conf"), &auth).expect("copying auth.conf");
        let port = free_port();
        let store = dir.path().join("jetstream");
        std::fs::write(
            dir.path().join("nats.conf"),
            format!(
                "listen: 127.0.0.1:{port}\nserver_name: tv-auth-test\n\
                 jetstream {{ store_dir: {store:?} }}\ninclude \"auth.conf\"\n"
            ),
        )
        .expect("writing nats.conf");

        let mut command = Command::new(binary);
        command.arg("-c").arg(dir.path().join("nats.conf"));
        let mut passwords = BTreeMap::new();
        for (user, var) in users_of(&auth) {
            let password = uuid::Uuid::new_v4().simple().to_string();
            command.env(var, &password);
            passwords.insert(user, password);
        }
        let log = dir.path().join("nats.log");
        let mut process = ChildProcess::spawn("nats-server", command, &log);
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        if !wait_for_port(addr, Duration::from_secs(15)).await {
            let running = process.is_running();
            panic!(
                "the nats-server with users did not listen on {addr} within 15 s (running: \
                 {running}); its log:\n{}",
                process.log_tail(30)
            );
        }
        Some(Self {
            port,
            passwords,
            dir,
            process: Some(process),
        })
    }

    /// The URL without a user.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The URL with `user`'s name and password in its user info.
    pub fn url_as(&self, user: &str) -> String {
        format!(
            "nats://{user}:{}@127.0.0.1:{}",
            self.password(user),
            self.port
        )
    }

    pub fn password(&self, user: &str) -> &str {
        self.passwords
            .get(user)
            .unwrap_or_else(|| panic!("deploy/nats/auth.conf has no user {user}"))
    }

    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.passwords.keys().map(String::as_str)
    }

    /// A client of `user` that records what the server refuses it (permissions violations).
    pub async fn client_as(&self, user: &str) -> WatchedClient {
        let refusals: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = refusals.clone();
        let client = async_nats::ConnectOptions::new()
            .user_and_password(user.to_owned(), self.password(user).to_owned())
            .custom_inbox_prefix(format!("_INBOX_{user}"))
            .event_callback(move |event| {
                let seen = seen.clone();
                async move {
                    if let async_nats::Event::ServerError(error) = event {
                        seen.lock().unwrap().push(error.to_string());
                    }
                }
            })
            .connect(self.url())
            .await
            .unwrap_or_else(|e| panic!("connecting as {user}: {e}"));
        WatchedClient { client, refusals }
    }

    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.dir.path().join("nats.log"), lines)
    }
}

impl Drop for SecuredNats {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }
}

/// A client and the refusals the server sent it.
pub struct WatchedClient {
    pub client: async_nats::Client,
    refusals: Arc<Mutex<Vec<String>>>,
}

impl WatchedClient {
    /// Publishes `payload` on `subject` as a JetStream append would (a request for the PubAck):
    /// the stream sequence it was stored at, or `None` when there was no PubAck within 2 s.
    pub async fn append(&self, subject: &str, payload: &'static str) -> Option<u64> {
        self.request(subject, payload)
            .await
            .and_then(|reply| serde_json::from_slice::<serde_json::Value>(&reply).ok())
            .and_then(|ack| ack["seq"].as_u64())
    }

    /// A request with a 2 s timeout: the reply's payload, `None` without one.
    pub async fn request(&self, subject: &str, payload: &'static str) -> Option<Vec<u8>> {
        let request = async_nats::Request::new()
            .payload(payload.into())
            .timeout(Some(Duration::from_secs(2)));
        self.client
            .send_request(subject.to_owned(), request)
            .await
            .ok()
            .map(|reply| reply.payload.to_vec())
    }

    /// Waits (up to 2 s) until the server has refused something on `subject`, and says so.
    pub async fn was_refused(&self, subject: &str) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        loop {
            let refused =
                self.refusals.lock().unwrap().iter().any(|e| {
                    e.to_lowercase().contains("permissions violation") && e.contains(subject)
                });
            if refused || tokio::time::Instant::now() > deadline {
                return refused;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
