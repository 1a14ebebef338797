//! The hash index: key hash → item location, 8 bytes per slot.
//!
//! Buckets of 8 slots (one cache line), probed linearly from the home bucket, so the table
//! runs at high load (up to 7/8) with short probes. A slot packs a 16-bit tag (15 bits of the
//! key's hash, to skip most key comparisons), the segment and the offset. A bucket is
//! scanned without branches per slot. Deleted slots become tombstones, cleared when the
//! table is rebuilt.

use super::segment::Block;

/// Where an item lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    pub seg: u32,
    pub off: u32,
}

pub const MAX_SEGMENTS: usize = (1 << 20) - 1;
pub const MAX_OFFSET: usize = (1 << 28) - 1;

const EMPTY: u64 = 0;
const TOMB: u64 = 1;
const BUCKET: usize = 8;

/// 15 bits of the key's hash, with the top bit set: no tag is 0, the top bits of an empty
/// slot and of a tombstone.
fn tag(h: u64) -> u64 {
    (h & 0x7fff) | 0x8000
}

fn pack(h: u64, loc: Loc) -> u64 {
    debug_assert!((loc.seg as usize) < MAX_SEGMENTS && (loc.off as usize) <= MAX_OFFSET);
    (tag(h) << 48) | ((loc.seg as u64 + 1) << 28) | loc.off as u64
}

fn unpack(e: u64) -> Loc {
    Loc {
        seg: (((e >> 28) & 0xf_ffff) - 1) as u32,
        off: (e & MAX_OFFSET as u64) as u32,
    }
}

/// The hash index. It stores no keys: callers confirm a match by reading the key at the
/// location.
#[derive(Debug)]
pub struct Index {
    /// The slots, in their own mapping (huge pages where the kernel allows).
    slots: Block,
    buckets: usize,
    len: usize,
    tombs: usize,
}

