//! A shard's key-value store: items in segments, a compact hash index, S3-FIFO eviction,
//! expiry, CAS and exact memory accounting.
//!
//! The store knows nothing of sockets, protocols, executors or other shards: it is a plain
//! single-threaded structure owned by one shard, and every operation takes the current unix
//! time as an argument, so tests drive it with a fake clock. Build one with [`StoreBuilder`].
//!
//! Memory: `-m` pays for everything. Items are appended to fixed-size mmap'd [segments]
//! (13 bytes of metadata per small item, no size classes, no padding), and the [index] costs
//! about 9–11 bytes per item. Segments plus index never exceed the limit, and a freed segment
//! is unmapped, so resident memory follows the accounting.
//!
//! Eviction is S3-FIFO at segment granularity: new items enter a small FIFO (a tenth of the
//! segments); when a small segment is evicted, its items that were read since they were
//! written move to the main FIFO and the rest go. When a main segment is evicted, items read
//! since they were last considered are kept (their frequency, 2 bits, is decremented) and the
//! rest go. One-hit wonders and scans pass through the small queue without displacing the
//! working set, which LRU cannot do; keeping survivors is a copy into the main head segment,
//! or an in-place compaction of the evicted segment when the head is full.
//!
//! Semantics follow memcached 1.6 (`do_store_item`, `do_add_delta`): expired and flushed
//! items are never returned, `add` on an existing key fails, `cas` compares the item's unique,
//! `append`/`prepend` keep the old item's flags and expiry, `incr`/`decr` rewrite the value in
//! place (space padded) when the new number is not longer.
//!
//! The files, one idea each: this one holds the types, the builder, the key hash and the
//! reads (lookup, `get`); `writes.rs` the storage commands, `delete` and `touch`; `space.rs`
//! segment allocation, S3-FIFO eviction and compaction; `expiry.rs` `flush_all` and the
//! pager; `arith.rs` `incr`/`decr`/`ma`; `meta.rs` the meta commands' item handle;
//! `prefetch.rs` the lookahead loads; `invariants.rs` the checker tests and fuzzing run;
//! `classes.rs` memcached's slab classes, the scale item and slab stats report on;
//! `walk.rs` a walk over every live item in bounded steps from a cursor (key dumps);
//! `limit.rs` the memory limit changed live (`cache_memlimit`); `journal.rs` the records
//! of every mutation for persistence (`--data-dir`) and warm-up's loads.
//!
//! [segments]: segment
//! [index]: index

mod arith;
pub mod classes;
mod expiry;
pub mod index;
#[cfg(any(test, feature = "invariants"))]
mod invariants;
mod journal;
mod limit;
mod meta;
pub mod pins;
mod prefetch;
pub mod segment;
mod space;
mod walk;
mod watch;
mod writes;

pub use arith::{ArithResult, Delta, MetaArith};
pub use expiry::PagerStep;
pub use meta::{MetaDelete, MetaInfo, MetaItem};
pub use pins::{PinnedValue, StoreValue};
pub use prefetch::{prefetch, prefetch_slice, Prefetch};
pub use walk::{WalkCursor, WalkItem};
pub use watch::Peek;

use std::collections::VecDeque;
use std::sync::Arc;

use crate::num::{push_u64, strtoull};
pub use crate::protocol::memcached_item_size;
use crate::stats::{ClassStat, Counters, Stat};
use classes::Classes;
use index::{Index, Loc, MAX_OFFSET, MAX_SEGMENTS};
use segment::{Block, Header, CAS_MAX, DEAD, FETCHED, FREQ_MASK};

/// memcached's `REALTIME_MAXDELTA`: exptimes up to 30 days are relative.
pub const REALTIME_MAXDELTA: i64 = 60 * 60 * 24 * 30;

/// Default segment size; a segment always holds at least one largest item.
pub const SEGMENT_SIZE: usize = 1 << 20;

/// A live item, borrowed from its segment.
#[derive(Clone, Copy, Debug)]
pub struct ItemRef<'a> {
    pub flags: u32,
    /// Absolute unix time at which the item expires; 0 never.
    pub exptime: u32,
    /// The unique a client sees (0 when CAS is off).
    pub cas: u64,
    pub value: &'a [u8],
    /// The value's segment, for [`ItemRef::stored`].
    seg: u32,
    pins: &'a Arc<pins::Pins>,
}

