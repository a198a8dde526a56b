//! Where a secret must never show up, read back for a test to search: every message of every
//! stream of a store's prefix (headers and payload, as text), and every log line and span the test
//! binary wrote at trace level (`captured_logs` installs the binary's only subscriber).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use tracing_subscriber::fmt::format::FmtSpan;
use tv_nats::{EventStore, Stream};

/// Every message of every stream of the store's prefix: (stream, sequence, subject, headers and
/// payload as text).
pub async fn every_message(store: &EventStore) -> Vec<(Stream, u64, String)> {
    let mut messages = Vec::new();
    for stream in Stream::ALL {
        let mut replay = store.replay(stream, 0).await.expect("the stream reads");
        while let Some(commit) = replay.next().await {
            let commit = commit.expect("a message");
            let headers = commit
                .headers
                .iter()
                .flat_map(|map| map.iter())
                .map(|(name, values)| format!("{name}: {values:?}"))
                .collect::<Vec<_>>()
                .join("\n");
            let text = format!(
                "{}\n{headers}\n{}",
                commit.subject,
                String::from_utf8_lossy(&commit.payload)
            );
            messages.push((stream, commit.sequence, text));
        }
    }
    messages
}

/// Everything the test binary logged since the first call, which installs the subscriber.
pub fn captured_logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter(
                "debug,command_svc=trace,tv_nats=trace,domain=trace,telemetry=trace,auth=trace,e2e=trace",
            )
            .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .try_init()
            .expect("the only subscriber of this test binary");
        logs
    })
}

/// What the test binary logged so far, as text.
pub fn logged() -> String {
    String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
