//! Property test of presale codes: whatever sequence of holds (with good, wrong or no codes),
//! retries, releases, checkouts, sales, returns, abandoned checkouts and expiries, and whatever
//! the time (before, during, between and after the presales), the tickets live or sold with a
//! code never exceed its presale's `max_tickets_per_code`; a hold spends a code at most once, and
//! every hold placed before the general sale spent one. The count is made the slow, obvious way
//! from the facts and the holds, not read from the index under test.

use super::presale::{loaded, opened_with_presales, place_with, presales, FANS_OPEN};
use super::*;
use crate::inventory::{decide, EventInventory, HoldStatus};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::HashMap;

#[derive(Debug, Clone)]
enum Op {
    Advance(i64),
    Place {
        customer: usize,
        key: u8,
        code: usize,
        quantity: u32,
    },
    Retry(Index),
    Release(Index),
    Checkout {
        hold: Index,
        order: u128,
    },
    Sell {
        hold: Index,
        order: u128,
    },
    Return {
        order: u128,
    },
    Abandon {
        hold: Index,
        order: u128,
    },
    ExpireDue,
}

const CUSTOMERS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];
/// The fixture's codes, a wrong one and none.
const CODES: [Option<&str>; 5] = [
    Some("FAN-1"),
    Some("FAN-2"),
    Some("MEM-1"),
    Some("NOPE-1"),
    None,
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0i64..900).prop_map(Op::Advance),
        1 => Just(Op::Advance(TTL)),
        8 => (0..5usize, 0..6u8, 0..5usize, 1..=3u32).prop_map(|(customer, key, code, quantity)| {
            Op::Place { customer, key, code, quantity }
        }),
        2 => any::<Index>().prop_map(Op::Retry),
        2 => any::<Index>().prop_map(Op::Release),
        3 => (any::<Index>(), 1..6u128).prop_map(|(hold, order)| Op::Checkout { hold, order }),
        3 => (any::<Index>(), 1..6u128).prop_map(|(hold, order)| Op::Sell { hold, order }),
        1 => (1..6u128).prop_map(|order| Op::Return { order }),
        1 => (any::<Index>(), 1..6u128).prop_map(|(hold, order)| Op::Abandon { hold, order }),
        1 => Just(Op::ExpireDue),
    ]
}

/// A random sale: the steps, from shortly before the first presale.
struct Run {
    state: EventInventory,
    now: i64,
    /// Accepted hold requests, to retry and to pick holds from.
    placed: Vec<InventoryCommand>,
    /// The code each hold spent, from the `AccessCodeSpent` facts.
    spent_by: HashMap<HoldId, (String, AccessCodeHashText)>,
}

type AccessCodeHashText = String;

impl Run {
    fn hold_at(&self, index: &Index) -> Option<(HoldId, CustomerId)> {
        if self.placed.is_empty() {
            return None;
        }
        match &self.placed[index.index(self.placed.len())] {
            InventoryCommand::PlaceHold(request) => {
                Some((request.hold_id, request.customer_id.clone()))
            }
            _ => None,
        }
    }

