//! Counters, memcached's names, one set per shard.
//!
//! Each shard owns one [`Counters`] and is its only writer, so an increment is a relaxed load
//! and store, not a locked read-modify-write; `stats` on any shard reads every shard's set and
//! sums them. No lock is ever taken.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Mutex;

macro_rules! stats {
    ($($variant:ident => $name:literal,)*) => {
        /// One counter; its memcached name is [`Stat::name`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(usize)]
        pub enum Stat { $($variant,)* }

        impl Stat {
            /// Every counter, in `stats` output order.
            pub const ALL: &'static [Stat] = &[$(Stat::$variant,)*];
            /// memcached's name for the counter.
            pub fn name(self) -> &'static str {
                match self { $(Stat::$variant => $name,)* }
            }
        }
    };
}

stats! {
    CurrConnections => "curr_connections",
    ParkedConnections => "parked_connections",
    TotalConnections => "total_connections",
    RejectedConnections => "rejected_connections",
    IdleKicks => "idle_kicks",
    CmdGet => "cmd_get",
    CmdSet => "cmd_set",
    CmdFlush => "cmd_flush",
    CmdTouch => "cmd_touch",
    CmdMeta => "cmd_meta",
    GetHits => "get_hits",
    GetMisses => "get_misses",
    GetExpired => "get_expired",
    GetFlushed => "get_flushed",
    DeleteMisses => "delete_misses",
    DeleteHits => "delete_hits",
    IncrMisses => "incr_misses",
    IncrHits => "incr_hits",
    DecrMisses => "decr_misses",
    DecrHits => "decr_hits",
    CasMisses => "cas_misses",
    CasHits => "cas_hits",
    CasBadval => "cas_badval",
    TouchHits => "touch_hits",
    TouchMisses => "touch_misses",
    StoreTooLarge => "store_too_large",
    StoreNoMemory => "store_no_memory",
    AuthCmds => "auth_cmds",
    AuthErrors => "auth_errors",
    BytesRead => "bytes_read",
    BytesWritten => "bytes_written",
    CurrItems => "curr_items",
    TotalItems => "total_items",
    Bytes => "bytes",
    Evictions => "evictions",
    EvictedUnfetched => "evicted_unfetched",
    EvictedActive => "evicted_active",
    Reclaimed => "reclaimed",
    ExpiredUnfetched => "expired_unfetched",
    SegmentsEvicted => "segments_evicted",
    SegmentsCompacted => "segments_compacted",
    StoreMemory => "store_memory",
    ShardCpuUserUs => "shard_cpu_user_us",
    ShardCpuSystemUs => "shard_cpu_system_us",
    ShardSchedulerRuns => "shard_scheduler_runs",
    ShardTasksRun => "shard_tasks_run",
    PeerBatches => "peer_batches",
    PeerBatchesBetweenTurns => "peer_batches_between_turns",
    ConnYields => "conn_yields",
    HashBytes => "hash_bytes",
    CrawlerReclaimed => "crawler_reclaimed",
    CrawlerItemsChecked => "crawler_items_checked",
    DirectReclaims => "direct_reclaims",
    SslHandshakeErrors => "ssl_handshake_errors",
}

macro_rules! class_stats {
    ($($variant:ident => $name:literal,)*) => {
        /// One per-class counter (memcached's `stats items` and `stats slabs` keys).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(usize)]
        pub enum ClassStat { $($variant,)* }

        impl ClassStat {
            pub const ALL: &'static [ClassStat] = &[$(ClassStat::$variant,)*];
            /// memcached's name for the counter.
            pub fn name(self) -> &'static str {
                match self { $(ClassStat::$variant => $name,)* }
            }
        }
    };
}

class_stats! {
    Number => "number",
    MemRequested => "mem_requested",
    Evicted => "evicted",
    EvictedNonzero => "evicted_nonzero",
    EvictedTime => "evicted_time",
    OutOfMemory => "outofmemory",
    Reclaimed => "reclaimed",
    ExpiredUnfetched => "expired_unfetched",
    EvictedUnfetched => "evicted_unfetched",
    GetHits => "get_hits",
    CmdSet => "cmd_set",
    DeleteHits => "delete_hits",
    IncrHits => "incr_hits",
    DecrHits => "decr_hits",
    CasHits => "cas_hits",
    CasBadval => "cas_badval",
    TouchHits => "touch_hits",
}