impl<'a> ItemRef<'a> {
    /// The value as a [`StoreValue`]: what a reply that keeps it past this borrow pins.
    pub fn stored(&self) -> StoreValue<'a> {
        StoreValue::new(self.value, self.seg, self.pins)
    }
}

impl PartialEq for ItemRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        (self.flags, self.exptime, self.cas, self.value)
            == (other.flags, other.exptime, other.cas, other.value)
    }
}

impl Eq for ItemRef<'_> {}

/// Outcome of a storage command, named after memcached's replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreResult {
    Stored,
    NotStored,
    Exists,
    NotFound,
    /// Nothing can be evicted to make room (or `-M` forbids it).
    NoMemory,
}

/// The storage modes: the protocol's storage commands.
pub use crate::protocol::StoreMode as Mode;

/// The fixed seeds of [`key_hash`]. Changing them moves every key to another shard.
const KEY_HASH: ahash::RandomState = ahash::RandomState::with_seeds(
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
);

/// A key's hash, computed once per key and used three ways: its top bits pick the index
/// bucket, its low 15 bits are the bucket tag, and bits 16..32 pick the key's shard
/// ([`crate::shard::shard_of_hash`]), so the three are independent.
#[inline(always)]
#[allow(clippy::manual_hash_one)] // on purpose: see below
pub fn key_hash(key: &[u8]) -> u64 {
    // `KEY_HASH.hash_one(key)` spelled out (what ahash does for it), so that it inlines
    // where a key is hashed rather than staying a call (test `key_hash_is_ahash_hash_one`).
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = KEY_HASH.build_hasher();
    key.hash(&mut h);
    h.finish()
}

/// Builds a [`Store`]; tests use it to make tiny ones.
#[derive(Clone, Debug)]
pub struct StoreBuilder {
    mem_limit: usize,
    segment_size: usize,
    evict: bool,
    use_cas: bool,
    cas_offset: u64,
    cas_stride: u64,
    started: u32,
    capacity: usize,
    item_size_max: usize,
    counters: Option<Arc<Counters>>,
    classes: Classes,
    mem_reserve: usize,
}

impl Default for StoreBuilder {
    fn default() -> Self {
        StoreBuilder {
            mem_limit: 64 << 20,
            segment_size: SEGMENT_SIZE,
            evict: true,
            use_cas: true,
            cas_offset: 0,
            cas_stride: 1,
            started: 0,
            capacity: 1024,
            item_size_max: usize::MAX,
            counters: None,
            classes: Classes::default(),
            mem_reserve: 0,
        }
    }
}

impl StoreBuilder {
    /// Bytes this store may hold: segments and index together.
    pub fn mem_limit(mut self, bytes: usize) -> Self {
        self.mem_limit = bytes;
        self
    }
    /// Segment size; must hold the largest item.
    pub fn segment_size(mut self, bytes: usize) -> Self {
        self.segment_size = bytes.clamp(64, MAX_OFFSET + 1);
        self
    }
    /// `-M`: refuse to store (`NoMemory`) rather than evict.
    pub fn evict(mut self, on: bool) -> Self {
        self.evict = on;
        self
    }
    /// `-C` turns CAS off: items then report a unique of 0.
    pub fn use_cas(mut self, on: bool) -> Self {
        self.use_cas = on;
        self
    }
    /// CAS uniques are `offset + 1 + k * stride`: with one store per shard, `offset` the shard
    /// index and `stride` the shard count, they are unique across the server.
    pub fn cas_sequence(mut self, offset: u64, stride: u64) -> Self {
        self.cas_offset = offset;
        self.cas_stride = stride.max(1);
        self
    }
    /// Unix time the server started: absolute exptimes at or before it are already past.
    pub fn started(mut self, unix: u32) -> Self {
        self.started = unix;
        self
    }
    /// Items the index holds before it first grows (`-o hashpower`).
    pub fn capacity(mut self, items: usize) -> Self {
        self.capacity = items.max(8);
        self
    }
    /// `-I`: `append`/`prepend` may not grow an item past it (as memcached counts items).
    pub fn item_size_max(mut self, bytes: usize) -> Self {
        self.item_size_max = bytes;
        self
    }
    /// memcached's slab classes (`-f`, `-n`): the classes per-class counters count in.
    pub fn slab_classes(mut self, classes: Classes) -> Self {
        self.classes = classes;
        self
    }

    /// The most `-m` may grow to while running (`cache_memlimit`): the arena reserves
    /// address space for it (no memory until used). At least the limit.
    pub fn mem_reserve(mut self, bytes: usize) -> Self {
        self.mem_reserve = bytes;
        self
    }

