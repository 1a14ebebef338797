//! Where items go: segment allocation, S3-FIFO eviction and compaction, which call each
//! other (allocating may compact or evict; both rewrite a segment in place), and the index
//! growth that eviction pays for.

use std::collections::VecDeque;

use super::index::{Index, Loc};
use super::segment::{self, DEAD, FETCHED, FREQ_MASK};
use super::{Fifo, Seg, Store};
use crate::stats::{ClassStat, Stat};

impl Store {
    /// Whether a write had to evict inline since the last call.
    pub fn take_wants_headroom(&mut self) -> bool {
        std::mem::take(&mut self.wants_headroom)
    }

    /// The eviction task's step: evicts one segment when no segment's worth of memory is
    /// free. True if that freed memory and another step may be useful.
    pub fn make_headroom(&mut self) -> bool {
        if !self.evict || self.mem_used() + self.seg_size <= self.mem_limit {
            return false;
        }
        let before = self.seg_count;
        self.evict_one() && self.seg_count < before
    }

    /// Rebuilds the index before it gets too full, evicting segments to pay for the growth.
    pub(super) fn make_index_room(&mut self) -> bool {
        if !self.index.needs_rebuild() {
            return true;
        }
        let grow = self
            .index
            .rebuild_bytes()
            .saturating_sub(self.index.bytes());
        while self.mem_used() + grow > self.mem_limit {
            if !self.evict || !self.evict_one() {
                return false;
            }
            if !self.index.needs_rebuild() {
                return true;
            }
        }
        self.rebuild_index(self.index.rebuild_size());
        true
    }

    /// Grows the index at once to hold `items` where the memory limit allows it: for a
    /// caller that knows how many items are coming (warm-up), one rebuild instead of one
    /// for each 15 % of growth, each of which reads every item's key again.
    /// Grown, it takes 1/16 more, so that estimates that creep up a little (records per
    /// byte vary from file to file) do not each cost a rebuild.
    ///
    /// `items` is capped at what the memory limit holds of items of `item_bytes` each
    /// with their index entries: an index sized for more would take memory the items
    /// need, and a warm-up would evict (or, with `-M`, drop) items that fit.
    pub fn reserve_items(&mut self, items: usize, item_bytes: usize) {
        let items = items.min(self.items_fitting(item_bytes));
        if items <= self.index.room() {
            return;
        }
        let items = items + items / 16;
        let grow = Index::bytes_for(items).saturating_sub(self.index.bytes());
        if self.mem_used() + grow > self.mem_limit {
            return;
        }
        self.rebuild_index(items);
    }

    /// How many items of `item_bytes` each the memory limit holds, those in the store
    /// included, once the segments in use and an index for all of them (with
    /// [`Store::reserve_items`]'s 1/16 more) are paid for.
    fn items_fitting(&self, item_bytes: usize) -> usize {
        let free = self
            .mem_limit
            .saturating_sub(self.seg_count * self.seg_size);
        let entry = Index::bytes_for(1 << 20).div_ceil(1 << 20) * 17 / 16 + 1;
        (free + self.index.len() * item_bytes) / (item_bytes + entry)
    }

    /// Whether the segments' memory faulted from now on may come in huge pages (the
    /// default: fewer TLB misses for lookups) or only in 4 KiB pages, for a bulk load
    /// (warm-up) where faulting memory in dominates. On a virtual machine whose host takes
    /// back the guest's free memory in blocks of huge-page size (free page reporting), a
    /// fresh huge page is faulted in from the host while the kernel zeroes it, several
    /// times slower than 4 KiB pages, which the kernel takes first from smaller free
    /// fragments (most likely still backed). Items loaded meanwhile stay in 4 KiB pages
    /// until khugepaged merges them.
    pub fn huge_pages(&mut self, on: bool) {
        self.arena.huge_pages(on);
    }

