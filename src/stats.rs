//! Counters, memcached's names, one set per shard.
//!
//! Each shard owns one [`Counters`] and is its only writer, so an increment is a relaxed load
//! and store, not a locked read-modify-write; `stats` on any shard reads every shard's set and
//! sums them. No lock is ever taken.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

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
}

/// One shard's counters. Written only by the owning shard.
#[derive(Debug)]
pub struct Counters {
    values: Box<[AtomicU64]>,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            values: Stat::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
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
                    | Stat::ShardCpuUserUs
                    | Stat::ShardCpuSystemUs
                    | Stat::ShardSchedulerRuns
                    | Stat::ShardTasksRun
            ) {
                self.set(s, 0);
            }
        }
    }
}

/// The sum of a stat over all shards.
pub fn sum(all: &[std::sync::Arc<Counters>], s: Stat) -> u64 {
    all.iter().map(|c| c.get(s)).fold(0u64, u64::wrapping_add)
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
    fn names_are_unique() {
        let mut names: Vec<_> = Stat::ALL.iter().map(|s| s.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Stat::ALL.len());
    }
}