    /// Counters to report into (shared with `stats` readers).
    pub fn counters(mut self, c: Arc<Counters>) -> Self {
        self.counters = Some(c);
        self
    }
    pub fn build(self) -> Store {
        let index = Index::with_capacity(self.capacity);
        let index_bytes = index.bytes();
        let counters = self.counters.unwrap_or_default();
        counters.set(Stat::StoreMemory, index.bytes() as u64);
        counters.set(Stat::HashBytes, index.bytes() as u64);
        let max_segs = (self.mem_limit / self.segment_size).clamp(1, MAX_SEGMENTS);
        // Address space for the reserve when the system grants it, else for the limit.
        let reserve = (self.mem_reserve / self.segment_size).clamp(max_segs, MAX_SEGMENTS);
        let (arena, reserve) = match Block::new(reserve * self.segment_size) {
            Some(a) if reserve > max_segs => (a, reserve),
            _ => (
                Block::new(max_segs * self.segment_size).expect("mapping the store's arena"),
                max_segs,
            ),
        };
        let pins = Arc::new(pins::Pins::new(reserve, arena.base()));
        pins.set_limit(max_segs / 4);
        Store {
            arena: std::mem::ManuallyDrop::new(arena),
            pins,
            segs: (0..max_segs).map(|_| None).collect(),
            free_ids: (0..max_segs as u32).rev().collect(),
            small: VecDeque::new(),
            main: VecDeque::new(),
            small_head: None,
            main_head: None,
            seg_count: 0,
            seg_size: self.segment_size,
            index,
            mem_limit: self.mem_limit,
            mem_target: self.mem_limit,
            reserve_segs: reserve,
            item_size_max: self.item_size_max,
            evict: self.evict,
            use_cas: self.use_cas,
            next_cas: self.cas_offset + 1,
            last_cas: 0,
            cas_stride: self.cas_stride,
            started: self.started,
            flush_cas: 0,
            flush_at: None,
            live_bytes: 0,
            scratch: Vec::new(),
            moved: Vec::new(),
            pager_seg: 0,
            pager_off: 0,
            pager_epoch: 0,
            pager_next: 0,
            expiry_hint: 0,
            now: 0,
            wants_headroom: false,
            epochs: 0,
            base_index_bytes: index_bytes,
            counters,
            classes: self.classes,
            journal: None,
        }
    }
}

/// Which of S3-FIFO's two queues a segment is on: new items enter `Small`; what survives
/// an eviction is on `Main`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fifo {
    Small,
    Main,
}

#[derive(Debug)]
struct Seg {
    /// Changes whenever the segment's items move, so a cursor into it knows to restart.
    epoch: u64,
    used: usize,
    live_items: usize,
    live_bytes: usize,
    queue: Fifo,
}

/// A shard's store. See the module documentation.
#[derive(Debug)]
pub struct Store {
    /// Every segment's memory: segment `i` is bytes `i * seg_size ..` of the arena.
    /// Unmapped on drop unless a value is still pinned (see `Drop`).
    arena: std::mem::ManuallyDrop<Block>,
    /// Which segments replies hold values of ([`pins`]).
    pins: Arc<pins::Pins>,
    segs: Vec<Option<Seg>>,
    free_ids: Vec<u32>,
    /// Closed segments of each FIFO, oldest first.
    small: VecDeque<u32>,
    main: VecDeque<u32>,
    /// The segment each FIFO appends to.
    small_head: Option<u32>,
    main_head: Option<u32>,
    seg_count: usize,
    seg_size: usize,
    index: Index,
    /// The limit allocation obeys: the target, or while a shrink evicts down to it
    /// ([`Store::set_mem_limit`]), what is in use.
    mem_limit: usize,
    /// The limit asked for (`-m`, `cache_memlimit`).
    mem_target: usize,
    /// Segment slots the arena has room for: the most the limit may grow to.
    reserve_segs: usize,
    item_size_max: usize,
    evict: bool,
    use_cas: bool,
    next_cas: u64,
    cas_stride: u64,
    /// The unique given by the latest write (what binary and meta replies return).
    last_cas: u64,
    started: u32,
    /// Items with a unique below this were flushed (0: no flush yet).
    flush_cas: u64,
    /// A delayed `flush_all` takes effect at this time.
    flush_at: Option<u32>,
    /// Bytes of indexed items (metadata, key and value).
    live_bytes: usize,
    scratch: Vec<u8>,
    moved: Vec<Loc>,
    pager_seg: usize,
    pager_off: usize,
    pager_epoch: u64,
    pager_next: u32,
    /// Earliest exptime written (or flush due) since the pager's last full pass; 0 none.
    expiry_hint: u32,
    /// The latest time any operation was given; eviction judges expiry by it.
    now: u32,
    /// A write had to evict inline: the eviction task should make headroom.
    wants_headroom: bool,
    epochs: u64,
    /// The index size the store started with; it never shrinks below it.
    base_index_bytes: usize,
    counters: Arc<Counters>,
    /// The slab class each item counts in for `stats items` and `stats slabs`.
    classes: Classes,
    /// Mutations not yet persisted (`--data-dir`); None when persistence is off.
    journal: Option<Box<crate::persist::journal::Journal>>,
}

