//! The store's invariant checker, for tests and fuzzing only: built with `cfg(test)` or the
//! `invariants` feature (which the integration tests and the fuzz targets turn on), never
//! into the server.

use super::index::Loc;
use super::segment::{self, DEAD};
use super::Store;
use crate::stats::Stat;

impl Store {
    /// Checks every invariant the accounting relies on (tests and fuzzing).
    pub fn check_invariants(&self) {
        let mut live_items = 0;
        let mut live_bytes = 0;
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
        assert!(self.mem_used() <= self.mem_limit, "over budget");
    }
}
