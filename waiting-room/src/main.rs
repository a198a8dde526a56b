//! `waiting-room`: parses its configuration, sets up telemetry and runs the service.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = waiting_room::Config::parse();
    let _telemetry = telemetry::init("waiting-room", config.log.log_format);
    let app = waiting_room::build(config).await?;
    tracing::info!(addr = %app.local_addr(), "waiting-room listening");
    app.run_until_stopped().await
}
