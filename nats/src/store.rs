//! The connection to JetStream and the names it works under.

use crate::append::AppendOptions;
use crate::error::StoreError;
use crate::naming::{Naming, Stream};
use crate::provision::StreamSettings;
use crate::replication::Replication;
use std::sync::Arc;
use std::time::Instant;

/// A handle to the event store: cheap to clone, shared by every task of a service.
#[derive(Clone)]
pub struct EventStore {
    client: async_nats::Client,
    jetstream: async_nats::jetstream::Context,
    naming: Naming,
    pub(crate) append_options: AppendOptions,
    pub(crate) upcaster: Option<Upcaster>,
    /// The streams' wanted replication (`TV_STREAM_REPLICAS` unless set otherwise).
    stream_settings: StreamSettings,
    /// The last reading of the streams' replication, shared by every clone.
    pub(crate) replication_cache: Arc<tokio::sync::Mutex<Option<(Instant, Replication)>>>,
}

/// How an aggregate's loads bring stored facts up to date: the schema this build writes, and the
/// domain's upcaster (`domain::schema`). See [`EventStore::with_upcaster`].
#[derive(Clone, Copy)]
pub struct Upcaster {
    pub written: u16,
    pub upcast: fn(&str, u16, &mut serde_json::Value) -> Result<(), String>,
}

impl EventStore {
    /// Connects to NATS at `url` as the user the URL or the environment names (see
    /// [`crate::connect()`]). The client reconnects by itself if the server restarts.
    pub async fn connect(url: &str, naming: Naming) -> Result<Self, StoreError> {
        let client = crate::connect::connect(url).await?;
        Ok(Self::from_client(client, naming))
    }

    pub fn from_client(client: async_nats::Client, naming: Naming) -> Self {
        let jetstream = async_nats::jetstream::new(client.clone());
        Self {
            client,
            jetstream,
            naming,
            append_options: AppendOptions::default(),
            upcaster: None,
            // An unreadable value is reported by `provision`, which every service calls at start.
            stream_settings: StreamSettings::from_env().unwrap_or_default(),
            replication_cache: Arc::default(),
        }
    }

    /// The same store, loading aggregates through `upcaster`: older facts are brought up to date,
    /// and a fact this build cannot read (a type or schema from a newer build) fails the load
    /// instead of being skipped, so a writer never decides on a state it does not know.
    pub fn with_upcaster(mut self, upcaster: Upcaster) -> Self {
        self.upcaster = Some(upcaster);
        self
    }

    /// Decodes one of an aggregate's commits for a load (see [`EventStore::with_upcaster`]).
    pub(crate) fn decode_whole<E: serde::de::DeserializeOwned>(
        &self,
        raw: &crate::RawCommit,
    ) -> Result<crate::StoredCommit<E>, StoreError> {
        let Some(upcaster) = self.upcaster else {
            return raw.decode();
        };
        let decoded = raw.decode_tolerant(upcaster.written, upcaster.upcast)?;
        match decoded.skipped.first() {
            None => Ok(decoded.commit),
            Some(fact) => Err(StoreError::Decode {
                subject: raw.subject.clone(),
                sequence: raw.sequence,
                reason: format!(
                    "{} (schema {}) cannot be read by this build: {}",
                    fact.kind, fact.schema, fact.reason
                ),
            }),
        }
    }

    /// The same store wanting another replication of its streams.
    pub fn with_stream_settings(mut self, settings: StreamSettings) -> Self {
        self.stream_settings = settings;
        self.replication_cache = Arc::default();
        self
    }

    /// The streams' wanted replication.
    pub fn stream_settings(&self) -> StreamSettings {
        self.stream_settings
    }

    /// The same store with other append settings (timeouts, retries).
    pub fn with_append_options(mut self, options: AppendOptions) -> Self {
        self.append_options = options;
        self
    }

    pub fn naming(&self) -> &Naming {
        &self.naming
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn jetstream(&self) -> &async_nats::jetstream::Context {
        &self.jetstream
    }

    /// The largest message the server accepts (its `max_payload`, 1 MB unless configured); 0
    /// before the first connection.
    pub fn max_payload(&self) -> usize {
        self.client.server_info().max_payload
    }

    /// True while the client holds a connection to the server.
    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// The last sequence of a stream (0 when empty).
    pub async fn last_sequence(&self, stream: Stream) -> Result<u64, StoreError> {
        let mut handle = self
            .jetstream
            .get_stream(self.naming.stream(stream))
            .await
            .map_err(|e| StoreError::other("reading stream info", e))?;
        let info = handle
            .info()
            .await
            .map_err(|e| StoreError::other("reading stream info", e))?;
        Ok(info.state.last_sequence)
    }
}
