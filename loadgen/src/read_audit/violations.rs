//! Violations found by the read-model audit, by kind, each kind with its count and a few
//! examples (a sale of 100,000 holds that goes wrong should not print 100,000 lines).

use serde::Serialize;
use std::collections::BTreeMap;

/// Examples kept per kind.
const EXAMPLES: usize = 5;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Kind {
    pub count: u64,
    pub examples: Vec<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Violations(BTreeMap<&'static str, Kind>);

impl Violations {
    pub fn add(&mut self, kind: &'static str, example: String) {
        let entry = self.0.entry(kind).or_default();
        entry.count += 1;
        if entry.examples.len() < EXAMPLES {
            entry.examples.push(example);
        }
    }

    /// Adds `other`'s violations (its examples while there is room).
    pub fn merge(&mut self, other: Violations) {
        for (kind, found) in other.0 {
            let entry = self.0.entry(kind).or_default();
            entry.count += found.count;
            let room = EXAMPLES.saturating_sub(entry.examples.len());
            entry.examples.extend(found.examples.into_iter().take(room));
        }
    }

    pub fn total(&self) -> u64 {
        self.0.values().map(|k| k.count).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[cfg(test)]
    pub fn count(&self, kind: &str) -> u64 {
        self.0.get(kind).map_or(0, |k| k.count)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Kind)> {
        self.0.iter().map(|(k, v)| (*k, v))
    }
}
