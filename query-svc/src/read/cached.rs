//! The one way query-svc caches a read model: [`Cached::get`].
//!
//! A value is served from the cache when it was read at a checkpoint its shard's coherence still
//! allows ([`Coherence::serves`]); otherwise it is loaded through moka's per-key compute, which
//! serialises a load and a notice for one key and makes concurrent misses of a hot key wait for
//! one load instead of all querying PostgreSQL. What a load does not find (an id nobody stored,
//! or not yet) is never cached, so unknown keys cannot fill memory: the next request loads again.
//!
//! A resource is one module of `read/`: its row type, its load (SQL), and a field of this type
//! in [`super::Caches`].

use super::{Coherence, ReadError};
use moka::future::Cache;
use moka::ops::compute::{CompResult, Op};
use moka::Equivalent;
use std::future::Future;
use std::hash::Hash;

/// A value and the checkpoint of its shard it was read at (exact as of it).
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub as_of: u64,
    pub value: T,
}

/// One cache of a resource, bounded in bytes by the weight of its entries, with its hit, miss
/// and load counters (`tv_query_cache_{hits,misses,loads}_total{cache="<name>"}`).
pub struct Cached<K, V> {
    cache: Cache<K, Versioned<V>>,
    hits: metrics::Counter,
    misses: metrics::Counter,
    loads: metrics::Counter,
}

impl<K, V> Cached<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache named `name` in metrics, of at most `max_bytes` by `weigh`.
    pub fn new(
        name: &'static str,
        max_bytes: u64,
        weigh: impl Fn(&K, &V) -> u32 + Send + Sync + 'static,
    ) -> Self {
        Self {
            cache: Cache::builder()
                .weigher(move |k: &K, v: &Versioned<V>| weigh(k, &v.value))
                .max_capacity(max_bytes)
                .build(),
            hits: metrics::counter!("tv_query_cache_hits_total", "cache" => name),
            misses: metrics::counter!("tv_query_cache_misses_total", "cache" => name),
            loads: metrics::counter!("tv_query_cache_loads_total", "cache" => name),
        }
    }

    /// The value of `key` as of at least `min_as_of` (and the last drop of its shard): cached,
    /// or loaded by `load`, which is given the cached value it replaces (a resource may merge
    /// the two) and answers the value with the checkpoint it was read at.
    pub async fn get<Q, L, F>(
        &self,
        key: &Q,
        coherence: &Coherence,
        min_as_of: u64,
        load: L,
    ) -> Result<Option<V>, ReadError>
    where
        Q: Equivalent<K> + ToOwned<Owned = K> + Hash + ?Sized,
        L: FnOnce(Option<V>) -> F,
        F: Future<Output = Result<Versioned<Option<V>>, ReadError>>,
    {
        if let Some(hit) = self.cache.get(key).await {
            if coherence.serves(hit.as_of, min_as_of) {
                self.hits.increment(1);
                return Ok(Some(hit.value));
            }
        }
        self.misses.increment(1);
        let result = self
            .cache
            .entry_by_ref(key)
            .and_try_compute_with(|current| async move {
                let current = current.map(|e| e.into_value());
                if let Some(current) = &current {
                    if coherence.serves(current.as_of, min_as_of) {
                        return Ok(Op::Nop);
                    }
                }
                self.loads.increment(1);
                let loaded = load(current.map(|c| c.value)).await?;
                Ok::<_, ReadError>(match loaded.value {
                    Some(value) => Op::Put(Versioned {
                        as_of: loaded.as_of,
                        value,
                    }),
                    None => Op::Remove,
                })
            })
            .await?;
        Ok(match result {
            CompResult::Inserted(e) | CompResult::ReplacedWith(e) | CompResult::Unchanged(e) => {
                Some(e.into_value().value)
            }
            CompResult::Removed(_) | CompResult::StillNone(_) => None,
        })
    }

    /// Applies a notice to one cached entry, if there is one: `change` answers what becomes of
    /// it (kept, replaced, dropped), serialised with loads of the same key.
    pub async fn change(&self, key: K, change: impl FnOnce(Versioned<V>) -> Op<Versioned<V>>) {
        self.cache
            .entry(key)
            .and_compute_with(|current| async move {
                match current {
                    Some(entry) => change(entry.into_value()),
                    None => Op::Nop,
                }
            })
            .await;
    }

    /// Drops one entry (its next read loads it again).
    pub async fn forget(&self, key: K) {
        self.change(key, |_| Op::Remove).await;
    }

    /// Drops every entry.
    pub fn forget_all(&self) {
        self.cache.invalidate_all();
    }
}
