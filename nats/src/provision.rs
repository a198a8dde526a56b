//! Creating the streams, idempotently, and refusing a server that is too old. A stream already
//! set as wanted is left alone, so a service whose NATS user may only read starts on streams
//! the admin user provisioned.
//!
//! Only tv-provision changes an existing stream's replica count. A service creates a missing stream
//! with the count `TV_STREAM_REPLICAS` names but never moves an existing one: a service started
//! with the wrong value must not quietly take a cluster's streams down to one replica (or ask a
//! single server for three). It logs the difference, and its `/readyz` reports a stream with fewer
//! replicas than asked.

use crate::error::StoreError;
use crate::naming::Stream;
use crate::store::EventStore;
use async_nats::jetstream::stream::{Config, StorageType};
use std::time::Duration;

/// The oldest nats-server with message schedules.
pub const MIN_SERVER_VERSION: (u64, u64) = (2, 12);

/// Environment variable with the number of replicas of every stream (1 on one server, 3 in a
/// cluster). tv-provision sets the streams to it; the services create missing streams with it and
/// report, on `/readyz`, streams that have fewer.
pub const REPLICAS_VAR: &str = "TV_STREAM_REPLICAS";

/// How the streams are stored: replicas (1 on one machine, 3 in a cluster).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    pub replicas: usize,
    /// Whether an existing stream with another replica count is moved to `replicas` (tv-provision,
    /// the operator's tool) or left as it is (the services).
    pub rescale: bool,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            replicas: 1,
            rescale: false,
        }
    }
}

impl StreamSettings {
    /// The settings named by [`REPLICAS_VAR`] (1 when it is not set).
    pub fn from_env() -> Result<Self, StoreError> {
        Self::parse(std::env::var(REPLICAS_VAR).ok().as_deref())
    }

    fn parse(replicas: Option<&str>) -> Result<Self, StoreError> {
        match replicas.map(str::trim) {
            None | Some("") => Ok(Self::default()),
            Some(value) => match value.parse::<usize>() {
                // JetStream allows 1 to 5 replicas; an even count buys nothing over the odd below.
                Ok(replicas @ 1..=5) => Ok(Self {
                    replicas,
                    ..Self::default()
                }),
                _ => Err(StoreError::Other(format!(
                    "{REPLICAS_VAR}={value:?}: set it to 1 on one server, 3 (or 5) in a cluster"
                ))),
            },
        }
    }
}

/// The settings TicketView chooses are the same (the server fills in the others).
fn same_settings(found: &Config, wanted: &Config) -> bool {
    found.subjects == wanted.subjects
        && found.storage == wanted.storage
        && found.num_replicas == wanted.num_replicas
        && found.allow_direct == wanted.allow_direct
        && found.duplicate_window == wanted.duplicate_window
        && found.description == wanted.description
        && found.deny_delete == wanted.deny_delete
        && found.deny_purge == wanted.deny_purge
        && found.allow_atomic_publish == wanted.allow_atomic_publish
        && found.allow_message_schedules == wanted.allow_message_schedules
        && found.allow_rollup == wanted.allow_rollup
}

fn parse_version(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.trim_start_matches('v').split(['.', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

impl EventStore {
    /// Checks the server version, then creates every missing stream with the store's replica count
    /// ([`REPLICAS_VAR`] unless set otherwise) and brings the other settings of existing ones up to
    /// date, keeping their replica count. Safe to call at every start of every service.
    pub async fn provision(&self) -> Result<(), StoreError> {
        // Refuses an unreadable value, which the store itself replaced with the default.
        StreamSettings::from_env()?;
        self.provision_with(self.stream_settings()).await
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
            let mut config = self.stream_config(stream, settings);
            let found = self.found_config(&config.name).await;
            if let Some(found) = &found {
                if found.num_replicas != config.num_replicas && !settings.rescale {
                    tracing::warn!(
                        stream = %config.name,
                        replicas = found.num_replicas,
                        wanted = config.num_replicas,
                        "the stream's replica count differs from {REPLICAS_VAR}; left as it is \
                         (tv-provision changes it)"
                    );
                    config.num_replicas = found.num_replicas;
                }
            }
            // Only a stream that is missing or set differently is written: a service's NATS user
            // may read the streams but not create or change them (deploy/nats/auth.conf).
            if found.is_some_and(|found| same_settings(&found, &config)) {
                continue;
            }
            self.jetstream()
                .create_or_update_stream(config)
                .await
                .map_err(|e| {
                    StoreError::Other(format!(
                        "provisioning the stream {}: {e}. Only the admin NATS user may create or \
                         update streams: provision them once with it (tv-provision, which \
                         ./scripts/platform runs), then start the services",
                        self.naming().stream(stream)
                    ))
                })?;
        }
        Ok(())
    }

    /// The configuration of the stream `name`, when it exists.
    async fn found_config(&self, name: &str) -> Option<Config> {
        match self.jetstream().get_stream(name).await {
            Ok(stream) => Some(stream.cached_info().config.clone()),
            Err(_) => None,
        }
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
            // Dead letters are handled by an operator, who may delete or purge them after.
            Stream::DeadLetter => Config {
                description: Some("TicketView notices not delivered (dead letters)".into()),
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
    use super::{parse_version, StreamSettings};

    #[test]
    fn versions_compare_by_major_and_minor() {
        assert_eq!(parse_version("2.15.1"), Some((2, 15)));
        assert_eq!(parse_version("v2.12.0-beta"), Some((2, 12)));
        assert!(parse_version("2.9.25").unwrap() < super::MIN_SERVER_VERSION);
        assert_eq!(parse_version("x"), None);
    }

    #[test]
    fn replicas_come_from_the_environment_value_or_default_to_one() {
        assert_eq!(StreamSettings::parse(None).unwrap().replicas, 1);
        assert_eq!(StreamSettings::parse(Some("")).unwrap().replicas, 1);
        assert_eq!(StreamSettings::parse(Some("3")).unwrap().replicas, 3);
        for wrong in ["0", "6", "three", "-1"] {
            let error = StreamSettings::parse(Some(wrong)).unwrap_err().to_string();
            assert!(error.contains("TV_STREAM_REPLICAS"), "{error}");
        }
    }
}
