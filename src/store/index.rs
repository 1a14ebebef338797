//! The hash index: key hash → item location, 8 bytes per slot.
//!
//! Buckets of 8 slots (one cache line), probed linearly from the home bucket, so the table
//! runs at high load (up to 7/8) with short probes. A bucket keeps its slots' 16-bit tags
//! together in its first 16 bytes (15 bits of the key's hash, to skip most key
//! comparisons) and their 48-bit locations (segment and offset) in the other 48:
//!
//! ```text
//!   bucket (64 bytes): [tag 0 .. tag 7: 8 × u16][loc 0 .. loc 7: 8 × 48 bits]
//!   tag: 0 empty, 1 tombstone, else 0x8000 | 15 bits of the hash
//! ```
//!
//! so one 16-byte compare finds every slot with a key's tag and every empty slot at once,
//! with no branch per slot. Deleted slots become tombstones, cleared when the table is
//! rebuilt.

use super::segment::Block;

/// Where an item lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    pub seg: u32,
    pub off: u32,
}

pub const MAX_SEGMENTS: usize = (1 << 20) - 1;
pub const MAX_OFFSET: usize = (1 << 28) - 1;

const EMPTY: u16 = 0;
const TOMB: u16 = 1;
const BUCKET: usize = 8;
/// Bytes per bucket: the tags, then the locations.
const BUCKET_BYTES: usize = 64;
const TAGS: usize = 2 * BUCKET;
const LOC_BYTES: usize = 6;
/// How many entries ahead a rebuild loads keys (see [`Index::rebuild`]).
const REHASH_AHEAD: usize = 16;
const _: () = assert!(TAGS + BUCKET * LOC_BYTES == BUCKET_BYTES);

/// 15 bits of the key's hash, with the top bit set: no tag is an empty slot's or a
/// tombstone's.
fn tag(h: u64) -> u16 {
    (h as u16 & 0x7fff) | 0x8000
}

fn pack(loc: Loc) -> u64 {
    debug_assert!((loc.seg as usize) < MAX_SEGMENTS && (loc.off as usize) <= MAX_OFFSET);
    ((loc.seg as u64) << 28) | loc.off as u64
}

fn unpack(e: u64) -> Loc {
    Loc {
        seg: ((e >> 28) & 0xf_ffff) as u32,
        off: (e & MAX_OFFSET as u64) as u32,
    }
}

/// [`Index::probe`].
pub struct Probe<'a> {
    index: &'a Index,
    t: u16,
    /// The bucket being looked at.
    b: usize,
    /// Its slots with tag `t` not yet returned.
    tagged: u32,
    /// Whether it has an empty slot (the probe ends with it).
    saw_empty: bool,
    /// Buckets left to look at, this one included.
    left: usize,
}

impl Iterator for Probe<'_> {
    type Item = (usize, Loc);

    #[inline(always)]
    fn next(&mut self) -> Option<(usize, Loc)> {
        loop {
            if self.tagged != 0 {
                let i = self.tagged.trailing_zeros() as usize;
                self.tagged &= self.tagged - 1;
                return Some((
                    self.b * BUCKET + i,
                    Index::loc_of(self.index.bucket(self.b), i),
                ));
            }
            // Saturating: `next` after the end stays at the end.
            self.left = self.left.saturating_sub(1);
            if self.saw_empty || self.left == 0 {
                return None;
            }
            self.b = if self.b + 1 == self.index.buckets {
                0
            } else {
                self.b + 1
            };
            (self.tagged, self.saw_empty) = self.index.scan(self.b, self.t);
        }
    }
}

/// The hash index. It stores no keys: callers confirm a match by reading the key at the
/// location.
#[derive(Debug)]
pub struct Index {
    /// The buckets, in their own mapping (huge pages where the kernel allows).
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
            slots: Block::new(buckets * BUCKET_BYTES).expect("mapping the index"),
            buckets,
            len: 0,
            tombs: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Entries the table takes before it needs a rebuild (at 7/8 load).
    pub fn room(&self) -> usize {
        (self.buckets * BUCKET * 7 / 8).saturating_sub(self.tombs + 1)
    }

