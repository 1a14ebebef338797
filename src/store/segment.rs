//! Segments: fixed-size blocks of memory that items are appended to, and the item layout.
//!
//! A segment is one anonymous `mmap`, so freeing it gives its pages back to the kernel at
//! once (resident memory follows the store's accounting, whatever the mix of value sizes: there
//! are no size classes to calcify). Items are packed back to back with no padding:
//!
//! ```text
//!  info u8 │ klen u8 │ vlen varint │ cas u48 │ atime u32 │ [exptime u32] │ [flags u32] │ key │ value
//!  info: bits 0-1 access frequency (0-3), 2 has flags, 3 dead, 4 fetched, 5 has exptime,
//!        6 stale (meta invalidation), 7 win token sent (meta recache)
//!  cas:   bits 0-46 the unique, bit 47 the key came base64-encoded (meta `b`) and is shown
//!         that way
//!  atime: bits 0-30 the last access time (unix seconds, modulo 2^31); with bit 31 set, the
//!         field holds the exptime instead (see below)
//! ```
//!
//! An item written without an exptime that is later given one moves to a copy with the
//! field. Only when no memory can be had for the copy (a full store with eviction off) is
//! the exptime kept in the atime field instead: expiry stays exact, the access time is lost
//! (reported as the time of that change).
//!
//! That is 13 bytes of metadata for an item with flags 0, no expiry and a value under 128
//! bytes; an exptime or flags cost 4 bytes each. The exptime field is optional because
//! most caches set none: the 4 bytes it saves pay for the access time.

use std::ptr::NonNull;

pub const FREQ_MASK: u8 = 0b11;
pub const HAS_FLAGS: u8 = 1 << 2;
pub const DEAD: u8 = 1 << 3;
pub const FETCHED: u8 = 1 << 4;
pub const HAS_EXPTIME: u8 = 1 << 5;
/// Marked stale by a meta invalidation (`md I`, `ms I`): still served, flagged `X`.
pub const STALE: u8 = 1 << 6;
/// A meta `W` (recache win) token was handed out for this item.
pub const WIN_SENT: u8 = 1 << 7;
/// The bits a relocated copy keeps.
pub const KEPT_BITS: u8 = FREQ_MASK | FETCHED | STALE | WIN_SENT;
/// Bit 47 of the cas field: the key is binary (meta `b`).
const KEY_BINARY: u64 = 1 << 47;
/// Bit 31 of the atime field: it holds the exptime (31 bits) instead of the access time.
const EXP_IN_ATIME: u32 = 1 << 31;
/// The access time is kept modulo 2^31.
pub const ATIME_MASK: u32 = !EXP_IN_ATIME;

/// Largest CAS unique an item can carry (47 bits).
pub const CAS_MAX: u64 = (1 << 47) - 1;

/// One mmap'd block of zeroed memory, 2 MiB aligned and eligible for transparent huge
/// pages: a store's segments and its index live in blocks, so random lookups cost few TLB
/// misses. Pages become resident when written and go back with [`Block::release`].
pub struct Block {
    ptr: NonNull<u8>,
    len: usize,
    /// The whole mapping, alignment slack included, for `munmap`.
    map: *mut libc::c_void,
    map_len: usize,
}

const HUGE: usize = 2 << 20;

