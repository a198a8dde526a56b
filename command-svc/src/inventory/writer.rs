//! One event's writer: the only task of this instance that decides for that event's inventory.
//!
//! It takes every queued command (up to a bound), records the expiry of due holds, decides each
//! command in order against its in-memory aggregate, and appends all resulting facts as **one
//! commit** with the aggregate's last sequence as the expected sequence (group commit). Then it
//! answers every caller. A burst costs one append round trip per batch, not per ticket.
//!
//! If another instance appended first (a conflict), the writer catches up from the stream and
//! decides the batch again, a bounded number of times. If the append fails otherwise, the writer
//! reloads its aggregate (the in-memory state may be ahead of the stream) and answers 503; the
//! clients' retries with the same idempotency key are safe.

use super::error::CommandError;
use super::load::{catch_up, encode_snapshot, restore, snapshot_key, Restored};
use super::registry::{Decided, Shared};
use domain::ids::{EventId, HoldId};
use domain::inventory::{decide, InventoryCommand, InventoryEvent};
use domain::money::Money;
use domain::Timestamp;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, watch};
use tv_nats::{AppendError, CommitMeta, EventRecord, Position, Stream};

/// How many times a batch is decided again after losing a race to another instance.
const MAX_CONFLICT_RETRIES: u32 = 5;

/// The most `HoldExpired` facts in one commit: a mass expiry (thousands of abandoned holds falling
/// due in one second) is recorded in several commits that each fit in a NATS message.
const MAX_EXPIRIES_PER_COMMIT: usize = 1_000;

/// A command waiting for its writer, with the caller's trace context.
pub(super) struct Job {
    pub command: InventoryCommand,
    pub traceparent: Option<String>,
    pub reply: oneshot::Sender<Result<Decided, CommandError>>,
}

pub(super) struct Writer {
    event: EventId,
    shared: Arc<Shared>,
    aggregate: Restored,
    timer: watch::Sender<Option<Timestamp>>,
    commits_since_snapshot: u64,
    /// Facts appended since the last snapshot: a snapshot is due only when they number at least an
    /// eighth of the holds it would encode, so encoding costs a bounded amount per appended fact.
    facts_since_snapshot: u64,
    /// Set when an append failed and the in-memory aggregate may hold facts the stream does not:
    /// nothing is decided until a reload succeeds.
    stale: bool,
}

/// What one command of a batch came to, before the batch is appended.
enum Outcome {
    Accepted,
    Rejected(domain::inventory::InventoryError),
}

fn hold_of(command: &InventoryCommand) -> Option<HoldId> {
    match command {
        InventoryCommand::PlaceHold(request) => Some(request.hold_id),
        InventoryCommand::ReleaseHold { hold_id, .. }
        | InventoryCommand::SellHold { hold_id, .. }
        | InventoryCommand::CheckoutHold { hold_id, .. }
        | InventoryCommand::AbandonCheckout { hold_id, .. } => Some(*hold_id),
        _ => None,
    }
}

fn command_name(command: &InventoryCommand) -> &'static str {
    match command {
        InventoryCommand::Open { .. } => "OpenInventory",
        InventoryCommand::PlaceHold(_) => "PlaceHold",
        InventoryCommand::ReleaseHold { .. } => "ReleaseHold",
        InventoryCommand::ExpireDue => "ExpireDue",
        InventoryCommand::SellHold { .. } => "SellHold",
        InventoryCommand::ReturnSeats { .. } => "ReturnSeats",
        InventoryCommand::CheckoutHold { .. } => "CheckoutHold",
        InventoryCommand::AbandonCheckout { .. } => "AbandonCheckout",
        _ => "InventoryCommand",
    }
}

