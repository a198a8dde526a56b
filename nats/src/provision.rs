//! Creating the streams, idempotently, and refusing a server that is too old.

use crate::error::StoreError;
use crate::naming::Stream;
use crate::store::EventStore;
use async_nats::jetstream::stream::{Config, StorageType};
use std::time::Duration;

/// The oldest nats-server with atomic batch publish and message schedules.
pub const MIN_SERVER_VERSION: (u64, u64) = (2, 12);

/// How the streams are stored: replicas (1 on one machine, 3 in a cluster).
#[derive(Debug, Clone, Copy)]
pub struct StreamSettings {
    pub replicas: usize,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self { replicas: 1 }
    }
}

fn parse_version(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.trim_start_matches('v').split(['.', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

impl EventStore {
    /// Checks the server version, then creates (or updates) every stream. Safe to call at every
    /// start of every service.
    pub async fn provision(&self) -> Result<(), StoreError> {
        self.provision_with(StreamSettings::default()).await
    }

    pub async fn provision_with(&self, settings: StreamSettings) -> Result<(), StoreError> {
        let found = self.client().server_info().version;
        match parse_version(&found) {
            Some(version) if version >= MIN_SERVER_VERSION => {}
            _ => {
                return Err(StoreError::ServerTooOld {
                    found,
                    needed: format!("{}.{}", MIN_SERVER_VERSION.0, MIN_SERVER_VERSION.1),
                })
            }
        }
        for stream in Stream::ALL {
            let config = self.stream_config(stream, settings);
            self.jetstream()
                .create_or_update_stream(config)
                .await
                .map_err(|e| StoreError::other(&format!("provisioning {stream:?}"), e))?;
        }
        Ok(())
    }

    fn stream_config(&self, stream: Stream, settings: StreamSettings) -> Config {
        let naming = self.naming();
        let base = Config {
            name: naming.stream(stream),
            subjects: vec![naming.wildcard(stream)],
            storage: StorageType::File,
            num_replicas: settings.replicas,
            allow_direct: true,
            // Window of `Nats-Msg-Id` deduplication: covers client retries of one append.
            duplicate_window: Duration::from_secs(120),
            ..Config::default()
        };
        match stream {
            // Timers need purge and rollup: re-publishing a schedule replaces it.
            Stream::Timers => Config {
                description: Some("TicketView timers (message schedules)".into()),
                allow_message_schedules: true,
                allow_rollup: true,
                ..base
            },
            // The log of record: nothing is ever deleted or purged.
            _ => Config {
                description: Some(format!("TicketView {} events", stream.token())),
                deny_delete: true,
                deny_purge: true,
                allow_atomic_publish: true,
                ..base
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn versions_compare_by_major_and_minor() {
        assert_eq!(parse_version("2.15.1"), Some((2, 15)));
        assert_eq!(parse_version("v2.12.0-beta"), Some((2, 12)));
        assert!(parse_version("2.9.25").unwrap() < super::MIN_SERVER_VERSION);
        assert_eq!(parse_version("x"), None);
    }
}
