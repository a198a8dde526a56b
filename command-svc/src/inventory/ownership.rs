//! Which events this instance owns: one lease per event in the lease bucket (`tv_nats::Leases`),
//! so that one instance at a time runs an event's writer and the others forward its commands
//! there (`forward.rs`) instead of racing it on the stream.
//!
//! A lease is claimed when a command arrives for an event nobody owns, renewed every third of
//! `LEASE_TTL` while the event's writer runs, released when the writer retires (idle), and given
//! up only when another instance holds it: the writer is then told to retire, serves what it had
//! queued and stops. A lease that could not be renewed (the bucket electing a leader) is kept, or
//! claimed again once it expired, so that a failover of the bucket does not reload the event.
//! A dead owner's leases expire after `LEASE_TTL`, and the next command claims them. Ownership only
//! spares conflicts: two writers that both believe they own an event (a renewal lost in a
//! partition) are still kept apart by the append's expected-sequence check.

use domain::ids::EventId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tv_nats::{Claim, Leases, StoreError};

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

    /// Renews one lease. A lease that expired while the bucket could not be written (its stream
    /// electing a leader, say) is claimed again when nobody else took it, and the writer goes on
    /// with what it has decided: the append's expected-sequence check tells it if anything was
    /// written meanwhile. Only another owner's lease makes this instance give the event up and tell
    /// the writer. A renewal that gets no answer keeps the lease: while the bucket answers nobody,
    /// nobody can claim it; and should another instance claim it meanwhile, the two writers are
    /// kept apart by the expected-sequence check until the next renewal here finds the new owner.
    pub async fn renew(&self, event: EventId, revision: u64, renewed: Instant) {
        let key = event.to_string();
        let outcome = match self.leases.renew(&key, &self.instance, revision).await {
            Ok(Some(revision)) => Ok(Some(revision)),
            Ok(None) => match self.leases.claim(&key, &self.instance).await {
                Ok(Claim::Ours { revision }) => {
                    tracing::info!(%event, "the event's lease had expired unrenewed; claimed it again");
                    metrics::counter!("tv_leases_reclaimed_total").increment(1);
                    Ok(Some(revision))
                }
                Ok(Claim::Theirs { .. }) => Ok(None),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let mut held = self.held.lock().expect("leases lock");
        let Some(entry) = held.get_mut(&event) else {
            return;
        };
        match outcome {
            Ok(Some(revision)) => {
                entry.revision = revision;
                entry.renewed = Instant::now();
            }
            Err(e) => {
                tracing::warn!(
                    %event,
                    error = %e,
                    unrenewed_ms = renewed.elapsed().as_millis() as u64,
                    "cannot renew the event's lease; keeping it and trying again"
                );
            }
            Ok(None) => {
                tracing::warn!(%event, "another instance owns the event's lease; its writer retires");
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

#[cfg(test)]
mod tests {
    //! Against the project's NATS server (`NATS_URL`), each test under a prefix of its own.
    use super::*;
    use tv_nats::{EventStore, Naming, LEASE_TTL};

    async fn leases() -> (EventStore, Leases) {
        let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:14222".into());
        let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
        let store = EventStore::connect(&url, Naming::new(&prefix[..12]))
            .await
            .expect("NATS_URL must point at nats-server 2.12+ (./scripts/test starts one)");
        let leases = Leases::open(&store).await.expect("lease bucket");
        (store, leases)
    }

    async fn cleanup(store: &EventStore) {
        let bucket = store.naming().lease_bucket();
        let _ = store.jetstream().delete_key_value(bucket).await;
    }

    /// Instance "a" owning a new event: its ownership, the event, the writer's loss signal, and
    /// the lease's revision and last renewal.
    async fn owner_of_an_event(
        leases: &Leases,
    ) -> (Ownership, EventId, watch::Receiver<bool>, u64, Instant) {
        let ownership = Ownership::new(leases.clone(), "a".into(), true);
        let event = EventId::new_random();
        assert_eq!(ownership.route(event).await.unwrap(), Route::Here);
        let lost = ownership.lost_signal(event).expect("held");
        let (_, revision, renewed) = ownership.held()[0];
        (ownership, event, lost, revision, renewed)
    }

    /// Waits until the server has removed the unrenewed lease (its `max_age`).
    async fn outlive_the_lease() {
        tokio::time::sleep(LEASE_TTL + Duration::from_millis(1500)).await;
    }

    #[tokio::test]
    async fn a_lease_that_expired_unrenewed_is_claimed_again_and_the_writer_goes_on() {
        let (store, leases) = leases().await;
        let (ownership, event, lost, revision, renewed) = owner_of_an_event(&leases).await;

        outlive_the_lease().await;
        assert_eq!(leases.owner(&event.to_string()).await.unwrap(), None);
        ownership.renew(event, revision, renewed).await;

        assert!(ownership.holds(event), "the lease is kept");
        assert!(!*lost.borrow(), "the writer is not told to retire");
        assert_eq!(
            leases.owner(&event.to_string()).await.unwrap().as_deref(),
            Some("a")
        );
        let (_, again, _) = ownership.held()[0];
        assert!(again > revision, "renewed at the new claim's revision");
        cleanup(&store).await;
    }

    #[tokio::test]
    async fn a_lease_another_instance_took_meanwhile_retires_the_writer() {
        let (store, leases) = leases().await;
        let (ownership, event, lost, revision, renewed) = owner_of_an_event(&leases).await;

        outlive_the_lease().await;
        let taken = leases.claim(&event.to_string(), "b").await.unwrap();
        assert!(
            matches!(taken, Claim::Ours { .. }),
            "b claims it: {taken:?}"
        );
        ownership.renew(event, revision, renewed).await;

        assert!(!ownership.holds(event));
        assert!(*lost.borrow(), "the writer is told to retire");
        cleanup(&store).await;
    }
}