    /// Bytes a table for `items` entries occupies.
    pub fn bytes_for(items: usize) -> usize {
        (items * 8 / 7).div_ceil(BUCKET).max(1) * BUCKET_BYTES
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Tombstones: slots of removed entries not yet cleared by a rebuild.
    pub fn tombs(&self) -> usize {
        self.tombs
    }

    /// Bytes the table occupies.
    pub fn bytes(&self) -> usize {
        self.buckets * BUCKET_BYTES
    }

    pub(super) fn home(&self, h: u64) -> usize {
        ((h as u128 * self.buckets as u128) >> 64) as usize
    }

    /// Bucket `b`'s bytes.
    fn bucket(&self, b: usize) -> &[u8; BUCKET_BYTES] {
        let base = b * BUCKET_BYTES;
        self.slots.bytes()[base..base + BUCKET_BYTES]
            .try_into()
            .unwrap()
    }

    fn bucket_mut(&mut self, b: usize) -> &mut [u8; BUCKET_BYTES] {
        let base = b * BUCKET_BYTES;
        (&mut self.slots.bytes_mut()[base..base + BUCKET_BYTES])
            .try_into()
            .unwrap()
    }

    /// The tag of slot `i` of bucket `bk`.
    fn tag_of(bk: &[u8; BUCKET_BYTES], i: usize) -> u16 {
        u16::from_le_bytes([bk[2 * i], bk[2 * i + 1]])
    }

    /// The location in slot `i` of bucket `bk`.
    fn loc_of(bk: &[u8; BUCKET_BYTES], i: usize) -> Loc {
        let at = TAGS + i * LOC_BYTES;
        let mut w = [0u8; 8];
        w[..LOC_BYTES].copy_from_slice(&bk[at..at + LOC_BYTES]);
        unpack(u64::from_le_bytes(w))
    }

    /// Fills slot `i` of bucket `bk`.
    fn set(bk: &mut [u8; BUCKET_BYTES], i: usize, tag: u16, loc: Loc) {
        bk[2 * i..2 * i + 2].copy_from_slice(&tag.to_le_bytes());
        let at = TAGS + i * LOC_BYTES;
        bk[at..at + LOC_BYTES].copy_from_slice(&pack(loc).to_le_bytes()[..LOC_BYTES]);
    }

    /// The slots of bucket `b` (as a bit mask) whose entries carry tag `t`, and whether the
    /// bucket has an empty slot. One 16-byte compare of the tags: where a match sits in a
    /// bucket is random, and a loop that stops at it mispredicts.
    #[inline]
    fn scan(&self, b: usize, t: u16) -> (u32, bool) {
        let bk = self.bucket(b);
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::*;
            // SAFETY: SSE2 is part of x86_64; the load reads the bucket's first 16 bytes.
            unsafe {
                let tags = _mm_loadu_si128(bk.as_ptr() as *const __m128i);
                let hit = _mm_cmpeq_epi16(tags, _mm_set1_epi16(t as i16));
                let empty = _mm_cmpeq_epi16(tags, _mm_set1_epi16(EMPTY as i16));
                // Each 16-bit lane is 0 or -1: packing to bytes keeps that, hits in the low
                // eight bytes and empties in the high eight.
                let m = _mm_movemask_epi8(_mm_packs_epi16(hit, empty)) as u32;
                (m & 0xff, m >> 8 != 0)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let mut tagged = 0;
            let mut empty = false;
            for i in 0..BUCKET {
                let s = Self::tag_of(bk, i);
                tagged |= ((s == t) as u32) << i;
                empty |= s == EMPTY;
            }
            (tagged, empty)
        }
    }

    /// Finds the slot of the entry with hash `h` for which `is_key` holds.
    #[inline(always)]
    pub fn find(&self, h: u64, mut is_key: impl FnMut(Loc) -> bool) -> Option<(usize, Loc)> {
        self.probe(h).find(|&(_, loc)| is_key(loc))
    }

    /// The slots (and their locations) whose tag matches hash `h`, in probe order, up to
    /// the first bucket with an empty slot: the candidates for `h`'s key. A loop over them
    /// inlines the caller's key test, where a closure passed to a probe stayed a call.
    #[inline(always)]
    pub fn probe(&self, h: u64) -> Probe<'_> {
        let t = tag(h);
        let b = self.home(h);
        let (tagged, saw_empty) = self.scan(b, t);
        Probe {
            index: self,
            t,
            b,
            tagged,
            saw_empty,
            left: self.buckets,
        }
    }