/// Slots for memcached's slab classes, indexed by class number (0 unused): its
/// `MAX_NUMBER_OF_SLAB_CLASSES`, so every `-f`/`-n` table fits.
pub const CLASS_SLOTS: usize = 64;

/// One shard's counters. Written only by the owning shard.
#[derive(Debug)]
pub struct Counters {
    // Arrays of their exact length, not slices: a counter's index is checked at compile
    // time, not on every update.
    values: Box<[AtomicU64; Stat::ALL.len()]>,
    /// Per slab class: `CLASS_SLOTS` rows of `ClassStat::ALL.len()` counters.
    classes: Box<[[AtomicU64; ClassStat::ALL.len()]; CLASS_SLOTS]>,
    /// `stats detail`: per-prefix counts of the requests this shard ran.
    pub detail: Detail,
    /// `stats sizes`: items by size, while `stats sizes_enable` has it on.
    pub sizes: Sizes,
    /// `watch`: whether anyone watches, and this shard's lines ([`crate::watch`]).
    pub watch: crate::watch::Tap,
}

/// memcached's `stats sizes` histogram: live items by memcached's item size rounded up to
/// 32 bytes, counted from `stats sizes_enable` on (items stored before are not in it, as in
/// memcached). Off, it costs a write one relaxed load. The enabling connection's shard
/// resets it while the owner may be counting, so counts are atomic adds and a bucket that
/// an item stored before a reset leaves below zero reads as 0.
#[derive(Debug, Default)]
pub struct Sizes {
    on: AtomicBool,
    buckets: std::sync::OnceLock<Box<[AtomicI64]>>,
}

impl Sizes {
    /// Bucket width, memcached's.
    pub const STEP: usize = 32;

    /// Counts `n` items of memcached's size `size` (negative: removed), when on.
    #[inline]
    pub fn add(&self, size: usize, n: i64) {
        if !self.on.load(Relaxed) {
            return;
        }
        if let Some(b) = self.buckets.get() {
            let i = size.div_ceil(Self::STEP).min(b.len() - 1);
            b[i].fetch_add(n, Relaxed);
        }
    }

    /// Turns counting on from zero (`item_size_max` bounds the sizes), or off.
    pub fn set_on(&self, on: bool, item_size_max: usize) {
        if on {
            let b = self.buckets.get_or_init(|| {
                (0..item_size_max / Self::STEP + 2)
                    .map(|_| AtomicI64::new(0))
                    .collect()
            });
            for c in b.iter() {
                c.store(0, Relaxed);
            }
        }
        self.on.store(on, Relaxed);
    }

    pub fn is_on(&self) -> bool {
        self.on.load(Relaxed)
    }

    /// The count in each bucket, zeros included: bucket `i` holds sizes up to `i * STEP`.
    pub fn buckets(&self) -> impl Iterator<Item = u64> + '_ {
        self.buckets
            .get()
            .into_iter()
            .flat_map(|b| b.iter())
            .map(|c| c.load(Relaxed).max(0) as u64)
    }
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            values: Box::new(std::array::from_fn(|_| AtomicU64::new(0))),
            classes: Box::new(std::array::from_fn(|_| {
                std::array::from_fn(|_| AtomicU64::new(0))
            })),
            detail: Detail::default(),
            sizes: Sizes::default(),
            watch: Default::default(),
        }
    }
}

impl Counters {
    /// Adds `n`. Only the owning shard calls this, so load-then-store loses nothing.
    #[inline]
    pub fn add(&self, s: Stat, n: u64) {
        let c = &self.values[s as usize];
        c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
    }

    #[inline]
    pub fn incr(&self, s: Stat) {
        self.add(s, 1);
    }

