//! The store's side of persistence (`--data-dir`): every mutation of an item appends its
//! record to the store's [`Journal`] (the item's state after it, a tombstone, or a flush),
//! and warm-up loads records back as items with their own unique. Off (no journal), each
//! write pays one branch on an `Option`.
//!
//! The hooks are where every protocol's writes pass: [`Store::write_ext`] (every new
//! version of an item), `overwrite`, `set_exptime_at` (touch, gat, meta's `T`), the
//! in-place `incr`/`decr`, meta's invalidation, `delete`/`remove`/`md`, and `flush_all`.
//! Evictions and expiries write nothing: an evicted item comes back at a restart with the
//! last value written, and warm-up skips what has expired.

use super::index::Loc;
use super::segment;
use super::{Prior, Store, StoreResult};
use crate::persist::journal::Journal;
use crate::persist::record::BIT_KEY_BINARY;

impl Store {
    /// Starts journaling mutations (after warm-up, which loads without journaling).
    pub fn start_journal(&mut self) {
        if self.journal.is_none() {
            self.journal = Some(Box::default());
        }
    }

    /// The records not yet taken by the flusher; None when persistence is off.
    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_deref()
    }

    pub fn journal_mut(&mut self) -> Option<&mut Journal> {
        self.journal.as_deref_mut()
    }

    /// Journals the live item at `loc` as it is now.
    #[inline]
    pub(super) fn journal_at(&mut self, loc: Loc) {
        if self.journal.is_some() {
            self.journal_item(loc);
        }
    }

    #[inline(never)]
    fn journal_item(&mut self, loc: Loc) {
        let Some(j) = self.journal.as_deref_mut() else {
            return;
        };
        let at = loc.seg as usize * self.seg_size + loc.off as usize;
        let src = &self.arena.bytes()[at..];
        let h = segment::read_header(src);
        let bits = if h.key_binary { BIT_KEY_BINARY } else { 0 };
        j.set(
            self.now,
            h.flags,
            h.exptime,
            h.cas,
            bits,
            &src[h.key_at..h.key_at + h.klen],
            &src[h.value_at()..h.value_at() + h.vlen],
        );
    }

    /// Journals `key`'s deletion.
    #[inline]
    pub(super) fn journal_delete(&mut self, key: &[u8]) {
        if let Some(j) = self.journal.as_deref_mut() {
            j.delete(self.now, key);
        }
    }

    /// Journals a `flush_all` (`at` 0: at once).
    pub(super) fn journal_flush(&mut self, at: u32, now: u32) {
        if let Some(j) = self.journal.as_deref_mut() {
            j.flush(self.now.max(now), at);
        }
    }

    /// Warm-up: stores a journaled item as it was, unique included (a client's `gets`
    /// before the restart still compares equal after it). Later records for the key replace
    /// it. Call [`Store::resume_cas`] with the largest unique loaded once done.
    #[allow(clippy::too_many_arguments)]
    pub fn load(
        &mut self,
        key: &[u8],
        flags: u32,
        exptime: u32,
        cas: u64,
        key_binary: bool,
        value: &[u8],
        now: u32,
    ) -> StoreResult {
        self.load_hashed(
            super::key_hash(key),
            key,
            flags,
            exptime,
            cas,
            key_binary,
            value,
            now,
        )
    }

    /// [`Store::load`] with the key's hash ([`super::key_hash`]), when the caller has it
    /// (warm-up hashes records ahead, to prefetch their index buckets).
    #[allow(clippy::too_many_arguments)]
    pub fn load_hashed(
        &mut self,
        hash: u64,
        key: &[u8],
        flags: u32,
        exptime: u32,
        cas: u64,
        key_binary: bool,
        value: &[u8],
        now: u32,
    ) -> StoreResult {
        debug_assert_eq!(hash, super::key_hash(key));
        self.tick(now);
        let prior = Prior::Hashed { hash };
        match self.write_at(key, flags, exptime, &[value], 0, key_binary, prior) {
            Some(loc) => {
                segment::set_cas(self.item_mut(loc), cas);
                StoreResult::Stored
            }
            None => StoreResult::NoMemory,
        }
    }

    /// Warm-up: new uniques continue above `max`, in this store's own sequence, so no
    /// key's unique ever repeats across a restart.
    pub fn resume_cas(&mut self, max: u64) {
        if max >= self.next_cas {
            let steps = (max - self.next_cas) / self.cas_stride + 1;
            self.next_cas += steps * self.cas_stride;
        }
    }

    /// The next unique this store gives (tests).
    pub fn next_cas(&self) -> u64 {
        self.next_cas
    }
}

#[cfg(test)]
mod tests {
    use super::super::Mode;
    use super::*;
    use crate::persist::record::{Decoder, Record, Stop};

    const NOW: u32 = 1_700_000_000;