impl Writer {
    /// Loads the aggregate, then serves the queue until every sender is gone or the event turns out
    /// not to exist.
    pub(super) async fn run(event: EventId, shared: Arc<Shared>, mut queue: mpsc::Receiver<Job>) {
        let aggregate = loop {
            match restore(&shared.store, &shared.snapshots, event).await {
                Ok(aggregate) => break aggregate,
                Err(e) => {
                    // Answer what is queued, then try again: the store may be restarting.
                    tracing::warn!(%event, error = %e, "cannot load the inventory");
                    while let Ok(job) = queue.try_recv() {
                        let _ = job
                            .reply
                            .send(Err(CommandError::Unavailable(e.to_string())));
                    }
                    if queue.is_closed() {
                        return;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            }
        };
        let timer = super::timer::spawn(shared.timers.clone(), event);
        let mut writer = Writer {
            event,
            shared,
            aggregate,
            timer,
            commits_since_snapshot: 0,
            facts_since_snapshot: 0,
            stale: false,
        };
        writer.wish_timer();
        let max_batch = writer.shared.settings.max_batch;
        let mut batch = Vec::with_capacity(max_batch);
        while queue.recv_many(&mut batch, max_batch).await > 0 {
            let opening = batch
                .iter()
                .any(|job| matches!(job.command, InventoryCommand::Open { .. }));
            if !writer.aggregate.state.is_open() && !opening {
                // An event that was never opened has no writer to keep: answer and leave, so that
                // random ids cannot pin tasks. The registry spawns a fresh one when needed.
                if let Err(e) = catch_up(&writer.shared.store, event, &mut writer.aggregate).await {
                    tracing::warn!(%event, error = %e, "cannot catch up");
                }
                if !writer.aggregate.state.is_open() {
                    queue.close();
                    writer.shared.forget(event);
                    while let Ok(job) = queue.try_recv() {
                        batch.push(job);
                    }
                    for job in batch.drain(..) {
                        let _ = job.reply.send(Err(CommandError::Rejected(
                            domain::inventory::InventoryError::NotOpen,
                        )));
                    }
                    return;
                }
            }
            writer.process(std::mem::take(&mut batch)).await;
            batch.reserve(max_batch);
        }
    }

    async fn process(&mut self, jobs: Vec<Job>) {
        let started = Instant::now();
        metrics::histogram!("tv_group_commit_commands").record(jobs.len() as f64);
        if self.stale {
            if let Err(e) = self.reload().await {
                self.fail(jobs, e.to_string());
                return;
            }
        }
        if let Err(reason) = self.sweep_expiries().await {
            self.fail(jobs, reason);
            return;
        }
        let mut attempt = 0;
        loop {
            let now = time::OffsetDateTime::now_utc();
            let (facts, outcomes) = self.decide_batch(&jobs, now);
            if facts.is_empty() {
                let refused = outcomes.iter().any(|o| matches!(o, Outcome::Rejected(_)));
                if refused && attempt < MAX_CONFLICT_RETRIES && self.caught_up_with_others().await {
                    attempt += 1;
                    continue;
                }
                self.answer(jobs, outcomes, None);
                return;
            }
            let meta = self.commit_meta(&jobs);
            let records: Vec<EventRecord<&InventoryEvent>> =
                facts.iter().map(|f| EventRecord::new(1, f)).collect();
            let id = self.event.to_string();
            let appended = self
                .shared
                .store
                .append(
                    Stream::Inventory,
                    &id,
                    self.aggregate.last_sequence,
                    &meta,
                    &records,
                )
                .await;
            match appended {
                Ok(position) => {
                    metrics::counter!("tv_appends_total", "stream" => "inventory").increment(1);
                    metrics::histogram!("tv_append_batch_seconds")
                        .record(started.elapsed().as_secs_f64());
                    self.committed(&facts, &position);
                    self.answer(jobs, outcomes, Some(position));
                    return;
                }
                Err(AppendError::Conflict { .. }) if attempt < MAX_CONFLICT_RETRIES => {
                    metrics::counter!("tv_append_conflicts_total", "stream" => "inventory")
                        .increment(1);
                    attempt += 1;
                    if let Err(e) = self.reload().await {
                        self.fail(jobs, e.to_string());
                        return;
                    }
                }
                Err(e) => {
                    let reason = self.append_failed(e).await;
                    self.fail(jobs, reason);
                    return;
                }
            }
        }
    }

    /// A batch that appends nothing has no expected-sequence check to vouch for the state it was
    /// decided on, and a refusal decided on a state another instance has moved past would be
    /// wrong (a hold placed there is "unknown" here, a seat released there "unavailable"). So
    /// before answering refusals, catch up with the stream: true when there was something to
    /// catch up with (decide again). Nothing was applied to the state, so it is the stream's
    /// prefix and catching up is enough.
    async fn caught_up_with_others(&mut self) -> bool {
        let id = self.event.to_string();
        match self
            .shared
            .store
            .subject_last_sequence(Stream::Inventory, &id)
            .await
        {
            Ok(last) if last > self.aggregate.last_sequence => {
                metrics::counter!("tv_writer_catch_ups_total").increment(1);
                match catch_up(&self.shared.store, self.event, &mut self.aggregate).await {
                    Ok(()) => {
                        self.wish_timer();
                        true
                    }
                    Err(e) => {
                        tracing::warn!(event = %self.event, error = %e, "cannot catch up");
                        false
                    }
                }
            }
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(event = %self.event, error = %e, "cannot read the last sequence");
                false
            }
        }
    }

    /// After an append failed: the in-memory aggregate may be ahead of the stream, so reload it; if
    /// that fails too, stay stale (decide nothing) until a reload succeeds. Returns the reason.
    async fn append_failed(&mut self, error: AppendError) -> String {
        metrics::counter!("tv_append_failures_total", "stream" => "inventory").increment(1);
        tracing::error!(event = %self.event, %error, "append failed");
        self.stale = true;
        if let Err(e) = self.reload().await {
            tracing::error!(event = %self.event, error = %e, "reload failed; the writer waits");
        }
        error.to_string()
    }

    /// Records every due expiry before the batch is decided, in commits of at most
    /// `MAX_EXPIRIES_PER_COMMIT` facts, so that no decision has to carry a mass expiry.
    async fn sweep_expiries(&mut self) -> Result<(), String> {
        let mut attempt = 0;
        loop {
            let now = time::OffsetDateTime::now_utc();
            // Refused only before the inventory opens, when nothing can be due.
            let mut due = decide(&self.aggregate.state, &InventoryCommand::ExpireDue, now)
                .unwrap_or_default();
            if due.len() <= MAX_EXPIRIES_PER_COMMIT {
                // Few enough to ride along with the batch's own commit.
                return Ok(());
            }
            due.truncate(MAX_EXPIRIES_PER_COMMIT);
            for fact in &due {
                self.aggregate.state.apply(fact);
            }
            let records: Vec<_> = due.iter().map(|f| EventRecord::new(1, f)).collect();
            let appended = self
                .shared
                .store
                .append(
                    Stream::Inventory,
                    &self.event.to_string(),
                    self.aggregate.last_sequence,
                    &CommitMeta::new("EventInventory", "ExpireDue"),
                    &records,
                )
                .await;
            match appended {
                Ok(position) => self.committed(&due, &position),
                Err(AppendError::Conflict { .. }) if attempt < MAX_CONFLICT_RETRIES => {
                    attempt += 1;
                    self.reload().await.map_err(|e| e.to_string())?;
                }
                Err(e) => return Err(self.append_failed(e).await),
            }
        }
    }

    /// Decides the batch in order, applying each accepted command's facts to the aggregate so that
    /// the next command sees them. Due expiries come first (at most `MAX_EXPIRIES_PER_COMMIT`:
    /// more were recorded by `sweep_expiries` just before).
    fn decide_batch(
        &mut self,
        jobs: &[Job],
        now: Timestamp,
    ) -> (Vec<InventoryEvent>, Vec<Outcome>) {
        let state = &mut self.aggregate.state;
        // Refused only before the inventory opens, when nothing can be due.
        let mut facts = decide(state, &InventoryCommand::ExpireDue, now).unwrap_or_default();
        for fact in &facts {
            state.apply(fact);
        }
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            match decide(state, &job.command, now) {
                Ok(decided) => {
                    for fact in &decided {
                        state.apply(fact);
                    }
                    facts.extend(decided);
                    outcomes.push(Outcome::Accepted);
                }
                Err(rule) => outcomes.push(Outcome::Rejected(rule)),
            }
        }
        (facts, outcomes)
    }

