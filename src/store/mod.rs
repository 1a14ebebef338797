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
//! [segments]: segment
//! [index]: index

pub mod index;
mod meta;
pub mod pins;
pub mod segment;

pub use meta::{MetaArith, MetaDelete, MetaInfo, MetaItem};
pub use pins::{PinnedValue, StoreValue};

use std::collections::VecDeque;
use std::sync::Arc;

use crate::num::{push_u64, strtoull};
pub use crate::protocol::memcached_item_size;
use crate::stats::{Counters, Stat};
use index::{Index, Loc, MAX_OFFSET, MAX_SEGMENTS};
use segment::{Block, Header, CAS_MAX, DEAD, FETCHED, FREQ_MASK, HAS_EXPTIME, KEPT_BITS};

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

/// Outcome of `incr`/`decr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithResult {
    Value(u64),
    NotFound,
    NonNumeric,
    NoMemory,
}

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

/// How many keys a [`Prefetch`] lets pass between loading a key's index bucket and reading
/// that bucket to load its item: time for the bucket to arrive.
const PREFETCH_LAG: usize = 8;

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
#[inline]
pub fn key_hash(key: &[u8]) -> u64 {
    KEY_HASH.hash_one(key)
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
        let max_segs = (self.mem_limit / self.segment_size).clamp(1, MAX_SEGMENTS);
        let arena = Block::new(max_segs * self.segment_size).expect("mapping the store's arena");
        let pins = Arc::new(pins::Pins::new(max_segs, arena.base()));
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
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Queue {
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
    queue: Queue,
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
    mem_limit: usize,
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
}

/// What a lookup just before a write found of the written key, so that linking the new
/// item needs no second hash or probe (see [`Store::link`]).
#[derive(Clone, Copy, Debug)]
enum Prior {
    /// Not looked up: hash and probe.
    Unknown,
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

    fn hint_expiry(&mut self, at: u32) {
        if at != 0 && (self.expiry_hint == 0 || at < self.expiry_hint) {
            self.expiry_hint = at;
        }
    }

    /// Earliest exptime written since the pager's last full pass (0: none). The shard
    /// wakes the pager when this is earlier than its next planned run.
    pub fn expiry_hint(&self) -> u32 {
        self.expiry_hint
    }

    /// Whether a write had to evict inline since the last call.
    pub fn take_wants_headroom(&mut self) -> bool {
        std::mem::take(&mut self.wants_headroom)
    }

    /// The eviction task's step: evicts one segment when no segment's worth of memory is
    /// free. True if that freed memory and another step may be useful.
    pub fn make_headroom(&mut self) -> bool {
        if !self.evict || self.mem_used() + self.seg_size <= self.mem_limit {
            return false;
        }
        let before = self.seg_count;
        self.evict_one() && self.seg_count < before
    }

    /// Applies a delayed flush whose time has come.
    fn tick(&mut self, now: u32) {
        self.now = self.now.max(now);
        if let Some(at) = self.flush_at {
            if now >= at {
                self.flush_at = None;
                self.flush_cas = self.next_cas;
            }
        }
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
    /// cost a copy and a store-forwarding stall per lookup (decoding each candidate's header
    /// in this loop instead made no difference, callgrind).
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
    }

    /// Unlinks an expired or flushed item.
    fn reclaim(&mut self, slot: usize, loc: Loc, hdr: &Header) {
        self.unlink(slot, loc, hdr);
        self.counters.incr(Stat::Reclaimed);
        if hdr.info & FETCHED == 0 && hdr.exptime != 0 {
            self.counters.incr(Stat::ExpiredUnfetched);
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

    /// A prefetcher for keys about to be looked up, fed as they are parsed (see
    /// [`Prefetch`]).
    pub fn prefetcher(&self) -> Prefetch<'_> {
        Prefetch {
            store: self,
            ring: [0; PREFETCH_LAG],
            n: 0,
        }
    }

    /// Starts loading the items in the slots of `h`'s home bucket carrying its tag: the
    /// cache line each starts in, and the next one when it starts more than 16 bytes in.
    fn prefetch_item_of(&self, h: u64) {
        self.index.candidates(h, |loc| {
            if self.segs[loc.seg as usize].is_some() {
                let p = self.item(loc).as_ptr();
                prefetch(p);
                // An item that starts late in its line spills its key and value into the
                // next one.
                if (p as usize) & 63 > 16 {
                    prefetch(p.wrapping_add(64));
                }
            }
        });
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

    /// Sets a live item's expiry; returns its location and header.
    fn set_exptime(&mut self, key: &[u8], exptime: u32, now: u32) -> Option<(Loc, Header)> {
        let (_, loc, hdr) = self.lookup(key, now).ok()?;
        Some(self.set_exptime_at(loc, hdr, exptime))
    }

    /// Sets the expiry of the live item at `loc`: in place when it has an exptime field (or
    /// keeps none), else by relocating it into a copy with one. Returns where it now is.
    fn set_exptime_at(&mut self, loc: Loc, mut hdr: Header, exptime: u32) -> (Loc, Header) {
        self.hint_expiry(exptime);
        if hdr.info & HAS_EXPTIME != 0 {
            let src = self.item_mut(loc);
            let at = segment::exptime_at(src);
            src[at..at + 4].copy_from_slice(&exptime.to_le_bytes());
            hdr.exptime = exptime;
            return (loc, hdr);
        }
        if exptime == 0 && !hdr.exp_in_atime {
            return (loc, hdr);
        }
        if !hdr.exp_in_atime && exptime != 0 {
            if let Some(moved) = self.relocate(loc, &hdr, exptime) {
                return moved;
            }
        }
        // No memory for a copy with an exptime field: keep it in the atime field.
        let now = self.now;
        let src = self.item_mut(loc);
        segment::set_exptime_in_atime(src, exptime, now);
        (loc, segment::read_header(src))
    }

    /// Copies the live item at `loc` into a new one with exptime `exptime` (its header
    /// grows), keeping its unique, flags, access time and bits, and links the copy in its
    /// place. None (nothing changed) if no memory can be had.
    fn relocate(&mut self, loc: Loc, hdr: &Header, exptime: u32) -> Option<(Loc, Header)> {
        let mut body = std::mem::take(&mut self.scratch);
        body.clear();
        body.extend_from_slice(&self.item(loc)[hdr.key_at..hdr.total_len()]);
        let len = segment::item_len(hdr.klen, hdr.vlen, hdr.flags, exptime);
        let new = if len <= self.seg_size && self.make_index_room() {
            self.alloc(len, Queue::Small)
        } else {
            None
        };
        let result = new.map(|new| {
            let m = segment::Meta {
                flags: hdr.flags,
                exptime,
                cas: hdr.cas,
                atime: if hdr.exp_in_atime {
                    self.now
                } else {
                    hdr.atime
                },
                key_binary: hdr.key_binary,
            };
            let dst = &mut self.item_mut(new)[..len];
            let p = segment::write_header(dst, &body[..hdr.klen], hdr.vlen, &m);
            dst[p..p + hdr.vlen].copy_from_slice(&body[hdr.klen..]);
            dst[0] |= hdr.info & KEPT_BITS;
            let new_hdr = segment::read_header(dst);
            self.link(&body[..hdr.klen], new, len, Prior::Unknown);
            self.hint_expiry(exptime);
            (new, new_hdr)
        });
        self.scratch = body;
        result
    }

    /// `gat`: looks up a live item and sets its expiry.
    pub fn get_and_touch(&mut self, key: &[u8], exptime: u32, now: u32) -> Option<ItemRef<'_>> {
        let (loc, hdr) = self.set_exptime(key, exptime, now)?;
        self.touch_freq(loc);
        Some(self.view(loc, &hdr))
    }

    /// `touch`: sets a live item's expiry and marks it read (memcached fetches it with an
    /// LRU bump); false on a miss.
    pub fn touch(&mut self, key: &[u8], exptime: u32, now: u32) -> bool {
        match self.set_exptime(key, exptime, now) {
            Some((loc, _)) => {
                self.touch_freq(loc);
                true
            }
            None => false,
        }
    }

    /// `delete`: true if a live item was removed.
    pub fn delete(&mut self, key: &[u8], now: u32) -> bool {
        match self.lookup(key, now) {
            Ok((slot, loc, hdr)) => {
                self.unlink(slot, loc, &hdr);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes `key` if present (memcached's clean-up after a failed `set`).
    pub fn remove(&mut self, key: &[u8], now: u32) {
        self.delete(key, now);
    }

    /// The storage commands, as memcached's `do_store_item`.
    #[allow(clippy::too_many_arguments)]
    pub fn store(
        &mut self,
        mode: Mode,
        key: &[u8],
        flags: u32,
        exptime: u32,
        cas: u64,
        data: &[u8],
        now: u32,
    ) -> StoreResult {
        let (old, prior) = self.lookup_prior(key, now);
        let result = match (mode, old) {
            (Mode::Add, Some((_, loc, _))) => {
                // memcached bumps an existing item on a failed add.
                self.touch_update(loc);
                StoreResult::NotStored
            }
            (Mode::Replace | Mode::Append | Mode::Prepend, None) => StoreResult::NotStored,
            (Mode::Cas, None) => {
                self.counters.incr(Stat::CasMisses);
                StoreResult::NotFound
            }
            (Mode::Cas, Some((_, _, hdr))) => {
                if self.use_cas && cas != 0 && hdr.cas == cas {
                    self.counters.incr(Stat::CasHits);
                    self.write_ext(key, flags, exptime, &[data], 0, false, prior)
                } else {
                    self.counters.incr(Stat::CasBadval);
                    StoreResult::Exists
                }
            }
            (Mode::Append | Mode::Prepend, Some((_, _, hdr)))
                if memcached_item_size(
                    key.len(),
                    hdr.flags,
                    hdr.vlen + data.len(),
                    self.use_cas,
                ) > self.item_size_max =>
            {
                // memcached cannot allocate the combined item: NOT_STORED, old value kept.
                StoreResult::NotStored
            }
            (Mode::Append | Mode::Prepend, Some((_, loc, hdr))) => {
                // The old value is copied out first: making room may move it.
                let mut old_value = std::mem::take(&mut self.scratch);
                old_value.clear();
                let src = self.item(loc);
                old_value.extend_from_slice(&src[hdr.value_at()..hdr.value_at() + hdr.vlen]);
                let parts: [&[u8]; 2] = if mode == Mode::Append {
                    [&old_value, data]
                } else {
                    [data, &old_value]
                };
                let r = self.write_ext(key, hdr.flags, hdr.exptime, &parts, 0, false, prior);
                self.scratch = old_value;
                r
            }
            (Mode::Set | Mode::Add | Mode::Replace, _) => {
                self.write_ext(key, flags, exptime, &[data], 0, false, prior)
            }
        };
        if result == StoreResult::NoMemory {
            self.counters.incr(Stat::StoreNoMemory);
            // memcached unlinks the old value when a `set` cannot be stored, so no stale
            // value stays behind.
            if mode == Mode::Set {
                self.remove(key, now);
            }
        }
        result
    }

    /// Writes a new version of `key` (value = the parts, concatenated) and links it.
    fn write(&mut self, key: &[u8], flags: u32, exptime: u32, parts: &[&[u8]]) -> StoreResult {
        self.write_ext(key, flags, exptime, parts, 0, false, Prior::Unknown)
    }

    /// [`Store::write`] with info `bits` set on the new item, its key marked binary, and
    /// what a lookup just before found of the key ([`Prior`]).
    #[allow(clippy::too_many_arguments)]
    fn write_ext(
        &mut self,
        key: &[u8],
        flags: u32,
        exptime: u32,
        parts: &[&[u8]],
        bits: u8,
        key_binary: bool,
        prior: Prior,
    ) -> StoreResult {
        let vlen: usize = parts.iter().map(|p| p.len()).sum();
        let len = segment::item_len(key.len(), vlen, flags, exptime);
        if len > self.seg_size || !self.make_index_room() {
            return StoreResult::NoMemory;
        }
        let Some(loc) = self.alloc(len, Queue::Small) else {
            return StoreResult::NoMemory;
        };
        let m = segment::Meta {
            flags,
            exptime,
            cas: self.new_cas(),
            atime: self.now,
            key_binary,
        };
        let dst = &mut self.item_mut(loc)[..len];
        let mut p = segment::write_header(dst, key, vlen, &m);
        dst[0] |= bits;
        for part in parts {
            dst[p..p + part.len()].copy_from_slice(part);
            p += part.len();
        }
        self.link(key, loc, len, prior);
        self.hint_expiry(exptime);
        self.counters.incr(Stat::TotalItems);
        StoreResult::Stored
    }

    /// Points `key` at its new item at `loc`, retiring any older version: its index entry
    /// is repointed (no tombstone left behind), found from `prior` when the index has not
    /// moved it since, else by a probe.
    fn link(&mut self, key: &[u8], loc: Loc, len: usize, prior: Prior) {
        // The new item is not indexed yet: what the key finds is an older version.
        let find = |s: &Self, h: u64| s.find_key(h, key);
        let (h, found) = match prior {
            // Between a lookup and its write the index can only lose entries (eviction)
            // or move them (a rebuild): a key that was absent still is.
            Prior::Absent { hash } => {
                debug_assert!(find(self, hash).is_none());
                (hash, None)
            }
            Prior::At {
                hash,
                slot,
                loc: was,
            } if self.index.loc_at(slot) == Some(was) => {
                debug_assert_eq!(find(self, hash), Some((slot, was)));
                (hash, Some((slot, was)))
            }
            Prior::At { hash, .. } => (hash, find(self, hash)),
            Prior::Unknown => {
                let h = self.hash(key);
                (h, find(self, h))
            }
        };
        match found {
            Some((slot, old)) => {
                debug_assert_ne!(old, loc);
                let hdr = segment::read_header(self.item(old));
                self.retire(old, &hdr);
                self.index.relocate(slot, loc);
            }
            None => self.index.insert(h, loc),
        }
        let seg = self.seg_mut(loc.seg);
        seg.live_items += 1;
        seg.live_bytes += len;
        self.live_bytes += len;
        self.counters.add(Stat::CurrItems, 1);
        self.counters.add(Stat::Bytes, len as u64);
    }

    /// Rebuilds the index before it gets too full, evicting segments to pay for the growth.
    fn make_index_room(&mut self) -> bool {
        if !self.index.needs_rebuild() {
            return true;
        }
        let grow = self
            .index
            .rebuild_bytes()
            .saturating_sub(self.index.bytes());
        while self.mem_used() + grow > self.mem_limit {
            if !self.evict || !self.evict_one() {
                return false;
            }
            if !self.index.needs_rebuild() {
                return true;
            }
        }
        let items = self.index.rebuild_size();
        let mut index = std::mem::replace(&mut self.index, Index::with_capacity(0));
        index.rebuild(items, |loc| self.hash(self.key_at(loc)));
        self.index = index;
        self.counters.set(Stat::StoreMemory, self.mem_used() as u64);
        true
    }

    fn head(&mut self, q: Queue) -> &mut Option<u32> {
        match q {
            Queue::Small => &mut self.small_head,
            Queue::Main => &mut self.main_head,
        }
    }

    /// Reserves `len` bytes at the head of queue `q`, evicting if it must.
    fn alloc(&mut self, len: usize, q: Queue) -> Option<Loc> {
        // Every eviction frees a segment or decrements the frequency of all it keeps, so
        // a few passes over the segments always make room.
        let mut budget = 4 * (self.seg_count + 2);
        loop {
            if let Some(id) = *self.head(q) {
                let seg_size = self.seg_size;
                let seg = self.seg_mut(id);
                if seg.used + len <= seg_size {
                    let off = seg.used as u32;
                    seg.used += len;
                    return Some(Loc { seg: id, off });
                }
                self.close_head(q);
            }
            // Below the limit, reuse mostly-dead segments before mapping fresh memory.
            if self.live_bytes * 2 < self.written_bytes() && self.compact_one() {
                continue;
            }
            if let Some(id) = self.new_segment(q) {
                *self.head(q) = Some(id);
                continue;
            }
            if !self.evict || budget == 0 || !self.evict_one() {
                return None;
            }
            self.wants_headroom = true;
            budget -= 1;
        }
    }

    fn close_head(&mut self, q: Queue) {
        if let Some(id) = self.head(q).take() {
            match q {
                Queue::Small => self.small.push_back(id),
                Queue::Main => self.main.push_back(id),
            }
        }
    }

    /// Maps a new segment if the budget allows.
    fn new_segment(&mut self, q: Queue) -> Option<u32> {
        if self.mem_used() + self.seg_size > self.mem_limit {
            return None;
        }
        let id = self.free_ids.pop()?;
        self.epochs += 1;
        self.segs[id as usize] = Some(Seg {
            epoch: self.epochs,
            used: 0,
            live_items: 0,
            live_bytes: 0,
            queue: q,
        });
        self.seg_count += 1;
        self.counters.set(Stat::StoreMemory, self.mem_used() as u64);
        Some(id)
    }

    /// Frees a segment whose items are gone. `release` gives its pages back to the kernel
    /// (the pager's frees, so memory of expired items returns); eviction and compaction
    /// free a segment only to reuse it at once, and keep its pages.
    fn free_segment(&mut self, id: u32, release: bool) {
        debug_assert_eq!(self.seg(id).live_items, 0);
        if release {
            let at = id as usize * self.seg_size;
            self.arena.release(at..at + self.seg_size);
        }
        self.segs[id as usize] = None;
        self.free_ids.push(id);
        self.seg_count -= 1;
        self.counters.set(Stat::StoreMemory, self.mem_used() as u64);
    }

    /// Walks segment `id` and compacts what stays to its front, fixing the index.
    /// Eviction (`evicting` names the queue it leaves) keeps only items read since they
    /// were last considered; compaction (`None`) keeps every live item. Expired and
    /// flushed items go either way. Returns the bytes kept; `self.moved` lists where.
    fn rewrite(&mut self, id: u32, evicting: Option<Queue>) -> usize {
        // The latest time an operation brought: eviction runs inside one.
        let now = self.now;
        let used = self.seg(id).used;
        let mut off = 0;
        let mut write = 0;
        self.moved.clear();
        while off < used {
            let loc = Loc {
                seg: id,
                off: off as u32,
            };
            let hdr = segment::read_header(self.item(loc));
            let len = hdr.total_len();
            if hdr.info & DEAD == 0 {
                let expired = self.is_dead(&hdr, now).is_some();
                let keep = !expired && (evicting.is_none() || hdr.freq() > 0);
                let slot = self.slot_of(loc);
                if !keep {
                    if expired {
                        self.reclaim(slot, loc, &hdr);
                    } else {
                        self.unlink(slot, loc, &hdr);
                        self.counters.incr(Stat::Evictions);
                        if hdr.info & FETCHED == 0 {
                            self.counters.incr(Stat::EvictedUnfetched);
                        }
                    }
                } else {
                    // Promotion from small resets the frequency; survival in main costs one.
                    let f = match evicting {
                        Some(Queue::Small) => 0,
                        Some(Queue::Main) => hdr.freq() - 1,
                        None => hdr.freq(),
                    };
                    let bytes = self.seg_bytes_mut(id);
                    bytes[off] = (bytes[off] & !FREQ_MASK) | f;
                    if write != off {
                        bytes.copy_within(off..off + len, write);
                    }
                    let new = Loc {
                        seg: id,
                        off: write as u32,
                    };
                    self.index.relocate(slot, new);
                    self.moved.push(new);
                    write += len;
                }
            }
            off += len;
        }
        self.epochs += 1;
        let epoch = self.epochs;
        let seg = self.seg_mut(id);
        seg.used = write;
        seg.epoch = epoch;
        write
    }

    /// Bytes written into segments, live or dead.
    fn written_bytes(&self) -> usize {
        self.segs.iter().flatten().map(|s| s.used).sum()
    }

    /// Compacts the oldest mostly-dead closed segment in place and makes it its queue's
    /// head, so overwrites reuse memory instead of mapping fresh (zeroed) pages while the
    /// store is below its limit. False if no segment is worth it.
    fn compact_one(&mut self) -> bool {
        let pick = |store: &Store, q: &VecDeque<u32>| {
            q.iter().take(16).position(|&id| {
                let s = store.seg(id);
                s.live_bytes * 2 < s.used && !store.pinned(id)
            })
        };
        let (queue, pos) = if let Some(p) = pick(self, &self.small) {
            (Queue::Small, p)
        } else if let Some(p) = pick(self, &self.main) {
            (Queue::Main, p)
        } else {
            return false;
        };
        let id = match queue {
            Queue::Small => self.small.remove(pos),
            Queue::Main => self.main.remove(pos),
        }
        .expect("picked");
        self.counters.incr(Stat::SegmentsCompacted);
        if self.rewrite(id, None) == 0 {
            self.free_segment(id, false);
        } else {
            self.close_head(queue);
            *self.head(queue) = Some(id);
        }
        true
    }

    /// Evicts one segment (S3-FIFO); false if there is none to evict.
    fn evict_one(&mut self) -> bool {
        let Some(id) = self.pick_victim() else {
            return false;
        };
        self.counters.incr(Stat::SegmentsEvicted);
        let from = self.seg(id).queue;
        let kept = self.rewrite(id, Some(from));
        if kept == 0 {
            self.free_segment(id, false);
            return true;
        }
        // Survivors: into the main head if they fit, else this segment becomes the head.
        let fits = self
            .main_head
            .map(|h| self.seg(h).used + kept <= self.seg_size)
            .unwrap_or(false);
        if fits {
            let head = self.main_head.expect("checked");
            let at = self.seg(head).used;
            let seg_size = self.seg_size;
            let (lo, hi) = (id.min(head) as usize, id.max(head) as usize);
            let (a, b) = self.arena.bytes_mut().split_at_mut(hi * seg_size);
            let (low, high) = (&mut a[lo * seg_size..][..seg_size], &mut b[..seg_size]);
            let (src_bytes, dst_bytes) = if id < head { (low, high) } else { (high, low) };
            dst_bytes[at..at + kept].copy_from_slice(&src_bytes[..kept]);
            let (src, dst) = self.two_segs(id, head);
            let live = src.live_items;
            let live_bytes = src.live_bytes;
            dst.used += kept;
            dst.live_items += live;
            dst.live_bytes += live_bytes;
            src.live_items = 0;
            src.live_bytes = 0;
            for i in 0..self.moved.len() {
                let old = self.moved[i];
                let new = Loc {
                    seg: head,
                    off: (at + old.off as usize) as u32,
                };
                let slot = self.slot_of(old);
                self.index.relocate(slot, new);
            }
            self.free_segment(id, false);
        } else {
            self.close_head(Queue::Main);
            let seg = self.seg_mut(id);
            seg.queue = Queue::Main;
            self.main_head = Some(id);
        }
        true
    }

    /// Takes S3-FIFO's next victim out of its queue: the oldest small segment while the
    /// small queue holds its share, else the oldest main one, else a head. A pinned segment
    /// is passed over and keeps its place.
    fn pick_victim(&mut self) -> Option<u32> {
        let small_target = (self.seg_count / 10).max(1);
        let small_first =
            (self.small.len() >= small_target || self.main.is_empty()) && !self.small.is_empty();
        let order = if small_first {
            [Queue::Small, Queue::Main]
        } else {
            [Queue::Main, Queue::Small]
        };
        for q in order {
            let list = match q {
                Queue::Small => &self.small,
                Queue::Main => &self.main,
            };
            if let Some(pos) = list.iter().position(|&id| !self.pinned(id)) {
                return match q {
                    Queue::Small => self.small.remove(pos),
                    Queue::Main => self.main.remove(pos),
                };
            }
        }
        for q in [Queue::Small, Queue::Main] {
            if let Some(id) = *self.head(q) {
                if !self.pinned(id) {
                    return self.head(q).take();
                }
            }
        }
        None
    }

    /// Two distinct segments, mutably.
    fn two_segs(&mut self, a: u32, b: u32) -> (&mut Seg, &mut Seg) {
        assert_ne!(a, b);
        let (a, b) = (a as usize, b as usize);
        if a < b {
            let (lo, hi) = self.segs.split_at_mut(b);
            (lo[a].as_mut().unwrap(), hi[0].as_mut().unwrap())
        } else {
            let (lo, hi) = self.segs.split_at_mut(a);
            (hi[0].as_mut().unwrap(), lo[b].as_mut().unwrap())
        }
    }

    /// The index slot of the item at `loc` (which must be indexed).
    fn slot_of(&self, loc: Loc) -> usize {
        let h = self.hash(self.key_at(loc));
        self.index
            .find(h, |l| l == loc)
            .expect("a live item is indexed")
            .0
    }

    /// `incr`/`decr`, as memcached's `do_add_delta`: the value must parse as an unsigned
    /// decimal (`strtoull`, trailing whitespace allowed); incr wraps at 2^64, decr stops at 0.
    /// A result no longer than the old value is written in place, padded with spaces.
    pub fn arith(&mut self, key: &[u8], incr: bool, delta: u64, now: u32) -> ArithResult {
        let Ok((_, loc, hdr)) = self.lookup(key, now) else {
            return ArithResult::NotFound;
        };
        if hdr.vlen == 0 {
            return ArithResult::NonNumeric;
        }
        let src = self.item(loc);
        let value = &src[hdr.value_at()..hdr.value_at() + hdr.vlen];
        // memcached parses the value in place, where its CRLF follows it.
        let mut probe = [0u8; 32];
        let current = if value.len() + 2 <= probe.len() {
            probe[..value.len()].copy_from_slice(value);
            probe[value.len()..value.len() + 2].copy_from_slice(b"\r\n");
            strtoull(&probe[..value.len() + 2])
        } else {
            let mut v = value.to_vec();
            v.extend_from_slice(b"\r\n");
            strtoull(&v)
        };
        let Some(current) = current else {
            return ArithResult::NonNumeric;
        };
        let result = if incr {
            current.wrapping_add(delta)
        } else {
            current.saturating_sub(delta)
        };
        let mut digits = Vec::with_capacity(20);
        push_u64(&mut digits, result);
        // In place only when no reply holds the value (memcached: `refcount == 2`); else a
        // new item of the number's length.
        if digits.len() <= hdr.vlen && !self.pinned(loc.seg) {
            digits.resize(hdr.vlen, b' ');
            let cas = self.new_cas();
            let at = hdr.value_at();
            let dst = self.item_mut(loc);
            dst[at..at + digits.len()].copy_from_slice(&digits);
            segment::set_cas(dst, cas);
        } else if self.write(key, hdr.flags, hdr.exptime, &[&digits]) != StoreResult::Stored {
            return ArithResult::NoMemory;
        }
        ArithResult::Value(result)
    }

    /// `flush_all [delay]`: `at` 0 invalidates everything now, otherwise at unix time `at`.
    /// O(1): items older than the flush are invisible at once and reclaimed by the pager.
    pub fn flush_all(&mut self, at: u32, now: u32) {
        if at == 0 || at <= now {
            self.flush_at = None;
            self.flush_cas = self.next_cas;
            self.hint_expiry(now.max(1));
        } else {
            self.flush_at = Some(at);
            self.hint_expiry(at);
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
        PagerStep {
            reclaimed,
            pass_done: false,
            next_expiry: self.pager_next,
        }
    }

    /// Rebuilds a mostly empty index smaller, so memory freed by expiry comes back.
    fn shrink_index(&mut self) {
        let target = self.index.rebuild_bytes().max(self.base_index_bytes);
        if self.index.bytes() > 4 * target {
            let items = self.index.rebuild_size().max(8);
            let mut index = std::mem::replace(&mut self.index, Index::with_capacity(0));
            index.rebuild(items, |loc| self.hash(self.key_at(loc)));
            self.index = index;
            self.counters.set(Stat::StoreMemory, self.mem_used() as u64);
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

/// Starts loading what lookups of keys about to be used will touch, while the connection
/// goes on parsing: each key's index bucket at once, then, `PREFETCH_LAG` keys later (or
/// when it is dropped), the item headers that bucket points to with the key's tag. Parsing
/// the requests in between hides the bucket's latency, and the items arrive while earlier
/// requests run. Each key is hashed once; nothing in the store changes.
pub struct Prefetch<'s> {
    store: &'s Store,
    /// Hashes of the last keys whose buckets were loaded, by `n % PREFETCH_LAG`.
    ring: [u64; PREFETCH_LAG],
    n: usize,
}

impl Prefetch<'_> {
    /// Starts loading `key`'s bucket, and the items of the key `PREFETCH_LAG` before it.
    /// Returns `key`'s hash, for [`Store::get_hashed`].
    pub fn key(&mut self, key: &[u8]) -> u64 {
        let h = key_hash(key);
        self.hashed(h);
        h
    }

    /// [`Prefetch::key`] for a key whose hash ([`key_hash`]) is known.
    pub fn hashed(&mut self, h: u64) {
        self.store.index.prefetch(h);
        let i = self.n % PREFETCH_LAG;
        if self.n >= PREFETCH_LAG {
            self.store.prefetch_item_of(self.ring[i]);
        }
        self.ring[i] = h;
        self.n += 1;
    }
}

impl Drop for Prefetch<'_> {
    /// Loads the items of the keys whose buckets are loaded but not yet read.
    fn drop(&mut self) {
        for k in self.n.saturating_sub(PREFETCH_LAG)..self.n {
            self.store.prefetch_item_of(self.ring[k % PREFETCH_LAG]);
        }
    }
}

/// A prefetch hint for the cache line at `p`.
#[inline(always)]
pub fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching never faults and has no architectural effect.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Prefetch hints for every cache line of `b`: memory another core wrote (a forwarded batch)
/// then load in parallel rather than one miss after another as a walk reaches each line.
#[inline]
pub fn prefetch_slice<T>(b: &[T]) {
    let (p, len) = (b.as_ptr().cast::<u8>(), std::mem::size_of_val(b));
    let mut off = 0;
    while off < len {
        prefetch(p.wrapping_add(off));
        off += 64;
    }
    if len > 0 {
        // The last line, when `b` does not start on a line boundary.
        prefetch(p.wrapping_add(len - 1));
    }
}

#[cfg(test)]
mod tests;
