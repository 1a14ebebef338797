//! The store's invariant checker, for tests and fuzzing only: built with `cfg(test)` or the
//! `invariants` feature (which the integration tests and the fuzz targets turn on), never
//! into the server.

use super::index::Loc;
use super::segment::{self, DEAD};
use super::Store;
use crate::stats::{ClassStat, Stat, CLASS_SLOTS};

impl Store {
    /// Checks every invariant the accounting relies on (tests and fuzzing).
    pub fn check_invariants(&self) {
        let mut live_items = 0;
        let mut live_bytes = 0;
        let mut per_class = [(0u64, 0u64); CLASS_SLOTS];
        for (id, seg) in self.segs.iter().enumerate() {
            let Some(seg) = seg else { continue };
            let (mut off, mut items, mut bytes) = (0, 0, 0);
            while off < seg.used {
                let hdr = segment::read_header(&self.seg_bytes(id as u32)[off..]);
                if hdr.info & DEAD == 0 {
                    let loc = Loc {
                        seg: id as u32,
                        off: off as u32,
                    };
                    // Indexed, once: what its key finds is this item.
                    let key = self.key_at(loc);
                    let found = self.find_key(self.hash(key), key);
                    assert_eq!(
                        found.map(|(_, l)| l),
                        Some(loc),
                        "segment {id} item at {off}"
                    );
                    items += 1;
                    bytes += hdr.total_len();
                    let (size, class) = self.class_of(&hdr);
                    per_class[class as usize].0 += 1;
                    per_class[class as usize].1 += size as u64;
                }
                off += hdr.total_len();
            }
            assert_eq!(off, seg.used, "segment {id} walks to its end");
            assert_eq!(
                (items, bytes),
                (seg.live_items, seg.live_bytes),
                "segment {id}"
            );
            live_items += items;
            live_bytes += bytes;
        }
        assert_eq!(live_items, self.index.len());
        assert_eq!(live_bytes, self.live_bytes);
        assert_eq!(self.counters.get(Stat::CurrItems) as usize, live_items);
        assert_eq!(self.counters.get(Stat::Bytes) as usize, live_bytes);
        // Each slab class counts exactly the live items memcached would hold in it.
        for (class, &want) in per_class.iter().enumerate() {
            let c = &self.counters;
            let got = (
                c.class_get(class as u8, ClassStat::Number),
                c.class_get(class as u8, ClassStat::MemRequested),
            );
            assert_eq!(got, want, "slab class {class}");
        }
        assert!(self.mem_used() <= self.mem_limit, "over budget");
    }
}
