//! A shard's key-value store: items, expiry, CAS, memory accounting.
//!
//! The store knows nothing of sockets, protocols, executors or other shards: it is a plain
//! single-threaded structure owned by one shard, and every operation takes the current unix
//! time as an argument, so tests drive it with a fake clock. Build one with [`StoreBuilder`].
//!
//! Semantics follow memcached 1.6 (`items.c`, `do_store_item`, `do_add_delta`): expired and
//! flushed items are never returned, `add` on an existing key fails, `cas` compares against the
//! item's unique, `append`/`prepend` keep the old item's flags and expiry, `incr`/`decr` rewrite
//! a value in place (space padded) when the new number is not longer than the old value.

use std::collections::HashMap;
use std::sync::Arc;

use crate::protocol::num::{push_u64, strtoull};
use crate::stats::{Counters, Stat};

/// memcached's `REALTIME_MAXDELTA`: exptimes up to 30 days are relative.
pub const REALTIME_MAXDELTA: i64 = 60 * 60 * 24 * 30;

/// Bytes charged per item beyond its key and value: the hash table slot, the item record and
/// allocator rounding, so that `-m` bounds what the process really holds.
pub const ITEM_OVERHEAD: usize = 64;

/// One stored item.
#[derive(Debug)]
pub struct Item {
    pub flags: u32,
    /// Absolute unix time at which the item expires; 0 never.
    pub exptime: u32,
    /// The item's unique, unique across the whole server.
    pub cas: u64,
    pub value: Box<[u8]>,
}

/// Outcome of a storage command, named after memcached's replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreResult {
    Stored,
    NotStored,
    Exists,
    NotFound,
    /// The shard's memory share cannot hold the item.
    NoMemory,
}

/// The storage modes, as the store sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Set,
    Add,
    Replace,
    Append,
    Prepend,
    Cas,
}

/// Outcome of `incr`/`decr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithResult {
    Value(u64),
    NotFound,
    NonNumeric,
    NoMemory,
}

/// Builds a [`Store`]; tests use it to make tiny ones.
#[derive(Clone, Debug)]
pub struct StoreBuilder {
    mem_limit: usize,
    use_cas: bool,
    cas_offset: u64,
    cas_stride: u64,
    started: u32,
    capacity: usize,
    counters: Option<Arc<Counters>>,
}

impl Default for StoreBuilder {
    fn default() -> Self {
        StoreBuilder {
            mem_limit: 64 << 20,
            use_cas: true,
            cas_offset: 0,
            cas_stride: 1,
            started: 0,
            capacity: 0,
            counters: None,
        }
    }
}

impl StoreBuilder {
    /// Bytes this store may hold, keys, values and per-item overhead included.
    pub fn mem_limit(mut self, bytes: usize) -> Self {
        self.mem_limit = bytes;
        self
    }
    /// `-C` turns CAS off: items then report a unique of 0.
    pub fn use_cas(mut self, on: bool) -> Self {
        self.use_cas = on;
        self
    }
    /// CAS uniques are `offset + 1 + k * stride`: with one store per shard, `offset` the shard
    /// index and `stride` the shard count, they are unique across the server.
    pub fn cas_sequence(mut self, offset: u64, stride: u64) -> Self {
        self.cas_offset = offset;
        self.cas_stride = stride.max(1);
        self
    }
    /// Unix time the server started: absolute exptimes at or before it are already past.
    pub fn started(mut self, unix: u32) -> Self {
        self.started = unix;
        self
    }
    /// Items the index holds before it first grows (`-o hashpower`).
    pub fn capacity(mut self, items: usize) -> Self {
        self.capacity = items;
        self
    }
    /// Counters to report into (shared with `stats` readers).
    pub fn counters(mut self, c: Arc<Counters>) -> Self {
        self.counters = Some(c);
        self
    }
    pub fn build(self) -> Store {
        Store {
            map: HashMap::with_capacity_and_hasher(
                self.capacity,
                ahash::RandomState::with_seeds(1, 2, 3, 4),
            ),
            mem_limit: self.mem_limit,
            mem_used: 0,
            use_cas: self.use_cas,
            next_cas: self.cas_offset + 1,
            cas_stride: self.cas_stride,
            started: self.started,
            flush_at: None,
            counters: self.counters.unwrap_or_default(),
        }
    }
}

/// A shard's store. See the module documentation.
pub struct Store {
    map: HashMap<Box<[u8]>, Item, ahash::RandomState>,
    mem_limit: usize,
    mem_used: usize,
    use_cas: bool,
    next_cas: u64,
    cas_stride: u64,
    started: u32,
    /// A delayed `flush_all`: everything stored before this time goes when it passes.
    flush_at: Option<u32>,
    counters: Arc<Counters>,
}

