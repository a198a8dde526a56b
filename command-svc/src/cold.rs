//! Cold aggregates: orders and payments.
//!
//! Unlike an event's inventory (hot, one writer task, group commit), an order or a payment sees a
//! handful of commands in its whole life, spread over seconds. Each command loads the aggregate's
//! few commits, decides, and appends with the aggregate's last sequence as the expected sequence;
//! a conflict (someone appended meanwhile: the customer's cancel racing the fulfilment reactor, two
//! reactor instances) loads again and decides again, a bounded number of times. The deciders make
//! every command safe to repeat, so "decide again" never doubles an effect.

use domain::ordering::{self, OrderCommand, OrderError, OrderEvent, OrderState};
use domain::payments::{self, PaymentCommand, PaymentError, PaymentEvent, PaymentState};
use domain::Timestamp;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tv_nats::{AppendError, CommitMeta, EventRecord, EventStore, Position, StoreError, Stream};

/// How many times a command is decided again after a concurrent append.
const MAX_CONFLICT_RETRIES: u32 = 5;

/// A decider that lives on its own subject of `STREAM` and is loaded whole for every command.
pub trait ColdAggregate {
    const STREAM: Stream;
    /// The aggregate type, as the `Tv-Aggregate` header names it.
    const NAME: &'static str;
    type State: Default + Send;
    type Command: Sync;
    type Event: Serialize + DeserializeOwned + Send + Sync;
    type Error;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
        now: Timestamp,
    ) -> Result<Vec<Self::Event>, Self::Error>;
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;
    /// The command's name, as the `Tv-Command` header names it.
    fn command_name(command: &Self::Command) -> &'static str;
}

/// The order aggregate, on `orders.<order>`.
pub struct OrderAggregate;

impl ColdAggregate for OrderAggregate {
    const STREAM: Stream = Stream::Orders;
    const NAME: &'static str = "Order";
    type State = OrderState;
    type Command = OrderCommand;
    type Event = OrderEvent;
    type Error = OrderError;

    fn decide(
        state: &OrderState,
        command: &OrderCommand,
        now: Timestamp,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        ordering::decide(state, command, now)
    }
    fn evolve(state: OrderState, event: &OrderEvent) -> OrderState {
        ordering::evolve(state, event)
    }
    fn command_name(command: &OrderCommand) -> &'static str {
        match command {
            OrderCommand::Place { .. } => "PlaceOrder",
            OrderCommand::RecordPaymentCaptured { .. } => "RecordPaymentCaptured",
            OrderCommand::RecordPaymentDeclined { .. } => "RecordPaymentDeclined",
            OrderCommand::Confirm { .. } => "ConfirmOrder",
            OrderCommand::Expire => "ExpireOrder",
            OrderCommand::Cancel { .. } => "CancelOrder",
            OrderCommand::CancelForEvent => "CancelOrderForEvent",
            OrderCommand::RecordRefunded { .. } => "RecordRefunded",
            OrderCommand::CheckIn { .. } => "CheckIn",
            _ => "OrderCommand",
        }
    }
}

/// The payment aggregate, on `payments.<payment>`.
pub struct PaymentAggregate;

impl ColdAggregate for PaymentAggregate {
    const STREAM: Stream = Stream::Payments;
    const NAME: &'static str = "Payment";
    type State = PaymentState;
    type Command = PaymentCommand;
    type Event = PaymentEvent;
    type Error = PaymentError;

    fn decide(
        state: &PaymentState,
        command: &PaymentCommand,
        now: Timestamp,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        payments::decide(state, command, now)
    }
    fn evolve(state: PaymentState, event: &PaymentEvent) -> PaymentState {
        payments::evolve(state, event)
    }
    fn command_name(command: &PaymentCommand) -> &'static str {
        match command {
            PaymentCommand::RecordCharge { .. } => "RecordCharge",
            PaymentCommand::Refund { .. } => "Refund",
            _ => "PaymentCommand",
        }
    }
}

/// An aggregate as its subject holds it now.
#[derive(Debug, Clone)]
pub struct Current<S> {
    pub state: S,
    /// The subject's last sequence: the expected sequence of the next append (0: none yet).
    pub last_sequence: u64,
    /// The sequence of its first commit (0: none yet): where a retried creation answers from.
    pub first_sequence: u64,
    /// The prefixed stream name, for positions.
    pub stream: String,
}

