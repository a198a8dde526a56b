//! Rule 2: at `sale_opens_at` the prequeue is put in a random order, drawn from a seed that comes
//! with the command and is recorded in the fact, so anyone can recompute it from the log. It
//! happens once; those who join after the opening stand behind the whole prequeue.

use super::*;
use crate::waiting_room::{shuffle_prequeue, QueueState, WaitingRoomError};

fn prequeue_of(n: usize) -> Vec<WaitingRoomEvent> {
    (0..n)
        .map(|i| joined_prequeue(&nth(i), at(-100 + i as i64)))
        .collect()
}

#[test]
fn the_prequeue_is_shuffled_at_the_opening_with_the_seed_recorded() {
    let state = room(config(60, None), prequeue_of(10))
        .when(
            WaitingRoomCommand::ShufflePrequeue { seed: seed(42) },
            at(0),
        )
        .then(vec![shuffled(seed(42), 10, at(0))]);
    assert!(state.is_shuffled());

    // The order is the recorded seed's shuffle of the prequeue in join order.
    let in_join_order: Vec<_> = (0..10).map(nth).collect();
    let expected = shuffle_prequeue(&in_join_order, &seed(42));
    assert_eq!(state.line_order().cloned().collect::<Vec<_>>(), expected);
    assert_ne!(
        expected, in_join_order,
        "seed 42 happens to keep the join order"
    );
    for (rank, who) in expected.iter().enumerate() {
        let status = state.status(who, at(0), None).unwrap();
        assert_eq!(status.state, QueueState::Waiting);
        assert_eq!(status.position, Some(rank as u64 + 1));
    }
}

#[test]
fn the_prequeue_is_not_shuffled_before_the_sale_opens() {
    room(config(60, None), prequeue_of(3))
        .when(
            WaitingRoomCommand::ShufflePrequeue { seed: seed(1) },
            at(-1),
        )
        .then_error(WaitingRoomError::SaleNotOpen {
            sale_opens_at: SALE,
        });
}

#[test]
fn a_second_shuffle_decides_nothing_and_the_first_order_stands() {
    let history = prequeue_of(5)
        .into_iter()
        .chain([shuffled(seed(1), 5, at(0))]);
    room(config(60, None), history)
        .when(WaitingRoomCommand::ShufflePrequeue { seed: seed(2) }, at(1))
        .then_nothing();
}

#[test]
fn the_admitter_is_told_to_shuffle_once_the_sale_is_open() {
    let before = state_after(config(60, None), prequeue_of(3));
    assert!(!before.needs_shuffle(at(-1)));
    assert!(before.needs_shuffle(at(0)));
    let after = crate::waiting_room::evolve(before, &shuffled(seed(1), 3, at(0)));
    assert!(!after.needs_shuffle(at(1)));
    // An empty prequeue is shuffled too: the fact marks the opening.
    room(config(60, None), [])
        .when(WaitingRoomCommand::ShufflePrequeue { seed: seed(3) }, at(0))
        .then(vec![shuffled(seed(3), 0, at(0))]);
}

#[test]
fn nobody_is_admitted_before_the_shuffle() {
    room(config(60, None), prequeue_of(3))
        .when(WaitingRoomCommand::Admit, at(-1))
        .then_nothing();
    room(config(60, None), prequeue_of(3))
        .when(WaitingRoomCommand::Admit, at(0))
        .then_error(WaitingRoomError::NotShuffled);
}

#[test]
fn joiners_after_the_opening_stand_behind_the_whole_prequeue() {
    // Two joined the line before the shuffle was recorded, one after.
    let (x, y, z) = (customer("x"), customer("y"), customer("z"));
    let history = prequeue_of(4)
        .into_iter()
        .chain([joined_line(&x, at(0)), joined_line(&y, at(0))])
        .chain([shuffled(seed(9), 4, at(0)), joined_line(&z, at(1))]);
    let state = state_after(config(60, None), history);
    let order: Vec<_> = state.line_order().cloned().collect();
    assert_eq!(order[4..], [x, y, z]);
    let mut front: Vec<_> = order[..4].to_vec();
    front.sort();
    assert_eq!(front, (0..4).map(nth).collect::<Vec<_>>());
}

#[test]
fn those_who_left_the_prequeue_keep_their_draw_and_are_stepped_over() {
    let history = prequeue_of(6)
        .into_iter()
        .chain([left(&nth(2), at(-5)), shuffled(seed(5), 6, at(0))]);
    let state = state_after(config(60, None), history);
    let order: Vec<_> = state.line_order().cloned().collect();
    let in_join_order: Vec<_> = (0..6).map(nth).collect();
    assert_eq!(order, shuffle_prequeue(&in_join_order, &seed(5)));
    let positions: Vec<_> = order
        .iter()
        .filter_map(|c| state.status(c, at(0), None).unwrap().position)
        .collect();
    assert_eq!(positions, [1, 2, 3, 4, 5]);
    assert_eq!(
        state.status(&nth(2), at(0), None).unwrap().state,
        QueueState::Left
    );
}

#[test]
fn a_prequeue_join_recorded_after_the_shuffle_stands_first_behind_the_shuffled_prequeue() {
    // Joins and the room's own facts are appended side by side: the shuffle was decided on a
    // prequeue of 4 while a fifth prequeue join, decided before the opening, was on its way.
    let late = nth(4);
    let after = customer("after-the-opening");
    let history = prequeue_of(5)
        .into_iter()
        .chain([shuffled(seed(7), 4, at(0)), joined_line(&after, at(1))]);
    let state = state_after(config(60, None), history);
    let in_join_order: Vec<_> = (0..4).map(nth).collect();
    let mut expected = shuffle_prequeue(&in_join_order, &seed(7));
    expected.extend([late.clone(), after.clone()]);
    assert_eq!(state.line_order().cloned().collect::<Vec<_>>(), expected);
    let status = state.status(&late, at(1), None).unwrap();
    assert_eq!(status.state, QueueState::Waiting);
    assert_eq!(status.position, Some(5));
    assert_eq!(state.status(&after, at(1), None).unwrap().position, Some(6));
}

#[test]
fn a_shuffle_of_more_joiners_than_the_prequeue_holds_is_not_applied() {
    let state = state_after(
        config(60, None),
        prequeue_of(3)
            .into_iter()
            .chain([shuffled(seed(1), 4, at(0))]),
    );
    assert!(!state.is_shuffled());
}
