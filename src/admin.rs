//! What admin commands change while the server runs, shared by every shard: the memory
//! limit (`cache_memlimit`), the LRU crawler's switches (`lru_crawler enable|disable|sleep|
//! tocrawl`), memcached's slab and LRU tunings (`slabs automove`, `lru …`), and each shard's
//! desk, where a connection on any shard posts a key dump
//! ([`crate::dump`]) and wakes that shard's engine tasks, and the `watch` connections
//! ([`crate::watch::Hub`]).
//!
//! Only admin commands and engine tasks touch it; no request on the data path does.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};

use crate::config::Settings;
use crate::dump::Job;
use crate::tasks::TaskHandle;

/// The live settings and every shard's desk.
#[derive(Debug)]
pub struct Admin {
    /// Item memory, all shards together: `-m`, then the last `cache_memlimit`.
    mem_limit: AtomicUsize,
    shards: usize,
    crawler_enabled: AtomicBool,
    crawler_sleep: AtomicU32,
    crawler_tocrawl: AtomicU32,
    tunings: Mutex<Tunings>,
    desks: Vec<OnceLock<Desk>>,
    /// Every `watch` connection ([`crate::watch`]).
    pub watchers: crate::watch::Hub,
}

/// memcached's slab and LRU tunings, as `slabs automove` and `lru …` last set them.
/// `stats settings` shows them; corecached's store has no slabs to move and one S3-FIFO
/// rather than memcached's segmented LRU, so they change nothing else (README).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tunings {
    pub slab_automove: u8,
    pub slab_automove_ratio: f64,
    pub lru_segmented: bool,
    pub hot_lru_pct: u32,
    pub warm_lru_pct: u32,
    pub hot_max_factor: f64,
    pub warm_max_factor: f64,
    pub temp_lru: bool,
    pub temporary_ttl: i32,
}

impl Default for Tunings {
    /// memcached 1.6's defaults, but for `lru_segmented`: the store is not segmented.
    fn default() -> Tunings {
        Tunings {
            slab_automove: 1,
            slab_automove_ratio: 0.8,
            lru_segmented: false,
            hot_lru_pct: 20,
            warm_lru_pct: 40,
            hot_max_factor: 0.2,
            warm_max_factor: 2.0,
            temp_lru: false,
            temporary_ttl: 61,
        }
    }
}

/// A shard's desk: its engine tasks that other shards wake, and the dumps posted to it.
#[derive(Debug)]
pub struct Desk {
    pub evictor: TaskHandle,
    pub pager: TaskHandle,
    pub dumper: TaskHandle,
    /// Hands the shard's `watch` lines to the watchers ([`crate::watch::LogTask`]).
    pub logger: TaskHandle,
    /// The most memory its store can grow to ([`crate::store::Store::mem_reserve`]).
    pub reserve: usize,
    /// The dumps posted, and whether the shard's dump task has ended (the shard stopped).
    jobs: Mutex<(Vec<Arc<Job>>, bool)>,
}

impl Desk {
    pub fn new(
        evictor: TaskHandle,
        pager: TaskHandle,
        dumper: TaskHandle,
        logger: TaskHandle,
        reserve: usize,
    ) -> Desk {
        Desk {
            evictor,
            pager,
            dumper,
            logger,
            reserve,
            jobs: Mutex::new((Vec::new(), false)),
        }
    }

    /// Posts a dump to shard `id` (this desk's) and wakes its dump task; a shard that has
    /// stopped ends its part at once.
    pub fn post(&self, id: usize, job: Arc<Job>) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if jobs.1 {
            drop(jobs);
            job.end_part(id);
            return;
        }
        jobs.0.push(job);
        drop(jobs);
        self.dumper.wake();
    }

    /// Takes the dumps posted since the last call.
    pub fn take_posted(&self, into: &mut Vec<Arc<Job>>) {
        into.append(&mut self.jobs.lock().unwrap_or_else(|e| e.into_inner()).0);
    }

    /// The shard's dump task has ended: takes the dumps posted and turns later ones away.
    pub fn close(&self, into: &mut Vec<Arc<Job>>) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.1 = true;
        into.append(&mut jobs.0);
    }
}

/// Why `cache_memlimit` cannot set a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitError {
    /// A shard's share would not hold two segments and its index, or more than its store
    /// reserved at start.
    OutOfBounds,
}

