//! The per-class `stats` groups (`items`, `slabs`, `sizes`) and `stats detail`.
//!
//! corecached has no slabs: items are packed in segments. Each item is counted in the
//! class memcached would have stored it in ([`crate::store::classes`], for the same `-f` and
//! `-n`), so these groups say what memcached's would for the same items. What a class
//! counts comes from the stores' per-class counters ([`crate::stats::ClassStat`]), per shard
//! and summed here. The page and chunk keys describe the chunks memcached would use for
//! those items (README, "Moving from memcached", gives each mapping).

use std::collections::HashMap;

use super::stats_cmd::Stats;
use crate::shard::Shard;
use crate::stats::{class_sum, ClassStat};

/// Classes that hold items or counted a request, with their counters summed over shards.
fn used_classes(shard: &Shard) -> impl Iterator<Item = (u8, impl Fn(ClassStat) -> u64 + '_)> {
    let all = &shard.all_counters;
    (1..=shard.settings.slab_classes.len() as u8)
        .filter(move |&c| {
            ClassStat::ALL
                .iter()
                .any(|&s| s != ClassStat::EvictedTime && class_sum(all, c, s) != 0)
        })
        .map(move |c| (c, move |s| class_sum(all, c, s)))
}

/// `stats items`: memcached's keys per class that holds items. corecached has one S3-FIFO,
/// not memcached's hot, warm and cold LRUs: every item counts as cold (the queue
/// eviction takes from) and every hit as a hit to cold; the ages of the oldest items are
/// not tracked (0).
pub(super) fn items(p: &mut Stats, shard: &Shard) {
    for (c, get) in used_classes(shard) {
        let number = get(ClassStat::Number);
        if number == 0 {
            continue;
        }
        // memcached's evicted_time is the latest eviction's; each shard keeps its own.
        let evicted_time = shard
            .all_counters
            .iter()
            .map(|s| s.class_get(c, ClassStat::EvictedTime))
            .max()
            .unwrap_or(0);
        let values: [(&str, u64); 28] = [
            ("number", number),
            ("number_hot", 0),
            ("number_warm", 0),
            ("number_cold", number),
            ("age_hot", 0),
            ("age_warm", 0),
            ("age", 0),
            ("mem_requested", get(ClassStat::MemRequested)),
            ("evicted", get(ClassStat::Evicted)),
            ("evicted_nonzero", get(ClassStat::EvictedNonzero)),
            ("evicted_time", evicted_time),
            ("outofmemory", get(ClassStat::OutOfMemory)),
            ("tailrepairs", 0),
            ("reclaimed", get(ClassStat::Reclaimed)),
            ("expired_unfetched", get(ClassStat::ExpiredUnfetched)),
            ("evicted_unfetched", get(ClassStat::EvictedUnfetched)),
            ("evicted_active", 0),
            ("crawler_reclaimed", 0),
            ("crawler_items_checked", 0),
            ("lrutail_reflocked", 0),
            ("moves_to_cold", 0),
            ("moves_to_warm", 0),
            ("moves_within_lru", 0),
            ("direct_reclaims", 0),
            ("hits_to_hot", 0),
            ("hits_to_warm", 0),
            ("hits_to_cold", get(ClassStat::GetHits)),
            ("hits_to_temp", 0),
        ];
        for (name, v) in values {
            p.stat(&format!("items:{c}:{name}"), v);
        }
    }
}

/// `stats slabs`: per class, the chunks memcached would use for the items it holds
/// (`used_chunks`, one per item) in as many 1 MiB pages as they need (`total_pages`, at
/// least one once the class was used), and
/// the class's request counters; `total_malloced` is the memory the stores really hold
/// (segments and index).
pub(super) fn slabs(p: &mut Stats, shard: &Shard) {
    let classes = &shard.settings.slab_classes;
    let mut active = 0;
    for (c, get) in used_classes(shard) {
        active += 1;
        let per_page = u64::from(classes.per_page(c));
        let used = get(ClassStat::Number);
        let pages = pages_for(used, per_page);
        let total = pages * per_page;
        let values: [(&str, u64); 15] = [
            ("chunk_size", u64::from(classes.chunk_size(c))),
            ("chunks_per_page", per_page),
            ("total_pages", pages),
            ("total_chunks", total),
            ("used_chunks", used),
            ("free_chunks", total - used),
            ("free_chunks_end", 0),
            ("get_hits", get(ClassStat::GetHits)),
            ("cmd_set", get(ClassStat::CmdSet)),
            ("delete_hits", get(ClassStat::DeleteHits)),
            ("incr_hits", get(ClassStat::IncrHits)),
            ("decr_hits", get(ClassStat::DecrHits)),
            ("cas_hits", get(ClassStat::CasHits)),
            ("cas_badval", get(ClassStat::CasBadval)),
            ("touch_hits", get(ClassStat::TouchHits)),
        ];
        for (name, v) in values {
            p.stat(&format!("{c}:{name}"), v);
        }
    }
    p.stat("active_slabs", active);
    let malloced = crate::stats::sum(&shard.all_counters, crate::stats::Stat::StoreMemory);
    p.stat("total_malloced", malloced);
}

/// The pages memcached would hold for `used` chunks: as many as they fill, and one in
/// every class it has used.
fn pages_for(used: u64, per_page: u64) -> u64 {
    used.div_ceil(per_page).max(1)
}

/// The pages `stats slabs` shows for class `c` (0 for a class never used).
pub(super) fn class_pages(shard: &Shard, c: u8) -> u64 {
    match used_classes(shard).find(|(class, _)| *class == c) {
        Some((_, get)) => pages_for(
            get(ClassStat::Number),
            u64::from(shard.settings.slab_classes.per_page(c)),
        ),
        None => 0,
    }
}

/// `stats sizes`: live items by memcached's size, rounded up to 32 bytes, summed over the
/// shards, while `stats sizes_enable` has counting on; else its status, as memcached.
pub(super) fn sizes(p: &mut Stats, shard: &Shard) {
    let all = &shard.all_counters;
    if !all.iter().any(|c| c.sizes.is_on()) {
        p.stat("sizes_status", "disabled");
        return;
    }
    let mut total: Vec<u64> = Vec::new();
    for c in all.iter() {
        for (i, n) in c.sizes.buckets().enumerate() {
            if total.len() <= i {
                total.resize(i + 1, 0);
            }
            total[i] += n;
        }
    }
    for (i, n) in total.into_iter().enumerate() {
        if n > 0 {
            p.stat(&(i * crate::stats::Sizes::STEP).to_string(), n);
        }
    }
}

/// `stats detail on|off`, on every shard.
pub(super) fn detail_on(shard: &Shard, on: bool) {
    for c in shard.all_counters.iter() {
        c.detail.set_on(on);
    }
}

/// `stats detail dump`: memcached's `PREFIX <p> get N hit N set N del N` lines, every
/// shard's counts merged, by prefix.
pub(super) fn detail_dump(shard: &Shard, out: &mut Vec<u8>) {
    use std::io::Write;
    let mut all = HashMap::new();
    for c in shard.all_counters.iter() {
        c.detail.merge_into(&mut all);
    }
    let mut all: Vec<_> = all.into_iter().collect();
    all.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (prefix, c) in all {
        out.extend_from_slice(b"PREFIX ");
        out.extend_from_slice(&prefix);
        let _ = write!(
            out,
            " get {} hit {} set {} del {}\r\n",
            c.get, c.hit, c.set, c.del
        );
    }
    out.extend_from_slice(b"END\r\n");
}
