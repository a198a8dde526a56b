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
    /// The streams' wanted replication (`TV_STREAM_REPLICAS` unless set otherwise).
    stream_settings: StreamSettings,
    /// The last reading of the streams' replication, shared by every clone.
    pub(crate) replication_cache: Arc<tokio::sync::Mutex<Option<(Instant, Replication)>>>,
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
            // An unreadable value is reported by `provision`, which every service calls at start.
            stream_settings: StreamSettings::from_env().unwrap_or_default(),
            replication_cache: Arc::default(),
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
