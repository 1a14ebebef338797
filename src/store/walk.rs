//! A walk over every live item, in bounded steps from a cursor: what key dumps
//! (`lru_crawler metadump`, `stats cachedump`) read, between which the store goes on
//! serving writes.
//!
//! The cursor is a position in key-hash order, not a slot or a segment offset: items move
//! between segments (eviction keeps survivors, compaction), and the index is rebuilt when
//! it grows or shrinks, but an item's key hash never changes. A step covers the hashes of
//! a run of index buckets (an entry's bucket is its hash's top bits, scaled), scans those
//! buckets and the overflow past them up to a bucket with an empty slot (no entry homed
//! earlier lies beyond one, see [`super::index`]), and reports the live items whose hash is
//! in the range. So an item present for the whole walk is reported exactly once, whatever
//! moved or was rebuilt between steps, and no key is reported twice.

use super::index::Loc;
use super::segment;
use super::{key_hash, Store};

/// Where a walk has got to: every item whose key hash is below `next` has been seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalkCursor {
    next: u64,
    done: bool,
}

impl WalkCursor {
    /// Whether every item has been seen.
    pub fn done(&self) -> bool {
        self.done
    }
}

/// One live item, as a walk reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkItem<'a> {
    pub key: &'a [u8],
    /// The key came base64-encoded (meta `b`): memcached's `ITEM_KEY_BINARY`.
    pub key_binary: bool,
    /// Absolute unix time; 0 never.
    pub exptime: u32,
    /// Unix time of the last access (the write, or a read after the first).
    pub last_access: u32,
    /// The unique a client sees (0 when CAS is off).
    pub cas: u64,
    /// Read since it was written.
    pub fetched: bool,
    pub flags: u32,
    pub vlen: usize,
    /// The value (persistence's re-layout writes it; dumps read only its length).
    pub value: &'a [u8],
}