    fn commit_meta(&self, jobs: &[Job]) -> CommitMeta {
        let command = match jobs {
            [job] => command_name(&job.command),
            _ => "GroupCommit",
        };
        let mut meta = CommitMeta::new("EventInventory", command);
        meta.traceparent = jobs.iter().find_map(|j| j.traceparent.clone());
        meta
    }

    /// Book-keeping after a successful append.
    fn committed(&mut self, facts: &[InventoryEvent], position: &Position) {
        self.aggregate.last_sequence = position.sequence;
        for fact in facts {
            if let InventoryEvent::SeatsHeld { hold_id, .. } = fact {
                self.aggregate
                    .hold_positions
                    .insert(*hold_id, position.sequence);
            }
        }
        self.wish_timer();
        self.commits_since_snapshot += 1;
        self.facts_since_snapshot += facts.len() as u64;
        let big_enough = self.facts_since_snapshot >= self.aggregate.state.holds_count() as u64 / 8;
        if self.commits_since_snapshot >= self.shared.settings.snapshot_every && big_enough {
            self.commits_since_snapshot = 0;
            self.facts_since_snapshot = 0;
            self.save_snapshot();
        }
    }

    fn answer(&self, jobs: Vec<Job>, outcomes: Vec<Outcome>, position: Option<Position>) {
        let stream = self.shared.store.naming().stream(Stream::Inventory);
        for (job, outcome) in jobs.into_iter().zip(outcomes) {
            let answer = match outcome {
                Outcome::Rejected(rule) => Err(CommandError::Rejected(rule)),
                Outcome::Accepted => {
                    let hold = hold_of(&job.command).and_then(|id| self.aggregate.state.hold(&id));
                    // A retried hold answers with the position it was first stored at.
                    let first = match (&job.command, hold) {
                        (InventoryCommand::PlaceHold(_), Some(hold)) => {
                            self.aggregate.hold_positions.get(&hold.hold_id).copied()
                        }
                        _ => None,
                    };
                    let sequence = first
                        .or(position.as_ref().map(|p| p.sequence))
                        .unwrap_or(self.aggregate.last_sequence);
                    let state = &self.aggregate.state;
                    let price = hold.and_then(|h| {
                        Some(Money::new(
                            state.price_of(&h.section_id)?,
                            state.currency()?,
                        ))
                    });
                    Ok(Decided {
                        position: Position {
                            stream: stream.clone(),
                            sequence,
                        },
                        hold: hold.cloned(),
                        price,
                    })
                }
            };
            let _ = job.reply.send(answer);
        }
    }

