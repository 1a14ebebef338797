//! A shard's provided buffers: the ring of buffers its network ring's recvs pick from.

use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types;

/// Bytes of one provided buffer: a recv completion carries at most this much.
pub const BUF_SIZE: usize = 16 << 10;

/// A shard's provided buffers: a buffer ring the kernel picks from, and the memory.
pub struct Buffers {
    pub(crate) ring: *mut types::BufRingEntry,
    layout: std::alloc::Layout,
    data: Box<[u8]>,
    count: u16,
    tail: u16,
}

impl Buffers {
    pub fn new(count: u16) -> Buffers {
        let layout = std::alloc::Layout::from_size_align(
            count as usize * std::mem::size_of::<types::BufRingEntry>(),
            4096,
        )
        .expect("a valid layout");
        // SAFETY: a non-zero size; zeroed memory is a valid empty ring.
        let ring = unsafe { std::alloc::alloc_zeroed(layout) } as *mut types::BufRingEntry;
        if ring.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        let mut b = Buffers {
            ring,
            layout,
            data: vec![0u8; count as usize * BUF_SIZE].into_boxed_slice(),
            count,
            tail: 0,
        };
        for bid in 0..count {
            b.give(bid);
        }
        b.publish();
        b
    }

    /// Puts buffer `bid` back on the ring (seen by the kernel at [`Buffers::publish`]).
    pub fn give(&mut self, bid: u16) {
        let i = (self.tail & (self.count - 1)) as usize;
        // SAFETY: `i` is within the ring's `count` entries.
        let e = unsafe { &mut *self.ring.add(i) };
        e.set_addr(self.data[bid as usize * BUF_SIZE..].as_ptr() as u64);
        e.set_len(BUF_SIZE as u32);
        e.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    pub fn publish(&self) {
        // SAFETY: the ring's tail field, shared with the kernel, written atomically.
        unsafe {
            let tail = types::BufRingEntry::tail(self.ring) as *const AtomicU16;
            (*tail).store(self.tail, Ordering::Release);
        }
    }

    pub fn bytes(&self, bid: u16, len: usize) -> &[u8] {
        &self.data[bid as usize * BUF_SIZE..][..len]
    }
}

impl Drop for Buffers {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; the ring is gone (dropped first).
        unsafe { std::alloc::dealloc(self.ring as *mut u8, self.layout) };
    }
}
