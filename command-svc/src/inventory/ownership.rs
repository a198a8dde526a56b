//! Which events this instance owns: one lease per event in the lease bucket (`tv_nats::Leases`),
//! so that one instance at a time runs an event's writer and the others forward its commands
//! there (`forward.rs`) instead of racing it on the stream.
//!
//! A lease is claimed when a command arrives for an event nobody owns, renewed every third of
//! `LEASE_TTL` while the event's writer runs, released when the writer retires (idle), and given
//! up when a renewal fails: the writer is then told to retire, serves what it had queued and stops.
//! A dead owner's leases expire after `LEASE_TTL`, and the next command claims them. Ownership only
//! spares conflicts: two writers that both believe they own an event (a renewal lost in a
//! partition) are still kept apart by the append's expected-sequence check.

use domain::ids::EventId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tv_nats::{Claim, Leases, StoreError, LEASE_TTL};

/// How long another instance's ownership, once read, is trusted without reading it again. A stale
/// owner answers that it no longer owns the event, and the command is routed again.
const KNOWN_OWNER_FOR: Duration = Duration::from_secs(1);

/// Where a command for an event is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    /// This instance holds the event's lease.
    Here,
    /// Another instance does: its id.
    There(String),
}

/// A lease this instance holds.
struct Held {
    revision: u64,
    renewed: Instant,
    /// Set to `true` when the lease is lost: the event's writer retires.
    lost: watch::Sender<bool>,
}

pub(super) struct Ownership {
    leases: Leases,
    /// This instance's id: the value of its leases, and the last token of its forward subject.
    instance: String,
    held: Mutex<HashMap<EventId, Held>>,
    known: Mutex<HashMap<EventId, (String, Instant)>>,
    /// Off: every event is decided here, without a lease (tests of the expected-sequence check).
    enabled: bool,
    /// The loss signal of writers without a lease: never sent.
    never_lost: watch::Sender<bool>,
}

impl Ownership {
    pub fn new(leases: Leases, instance: String, enabled: bool) -> Self {
        Self {
            leases,
            instance,
            held: Mutex::new(HashMap::new()),
            known: Mutex::new(HashMap::new()),
            enabled,
            never_lost: watch::channel(false).0,
        }
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Where `event`'s commands go: here if this instance holds its lease or can claim it,
    /// else to the owner.
    pub async fn route(&self, event: EventId) -> Result<Route, StoreError> {
        if !self.enabled || self.holds(event) {
            return Ok(Route::Here);
        }
        if let Some((owner, read)) = self.known.lock().expect("owners lock").get(&event) {
            if read.elapsed() < KNOWN_OWNER_FOR {
                return Ok(Route::There(owner.clone()));
            }
        }
        match self
            .leases
            .claim(&event.to_string(), &self.instance)
            .await?
        {
            Claim::Ours { revision } => {
                let mut held = self.held.lock().expect("leases lock");
                held.entry(event).or_insert_with(|| {
                    metrics::counter!("tv_leases_claimed_total").increment(1);
                    Held {
                        revision,
                        renewed: Instant::now(),
                        lost: watch::channel(false).0,
                    }
                });
                self.known.lock().expect("owners lock").remove(&event);
                Ok(Route::Here)
            }
            Claim::Theirs { owner } => {
                self.known
                    .lock()
                    .expect("owners lock")
                    .insert(event, (owner.clone(), Instant::now()));
                Ok(Route::There(owner))
            }
        }
    }

    pub fn holds(&self, event: EventId) -> bool {
        self.held.lock().expect("leases lock").contains_key(&event)
    }

    /// What tells `event`'s writer that the lease is lost; `None` if this instance does not hold it.
    pub fn lost_signal(&self, event: EventId) -> Option<watch::Receiver<bool>> {
        if !self.enabled {
            return Some(self.never_lost.subscribe());
        }
        let held = self.held.lock().expect("leases lock");
        held.get(&event).map(|h| h.lost.subscribe())
    }

    /// The owner read for `event` did not answer: read the lease again next time.
    pub fn forget_owner(&self, event: EventId) {
        self.known.lock().expect("owners lock").remove(&event);
    }

    /// Stops holding `event` (its writer retired): the lease and its revision, to release.
    pub fn drop_lease(&self, event: EventId) -> Option<u64> {
        let mut held = self.held.lock().expect("leases lock");
        held.remove(&event).map(|h| h.revision)
    }

    /// Every event held, with its lease's revision and last renewal.
    pub fn held(&self) -> Vec<(EventId, u64, Instant)> {
        let held = self.held.lock().expect("leases lock");
        held.iter()
            .map(|(event, h)| (*event, h.revision, h.renewed))
            .collect()
    }

    /// Renews one lease; on loss (or when it can no longer be shown to be ours), gives it up and
    /// tells the writer.
    pub async fn renew(&self, event: EventId, revision: u64, renewed: Instant) {
        let outcome = self
            .leases
            .renew(&event.to_string(), &self.instance, revision)
            .await;
        let mut held = self.held.lock().expect("leases lock");
        let Some(entry) = held.get_mut(&event) else {
            return;
        };
        match outcome {
            Ok(Some(revision)) => {
                entry.revision = revision;
                entry.renewed = Instant::now();
            }
            // Not renewed for most of its life: another instance may claim it any moment.
            Err(e) if renewed.elapsed() < LEASE_TTL * 2 / 3 => {
                tracing::warn!(%event, error = %e, "cannot renew the event's lease; trying again");
            }
            _ => {
                tracing::warn!(%event, "lost the event's lease; its writer retires");
                metrics::counter!("tv_leases_lost_total").increment(1);
                let gone = held.remove(&event).expect("held above");
                let _ = gone.lost.send(true);
            }
        }
    }

    /// Gives a lease back so that the next claim need not wait for it to expire.
    pub async fn release(&self, event: EventId, revision: u64) {
        if let Err(e) = self.leases.release(&event.to_string(), revision).await {
            tracing::debug!(%event, error = %e, "cannot release the event's lease; it expires");
        }
    }
}
