//! The poll flood: for a fixed time, `concurrency` loops send `GET …/queue/me` as customers who
//! joined (their tokens signed beforehand), then, as long, `GET /healthz` of the same waiting room:
//! the cheapest answer the service has, measured in the same run on the same machine, so the
//! ratio of the two says what a status poll costs whatever else the machine is doing.

use super::room_api::RoomApi;
use crate::report::Latency;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Serialize)]
pub struct FloodReport {
    pub seconds: f64,
    pub concurrency: usize,
    pub polls: Rate,
    pub healthz: Rate,
    /// Polls per second over `/healthz` answers per second.
    pub ratio: f64,
}

#[derive(Debug, Serialize)]
pub struct Rate {
    pub answered: u64,
    pub failed: u64,
    pub per_second: f64,
    pub latency: Latency,
}

/// What one flood loop asks.
#[derive(Clone, Copy)]
enum Ask {
    Poll,
    Healthz,
}

pub async fn run(
    room: &RoomApi,
    event_id: &str,
    tokens: Vec<String>,
    concurrency: usize,
    seconds: f64,
) -> FloodReport {
    let tokens = Arc::new(tokens);
    let polls = flood(room, event_id, &tokens, concurrency, seconds, Ask::Poll).await;
    let healthz = flood(room, event_id, &tokens, concurrency, seconds, Ask::Healthz).await;
    FloodReport {
        seconds,
        concurrency,
        ratio: polls.per_second / healthz.per_second.max(1.0),
        polls,
        healthz,
    }
}

async fn flood(
    room: &RoomApi,
    event_id: &str,
    tokens: &Arc<Vec<String>>,
    concurrency: usize,
    seconds: f64,
    ask: Ask,
) -> Rate {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let loops: Vec<_> = (0..concurrency)
        .map(|n| {
            let (room, event_id, tokens) = (room.clone(), event_id.to_owned(), tokens.clone());
            tokio::spawn(async move {
                let mut latency =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
                let (mut answered, mut failed) = (0u64, 0u64);
                let mut i = n;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let ok = match ask {
                        Ask::Poll => {
                            let token = &tokens[i % tokens.len()];
                            i += concurrency;
                            matches!(room.me(&event_id, token).await, Ok(a) if a.status == 200)
                        }
                        Ask::Healthz => matches!(room.healthz().await, Ok(200)),
                    };
                    latency.saturating_record(sent.elapsed().as_micros() as u64);
                    if ok {
                        answered += 1;
                    } else {
                        failed += 1;
                    }
                }
                (answered, failed, latency)
            })
        })
        .collect();
    let mut total = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
    let (mut answered, mut failed) = (0, 0);
    for task in loops {
        if let Ok((a, f, latency)) = task.await {
            answered += a;
            failed += f;
            total.add(&latency).expect("same bounds");
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    Rate {
        answered,
        failed,
        per_second: answered as f64 / elapsed,
        latency: Latency::from(&total),
    }
}
