//! [`TtlCache`]: a bounded, thread-safe map whose entries expire, evicting the oldest inserted entry when full.
//!
//! Semantics (those of Clerk's PR #8519 negative cache, SPEC §4, made generic):
//! - An entry inserted at `t` with TTL `d` is present while `now < t + d` and absent from `now >= t + d`. Expiry
//!   is checked on read: the read that finds an expired entry removes it and counts a miss.
//! - Re-inserting a live key replaces its value and restarts its TTL **in place**: it keeps its position in the
//!   eviction order (like `Map.set` on an existing key). Re-inserting an expired key inserts it anew, at the end.
//! - When full, an insert first evicts the oldest *inserted* entry (FIFO, not LRU: reads do not reorder). Each
//!   insert also sweeps at most two expired entries off the old end, so `size` does not keep dead entries long.
//! - Shrinking the capacity with [`TtlCache::reconfigure`] evicts the oldest entries at once. A new TTL applies
//!   to later inserts; entries already held keep their expiry.
//!
//! Layout: the entries live once, densely, in a `Vec` of nodes `{ key, value, expires_at, prev, next }` that
//! also form a doubly linked list in insertion order (by `u32` index); a `hashbrown::HashTable<u32>` indexes
//! them by key (4 bytes plus a control byte per bucket). Removing an entry unlinks it and moves the last node
//! into its slot. So `get`, `insert`, `remove` and eviction are O(1) (no stale records, no compaction);
//! `remove_where` and `purge_expired` are O(n). The node vector grows by doubling but never past the capacity.
//! For a 32-byte key and a unit value a node is 48 bytes; with the index that is about 55-65 heap bytes per
//! entry, measured by `tests/cache_memory.rs` and the `cache` bench (a `HashMap` plus an order `VecDeque` of
//! keys took 145-226).
//!
//! One `std::sync::Mutex` guards everything; the critical sections are a hash lookup or two. A poisoned lock is
//! taken over (nothing in here panics while holding it, and the state is valid between statements).

use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hashbrown::HashTable;

use super::error::CacheError;
use super::stats::CacheStats;
use crate::clock::Clock;

/// The largest capacity any cache accepts.
pub const MAX_CAPACITY: usize = 10_000_000;

/// How many expired entries an insert sweeps off the old end at most.
const SWEEP_PER_INSERT: usize = 2;

/// "No node" in the links.
const NIL: u32 = u32::MAX;

/// Check a capacity: `1..=MAX_CAPACITY`. `field` names it in the error.
pub fn validate_capacity(field: &str, capacity: i64) -> Result<usize, CacheError> {
    match usize::try_from(capacity) {
        Ok(c) if (1..=MAX_CAPACITY).contains(&c) => Ok(c),
        _ => Err(CacheError::InvalidCapacity {
            field: field.to_owned(),
            value: capacity,
            max: MAX_CAPACITY,
        }),
    }
}

/// Check a TTL: at least 1 ms. `field` names it in the error.
pub fn validate_ttl(field: &str, ttl_ms: i64) -> Result<i64, CacheError> {
    if ttl_ms >= 1 {
        Ok(ttl_ms)
    } else {
        Err(CacheError::InvalidTtl {
            field: field.to_owned(),
            value: ttl_ms,
        })
    }
}

struct Node<K, V> {
    key: K,
    value: V,
    /// Absent from this instant on (ms since the epoch).
    expires_at: i64,
    /// The next older entry, or `NIL`.
    prev: u32,
    /// The next newer entry, or `NIL`.
    next: u32,
}

struct Inner<K, V> {
    /// Indexes into `nodes`, hashed by the node's key.
    table: HashTable<u32>,
    /// Every entry, densely.
    nodes: Vec<Node<K, V>>,
    /// The oldest inserted entry (next to evict), or `NIL`.
    head: u32,
    /// The newest inserted entry, or `NIL`.
    tail: u32,
    hasher: RandomState,
    capacity: usize,
    ttl_ms: i64,
    hits: u64,
    misses: u64,
    inserts: u64,
    /// Capacity evictions.
    evicted: u64,
    /// Expiry (or validity) removals.
    expired: u64,
}