    fn command(&self, op: &Op) -> Option<InventoryCommand> {
        Some(match op {
            Op::Advance(_) => return None,
            Op::Place {
                customer,
                key,
                code,
                quantity,
            } => place_with(
                &super::customer(CUSTOMERS[*customer]),
                &format!("k{key}"),
                *quantity,
                CODES[*code],
            ),
            Op::Retry(index) => {
                if self.placed.is_empty() {
                    return None;
                }
                self.placed[index.index(self.placed.len())].clone()
            }
            Op::Release(hold) => {
                let (hold_id, customer_id) = self.hold_at(hold)?;
                InventoryCommand::ReleaseHold {
                    hold_id,
                    customer_id,
                }
            }
            Op::Checkout { hold, order: n } => {
                let (hold_id, customer_id) = self.hold_at(hold)?;
                InventoryCommand::CheckoutHold {
                    hold_id,
                    order_id: order(*n),
                    customer_id,
                }
            }
            Op::Sell { hold, order: n } => InventoryCommand::SellHold {
                hold_id: self.hold_at(hold)?.0,
                order_id: order(*n),
            },
            Op::Return { order: n } => InventoryCommand::ReturnSeats {
                order_id: order(*n),
            },
            Op::Abandon { hold, order: n } => InventoryCommand::AbandonCheckout {
                hold_id: self.hold_at(hold)?.0,
                order_id: order(*n),
            },
            Op::ExpireDue => InventoryCommand::ExpireDue,
        })
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        if let Op::Advance(seconds) = op {
            self.now += seconds;
            return Ok(());
        }
        let Some(command) = self.command(op) else {
            return Ok(());
        };
        let Ok(facts) = decide(&self.state, &command, at(self.now)) else {
            return Ok(());
        };
        for (i, fact) in facts.iter().enumerate() {
            match fact {
                InventoryEvent::SeatsHeld { hold_id, .. } => {
                    let next = facts.get(i + 1);
                    let spends = matches!(next, Some(InventoryEvent::AccessCodeSpent { hold_id: h, .. }) if h == hold_id);
                    // Before the general sale, every new hold spends a code; after it, none does.
                    prop_assert_eq!(spends, self.now < 0, "hold {} at {}", hold_id, self.now);
                }
                InventoryEvent::AccessCodeSpent {
                    hold_id,
                    presale_id,
                    code,
                } => {
                    let first = self
                        .spent_by
                        .insert(*hold_id, (presale_id.to_string(), code.to_hex()));
                    prop_assert!(first.is_none(), "hold {} spent a code twice", hold_id);
                }
                _ => {}
            }
            self.state.apply(fact);
        }
        if matches!(command, InventoryCommand::PlaceHold(_)) && !facts.is_empty() {
            self.placed.push(command);
        }
        self.check_budgets()
    }

    /// Per code, the tickets of its holds that are live at `now` or sold.
    fn check_budgets(&self) -> Result<(), TestCaseError> {
        let now = at(self.now);
        let mut counted: HashMap<&(String, String), u32> = HashMap::new();
        for (hold_id, spent) in &self.spent_by {
            let hold = self
                .state
                .hold(hold_id)
                .expect("a hold that spent a code exists");
            let occupies = match hold.status {
                HoldStatus::Active | HoldStatus::Ordered { .. } => hold.expires_at > now,
                HoldStatus::Sold { .. } => true,
                _ => false,
            };
            if occupies {
                *counted.entry(spent).or_insert(0) += hold.quantity;
            }
        }
        for ((presale, code), tickets) in counted {
            let max = presales()
                .into_iter()
                .find(|p| p.presale_id.as_str() == presale)
                .map(|p| p.max_tickets_per_code)
                .expect("a known presale");
            prop_assert!(
                tickets <= max,
                "code {code} of {presale} has {tickets} tickets live or sold, over {max}"
            );
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_code_never_has_more_tickets_live_or_sold_than_its_budget(
        ops in prop::collection::vec(op(), 1..120),
    ) {
        let state = [
            opened_with_presales(),
            loaded("fans", &["FAN-1", "FAN-2"]),
            loaded("members", &["MEM-1"]),
        ]
        .iter()
        .fold(EventInventory::default(), |mut s, e| {
            s.apply(e);
            s
        });
        let mut run = Run {
            state,
            now: FANS_OPEN - 60,
            placed: Vec::new(),
            spent_by: HashMap::new(),
        };
        for op in &ops {
            run.step(op)?;
        }
        // What a code spent is rebuilt the same from a snapshot.
        let restored: EventInventory =
            serde_json::from_slice(&serde_json::to_vec(&run.state).unwrap()).unwrap();
        prop_assert!(restored == run.state);
        let binary: EventInventory =
            postcard::from_bytes(&postcard::to_allocvec(&run.state).unwrap()).unwrap();
        prop_assert!(binary == run.state);
        prop_assert!(binary.index == restored.index, "binary and JSON indexes differ");
        let probe = place_with(&customer("zed"), "probe", 1, Some("FAN-1"));
        prop_assert_eq!(
            decide(&restored, &probe, at(run.now)),
            decide(&run.state, &probe, at(run.now))
        );
    }
}
