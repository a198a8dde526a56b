//! query-svc: parses the configuration, sets up logging, builds and runs the service.

use anyhow::Context;
use clap::Parser;
use query_svc::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = telemetry::init("query-svc", config.log.log_format);
    let app = query_svc::build(config)
        .await
        .context("starting query-svc")?;
    app.run_until_stopped().await
}