/// A bounded TTL cache with oldest-first eviction and an injectable clock. See the module docs for semantics.
pub struct TtlCache<K, V> {
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner<K, V>>,
}

impl<K, V> fmt::Debug for TtlCache<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("TtlCache")
            .field("size", &g.nodes.len())
            .field("capacity", &g.capacity)
            .field("ttl_ms", &g.ttl_ms)
            .finish_non_exhaustive()
    }
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// An empty cache holding at most `capacity` entries (`1..=MAX_CAPACITY`) for `ttl_ms` each (`>= 1`).
    pub fn new(clock: Arc<dyn Clock>, capacity: usize, ttl_ms: i64) -> Result<Self, CacheError> {
        let capacity = validate_capacity("capacity", i64::try_from(capacity).unwrap_or(i64::MAX))?;
        let ttl_ms = validate_ttl("ttlMs", ttl_ms)?;
        Ok(Self::new_clamped(clock, capacity, ttl_ms))
    }

    /// Like [`TtlCache::new`], with out-of-range settings clamped into range instead of rejected (for built-in
    /// defaults, which are valid).
    pub(crate) fn new_clamped(clock: Arc<dyn Clock>, capacity: usize, ttl_ms: i64) -> Self {
        Self {
            clock,
            inner: Mutex::new(Inner {
                table: HashTable::new(),
                nodes: Vec::new(),
                head: NIL,
                tail: NIL,
                hasher: RandomState::new(),
                capacity: capacity.clamp(1, MAX_CAPACITY),
                ttl_ms: ttl_ms.max(1),
                hits: 0,
                misses: 0,
                inserts: 0,
                evicted: 0,
                expired: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<K, V>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The clock used for expiry.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// A clone of the value under `key` if present and not expired (counts a hit), else `None` (counts a miss;
    /// an expired entry is removed).
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_if(key, |_| true)
    }

    /// Like [`TtlCache::get`], but an entry for which `valid` returns false is treated like an expired one:
    /// removed, counted as a miss (and as an expiry eviction).
    pub fn get_if<Q>(&self, key: &Q, valid: impl FnOnce(&V) -> bool) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        let Some(idx) = g.find(key) else {
            g.misses += 1;
            return None;
        };
        let node = &g.nodes[idx as usize];
        if node.expires_at > now && valid(&node.value) {
            let value = node.value.clone();
            g.hits += 1;
            Some(value)
        } else {
            g.remove_index(idx);
            g.expired += 1;
            g.misses += 1;
            None
        }
    }

    /// Insert (or refresh) `key` with the configured TTL.
    pub fn insert(&self, key: K, value: V) {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        let ttl = g.ttl_ms;
        g.insert_at(key, value, now, ttl);
    }

    /// Insert (or refresh) `key` with its own TTL. A TTL `<= 0` means "already expired": nothing is inserted and
    /// any entry under `key` is removed. Returns whether the entry was inserted.
    #[cfg(test)]
    pub(crate) fn insert_with_ttl(&self, key: K, value: V, ttl_ms: i64) -> bool {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        g.insert_or_drop(key, value, now, ttl_ms)
    }

    /// Insert (or refresh) `key` with the smaller of the configured TTL and `max_ttl_ms` (same rules as
    /// `insert_with_ttl` when that is `<= 0`). Returns whether the entry was inserted.
    pub fn insert_capped(&self, key: K, value: V, max_ttl_ms: i64) -> bool {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        let ttl = g.ttl_ms.min(max_ttl_ms);
        g.insert_or_drop(key, value, now, ttl)
    }

    /// Remove `key`; returns its value if it was held and not expired. Not counted as an eviction.
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        let idx = g.find(key)?;
        let node = g.remove_index(idx);
        (node.expires_at > now).then_some(node.value)
    }

    /// Remove every entry for which `pred(key, value)` is true (expired ones included); returns how many went.
    /// O(n). Not counted as evictions.
    pub fn remove_where(&self, mut pred: impl FnMut(&K, &V) -> bool) -> usize {
        let mut g = self.lock();
        g.remove_matching(|node| pred(&node.key, &node.value))
    }

    /// Remove every expired entry now (O(n)); returns how many went. Counted as expiry evictions.
    #[cfg(test)]
    pub(crate) fn purge_expired(&self) -> usize {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        let removed = g.remove_matching(|node| node.expires_at <= now);
        g.expired += removed as u64;
        removed
    }

    /// Drop every entry and release the memory. Counters are kept.
    pub fn clear(&self) {
        self.clear_counting();
    }

    /// [`clear`](Self::clear), returning how many entries were held (expired ones not yet swept included).
    pub fn clear_counting(&self) -> usize {
        let mut g = self.lock();
        let held = g.nodes.len();
        g.table = HashTable::new();
        g.nodes = Vec::new();
        g.head = NIL;
        g.tail = NIL;
        held
    }

    /// Entries held now (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.lock().nodes.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity.
    pub fn capacity(&self) -> usize {
        self.lock().capacity
    }

    /// The default TTL in ms.
    pub fn ttl_ms(&self) -> i64 {
        self.lock().ttl_ms
    }

    /// The counters.
    pub fn stats(&self) -> CacheStats {
        let g = self.lock();
        CacheStats {
            size: g.nodes.len() as u64,
            capacity: g.capacity as u64,
            ttl_ms: g.ttl_ms,
            hits: g.hits,
            misses: g.misses,
            inserts: g.inserts,
            evictions: g.evicted + g.expired,
            expirations: g.expired,
        }
    }

    /// Change the capacity and/or the default TTL (validated first; nothing changes on error). A smaller capacity
    /// evicts the oldest entries at once; a new TTL applies to later inserts.
    pub fn reconfigure(
        &self,
        capacity: Option<usize>,
        ttl_ms: Option<i64>,
    ) -> Result<(), CacheError> {
        let capacity = capacity
            .map(|c| validate_capacity("capacity", i64::try_from(c).unwrap_or(i64::MAX)))
            .transpose()?;
        let ttl_ms = ttl_ms.map(|t| validate_ttl("ttlMs", t)).transpose()?;
        let now = self.clock.now_ms();
        let mut g = self.lock();
        if let Some(t) = ttl_ms {
            g.ttl_ms = t;
        }
        if let Some(c) = capacity {
            let shrinking = c < g.capacity;
            g.capacity = c;
            while g.nodes.len() > c {
                if !g.evict_oldest(now) {
                    break;
                }
            }
            if shrinking {
                g.shrink();
            }
        }
        Ok(())
    }
}

