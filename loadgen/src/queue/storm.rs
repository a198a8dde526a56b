//! "The 429 storm is gone", side by side in one run: the same number of seats (`buyers / 100`)
//! sold twice, first by the plain flood (the hot-GA sale: every client holds again and again until
//! sold out), then behind a waiting room to `--buyers` customers. The plain flood shows what
//! command-svc is asked without a queue; the queued sale, that it sees at most the admitted rate
//! and that every admitted buyer who wants a seat gets one while seats last.

use super::QueueReport;
use crate::cli::{Cli, Scenario};
use crate::report::Report;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
pub struct StormReport {
    pub buyers: usize,
    pub seats: u32,
    pub plain: Side,
    pub queued: Side,
    pub plain_sale: Report,
    pub queued_sale: QueueReport,
}

/// One sale as command-svc saw it.
#[derive(Debug, Serialize)]
pub struct Side {
    pub seconds: f64,
    pub commands: u64,
    pub commands_per_second: f64,
    pub holds_won: u64,
    /// Hold answers other than 201, by status and code.
    pub refusals: BTreeMap<String, u64>,
    pub too_many_requests: u64,
}

pub async fn run(cli: &Cli) -> anyhow::Result<StormReport> {
    let seats = (cli.room.buyers / 100).max(1) as u32;
    let mut plain = cli.clone();
    plain.room.storm = false;
    plain.room.waiting_room = false;
    plain.scenario = Scenario::HotGa;
    plain.ga_capacity = seats;
    plain.order_percent = 100;
    plain.abandon_percent = 0;
    plain.decline_percent = 0;
    plain.retry_every = 0;
    plain.no_read_audit = true;
    println!(
        "storm: {seats} seats, first as a plain flood of {} clients",
        plain.clients
    );
    let plain_sale = crate::sale::run(&plain).await?;
    plain_sale.print();

    let mut queued = plain.clone();
    queued.room = cli.room.clone();
    queued.room.storm = false;
    queued.room.waiting_room = true;
    println!();
    println!(
        "storm: the same {seats} seats behind a waiting room, {} buyers",
        cli.room.buyers
    );
    let queued_sale = super::run(&queued).await?;

    let plain_commands = plain_sale.requests + plain_sale.orders.as_ref().map_or(0, |o| o.placed);
    let refusals = |outcomes: &BTreeMap<String, u64>| -> BTreeMap<String, u64> {
        outcomes
            .iter()
            .filter(|(k, _)| k.as_str() != "201" && !k.starts_with("order"))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    };
    let plain_refusals = refusals(&plain_sale.outcomes);
    let c = &queued_sale.command_side;
    let queued_seconds = queued_sale.sale.as_ref().map_or(0.0, |s| s.seconds);
    let queued_refusals = refusals(&c.hold_answers);
    Ok(StormReport {
        buyers: cli.room.buyers,
        seats,
        plain: Side {
            seconds: plain_sale.seconds,
            commands: plain_commands,
            commands_per_second: plain_commands as f64 / plain_sale.seconds.max(1e-3),
            holds_won: plain_sale.successful_holds,
            too_many_requests: count_429(&plain_refusals),
            refusals: plain_refusals,
        },
        queued: Side {
            seconds: queued_seconds,
            commands: c.commands,
            commands_per_second: c.commands as f64 / queued_seconds.max(1e-3),
            holds_won: c.hold_answers.get("201").copied().unwrap_or(0),
            too_many_requests: count_429(&queued_refusals),
            refusals: queued_refusals,
        },
        plain_sale,
        queued_sale,
    })
}

fn count_429(refusals: &BTreeMap<String, u64>) -> u64 {
    refusals
        .iter()
        .filter(|(k, _)| k.starts_with("429"))
        .map(|(_, v)| v)
        .sum()
}

impl StormReport {
    pub fn violation_count(&self) -> u64 {
        self.plain_sale.violations() + self.queued_sale.violation_count()
    }

    pub fn print(&self) {
        self.queued_sale.print();
        println!();
        println!(
            "  storm: {} seats, {} queued buyers     plain flood      waiting room",
            self.seats, self.buyers
        );
        let row = |name: &str, plain: String, queued: String| {
            println!("  {name:<38} {plain:>12}  {queued:>16}");
        };
        let (p, q) = (&self.plain, &self.queued);
        row(
            "seconds",
            format!("{:.1}", p.seconds),
            format!("{:.1}", q.seconds),
        );
        row(
            "commands to command-svc",
            p.commands.to_string(),
            q.commands.to_string(),
        );
        row(
            "commands per second",
            format!("{:.0}", p.commands_per_second),
            format!("{:.0}", q.commands_per_second),
        );
        row(
            "peak commands in one second",
            "-".into(),
            format!(
                "{} (admits {:.0}/s)",
                self.queued_sale.command_side.peak_commands_per_second,
                self.queued_sale.command_side.admitted_per_second
            ),
        );
        row(
            "holds won",
            p.holds_won.to_string(),
            q.holds_won.to_string(),
        );
        row(
            "holds refused",
            p.refusals.values().sum::<u64>().to_string(),
            q.refusals.values().sum::<u64>().to_string(),
        );
        row(
            "429 answers",
            p.too_many_requests.to_string(),
            q.too_many_requests.to_string(),
        );
        row(
            "refused while seats lasted",
            "-".into(),
            self.queued_sale
                .command_side
                .refused_while_seats_lasted
                .to_string(),
        );
        println!(
            "  plain refusals {:?}; queued refusals {:?}",
            p.refusals, q.refusals
        );
    }
}
