//! `tv-fuzz-audit`: after `scripts/fuzz`, checks that nothing was appended for a rejected request
//! and that no answer was a 5xx.
//!
//! Reads the answers `scripts/lib/fuzz_hooks.py` recorded (one JSON line per request) and every
//! commit of the fuzzed prefix's streams, then checks:
//!
//! - no answer had a 5xx status;
//! - every commit of every audited stream is paid for by an accepted (2xx) command: per stream,
//!   the commits are at most the 2xx answers to command-svc's POST requests. Commits of only
//!   `HoldExpired` facts are free: a writer records due expiries in the commit of whatever it
//!   decides next (docs/DECISIONS.md).
//!
//! With `--delete` it deletes the prefix's streams, snapshot and lease buckets afterwards (pass or fail).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tv_nats::{redact_url, EventStore, Naming, Stream};

/// The streams whose commits a request pays for. Timers and the waiting rooms' queue are deleted
/// but not audited: the writers and admitters append facts of their own there.
const AUDITED: [Stream; 4] = [
    Stream::Catalog,
    Stream::Inventory,
    Stream::Orders,
    Stream::Payments,
];

#[derive(Debug, Parser)]
#[command(
    name = "tv-fuzz-audit",
    about = "After scripts/fuzz: no 5xx answer, and no commit that an accepted request did not pay for"
)]
struct Cli {
    /// The NATS server of the fuzzed services (user and password: TV_NATS_USER and
    /// TV_NATS_PASSWORD_FILE, or user:password in the URL).
    #[arg(long, env = "NATS_URL", hide_env_values = true)]
    nats: String,
    /// The fuzzed services' stream prefix.
    #[arg(long)]
    prefix: String,
    /// The answers recorded by the fuzz hooks (JSON lines).
    #[arg(long)]
    record: PathBuf,
    /// Delete the prefix's streams, snapshot and lease buckets afterwards, pass or fail.
    #[arg(long)]
    delete: bool,
    /// Commits appended by the script's own setup, not by a fuzzed request (CONTEXT=N).
    #[arg(long, value_parser = parse_seeded)]
    seeded: Vec<(String, u64)>,
}

fn parse_seeded(item: &str) -> Result<(String, u64), String> {
    let (context, count) = item
        .split_once('=')
        .ok_or_else(|| format!("{item:?} is not CONTEXT=N"))?;
    let count = count
        .parse()
        .map_err(|_| format!("{count:?} in {item:?} is not a count"))?;
    Ok((context.to_ascii_uppercase(), count))
}

/// One recorded answer.
#[derive(Debug, serde::Deserialize)]
struct Answer {
    operation: String,
    status: u16,
    #[serde(default = "command_svc")]
    service: String,
}

fn command_svc() -> String {
    "command-svc".into()
}

/// What the answers add up to.
#[derive(Debug, Default)]
struct Answers {
    by_operation: BTreeMap<(String, u16), u64>,
    server_errors: Vec<String>,
    accepted_posts: u64,
}

impl Answers {
    fn read(path: &PathBuf) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("no answers were recorded in {}", path.display()))?;
        let mut answers = Answers::default();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let answer: Answer = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not an answer", path.display(), n + 1))?;
            if answer.status >= 500 {
                answers.server_errors.push(line.to_owned());
            }
            // Only command-svc appends to the audited streams.
            if answer.service == "command-svc"
                && answer.operation.starts_with("POST ")
                && (200..300).contains(&answer.status)
            {
                answers.accepted_posts += 1;
            }
            *answers
                .by_operation
                .entry((answer.operation, answer.status))
                .or_default() += 1;
        }
        Ok(answers)
    }

    fn total(&self) -> u64 {
        self.by_operation.values().sum()
    }

    fn by_class(&self) -> BTreeMap<u16, u64> {
        let mut classes = BTreeMap::new();
        for ((_, status), count) in &self.by_operation {
            *classes.entry(status / 100).or_default() += count;
        }
        classes
    }
}

/// A stream's commits: those a request paid for, and those of only due expiries.
#[derive(Debug, Default)]
struct Commits {
    paid: u64,
    free: u64,
}

/// The fact types of one commit's payload (`{"events": [{"type": …}, …]}`).
#[derive(serde::Deserialize)]
struct CommitKinds {
    #[serde(default)]
    events: Vec<Kind>,
}

#[derive(serde::Deserialize)]
struct Kind {
    #[serde(rename = "type", default)]
    kind: String,
}

fn is_expiry_only(payload: &[u8]) -> bool {
    match serde_json::from_slice::<CommitKinds>(payload) {
        Ok(commit) => {
            !commit.events.is_empty() && commit.events.iter().all(|e| e.kind == "HoldExpired")
        }
        Err(_) => false,
    }
}

async fn count_commits(store: &EventStore, stream: Stream) -> anyhow::Result<Commits> {
    let mut commits = Commits::default();
    let name = store.naming().stream(stream);
    if store.jetstream().get_stream(&name).await.is_err() {
        return Ok(commits);
    }
    let mut replay = store
        .replay(stream, 0)
        .await
        .with_context(|| format!("reading {name}"))?;
    while let Some(commit) = replay.next().await {
        let commit = commit.with_context(|| format!("reading {name}"))?;
        if is_expiry_only(&commit.payload) {
            commits.free += 1;
        } else {
            commits.paid += 1;
        }
    }
    Ok(commits)
}