/// What a lookup just before a write found of the written key, so that linking the new
/// item needs no second hash or probe (see [`Store::link`]).
#[derive(Clone, Copy, Debug)]
enum Prior {
    /// Not looked up: hash and probe.
    Unknown,
    /// Not looked up, but the key's hash is known: probe.
    Hashed { hash: u64 },
    /// No live item had the key.
    Absent { hash: u64 },
    /// The key's live item was at `loc`, in index slot `slot`.
    At { hash: u64, slot: usize, loc: Loc },
}

/// Why a looked-up key is not there.
enum Miss {
    Absent,
    Expired,
    Flushed,
}

/// An item's info byte one access more frequent (at most [`FREQ_MASK`]).
fn bumped(info: u8) -> u8 {
    (info & !FREQ_MASK) | (info & FREQ_MASK).saturating_add(1).min(FREQ_MASK)
}

impl Store {
    pub fn builder() -> StoreBuilder {
        StoreBuilder::default()
    }

    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// The size memcached would give the item `hdr` describes, and its slab class.
    #[inline]
    fn class_of(&self, hdr: &Header) -> (usize, u8) {
        let size = memcached_item_size(hdr.klen, hdr.flags, hdr.vlen, self.use_cas);
        (size, self.classes.class_of(size))
    }

    /// Counts one event of the item `hdr` describes in its slab class.
    #[inline]
    fn class_incr(&self, hdr: &Header, s: ClassStat) {
        self.counters.class_incr(self.class_of(hdr).1, s);
    }

    /// Bytes held against the limit: segments and index.
    pub fn mem_used(&self) -> usize {
        self.seg_count * self.seg_size + self.index.bytes()
    }

    pub fn mem_limit(&self) -> usize {
        self.mem_limit
    }

    /// Bytes of the items in the index (metadata, key and value).
    pub fn live_bytes(&self) -> usize {
        self.live_bytes
    }

    /// Items in the index (expired ones count until reclaimed, as in memcached).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Whether items carry a CAS unique (`-C` turns it off).
    pub fn cas_enabled(&self) -> bool {
        self.use_cas
    }

    /// memcached's `realtime(EXPTIME_TO_POSITIVE_TIME(exptime))`, as absolute unix time:
    /// 0 never; negative already expired; up to 30 days relative to now; above, absolute.
    pub fn abs_exptime(&self, exptime: i32, now: u32) -> u32 {
        let e = i64::from(exptime);
        let e = if e < 0 { REALTIME_MAXDELTA + 1 } else { e };
        if e == 0 {
            0
        } else if e > REALTIME_MAXDELTA {
            if e <= i64::from(self.started) {
                1
            } else {
                e.min(i64::from(u32::MAX)) as u32
            }
        } else {
            (i64::from(now) + e).min(i64::from(u32::MAX)) as u32
        }
    }

    fn new_cas(&mut self) -> u64 {
        let c = self.next_cas;
        self.next_cas += self.cas_stride;
        if self.next_cas > CAS_MAX {
            self.next_cas = self.cas_stride;
        }
        self.last_cas = c;
        c
    }

    /// The CAS unique given by the latest successful write (`store`, `arith`), for the
    /// protocols that return it (binary, meta); 0 when CAS is off.
    pub fn last_cas(&self) -> u64 {
        if self.use_cas {
            self.last_cas
        } else {
            0
        }
    }

    fn hash(&self, key: &[u8]) -> u64 {
        key_hash(key)
    }

    fn seg(&self, id: u32) -> &Seg {
        self.segs[id as usize].as_ref().expect("live segment")
    }

    fn seg_mut(&mut self, id: u32) -> &mut Seg {
        self.segs[id as usize].as_mut().expect("live segment")
    }