impl Index {
    /// An index for about `items` entries.
    pub fn with_capacity(items: usize) -> Index {
        let buckets = (items * 8 / 7).div_ceil(BUCKET).max(1);
        Index {
            slots: Block::new(buckets * BUCKET * 8).expect("mapping the index"),
            buckets,
            len: 0,
            tombs: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the table occupies.
    pub fn bytes(&self) -> usize {
        self.buckets * BUCKET * 8
    }

    fn home(&self, h: u64) -> usize {
        ((h as u128 * self.buckets as u128) >> 64) as usize
    }

    /// The slots of bucket `b` (as a bit mask) whose entries carry tag `t`, and whether the
    /// bucket has an empty slot. Branch-free: where a match sits in a bucket is random, and
    /// a loop that stops at it mispredicts.
    fn scan(&self, b: usize, t: u64) -> (u32, bool) {
        let base = b * BUCKET;
        let slots: &[u64; BUCKET] = self.slots.words()[base..base + BUCKET].try_into().unwrap();
        let mut tagged = 0;
        for (i, &e) in slots.iter().enumerate() {
            tagged |= ((e >> 48 == t) as u32) << i;
        }
        (tagged, slots.contains(&EMPTY))
    }

    /// Finds the slot of the entry with hash `h` for which `is_key` holds.
    pub fn find(&self, h: u64, mut is_key: impl FnMut(Loc) -> bool) -> Option<(usize, Loc)> {
        let t = tag(h);
        let mut b = self.home(h);
        for _ in 0..self.buckets {
            let (mut tagged, saw_empty) = self.scan(b, t);
            while tagged != 0 {
                let i = b * BUCKET + tagged.trailing_zeros() as usize;
                tagged &= tagged - 1;
                let loc = unpack(self.slots.words()[i]);
                if is_key(loc) {
                    return Some((i, loc));
                }
            }
            if saw_empty {
                return None;
            }
            b = if b + 1 == self.buckets { 0 } else { b + 1 };
        }
        None
    }

    /// Starts loading the home bucket of hash `h`.
    pub fn prefetch(&self, h: u64) {
        let slot = self.home(h) * BUCKET;
        super::prefetch(self.slots.words()[slot..].as_ptr() as *const u8);
    }

    /// Calls `f` with the location of every entry in the home bucket whose tag matches `h`.
    pub fn candidates(&self, h: u64, mut f: impl FnMut(Loc)) {
        let b = self.home(h);
        let (mut tagged, _) = self.scan(b, tag(h));
        while tagged != 0 {
            let i = b * BUCKET + tagged.trailing_zeros() as usize;
            tagged &= tagged - 1;
            f(unpack(self.slots.words()[i]));
        }
    }

    /// Adds an entry whose key is not in the index. The caller grows the table first
    /// (see [`Index::needs_rebuild`]), so there is always room.
    pub fn insert(&mut self, h: u64, loc: Loc) {
        let mut b = self.home(h);
        loop {
            let base = b * BUCKET;
            for i in base..base + BUCKET {
                let e = self.slots.words()[i];
                if e == EMPTY || e == TOMB {
                    if e == TOMB {
                        self.tombs -= 1;
                    }
                    self.slots.words_mut()[i] = pack(h, loc);
                    self.len += 1;
                    return;
                }
            }
            b = if b + 1 == self.buckets { 0 } else { b + 1 };
        }
    }

    /// Points the entry in `slot` (from [`Index::find`]) at a new location.
    pub fn relocate(&mut self, slot: usize, loc: Loc) {
        let e = self.slots.words()[slot];
        self.slots.words_mut()[slot] = (e & !((1u64 << 48) - 1)) | pack(0, loc);
    }

    /// Removes the entry in `slot`.
    pub fn remove(&mut self, slot: usize) {
        debug_assert!(self.slots.words()[slot] > TOMB);
        self.slots.words_mut()[slot] = TOMB;
        self.len -= 1;
        self.tombs += 1;
    }

    /// True when one more entry needs a rebuild first (load over 7/8, tombstones included).
    pub fn needs_rebuild(&self) -> bool {
        (self.len + self.tombs + 1) * 8 > self.buckets * BUCKET * 7
    }

    /// The size a rebuild should have: 15% more room than the live entries need at 7/8
    /// load, so the table stays dense (bytes per item is what `-m` pays for).
    pub fn rebuild_size(&self) -> usize {
        (self.len + 1) * 115 / 100 + BUCKET
    }

    /// Bytes a rebuild to [`Index::rebuild_size`] will occupy.
    pub fn rebuild_bytes(&self) -> usize {
        (self.rebuild_size() * 8 / 7).div_ceil(BUCKET) * BUCKET * 8
    }

    /// Rebuilds the table for `items` entries, rehashing each entry's key with `hash_of`.
    pub fn rebuild(&mut self, items: usize, mut hash_of: impl FnMut(Loc) -> u64) {
        let old = std::mem::replace(self, Index::with_capacity(items.max(self.len)));
        for &e in &old.slots.words()[..old.buckets * BUCKET] {
            if e > TOMB {
                let loc = unpack(e);
                self.insert(hash_of(loc), loc);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn insert_find_remove_rebuild() {
        // Locations stand for keys: the "key" of loc is its offset.
        let h = |k: u32| ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(k);
        let mut idx = Index::with_capacity(16);
        let mut model = HashMap::new();
        for k in 0..5000u32 {
            if idx.needs_rebuild() {
                idx.rebuild(idx.rebuild_size(), |loc| h(loc.off));
            }
            let loc = Loc { seg: k % 7, off: k };
            idx.insert(h(k), loc);
            model.insert(k, loc);
            if k % 3 == 0 {
                let (slot, _) = idx.find(h(k / 2), |l| l.off == k / 2).unwrap();
                idx.remove(slot);
                model.remove(&(k / 2));
            }
        }
        assert_eq!(idx.len(), model.len());
        for k in 0..5000u32 {
            let got = idx.find(h(k), |l| l.off == k).map(|(_, l)| l);
            assert_eq!(got, model.get(&k).copied(), "key {k}");
        }
        let (slot, _) = idx.find(h(4999), |l| l.off == 4999).unwrap();
        idx.relocate(slot, Loc { seg: 9, off: 4999 });
        assert_eq!(idx.find(h(4999), |l| l.off == 4999).unwrap().1.seg, 9);
        // Dense: under 11 bytes per entry after rebuilds.
        assert!(
            idx.bytes() < idx.len() * 11,
            "{} bytes for {}",
            idx.bytes(),
            idx.len()
        );
    }
}