    /// What each mutation journals: (kind, key, value, flags, exptime) per record.
    type Seen = Vec<(&'static str, Vec<u8>, Vec<u8>, u32, u32)>;

    fn drain(s: &mut Store) -> Seen {
        let mut j = Journal::default();
        s.journal_mut().expect("journal on").take_into(&mut j);
        let mut d = Decoder::new(&j.buf);
        let seen = d
            .by_ref()
            .map(|(_, r)| match r {
                Record::Set {
                    key,
                    value,
                    flags,
                    exptime,
                    ..
                } => ("set", key.to_vec(), value.to_vec(), flags, exptime),
                Record::Delete { key, .. } => ("delete", key.to_vec(), vec![], 0, 0),
                Record::Flush { at, .. } => ("flush", vec![], vec![], 0, at),
            })
            .collect::<Seen>();
        assert_eq!(d.stopped(), Some((j.buf.len(), Stop::Clean)));
        assert_eq!(j.records, seen.len() as u64);
        seen
    }

    fn set(
        k: &str,
        v: &str,
        flags: u32,
        exptime: u32,
    ) -> (&'static str, Vec<u8>, Vec<u8>, u32, u32) {
        (
            "set",
            k.as_bytes().to_vec(),
            v.as_bytes().to_vec(),
            flags,
            exptime,
        )
    }

    #[test]
    fn every_mutation_journals_the_items_state_after_it_and_nothing_else_does() {
        let mut s = Store::builder().started(NOW - 100).build();
        s.start_journal();
        let store = |s: &mut Store, m, k: &str, v: &str, f, e, cas| {
            s.store(m, k.as_bytes(), f, e, cas, v.as_bytes(), NOW)
        };
        assert_eq!(
            store(&mut s, Mode::Set, "a", "1", 5, 0, 0),
            StoreResult::Stored
        );
        assert_eq!(drain(&mut s), vec![set("a", "1", 5, 0)]);
        // Same size: written over the old item, journaled all the same.
        store(&mut s, Mode::Set, "a", "2", 6, 0, 0);
        store(&mut s, Mode::Append, "a", "xy", 0, 0, 0);
        store(&mut s, Mode::Prepend, "a", "p", 0, 0, 0);
        assert_eq!(
            drain(&mut s),
            vec![
                set("a", "2", 6, 0),
                set("a", "2xy", 6, 0),
                set("a", "p2xy", 6, 0)
            ]
        );
        // Failed writes journal nothing.
        store(&mut s, Mode::Add, "a", "z", 0, 0, 0);
        store(&mut s, Mode::Replace, "b", "z", 0, 0, 0);
        store(&mut s, Mode::Cas, "a", "z", 0, 0, 999);
        assert!(!s.delete(b"nope", NOW));
        assert!(s.get(b"a", NOW).is_some());
        assert_eq!(drain(&mut s), vec![]);
        let cas = s.get(b"a", NOW).expect("a").cas;
        store(&mut s, Mode::Cas, "a", "c", 1, 0, cas);
        store(&mut s, Mode::Set, "n", "10", 0, 0, 0);
        assert_eq!(
            s.arith(b"n", true, 5, NOW),
            super::super::ArithResult::Value(15)
        );
        assert_eq!(
            s.arith(b"n", true, 100, NOW),
            super::super::ArithResult::Value(115)
        );
        assert!(s.touch(b"a", NOW + 50, NOW));
        assert!(s.get_and_touch(b"n", NOW + 60, NOW).is_some());
        assert!(s.delete(b"a", NOW));
        s.flush_all(0, NOW);
        s.flush_all(NOW + 10, NOW);
        assert_eq!(
            drain(&mut s),
            vec![
                set("a", "c", 1, 0),
                set("n", "10", 0, 0),
                set("n", "15", 0, 0),
                set("n", "115", 0, 0),
                set("a", "c", 1, NOW + 50),
                set("n", "115", 0, NOW + 60),
                ("delete", b"a".to_vec(), vec![], 0, 0),
                ("flush", vec![], vec![], 0, 0),
                ("flush", vec![], vec![], 0, NOW + 10),
            ]
        );
        // Meta: a set, an invalidation (new unique), a delete.
        assert_eq!(
            s.meta_store(Mode::Set, b"m", 2, 0, 0, false, false, b"mv", NOW),
            StoreResult::Stored
        );
        assert_eq!(
            s.meta_delete(b"m", None, true, None, NOW),
            super::super::MetaDelete::Invalidated
        );
        assert_eq!(
            s.meta_delete(b"m", None, false, None, NOW),
            super::super::MetaDelete::Deleted
        );
        assert_eq!(
            drain(&mut s),
            vec![
                set("m", "mv", 2, 0),
                set("m", "mv", 2, 0),
                ("delete", b"m".to_vec(), vec![], 0, 0),
            ]
        );
    }

    #[test]
    fn loaded_items_keep_their_unique_and_new_ones_continue_above_it() {
        let mut s = Store::builder().cas_sequence(1, 2).build();
        assert_eq!(
            s.load(b"k", 7, 0, 1001, true, b"v", NOW),
            StoreResult::Stored
        );
        assert_eq!(
            s.load(b"j", 0, 0, 20, false, b"w", NOW),
            StoreResult::Stored
        );
        assert!(s.journal().is_none());
        let it = s.get(b"k", NOW).expect("loaded");
        assert_eq!((it.flags, it.cas, it.value), (7, 1001, &b"v"[..]));
        s.resume_cas(1001);
        // Shard 1 of 2: uniques 2, 4, 6 ...
        assert_eq!(s.next_cas(), 1002);
        s.resume_cas(5);
        assert_eq!(s.next_cas(), 1002);
    }
}