    /// Starts loading the home bucket of hash `h`.
    pub fn prefetch(&self, h: u64) {
        let base = self.home(h) * BUCKET_BYTES;
        super::prefetch(self.slots.bytes()[base..].as_ptr());
    }

    /// Calls `f` with the location of every entry in the home bucket whose tag matches `h`.
    pub fn candidates(&self, h: u64, mut f: impl FnMut(Loc)) {
        let b = self.home(h);
        let (mut tagged, _) = self.scan(b, tag(h));
        while tagged != 0 {
            let i = tagged.trailing_zeros() as usize;
            tagged &= tagged - 1;
            f(Self::loc_of(self.bucket(b), i));
        }
    }

    /// Adds an entry whose key is not in the index. The caller grows the table first
    /// (see [`Index::needs_rebuild`]), so there is always room.
    pub fn insert(&mut self, h: u64, loc: Loc) {
        let mut b = self.home(h);
        loop {
            let bk = self.bucket_mut(b);
            if let Some(i) = (0..BUCKET).find(|&i| Self::tag_of(bk, i) <= TOMB) {
                let was = Self::tag_of(bk, i);
                Self::set(bk, i, tag(h), loc);
                if was == TOMB {
                    self.tombs -= 1;
                }
                self.len += 1;
                return;
            }
            b = if b + 1 == self.buckets { 0 } else { b + 1 };
        }
    }

    /// The location in `slot`, if it holds an entry (none past the table: a slot taken
    /// before a rebuild may be).
    pub fn loc_at(&self, slot: usize) -> Option<Loc> {
        if slot / BUCKET >= self.buckets {
            return None;
        }
        let bk = self.bucket(slot / BUCKET);
        (Self::tag_of(bk, slot % BUCKET) > TOMB).then(|| Self::loc_of(bk, slot % BUCKET))
    }

    /// Buckets in the table.
    pub(super) fn buckets(&self) -> usize {
        self.buckets
    }

    /// The entries of bucket `b`, and whether it has an empty slot (a probe ends there).
    pub(super) fn bucket_entries(&self, b: usize) -> ([Option<Loc>; BUCKET], bool) {
        let bk = self.bucket(b);
        let mut out = [None; BUCKET];
        let mut empty = false;
        for (i, e) in out.iter_mut().enumerate() {
            let t = Self::tag_of(bk, i);
            empty |= t == EMPTY;
            *e = (t > TOMB).then(|| Self::loc_of(bk, i));
        }
        (out, empty)
    }

    /// Points the entry in `slot` (from [`Index::find`]) at a new location.
    pub fn relocate(&mut self, slot: usize, loc: Loc) {
        let bk = self.bucket_mut(slot / BUCKET);
        let t = Self::tag_of(bk, slot % BUCKET);
        debug_assert!(t > TOMB);
        Self::set(bk, slot % BUCKET, t, loc);
    }

    /// Removes the entry in `slot`.
    pub fn remove(&mut self, slot: usize) {
        let bk = self.bucket_mut(slot / BUCKET);
        debug_assert!(Self::tag_of(bk, slot % BUCKET) > TOMB);
        let i = slot % BUCKET;
        bk[2 * i..2 * i + 2].copy_from_slice(&TOMB.to_le_bytes());
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
        (self.rebuild_size() * 8 / 7).div_ceil(BUCKET) * BUCKET_BYTES
    }