impl Block {
    /// Maps `len` bytes of zeroed anonymous memory.
    pub fn new(len: usize) -> Option<Block> {
        let len = len.max(1);
        let map_len = len + HUGE;
        // SAFETY: an anonymous private mapping; checked for failure below.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return None;
        }
        let aligned = (map as usize).next_multiple_of(HUGE);
        // SAFETY: `aligned .. aligned + len` lies inside the mapping; advice only.
        unsafe {
            libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
        }
        NonNull::new(aligned as *mut u8).map(|ptr| Block {
            ptr,
            len,
            map,
            map_len,
        })
    }

    /// Gives the pages of `range` back to the kernel; they read as zeroes afterwards.
    pub fn release(&mut self, range: std::ops::Range<usize>) {
        assert!(range.start <= range.end && range.end <= self.len);
        // SAFETY: MADV_DONTNEED on a subrange of this private anonymous mapping.
        unsafe {
            libc::madvise(
                self.ptr.as_ptr().add(range.start) as *mut libc::c_void,
                range.end - range.start,
                libc::MADV_DONTNEED,
            );
        }
    }

    /// Whether pages faulted from now on may be transparent huge pages (as [`Block::new`]
    /// maps it) or only 4 KiB pages. Pages already faulted stay as they are; the kernel's
    /// khugepaged merges 4 KiB pages into huge ones in the background once they are
    /// allowed again.
    pub fn huge_pages(&mut self, on: bool) {
        let advice = if on {
            libc::MADV_HUGEPAGE
        } else {
            libc::MADV_NOHUGEPAGE
        };
        // SAFETY: advice only, on exactly this block's range of its mapping.
        unsafe {
            libc::madvise(self.ptr.as_ptr() as *mut libc::c_void, self.len, advice);
        }
    }

    /// The first byte, for pointers that must not derive from a borrow of the block.
    pub fn base(&self) -> NonNull<u8> {
        self.ptr
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` bytes, readable, and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping made in `new`.
        unsafe { libc::munmap(self.map, self.map_len) };
    }
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Block({} bytes)", self.len)
    }
}

/// The decoded header of an item, and where its parts lie relative to its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub info: u8,
    /// 0 when the item has no exptime field.
    pub exptime: u32,
    pub cas: u64,
    /// Last access time, unix seconds modulo 2^31.
    pub atime: u32,
    /// The exptime is kept in the atime field (no memory was left to add its own).
    pub exp_in_atime: bool,
    pub key_binary: bool,
    pub flags: u32,
    /// Offset of the key from the item's start.
    pub key_at: usize,
    pub klen: usize,
    pub vlen: usize,
}

impl Header {
    pub fn value_at(&self) -> usize {
        self.key_at + self.klen
    }
    /// Total bytes the item occupies.
    pub fn total_len(&self) -> usize {
        self.key_at + self.klen + self.vlen
    }
    pub fn freq(&self) -> u8 {
        self.info & FREQ_MASK
    }
    /// Offset of the atime field from the item's start: the fields between it and the key
    /// are the optional exptime and flags.
    pub fn atime_at(&self) -> usize {
        self.key_at - 4 - optional_len(self.info)
    }
}

/// Whether two keys of the same length are equal. Keys are short: two overlapping 8-byte
/// compares cover 8 to 16 bytes without a call to `memcmp`.
#[inline]
pub fn same_key(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len();
    if (8..=16).contains(&n) && b.len() == n {
        let w = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap());
        w(a, 0) == w(b, 0) && w(a, n - 8) == w(b, n - 8)
    } else {
        a == b
    }
}

fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Bytes an item of this shape occupies.
pub fn item_len(klen: usize, vlen: usize, flags: u32, exptime: u32) -> usize {
    2 + varint_len(vlen)
        + 6
        + 4
        + if exptime != 0 { 4 } else { 0 }
        + if flags != 0 { 4 } else { 0 }
        + klen
        + vlen
}

/// The fields of a new item's header besides its key and value length.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    pub flags: u32,
    pub exptime: u32,
    pub cas: u64,
    pub atime: u32,
    pub key_binary: bool,
}

/// Writes an item's header and key at the start of `dst` (which holds at least
/// [`item_len`] bytes); the value goes at the returned offset.
pub fn write_header(dst: &mut [u8], key: &[u8], vlen: usize, m: &Meta) -> usize {
    debug_assert!(key.len() <= 255 && m.cas <= CAS_MAX);
    let mut p = 0;
    dst[p] =
        if m.flags != 0 { HAS_FLAGS } else { 0 } | if m.exptime != 0 { HAS_EXPTIME } else { 0 };
    dst[p + 1] = key.len() as u8;
    p += 2;
    let mut v = vlen;
    while v >= 0x80 {
        dst[p] = (v as u8) | 0x80;
        v >>= 7;
        p += 1;
    }
    dst[p] = v as u8;
    p += 1;
    let cas = m.cas | if m.key_binary { KEY_BINARY } else { 0 };
    dst[p..p + 6].copy_from_slice(&cas.to_le_bytes()[..6]);
    p += 6;
    dst[p..p + 4].copy_from_slice(&(m.atime & ATIME_MASK).to_le_bytes());
    p += 4;
    if m.exptime != 0 {
        dst[p..p + 4].copy_from_slice(&m.exptime.to_le_bytes());
        p += 4;
    }
    if m.flags != 0 {
        dst[p..p + 4].copy_from_slice(&m.flags.to_le_bytes());
        p += 4;
    }
    dst[p..p + key.len()].copy_from_slice(key);
    p + key.len()
}

/// Offset of the cas field from the item's start.
pub fn cas_at(src: &[u8]) -> usize {
    let mut p = 2;
    while src[p] & 0x80 != 0 {
        p += 1;
    }
    p + 1
}

/// Offset of the exptime field from the item's start (the item must have one).
pub fn exptime_at(src: &[u8]) -> usize {
    debug_assert!(src[0] & HAS_EXPTIME != 0);
    cas_at(src) + 10
}

/// Sets an item's access time in place (unless the field holds its exptime).
pub fn set_atime(src: &mut [u8], now: u32) {
    let at = cas_at(src) + 6;
    let old = u32::from_le_bytes(src[at..at + 4].try_into().unwrap());
    if old & EXP_IN_ATIME == 0 {
        src[at..at + 4].copy_from_slice(&(now & ATIME_MASK).to_le_bytes());
    }
}

/// Keeps the exptime of an item without an exptime field in its atime field (31 bits, so
/// at most 2^31 - 1), or with `exptime` 0 makes the field an access time (`now`) again.
pub fn set_exptime_in_atime(src: &mut [u8], exptime: u32, now: u32) {
    debug_assert!(src[0] & HAS_EXPTIME == 0);
    let at = cas_at(src) + 6;
    let v = if exptime == 0 {
        now & ATIME_MASK
    } else {
        exptime.min(ATIME_MASK) | EXP_IN_ATIME
    };
    src[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The key length of the item at the start of `src`, without decoding the rest.
pub fn key_len(src: &[u8]) -> usize {
    src[1] as usize
}

/// Offset of the key from the item's start, without decoding the rest of the header: a
/// lookup compares keys first and decodes only the item that matches.
#[inline]
pub fn key_offset(src: &[u8]) -> usize {
    cas_at(src) + 6 + 4 + optional_len(src[0])
}

/// Bytes the optional exptime and flags fields take, between the atime and the key.
fn optional_len(info: u8) -> usize {
    4 * ((info & HAS_EXPTIME != 0) as usize) + 4 * ((info & HAS_FLAGS != 0) as usize)
}

/// The most bytes a header takes: info, key length, a value length in up to 10 varint
/// bytes, CAS, atime, exptime and flags.
const HEADER_MAX: usize = 2 + 10 + 6 + 4 + 4 + 4;

/// Decodes the header of the item at the start of `src`.
#[inline(always)]
pub fn read_header(src: &[u8]) -> Header {
    match src.first_chunk::<HEADER_MAX>() {
        Some(h) => decode_header(h),
        // The item ends its segment and is shorter than the longest header.
        None => {
            let mut h = [0; HEADER_MAX];
            h[..src.len()].copy_from_slice(src);
            decode_header(&h)
        }
    }
}

/// [`read_header`] from a fixed-size prefix: every offset is bounded, so no read needs
/// its own bounds check (this runs on every lookup).
#[inline(always)]
fn decode_header(src: &[u8; HEADER_MAX]) -> Header {
    let info = src[0];
    let klen = src[1] as usize;
    let mut p = 2;
    let mut vlen = 0usize;
    let mut shift = 0;
    while p < 12 {
        let b = src[p];
        vlen |= ((b & 0x7f) as usize) << shift;
        p += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let mut cas = [0u8; 8];
    cas[..6].copy_from_slice(&src[p..p + 6]);
    let cas = u64::from_le_bytes(cas);
    p += 6;
    let mut atime = u32::from_le_bytes(src[p..p + 4].try_into().unwrap());
    p += 4;
    let mut exptime = 0;
    let mut exp_in_atime = false;
    if atime & EXP_IN_ATIME != 0 {
        exptime = atime & ATIME_MASK;
        atime = 0;
        exp_in_atime = true;
    }
    if info & HAS_EXPTIME != 0 {
        exptime = u32::from_le_bytes(src[p..p + 4].try_into().unwrap());
        p += 4;
    }
    let mut flags = 0;
    if info & HAS_FLAGS != 0 {
        flags = u32::from_le_bytes(src[p..p + 4].try_into().unwrap());
        p += 4;
    }
    Header {
        info,
        exptime,
        exp_in_atime,
        cas: cas & CAS_MAX,
        atime,
        key_binary: cas & KEY_BINARY != 0,
        flags,
        key_at: p,
        klen,
        vlen,
    }
}

/// Rewrites an item's CAS in place.
pub fn set_cas(src: &mut [u8], cas: u64) {
    let at = cas_at(src);
    let old = u64::from(src[at + 5]) << 40;
    let cas = (cas & CAS_MAX) | (old & KEY_BINARY);
    src[at..at + 6].copy_from_slice(&cas.to_le_bytes()[..6]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_agrees_with_slice_equality() {
        let a: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for n in 0..=40 {
            for flip in 0..n {
                let mut b = a[..n].to_vec();
                assert!(same_key(&a[..n], &b), "len {n}");
                b[flip] ^= 1;
                assert!(!same_key(&a[..n], &b), "len {n}, byte {flip} differs");
            }
        }
    }

    #[test]
    fn header_round_trip() {
        let mut buf = vec![0u8; 512];
        for (vlen, flags, exptime, kb) in [
            (0usize, 0u32, 0u32, false),
            (100, 0, 1234, true),
            (127, 7, 0, false),
            (128, 0, 1, true),
            (300_000, u32::MAX, u32::MAX, false),
        ] {
            let len = item_len(3, vlen, flags, exptime);
            if len > buf.len() {
                buf.resize(len, 0);
            }
            let m = Meta {
                flags,
                exptime,
                cas: CAS_MAX,
                atime: u32::MAX,
                key_binary: kb,
            };
            let at = write_header(&mut buf, b"key", vlen, &m);
            let h = read_header(&buf);
            assert_eq!(
                (
                    h.klen,
                    h.vlen,
                    h.flags,
                    h.exptime,
                    h.cas,
                    h.atime,
                    h.key_binary
                ),
                (3, vlen, flags, exptime, CAS_MAX, ATIME_MASK, kb)
            );
            assert_eq!(h.atime_at(), cas_at(&buf) + 6);
            assert_eq!(key_offset(&buf), h.key_at);
            set_atime(&mut buf, 77);
            assert_eq!(
                (read_header(&buf).atime, read_header(&buf).key_binary),
                (77, kb)
            );
            assert_eq!(h.value_at(), at);
            assert_eq!(h.total_len(), len);
            assert_eq!(&buf[h.key_at..h.key_at + 3], b"key");
            set_cas(&mut buf, 77);
            assert_eq!(read_header(&buf).cas, 77);
        }
        assert_eq!(item_len(16, 100, 0, 0), 13 + 116);
        assert_eq!(item_len(16, 100, 0, 5), 17 + 116);
    }

    #[test]
    fn blocks_are_zeroed_and_writable() {
        let mut b = Block::new(1 << 16).unwrap();
        assert!(b.bytes().iter().all(|&x| x == 0));
        b.bytes_mut()[100] = 7;
        assert_eq!(b.bytes()[100], 7);
    }
}
