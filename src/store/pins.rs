//! Pinned values: store memory that a reply holds after the call that read it.
//!
//! A reply that sends a large value from the store's memory instead of copying it must be
//! able to wait (for the client to read, for a peer shard's replies) while the store goes
//! on serving writes that compact, evict or rewrite segments. memcached keeps such items
//! alive with a reference count (`refcount`) and never reuses or rewrites an item while a
//! connection holds it; this is the same rule at segment granularity.
//!
//! The only way to hold store bytes past the borrow that read them is a [`PinnedValue`],
//! made from a [`StoreValue`] (which only the store hands out). While a segment has a pin
//! the store does not compact, evict, empty or free it, and writes nothing into its written
//! bytes but item headers (access bits, expiry, CAS): never a value. So a pinned value's
//! bytes are the value as it was when it was read, for as long as the pin lives, whatever
//! requests run meanwhile, on any protocol. Dropping the pin gives the segment back.
//!
//! Counts are atomic because a value read for a peer shard's connection is pinned on its
//! owner and released on the peer's thread. A shard pins at most a quarter of its segments
//! (at least none), so eviction always has segments to choose from; past that, a value is
//! copied instead ([`StoreValue::pin`] says no), unless the copies are over their budget
//! ([`StoreValue::pin_past_limit`]).

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

/// A store's pin counts, one per segment slot.
pub struct Pins {
    counts: Box<[AtomicU32]>,
    /// Segments with at least one pin.
    pinned: AtomicUsize,
    /// Most segments pinned at once (a quarter of the segments the limit allows).
    limit: AtomicUsize,
    /// The arena's first byte: pinned pointers are derived from it, not from a borrow.
    base: NonNull<u8>,
}

// SAFETY: `base` is only used to compute addresses of bytes the pin rules keep unchanged;
// the counts are atomic.
unsafe impl Send for Pins {}
// SAFETY: as above.
unsafe impl Sync for Pins {}

impl std::fmt::Debug for Pins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pins")
            .field("pinned", &self.pinned.load(Ordering::Relaxed))
            .field("limit", &self.limit.load(Ordering::Relaxed))
            .finish()
    }
}

impl Pins {
    /// Pin counts for `segments` segment slots of an arena starting at `base`.
    pub(crate) fn new(segments: usize, base: NonNull<u8>) -> Pins {
        Pins {
            counts: (0..segments).map(|_| AtomicU32::new(0)).collect(),
            pinned: AtomicUsize::new(0),
            limit: AtomicUsize::new(segments / 4),
            base,
        }
    }

    /// Sets the most segments pinned at once (the store's limit changed).
    pub(crate) fn set_limit(&self, segments: usize) {
        self.limit.store(segments, Ordering::Relaxed);
    }

    /// Whether segment `seg` has a pin. Acquire: the reads made through a pin released
    /// on another thread happen before the store next writes the segment.
    #[inline]
    pub(crate) fn is_pinned(&self, seg: u32) -> bool {
        self.counts[seg as usize].load(Ordering::Acquire) != 0
    }

    /// Segments pinned now.
    pub fn pinned_segments(&self) -> usize {
        self.pinned.load(Ordering::Relaxed)
    }

    /// Whether any segment is pinned.
    pub(crate) fn any(&self) -> bool {
        self.pinned_segments() != 0
    }

    /// Adds a pin to `seg`, unless that would pin one segment more than the limit (and
    /// `force` is off). Only the owning shard's thread pins, so the check and the increment
    /// cannot race with another pin; a concurrent unpin only makes room.
    fn pin(&self, seg: u32, force: bool) -> bool {
        let c = &self.counts[seg as usize];
        if c.load(Ordering::Relaxed) == 0 && !force {
            if self.pinned.load(Ordering::Relaxed) >= self.limit.load(Ordering::Relaxed) {
                return false;
            }
            if c.fetch_add(1, Ordering::Relaxed) == 0 {
                self.pinned.fetch_add(1, Ordering::Relaxed);
            }
            return true;
        }
        if c.fetch_add(1, Ordering::Relaxed) == 0 {
            // Unpinned by another thread between the load and the add.
            self.pinned.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    fn unpin(&self, seg: u32) {
        if self.counts[seg as usize].fetch_sub(1, Ordering::Release) == 1 {
            self.pinned.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// A live item's value as the store holds it: borrowed from the store, so nothing can
/// change it while this exists, and pinnable to outlive the borrow.
#[derive(Clone, Copy)]
pub struct StoreValue<'a> {
    bytes: &'a [u8],
    seg: u32,
    pins: &'a Arc<Pins>,
}

impl<'a> StoreValue<'a> {
    pub(crate) fn new(bytes: &'a [u8], seg: u32, pins: &'a Arc<Pins>) -> StoreValue<'a> {
        StoreValue { bytes, seg, pins }
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Pins the value's segment; `None` when the store has pinned as many segments as it
    /// may (the caller copies the value instead).
    pub fn pin(&self) -> Option<PinnedValue> {
        self.pin_with(false)
    }

    /// Pins the value's segment past the limit. For a caller that may not copy (its
    /// budget for copies is used up): the pin then holds memory inside `-m`, and writes
    /// that find nothing to evict are refused, as memcached refuses them when every item
    /// is referenced.
    pub fn pin_past_limit(&self) -> PinnedValue {
        self.pin_with(true).expect("a forced pin")
    }

    fn pin_with(&self, force: bool) -> Option<PinnedValue> {
        if !self.pins.pin(self.seg, force) {
            return None;
        }
        let off = self.bytes.as_ptr() as usize - self.pins.base.as_ptr() as usize;
        // SAFETY: the value lies inside the arena that starts at `base`.
        let ptr = unsafe { NonNull::new_unchecked(self.pins.base.as_ptr().add(off)) };
        Some(PinnedValue {
            pins: Arc::clone(self.pins),
            seg: self.seg,
            ptr,
            len: self.bytes.len(),
        })
    }
}

impl std::fmt::Debug for StoreValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreValue")
            .field("len", &self.bytes.len())
            .field("seg", &self.seg)
            .finish()
    }
}

/// A value whose segment is pinned: its bytes stay as they were read until this is
/// dropped (see the module documentation).
pub struct PinnedValue {
    pins: Arc<Pins>,
    seg: u32,
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the bytes are never written while pinned, and the pin count is atomic: a pinned
// value may be read and dropped on another shard's thread.
unsafe impl Send for PinnedValue {}

impl PinnedValue {
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the store neither moves, frees nor writes a pinned segment's values, and
        // keeps its arena mapped while any pin lives (`Store`'s `Drop`).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for PinnedValue {
    fn drop(&mut self) {
        self.pins.unpin(self.seg);
    }
}

impl std::fmt::Debug for PinnedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinnedValue")
            .field("len", &self.len)
            .field("seg", &self.seg)
            .finish()
    }
}
