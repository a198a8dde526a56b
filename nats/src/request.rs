//! Core NATS request-reply between instances of a service (no stream): one instance takes the
//! requests on a subject of its own, another asks and waits for the answer. NATS's errors stop
//! here: callers see whether anyone took the request.

use crate::error::StoreError;
use crate::store::EventStore;
use async_nats::RequestErrorKind;
use futures::StreamExt;
use std::time::Duration;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Nobody takes requests on the subject: it was certainly not handled.
    #[error("nobody takes requests on this subject")]
    NoResponders,
    /// No answer in time: it may have been handled.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    #[error("{0}")]
    Other(String),
}

/// The requests sent to one subject, as they arrive.
pub struct Requests {
    client: async_nats::Client,
    subscriber: async_nats::Subscriber,
}

/// One request, answered with [`Request::answer`].
pub struct Request {
    client: async_nats::Client,
    pub payload: Vec<u8>,
    reply: Option<async_nats::Subject>,
}

impl EventStore {
    /// Sends `payload` to whoever takes requests on `subject` and waits up to `timeout` for the
    /// answer.
    pub async fn request(
        &self,
        subject: String,
        payload: Vec<u8>,
        timeout: Duration,
    ) -> Result<Vec<u8>, RequestError> {
        let sent = self.client().request(subject, payload.into());
        match tokio::time::timeout(timeout, sent).await {
            Ok(Ok(message)) => Ok(message.payload.to_vec()),
            Ok(Err(e)) if e.kind() == RequestErrorKind::NoResponders => {
                Err(RequestError::NoResponders)
            }
            Ok(Err(e)) if e.kind() == RequestErrorKind::TimedOut => {
                Err(RequestError::TimedOut(timeout))
            }
            Ok(Err(e)) => Err(RequestError::Other(e.to_string())),
            Err(_) => Err(RequestError::TimedOut(timeout)),
        }
    }

    /// Takes the requests sent to `subject`.
    pub async fn take_requests(&self, subject: String) -> Result<Requests, StoreError> {
        let subscriber = self
            .client()
            .subscribe(subject)
            .await
            .map_err(|e| StoreError::Unavailable(format!("taking requests: {e}")))?;
        Ok(Requests {
            client: self.client().clone(),
            subscriber,
        })
    }
}

impl Requests {
    /// The next request; `None` once the connection is closed.
    pub async fn next(&mut self) -> Option<Request> {
        let message = self.subscriber.next().await?;
        Some(Request {
            client: self.client.clone(),
            payload: message.payload.to_vec(),
            reply: message.reply,
        })
    }
}

impl Request {
    /// Answers the request (a request sent without a reply subject expects none).
    pub async fn answer(self, payload: Vec<u8>) -> Result<(), StoreError> {
        let Some(reply) = self.reply else {
            return Ok(());
        };
        self.client
            .publish(reply, payload.into())
            .await
            .map_err(|e| StoreError::other("answering a request", e))
    }
}
