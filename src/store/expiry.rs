//! Expiry: `flush_all`, the delayed flush, and the pager that reclaims expired and flushed
//! items in bounded steps and gives emptied segments back.

use super::index::Loc;
use super::segment::{self, DEAD};
use super::Store;
use crate::stats::Stat;

/// What one step of the expiry pager did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PagerStep {
    /// Items reclaimed in this step.
    pub reclaimed: usize,
    /// The pass over all segments is complete.
    pub pass_done: bool,
    /// Earliest exptime among the live items seen in the pass so far (0: none).
    pub next_expiry: u32,
}

impl Store {
    pub(super) fn hint_expiry(&mut self, at: u32) {
        if at != 0 && (self.expiry_hint == 0 || at < self.expiry_hint) {
            self.expiry_hint = at;
        }
    }

    /// Earliest exptime written since the pager's last full pass (0: none). The shard
    /// wakes the pager when this is earlier than its next planned run.
    pub fn expiry_hint(&self) -> u32 {
        self.expiry_hint
    }

    /// Applies a delayed flush whose time has come.
    pub(super) fn tick(&mut self, now: u32) {
        self.now = self.now.max(now);
        if let Some(at) = self.flush_at {
            if now >= at {
                self.flush_at = None;
                self.flush_cas = self.next_cas;
            }
        }
    }

    /// `flush_all [delay]`: `at` 0 invalidates everything now, otherwise at unix time `at`.
    /// O(1): items older than the flush are invisible at once and reclaimed by the pager.
    pub fn flush_all(&mut self, at: u32, now: u32) {
        if at == 0 || at <= now {
            self.flush_at = None;
            self.flush_cas = self.next_cas;
            self.hint_expiry(now.max(1));
            self.journal_flush(0, now);
        } else {
            self.flush_at = Some(at);
            self.hint_expiry(at);
            self.journal_flush(at, now);
        }
    }

    /// When a delayed flush is due (for the pager's schedule).
    pub fn flush_due(&self) -> Option<u32> {
        self.flush_at
    }

    /// One bounded step of the expiry pager: examines up to `budget` items, reclaims the
    /// expired and flushed ones, and frees segments left empty.
    pub fn pager_step(&mut self, now: u32, budget: usize) -> PagerStep {
        self.tick(now);
        let mut seen = 0;
        let mut reclaimed = 0;
        while seen < budget {
            if self.pager_seg >= self.segs.len() {
                let next = match (self.pager_next, std::mem::take(&mut self.expiry_hint)) {
                    (0, h) | (h, 0) => h,
                    (a, b) => a.min(b),
                };
                self.pager_seg = 0;
                self.pager_off = 0;
                self.pager_next = 0;
                self.shrink_index();
                self.count_pager(seen, reclaimed);
                return PagerStep {
                    reclaimed,
                    pass_done: true,
                    next_expiry: next,
                };
            }
            let id = self.pager_seg as u32;
            let (used, epoch) = match &self.segs[id as usize] {
                Some(s) => (s.used, s.epoch),
                None => (0, 0),
            };
            if epoch != self.pager_epoch {
                // The segment was compacted or replaced since the cursor entered it.
                self.pager_epoch = epoch;
                self.pager_off = 0;
            }
            if self.pager_off >= used {
                if used > 0 && self.seg(id).live_items == 0 {
                    self.release_empty(id);
                }
                self.pager_seg += 1;
                self.pager_off = 0;
                continue;
            }
            let loc = Loc {
                seg: id,
                off: self.pager_off as u32,
            };
            let hdr = segment::read_header(self.item(loc));
            self.pager_off += hdr.total_len();
            seen += 1;
            if hdr.info & DEAD != 0 {
                continue;
            }
            if self.is_dead(&hdr, now).is_some() {
                let slot = self.slot_of(loc);
                self.reclaim(slot, loc, &hdr);
                reclaimed += 1;
            } else if hdr.exptime != 0 && (self.pager_next == 0 || hdr.exptime < self.pager_next) {
                self.pager_next = hdr.exptime;
            }
        }
        self.count_pager(seen, reclaimed);
        PagerStep {
            reclaimed,
            pass_done: false,
            next_expiry: self.pager_next,
        }
    }

    /// Rebuilds a mostly empty index smaller, so memory freed by expiry comes back.
    /// The pager is memcached's LRU crawler here: its counts are the crawler's.
    fn count_pager(&self, seen: usize, reclaimed: usize) {
        self.counters.add(Stat::CrawlerItemsChecked, seen as u64);
        self.counters.add(Stat::CrawlerReclaimed, reclaimed as u64);
    }

    pub(super) fn shrink_index(&mut self) {
        let target = self.index.rebuild_bytes().max(self.base_index_bytes);
        if self.index.bytes() > 4 * target {
            self.rebuild_index(self.index.rebuild_size().max(8));
        }
    }

    /// Gives back a segment whose items are all gone: closed segments are freed; a head is
    /// emptied in place.
    fn release_empty(&mut self, id: u32) {
        if self.pinned(id) {
            // A reply still sends a (dead) value from it: a later pass frees it.
            return;
        }
        if self.small_head == Some(id) || self.main_head == Some(id) {
            self.epochs += 1;
            let epoch = self.epochs;
            let seg = self.seg_mut(id);
            let used = seg.used;
            seg.used = 0;
            seg.epoch = epoch;
            // Give the emptied head's pages back; they read as zeroes when reused.
            let at = id as usize * self.seg_size;
            self.arena
                .release(at..at + used.next_multiple_of(4096).min(self.seg_size));
            return;
        }
        self.small.retain(|&s| s != id);
        self.main.retain(|&s| s != id);
        self.free_segment(id, true);
    }
}
