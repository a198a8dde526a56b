//! Projection lag as a buyer sees it: how long after a hold's `201` the read side shows it.
//!
//! Every 50 ms the probe takes the newest acknowledged position and asks query-svc for the event's
//! availability `?after=` it; the time from the acknowledgement to the answer is one sample.
//! Query-svc answers as soon as its projection has passed the position (bounded wait, else 503).

use crate::api::Api;
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The newest acknowledged position and when its answer arrived.
#[derive(Default)]
pub struct Latest(Mutex<Option<(u64, Instant)>>);

impl Latest {
    pub fn record(&self, sequence: u64, at: Instant) {
        let mut latest = self.0.lock().expect("latest lock");
        if latest.is_none_or(|(s, _)| sequence > s) {
            *latest = Some((sequence, at));
        }
    }

    fn take(&self) -> Option<(u64, Instant)> {
        self.0.lock().expect("latest lock").take()
    }
}

pub struct LagSamples {
    pub micros: Histogram<u64>,
    pub not_caught_up: u64,
    pub failures: u64,
}

pub async fn probe(
    api: Api,
    event_id: String,
    stream: String,
    latest: Arc<Latest>,
    stop: Arc<AtomicBool>,
) -> LagSamples {
    let mut samples = LagSamples {
        micros: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"),
        not_caught_up: 0,
        failures: 0,
    };
    let path = format!("/events/{event_id}/availability");
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let Some((sequence, acked_at)) = latest.take() else {
            continue;
        };
        let after = format!("{stream}:{sequence}");
        let answer = api.query(&path, None, Some(&after)).await;
        match answer {
            Ok(a) if a.status == 200 => {
                samples
                    .micros
                    .saturating_record(acked_at.elapsed().as_micros() as u64);
            }
            Ok(a) if a.status == 503 => samples.not_caught_up += 1,
            _ => samples.failures += 1,
        }
    }
    samples
}
