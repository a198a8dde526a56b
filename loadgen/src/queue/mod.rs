//! The waiting-room sale (`loadgen --waiting-room`): an event whose sale is behind a waiting room
//! (the prequeue opens as loadgen starts, the sale `--prequeue-seconds` later), buyers who join
//! its queue (most before the opening, `--late-percent` after it), follow their place by polling
//! or on the SSE stream, and once admitted hold with the admission token and buy. Then the
//! audits: the queue stream ([`stream_audit`], [`fairness`]) and the plain sale's (holds, orders,
//! read models). `--poll-flood-seconds` adds the status-poll flood ([`flood`]); `--storm`
//! compares with a plain flood ([`storm`]).

mod buyer;
mod fairness;
mod flood;
mod monitor;
mod rate;
mod report;
mod room_api;
pub mod storm;
mod stream_audit;
#[cfg(test)]
mod tests;

pub use report::QueueReport;

use crate::api::Api;
use crate::cli::{Cli, Scenario};
use crate::report::{Latency, Report};
use crate::{audits, setup};
use anyhow::Context;
use buyer::{Buyer, BuyerStats, Shared};
use report::{AdmissionsReport, CommandSide, FollowingReport, JoinsReport};
use room_api::RoomApi;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// How long after the deadline buyers still buying are waited for.
const FINISH_GRACE: Duration = Duration::from_secs(30);
/// The most customers' tokens the poll flood cycles through.
const FLOOD_CUSTOMERS: usize = 10_000;