    /// Segment `id`'s bytes.
    fn seg_bytes(&self, id: u32) -> &[u8] {
        let at = id as usize * self.seg_size;
        &self.arena.bytes()[at..at + self.seg_size]
    }

    fn seg_bytes_mut(&mut self, id: u32) -> &mut [u8] {
        let at = id as usize * self.seg_size;
        &mut self.arena.bytes_mut()[at..at + self.seg_size]
    }

    fn item(&self, loc: Loc) -> &[u8] {
        &self.seg_bytes(loc.seg)[loc.off as usize..]
    }

    fn item_mut(&mut self, loc: Loc) -> &mut [u8] {
        let off = loc.off as usize;
        &mut self.seg_bytes_mut(loc.seg)[off..]
    }

    fn key_at(&self, loc: Loc) -> &[u8] {
        let src = self.item(loc);
        let h = segment::read_header(src);
        &src[h.key_at..h.key_at + h.klen]
    }

    fn is_dead(&self, h: &Header, now: u32) -> Option<Miss> {
        if h.exptime != 0 && h.exptime <= now {
            Some(Miss::Expired)
        } else if h.cas < self.flush_cas {
            Some(Miss::Flushed)
        } else {
            None
        }
    }

    /// Finds `key`'s live item; drops it if it expired or was flushed.
    fn lookup(&mut self, key: &[u8], now: u32) -> Result<(usize, Loc, Header), Miss> {
        self.lookup_hashed(key, None, now)
    }

    /// [`Store::lookup`] for a write that may follow: also what it found, as a [`Prior`]
    /// for [`Store::write_ext`], so the write neither hashes the key again nor probes the
    /// index again.
    fn lookup_prior(&mut self, key: &[u8], now: u32) -> (Option<(usize, Loc, Header)>, Prior) {
        let hash = self.hash(key);
        match self.lookup_hashed(key, Some(hash), now) {
            Ok((slot, loc, hdr)) => (Some((slot, loc, hdr)), Prior::At { hash, slot, loc }),
            Err(_) => (None, Prior::Absent { hash }),
        }
    }

    /// The index slot and location of `key`'s entry (its hash is `h`), live or not.
    ///
    /// Keys are compared before any header is decoded, and only the match's is decoded, by
    /// the caller: a decoded header is 56 bytes, and carrying one out of a probe's closure
    /// cost a copy and a store-forwarding stall per lookup.
    #[inline(always)]
    fn find_key(&self, h: u64, key: &[u8]) -> Option<(usize, Loc)> {
        for (slot, loc) in self.index.probe(h) {
            if self.holds_key(loc, key) {
                return Some((slot, loc));
            }
        }
        None
    }

    /// Whether the item at `loc` has key `key`: [`Store::find_key`]'s test.
    #[inline(always)]
    fn holds_key(&self, loc: Loc, key: &[u8]) -> bool {
        let src = self.item(loc);
        if segment::key_len(src) != key.len() {
            return false;
        }
        let at = segment::key_offset(src);
        src.get(at..at + key.len())
            .is_some_and(|k| segment::same_key(k, key))
    }

    /// [`Store::lookup`] with `key`'s hash, when the caller has it.
    #[inline(always)]
    fn lookup_hashed(
        &mut self,
        key: &[u8],
        hash: Option<u64>,
        now: u32,
    ) -> Result<(usize, Loc, Header), Miss> {
        self.tick(now);
        let h = hash.unwrap_or_else(|| self.hash(key));
        debug_assert_eq!(h, self.hash(key));
        let Some((slot, loc)) = self.find_key(h, key) else {
            return Err(Miss::Absent);
        };
        let hdr = segment::read_header(self.item(loc));
        if let Some(miss) = self.is_dead(&hdr, now) {
            self.reclaim(slot, loc, &hdr);
            return Err(miss);
        }
        Ok((slot, loc, hdr))
    }

    /// Removes the item in index `slot` at `loc` and marks it dead in its segment.
    fn unlink(&mut self, slot: usize, loc: Loc, hdr: &Header) {
        self.index.remove(slot);
        self.retire(loc, hdr);
    }

