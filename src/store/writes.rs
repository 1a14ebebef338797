//! The writes: storage commands (`set add replace append prepend cas`, as memcached's
//! `do_store_item`), `delete`, and `touch`/`gat`, which rewrite an item's expiry. A write
//! appends a new item and points the key's index entry at it; the old version is retired
//! in place and its memory comes back when its segment is compacted or evicted. A `set`,
//! `replace` or `cas` whose item takes exactly the old one's bytes is written over it
//! instead ([`Store::overwrite`]).

use super::index::Loc;
use super::segment::{self, Header, HAS_EXPTIME, KEPT_BITS};
use super::{memcached_item_size, Fifo, ItemRef, Mode, Prior, Store, StoreResult};
use crate::stats::{ClassStat, Stat};

impl Store {
    /// Sets a live item's expiry; returns its location and header.
    fn set_exptime(&mut self, key: &[u8], exptime: u32, now: u32) -> Option<(Loc, Header)> {
        let (_, loc, hdr) = self.lookup(key, now).ok()?;
        Some(self.set_exptime_at(loc, hdr, exptime))
    }

    /// Sets the expiry of the live item at `loc`: in place when it has an exptime field (or
    /// keeps none), else by relocating it into a copy with one. Returns where it now is.
    pub(super) fn set_exptime_at(&mut self, loc: Loc, hdr: Header, exptime: u32) -> (Loc, Header) {
        let (loc, hdr) = self.rewrite_exptime(loc, hdr, exptime);
        self.journal_at(loc);
        (loc, hdr)
    }

    fn rewrite_exptime(&mut self, loc: Loc, mut hdr: Header, exptime: u32) -> (Loc, Header) {
        self.hint_expiry(exptime);
        if hdr.info & HAS_EXPTIME != 0 {
            let src = self.item_mut(loc);
            let at = segment::exptime_at(src);
            src[at..at + 4].copy_from_slice(&exptime.to_le_bytes());
            hdr.exptime = exptime;
            return (loc, hdr);
        }
        if exptime == 0 && !hdr.exp_in_atime {
            return (loc, hdr);
        }
        if !hdr.exp_in_atime && exptime != 0 {
            if let Some(moved) = self.relocate(loc, &hdr, exptime) {
                return moved;
            }
        }
        // No memory for a copy with an exptime field: keep it in the atime field.
        let now = self.now;
        let src = self.item_mut(loc);
        segment::set_exptime_in_atime(src, exptime, now);
        (loc, segment::read_header(src))
    }

    /// Copies the live item at `loc` into a new one with exptime `exptime` (its header
    /// grows), keeping its unique, flags, access time and bits, and links the copy in its
    /// place. None (nothing changed) if no memory can be had.
    fn relocate(&mut self, loc: Loc, hdr: &Header, exptime: u32) -> Option<(Loc, Header)> {
        let mut body = std::mem::take(&mut self.scratch);
        body.clear();
        body.extend_from_slice(&self.item(loc)[hdr.key_at..hdr.total_len()]);
        let len = segment::item_len(hdr.klen, hdr.vlen, hdr.flags, exptime);
        let new = if len <= self.seg_size && self.make_index_room() {
            self.alloc(len, Fifo::Small)
        } else {
            None
        };
        let result = new.map(|new| {
            let m = segment::Meta {
                flags: hdr.flags,
                exptime,
                cas: hdr.cas,
                atime: if hdr.exp_in_atime {
                    self.now
                } else {
                    hdr.atime
                },
                key_binary: hdr.key_binary,
            };
            let dst = &mut self.item_mut(new)[..len];
            let p = segment::write_header(dst, &body[..hdr.klen], hdr.vlen, &m);
            dst[p..p + hdr.vlen].copy_from_slice(&body[hdr.klen..]);
            dst[0] |= hdr.info & KEPT_BITS;
            let new_hdr = segment::read_header(dst);
            let size = self.class_of(hdr).0;
            self.link(&body[..hdr.klen], new, len, size, Prior::Unknown);
            self.hint_expiry(exptime);
            (new, new_hdr)
        });
        self.scratch = body;
        result
    }