    #[inline]
    pub fn sub(&self, s: Stat, n: u64) {
        let c = &self.values[s as usize];
        c.store(c.load(Relaxed).wrapping_sub(n), Relaxed);
    }

    #[inline]
    pub fn set(&self, s: Stat, v: u64) {
        self.values[s as usize].store(v, Relaxed);
    }

    #[inline]
    pub fn get(&self, s: Stat) -> u64 {
        self.values[s as usize].load(Relaxed)
    }

    fn class_slot(&self, class: u8, s: ClassStat) -> &AtomicU64 {
        &self.classes[class as usize][s as usize]
    }

    /// Adds `n` to class `class`'s counter. Only the owning shard calls this.
    #[inline]
    pub fn class_add(&self, class: u8, s: ClassStat, n: u64) {
        let c = self.class_slot(class, s);
        c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
    }

    #[inline]
    pub fn class_incr(&self, class: u8, s: ClassStat) {
        self.class_add(class, s, 1);
    }

    #[inline]
    pub fn class_sub(&self, class: u8, s: ClassStat, n: u64) {
        let c = self.class_slot(class, s);
        c.store(c.load(Relaxed).wrapping_sub(n), Relaxed);
    }

    #[inline]
    pub fn class_set(&self, class: u8, s: ClassStat, v: u64) {
        self.class_slot(class, s).store(v, Relaxed);
    }

    #[inline]
    pub fn class_get(&self, class: u8, s: ClassStat) -> u64 {
        self.class_slot(class, s).load(Relaxed)
    }

    /// `stats reset`: zero what memcached zeroes (not gauges such as items and connections).
    pub fn reset(&self) {
        for &s in Stat::ALL {
            if !matches!(
                s,
                Stat::CurrConnections
                    | Stat::ParkedConnections
                    | Stat::CurrItems
                    | Stat::Bytes
                    | Stat::StoreMemory
                    | Stat::HashBytes
                    | Stat::ShardCpuUserUs
                    | Stat::ShardCpuSystemUs
                    | Stat::ShardSchedulerRuns
                    | Stat::ShardTasksRun
            ) {
                self.set(s, 0);
            }
        }
        // memcached zeroes its per-class item stats and per-thread slab stats, but not the
        // slab classes' own gauges (items held, bytes requested).
        for class in 0..CLASS_SLOTS as u8 {
            for &s in ClassStat::ALL {
                if !matches!(s, ClassStat::Number | ClassStat::MemRequested) {
                    self.class_set(class, s, 0);
                }
            }
        }
    }
}

/// The sum of a stat over all shards.
pub fn sum(all: &[std::sync::Arc<Counters>], s: Stat) -> u64 {
    all.iter().map(|c| c.get(s)).fold(0u64, u64::wrapping_add)
}

/// What `stats detail` counts for one prefix (memcached's `PREFIX_STATS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrefixCounts {
    pub get: u64,
    pub hit: u64,
    pub set: u64,
    pub del: u64,
}

/// Which request `stats detail` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrefixOp {
    Get { hit: bool },
    Set,
    Delete,
}

/// `stats detail on|off|dump` for one shard: per-prefix counts, kept only while on. Off,
/// a request pays one relaxed load of `on`; on, the owning shard takes the table's lock,
/// which only a `dump` or a reset from another shard ever contends (memcached takes a
/// global lock for each counted request).
#[derive(Debug)]
pub struct Detail {
    on: AtomicBool,
    delimiter: AtomicU8,
    table: Mutex<HashMap<Vec<u8>, PrefixCounts, ahash::RandomState>>,
}

impl Default for Detail {
    fn default() -> Self {
        Detail {
            on: AtomicBool::new(false),
            delimiter: AtomicU8::new(b':'),
            table: Mutex::new(HashMap::default()),
        }
    }
}

impl Detail {
    #[inline]
    pub fn is_on(&self) -> bool {
        self.on.load(Relaxed)
    }

    pub fn set_on(&self, on: bool) {
        self.on.store(on, Relaxed);
    }