impl Admin {
    pub fn new(settings: &Settings) -> Admin {
        Admin {
            mem_limit: AtomicUsize::new(settings.mem_limit),
            shards: settings.shards,
            crawler_enabled: AtomicBool::new(true),
            crawler_sleep: AtomicU32::new(100),
            crawler_tocrawl: AtomicU32::new(0),
            tunings: Mutex::new(Tunings::default()),
            desks: (0..settings.shards).map(|_| OnceLock::new()).collect(),
            watchers: crate::watch::Hub::new(settings.log_buffers),
        }
    }

    /// Item memory of all shards together (`limit_maxbytes`).
    pub fn mem_limit(&self) -> usize {
        self.mem_limit.load(Relaxed)
    }

    /// Shard `id`'s desk, once the shard has started.
    pub fn desk(&self, id: usize) -> Option<&Desk> {
        self.desks.get(id)?.get()
    }

    /// Every started shard's desk.
    pub fn desks(&self) -> impl Iterator<Item = &Desk> {
        self.desks.iter().filter_map(|d| d.get())
    }

    /// Shard `id` has started: its desk.
    pub fn open_desk(&self, id: usize, desk: Desk) {
        let _ = self.desks[id].set(desk);
    }

    /// `cache_memlimit`: `bytes` over all shards, split as `-m` is; each shard's eviction
    /// task applies its share (a shrink in bounded steps). `min_share` is the least a
    /// shard's store can run with.
    pub fn set_mem_limit(&self, bytes: usize, min_share: usize) -> Result<(), LimitError> {
        let share = bytes / self.shards;
        let fits = self.desks().all(|d| share <= d.reserve);
        if share < min_share || !fits {
            return Err(LimitError::OutOfBounds);
        }
        self.mem_limit.store(bytes, Relaxed);
        for d in self.desks() {
            d.evictor.wake();
        }
        Ok(())
    }

    /// Whether the LRU crawler is on (`lru_crawler enable|disable`; on at start, as
    /// memcached's default).
    pub fn crawler_enabled(&self) -> bool {
        self.crawler_enabled.load(Relaxed)
    }

    /// Turns the crawler on or off; false if it already was on and is asked on again
    /// (memcached cannot start its thread twice).
    pub fn set_crawler(&self, on: bool) -> bool {
        let was = self.crawler_enabled.swap(on, Relaxed);
        !(on && was)
    }

    /// `lru_crawler sleep` (microseconds between memcached's crawler steps). Kept for
    /// `stats settings`: steps here yield to requests by priority instead.
    pub fn crawler_sleep(&self) -> u32 {
        self.crawler_sleep.load(Relaxed)
    }

    pub fn set_crawler_sleep(&self, us: u32) {
        self.crawler_sleep.store(us, Relaxed);
    }

    /// `lru_crawler tocrawl` (items memcached's crawler looks at per class per run; 0 all).
    pub fn crawler_tocrawl(&self) -> u32 {
        self.crawler_tocrawl.load(Relaxed)
    }

    pub fn set_crawler_tocrawl(&self, n: u32) {
        self.crawler_tocrawl.store(n, Relaxed);
    }

    pub fn tunings(&self) -> Tunings {
        *self.tunings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the tunings as `change` says.
    pub fn tune(&self, change: impl FnOnce(&mut Tunings)) {
        change(&mut self.tunings.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// One shard's share of the live limit, for its eviction task.
#[derive(Clone, Debug)]
pub struct ShardLimit(pub Arc<Admin>);

impl ShardLimit {
    pub fn bytes(&self) -> usize {
        self.0.mem_limit() / self.0.shards
    }
}

/// The most memory a shard's store reserves room to grow to with `cache_memlimit`: the
/// machine's memory split over the shards (at least the shard's share of `-m`), for at
/// most 65,536 segments, so the reservation's bookkeeping stays small.
pub fn shard_reserve(settings: &Settings) -> usize {
    // SAFETY: sysconf only reads system configuration.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let ram = (pages.max(0) as usize).saturating_mul(page.max(0) as usize);
    let share = settings.shard_mem();
    let most = settings.segment_size.saturating_mul(1 << 16);
    (ram / settings.shards.max(1)).min(most).max(share)
}