    /// `gat`: looks up a live item and sets its expiry.
    pub fn get_and_touch(&mut self, key: &[u8], exptime: u32, now: u32) -> Option<ItemRef<'_>> {
        let (loc, hdr) = self.set_exptime(key, exptime, now)?;
        self.touch_freq(loc);
        self.class_incr(&hdr, ClassStat::TouchHits);
        Some(self.view(loc, &hdr))
    }

    /// `touch`: sets a live item's expiry and marks it read (memcached fetches it with an
    /// LRU bump); false on a miss.
    pub fn touch(&mut self, key: &[u8], exptime: u32, now: u32) -> bool {
        match self.set_exptime(key, exptime, now) {
            Some((loc, hdr)) => {
                self.touch_freq(loc);
                self.class_incr(&hdr, ClassStat::TouchHits);
                true
            }
            None => false,
        }
    }

    /// `delete`: true if a live item was removed.
    pub fn delete(&mut self, key: &[u8], now: u32) -> bool {
        match self.lookup(key, now) {
            Ok((slot, loc, hdr)) => {
                self.unlink(slot, loc, &hdr);
                self.class_incr(&hdr, ClassStat::DeleteHits);
                self.journal_delete(key);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes `key` if present (memcached's clean-up after a failed `set`).
    pub fn remove(&mut self, key: &[u8], now: u32) {
        self.delete(key, now);
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
        let (old, prior) = self.lookup_prior(key, now);
        // memcached counts a storage command in the class of the item it allocates for it
        // (for append and prepend, the new data alone), whatever the outcome.
        let class = self.classes.class_of(memcached_item_size(
            key.len(),
            flags,
            data.len(),
            self.use_cas,
        ));
        self.counters.class_incr(class, ClassStat::CmdSet);
        let result = match (mode, old) {
            (Mode::Add, Some((_, loc, _))) => {
                // memcached bumps an existing item on a failed add.
                self.touch_update(loc);
                StoreResult::NotStored
            }
            (Mode::Replace | Mode::Append | Mode::Prepend, None) => StoreResult::NotStored,
            (Mode::Cas, None) => {
                self.counters.incr(Stat::CasMisses);
                StoreResult::NotFound
            }
            (Mode::Cas, Some((_, loc, hdr))) => {
                if self.use_cas && cas != 0 && hdr.cas == cas {
                    self.counters.incr(Stat::CasHits);
                    // memcached counts compares in the class of the item compared with.
                    self.class_incr(&hdr, ClassStat::CasHits);
                    if self.overwrite(loc, &hdr, key, flags, exptime, data) {
                        return StoreResult::Stored;
                    }
                    self.write_ext(key, flags, exptime, &[data], 0, false, prior)
                } else {
                    self.counters.incr(Stat::CasBadval);
                    self.class_incr(&hdr, ClassStat::CasBadval);
                    StoreResult::Exists
                }
            }
            (Mode::Append | Mode::Prepend, Some((_, _, hdr)))
                if memcached_item_size(
                    key.len(),
                    hdr.flags,
                    hdr.vlen + data.len(),
                    self.use_cas,
                ) > self.item_size_max =>
            {
                // memcached cannot allocate the combined item: NOT_STORED, old value kept.
                StoreResult::NotStored
            }
            (Mode::Append | Mode::Prepend, Some((_, loc, hdr))) => {
                // The old value is copied out first: making room may move it.
                let mut old_value = std::mem::take(&mut self.scratch);
                old_value.clear();
                let src = self.item(loc);
                old_value.extend_from_slice(&src[hdr.value_at()..hdr.value_at() + hdr.vlen]);
                let parts: [&[u8]; 2] = if mode == Mode::Append {
                    [&old_value, data]
                } else {
                    [data, &old_value]
                };
                let r = self.write_ext(key, hdr.flags, hdr.exptime, &parts, 0, false, prior);
                self.scratch = old_value;
                r
            }
            (Mode::Set | Mode::Replace, Some((_, loc, hdr)))
                if self.overwrite(loc, &hdr, key, flags, exptime, data) =>
            {
                StoreResult::Stored
            }
            (Mode::Set | Mode::Add | Mode::Replace, _) => {
                self.write_ext(key, flags, exptime, &[data], 0, false, prior)
            }
        };
        if result == StoreResult::NoMemory {
            self.counters.incr(Stat::StoreNoMemory);
            self.counters.class_incr(class, ClassStat::OutOfMemory);
            // memcached unlinks the old value when a `set` cannot be stored, so no stale
            // value stays behind.
            if mode == Mode::Set {
                self.remove(key, now);
            }
        }
        result
    }

    /// Writes a new version of the live item at `loc` over it, when it takes exactly the
    /// old one's bytes and no reply holds a value in its segment (the rule `incr` follows).
    /// Same-size rewrites are the common case (a client's values for a key rarely change
    /// size), and appending them instead would fill fresh memory, faulted in and zeroed
    /// page by page, with versions that only compaction takes back. The item is new in
    /// every way a client sees: value, flags, expiry, unique and access time; its read
    /// bits start over as a new item's do. False, with nothing changed, otherwise.
    fn overwrite(
        &mut self,
        loc: Loc,
        hdr: &Header,
        key: &[u8],
        flags: u32,
        exptime: u32,
        data: &[u8],
    ) -> bool {
        if data.len() != hdr.vlen
            || segment::item_len(key.len(), data.len(), flags, exptime) != hdr.total_len()
            || self.pinned(loc.seg)
        {
            return false;
        }
        // memcached's size counts flags only when not 0: the same bytes here may be
        // another size, and class, there.
        let (old_size, old_class) = self.class_of(hdr);
        let size = memcached_item_size(key.len(), flags, data.len(), self.use_cas);
        if size != old_size {
            let class = self.classes.class_of(size);
            let c = &self.counters;
            c.sizes.add(old_size, -1);
            c.sizes.add(size, 1);
            c.class_sub(old_class, ClassStat::Number, 1);
            c.class_sub(old_class, ClassStat::MemRequested, old_size as u64);
            c.class_add(class, ClassStat::Number, 1);
            c.class_add(class, ClassStat::MemRequested, size as u64);
        }
        let m = segment::Meta {
            flags,
            exptime,
            cas: self.new_cas(),
            atime: self.now,
            key_binary: false,
        };
        let dst = &mut self.item_mut(loc)[..hdr.total_len()];
        let p = segment::write_header(dst, key, data.len(), &m);
        dst[p..p + data.len()].copy_from_slice(data);
        self.hint_expiry(exptime);
        self.counters.incr(Stat::TotalItems);
        self.journal_at(loc);
        true
    }

    /// Writes a new version of `key` (value = the parts, concatenated) and links it.
    pub(super) fn write(
        &mut self,
        key: &[u8],
        flags: u32,
        exptime: u32,
        parts: &[&[u8]],
    ) -> StoreResult {
        self.write_ext(key, flags, exptime, parts, 0, false, Prior::Unknown)
    }

    /// [`Store::write`] with info `bits` set on the new item, its key marked binary, and
    /// what a lookup just before found of the key ([`Prior`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write_ext(
        &mut self,
        key: &[u8],
        flags: u32,
        exptime: u32,
        parts: &[&[u8]],
        bits: u8,
        key_binary: bool,
        prior: Prior,
    ) -> StoreResult {
        match self.write_at(key, flags, exptime, parts, bits, key_binary, prior) {
            Some(_) => StoreResult::Stored,
            None => StoreResult::NoMemory,
        }
    }

    /// [`Store::write_ext`], saying where the new item is (`None`: no memory for it).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write_at(
        &mut self,
        key: &[u8],
        flags: u32,
        exptime: u32,
        parts: &[&[u8]],
        bits: u8,
        key_binary: bool,
        prior: Prior,
    ) -> Option<Loc> {
        let vlen: usize = parts.iter().map(|p| p.len()).sum();
        let len = segment::item_len(key.len(), vlen, flags, exptime);
        if len > self.seg_size || !self.make_index_room() {
            return None;
        }
        let loc = self.alloc(len, Fifo::Small)?;
        let m = segment::Meta {
            flags,
            exptime,
            cas: self.new_cas(),
            atime: self.now,
            key_binary,
        };
        let dst = &mut self.item_mut(loc)[..len];
        let mut p = segment::write_header(dst, key, vlen, &m);
        dst[0] |= bits;
        for part in parts {
            dst[p..p + part.len()].copy_from_slice(part);
            p += part.len();
        }
        let size = memcached_item_size(key.len(), flags, vlen, self.use_cas);
        self.link(key, loc, len, size, prior);
        self.hint_expiry(exptime);
        self.counters.incr(Stat::TotalItems);
        self.journal_at(loc);
        Some(loc)
    }

    /// Points `key` at its new item at `loc`, retiring any older version: its index entry
    /// is repointed (no tombstone left behind), found from `prior` when the index has not
    /// moved it since, else by a probe. `mc_size` is the item's size as memcached counts
    /// it, for its slab class's counters.
    fn link(&mut self, key: &[u8], loc: Loc, len: usize, mc_size: usize, prior: Prior) {
        // The new item is not indexed yet: what the key finds is an older version.
        let find = |s: &Self, h: u64| s.find_key(h, key);
        let (h, found) = match prior {
            // Between a lookup and its write the index can only lose entries (eviction)
            // or move them (a rebuild): a key that was absent still is.
            Prior::Absent { hash } => {
                debug_assert!(find(self, hash).is_none());
                (hash, None)
            }
            Prior::At {
                hash,
                slot,
                loc: was,
            } if self.index.loc_at(slot) == Some(was) => {
                debug_assert_eq!(find(self, hash), Some((slot, was)));
                (hash, Some((slot, was)))
            }
            Prior::At { hash, .. } | Prior::Hashed { hash } => (hash, find(self, hash)),
            Prior::Unknown => {
                let h = self.hash(key);
                (h, find(self, h))
            }
        };
        match found {
            Some((slot, old)) => {
                debug_assert_ne!(old, loc);
                let hdr = segment::read_header(self.item(old));
                self.retire(old, &hdr);
                self.index.relocate(slot, loc);
            }
            None => self.index.insert(h, loc),
        }
        let seg = self.seg_mut(loc.seg);
        seg.live_items += 1;
        seg.live_bytes += len;
        self.live_bytes += len;
        self.counters.add(Stat::CurrItems, 1);
        self.counters.add(Stat::Bytes, len as u64);
        self.counters.sizes.add(mc_size, 1);
        let class = self.classes.class_of(mc_size);
        self.counters.class_add(class, ClassStat::Number, 1);
        self.counters
            .class_add(class, ClassStat::MemRequested, mc_size as u64);
    }
}
