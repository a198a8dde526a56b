//! Connecting to NATS as a user: the credentials come from `TV_NATS_USER` and
//! `TV_NATS_PASSWORD_FILE` (a file, so the password is in no command line and no environment), or
//! from the URL's user info (`nats://user:password@host:4222`) for convenience. Without either,
//! the client connects anonymously, which only an open server accepts.
//!
//! An authenticated client takes its own inbox prefix, `_INBOX_<user>`: deploy/nats/auth.conf lets
//! each user subscribe to its own inbox only, so no user reads the replies another one is sent.
//! URLs are shown with the password masked ([`redact_url`]).
//!
//! `NATS_URL` may be a comma-separated seed list (`nats://n1:4222,nats://n2:4222,...`): the client
//! connects to any of them, learns the rest of a cluster from the server, and moves to another node
//! when its own goes away. While no seed answers at start, the client says so every few seconds and
//! keeps trying, for up to `TV_NATS_CONNECT_TIMEOUT_SECS` (a service started before its NATS cluster
//! comes up rides it out instead of exiting).

use crate::error::StoreError;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The NATS user a process connects as.
pub const USER_VAR: &str = "TV_NATS_USER";
/// A file holding that user's password (one line; surrounding white space is ignored).
pub const PASSWORD_FILE_VAR: &str = "TV_NATS_PASSWORD_FILE";
/// How long, in seconds, a process keeps trying to reach a first server of its seed list before it
/// gives up (default [`DEFAULT_CONNECT_TIMEOUT`]).
pub const CONNECT_TIMEOUT_VAR: &str = "TV_NATS_CONNECT_TIMEOUT_SECS";
/// Long enough for a NATS cluster started at the same time to elect its leaders; short enough that
/// a wrong URL ends in an error an operator sees, not in a silent wait.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(300);
/// How often the wait for a first connection is reported.
const WAITING_REPORT_EVERY: Duration = Duration::from_secs(5);
/// How often the client pings its server. A server that stopped answering without closing the
/// connection (a frozen process, a partition) is left after two unanswered pings, so the client
/// moves to another node of the cluster within about three intervals.
const PING_INTERVAL: Duration = Duration::from_secs(5);

/// A NATS user and its password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    pub fn new(user: &str, password: &str) -> Self {
        Self {
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    /// The credentials [`USER_VAR`] and [`PASSWORD_FILE_VAR`] name; `None` when neither is set.
    pub fn from_env() -> Result<Option<Self>, StoreError> {
        let var = |name| {
            std::env::var(name)
                .ok()
                .filter(|v: &String| !v.trim().is_empty())
        };
        Self::from_settings(var(USER_VAR), var(PASSWORD_FILE_VAR))
    }

    fn from_settings(
        user: Option<String>,
        password_file: Option<String>,
    ) -> Result<Option<Self>, StoreError> {
        match (user, password_file) {
            (None, None) => Ok(None),
            (Some(user), Some(file)) => {
                let password = std::fs::read_to_string(&file).map_err(|e| {
                    StoreError::Other(format!(
                        "{PASSWORD_FILE_VAR}={file}: cannot read the NATS password ({e}); \
                         ./scripts/platform writes one per user into .data/nats-secrets/"
                    ))
                })?;
                let password = password.trim();
                if password.is_empty() {
                    return Err(StoreError::Other(format!(
                        "{PASSWORD_FILE_VAR}={file} is empty: put the NATS user's password in it"
                    )));
                }
                Ok(Some(Self::new(user.trim(), password)))
            }
            (Some(_), None) => Err(StoreError::Other(format!(
                "{USER_VAR} is set without {PASSWORD_FILE_VAR}: set both, or neither"
            ))),
            (None, Some(_)) => Err(StoreError::Other(format!(
                "{PASSWORD_FILE_VAR} is set without {USER_VAR}: set both, or neither"
            ))),
        }
    }

    /// The inbox prefix this user may subscribe to (deploy/nats/auth.conf).
    pub fn inbox_prefix(&self) -> String {
        format!("_INBOX_{}", self.user)
    }
}

