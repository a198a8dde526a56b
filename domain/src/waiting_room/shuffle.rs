//! The prequeue's random order: a Fisher–Yates shuffle driven by ChaCha20 from a recorded seed.
//!
//! The seed is drawn by the service from the operating system and recorded in the
//! `PrequeueShuffled` fact; this module never draws randomness. Anyone holding the log can
//! recompute the order: the prequeue in join order (the `CustomerJoined` facts into the prequeue,
//! in stream order) shuffled with the recorded seed. The order depends only on ChaCha20's key
//! stream, whose values for a seed are fixed (`rand_chacha` promises reproducible output), and on
//! the sampling below, which is written out here rather than borrowed from a library whose
//! algorithm may change between versions; a test pins the order of a known seed.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// 256 bits that decide the prequeue's order. Written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShuffleSeed([u8; 32]);

impl ShuffleSeed {
    /// The seed from 32 bytes the service drew from the operating system.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Why a text is not a shuffle seed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a shuffle seed is 64 hexadecimal digits")]
pub struct InvalidSeed;

impl fmt::Display for ShuffleSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl fmt::Debug for ShuffleSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShuffleSeed({self})")
    }
}

impl FromStr for ShuffleSeed {
    type Err = InvalidSeed;
    fn from_str(s: &str) -> Result<Self, InvalidSeed> {
        if s.len() != 64 || !s.is_ascii() {
            return Err(InvalidSeed);
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(s.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| InvalidSeed)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| InvalidSeed)?;
        }
        Ok(Self(bytes))
    }
}

impl Serialize for ShuffleSeed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ShuffleSeed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Where each place of a prequeue of `len` goes: `order[rank]` is the join index (0-based, in
/// join order) of the customer who is at `rank` after the shuffle. Every one of the `len!` orders
/// is equally likely for a uniformly drawn seed.
pub fn shuffled_order(len: usize, seed: &ShuffleSeed) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut rng = ChaCha20Rng::from_seed(seed.0);
    // Fisher–Yates (Durstenfeld): the last open place takes a uniformly chosen one of the places
    // still open, including itself.
    for last in (1..len).rev() {
        let chosen = below(&mut rng, last as u64 + 1) as usize;
        order.swap(last, chosen);
    }
    order
}

/// The prequeue, given in join order, in its shuffled order.
pub fn shuffle_prequeue<T: Clone>(in_join_order: &[T], seed: &ShuffleSeed) -> Vec<T> {
    shuffled_order(in_join_order.len(), seed)
        .into_iter()
        .map(|joined| in_join_order[joined].clone())
        .collect()
}

/// A uniform draw from `0..bound` (`bound > 0`), without the bias of `next % bound`: Lemire's
/// multiply-and-reject ("Fast random integer generation in an interval", 2019). The high word of
/// `x * bound` is uniform once the low words below `2^64 mod bound` are drawn again.
fn below(rng: &mut ChaCha20Rng, bound: u64) -> u64 {
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let product = u128::from(rng.next_u64()) * u128::from(bound);
        if (product as u64) >= threshold {
            return (product >> 64) as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(first: u8) -> ShuffleSeed {
        let mut bytes = [0u8; 32];
        bytes[0] = first;
        ShuffleSeed::from_bytes(bytes)
    }

    #[test]
    fn a_seed_is_written_as_hex_and_read_back() {
        let seed = seed(0xab);
        let text = seed.to_string();
        assert_eq!(text.len(), 64);
        assert!(text.starts_with("ab00"));
        assert_eq!(text.parse::<ShuffleSeed>().unwrap(), seed);
        assert_eq!(serde_json::to_string(&seed).unwrap(), format!("\"{text}\""));
        for bad in ["", "ab", &"g".repeat(64), &"0".repeat(63), &"é".repeat(32)] {
            assert_eq!(bad.parse::<ShuffleSeed>(), Err(InvalidSeed), "{bad:?}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_order_and_another_seed_another() {
        assert_eq!(
            shuffled_order(1_000, &seed(1)),
            shuffled_order(1_000, &seed(1))
        );
        assert_ne!(
            shuffled_order(1_000, &seed(1)),
            shuffled_order(1_000, &seed(2))
        );
        assert_eq!(shuffled_order(0, &seed(1)), Vec::<usize>::new());
        assert_eq!(shuffled_order(1, &seed(1)), vec![0]);
    }

    /// The order of a recorded seed must never change: an audit recomputes it years later. If this
    /// fails, the shuffle (or the generator under it) changed and old logs no longer replay.
    #[test]
    fn the_order_of_a_known_seed_is_pinned() {
        assert_eq!(
            shuffled_order(12, &seed(7)),
            PINNED_ORDER_OF_SEED_7,
            "the shuffle's output changed"
        );
    }

    const PINNED_ORDER_OF_SEED_7: [usize; 12] = [11, 10, 6, 5, 4, 8, 2, 7, 9, 1, 0, 3];

    /// The generator is ChaCha20 itself: its first word for the all-zero key and nonce is the one
    /// of the published test vector (RFC 7539 §A.1, keystream `76 b8 e0 ad ...`).
    #[test]
    fn the_generator_is_chacha20() {
        let mut rng = ChaCha20Rng::from_seed([0; 32]);
        assert_eq!(rng.next_u32(), 0xade0_b876);
        assert_eq!(rng.next_u32(), 0x903d_f1a0);
    }

    #[test]
    fn draws_below_a_bound_stay_below_it() {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        for bound in [1, 2, 3, 7, 1 << 33, u64::MAX] {
            for _ in 0..100 {
                assert!(below(&mut rng, bound) < bound);
            }
        }
    }
}
