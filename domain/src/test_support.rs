//! Rules as stories: given these facts, when this command at this time, then these facts (or this
//! error). A small cousin of cqrs-es' `TestFramework`, for any decider of this crate.
//!
//! `then` also folds the decided facts into the state and returns it, so a story can go on
//! (`given(..).when(..).then(..)` → the state for the next `when`) or look at the result.

use crate::Timestamp;
use std::fmt::Debug;

/// A `decide` / `evolve` pair, named once per aggregate.
pub(crate) trait Decider {
    type State: Default + Debug;
    type Command: Debug;
    type Event: Debug + PartialEq;
    type Error: Debug + PartialEq;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
        now: Timestamp,
    ) -> Result<Vec<Self::Event>, Self::Error>;
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;
}

pub(crate) struct Catalog;

impl Decider for Catalog {
    type State = crate::catalog::CatalogState;
    type Command = crate::catalog::CatalogCommand;
    type Event = crate::catalog::CatalogEvent;
    type Error = crate::catalog::CatalogError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
        now: Timestamp,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        crate::catalog::decide(state, command, now)
    }
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        crate::catalog::evolve(state, event)
    }
}

pub(crate) struct Inventory;

impl Decider for Inventory {
    type State = crate::inventory::EventInventory;
    type Command = crate::inventory::InventoryCommand;
    type Event = crate::inventory::InventoryEvent;
    type Error = crate::inventory::InventoryError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
        now: Timestamp,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        crate::inventory::decide(state, command, now)
    }
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        crate::inventory::evolve(state, event)
    }
}

pub(crate) struct Ordering;

impl Decider for Ordering {
    type State = crate::ordering::OrderState;
    type Command = crate::ordering::OrderCommand;
    type Event = crate::ordering::OrderEvent;
    type Error = crate::ordering::OrderError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
        now: Timestamp,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        crate::ordering::decide(state, command, now)
    }
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        crate::ordering::evolve(state, event)
    }
}

pub(crate) struct Payments;

impl Decider for Payments {
    type State = crate::payments::PaymentState;
    type Command = crate::payments::PaymentCommand;
    type Event = crate::payments::PaymentEvent;
    type Error = crate::payments::PaymentError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
        now: Timestamp,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        crate::payments::decide(state, command, now)
    }
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        crate::payments::evolve(state, event)
    }
}

pub(crate) struct WaitingRooms;

impl Decider for WaitingRooms {
    type State = crate::waiting_room::WaitingRoom;
    type Command = crate::waiting_room::WaitingRoomCommand;
    type Event = crate::waiting_room::WaitingRoomEvent;
    type Error = crate::waiting_room::WaitingRoomError;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
        now: Timestamp,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        crate::waiting_room::decide(state, command, now)
    }
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        crate::waiting_room::evolve(state, event)
    }
}

/// The facts a story starts from, folded into a state.
pub(crate) struct Given<D: Decider> {
    state: D::State,
}

/// Start a story from these facts.
pub(crate) fn given<D: Decider>(events: impl IntoIterator<Item = D::Event>) -> Given<D> {
    Given {
        state: events
            .into_iter()
            .fold(D::State::default(), |s, e| D::evolve(s, &e)),
    }
}

/// Start a story from a state built some other way (a snapshot, an earlier story).
pub(crate) fn given_state<D: Decider>(state: D::State) -> Given<D> {
    Given { state }
}

impl<D: Decider> Given<D> {
    pub(crate) fn when(self, command: D::Command, now: Timestamp) -> When<D> {
        let result = D::decide(&self.state, &command, now);
        When {
            state: self.state,
            command,
            result,
        }
    }
}

/// A decision waiting for its expectation.
pub(crate) struct When<D: Decider> {
    state: D::State,
    command: D::Command,
    result: Result<Vec<D::Event>, D::Error>,
}

impl<D: Decider> When<D> {
    /// The command succeeded with exactly these facts; returns the state with them applied.
    #[track_caller]
    pub(crate) fn then(self, expected: Vec<D::Event>) -> D::State {
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "facts of {:?}", self.command);
                events.iter().fold(self.state, |s, e| D::evolve(s, e))
            }
            Err(error) => panic!(
                "{:?} was refused with {error:?}; expected {expected:?}",
                self.command
            ),
        }
    }

    /// The command succeeded and decided nothing (a retry).
    #[track_caller]
    pub(crate) fn then_nothing(self) -> D::State {
        self.then(Vec::new())
    }

    /// The command was refused with exactly this error.
    #[track_caller]
    pub(crate) fn then_error(self, expected: D::Error) {
        match self.result {
            Err(error) => assert_eq!(error, expected, "error of {:?}", self.command),
            Ok(events) => panic!(
                "{:?} decided {events:?}; expected the error {expected:?}",
                self.command
            ),
        }
    }

    /// The raw result, for a story that checks something less exact.
    pub(crate) fn result(self) -> Result<Vec<D::Event>, D::Error> {
        self.result
    }
}