impl<S> Current<S> {
    pub fn last_position(&self) -> Position {
        Position {
            stream: self.stream.clone(),
            sequence: self.last_sequence,
        }
    }

    pub fn first_position(&self) -> Position {
        Position {
            stream: self.stream.clone(),
            sequence: self.first_sequence,
        }
    }
}

/// What a command did: the aggregate after it, and whether it appended anything.
#[derive(Debug, Clone)]
pub struct Executed<S> {
    pub current: Current<S>,
    /// False for a retry: the aggregate already showed the command's effect.
    pub appended: bool,
}

/// Why a command on a cold aggregate did not go through.
#[derive(Debug, thiserror::Error)]
pub enum ColdError<E> {
    /// A business rule refused it; nothing was appended.
    #[error("refused: {0}")]
    Rejected(E),
    /// The store could not be reached, or the aggregate kept changing under us: retry.
    #[error("the event store is unavailable: {0}")]
    Unavailable(String),
}

impl<E> From<StoreError> for ColdError<E> {
    fn from(e: StoreError) -> Self {
        ColdError::Unavailable(e.to_string())
    }
}

/// Where a command came from, carried into the headers of the commit it produces.
#[derive(Debug, Clone, Default)]
pub struct Causes {
    pub traceparent: Option<String>,
    /// Ties every commit of one purchase together (the order id).
    pub correlation_id: Option<String>,
    /// The commit that led to this command (a reactor's delivered commit).
    pub causation_id: Option<String>,
}

/// Loads aggregate `id` whole.
pub async fn load<A: ColdAggregate>(
    store: &EventStore,
    id: &str,
) -> Result<Current<A::State>, StoreError> {
    let loaded = store.load::<A::Event>(A::STREAM, id, 0).await?;
    let first_sequence = loaded.commits.first().map_or(0, |c| c.sequence);
    let state = loaded
        .commits
        .iter()
        .flat_map(|c| c.events.iter())
        .fold(A::State::default(), A::evolve);
    Ok(Current {
        state,
        last_sequence: loaded.last_sequence,
        first_sequence,
        stream: store.naming().stream(A::STREAM),
    })
}

/// Loads, decides and appends one command; on a conflict, again (bounded).
pub async fn execute<A: ColdAggregate>(
    store: &EventStore,
    id: &str,
    command: &A::Command,
    causes: &Causes,
) -> Result<Executed<A::State>, ColdError<A::Error>> {
    for _ in 0..=MAX_CONFLICT_RETRIES {
        let mut current = load::<A>(store, id).await?;
        let now = time::OffsetDateTime::now_utc();
        let facts = A::decide(&current.state, command, now).map_err(ColdError::Rejected)?;
        if facts.is_empty() {
            return Ok(Executed {
                current,
                appended: false,
            });
        }
        let mut meta = CommitMeta::new(A::NAME, A::command_name(command));
        meta.traceparent = causes.traceparent.clone();
        meta.correlation_id = causes.correlation_id.clone();
        meta.causation_id = causes.causation_id.clone();
        let records: Vec<_> = facts.iter().map(|f| EventRecord::new(1, f)).collect();
        match store
            .append(A::STREAM, id, current.last_sequence, &meta, &records)
            .await
        {
            Ok(position) => {
                metrics::counter!("tv_appends_total", "stream" => A::STREAM.token()).increment(1);
                current.state = facts.iter().fold(current.state, A::evolve);
                if current.first_sequence == 0 {
                    current.first_sequence = position.sequence;
                }
                current.last_sequence = position.sequence;
                return Ok(Executed {
                    current,
                    appended: true,
                });
            }
            Err(AppendError::Conflict { .. }) => {
                metrics::counter!("tv_append_conflicts_total", "stream" => A::STREAM.token())
                    .increment(1);
                continue;
            }
            Err(e) => return Err(ColdError::Unavailable(e.to_string())),
        }
    }
    Err(ColdError::Unavailable(format!(
        "{} {id} changed concurrently too often; retry",
        A::NAME
    )))
}
