//! Routes each inventory command to its event's writer, spawning the writer on first use.
//!
//! A writer left idle retires (`writer.rs`): it closes its queue, serves what was queued before,
//! saves a snapshot and leaves. A command that finds the queue closed starts a fresh writer, which
//! first waits for the retiring one to end, then restores from that snapshot: at most one writer
//! per event decides at a time in this instance, and no command is lost or answered twice.

use super::error::CommandError;
use super::writer::{Job, Writer};
use domain::ids::EventId;
use domain::inventory::{Hold, InventoryCommand, WaitlistPlace};
use domain::money::Money;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tv_nats::{EventStore, Position, Snapshots, Timers};

/// What an accepted command came to: where its facts are stored, and the hold it concerns.
#[derive(Debug, Clone)]
pub struct Decided {
    pub position: Position,
    pub hold: Option<Hold>,
    /// The price of one ticket in the hold's section, as the inventory was opened with it: what an
    /// order placed for the hold costs per ticket.
    pub price: Option<Money>,
    /// The waiting-list entry a `JoinWaitlist` or `LeaveWaitlist` names: for a customer who
    /// already waits, the entry they have.
    pub waitlist: Option<WaitlistPlace>,
}

/// How writers batch, queue, snapshot and retire.
#[derive(Debug, Clone)]
pub struct WriterSettings {
    pub max_batch: usize,
    pub queue_depth: usize,
    pub snapshot_every: u64,
    /// A writer with nothing to do for this long saves a snapshot and stops.
    pub idle: Duration,
    /// The most bytes of one commit's facts; 0 for the server's `max_payload` (less headroom),
    /// which also bounds any other value.
    pub max_commit_bytes: usize,
}

/// A writer as the registry knows it: its queue, and its task (which a successor awaits).
struct Entry {
    queue: mpsc::Sender<Job>,
    task: Option<JoinHandle<()>>,
}

/// What every writer of this instance shares.
pub(super) struct Shared {
    pub store: EventStore,
    pub snapshots: Snapshots,
    pub timers: Timers,
    pub settings: WriterSettings,
    /// The most bytes of facts in one commit (see `writer.rs`), from the server's `max_payload`
    /// read at startup.
    pub commit_budget: usize,
    writers: Mutex<HashMap<EventId, Entry>>,
}

impl Shared {
    /// Drops a writer that stopped (its event does not exist, or it retired), unless a successor
    /// has taken its place already.
    pub fn forget(&self, event: EventId) {
        let mut writers = self.writers.lock().expect("writers lock");
        if writers.get(&event).is_some_and(|e| e.queue.is_closed()) {
            writers.remove(&event);
        }
    }
}

/// Room kept under the server's `max_payload` for the commit's headers (the store allows 4 KiB)
/// and its envelope: a sixteenth, at least 8 KiB.
pub(super) fn commit_budget(max_payload: usize, max_commit_bytes: usize) -> usize {
    // 0 before the first connection: the server's default, 1 MB.
    let server = match max_payload {
        0 => 1 << 20,
        n => n,
    };
    let limit = match max_commit_bytes {
        0 => server,
        n => n.min(server),
    };
    limit.saturating_sub((limit / 16).max(8 * 1024)).max(1)
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
        let commit_budget = commit_budget(store.max_payload(), settings.max_commit_bytes);
        tracing::info!(
            max_payload = store.max_payload(),
            commit_budget,
            "a commit carries at most this many bytes of facts"
        );
        Ok(Self {
            shared: Arc::new(Shared {
                store,
                snapshots,
                timers,
                settings,
                commit_budget,
                writers: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// How many writers this instance runs (retired ones are not counted).
    pub fn writers(&self) -> usize {
        let writers = self.shared.writers.lock().expect("writers lock");
        writers.values().filter(|e| !e.queue.is_closed()).count()
    }

    fn writer(&self, event: EventId) -> mpsc::Sender<Job> {
        let mut writers = self.shared.writers.lock().expect("writers lock");
        if let Some(entry) = writers.get(&event) {
            if !entry.queue.is_closed() {
                return entry.queue.clone();
            }
        }
        // A writer that is retiring (or stopped) hands over: its successor waits for it to end.
        let previous = writers.remove(&event).and_then(|e| e.task);
        let (tx, rx) = mpsc::channel(self.shared.settings.queue_depth);
        let task = tokio::spawn(Writer::run(event, self.shared.clone(), rx, previous));
        writers.insert(
            event,
            Entry {
                queue: tx.clone(),
                task: Some(task),
            },
        );
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
        // A writer may have just stopped (it retired, or its event did not exist): one fresh try,
        // with a successor.
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
                Err(mpsc::error::TrySendError::Closed(returned)) => job = returned,
            }
        }
        Err(CommandError::Unavailable(
            "no writer could be started".into(),
        ))
    }
}