impl<K: Eq + Hash, V> Inner<K, V> {
    fn find<Q>(&self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let nodes = &self.nodes;
        self.table
            .find(self.hasher.hash_one(key), |&i| {
                nodes[i as usize].key.borrow() == key
            })
            .copied()
    }

    fn insert_or_drop(&mut self, key: K, value: V, now: i64, ttl: i64) -> bool {
        if ttl <= 0 {
            if let Some(idx) = self.find(&key) {
                self.remove_index(idx);
            }
            return false;
        }
        self.insert_at(key, value, now, ttl);
        true
    }

    fn insert_at(&mut self, key: K, value: V, now: i64, ttl: i64) {
        let expires_at = now.saturating_add(ttl);
        self.inserts += 1;
        let hash = self.hasher.hash_one(&key);
        let nodes = &self.nodes;
        let found = self
            .table
            .find(hash, |&i| nodes[i as usize].key == key)
            .copied();
        if let Some(idx) = found {
            let node = &mut self.nodes[idx as usize];
            if node.expires_at > now {
                node.value = value;
                node.expires_at = expires_at;
                return;
            }
            // Expired: it is gone; the key goes in anew, at the end.
            self.remove_index(idx);
            self.expired += 1;
        }
        while self.nodes.len() >= self.capacity {
            if !self.evict_oldest(now) {
                break;
            }
        }
        self.push_back(hash, key, value, expires_at);
        self.sweep_front(now);
    }