    /// `-D`: the byte that ends a key's prefix.
    pub fn set_delimiter(&self, d: u8) {
        self.delimiter.store(d, Relaxed);
    }

    /// Counts `op` on `key` under its prefix: the key up to the first delimiter. As in
    /// memcached, a key without the delimiter is not counted.
    pub fn count(&self, key: &[u8], op: PrefixOp) {
        let d = self.delimiter.load(Relaxed);
        let Some(end) = memchr::memchr(d, key) else {
            return;
        };
        let prefix = &key[..end];
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let c = match table.get_mut(prefix) {
            Some(c) => c,
            None => table.entry(prefix.to_vec()).or_default(),
        };
        match op {
            PrefixOp::Get { hit } => {
                c.get += 1;
                c.hit += u64::from(hit);
            }
            PrefixOp::Set => c.set += 1,
            PrefixOp::Delete => c.del += 1,
        }
    }

    /// This shard's counts, added into `into`.
    pub fn merge_into(&self, into: &mut HashMap<Vec<u8>, PrefixCounts>) {
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        for (p, c) in table.iter() {
            let t = into.entry(p.clone()).or_default();
            t.get += c.get;
            t.hit += c.hit;
            t.set += c.set;
            t.del += c.del;
        }
    }

    /// `stats reset` forgets every prefix, as memcached's `stats_prefix_clear`.
    pub fn clear(&self) {
        self.table.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// The sum of a class's counter over all shards.
pub fn class_sum(all: &[std::sync::Arc<Counters>], class: u8, s: ClassStat) -> u64 {
    all.iter()
        .map(|c| c.class_get(class, s))
        .fold(0u64, u64::wrapping_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_sub_reset() {
        let c = Counters::default();
        c.incr(Stat::CmdGet);
        c.add(Stat::CmdGet, 4);
        c.add(Stat::CurrItems, 3);
        c.sub(Stat::CurrItems, 1);
        assert_eq!(c.get(Stat::CmdGet), 5);
        assert_eq!(c.get(Stat::CurrItems), 2);
        c.reset();
        assert_eq!(c.get(Stat::CmdGet), 0);
        assert_eq!(c.get(Stat::CurrItems), 2);
    }

    #[test]
    fn detail_counts_by_prefix_up_to_the_delimiter() {
        let d = Detail::default();
        d.count(b"user:1", PrefixOp::Get { hit: true });
        d.count(b"user:2:x", PrefixOp::Get { hit: false });
        d.count(b"nodelim", PrefixOp::Set);
        d.count(b":empty", PrefixOp::Delete);
        d.set_delimiter(b'/');
        d.count(b"a/b:c", PrefixOp::Set);
        let mut all = HashMap::new();
        d.merge_into(&mut all);
        let mut got: Vec<_> = all.into_iter().collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let c = |get, hit, set, del| PrefixCounts { get, hit, set, del };
        assert_eq!(
            got,
            vec![
                (b"".to_vec(), c(0, 0, 0, 1)),
                (b"a".to_vec(), c(0, 0, 1, 0)),
                (b"user".to_vec(), c(2, 1, 0, 0)),
            ]
        );
        d.clear();
        let mut all = HashMap::new();
        d.merge_into(&mut all);
        assert!(all.is_empty());
    }

    #[test]
    fn class_counters_reset_as_memcacheds() {
        let c = Counters::default();
        c.class_add(5, ClassStat::Number, 3);
        c.class_add(5, ClassStat::MemRequested, 300);
        c.class_incr(5, ClassStat::GetHits);
        c.class_incr(63, ClassStat::Evicted);
        c.reset();
        assert_eq!(c.class_get(5, ClassStat::Number), 3);
        assert_eq!(c.class_get(5, ClassStat::MemRequested), 300);
        assert_eq!(c.class_get(5, ClassStat::GetHits), 0);
        assert_eq!(c.class_get(63, ClassStat::Evicted), 0);
        assert_eq!(c.class_get(4, ClassStat::Number), 0);
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = Stat::ALL.iter().map(|s| s.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Stat::ALL.len());
    }
}