fn charge(key_len: usize, value_len: usize) -> usize {
    key_len + value_len + ITEM_OVERHEAD
}

impl Store {
    pub fn builder() -> StoreBuilder {
        StoreBuilder::default()
    }

    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// Bytes held, as charged against the memory limit.
    pub fn mem_used(&self) -> usize {
        self.mem_used
    }

    pub fn mem_limit(&self) -> usize {
        self.mem_limit
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The unique a client sees: 0 when CAS is off (`-C`).
    pub fn visible_cas(&self, item: &Item) -> u64 {
        if self.use_cas {
            item.cas
        } else {
            0
        }
    }

    /// Whether items carry a CAS unique (`-C` turns it off).
    pub fn cas_enabled(&self) -> bool {
        self.use_cas
    }

    /// memcached's `realtime(EXPTIME_TO_POSITIVE_TIME(exptime))`, as absolute unix time:
    /// 0 never; negative already expired; up to 30 days relative to now; above, absolute.
    pub fn abs_exptime(&self, exptime: i32, now: u32) -> u32 {
        let e = i64::from(exptime);
        let e = if e < 0 { REALTIME_MAXDELTA + 1 } else { e };
        if e == 0 {
            0
        } else if e > REALTIME_MAXDELTA {
            if e <= i64::from(self.started) {
                1
            } else {
                e.min(i64::from(u32::MAX)) as u32
            }
        } else {
            (i64::from(now) + e).min(i64::from(u32::MAX)) as u32
        }
    }

    fn new_cas(&mut self) -> u64 {
        let c = self.next_cas;
        self.next_cas += self.cas_stride;
        c
    }

    /// Applies a delayed flush whose time has come.
    fn tick(&mut self, now: u32) {
        if let Some(at) = self.flush_at {
            if now >= at {
                self.flush_at = None;
                self.clear();
            }
        }
    }

    fn clear(&mut self) {
        self.counters.sub(Stat::CurrItems, self.map.len() as u64);
        self.counters.sub(Stat::Bytes, self.mem_used as u64);
        self.map.clear();
        self.mem_used = 0;
    }

    /// Drops `key` if it has expired; true if a live item remains.
    fn live(&mut self, key: &[u8], now: u32) -> bool {
        self.tick(now);
        let expired = match self.map.get(key) {
            None => return false,
            Some(it) => it.exptime != 0 && it.exptime <= now,
        };
        if expired {
            self.unlink(key);
            self.counters.incr(Stat::Reclaimed);
            return false;
        }
        true
    }

    fn unlink(&mut self, key: &[u8]) -> Option<Item> {
        let (k, it) = self.map.remove_entry(key)?;
        self.mem_used -= charge(k.len(), it.value.len());
        self.counters.sub(Stat::CurrItems, 1);
        self.counters.sub(Stat::Bytes, charge(k.len(), it.value.len()) as u64);
        Some(it)
    }

    /// Links a new value under `key`, replacing any old one; `false` if it does not fit.
    fn link(&mut self, key: &[u8], flags: u32, exptime: u32, value: Box<[u8]>) -> bool {
        let old = self
            .map
            .get(key)
            .map(|it| charge(key.len(), it.value.len()))
            .unwrap_or(0);
        let new = charge(key.len(), value.len());
        if self.mem_used - old + new > self.mem_limit {
            return false;
        }
        let cas = self.new_cas();
        let item = Item {
            flags,
            exptime,
            cas,
            value,
        };
        match self.map.get_mut(key) {
            Some(slot) => *slot = item,
            None => {
                self.map.insert(key.into(), item);
                self.counters.incr(Stat::CurrItems);
            }
        }
        self.mem_used = self.mem_used - old + new;
        self.counters.sub(Stat::Bytes, old as u64);
        self.counters.add(Stat::Bytes, new as u64);
        self.counters.incr(Stat::TotalItems);
        true
    }

    /// Looks up a live item (no statistics: the caller counts hits and misses).
    pub fn get(&mut self, key: &[u8], now: u32) -> Option<&Item> {
        if !self.live(key, now) {
            return None;
        }
        self.map.get(key)
    }

    /// `gat`: looks up a live item and sets its expiry.
    pub fn get_and_touch(&mut self, key: &[u8], exptime: u32, now: u32) -> Option<&Item> {
        if !self.live(key, now) {
            return None;
        }
        let it = self.map.get_mut(key)?;
        it.exptime = exptime;
        Some(it)
    }

    /// `touch`: sets a live item's expiry; false on a miss.
    pub fn touch(&mut self, key: &[u8], exptime: u32, now: u32) -> bool {
        self.get_and_touch(key, exptime, now).is_some()
    }

    /// `delete`: true if a live item was removed.
    pub fn delete(&mut self, key: &[u8], now: u32) -> bool {
        self.live(key, now) && self.unlink(key).is_some()
    }

    /// Removes `key` whatever its state (memcached's clean-up after a failed `set`).
    pub fn remove(&mut self, key: &[u8], now: u32) {
        if self.live(key, now) {
            self.unlink(key);
        }
    }

    /// The storage commands, as memcached's `do_store_item`.
    #[allow(clippy::too_many_arguments)]
    pub fn store(
        &mut self,
        mode: Mode,
        key: &[u8],
        flags: u32,
        exptime: u32,
        cas: u64,
        data: &[u8],
        now: u32,
    ) -> StoreResult {
        let exists = self.live(key, now);
        let result = match (mode, exists) {
            (Mode::Add, true) => StoreResult::NotStored,
            (Mode::Replace | Mode::Append | Mode::Prepend, false) => StoreResult::NotStored,
            (Mode::Cas, false) => {
                self.counters.incr(Stat::CasMisses);
                StoreResult::NotFound
            }
            (Mode::Cas, true) => {
                let old = self.map.get(key).map(|it| it.cas);
                if cas != 0 && old == Some(cas) && self.use_cas {
                    self.counters.incr(Stat::CasHits);
                    self.put(key, flags, exptime, data.into())
                } else {
                    self.counters.incr(Stat::CasBadval);
                    StoreResult::Exists
                }
            }
            (Mode::Append | Mode::Prepend, true) => {
                let old = self.map.get(key).expect("live item");
                let mut v = Vec::with_capacity(old.value.len() + data.len());
                if mode == Mode::Append {
                    v.extend_from_slice(&old.value);
                    v.extend_from_slice(data);
                } else {
                    v.extend_from_slice(data);
                    v.extend_from_slice(&old.value);
                }
                let (flags, exptime) = (old.flags, old.exptime);
                self.put(key, flags, exptime, v.into_boxed_slice())
            }
            (Mode::Set | Mode::Add | Mode::Replace, _) => {
                self.put(key, flags, exptime, data.into())
            }
        };
        if result == StoreResult::NoMemory {
            self.counters.incr(Stat::StoreNoMemory);
            // memcached unlinks the old value when a `set` cannot be stored, so no stale
            // value stays behind.
            if mode == Mode::Set {
                self.remove(key, now);
            }
        }
        result
    }

    fn put(&mut self, key: &[u8], flags: u32, exptime: u32, value: Box<[u8]>) -> StoreResult {
        if self.link(key, flags, exptime, value) {
            StoreResult::Stored
        } else {
            StoreResult::NoMemory
        }
    }

    /// `incr`/`decr`, as memcached's `do_add_delta`: the value must parse as an unsigned
    /// decimal (`strtoull`, trailing whitespace allowed); incr wraps at 2^64, decr stops at 0.
    /// A result no longer than the old value is written in place, padded with spaces.
    pub fn arith(&mut self, key: &[u8], incr: bool, delta: u64, now: u32) -> ArithResult {
        if !self.live(key, now) {
            return ArithResult::NotFound;
        }
        let it = self.map.get(key).expect("live item");
        if it.value.is_empty() {
            return ArithResult::NonNumeric;
        }
        // memcached parses the value in place, where its CRLF follows it.
        let mut probe = [0u8; 24];
        let current = if it.value.len() < probe.len() - 2 {
            probe[..it.value.len()].copy_from_slice(&it.value);
            probe[it.value.len()..it.value.len() + 2].copy_from_slice(b"\r\n");
            strtoull(&probe[..it.value.len() + 2])
        } else {
            let mut v = it.value.to_vec();
            v.extend_from_slice(b"\r\n");
            strtoull(&v)
        };
        let Some(current) = current else {
            return ArithResult::NonNumeric;
        };
        let value = if incr {
            current.wrapping_add(delta)
        } else {
            current.saturating_sub(delta)
        };
        let mut digits = Vec::with_capacity(20);
        push_u64(&mut digits, value);
        let (flags, exptime, old_len) = (it.flags, it.exptime, it.value.len());
        if digits.len() <= old_len {
            digits.resize(old_len, b' ');
            let cas = self.new_cas();
            let it = self.map.get_mut(key).expect("live item");
            it.value.copy_from_slice(&digits);
            it.cas = cas;
        } else if !self.link(key, flags, exptime, digits.into_boxed_slice()) {
            return ArithResult::NoMemory;
        }
        ArithResult::Value(value)
    }

    /// `flush_all [delay]`: `at` 0 invalidates everything now, otherwise at unix time `at`.
    pub fn flush_all(&mut self, at: u32, now: u32) {
        if at == 0 || at <= now {
            self.flush_at = None;
            self.clear();
        } else {
            self.flush_at = Some(at);
        }
    }
}

#[cfg(test)]
mod tests;