/// Splits the user info off every server of `url` (a comma-separated list): the URL to dial and
/// the credentials found in it (the first server's).
pub fn split_user_info(url: &str) -> (String, Option<Credentials>) {
    let mut found = None;
    let servers: Vec<String> = url
        .split(',')
        .map(|server| {
            let server = server.trim();
            let (scheme, rest) = match server.split_once("://") {
                Some((scheme, rest)) => (Some(scheme), rest),
                None => (None, server),
            };
            let Some((info, host)) = rest.rsplit_once('@') else {
                return server.to_owned();
            };
            let (user, password) = info.split_once(':').unwrap_or((info, ""));
            if found.is_none() && !user.is_empty() {
                found = Some(Credentials::new(
                    &percent_decode(user),
                    &percent_decode(password),
                ));
            }
            match scheme {
                Some(scheme) => format!("{scheme}://{host}"),
                None => host.to_owned(),
            }
        })
        .collect();
    (servers.join(","), found)
}

/// The servers of a seed list (`nats://n1:4222, nats://n2:4222`), without empty entries.
pub fn seed_list(url: &str) -> Vec<String> {
    url.split(',')
        .map(str::trim)
        .filter(|server| !server.is_empty())
        .map(str::to_owned)
        .collect()
}

/// [`CONNECT_TIMEOUT_VAR`]'s value, or the default.
fn connect_timeout() -> Result<Duration, StoreError> {
    match std::env::var(CONNECT_TIMEOUT_VAR) {
        Err(_) => Ok(DEFAULT_CONNECT_TIMEOUT),
        Ok(value) if value.trim().is_empty() => Ok(DEFAULT_CONNECT_TIMEOUT),
        Ok(value) => match value.trim().parse::<u64>() {
            Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
            _ => Err(StoreError::Other(format!(
                "{CONNECT_TIMEOUT_VAR}={value:?}: give the seconds to wait for NATS at start (e.g. 300)"
            ))),
        },
    }
}