    /// Rebuilds the index with room for `items`, and reports the memory it now takes.
    pub(super) fn rebuild_index(&mut self, items: usize) {
        let mut index = std::mem::replace(&mut self.index, Index::with_capacity(0));
        index.rebuild(
            items,
            |loc| self.prefetch_item(loc),
            |loc| self.hash(self.key_at(loc)),
        );
        self.index = index;
        self.counters.set(Stat::StoreMemory, self.mem_used() as u64);
        self.counters
            .set(Stat::HashBytes, self.index.bytes() as u64);
    }

    fn head(&mut self, q: Fifo) -> &mut Option<u32> {
        match q {
            Fifo::Small => &mut self.small_head,
            Fifo::Main => &mut self.main_head,
        }
    }

    /// Reserves `len` bytes at the head of queue `q`, evicting if it must.
    pub(super) fn alloc(&mut self, len: usize, q: Fifo) -> Option<Loc> {
        // Every eviction frees a segment or decrements the frequency of all it keeps, so
        // a few passes over the segments always make room.
        let mut budget = 4 * (self.seg_count + 2);
        loop {
            if let Some(id) = *self.head(q) {
                let seg_size = self.seg_size;
                let seg = self.seg_mut(id);
                if seg.used + len <= seg_size {
                    let off = seg.used as u32;
                    seg.used += len;
                    return Some(Loc { seg: id, off });
                }
                self.close_head(q);
            }
            // Below the limit, reuse mostly-dead segments before mapping fresh memory.
            if self.live_bytes * 2 < self.written_bytes() && self.compact_one() {
                continue;
            }
            if let Some(id) = self.new_segment(q) {
                *self.head(q) = Some(id);
                continue;
            }
            if !self.evict || budget == 0 || !self.evict_one() {
                return None;
            }
            self.wants_headroom = true;
            // memcached's direct_reclaims: a write that had to make room itself.
            self.counters.incr(Stat::DirectReclaims);
            budget -= 1;
        }
    }

    fn close_head(&mut self, q: Fifo) {
        if let Some(id) = self.head(q).take() {
            match q {
                Fifo::Small => self.small.push_back(id),
                Fifo::Main => self.main.push_back(id),
            }
        }
    }

    /// Maps a new segment if the budget allows.
    fn new_segment(&mut self, q: Fifo) -> Option<u32> {
        if self.mem_used() + self.seg_size > self.mem_limit {
            return None;
        }
        let id = self.free_ids.pop()?;
        self.epochs += 1;
        self.segs[id as usize] = Some(Seg {
            epoch: self.epochs,
            used: 0,
            live_items: 0,
            live_bytes: 0,
            queue: q,
        });
        self.seg_count += 1;
        self.counters.set(Stat::StoreMemory, self.mem_used() as u64);
        self.counters
            .set(Stat::HashBytes, self.index.bytes() as u64);
        Some(id)
    }

    /// Frees a segment whose items are gone. `release` gives its pages back to the kernel
    /// (the pager's frees, so memory of expired items returns); eviction and compaction
    /// free a segment only to reuse it at once, and keep its pages.
    pub(super) fn free_segment(&mut self, id: u32, release: bool) {
        debug_assert_eq!(self.seg(id).live_items, 0);
        if release {
            let at = id as usize * self.seg_size;
            self.arena.release(at..at + self.seg_size);
        }
        self.segs[id as usize] = None;
        self.free_ids.push(id);
        self.seg_count -= 1;
        self.counters.set(Stat::StoreMemory, self.mem_used() as u64);
        self.counters
            .set(Stat::HashBytes, self.index.bytes() as u64);
    }