pub async fn run(cli: &Cli) -> anyhow::Result<QueueReport> {
    let mut cli = cli.effective();
    cli.scenario = Scenario::HotGa;
    cli.validate()?;
    let args = cli.room.clone();
    let api = Api::new(&cli.command_url, &cli.query_url, args.join_concurrency)?;
    let room = RoomApi::new(&args.waiting_room_url, args.join_concurrency)?;
    room.healthz()
        .await
        .with_context(|| format!("is the waiting room running at {}?", room.base_url()))?;

    // Whole seconds: the prequeue opens a second ago, the sale after the prequeue period.
    let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let sale_opens_at = now + time::Duration::seconds_f64(args.prequeue_seconds.ceil().max(1.0));
    let room_json = json!({
        "sale_opens_at": sale_opens_at.format(&Rfc3339)?,
        "waiting_room": {
            "opens_at": (now - time::Duration::SECOND).format(&Rfc3339)?,
            "admit_per_minute": args.admit_per_minute,
            "max_active": args.max_active,
            "admission_ttl_seconds": args.admission_ttl_seconds,
        },
    });
    let event = setup::create_with(&api, &cli, room_json).await?;
    let started = Instant::now();
    let to_open = (sale_opens_at - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
    let opens = started + Duration::try_from(to_open)?;
    let deadline = opens + Duration::from_secs_f64(cli.seconds);
    println!(
        "waiting-room sale: {} buyers, the sale opens in {:.1} s, admitting {}/min (at most {} live), event {}",
        args.buyers,
        to_open.as_seconds_f64(),
        args.admit_per_minute,
        args.max_active,
        event.event_id
    );

    let shared = Arc::new(Shared {
        room: room.clone(),
        api: api.clone(),
        event_id: event.event_id.clone(),
        section_id: event.sections[0].0.clone(),
        opens,
        deadline,
        joins_in_flight: tokio::sync::Semaphore::new(args.join_concurrency.max(1)),
        join_only: args.join_only,
        started,
    });
    let stop = Arc::new(AtomicBool::new(false));
    let monitor = tokio::spawn(monitor::watch(
        room.clone(),
        event.event_id.clone(),
        stop.clone(),
    ));
    let buyers = plan(&cli, &event.event_id);
    let late_buyers = buyers.iter().filter(|b| b.late).count();
    let stream_followers = buyers.iter().filter(|b| b.streams).count();
    let mut late_seen = 0;
    let tasks: Vec<_> = buyers
        .into_iter()
        .map(|buyer| {
            let late_after = if buyer.late {
                late_seen += 1;
                buyer::LATE_SPREAD.mul_f64(late_seen as f64 / late_buyers.max(1) as f64)
            } else {
                Duration::ZERO
            };
            tokio::spawn(buyer::run(buyer, shared.clone(), late_after))
        })
        .collect();
    let bar = indicatif::ProgressBar::new_spinner();
    while !tasks.iter().all(|t| t.is_finished()) && Instant::now() < deadline + FINISH_GRACE {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let done = tasks.iter().filter(|t| t.is_finished()).count();
        bar.set_message(format!("{done} of {} buyers done", tasks.len()));
    }
    bar.finish_and_clear();
    let mut stats = BuyerStats::new();
    for task in tasks {
        if task.is_finished() {
            stats.merge(task.await?);
        } else {
            task.abort();
        }
    }
    if args.join_only {
        // Nobody follows: the room opens, shuffles and admits on its own until the deadline.
        tokio::time::sleep_until(deadline.into()).await;
    }
    let ended = Instant::now();
    stop.store(true, Ordering::Relaxed);
    let counters = monitor.await?;

    let poll_flood = if args.poll_flood_seconds > 0.0 && !stats.joined.is_empty() {
        let tokens = stats
            .joined
            .iter()
            .take(FLOOD_CUSTOMERS)
            .map(|c| api.customer_token(c))
            .collect();
        println!(
            "poll flood: {:.0} s of polls, then as long of /healthz",
            args.poll_flood_seconds
        );
        Some(
            flood::run(
                &room,
                &event.event_id,
                tokens,
                args.join_concurrency,
                args.poll_flood_seconds,
            )
            .await,
        )
    } else {
        None
    };

    let store =
        tv_nats::EventStore::connect(&cli.nats_url, tv_nats::Naming::new(&cli.prefix)).await?;
    let facts = stream_audit::load(&store, &event.event_id).await?;
    let admitted_seen: Vec<String> = stats.admitted.iter().map(|(c, _)| c.clone()).collect();
    let stream_audit = stream_audit::check(&facts, &stats.joined, &admitted_seen);
    let fairness = fairness::measure(&facts);

    let bought = stats
        .sale
        .take()
        .unwrap_or_else(crate::stats::ClientStats::new);
    let sale = if args.join_only {
        None
    } else {
        let elapsed = ended.saturating_duration_since(opens);
        let mut report = Report::new(
            &cli,
            elapsed,
            &bought,
            Latency::from(&bought.latency_us),
            None,
        );
        if !cli.no_audit {
            audits::run(&cli, &api, &event.event_id, &bought, &mut report).await?;
        }
        Some(report)
    };
    Ok(assemble(
        &cli,
        event.event_id,
        (late_buyers, stream_followers),
        &stats,
        ended.saturating_duration_since(started),
        counters,
        stream_audit,
        fairness,
        poll_flood,
        sale,
    ))
}

/// Who the buyers are: late joiners and SSE followers spread evenly over them.
fn plan(cli: &Cli, event_id: &str) -> Vec<Buyer> {
    let args = &cli.room;
    // Customer ids name the run, so a second run on the same services has new customers.
    let run = &event_id[..8];
    (0..args.buyers)
        .map(|index| Buyer {
            index,
            customer: format!("q{run}-{index}"),
            late: spread(index, args.late_percent),
            streams: spread(index + 50, args.stream_percent),
        })
        .collect()
}

/// Whether the `index`-th buyer is in a share of `percent`, evenly spread.
fn spread(index: usize, percent: u8) -> bool {
    let percent = usize::from(percent);
    (index * percent) / 100 != ((index + 1) * percent) / 100
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    cli: &Cli,
    event_id: String,
    (late_buyers, stream_followers): (usize, usize),
    stats: &BuyerStats,
    elapsed: Duration,
    counters: monitor::CountersSeen,
    stream_audit: stream_audit::StreamAudit,
    fairness: fairness::Fairness,
    poll_flood: Option<flood::FloodReport>,
    sale: Option<Report>,
) -> QueueReport {
    let args = &cli.room;
    let burst = match (stats.first_join, stats.last_join) {
        (Some(first), Some(last)) => last.saturating_duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    let acknowledged = stats.joined.len() as u64;
    let prequeue_joins = acknowledged.saturating_sub(late_buyers as u64);
    let mut violations = Vec::new();
    if counters.max_active > u64::from(args.max_active) {
        violations.push(format!(
            "the counters showed {} live admissions, over max_active {}",
            counters.max_active, args.max_active
        ));
    }
    let command_side = command_side(stats, args.admit_per_minute, &mut violations);
    QueueReport {
        event_id,
        buyers: args.buyers,
        late_buyers,
        stream_followers,
        joins: JoinsReport {
            acknowledged,
            burst_joins: prequeue_joins,
            burst_seconds: burst,
            per_second: prequeue_joins as f64 / burst.max(1e-3),
            latency: Latency::from(&stats.join_latency_us.histogram()),
            outcomes: stats.join_outcomes.clone(),
        },
        following: FollowingReport {
            polls: stats.polls,
            polls_per_second: stats.polls as f64 / elapsed.as_secs_f64().max(1e-3),
            poll_failures: stats.poll_failures,
            streams_opened: stats.streams_opened,
            stream_messages: stats.stream_messages,
        },
        admissions: AdmissionsReport {
            configured_per_minute: args.admit_per_minute,
            seen: stats.admitted.len() as u64,
            gave_up: stats.gave_up,
            max_active: args.max_active,
            max_live_from_counters: counters.max_active,
            max_live_from_stream: stream_audit.max_live,
        },
        time_in_queue: Latency::from(&stats.time_in_queue_us.histogram()),
        wait_after_open: Latency::from(&stats.wait_after_open_us.histogram()),
        command_side,
        counters,
        stream_audit,
        fairness,
        poll_flood,
        sale,
        violations,
    }
}

/// The command side's load, and whether every admitted buyer got a seat while seats lasted.
fn command_side(
    stats: &BuyerStats,
    admit_per_minute: u32,
    violations: &mut Vec<String>,
) -> CommandSide {
    let mut answers = stats.hold_answers.clone();
    answers.sort_by(|a, b| a.0.total_cmp(&b.0));
    let sold_out_at = answers
        .iter()
        .find(|(_, _, code)| code == "sold_out")
        .map(|(at, _, _)| *at);
    let refused = answers
        .iter()
        .filter(|(at, status, _)| *status != 201 && sold_out_at.is_none_or(|s| *at < s))
        .count() as u64;
    if refused > 0 {
        violations.push(format!(
            "{refused} admitted buyers were refused a hold while seats lasted"
        ));
    }
    let mut holds_per_second = std::collections::BTreeMap::<u64, u64>::new();
    for (at, _, _) in &answers {
        *holds_per_second.entry(*at as u64).or_default() += 1;
    }
    let mut hold_answers = std::collections::BTreeMap::new();
    for (_, status, code) in &answers {
        *hold_answers
            .entry(format!("{status} {code}").trim_end().to_owned())
            .or_default() += 1;
    }
    CommandSide {
        commands: stats.commands_per_second.values().sum(),
        peak_commands_per_second: stats
            .commands_per_second
            .values()
            .copied()
            .max()
            .unwrap_or(0),
        peak_holds_per_second: holds_per_second.values().copied().max().unwrap_or(0),
        admitted_per_second: f64::from(admit_per_minute) / 60.0,
        hold_answers,
        refused_while_seats_lasted: refused,
    }
}