async fn audit(cli: &Cli, store: &EventStore, answers: &Answers) -> anyhow::Result<Vec<String>> {
    let mut failures = Vec::new();
    if let Some(first) = answers.server_errors.first() {
        failures.push(format!(
            "{} answers were 5xx, e.g. {first}",
            answers.server_errors.len()
        ));
    }
    let seeded: BTreeMap<&str, u64> = cli.seeded.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    let mut summary = Vec::new();
    for stream in AUDITED {
        let name = store.naming().stream(stream);
        let commits = count_commits(store, stream).await?;
        let context = stream.token().to_ascii_uppercase();
        let setup = seeded.get(context.as_str()).copied().unwrap_or(0);
        if commits.paid < setup {
            failures.push(format!(
                "{name} holds {} commits, fewer than the {setup} of the setup",
                commits.paid
            ));
        }
        let paid = commits.paid.saturating_sub(setup);
        let mut line = format!("{name}: {paid} commits");
        if setup > 0 {
            line.push_str(&format!(" (+{setup} of the setup)"));
        }
        if commits.free > 0 {
            line.push_str(&format!(" (+{} expiry-only)", commits.free));
        }
        summary.push(line);
        if paid > answers.accepted_posts {
            failures.push(format!(
                "{name} holds {paid} commits but only {} POST requests were accepted: a rejected \
                 request appended something",
                answers.accepted_posts
            ));
        }
    }
    let classes: Vec<String> = answers
        .by_class()
        .iter()
        .map(|(class, count)| format!("{count} {class}xx"))
        .collect();
    println!(
        "fuzz audit: {} answers ({}), {} accepted POSTs; {}",
        answers.total(),
        classes.join(", "),
        answers.accepted_posts,
        summary.join("; ")
    );
    for ((operation, status), count) in &answers.by_operation {
        println!("    {operation:45} {status}  x{count}");
    }
    Ok(failures)
}

async fn delete_all(store: &EventStore) {
    let js = store.jetstream();
    let mut names: Vec<String> = Stream::ALL
        .iter()
        .map(|s| store.naming().stream(*s))
        .collect();
    names.push(format!("OBJ_{}", store.naming().snapshot_bucket()));
    names.push(format!("KV_{}", store.naming().lease_bucket()));
    for name in names {
        if js.get_stream(&name).await.is_ok() {
            if let Err(e) = js.delete_stream(&name).await {
                // Best effort: a leftover costs disk, not correctness.
                eprintln!("fuzz audit: could not delete {name}: {e}");
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let answers = match Answers::read(&cli.record) {
        Ok(answers) => answers,
        Err(e) => {
            eprintln!("fuzz audit: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let store = match EventStore::connect(&cli.nats, Naming::new(&cli.prefix)).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!(
                "fuzz audit: cannot reach NATS at {}: {e}; is the server running, and are \
                 TV_NATS_USER and TV_NATS_PASSWORD_FILE set?",
                redact_url(&cli.nats)
            );
            return ExitCode::FAILURE;
        }
    };
    let outcome = audit(&cli, &store, &answers).await;
    if cli.delete {
        delete_all(&store).await;
    }
    match outcome {
        Ok(failures) if failures.is_empty() => ExitCode::SUCCESS,
        Ok(failures) => {
            for failure in failures {
                eprintln!("fuzz audit: FAILED: {failure}");
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("fuzz audit: FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_of_only_expiries_is_free() {
        assert!(is_expiry_only(
            br#"{"events":[{"type":"HoldExpired"},{"type":"HoldExpired"}]}"#
        ));
        assert!(!is_expiry_only(
            br#"{"events":[{"type":"HoldExpired"},{"type":"SeatsHeld"}]}"#
        ));
        assert!(!is_expiry_only(br#"{"events":[]}"#));
        assert!(!is_expiry_only(b"not json"));
    }

    #[test]
    fn seeded_counts_name_a_context() {
        assert_eq!(parse_seeded("catalog=3"), Ok(("CATALOG".into(), 3)));
        assert!(parse_seeded("catalog").is_err());
        assert!(parse_seeded("catalog=x").is_err());
    }

    #[test]
    fn accepted_posts_are_command_svc_2xx_posts() {
        let dir = std::env::temp_dir().join(format!("tv-fuzz-audit-{}", std::process::id()));
        std::fs::write(
            &dir,
            concat!(
                r#"{"operation":"POST /events","status":201}"#,
                "\n",
                r#"{"operation":"POST /events/{id}/holds","status":409}"#,
                "\n",
                r#"{"operation":"GET /events","status":200}"#,
                "\n",
                r#"{"operation":"POST /queue","status":201,"service":"waiting-room"}"#,
                "\n",
                r#"{"operation":"POST /orders","status":503}"#,
                "\n",
            ),
        )
        .unwrap();
        let answers = Answers::read(&dir).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(answers.accepted_posts, 1);
        assert_eq!(answers.total(), 5);
        assert_eq!(answers.server_errors.len(), 1);
        assert_eq!(answers.by_class(), BTreeMap::from([(2, 3), (4, 1), (5, 1)]));
    }
}