    /// Walks segment `id` and compacts what stays to its front, fixing the index.
    /// Eviction (`evicting` names the queue it leaves) keeps only items read since they
    /// were last considered; compaction (`None`) keeps every live item. Expired and
    /// flushed items go either way. Returns the bytes kept; `self.moved` lists where.
    fn rewrite(&mut self, id: u32, evicting: Option<Fifo>) -> usize {
        // The latest time an operation brought: eviction runs inside one.
        let now = self.now;
        let used = self.seg(id).used;
        let mut off = 0;
        let mut write = 0;
        self.moved.clear();
        while off < used {
            let loc = Loc {
                seg: id,
                off: off as u32,
            };
            let hdr = segment::read_header(self.item(loc));
            let len = hdr.total_len();
            if hdr.info & DEAD == 0 {
                let expired = self.is_dead(&hdr, now).is_some();
                let keep = !expired && (evicting.is_none() || hdr.freq() > 0);
                let slot = self.slot_of(loc);
                if !keep {
                    if expired {
                        self.reclaim(slot, loc, &hdr);
                    } else {
                        self.unlink(slot, loc, &hdr);
                        self.counters.incr(Stat::Evictions);
                        let class = self.class_of(&hdr).1;
                        let c = &self.counters;
                        c.class_incr(class, ClassStat::Evicted);
                        // memcached's evicted_time: how long the latest evicted item had
                        // not been accessed.
                        let idle = if hdr.exp_in_atime {
                            0
                        } else {
                            (now & segment::ATIME_MASK).wrapping_sub(hdr.atime)
                                & segment::ATIME_MASK
                        };
                        c.class_set(class, ClassStat::EvictedTime, u64::from(idle));
                        self.watch_eviction(loc, &hdr, idle, now);
                        if hdr.exptime != 0 {
                            c.class_incr(class, ClassStat::EvictedNonzero);
                        }
                        if hdr.info & FETCHED == 0 {
                            self.counters.incr(Stat::EvictedUnfetched);
                            self.counters.class_incr(class, ClassStat::EvictedUnfetched);
                        }
                    }
                } else {
                    // Promotion from small resets the frequency; survival in main costs one.
                    let f = match evicting {
                        Some(Fifo::Small) => 0,
                        Some(Fifo::Main) => hdr.freq() - 1,
                        None => hdr.freq(),
                    };
                    let bytes = self.seg_bytes_mut(id);
                    bytes[off] = (bytes[off] & !FREQ_MASK) | f;
                    if write != off {
                        bytes.copy_within(off..off + len, write);
                    }
                    let new = Loc {
                        seg: id,
                        off: write as u32,
                    };
                    self.index.relocate(slot, new);
                    self.moved.push(new);
                    write += len;
                }
            }
            off += len;
        }
        self.epochs += 1;
        let epoch = self.epochs;
        let seg = self.seg_mut(id);
        seg.used = write;
        seg.epoch = epoch;
        write
    }

    /// Bytes written into segments, live or dead.
    fn written_bytes(&self) -> usize {
        self.segs.iter().flatten().map(|s| s.used).sum()
    }

    /// Compacts the oldest mostly-dead closed segment in place and makes it its queue's
    /// head, so overwrites reuse memory instead of mapping fresh (zeroed) pages while the
    /// store is below its limit. False if no segment is worth it.
    fn compact_one(&mut self) -> bool {
        let pick = |store: &Store, q: &VecDeque<u32>| {
            q.iter().take(16).position(|&id| {
                let s = store.seg(id);
                s.live_bytes * 2 < s.used && !store.pinned(id)
            })
        };
        let (queue, pos) = if let Some(p) = pick(self, &self.small) {
            (Fifo::Small, p)
        } else if let Some(p) = pick(self, &self.main) {
            (Fifo::Main, p)
        } else {
            return false;
        };
        let id = match queue {
            Fifo::Small => self.small.remove(pos),
            Fifo::Main => self.main.remove(pos),
        }
        .expect("picked");
        self.counters.incr(Stat::SegmentsCompacted);
        if self.rewrite(id, None) == 0 {
            self.free_segment(id, false);
        } else {
            self.close_head(queue);
            *self.head(queue) = Some(id);
        }
        true
    }