    /// Append a new newest node and index it.
    fn push_back(&mut self, hash: u64, key: K, value: V, expires_at: i64) {
        let len = self.nodes.len();
        if len == self.nodes.capacity() {
            // Double, but never allocate past the capacity.
            let want = len
                .saturating_mul(2)
                .max(16)
                .min(self.capacity)
                .max(len.saturating_add(1));
            self.nodes.reserve_exact(want - len);
        }
        let idx = len as u32;
        self.nodes.push(Node {
            key,
            value,
            expires_at,
            prev: self.tail,
            next: NIL,
        });
        match self.tail {
            NIL => self.head = idx,
            t => self.nodes[t as usize].next = idx,
        }
        self.tail = idx;
        let (nodes, hasher) = (&self.nodes, &self.hasher);
        self.table
            .insert_unique(hash, idx, |&i| hasher.hash_one(&nodes[i as usize].key));
    }

    /// Remove the node at `idx` from the index and the order, moving the last node into its slot.
    fn remove_index(&mut self, idx: u32) -> Node<K, V> {
        let hash = self.hasher.hash_one(&self.nodes[idx as usize].key);
        if let Ok(entry) = self.table.find_entry(hash, |&i| i == idx) {
            entry.remove();
        }
        let (prev, next) = {
            let n = &self.nodes[idx as usize];
            (n.prev, n.next)
        };
        match prev {
            NIL => self.head = next,
            p => self.nodes[p as usize].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.nodes[n as usize].prev = prev,
        }
        let last = (self.nodes.len() - 1) as u32;
        let node = self.nodes.swap_remove(idx as usize);
        if idx != last {
            // The former last node now lives at `idx`: repoint its index entry and its neighbours.
            let moved = &self.nodes[idx as usize];
            let (moved_prev, moved_next) = (moved.prev, moved.next);
            let moved_hash = self.hasher.hash_one(&moved.key);
            if let Some(slot) = self.table.find_mut(moved_hash, |&i| i == last) {
                *slot = idx;
            }
            match moved_prev {
                NIL => self.head = idx,
                p => self.nodes[p as usize].next = idx,
            }
            match moved_next {
                NIL => self.tail = idx,
                n => self.nodes[n as usize].prev = idx,
            }
        }
        node
    }

    /// Remove every node matching `pred`; returns how many went.
    fn remove_matching(&mut self, mut pred: impl FnMut(&Node<K, V>) -> bool) -> usize {
        let mut removed = 0;
        let mut i = 0;
        while i < self.nodes.len() {
            if pred(&self.nodes[i]) {
                // The last node moves into `i`: look at `i` again.
                self.remove_index(i as u32);
                removed += 1;
            } else {
                i += 1;
            }
        }
        removed
    }

    /// Evict the oldest entry (counted as an expiry if it had expired). False when empty.
    fn evict_oldest(&mut self, now: i64) -> bool {
        if self.head == NIL {
            return false;
        }
        let node = self.remove_index(self.head);
        if node.expires_at > now {
            self.evicted += 1;
        } else {
            self.expired += 1;
        }
        true
    }

    /// Drop at most [`SWEEP_PER_INSERT`] expired entries off the old end.
    fn sweep_front(&mut self, now: i64) {
        for _ in 0..SWEEP_PER_INSERT {
            if self.head == NIL || self.nodes[self.head as usize].expires_at > now {
                return;
            }
            self.remove_index(self.head);
            self.expired += 1;
        }
    }

