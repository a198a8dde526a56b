//! Routes each inventory command to its event's writer, spawning the writer on first use.

use super::error::CommandError;
use super::writer::{Job, Writer};
use domain::ids::EventId;
use domain::inventory::{Hold, InventoryCommand};
use domain::money::Money;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use tv_nats::{EventStore, Position, Snapshots, Timers};

/// What an accepted command came to: where its facts are stored, and the hold it concerns.
#[derive(Debug, Clone)]
pub struct Decided {
    pub position: Position,
    pub hold: Option<Hold>,
    /// The price of one ticket in the hold's section, as the inventory was opened with it: what an
    /// order placed for the hold costs per ticket.
    pub price: Option<Money>,
}

/// How writers batch, queue and snapshot.
#[derive(Debug, Clone)]
pub struct WriterSettings {
    pub max_batch: usize,
    pub queue_depth: usize,
    pub snapshot_every: u64,
}

/// What every writer of this instance shares.
pub(super) struct Shared {
    pub store: EventStore,
    pub snapshots: Snapshots,
    pub timers: Timers,
    pub settings: WriterSettings,
    writers: Mutex<HashMap<EventId, mpsc::Sender<Job>>>,
}

impl Shared {
    /// Drops a writer that stopped (its event does not exist).
    pub fn forget(&self, event: EventId) {
        let mut writers = self.writers.lock().expect("writers lock");
        if writers.get(&event).is_some_and(|tx| tx.is_closed()) {
            writers.remove(&event);
        }
    }
}

/// The inventories of every event this instance has written to.
#[derive(Clone)]
pub struct Inventories {
    shared: Arc<Shared>,
}

impl Inventories {
    pub async fn new(
        store: EventStore,
        settings: WriterSettings,
    ) -> Result<Self, tv_nats::StoreError> {
        let snapshots = Snapshots::open(&store).await?;
        let timers = Timers::new(store.clone());
        Ok(Self {
            shared: Arc::new(Shared {
                store,
                snapshots,
                timers,
                settings,
                writers: Mutex::new(HashMap::new()),
            }),
        })
    }

    fn writer(&self, event: EventId) -> mpsc::Sender<Job> {
        let mut writers = self.shared.writers.lock().expect("writers lock");
        if let Some(tx) = writers.get(&event) {
            if !tx.is_closed() {
                return tx.clone();
            }
        }
        let (tx, rx) = mpsc::channel(self.shared.settings.queue_depth);
        tokio::spawn(Writer::run(event, self.shared.clone(), rx));
        writers.insert(event, tx.clone());
        tx
    }

    /// Queues `command` for `event`'s writer and waits for its decision.
    pub async fn decide(
        &self,
        event: EventId,
        command: InventoryCommand,
        traceparent: Option<String>,
    ) -> Result<Decided, CommandError> {
        let (reply, answer) = oneshot::channel();
        let mut job = Job {
            command,
            traceparent,
            reply,
        };
        // A writer may have just stopped (its event did not exist): one fresh try.
        for _ in 0..2 {
            match self.writer(event).try_send(job) {
                Ok(()) => {
                    return answer.await.unwrap_or_else(|_| {
                        Err(CommandError::Unavailable("the writer stopped".into()))
                    })
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    metrics::counter!("tv_commands_refused_total", "reason" => "queue_full")
                        .increment(1);
                    return Err(CommandError::Overloaded);
                }
                Err(mpsc::error::TrySendError::Closed(returned)) => {
                    self.shared.forget(event);
                    job = returned;
                }
            }
        }
        Err(CommandError::Unavailable(
            "no writer could be started".into(),
        ))
    }
}
