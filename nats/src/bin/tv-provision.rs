//! `tv-provision`: creates (or brings up to date) the JetStream streams, the snapshot bucket and
//! the lease bucket under a prefix, then exits. Run it as the admin NATS user before the services
//! start: their users may read the streams but not create them (deploy/nats/auth.conf). Idempotent.
//!
//!     NATS_URL=nats://127.0.0.1:14222 TV_PREFIX=tv \
//!     TV_NATS_USER=admin TV_NATS_PASSWORD_FILE=.data/nats-secrets/admin tv-provision
//!
//! Settings (environment only): `NATS_URL` (default nats://127.0.0.1:14222), `TV_PREFIX`
//! (default tv), `TV_NATS_USER` and `TV_NATS_PASSWORD_FILE` (or the URL's user info), and
//! `TV_STREAM_REPLICAS` (default 1): existing streams are moved to that replica count (the services
//! never change it).

use std::process::ExitCode;
use tv_nats::{redact_url, EventStore, Leases, Naming, Snapshots, StreamSettings};

const HELP: &str =
    "tv-provision: creates TicketView's JetStream streams, snapshot and lease buckets.

Run it as the admin NATS user; it is idempotent. Settings, from the environment:
  NATS_URL               the server (default nats://127.0.0.1:14222) [env: NATS_URL=]
  TV_PREFIX              the stream prefix (default tv) [env: TV_PREFIX=]
  TV_NATS_USER           the NATS user (admin) [env: TV_NATS_USER=]
  TV_NATS_PASSWORD_FILE  a file holding its password [env: TV_NATS_PASSWORD_FILE=]
  TV_STREAM_REPLICAS     replicas of every stream, existing ones moved to it (default 1)
                         [env: TV_STREAM_REPLICAS=]
";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    if let Some(other) = std::env::args().nth(1) {
        eprintln!("tv-provision: unexpected argument {other:?}; it takes none (see --help)");
        return ExitCode::from(2);
    }
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:14222".into());
    let prefix = std::env::var("TV_PREFIX").unwrap_or_else(|_| "tv".into());
    match provision(&url, &prefix).await {
        Ok(()) => {
            println!(
                "tv-provision: streams, snapshot and lease buckets of prefix {prefix:?} ready on {}",
                redact_url(&url)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tv-provision: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn provision(url: &str, prefix: &str) -> Result<(), tv_nats::StoreError> {
    let naming = Naming::new(prefix);
    let settings = StreamSettings {
        rescale: true,
        ..StreamSettings::from_env()?
    };
    let store = EventStore::connect(url, naming)
        .await?
        .with_stream_settings(settings);
    store.provision_with(settings).await?;
    Snapshots::open(&store).await?;
    Leases::open(&store).await?;
    Ok(())
}
