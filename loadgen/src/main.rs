//! `loadgen`: the flash-sale benchmark.
//!
//! It creates an event through the HTTP API, opens the sale, then lets N concurrent customers hold
//! tickets for a bounded time (hot general admission, or named seats spread over a seated venue).
//! Some holds go on to orders, some are abandoned and must expire. It shows progress, prints
//! throughput and latency percentiles, then audits the sale from the streams (no seat held twice,
//! never over capacity, every acknowledged hold stored, no duplicate hold, abandoned holds expired
//! once) and from the read models (query-svc agrees exactly with the streams), and writes
//! everything as JSON. `--waiting-room` runs the sale behind a waiting room instead
//! ([`queue`]), `--storm` both side by side.

mod api;
mod audit;
mod audits;
mod cli;
mod expiry;
mod fold;
mod lag;
mod orders;
mod queue;
mod read_audit;
mod report;
mod sale;
mod setup;
mod stats;
mod watchers;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    if cli.room.storm {
        return finish(&cli, queue::storm::run(&cli).await?);
    }
    if cli.room.waiting_room {
        return finish(&cli, queue::run(&cli).await?);
    }
    let report = sale::run(&cli).await?;
    report.print();
    if let Some(path) = &cli.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)?;
        println!("report written to {}", path.display());
    }
    if report.violations() > 0 {
        anyhow::bail!("the audits found {} violations", report.violations());
    }
    Ok(())
}

/// Prints a report, writes it as JSON when asked, and fails on any violation.
fn finish(cli: &cli::Cli, report: impl Audited) -> anyhow::Result<()> {
    report.print();
    if let Some(path) = &cli.json {
        std::fs::write(path, report.to_json()?)?;
        println!("report written to {}", path.display());
    }
    match report.violations() {
        0 => Ok(()),
        n => anyhow::bail!("the audits found {n} violations"),
    }
}

/// A report with audits: printed, written as JSON, its violations counted.
trait Audited {
    fn print(&self);
    fn to_json(&self) -> serde_json::Result<Vec<u8>>;
    fn violations(&self) -> u64;
}

impl Audited for queue::QueueReport {
    fn print(&self) {
        queue::QueueReport::print(self)
    }
    fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec_pretty(self)
    }
    fn violations(&self) -> u64 {
        self.violation_count()
    }
}

impl Audited for queue::storm::StormReport {
    fn print(&self) {
        queue::storm::StormReport::print(self)
    }
    fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec_pretty(self)
    }
    fn violations(&self) -> u64 {
        self.violation_count()
    }
}