    /// Evicts one segment (S3-FIFO); false if there is none to evict.
    pub(super) fn evict_one(&mut self) -> bool {
        let Some(id) = self.pick_victim() else {
            return false;
        };
        self.counters.incr(Stat::SegmentsEvicted);
        let from = self.seg(id).queue;
        let kept = self.rewrite(id, Some(from));
        if kept == 0 {
            self.free_segment(id, false);
            return true;
        }
        // Survivors: into the main head if they fit, else this segment becomes the head.
        let fits = self
            .main_head
            .map(|h| self.seg(h).used + kept <= self.seg_size)
            .unwrap_or(false);
        if fits {
            let head = self.main_head.expect("checked");
            let at = self.seg(head).used;
            let seg_size = self.seg_size;
            let (lo, hi) = (id.min(head) as usize, id.max(head) as usize);
            let (a, b) = self.arena.bytes_mut().split_at_mut(hi * seg_size);
            let (low, high) = (&mut a[lo * seg_size..][..seg_size], &mut b[..seg_size]);
            let (src_bytes, dst_bytes) = if id < head { (low, high) } else { (high, low) };
            dst_bytes[at..at + kept].copy_from_slice(&src_bytes[..kept]);
            let (src, dst) = self.two_segs(id, head);
            let live = src.live_items;
            let live_bytes = src.live_bytes;
            dst.used += kept;
            dst.live_items += live;
            dst.live_bytes += live_bytes;
            src.live_items = 0;
            src.live_bytes = 0;
            for i in 0..self.moved.len() {
                let old = self.moved[i];
                let new = Loc {
                    seg: head,
                    off: (at + old.off as usize) as u32,
                };
                let slot = self.slot_of(old);
                self.index.relocate(slot, new);
            }
            self.free_segment(id, false);
        } else {
            self.close_head(Fifo::Main);
            let seg = self.seg_mut(id);
            seg.queue = Fifo::Main;
            self.main_head = Some(id);
        }
        true
    }

    /// Takes S3-FIFO's next victim out of its queue: the oldest small segment while the
    /// small queue holds its share, else the oldest main one, else a head. A pinned segment
    /// is passed over and keeps its place.
    fn pick_victim(&mut self) -> Option<u32> {
        let small_target = (self.seg_count / 10).max(1);
        let small_first =
            (self.small.len() >= small_target || self.main.is_empty()) && !self.small.is_empty();
        let order = if small_first {
            [Fifo::Small, Fifo::Main]
        } else {
            [Fifo::Main, Fifo::Small]
        };
        for q in order {
            let list = match q {
                Fifo::Small => &self.small,
                Fifo::Main => &self.main,
            };
            if let Some(pos) = list.iter().position(|&id| !self.pinned(id)) {
                return match q {
                    Fifo::Small => self.small.remove(pos),
                    Fifo::Main => self.main.remove(pos),
                };
            }
        }
        for q in [Fifo::Small, Fifo::Main] {
            if let Some(id) = *self.head(q) {
                if !self.pinned(id) {
                    return self.head(q).take();
                }
            }
        }
        None
    }

    /// Two distinct segments, mutably.
    fn two_segs(&mut self, a: u32, b: u32) -> (&mut Seg, &mut Seg) {
        assert_ne!(a, b);
        let (a, b) = (a as usize, b as usize);
        if a < b {
            let (lo, hi) = self.segs.split_at_mut(b);
            (lo[a].as_mut().unwrap(), hi[0].as_mut().unwrap())
        } else {
            let (lo, hi) = self.segs.split_at_mut(a);
            (hi[0].as_mut().unwrap(), lo[b].as_mut().unwrap())
        }
    }

    /// The index slot of the item at `loc` (which must be indexed).
    pub(super) fn slot_of(&self, loc: Loc) -> usize {
        let h = self.hash(self.key_at(loc));
        self.index
            .find(h, |l| l == loc)
            .expect("a live item is indexed")
            .0
    }
}
