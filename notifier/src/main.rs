//! `notifier`: parses its configuration, sets up telemetry and runs the subscriber.

use anyhow::Context;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = notifier::Config::parse();
    let _telemetry = telemetry::init("notifier", config.log.log_format);
    let notifier = notifier::Notifier::build(config)
        .await
        .context("starting the notifier")?;
    notifier.run_until_stopped().await
}