    fn fail(&self, jobs: Vec<Job>, reason: String) {
        for job in jobs {
            let _ = job
                .reply
                .send(Err(CommandError::Unavailable(reason.clone())));
        }
    }

    /// Replaces the in-memory aggregate by what the stream holds.
    async fn reload(&mut self) -> Result<(), tv_nats::StoreError> {
        self.aggregate = restore(&self.shared.store, &self.shared.snapshots, self.event).await?;
        self.stale = false;
        self.wish_timer();
        Ok(())
    }

    fn wish_timer(&self) {
        let next = self.aggregate.state.next_expiry();
        if next.is_some() && *self.timer.borrow() != next {
            let _ = self.timer.send(next);
        }
    }

    fn save_snapshot(&self) {
        let started = Instant::now();
        let bytes = match encode_snapshot(&self.aggregate.state, &self.aggregate.hold_positions) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(event = %self.event, error = %e, "cannot encode a snapshot");
                return;
            }
        };
        metrics::histogram!("tv_snapshot_encode_seconds").record(started.elapsed().as_secs_f64());
        let snapshots = self.shared.snapshots.clone();
        let key = snapshot_key(self.event);
        let sequence = self.aggregate.last_sequence;
        tokio::spawn(async move {
            if let Err(e) = snapshots.save(&key, sequence, &bytes).await {
                tracing::warn!(%key, error = %e, "cannot save a snapshot");
            }
        });
    }
}
