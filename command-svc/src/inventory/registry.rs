//! Routes each inventory command to its event's writer: here, spawning the writer on first use,
//! when this instance holds the event's lease (`ownership.rs`); else to the instance that does
//! (`forward.rs`).
//!
//! A writer left idle retires (`writer.rs`): it closes its queue, serves what was queued before,
//! saves a snapshot and leaves. A command that finds the queue closed starts a fresh writer, which
//! first waits for the retiring one to end, then restores from that snapshot: at most one writer
//! per event decides at a time in this instance, and no command is lost or answered twice.

use super::error::CommandError;
use super::forward::{self, Sent};
use super::ownership::{Ownership, Route};
use super::writer::{Job, Writer};
use domain::ids::{EventId, OrderId, TicketTypeId};
use domain::inventory::{Block, Hold, InventoryCommand, WaitlistPlace};
use domain::money::Money;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tv_nats::{EventStore, Leases, Position, Snapshots, Timers, LEASE_TTL};

/// How many times a command is routed before the caller is told to retry: enough, with the
/// pauses below, to outlast a dead owner's lease.
const MAX_ROUTES: u32 = 8;
/// The pause before routing a command again, doubled each time up to `MAX_ROUTE_PAUSE`.
const FIRST_ROUTE_PAUSE: Duration = Duration::from_millis(100);
const MAX_ROUTE_PAUSE: Duration = Duration::from_secs(1);

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
    /// For `CancelSale`: the orders the cancellation still has to settle (see
    /// `EventInventory::orders_to_settle`), in the state after it.
    pub orders: Vec<OrderId>,
    /// The block a `BlockSeats` or `ReleaseBlock` names, as it stands after the command.
    pub block: Option<Block>,
    /// The ticket type of the hold's tickets (`price` is its price).
    pub type_id: Option<TicketTypeId>,
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
    /// Events are owned through leases, one instance at a time; without, every instance writes
    /// every event it is sent (tests of the expected-sequence check).
    pub ownership: bool,
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
    /// The leases of the events this instance owns.
    ownership: Ownership,
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
    /// Opens the snapshot and lease buckets, takes the commands forwarded to this instance, and
    /// keeps its leases renewed, for as long as the returned value (or a clone) lives.
    pub async fn new(
        store: EventStore,
        settings: WriterSettings,
    ) -> Result<Self, tv_nats::StoreError> {
        let snapshots = Snapshots::open(&store).await?;
        let leases = Leases::open(&store).await?;
        let timers = Timers::new(store.clone());
        let commit_budget = commit_budget(store.max_payload(), settings.max_commit_bytes);
        tracing::info!(
            max_payload = store.max_payload(),
            commit_budget,
            "a commit carries at most this many bytes of facts"
        );
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let settings_ownership = settings.ownership;
        let requests = store
            .take_requests(store.naming().forward_subject(&instance))
            .await?;
        tracing::info!(%instance, "this instance's id in the lease bucket");
        let shared = Arc::new(Shared {
            store,
            snapshots,
            timers,
            settings,
            commit_budget,
            writers: Mutex::new(HashMap::new()),
            ownership: Ownership::new(leases, instance, settings_ownership),
        });
        tokio::spawn(forward::serve(requests, Arc::downgrade(&shared)));
        tokio::spawn(keep_leases(Arc::downgrade(&shared)));
        Ok(Self { shared })
    }

    pub(super) fn from_shared(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// This instance's id, as its leases name it.
    pub fn instance(&self) -> &str {
        self.shared.ownership.instance()
    }

    /// Whether this instance holds `event`'s lease (and so runs its writer).
    pub fn owns(&self, event: EventId) -> bool {
        self.shared.ownership.holds(event)
    }

    /// How many writers this instance runs (retired ones are not counted).
    pub fn writers(&self) -> usize {
        let writers = self.shared.writers.lock().expect("writers lock");
        writers.values().filter(|e| !e.queue.is_closed()).count()
    }

    /// The queue of `event`'s writer, spawned if needed; `None` if this instance does not hold the
    /// event's lease (it was lost or released since the command was routed).
    fn writer(&self, event: EventId) -> Option<mpsc::Sender<Job>> {
        let mut writers = self.shared.writers.lock().expect("writers lock");
        if let Some(entry) = writers.get(&event) {
            if !entry.queue.is_closed() {
                return Some(entry.queue.clone());
            }
        }
        let lost = self.shared.ownership.lost_signal(event)?;
        // A writer that is retiring (or stopped) hands over: its successor waits for it to end.
        let previous = writers.remove(&event).and_then(|e| e.task);
        let (tx, rx) = mpsc::channel(self.shared.settings.queue_depth);
        let task = tokio::spawn(Writer::run(event, self.shared.clone(), rx, previous, lost));
        writers.insert(
            event,
            Entry {
                queue: tx.clone(),
                task: Some(task),
            },
        );
        Some(tx)
    }

    /// Decides `command` for `event`: here if this instance owns the event (or can claim it),
    /// else at its owner.
    pub async fn decide(
        &self,
        event: EventId,
        command: InventoryCommand,
        traceparent: Option<String>,
    ) -> Result<Decided, CommandError> {
        let mut command = command;
        let mut pause = FIRST_ROUTE_PAUSE;
        for attempt in 0..MAX_ROUTES {
            if attempt > 0 {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_ROUTE_PAUSE);
            }
            let route = self
                .shared
                .ownership
                .route(event)
                .await
                .map_err(|e| CommandError::Unavailable(e.to_string()))?;
            match route {
                Route::Here => match self.decide_here(event, command, traceparent.clone()).await {
                    Ok(answer) => return answer,
                    Err(returned) => command = returned,
                },
                Route::There(owner) => {
                    let store = &self.shared.store;
                    let subject = store.naming().forward_subject(&owner);
                    match forward::send(store, subject, event, &command, traceparent.as_deref())
                        .await
                    {
                        Sent::Answered(answer) => return answer,
                        Sent::Unrouted => self.shared.ownership.forget_owner(event),
                    }
                }
            }
        }
        Err(CommandError::Unavailable(format!(
            "the event's owner did not answer within {} s; retry",
            LEASE_TTL.as_secs()
        )))
    }

    /// A command another instance forwarded: decided here if this instance owns the event (or
    /// can claim it); `None` if another instance does.
    pub(super) async fn decide_as_owner(
        &self,
        event: EventId,
        command: InventoryCommand,
        traceparent: Option<String>,
    ) -> Option<Result<Decided, CommandError>> {
        match self.shared.ownership.route(event).await {
            Ok(Route::Here) => self.decide_here(event, command, traceparent).await.ok(),
            Ok(Route::There(_)) => None,
            Err(e) => Some(Err(CommandError::Unavailable(e.to_string()))),
        }
    }

    /// Queues `command` for `event`'s writer here and waits for its decision; the command back if
    /// this instance no longer holds the event's lease.
    async fn decide_here(
        &self,
        event: EventId,
        command: InventoryCommand,
        traceparent: Option<String>,
    ) -> Result<Result<Decided, CommandError>, InventoryCommand> {
        let (reply, answer) = oneshot::channel();
        let mut job = Job {
            command,
            traceparent,
            reply,
        };
        // A writer may have just stopped (it retired, or its event did not exist): one fresh try,
        // with a successor.
        for _ in 0..2 {
            let Some(queue) = self.writer(event) else {
                return Err(job.command);
            };
            match queue.try_send(job) {
                Ok(()) => {
                    return Ok(answer.await.unwrap_or_else(|_| {
                        Err(CommandError::Unavailable("the writer stopped".into()))
                    }))
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    metrics::counter!("tv_commands_refused_total", "reason" => "queue_full")
                        .increment(1);
                    return Ok(Err(CommandError::Overloaded));
                }
                Err(mpsc::error::TrySendError::Closed(returned)) => job = returned,
            }
        }
        Ok(Err(CommandError::Unavailable(
            "no writer could be started".into(),
        )))
    }

    /// Gives back every lease this instance holds (at shutdown, after the last request), so that
    /// other instances take its events at once rather than after the leases expire.
    pub async fn release_leases(&self) {
        let held = self.shared.ownership.held();
        for (event, _, _) in &held {
            if let Some(revision) = self.shared.ownership.drop_lease(*event) {
                self.shared.ownership.release(*event, revision).await;
            }
        }
    }
}

/// Renews the leases of events whose writer runs, every third of `LEASE_TTL`, and releases those
/// whose writer has stopped; until the registry is gone.
async fn keep_leases(shared: Weak<Shared>) {
    let mut tick = tokio::time::interval(LEASE_TTL / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let mut renew = Vec::new();
        let mut release = Vec::new();
        {
            // Under the writers' lock, so that no writer is spawned for a lease being released.
            let writers = shared.writers.lock().expect("writers lock");
            for (event, revision, renewed) in shared.ownership.held() {
                if writers.contains_key(&event) {
                    renew.push((event, revision, renewed));
                } else if let Some(revision) = shared.ownership.drop_lease(event) {
                    release.push((event, revision));
                }
            }
        }
        let ownership = &shared.ownership;
        let renewals = renew
            .into_iter()
            .map(|(event, revision, renewed)| ownership.renew(event, revision, renewed));
        let releases = release
            .into_iter()
            .map(|(event, revision)| ownership.release(event, revision));
        futures::future::join(
            futures::future::join_all(renewals),
            futures::future::join_all(releases),
        )
        .await;
    }
}