    /// Release memory beyond what the entries (and the capacity) need.
    fn shrink(&mut self) {
        self.nodes
            .shrink_to(self.capacity.min(self.nodes.len().max(16)));
        let (nodes, hasher) = (&self.nodes, &self.hasher);
        self.table
            .shrink_to(nodes.len(), |&i| hasher.hash_one(&nodes[i as usize].key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn cache(cap: usize, ttl: i64) -> (Arc<ManualClock>, TtlCache<u32, u32>) {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let c = TtlCache::new(clock.clone(), cap, ttl).expect("valid config");
        (clock, c)
    }

    #[test]
    fn expiry_is_exclusive_and_checked_on_read() {
        let (clock, c) = cache(10, 30_000);
        c.insert(1, 10);
        clock.advance(29_999);
        assert_eq!(c.get(&1), Some(10));
        clock.advance(1);
        assert_eq!(c.get(&1), None);
        assert_eq!(c.len(), 0, "the expired entry was removed by the read");
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.evictions, s.expirations), (1, 1, 1, 1));
    }

    #[test]
    fn refresh_keeps_position_and_extends_expiry() {
        let (clock, c) = cache(2, 30_000);
        c.insert(1, 1);
        c.insert(2, 2);
        clock.advance(20_000);
        c.insert(1, 11); // refresh: still the oldest
        c.insert(3, 3); // evicts 1, the first inserted, not 2
        assert_eq!(c.get(&1), None);
        assert_eq!(c.get(&2), Some(2));
        assert_eq!(c.get(&3), Some(3));
        assert_eq!(c.stats().evictions, 1);
    }

    #[test]
    fn reinserting_an_expired_key_moves_it_to_the_end() {
        let (clock, c) = cache(2, 10);
        c.insert(1, 1);
        clock.advance(5);
        c.insert(2, 2);
        clock.advance(5); // 1 expired, 2 live
        c.insert(1, 1); // fresh insert at the end
        assert_eq!(c.stats().expirations, 1);
        c.insert(3, 3); // evicts 2 (now the oldest)
        assert_eq!(c.get(&2), None);
        assert_eq!(c.get(&1), Some(1));
        assert_eq!(c.get(&3), Some(3));
    }

    #[test]
    fn per_insert_ttl_and_cap() {
        let (clock, c) = cache(10, 1_000);
        assert!(c.insert_with_ttl(1, 1, 5));
        assert!(c.insert_capped(2, 2, 50_000)); // capped to 1_000
        assert!(c.insert_capped(3, 3, 10));
        c.insert(4, 4);
        assert!(!c.insert_with_ttl(4, 44, 0), "ttl 0 is already expired");
        assert_eq!(c.get(&4), None, "and it removed the old entry");
        clock.advance(5);
        assert_eq!(c.get(&1), None);
        assert_eq!(c.get(&3), Some(3));
        clock.advance(5);
        assert_eq!(c.get(&3), None);
        clock.advance(989);
        assert_eq!(c.get(&2), Some(2));
        clock.advance(1);
        assert_eq!(c.get(&2), None);
    }

    /// Every structural invariant: index and nodes agree, the list covers every node once in both directions,
    /// and the node vector never holds more than the capacity allows.
    fn check_invariants<K: Eq + Hash, V>(c: &TtlCache<K, V>) {
        let g = c.inner.lock().unwrap_or_else(PoisonError::into_inner);
        assert_eq!(g.table.len(), g.nodes.len());
        for (i, node) in g.nodes.iter().enumerate() {
            let found = g
                .table
                .find(g.hasher.hash_one(&node.key), |&j| {
                    g.nodes[j as usize].key == node.key
                })
                .copied();
            assert_eq!(found, Some(i as u32));
        }
        let mut seen = 0;
        let mut prev = NIL;
        let mut cur = g.head;
        while cur != NIL {
            let node = &g.nodes[cur as usize];
            assert_eq!(node.prev, prev);
            prev = cur;
            cur = node.next;
            seen += 1;
            assert!(seen <= g.nodes.len(), "cycle");
        }
        assert_eq!(prev, g.tail);
        assert_eq!(seen, g.nodes.len());
        assert!(g.nodes.len() <= g.capacity);
        assert!(
            g.nodes.capacity() <= g.capacity.max(16),
            "{} > {}",
            g.nodes.capacity(),
            g.capacity
        );
    }

    #[test]
    fn removals_anywhere_keep_order_and_index() {
        let (_clock, c) = cache(10, 1_000);
        for i in 0..10 {
            c.insert(i, i);
        }
        assert_eq!(c.remove(&0), Some(0)); // head
        assert_eq!(c.remove(&9), Some(9)); // tail (last node)
        assert_eq!(c.remove(&4), Some(4)); // middle
        assert_eq!(c.remove(&4), None);
        check_invariants(&c);
        for i in 10..13 {
            c.insert(i, i);
        }
        check_invariants(&c);
        // Full (10): the next inserts evict in insertion order: 1, 2, 3, 5, ...
        c.insert(13, 13);
        assert_eq!(c.get(&1), None);
        c.insert(14, 14);
        assert_eq!(c.get(&2), None);
        assert_eq!(c.get(&5), Some(5));
        check_invariants(&c);
    }

    /// A naive model: entries in insertion order, linear scans.
    struct Model {
        entries: Vec<(u32, u32, i64)>,
        capacity: usize,
        ttl: i64,
    }

    impl Model {
        fn pos(&self, k: u32) -> Option<usize> {
            self.entries.iter().position(|e| e.0 == k)
        }
        fn get(&mut self, k: u32, now: i64) -> Option<u32> {
            let p = self.pos(k)?;
            if self.entries[p].2 > now {
                Some(self.entries[p].1)
            } else {
                self.entries.remove(p);
                None
            }
        }
        fn insert(&mut self, k: u32, v: u32, now: i64, ttl: i64) {
            if ttl <= 0 {
                if let Some(p) = self.pos(k) {
                    self.entries.remove(p);
                }
                return;
            }
            if let Some(p) = self.pos(k) {
                if self.entries[p].2 > now {
                    self.entries[p].1 = v;
                    self.entries[p].2 = now.saturating_add(ttl);
                    return;
                }
                self.entries.remove(p);
            }
            while self.entries.len() >= self.capacity {
                self.entries.remove(0);
            }
            self.entries.push((k, v, now.saturating_add(ttl)));
            for _ in 0..SWEEP_PER_INSERT {
                if self.entries.first().is_some_and(|e| e.2 <= now) {
                    self.entries.remove(0);
                } else {
                    break;
                }
            }
        }
    }

    #[test]
    fn matches_a_naive_model_under_random_operations() {
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut rand = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for round in 0..20 {
            let cap = 1 + rand(40) as usize;
            let (clock, c) = cache(cap, 50);
            let mut m = Model {
                entries: Vec::new(),
                capacity: cap,
                ttl: 50,
            };
            for step in 0..3_000 {
                let now = clock.now_ms();
                let k = rand(60) as u32;
                match rand(100) {
                    0..=34 => {
                        c.insert(k, step);
                        let ttl = m.ttl;
                        m.insert(k, step, now, ttl);
                    }
                    35..=44 => {
                        let ttl = rand(120) as i64 - 10;
                        c.insert_with_ttl(k, step, ttl);
                        m.insert(k, step, now, ttl);
                    }
                    45..=74 => assert_eq!(c.get(&k), m.get(k, now), "round {round} step {step}"),
                    75..=84 => {
                        let live = m.pos(k).and_then(|p| {
                            let e = m.entries.remove(p);
                            (e.2 > now).then_some(e.1)
                        });
                        assert_eq!(c.remove(&k), live);
                    }
                    85..=86 => {
                        let modulus = 2 + rand(5) as u32;
                        let before = m.entries.len();
                        m.entries.retain(|e| e.0 % modulus != 0);
                        assert_eq!(
                            c.remove_where(|k, _| k % modulus == 0),
                            before - m.entries.len()
                        );
                    }
                    87 => {
                        let before = m.entries.len();
                        m.entries.retain(|e| e.2 > now);
                        assert_eq!(c.purge_expired(), before - m.entries.len());
                    }
                    88 => {
                        let new_cap = 1 + rand(40) as usize;
                        c.reconfigure(Some(new_cap), None).expect("valid");
                        m.capacity = new_cap;
                        while m.entries.len() > new_cap {
                            m.entries.remove(0);
                        }
                    }
                    _ => clock.advance(rand(15) as i64),
                }
                assert_eq!(c.len(), m.entries.len(), "round {round} step {step}");
                if step % 97 == 0 {
                    check_invariants(&c);
                }
            }
            check_invariants(&c);
            let order: Vec<u32> = {
                let g = c.lock();
                let mut out = Vec::new();
                let mut cur = g.head;
                while cur != NIL {
                    out.push(g.nodes[cur as usize].key);
                    cur = g.nodes[cur as usize].next;
                }
                out
            };
            let model_order: Vec<u32> = m.entries.iter().map(|e| e.0).collect();
            assert_eq!(order, model_order, "round {round}");
        }
    }

    #[test]
    fn node_storage_never_exceeds_the_capacity() {
        let (_clock, c) = cache(1_000, 1_000);
        for i in 0..5_000 {
            c.insert(i, i);
        }
        check_invariants(&c);
        assert_eq!(c.lock().nodes.capacity(), 1_000);
        c.reconfigure(Some(100), None).expect("valid");
        check_invariants(&c);
        assert_eq!(c.lock().nodes.capacity(), 100);
        assert_eq!(c.clear_counting(), 100);
        assert_eq!(c.lock().nodes.capacity(), 0);
        assert_eq!(c.clear_counting(), 0);
        check_invariants(&c);
    }

    #[test]
    fn remove_where_and_purge() {
        let (clock, c) = cache(100, 1_000);
        for i in 0..10 {
            c.insert(i, i);
        }
        assert_eq!(c.remove_where(|k, _| k % 2 == 0), 5);
        assert_eq!(c.len(), 5);
        assert!(c.insert_with_ttl(100, 0, 2_000));
        clock.advance(1_000);
        assert_eq!(c.purge_expired(), 5);
        assert_eq!(c.get(&100), Some(0));
        assert_eq!(c.stats().expirations, 5);
        assert_eq!(
            c.stats().evictions,
            5,
            "removals by predicate are not evictions"
        );
    }

    #[test]
    fn inserts_sweep_expired_entries_off_the_front() {
        let (clock, c) = cache(100, 10);
        c.insert(1, 1);
        c.insert(2, 2);
        clock.advance(10);
        c.insert(3, 3);
        assert_eq!(c.len(), 1, "1 and 2 swept");
        assert_eq!(c.stats().expirations, 2);
    }

    #[test]
    fn reconfigure_shrinks_at_once_and_validates() {
        let (clock, c) = cache(5, 1_000);
        for i in 0..5 {
            c.insert(i, i);
        }
        c.reconfigure(Some(2), Some(50)).expect("valid");
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&2), None);
        assert_eq!(c.get(&3), Some(3));
        assert_eq!(c.get(&4), Some(4));
        assert_eq!(c.stats().evictions, 3);
        assert_eq!(c.ttl_ms(), 50);
        clock.advance(50);
        assert_eq!(c.get(&3), Some(3), "held entries keep their expiry");
        c.insert(9, 9);
        clock.advance(50);
        assert_eq!(c.get(&9), None, "new inserts use the new TTL");

