//! The memory limit changed while running (memcached's `cache_memlimit`): growing takes
//! effect at once; shrinking evicts down to the new bound one segment per step, from the
//! eviction task, so no request waits behind a mass eviction.
//!
//! While a shrink is under way the limit allocation obeys follows what is in use down to
//! the target: a write that needs a segment meanwhile evicts one, as in a full store, and
//! never more.

use super::Store;

impl Store {
    /// The limit asked for (what `limit_maxbytes` reports), which a shrink evicts down to.
    pub fn mem_target(&self) -> usize {
        self.mem_target
    }

    /// Bytes the limit may grow to: the address space the store reserved at start.
    pub fn mem_reserve(&self) -> usize {
        self.reserve_segs * self.seg_size
    }

    /// Sets the memory limit to `bytes`. Growing applies at once; shrinking stops the
    /// store from growing and leaves the eviction to [`Store::shrink_step`]. False (and no
    /// change) when `bytes` is beyond [`Store::mem_reserve`] or below one segment and the
    /// index.
    pub fn set_mem_limit(&mut self, bytes: usize) -> bool {
        if bytes > self.mem_reserve() || bytes < self.seg_size + self.base_index_bytes {
            return false;
        }
        let slots = (bytes / self.seg_size).clamp(1, self.reserve_segs);
        if slots > self.segs.len() {
            // New slots go under the free list's top: low ids are used first.
            let old = self.segs.len();
            self.segs.resize_with(slots, || None);
            self.free_ids.splice(0..0, (old as u32..slots as u32).rev());
        }
        self.pins.set_limit(slots / 4);
        self.mem_target = bytes;
        self.mem_limit = bytes.max(self.mem_used().min(self.mem_limit));
        true
    }

    /// One step of a shrink: evicts one segment while more is in use than the target.
    /// True if another step may be needed. With eviction off (`-M`) nothing is evicted: the
    /// limit follows deletes and expiry down.
    pub fn shrink_step(&mut self) -> bool {
        if self.mem_limit <= self.mem_target {
            return false;
        }
        self.shrink_index();
        let used = self.mem_used();
        if used <= self.mem_target {
            self.mem_limit = self.mem_target;
            return false;
        }
        if !self.evict || !self.evict_one() {
            self.mem_limit = used.max(self.mem_target);
            return false;
        }
        self.mem_limit = self.mem_used().max(self.mem_target);
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Mode, Store, StoreResult};

    fn fill(s: &mut Store, n: usize, now: u32) -> usize {
        let mut stored = 0;
        for i in 0..n {
            let k = format!("key:{i}");
            if s.store(Mode::Set, k.as_bytes(), 0, 0, 0, &[b'v'; 200], now) == StoreResult::Stored {
                stored += 1;
            }
        }
        stored
    }

    #[test]
    fn shrink_evicts_in_steps_down_to_the_target_and_grow_applies_at_once() {
        let seg = 64 << 10;
        let mut s = Store::builder()
            .mem_limit(8 << 20)
            .mem_reserve(32 << 20)
            .segment_size(seg)
            .build();
        assert_eq!(s.mem_reserve(), 32 << 20);
        let now = 1000;
        fill(&mut s, 60_000, now);
        let full = s.mem_used();
        assert!(full > 7 << 20, "{full}");
        // Shrink: nothing is evicted by the call itself.
        assert!(s.set_mem_limit(2 << 20));
        assert_eq!(s.mem_used(), full);
        assert_eq!(s.mem_target(), 2 << 20);
        let mut steps = 0;
        while s.shrink_step() {
            steps += 1;
            assert!(steps < 10_000);
        }
        assert!(steps > 10, "one segment a step: {steps}");
        assert!(s.mem_used() <= 2 << 20, "{}", s.mem_used());
        // Writes meanwhile stay within the new bound.
        fill(&mut s, 5_000, now);
        assert!(s.mem_used() <= 2 << 20);
        // Grow past the start's limit: the next writes use it at once.
        assert!(s.set_mem_limit(24 << 20));
        assert!(!s.shrink_step());
        fill(&mut s, 100_000, now);
        assert!(s.mem_used() > 16 << 20, "{}", s.mem_used());
        assert!(s.mem_used() <= 24 << 20);
        // Beyond the reserve, or below a segment: refused.
        assert!(!s.set_mem_limit(33 << 20));
        assert!(!s.set_mem_limit(seg / 2));
        assert_eq!(s.mem_target(), 24 << 20);
    }

    #[test]
    fn writes_during_a_shrink_never_map_more() {
        let mut s = Store::builder()
            .mem_limit(8 << 20)
            .segment_size(64 << 10)
            .build();
        fill(&mut s, 60_000, 1000);
        let before = s.mem_used();
        assert!(s.set_mem_limit(4 << 20));
        for round in 0..200 {
            fill(&mut s, 50, 1000 + round);
            assert!(s.mem_used() <= before);
            s.shrink_step();
        }
        while s.shrink_step() {}
        assert!(s.mem_used() <= 4 << 20);
        let k = b"key:after";
        assert_eq!(
            s.store(Mode::Set, k, 3, 0, 0, b"abc", 1000),
            StoreResult::Stored
        );
        assert_eq!(
            s.get(k, 1000).map(|v| (v.flags, v.value.to_vec())),
            Some((3, b"abc".to_vec()))
        );
    }
}
