//! `loadgen`: the flash-sale benchmark.
//!
//! It creates an event through the HTTP API, opens the sale, then lets N concurrent customers hold
//! tickets for a bounded time (hot general admission, or named seats spread over a seated venue).
//! It shows progress, prints throughput and latency percentiles, then audits the sale from the
//! inventory stream (no seat held twice, never over capacity, every acknowledged hold stored,
//! no duplicate hold) and writes everything as JSON.

mod audit;
mod cli;
mod lag;
mod orders;
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
    if !report.audit.violations.is_empty() {
        anyhow::bail!(
            "the audit found {} violations",
            report.audit.violations.len()
        );
    }
    Ok(())
}