        let e = c.reconfigure(Some(0), Some(10)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "capacity must be an integer from 1 to 10000000, got 0"
        );
        assert_eq!(c.ttl_ms(), 50, "nothing changed on error");
        assert!(c.reconfigure(None, Some(0)).is_err());
        assert!(c.reconfigure(Some(MAX_CAPACITY + 1), None).is_err());
        assert!(TtlCache::<u8, u8>::new(Arc::new(ManualClock::new(0)), 0, 1).is_err());
        assert!(TtlCache::<u8, u8>::new(Arc::new(ManualClock::new(0)), 1, 0).is_err());
    }

    #[test]
    fn get_if_removes_entries_that_are_no_longer_valid() {
        let (_clock, c) = cache(10, 1_000);
        c.insert(1, 5);
        assert_eq!(c.get_if(&1, |v| *v > 3), Some(5));
        assert_eq!(c.get_if(&1, |v| *v > 7), None);
        assert_eq!(c.len(), 0);
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.expirations), (1, 1, 1));
    }

    #[test]
    fn saturating_expiry_near_the_end_of_time() {
        let clock = Arc::new(ManualClock::new(i64::MAX - 5));
        let c = TtlCache::new(clock.clone(), 4, i64::MAX).expect("valid");
        c.insert(1u8, ());
        assert_eq!(c.get(&1), Some(()));
    }

    #[test]
    fn clear_keeps_counters() {
        let (_clock, c) = cache(10, 1_000);
        c.insert(1, 1);
        assert_eq!(c.get(&1), Some(1));
        c.clear();
        assert!(c.is_empty());
        assert_eq!(c.stats().hits, 1);
        assert_eq!(c.get(&1), None);
    }
}
