//! Commands for an event another instance owns travel there by NATS request-reply, on that
//! instance's subject `<prefix>.forward.<instance>` (core NATS, in no stream), and its answer comes
//! back as it was decided: the caller maps it to HTTP exactly as for a command decided here, so a
//! client sees the same status and body through any instance, and an idempotent retry is
//! recognised by the owner's writer wherever it arrives.
//!
//! A request that reaches no one (the owner died, its lease not yet expired) is routed again; a
//! request whose answer does not come back in time may have been decided, so it is answered 503,
//! which the client retries with the same idempotency key.

use super::error::CommandError;
use super::registry::{Decided, Inventories};
use domain::ids::{EventId, OrderId, TicketTypeId};
use domain::inventory::{Block, Hold, InventoryCommand, InventoryError, WaitlistPlace};
use domain::money::Money;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tv_nats::{EventStore, RequestError, Requests};

/// How long a forwarded command may take, queueing at the owner included, before the caller is
/// told to retry: within the HTTP request deadline.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// A command as it travels to the owner.
#[derive(Serialize, Deserialize)]
struct Forwarded {
    event: EventId,
    command: InventoryCommand,
    traceparent: Option<String>,
}

/// The owner's answer. (Built once per command and serialized at once: not worth a box.)
#[derive(Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
enum Answer {
    Decided {
        position: String,
        hold: Option<Hold>,
        price: Option<Money>,
        waitlist: Option<WaitlistPlace>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        orders: Vec<OrderId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        block: Option<Block>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        type_id: Option<TicketTypeId>,
    },
    Rejected(InventoryError),
    Overloaded,
    Unavailable(String),
    /// The receiver does not own the event (any more): route again.
    NotOwner,
}

impl From<Result<Decided, CommandError>> for Answer {
    fn from(result: Result<Decided, CommandError>) -> Self {
        match result {
            Ok(decided) => Answer::Decided {
                position: decided.position.to_string(),
                hold: decided.hold,
                price: decided.price,
                waitlist: decided.waitlist,
                orders: decided.orders,
                block: decided.block,
                type_id: decided.type_id,
            },
            Err(CommandError::Rejected(error)) => Answer::Rejected(error),
            Err(CommandError::Overloaded) => Answer::Overloaded,
            Err(CommandError::Unavailable(reason)) => Answer::Unavailable(reason),
        }
    }
}

/// What forwarding a command came to. (Returned once per command: not worth a box.)
#[allow(clippy::large_enum_variant)]
pub(super) enum Sent {
    /// The owner decided it (or could not): its answer.
    Answered(Result<Decided, CommandError>),
    /// Nobody took it, or the receiver does not own the event: route again.
    Unrouted,
}

/// Sends `command` to the instance taking requests on `subject` and waits for its answer.
pub(super) async fn send(
    store: &EventStore,
    subject: String,
    event: EventId,
    command: &InventoryCommand,
    traceparent: Option<&str>,
) -> Sent {
    let request = Forwarded {
        event,
        command: command.clone(),
        traceparent: traceparent.map(str::to_owned),
    };
    let payload = match serde_json::to_vec(&request) {
        Ok(payload) => payload,
        Err(e) => return unavailable(format!("encoding a forwarded command: {e}")),
    };
    metrics::counter!("tv_commands_forwarded_total").increment(1);
    let reply = match store.request(subject, payload, FORWARD_TIMEOUT).await {
        Ok(reply) => reply,
        Err(RequestError::NoResponders) => return Sent::Unrouted,
        Err(e) => return unavailable(format!("forwarding to the event's owner: {e}")),
    };
    match serde_json::from_slice::<Answer>(&reply) {
        Ok(Answer::NotOwner) => Sent::Unrouted,
        Ok(Answer::Decided {
            position,
            hold,
            price,
            waitlist,
            orders,
            block,
            type_id,
        }) => match position.parse() {
            Ok(position) => Sent::Answered(Ok(Decided {
                position,
                hold,
                price,
                waitlist,
                orders,
                block,
                type_id,
            })),
            Err(_) => unavailable(format!("the owner answered a bad position {position:?}")),
        },
        Ok(Answer::Rejected(error)) => Sent::Answered(Err(CommandError::Rejected(error))),
        Ok(Answer::Overloaded) => Sent::Answered(Err(CommandError::Overloaded)),
        Ok(Answer::Unavailable(reason)) => Sent::Answered(Err(CommandError::Unavailable(reason))),
        Err(e) => unavailable(format!("the owner's answer cannot be read: {e}")),
    }
}

fn unavailable(reason: String) -> Sent {
    Sent::Answered(Err(CommandError::Unavailable(reason)))
}

/// Takes the commands other instances forward to this one, until `inventories` is dropped or
/// stopped: each is decided here if this instance owns its event, else refused as not owned.
pub(super) async fn serve(
    mut requests: Requests,
    inventories: std::sync::Weak<super::registry::Shared>,
) {
    while let Some(request) = requests.next().await {
        let Some(shared) = inventories.upgrade() else {
            break;
        };
        let inventories = Inventories::from_shared(shared);
        tokio::spawn(async move {
            let answer = match serde_json::from_slice::<Forwarded>(&request.payload) {
                Ok(forwarded) => inventories
                    .decide_as_owner(forwarded.event, forwarded.command, forwarded.traceparent)
                    .await
                    .map(Answer::from)
                    .unwrap_or(Answer::NotOwner),
                Err(e) => Answer::Unavailable(format!("a forwarded command cannot be read: {e}")),
            };
            match serde_json::to_vec(&answer) {
                Ok(payload) => {
                    if let Err(e) = request.answer(payload).await {
                        tracing::warn!(error = %e, "cannot answer a forwarded command");
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot encode a forwarded answer"),
            }
        });
    }
}