    /// Rebuilds the table for `items` entries, rehashing each entry's key with `hash_of`.
    /// `prefetch` is called for each entry `REHASH_AHEAD` entries before its `hash_of`:
    /// entries come in bucket order, their keys from anywhere in memory, and reading each
    /// key only when its hash is needed waits for a cache miss per entry.
    pub fn rebuild(
        &mut self,
        items: usize,
        mut prefetch: impl FnMut(Loc),
        mut hash_of: impl FnMut(Loc) -> u64,
    ) {
        let old = std::mem::replace(self, Index::with_capacity(items.max(self.len)));
        let mut ring = [None; REHASH_AHEAD];
        let mut n = 0;
        for b in 0..old.buckets {
            let bk = old.bucket(b);
            for i in 0..BUCKET {
                if Self::tag_of(bk, i) > TOMB {
                    let loc = Self::loc_of(bk, i);
                    prefetch(loc);
                    if let Some(was) = ring[n % REHASH_AHEAD].replace(loc) {
                        self.insert(hash_of(was), was);
                    }
                    n += 1;
                }
            }
        }
        for k in n.saturating_sub(REHASH_AHEAD)..n {
            if let Some(loc) = ring[k % REHASH_AHEAD].take() {
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
    fn scan_matches_a_slot_by_slot_scan() {
        // Buckets of random tags, with empties, tombstones and one tag made common, against
        // the obvious loop.
        let mut idx = Index::with_capacity(64 * 7);
        let mut rng = super::super::tests::Rng(0x9e37_79b9_7f4a_7c15);
        let mut next = move || rng.next();
        for round in 0..2000 {
            let b = round % idx.buckets;
            let common = tag(next());
            for i in 0..BUCKET {
                let t = match next() % 5 {
                    0 => EMPTY,
                    1 => TOMB,
                    2 | 3 => common,
                    _ => tag(next()),
                };
                let loc = Loc {
                    seg: (next() % MAX_SEGMENTS as u64) as u32,
                    off: (next() % (MAX_OFFSET as u64 + 1)) as u32,
                };
                Index::set(idx.bucket_mut(b), i, t, loc);
                assert_eq!(Index::loc_of(idx.bucket(b), i), loc);
            }
            for t in [common, EMPTY, TOMB, tag(next())] {
                let bk = idx.bucket(b);
                let want = (0..BUCKET)
                    .filter(|&i| Index::tag_of(bk, i) == t)
                    .fold(0u32, |m, i| m | 1 << i);
                let empty = (0..BUCKET).any(|i| Index::tag_of(bk, i) == EMPTY);
                assert_eq!(idx.scan(b, t), (want, empty), "round {round}, tag {t:#x}");
            }
        }
    }

    #[test]
    fn a_probe_wraps_past_the_last_bucket_and_ends_in_a_full_table() {
        // Two buckets, every entry's home the last one: entries overflow into bucket 0.
        let mut idx = Index::with_capacity(14);
        assert_eq!(idx.buckets, 2);
        let last: u64 = !0x7fff;
        let (a, b) = (last | 0x1234, last | 0x0042);
        assert_eq!(idx.home(a), 1);
        let entry = |k: u32| Loc { seg: 0, off: k };
        for k in 0..16u32 {
            idx.insert(if k % 2 == 0 { a } else { b }, entry(k));
            // Every probe yields exactly the entries with its tag, in probe order: the home
            // bucket's slots, then the next bucket's, wrapping to bucket 0.
            let want: Vec<(usize, Loc)> = (0..=k)
                .filter(|k| k % 2 == 0)
                .map(|k| ((8 + k as usize) % 16, entry(k)))
                .collect();
            assert_eq!(idx.probe(a).collect::<Vec<_>>(), want, "after {k}");
        }
        // Full: no empty slot ends the probe, which stops after every bucket.
        assert_eq!(idx.len(), 16);
        assert_eq!(idx.probe(b).count(), 8);
        let mut ended = idx.probe(b).skip(8);
        assert_eq!((ended.next(), ended.next()), (None, None));
        assert_eq!(idx.find(a, |l| l.off == 99), None);
        assert_eq!(idx.find(b, |l| l.off == 15), Some((7, entry(15))));
    }

    #[test]
    fn insert_find_remove_rebuild() {
        // Locations stand for keys: the "key" of loc is its offset.
        let h = |k: u32| ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(k);
        let mut idx = Index::with_capacity(16);
        let mut model = HashMap::new();
        for k in 0..5000u32 {
            if idx.needs_rebuild() {
                idx.rebuild(idx.rebuild_size(), |_| {}, |loc| h(loc.off));
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
