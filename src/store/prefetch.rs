//! Prefetching: loading the index buckets and items that lookups are about to touch while
//! the connection goes on parsing.

use super::index::Loc;
use super::key_hash;
use super::Store;

/// How many keys a [`Prefetch`] lets pass between loading a key's index bucket and reading
/// that bucket to load its item: time for the bucket to arrive.
const PREFETCH_LAG: usize = 8;

impl Store {
    /// A prefetcher for keys about to be looked up, fed as they are parsed (see
    /// [`Prefetch`]).
    pub fn prefetcher(&self) -> Prefetch<'_> {
        Prefetch {
            store: self,
            ring: [0; PREFETCH_LAG],
            n: 0,
        }
    }

    /// Starts loading the home bucket of a key of hash `h` ([`key_hash`]), for an insert
    /// or lookup soon after.
    pub fn prefetch_hash(&self, h: u64) {
        self.index.prefetch(h);
    }

    /// Starts loading the items in the slots of `h`'s home bucket carrying its tag.
    fn prefetch_item_of(&self, h: u64) {
        self.index.candidates(h, |loc| {
            if self.segs[loc.seg as usize].is_some() {
                self.prefetch_item(loc);
            }
        });
    }

    /// Starts loading the item at `loc` (in a live segment): the cache line it starts in,
    /// and the next one when it starts more than 16 bytes in.
    pub(super) fn prefetch_item(&self, loc: Loc) {
        let p = self.item(loc).as_ptr();
        prefetch(p);
        // An item that starts late in its line spills its key and value into the next one.
        if (p as usize) & 63 > 16 {
            prefetch(p.wrapping_add(64));
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
