//! `command-svc`: parses its configuration, sets up telemetry and runs the service.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = command_svc::Config::parse();
    let _telemetry = telemetry::init("command-svc", config.log.log_format);
    let app = command_svc::build(config).await?;
    tracing::info!(addr = %app.local_addr(), "command-svc listening");
    app.run_until_stopped().await
}
