//! What a `watch` log stream sees of items ([`crate::watch`]): an item as a lookup finds
//! it, before the op that looks changes it, and the line of an item evicted. Reads only.

use super::index::Loc;
use super::segment::{self, Header, FETCHED};
use super::{Miss, Store};
use crate::protocol::admin::streams::EVICTIONS;

/// What a lookup of a key finds (memcached's `was_found` of `do_item_get`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peek {
    Absent,
    Expired,
    Flushed,
    Found {
        vlen: usize,
        /// memcached's slab class of the item.
        class: u8,
        /// Absolute unix time; 0 never.
        exptime: u32,
        /// The item's unique (its CAS, whether or not clients see it): it changes with
        /// every write of the key.
        unique: u64,
    },
}

impl Store {
    /// What a lookup of `key` at `now` would find, leaving the item (dead or alive) as it
    /// is: the op that follows reclaims a dead one and bumps a live one.
    pub fn peek(&self, key: &[u8], now: u32) -> Peek {
        let Some((_, loc)) = self.find_key(self.hash(key), key) else {
            return Peek::Absent;
        };
        let hdr = segment::read_header(self.item(loc));
        match self.is_dead(&hdr, now) {
            Some(Miss::Expired) => Peek::Expired,
            Some(Miss::Flushed) => Peek::Flushed,
            Some(Miss::Absent) => Peek::Absent,
            None => Peek::Found {
                vlen: hdr.vlen,
                class: self.class_of(&hdr).1,
                exptime: hdr.exptime,
                unique: hdr.cas,
            },
        }
    }

    /// memcached's slab class of an item of `klen` key bytes, `flags` and `vlen` value bytes.
    pub fn class_for(&self, klen: usize, flags: u32, vlen: usize) -> u8 {
        let size = crate::protocol::memcached_item_size(klen, flags, vlen, self.use_cas);
        self.classes.class_of(size)
    }

    /// Logs the eviction of the item at `loc` for the shard's watchers, if any watch
    /// evictions (memcached's `LOGGER_EVICTION` line).
    #[inline]
    pub(super) fn watch_eviction(&self, loc: Loc, hdr: &Header, idle: u32, now: u32) {
        let tap = &self.counters.watch;
        if !tap.wants(EVICTIONS) {
            return;
        }
        let key = &self.item(loc)[hdr.key_at..hdr.key_at + hdr.klen];
        let ttl = if hdr.exptime == 0 {
            -1
        } else {
            i64::from(hdr.exptime) - i64::from(now)
        };
        let class = self.class_of(hdr).1;
        let fetched = hdr.info & FETCHED != 0;
        tap.log(EVICTIONS, |out| {
            crate::watch::lines::eviction(out, key, fetched, ttl, idle, class, hdr.vlen)
        });
    }
}
