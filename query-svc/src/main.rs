//! query-svc: parses the configuration, sets up logging, builds and runs the service.

use anyhow::Context;
use clap::Parser;
use query_svc::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tokio_postgres=warn"));
    if std::env::var("TV_LOG_JSON").is_ok_and(|v| v == "1") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let app = query_svc::build(config)
        .await
        .context("starting query-svc")?;
    app.run_until_stopped().await
}
