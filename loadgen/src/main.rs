//! `loadgen`: the flash-sale benchmark.
//!
//! It creates an event through the HTTP API, opens the sale, then lets N concurrent customers hold
//! tickets for a bounded time (hot general admission, or named seats spread over a seated venue).
//! Some holds go on to orders, some are abandoned and must expire. It shows progress, prints
//! throughput and latency percentiles, then audits the sale from the streams (no seat held twice,
//! never over capacity, every acknowledged hold stored, no duplicate hold, abandoned holds expired
//! once) and from the read models (query-svc agrees exactly with the streams), and writes
//! everything as JSON.

mod api;
mod audit;
mod audits;
mod cli;
mod expiry;
mod fold;
mod lag;
mod orders;
mod read_audit;
mod report;
mod sale;
mod setup;
mod stats;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
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