    /// Marks the item at `loc` dead in its segment and uncounts it; its index entry is the
    /// caller's to remove or repoint.
    fn retire(&mut self, loc: Loc, hdr: &Header) {
        let len = hdr.total_len();
        self.item_mut(loc)[0] |= DEAD;
        let seg = self.seg_mut(loc.seg);
        seg.live_items -= 1;
        seg.live_bytes -= len;
        self.live_bytes -= len;
        self.counters.sub(Stat::CurrItems, 1);
        self.counters.sub(Stat::Bytes, len as u64);
        let (size, class) = self.class_of(hdr);
        self.counters.sizes.add(size, -1);
        self.counters.class_sub(class, ClassStat::Number, 1);
        self.counters
            .class_sub(class, ClassStat::MemRequested, size as u64);
    }

    /// Unlinks an expired or flushed item.
    fn reclaim(&mut self, slot: usize, loc: Loc, hdr: &Header) {
        self.unlink(slot, loc, hdr);
        self.counters.incr(Stat::Reclaimed);
        let class = self.class_of(hdr).1;
        self.counters.class_incr(class, ClassStat::Reclaimed);
        if hdr.info & FETCHED == 0 && hdr.exptime != 0 {
            self.counters.incr(Stat::ExpiredUnfetched);
            self.counters.class_incr(class, ClassStat::ExpiredUnfetched);
        }
    }

    fn view(&self, loc: Loc, hdr: &Header) -> ItemRef<'_> {
        let src = self.item(loc);
        ItemRef {
            flags: hdr.flags,
            exptime: hdr.exptime,
            cas: if self.use_cas { hdr.cas } else { 0 },
            value: &src[hdr.value_at()..hdr.value_at() + hdr.vlen],
            seg: loc.seg,
            pins: &self.pins,
        }
    }

    /// Whether a reply holds a value in segment `id`: then the segment is not compacted,
    /// evicted, emptied or freed, and no value in it is written ([`pins`]).
    fn pinned(&self, id: u32) -> bool {
        self.pins.is_pinned(id)
    }

    /// Segments that replies hold values of now.
    pub fn pinned_segments(&self) -> usize {
        self.pins.pinned_segments()
    }

    /// Marks an item read: fetched, and one step more frequent (at most 3). As memcached's
    /// segmented LRU bump, the first read only marks the item fetched; later ones also set
    /// its last access time.
    fn touch_freq(&mut self, loc: Loc) {
        let now = self.now;
        let src = self.item_mut(loc);
        let b = src[0];
        if b & FETCHED != 0 {
            segment::set_atime(src, now);
        }
        src[0] = bumped(b) | FETCHED;
    }

    /// [`Store::touch_freq`] for an item whose header was just read: the header says
    /// where the atime is and whether it holds the exptime instead.
    #[inline]
    fn touch_read(&mut self, loc: Loc, hdr: &Header) {
        let now = self.now;
        let src = self.item_mut(loc);
        let b = hdr.info;
        if b & FETCHED != 0 && !hdr.exp_in_atime {
            let at = hdr.atime_at();
            src[at..at + 4].copy_from_slice(&(now & segment::ATIME_MASK).to_le_bytes());
        }
        src[0] = bumped(b) | FETCHED;
    }

    /// memcached's `do_item_update` (a failed `add` bumps the existing item): one step more
    /// frequent and accessed now, but not marked fetched.
    fn touch_update(&mut self, loc: Loc) {
        let now = self.now;
        let src = self.item_mut(loc);
        segment::set_atime(src, now);
        let b = src[0];
        src[0] = bumped(b);
    }

    /// Looks up a live item for `get`, counting expired and flushed misses.
    pub fn get(&mut self, key: &[u8], now: u32) -> Option<ItemRef<'_>> {
        self.get_hashed(key, None, now)
    }

    /// [`Store::get`] with `key`'s hash, when the caller has it (from [`Prefetch::key`]).
    pub fn get_hashed(&mut self, key: &[u8], hash: Option<u64>, now: u32) -> Option<ItemRef<'_>> {
        match self.lookup_hashed(key, hash, now) {
            Ok((_, loc, hdr)) => {
                self.touch_read(loc, &hdr);
                self.class_incr(&hdr, ClassStat::GetHits);
                Some(self.view(loc, &hdr))
            }
            Err(miss) => {
                match miss {
                    Miss::Expired => self.counters.incr(Stat::GetExpired),
                    Miss::Flushed => self.counters.incr(Stat::GetFlushed),
                    Miss::Absent => {}
                }
                None
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // A pinned value may outlive its store (a peer's reply in flight at shutdown): the
        // arena then stays mapped rather than leave the pin dangling.
        if !self.pins.any() {
            // SAFETY: dropped once, here, and not used after.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.arena) };
        }
    }
}

#[cfg(test)]
mod tests;
