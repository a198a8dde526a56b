//! `projector [run] | rebuild [--projection NAME] | status`: parses the configuration, sets up
//! logging and calls the library.

use anyhow::Context;
use clap::Parser;
use projector::{Cli, Command, Projector, RebuildOptions, StatusTable};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = telemetry::init("projector", cli.log.log_format);

    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let projector = Projector::build(cli.config)
                .await
                .context("starting the projector")?;
            projector.run_until_stopped().await
        }
        Command::Rebuild { projection, quiet } => {
            let projections: Vec<_> = projection.into_iter().collect();
            let reports = projector::rebuild(
                &cli.config,
                &projections,
                RebuildOptions {
                    show_progress: !quiet,
                    ..RebuildOptions::default()
                },
            )
            .await?;
            for r in reports {
                println!(
                    "{}: {} commits, {} events replayed in {:.2?} ({:.0} events/s); swapped in at sequence {} (live was at {})",
                    r.projection,
                    r.commits,
                    r.events,
                    r.elapsed,
                    r.events as f64 / r.elapsed.as_secs_f64().max(1e-3),
                    r.checkpoint,
                    r.live_checkpoint
                );
                println!("  {}", r.phases);
            }
            Ok(())
        }
        Command::Status => {
            let statuses = projector::status(&cli.config).await?;
            print!("{}", StatusTable(&statuses));
            Ok(())
        }
    }
}