impl Store {
    /// One step of a walk: reports through `f` every live item whose key hash lies in the
    /// next `buckets` buckets' share of the hash range, and moves `cursor` past it.
    /// Expired and flushed items are left out (and left for the pager).
    pub fn walk_step(
        &mut self,
        cursor: &mut WalkCursor,
        now: u32,
        buckets: usize,
        mut f: impl FnMut(&WalkItem<'_>),
    ) {
        if cursor.done {
            return;
        }
        self.tick(now);
        let n = self.index.buckets();
        let first = self.index.home(cursor.next);
        let end = (first + buckets.max(1)).min(n);
        // The first hash of bucket `end` (2^64 past the last).
        let hi = (u128::from(end as u64) << 64).div_ceil(n as u128);
        let lo = u128::from(cursor.next);
        for k in 0..n {
            let b = (first + k) % n;
            let (entries, has_empty) = self.index.bucket_entries(b);
            for loc in entries.into_iter().flatten() {
                self.report(loc, lo, hi, now, &mut f);
            }
            if first + k + 1 >= end && has_empty {
                break;
            }
        }
        if end == n {
            cursor.done = true;
        } else {
            cursor.next = hi as u64;
        }
    }

    /// Reports the item at `loc` if its key hash is in `lo..hi` and it is live.
    fn report(&self, loc: Loc, lo: u128, hi: u128, now: u32, f: &mut impl FnMut(&WalkItem<'_>)) {
        let src = self.item(loc);
        let h = segment::read_header(src);
        let key = &src[h.key_at..h.key_at + h.klen];
        let hash = u128::from(key_hash(key));
        if hash < lo || hash >= hi || self.is_dead(&h, now).is_some() {
            return;
        }
        let idle = now.wrapping_sub(h.atime) & segment::ATIME_MASK;
        f(&WalkItem {
            key,
            key_binary: h.key_binary,
            exptime: h.exptime,
            last_access: now.wrapping_sub(idle),
            cas: if self.use_cas { h.cas } else { 0 },
            fetched: h.info & segment::FETCHED != 0,
            flags: h.flags,
            vlen: h.vlen,
            value: &src[h.value_at()..h.value_at() + h.vlen],
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Mode, StoreResult};
    use std::collections::{HashMap, HashSet};

    fn set(s: &mut Store, key: &[u8], value: &[u8], exptime: u32, now: u32) {
        let r = s.store(Mode::Set, key, 0, exptime, 0, value, now);
        assert_eq!(r, StoreResult::Stored);
    }

    /// Walks the whole store in steps of `buckets`, running `between` after each step.
    fn walk_all(
        s: &mut Store,
        now: u32,
        buckets: usize,
        mut between: impl FnMut(&mut Store, usize),
    ) -> Vec<Vec<u8>> {
        let mut cursor = WalkCursor::default();
        let mut keys = Vec::new();
        let mut step = 0;
        while !cursor.done() {
            s.walk_step(&mut cursor, now, buckets, |it| keys.push(it.key.to_vec()));
            between(s, step);
            step += 1;
            assert!(step < 1_000_000, "the walk ends");
        }
        keys
    }

    #[test]
    fn every_live_item_once_and_no_other() {
        let mut s = Store::builder().mem_limit(64 << 20).build();
        let now = 1000;
        for i in 0..5000 {
            set(&mut s, format!("k{i}").as_bytes(), b"v", 0, now);
        }
        for i in 0..100 {
            set(&mut s, format!("gone{i}").as_bytes(), b"v", now + 5, now);
        }
        for i in (0..5000).step_by(7) {
            assert!(s.delete(format!("k{i}").as_bytes(), now));
        }
        for buckets in [1, 3, 64, 100_000] {
            let got = walk_all(&mut s, now + 10, buckets, |_, _| {});
            let want: HashSet<Vec<u8>> = (0..5000)
                .filter(|i| i % 7 != 0)
                .map(|i| format!("k{i}").into_bytes())
                .collect();
            assert_eq!(got.len(), want.len(), "{buckets} buckets a step");
            assert_eq!(got.into_iter().collect::<HashSet<_>>(), want);
        }
    }

    #[test]
    fn fields_are_the_items() {
        let mut s = Store::builder().build();
        assert_eq!(
            s.store(Mode::Set, b"a", 7, 1100, 0, b"xyz", 1000),
            StoreResult::Stored
        );
        assert!(s.get(b"a", 1005).is_some());
        let mut items = Vec::new();
        let mut cursor = WalkCursor::default();
        while !cursor.done() {
            s.walk_step(&mut cursor, 1010, 8, |it| {
                items.push((
                    it.key.to_vec(),
                    it.exptime,
                    it.cas,
                    it.fetched,
                    it.flags,
                    it.vlen,
                ))
            });
        }
        assert_eq!(items, vec![(b"a".to_vec(), 1100, 1, true, 7, 3)]);
    }

    /// Writes, deletes, overwrites, evictions and index rebuilds between steps: an item
    /// present for the whole walk is reported once, none twice, and nothing reported was
    /// never written.
    #[test]
    fn writes_between_steps_neither_lose_nor_repeat_items() {
        let mut s = Store::builder()
            .mem_limit(4 << 20)
            .segment_size(64 << 10)
            .capacity(16)
            .build();
        let now = 1000;
        let stable: Vec<Vec<u8>> = (0..3000)
            .map(|i| format!("stable:{i}").into_bytes())
            .collect();
        for k in &stable {
            set(&mut s, k, b"0123456789", 0, now);
        }
        let mut written: HashMap<Vec<u8>, ()> = stable.iter().map(|k| (k.clone(), ())).collect();
        let mut n = 0u64;
        let got = walk_all(&mut s, now, 4, |s, step| {
            // Churn: new keys (which grow and rebuild the index), deletes of them,
            // overwrites of stable keys (kept live by a read).
            for _ in 0..40 {
                n += 1;
                let k = format!("churn:{n}").into_bytes();
                set(s, &k, b"abcdefghij", 0, now);
                written.insert(k, ());
                if n.is_multiple_of(3) {
                    s.delete(format!("churn:{}", n - 1).as_bytes(), now);
                }
            }
            let k = &stable[step % stable.len()];
            set(s, k, b"0123456789", 0, now);
        });
        let mut seen = HashSet::new();
        for k in &got {
            assert!(
                seen.insert(k.clone()),
                "{} twice",
                String::from_utf8_lossy(k)
            );
            assert!(written.contains_key(k));
        }
        // Nothing evicts the stable keys here (the store is large enough), so all are seen.
        for k in &stable {
            assert!(seen.contains(k), "{} missing", String::from_utf8_lossy(k));
        }
    }
}
