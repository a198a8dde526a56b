//! One event's writer: the only task of this instance that decides for that event's inventory.
//!
//! It takes every queued command (up to a bound), records the expiry of due holds, decides each
//! command in order against its in-memory aggregate, and appends all resulting facts as **one
//! commit** with the aggregate's last sequence as the expected sequence (group commit). Then it
//! answers every caller. A burst costs one append round trip per batch, not per ticket.
//!
//! A commit is bounded in bytes as well as in commands: the facts of a batch are added up as they
//! are decided, and the command whose facts would take the commit past the budget (the server's
//! `max_payload` less headroom, read at startup) starts the next commit instead, in order. A mass
//! expiry is recorded the same way, in as many commits as it takes. So no batch is refused as a
//! whole for its size, whatever its holds carry.
//!
//! A writer with nothing to do for `idle`, or whose instance lost the event's lease, retires: it
//! closes its queue, serves what was queued before that, saves a snapshot and stops (the registry starts a successor for the next command,
//! which restores from that snapshot). Expiries need no writer: the event's timer is a JetStream
//! schedule, and when it fires the expiry reactor's command starts one.
//!
//! If another instance appended first (a conflict), the writer catches up from the stream and
//! decides the batch again, a bounded number of times. If the append fails otherwise, the writer
//! reloads its aggregate (the in-memory state may be ahead of the stream) and answers 503; the
//! clients' retries with the same idempotency key are safe.

use super::error::CommandError;
use super::load::{catch_up, encode_snapshot, restore, snapshot_key, Restored};
use super::registry::{Decided, Shared};
use domain::ids::{BlockId, EventId, HoldId};
use domain::inventory::{decide, EventInventory, InventoryCommand, InventoryEvent, WaitlistPlace};
use domain::money::Money;
use domain::Timestamp;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;
use tv_nats::{AppendError, CommitMeta, EventRecord, Position, Stream};

/// How many times a batch is decided again after losing a race to another instance.
const MAX_CONFLICT_RETRIES: u32 = 5;

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

/// The waiting-list entry a command answers with, in the state after it.
fn waitlist_of(state: &EventInventory, command: &InventoryCommand) -> Option<WaitlistPlace> {
    match command {
        InventoryCommand::JoinWaitlist {
            waitlist_id,
            customer_id,
            ..
        } => state.waitlist_place(waitlist_id).or_else(|| {
            let live = state.live_waitlist_entry(customer_id)?;
            state.waitlist_place(&live.waitlist_id)
        }),
        InventoryCommand::LeaveWaitlist { waitlist_id, .. } => state.waitlist_place(waitlist_id),
        _ => None,
    }
}

fn block_of(command: &InventoryCommand) -> Option<BlockId> {
    match command {
        InventoryCommand::BlockSeats { block_id, .. }
        | InventoryCommand::ReleaseBlock { block_id } => Some(*block_id),
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
        InventoryCommand::JoinWaitlist { .. } => "JoinWaitlist",
        InventoryCommand::LeaveWaitlist { .. } => "LeaveWaitlist",
        InventoryCommand::CloseSale => "CloseSale",
        InventoryCommand::CancelSale => "CancelSale",
        InventoryCommand::LoadAccessCodes { .. } => "LoadAccessCodes",
        InventoryCommand::BlockSeats { .. } => "BlockSeats",
        InventoryCommand::ReleaseBlock { .. } => "ReleaseBlock",
        _ => "InventoryCommand",
    }
}

/// Returns once `lost` says the lease is lost (or its sender is gone with the lease).
async fn until_lost(lost: &mut watch::Receiver<bool>) {
    loop {
        if *lost.borrow_and_update() {
            return;
        }
        if lost.changed().await.is_err() {
            return;
        }
    }
}

/// The bytes a fact adds to a commit.
fn fact_len(fact: &InventoryEvent) -> usize {
    EventRecord::new(1, fact).encoded_len()
}

