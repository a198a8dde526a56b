//! `--watchers N`: N buyers' pages watching the event's live availability during the sale.
//!
//! Each watcher opens `GET /events/{id}/availability/stream` on query-svc before the sale starts
//! and reads its Server-Sent Events until the sale ends. A frame's `id` is the inventory position
//! its numbers are exact as of; its delay is the time from the acknowledgement of the newest hold
//! it covers (the `201` the buyer got, just after the commit was stored) to the frame's arrival.
//! Reported: messages per second, delay p50/p99, frames out of order (an id lower than the one
//! before) and streams that broke or were refused.

use crate::report::Latency;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every acknowledged hold's position and when its answer arrived.
#[derive(Default)]
pub struct Acks(Mutex<BTreeMap<u64, Instant>>);

impl Acks {
    pub fn record(&self, sequence: u64, at: Instant) {
        self.0
            .lock()
            .expect("acks lock")
            .entry(sequence)
            .or_insert(at);
    }

    /// The acknowledgement of the newest hold at or before `sequence` and after `after`.
    fn newest_covered(&self, after: u64, sequence: u64) -> Option<Instant> {
        if sequence <= after {
            return None;
        }
        let acks = self.0.lock().expect("acks lock");
        acks.range(after + 1..=sequence)
            .next_back()
            .map(|(_, at)| *at)
    }
}

#[derive(Debug, Serialize)]
pub struct WatchersReport {
    pub watchers: usize,
    /// Streams open when the sale started.
    pub opened: usize,
    /// Streams refused (`503 too_many_streams`) or that failed to open.
    pub refused: u64,
    /// Streams that ended or failed before the sale did.
    pub broken: u64,
    pub messages: u64,
    pub messages_per_second: f64,
    /// From a hold's acknowledgement to the first frame that covers it, per stream.
    pub delay: Latency,
    pub delay_samples: u64,
    /// Frames whose id was lower than the one before on the same stream.
    pub out_of_order: u64,
}

/// What one stream saw.
struct Seen {
    messages: u64,
    delays: Histogram<u64>,
    out_of_order: u64,
    broken: bool,
}

/// Opens `count` streams (waiting until each answered), then reads them until `stop`.
pub async fn start(
    query_url: &str,
    event_id: &str,
    count: usize,
    acks: Arc<Acks>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<Watching> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let url = format!("{query_url}/events/{event_id}/availability/stream");
    let mut tasks = Vec::with_capacity(count);
    let mut refused = 0;
    for _ in 0..count {
        match client.get(&url).send().await {
            Ok(response) if response.status() == 200 => {
                tasks.push(tokio::spawn(read(response, acks.clone(), stop.clone())));
            }
            _ => refused += 1,
        }
    }
    Ok(Watching {
        count,
        refused,
        tasks,
        started: Instant::now(),
    })
}

pub struct Watching {
    count: usize,
    refused: u64,
    tasks: Vec<tokio::task::JoinHandle<Seen>>,
    started: Instant,
}

impl Watching {
    /// Waits for every stream to stop reading (`stop` was set) and sums what they saw.
    pub async fn finish(self) -> anyhow::Result<WatchersReport> {
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut delays = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
        let (mut messages, mut out_of_order, mut broken) = (0, 0, 0);
        let opened = self.tasks.len();
        for task in self.tasks {
            let seen = task.await?;
            messages += seen.messages;
            out_of_order += seen.out_of_order;
            broken += u64::from(seen.broken);
            delays.add(&seen.delays)?;
        }
        Ok(WatchersReport {
            watchers: self.count,
            opened,
            refused: self.refused,
            broken,
            messages,
            messages_per_second: messages as f64 / elapsed.max(1e-9),
            delay: Latency::from(&delays),
            delay_samples: delays.len(),
            out_of_order,
        })
    }
}

async fn read(mut response: reqwest::Response, acks: Arc<Acks>, stop: Arc<AtomicBool>) -> Seen {
    let mut seen = Seen {
        messages: 0,
        delays: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"),
        out_of_order: 0,
        broken: false,
    };
    let mut buffer = String::new();
    let mut last_id = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let chunk = match tokio::time::timeout(Duration::from_millis(200), response.chunk()).await {
            Err(_) => continue,
            Ok(Ok(Some(chunk))) => chunk,
            Ok(_) => {
                seen.broken = !stop.load(Ordering::Relaxed);
                break;
            }
        };
        let arrived = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let message: String = buffer.drain(..end + 2).collect();
            let id = message
                .lines()
                .find_map(|l| l.strip_prefix("id:"))
                .and_then(|v| v.trim().rsplit(':').next()?.parse::<u64>().ok());
            let Some(id) = id else { continue }; // a heartbeat
            seen.messages += 1;
            if id < last_id {
                seen.out_of_order += 1;
                continue;
            }
            if let Some(acked) = acks.newest_covered(last_id, id) {
                let delay = arrived.saturating_duration_since(acked);
                seen.delays.saturating_record(delay.as_micros() as u64);
            }
            last_id = id;
        }
    }
    seen
}