/// `url` with every password masked, for messages and logs.
pub fn redact_url(url: &str) -> String {
    url.split(',')
        .map(|server| {
            let server = server.trim();
            let (head, rest) = match server.split_once("://") {
                Some((scheme, rest)) => (format!("{scheme}://"), rest),
                None => (String::new(), server),
            };
            match rest.rsplit_once('@') {
                Some((info, host)) => {
                    let user = info.split_once(':').map_or(info, |(user, _)| user);
                    format!("{head}{user}:***@{host}")
                }
                None => server.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Connects to any server of the seed list `url` as the user the URL or the environment names,
/// with TicketView's client settings, and waits for the first connection: while no seed answers it
/// logs so every few seconds and keeps trying, up to [`CONNECT_TIMEOUT_VAR`]. A refused user or
/// password is reported as such at once, not as an unreachable server.
pub async fn connect(url: &str) -> Result<async_nats::Client, StoreError> {
    let (address, in_url) = split_user_info(url);
    let seeds = seed_list(&address);
    if seeds.is_empty() {
        return Err(StoreError::Other(
            "NATS_URL is empty: give a server, or a comma-separated seed list of a cluster's \
             servers (nats://n1:4222,nats://n2:4222,nats://n3:4222)"
                .into(),
        ));
    }
    let patience = connect_timeout()?;
    let credentials = match in_url {
        Some(credentials) => Some(credentials),
        None => Credentials::from_env()?,
    };
    let shown = redact_url(url);
    let refused: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = refused.clone();
    let mut options = async_nats::ConnectOptions::new()
        .name("ticketview")
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .ping_interval(PING_INTERVAL)
        .request_timeout(Some(Duration::from_secs(10)))
        .client_capacity(65_536)
        .subscription_capacity(65_536)
        .event_callback(move |event| {
            let seen = seen.clone();
            async move {
                // A refused publish or subscribe (a permissions violation) or a refused login: the
                // client learns it only here, so it is logged for the operator.
                let refusal = match event {
                    async_nats::Event::ServerError(error) => error.to_string(),
                    async_nats::Event::ClientError(error)
                        if error.to_string().contains("authori")
                            || error.to_string().contains("authenticat") =>
                    {
                        error.to_string()
                    }
                    _ => return,
                };
                tracing::warn!(error = %refusal, "NATS refused a request");
                if let Ok(mut last) = seen.lock() {
                    *last = Some(refusal);
                }
            }
        });
    if let Some(credentials) = &credentials {
        options = options
            .user_and_password(credentials.user.clone(), credentials.password.clone())
            .custom_inbox_prefix(credentials.inbox_prefix());
    }
    let client = options
        .connect(seeds.as_slice())
        .await
        .map_err(|e| StoreError::Unavailable(format!("{shown}: {e}")))?;
    // `retry_on_initial_connect` returns before the first connection: wait for it, bounded, so
    // that a wrong URL or password is an error at start and not a hang.
    let started = tokio::time::Instant::now();
    let deadline = started + patience;
    let mut next_report = started + WAITING_REPORT_EVERY;
    while client.connection_state() != async_nats::connection::State::Connected {
        let now = tokio::time::Instant::now();
        if now >= next_report && now < deadline {
            next_report = now + WAITING_REPORT_EVERY;
            tracing::warn!(
                seeds = %shown,
                waited_secs = started.elapsed().as_secs(),
                gives_up_after_secs = patience.as_secs(),
                "no NATS server of the seed list answers yet; retrying"
            );
        }
        let refusal = refused.lock().ok().and_then(|last| last.clone());
        // A refused login is final: retrying with the same password cannot help.
        let login_refused = refusal
            .as_deref()
            .is_some_and(|error| error.contains("authori") || error.contains("authenticat"));
        if login_refused || tokio::time::Instant::now() > deadline {
            let who = credentials
                .as_ref()
                .map_or("no user".to_owned(), |c| format!("user {:?}", c.user));
            return Err(StoreError::Unavailable(match refusal {
                Some(error) => format!(
                    "{shown}: the server refused the connection as {who} ({error}); check \
                     {USER_VAR} and {PASSWORD_FILE_VAR} (or the URL's user:password)"
                ),
                None => format!(
                    "{shown}: no server of this seed list answered within {} s ({CONNECT_TIMEOUT_VAR}); \
                     is nats-server running there? (./scripts/platform starts one)",
                    patience.as_secs()
                ),
            }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_split_off_every_server() {
        let (url, credentials) =
            split_user_info("nats://command:s3cr%40t@nats:4222,nats://command:s3cr%40t@n2:4222");
        assert_eq!(url, "nats://nats:4222,nats://n2:4222");
        assert_eq!(credentials, Some(Credentials::new("command", "s3cr@t")));
        let (url, credentials) = split_user_info("nats://127.0.0.1:14222");
        assert_eq!(url, "nats://127.0.0.1:14222");
        assert_eq!(credentials, None);
    }

    #[test]
    fn a_seed_list_is_split_into_its_servers() {
        assert_eq!(
            seed_list(" nats://n1:4222, nats://n2:4222 ,,nats://n3:4222"),
            ["nats://n1:4222", "nats://n2:4222", "nats://n3:4222"]
        );
        assert!(seed_list(" , ").is_empty());
    }

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redact_url("nats://feed:hunter2@127.0.0.1:4222"),
            "nats://feed:***@127.0.0.1:4222"
        );
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert!(!format!("{:?}", Credentials::new("a", "hunter2")).contains("hunter2"));
    }

    #[test]
    fn the_password_comes_from_a_file_and_both_settings_go_together() {
        let dir = std::env::temp_dir().join(format!("tv-nats-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("projector");
        std::fs::write(&file, "pa55word\n").unwrap();
        let path = file.to_string_lossy().into_owned();
        let credentials = Credentials::from_settings(Some("projector".into()), Some(path.clone()))
            .unwrap()
            .unwrap();
        assert_eq!(credentials, Credentials::new("projector", "pa55word"));
        assert_eq!(credentials.inbox_prefix(), "_INBOX_projector");
        assert!(Credentials::from_settings(None, None).unwrap().is_none());
        let alone = Credentials::from_settings(Some("projector".into()), None).unwrap_err();
        assert!(alone.to_string().contains(PASSWORD_FILE_VAR), "{alone}");
        let missing = Credentials::from_settings(Some("x".into()), Some(format!("{path}.missing")))
            .unwrap_err();
        assert!(missing.to_string().contains("cannot read"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