impl Writer {
    /// Waits for the writer it succeeds (if any) to end, loads the aggregate, then serves the queue
    /// until every sender is gone, the event turns out not to exist, it has been idle long enough
    /// to retire, or `lost` says that this instance no longer owns the event.
    pub(super) async fn run(
        event: EventId,
        shared: Arc<Shared>,
        mut queue: mpsc::Receiver<Job>,
        previous: Option<JoinHandle<()>>,
        mut lost: watch::Receiver<bool>,
    ) {
        if let Some(previous) = previous {
            // It appends nothing after it ends; its snapshot and commits are then all stored.
            let _ = previous.await;
        }
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
        let idle = writer.shared.settings.idle;
        let mut batch = Vec::with_capacity(max_batch);
        loop {
            let received = tokio::select! {
                // Cancel-safe: nothing is taken from the queue unless it returns.
                received = tokio::time::timeout(idle, queue.recv_many(&mut batch, max_batch)) => received,
                () = until_lost(&mut lost) => {
                    tracing::info!(%event, "the event's lease moved to another instance: retiring");
                    writer.retire(queue).await;
                    return;
                }
            };
            match received {
                Ok(0) => return,
                Ok(_) => {}
                Err(_) => {
                    writer.retire(queue).await;
                    return;
                }
            }
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

    /// Retires after `idle` without a command: no new command gets in, the ones queued before are
    /// served, and a snapshot lets the successor restore without replaying.
    async fn retire(mut self, mut queue: mpsc::Receiver<Job>) {
        queue.close();
        // After `close`, `recv` still hands over every command already sent (a send in flight
        // included), then `None`.
        let mut late = Vec::new();
        while let Some(job) = queue.recv().await {
            late.push(job);
        }
        while !late.is_empty() {
            let rest = late.split_off(late.len().min(self.shared.settings.max_batch));
            let jobs = std::mem::replace(&mut late, rest);
            self.process(jobs).await;
        }
        if self.aggregate.last_sequence > self.aggregate.snapshot_sequence && !self.stale {
            let started = Instant::now();
            match encode_snapshot(&self.aggregate.state, &self.aggregate.hold_positions) {
                Ok(bytes) => {
                    let saved = self
                        .shared
                        .snapshots
                        .save(
                            &snapshot_key(self.event),
                            self.aggregate.last_sequence,
                            &bytes,
                        )
                        .await;
                    if let Err(e) = saved {
                        tracing::warn!(event = %self.event, error = %e, "cannot save a snapshot");
                    }
                }
                Err(e) => {
                    tracing::warn!(event = %self.event, error = %e, "cannot encode a snapshot")
                }
            }
            metrics::histogram!("tv_writer_retire_seconds").record(started.elapsed().as_secs_f64());
        }
        metrics::counter!("tv_writers_retired_total").increment(1);
        tracing::debug!(event = %self.event, "writer retired");
        self.shared.forget(self.event);
    }

    /// Decides and appends `jobs` in order, in as many commits as their facts need.
    async fn process(&mut self, mut jobs: Vec<Job>) {
        metrics::histogram!("tv_group_commit_commands").record(jobs.len() as f64);
        while !jobs.is_empty() {
            jobs = self.commit_some(jobs).await;
        }
    }

    /// Decides a prefix of `jobs` whose facts fit one commit, appends it and answers its callers;
    /// returns the rest, to be decided after it. On failure every job is answered.
    async fn commit_some(&mut self, mut jobs: Vec<Job>) -> Vec<Job> {
        let started = Instant::now();
        if self.stale {
            if let Err(e) = self.reload().await {
                self.fail(jobs, e.to_string());
                return Vec::new();
            }
        }
        if let Err(reason) = self.sweep_expiries().await {
            self.fail(jobs, reason);
            return Vec::new();
        }
        let mut attempt = 0;
        loop {
            let now = time::OffsetDateTime::now_utc();
            let (facts, outcomes) = self.decide_batch(&jobs, now);
            let rest = jobs.split_off(outcomes.len());
            if facts.is_empty() {
                let refused = outcomes.iter().any(|o| matches!(o, Outcome::Rejected(_)));
                if refused && attempt < MAX_CONFLICT_RETRIES && self.caught_up_with_others().await {
                    attempt += 1;
                    jobs.extend(rest);
                    continue;
                }
                self.answer(jobs, outcomes, None);
                return rest;
            }
            let (meta, span) = self.commit_meta(&jobs);
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
                .instrument(span)
                .await;
            match appended {
                Ok(position) => {
                    metrics::counter!("tv_appends_total", "stream" => "inventory").increment(1);
                    metrics::histogram!("tv_append_batch_seconds")
                        .record(started.elapsed().as_secs_f64());
                    self.committed(&facts, &position);
                    self.answer(jobs, outcomes, Some(position));
                    return rest;
                }
                Err(AppendError::Conflict { .. }) if attempt < MAX_CONFLICT_RETRIES => {
                    metrics::counter!("tv_append_conflicts_total", "stream" => "inventory")
                        .increment(1);
                    attempt += 1;
                    jobs.extend(rest);
                    if let Err(e) = self.reload().await {
                        self.fail(jobs, e.to_string());
                        return Vec::new();
                    }
                }
                Err(e) => {
                    let reason = self.append_failed(e).await;
                    jobs.extend(rest);
                    self.fail(jobs, reason);
                    return Vec::new();
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

    /// Records every due expiry before the batch is decided, in commits that each fit the budget,
    /// so that the due expiries riding along with the batch's own commit take at most half of it.
    async fn sweep_expiries(&mut self) -> Result<(), String> {
        let mut attempt = 0;
        let budget = self.shared.commit_budget;
        loop {
            let now = time::OffsetDateTime::now_utc();
            // Refused only before the inventory opens, when nothing can be due.
            let mut due = decide(&self.aggregate.state, &InventoryCommand::ExpireDue, now)
                .unwrap_or_default();
            let mut bytes = 0;
            let mut fitting = due
                .iter()
                .take_while(|fact| {
                    bytes += fact_len(fact);
                    bytes <= budget
                })
                .count();
            // An offered hold's expiry and its entry's go together (the offers after them are
            // decided again by the next round).
            while due
                .get(fitting.max(1))
                .is_some_and(|f| f.completes_previous())
            {
                fitting = fitting.max(1) + 1;
            }
            if fitting == due.len() && bytes <= budget / 2 {
                // Few enough to ride along with the batch's own commit.
                return Ok(());
            }
            due.truncate(fitting.max(1));
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

    /// Decides a prefix of the batch in order, applying each accepted command's facts to the
    /// aggregate so that the next command sees them, and stops before the first command whose
    /// facts would take the commit past the budget (never before the first: one command's facts
    /// always go). Due expiries come first (at most half the budget: more were recorded by
    /// `sweep_expiries` just before). One outcome per decided command.
    fn decide_batch(
        &mut self,
        jobs: &[Job],
        now: Timestamp,
    ) -> (Vec<InventoryEvent>, Vec<Outcome>) {
        let budget = self.shared.commit_budget;
        let state = &mut self.aggregate.state;
        // Refused only before the inventory opens, when nothing can be due.
        let mut facts = decide(state, &InventoryCommand::ExpireDue, now).unwrap_or_default();
        for fact in &facts {
            state.apply(fact);
        }
        let mut bytes: usize = facts.iter().map(fact_len).sum();
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            match decide(state, &job.command, now) {
                Ok(decided) => {
                    let more: usize = decided.iter().map(fact_len).sum();
                    if !outcomes.is_empty() && bytes + more > budget {
                        metrics::counter!("tv_commits_cut_total").increment(1);
                        break;
                    }
                    bytes += more;
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

    /// The commit's metadata and its span: a child of the first traced job's request, linked to
    /// the request of every job in it, so each request's trace reaches the commit, and the commit's
    /// `traceparent` (the span's) reaches the projector batches that apply it.
    fn commit_meta(&self, jobs: &[Job]) -> (CommitMeta, tracing::Span) {
        let command = match jobs {
            [job] => command_name(&job.command),
            _ => "GroupCommit",
        };
        let span = tracing::info_span!("inventory.commit", command, jobs = jobs.len());
        let first = jobs.iter().find_map(|j| j.traceparent.as_deref());
        telemetry::propagation::follow(&span, first);
        for job in jobs {
            telemetry::propagation::link(&span, job.traceparent.as_deref());
        }
        let mut meta = CommitMeta::new("EventInventory", command);
        meta.traceparent = span
            .in_scope(telemetry::propagation::current_traceparent)
            .or_else(|| first.map(str::to_owned));
        (meta, span)
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
        // Finished holds are folded once they pile up: memory follows the live holds.
        if self.aggregate.state.compact() {
            metrics::counter!("tv_inventory_compactions_total").increment(1);
        }
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
                    let hold = hold.map(std::borrow::Cow::into_owned);
                    // A retried hold answers with the position it was first stored at.
                    let first = match (&job.command, &hold) {
                        (InventoryCommand::PlaceHold(_), Some(hold)) => {
                            self.aggregate.hold_positions.get(&hold.hold_id).copied()
                        }
                        _ => None,
                    };
                    let sequence = first
                        .or(position.as_ref().map(|p| p.sequence))
                        .unwrap_or(self.aggregate.last_sequence);
                    let state = &self.aggregate.state;
                    // What each of the hold's tickets costs: its ticket type's price.
                    let ticket_type = hold.as_ref().and_then(|h| state.ticket_type_of(h));
                    let price = ticket_type
                        .as_ref()
                        .and_then(|t| Some(Money::new(t.price_minor, state.currency()?)));
                    Ok(Decided {
                        position: Position {
                            stream: stream.clone(),
                            sequence,
                        },
                        hold,
                        price,
                        waitlist: waitlist_of(state, &job.command),
                        orders: match job.command {
                            InventoryCommand::CancelSale => state.orders_to_settle(),
                            _ => Vec::new(),
                        },
                        block: block_of(&job.command).and_then(|id| state.block(&id).cloned()),
                        type_id: ticket_type.map(|t| t.type_id),
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

    fn save_snapshot(&mut self) {
        let started = Instant::now();
        let bytes = match encode_snapshot(&self.aggregate.state, &self.aggregate.hold_positions) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(event = %self.event, error = %e, "cannot encode a snapshot");
                return;
            }
        };
        metrics::histogram!("tv_snapshot_encode_seconds").record(started.elapsed().as_secs_f64());
        self.aggregate.snapshot_sequence = self.aggregate.last_sequence;
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
