//! The connection's side of `slabs …` and `lru …`: memcached's replies, its tunings kept
//! for `stats settings` ([`crate::admin::Tunings`]).

use super::stats_groups::class_pages;
use super::Conn;
use crate::protocol::admin::Tune;
use crate::shard::Shard;

/// memcached's `SLAB_GLOBAL_PAGE_POOL`: class 0, the pages no class holds.
const PAGE_POOL: i32 = 0;

impl Conn {
    pub(super) fn tune(&mut self, shard: &Shard, t: Tune, noreply: bool) {
        let admin = &shard.admin;
        let reply = match t {
            Tune::SlabsReassign { src, dst } => reassign(shard, src, dst),
            Tune::SlabsAutomove(level) => {
                admin.tune(|t| t.slab_automove = level);
                "OK"
            }
            Tune::SlabsAutomoveRatio(r) => {
                admin.tune(|t| t.slab_automove_ratio = r.0);
                "OK"
            }
            Tune::LruTune {
                hot_pct,
                warm_pct,
                hot_factor,
                warm_factor,
            } => {
                admin.tune(|t| {
                    t.hot_lru_pct = hot_pct;
                    t.warm_lru_pct = warm_pct;
                    t.hot_max_factor = hot_factor.0;
                    t.warm_max_factor = warm_factor.0;
                });
                "OK"
            }
            Tune::LruSegmented(on) => {
                admin.tune(|t| t.lru_segmented = on);
                "OK"
            }
            Tune::LruTempTtl(ttl) => {
                admin.tune(|t| {
                    t.temp_lru = ttl >= 0;
                    if ttl >= 0 {
                        t.temporary_ttl = ttl;
                    }
                });
                "OK"
            }
        };
        self.line(noreply, reply);
    }
}

/// `slabs reassign`, checked in memcached's order against the pages `stats slabs` shows.
/// A move that memcached would make is answered `OK` and moves nothing: corecached's
/// memory is not split by class, every size already takes it from the same segments.
fn reassign(shard: &Shard, src: i32, dst: i32) -> &'static str {
    if src == dst {
        return "SAME src and dst class are identical";
    }
    let largest = shard.settings.slab_classes.len() as i32;
    let pages = |c: i32| {
        if c > PAGE_POOL {
            class_pages(shard, c as u8)
        } else {
            0
        }
    };
    // -1: the first class other than the destination with a page to spare.
    let src = if src == -1 {
        (1..=largest)
            .find(|&c| c != dst && pages(c) > 1)
            .unwrap_or(-1)
    } else {
        src
    };
    if !(PAGE_POOL..=largest).contains(&src) || !(PAGE_POOL..=largest).contains(&dst) {
        return "BADCLASS invalid src or dst class id";
    }
    if pages(src) < 2 {
        return "NOSPARE source class has no spare pages";
    }
    "OK"
}
