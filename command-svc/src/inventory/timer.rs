//! Keeps one timer per event at its earliest pending hold expiry.
//!
//! The writer publishes the time it wants into a watch channel and moves on; this task sets the
//! schedule (re-publishing on the same subject replaces it), always with the latest wish.

use domain::ids::EventId;
use domain::Timestamp;
use tokio::sync::watch;
use tv_nats::Timers;

pub(super) fn spawn(timers: Timers, event: EventId) -> watch::Sender<Option<Timestamp>> {
    let (wish, mut wishes) = watch::channel(None::<Timestamp>);
    tokio::spawn(async move {
        let key = event.to_string();
        let mut set: Option<Timestamp> = None;
        while wishes.changed().await.is_ok() {
            let wanted = *wishes.borrow_and_update();
            let Some(at) = wanted else { continue };
            if set == Some(at) {
                continue;
            }
            match timers.set(&key, at, key.clone().into()).await {
                Ok(_) => set = Some(at),
                // The next commit wishes again; a lazy expiry never depends on the timer anyway.
                Err(e) => tracing::warn!(%event, error = %e, "could not set the expiry timer"),
            }
        }
    });
    wish
}
