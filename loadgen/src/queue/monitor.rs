//! Watches the waiting room's public counters (`GET /events/{id}/queue`) every 100 ms while the
//! sale runs: the most live admissions (`active`) and the longest line it ever showed.

use super::room_api::RoomApi;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Default, Clone, Serialize)]
pub struct CountersSeen {
    pub samples: u64,
    pub failures: u64,
    pub max_active: u64,
    pub max_waiting: u64,
    pub last_admitted_total: u64,
}

pub async fn watch(room: RoomApi, event_id: String, stop: Arc<AtomicBool>) -> CountersSeen {
    let mut seen = CountersSeen::default();
    while !stop.load(Ordering::Relaxed) {
        match room.counters(&event_id).await {
            Ok(a) if a.status == 200 => {
                seen.samples += 1;
                let count = |name: &str| a.body[name].as_u64().unwrap_or(0);
                seen.max_active = seen.max_active.max(count("active"));
                seen.max_waiting = seen.max_waiting.max(count("waiting"));
                seen.last_admitted_total = count("admitted_total");
            }
            _ => seen.failures += 1,
        }
        tokio::time::sleep(EVERY).await;
    }
    seen
}
