//! The reads of warm-up: a shard's own small io_uring and a few read buffers it keeps from
//! chunk to chunk and file to file.
//!
//! glommio's DMA reads allocate each read's buffer and free it once read: fresh memory
//! every time, which the kernel faults in and zeroes while it pins the pages for the read
//! (inside the submission), and unmaps afterwards under the process's mmap lock, which the
//! other shard's page faults take too. Here the buffers are allocated once per warm-up and
//! stay mapped, and a read reaches the kernel when it is queued rather than at the
//! executor's next pass through its rings.
//!
//! Waiting for a read blocks the shard's thread: warm-up runs before the shard listens,
//! and nothing else on its executor has work meanwhile (`shard::start`). Where a ring
//! cannot be made (io_uring refused), or would count against `ulimit -l`
//! (`stream::Reader::new`), warm-up reads through glommio instead.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use io_uring::{opcode, types, IoUring};

/// O_DIRECT's alignment of buffers, positions and lengths (the largest a device asks).
const ALIGN: usize = 4096;

/// One read buffer's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// Neither read into nor held.
    Free,
    /// A read into it is in the kernel.
    Reading,
    /// Its read completed with this result (bytes, or a negated errno).
    Read(i32),
    /// The caller holds its bytes.
    Held,
}

/// A ring and `slots` buffers of `chunk` bytes, for reading files a chunk at a time.
pub struct Ring {
    uring: IoUring,
    /// The buffers' memory, owned here and used only through `start`.
    mem: Vec<u8>,
    /// Buffer 0's first byte in `mem`, at a multiple of [`ALIGN`]; buffer `i` is `chunk`
    /// bytes from `start + i * chunk`. The kernel writes through it, not through `mem`.
    start: *mut u8,
    chunk: usize,
    slots: Vec<Slot>,
    in_flight: usize,
    /// A wait failed with reads still in flight: the buffers are never freed.
    stuck: bool,
}

impl Ring {
    /// A ring for `slots` reads in flight and buffers of `chunk` bytes (a multiple of
    /// 4 KiB); an error if the kernel gives no ring.
    pub fn new(slots: usize, chunk: usize) -> io::Result<Ring> {
        debug_assert!(chunk.is_multiple_of(ALIGN) && slots > 0);
        let entries = slots.next_power_of_two() as u32;
        // Completions wait for the next entry into the kernel rather than interrupting
        // the loading thread (kernels before 5.19 lack the flag).
        let uring = IoUring::builder()
            .setup_coop_taskrun()
            .build(entries)
            .or_else(|_| IoUring::new(entries))?;
        let mut mem = vec![0u8; slots * chunk + ALIGN];
        let base = mem.as_ptr().align_offset(ALIGN);
        let start = mem[base..].as_mut_ptr();
        Ok(Ring {
            uring,
            mem,
            start,
            chunk,
            slots: vec![Slot::Free; slots],
            in_flight: 0,
            stuck: false,
        })
    }

    pub fn chunk(&self) -> usize {
        self.chunk
    }

    /// Opens `path` for reading, with O_DIRECT where the file system has it.
    pub fn open(path: &Path) -> io::Result<File> {
        let direct = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECT)
            .open(path);
        match direct {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => File::open(path),
            r => r,
        }
    }

    /// A buffer neither read into nor held, if any.
    pub fn free_slot(&self) -> Option<usize> {
        self.slots.iter().position(|s| *s == Slot::Free)
    }

    /// Starts reading `len` bytes (rounded up to a block) of `file` at `pos` (a multiple
    /// of 4 KiB) into free buffer `slot`; the kernel sees it at [`Ring::submit`].
    pub fn queue(&mut self, file: &File, slot: usize, pos: u64, len: usize) -> io::Result<()> {
        assert_eq!(self.slots[slot], Slot::Free);
        let len = len.div_ceil(ALIGN) * ALIGN;
        assert!(len <= self.chunk);
        let buf = self.start.wrapping_add(slot * self.chunk);
        let read = opcode::Read::new(types::Fd(file.as_raw_fd()), buf, len as u32)
            .offset(pos)
            .build()
            .user_data(slot as u64);
        // SAFETY: the buffer stays allocated and untouched until the read's completion is
        // reaped: `mem` is freed only after `drain` (or never, when stuck), and a slot is
        // reused only once reaped and released.
        while unsafe { self.uring.submission().push(&read) }.is_err() {
            self.uring.submit()?;
        }
        self.slots[slot] = Slot::Reading;
        self.in_flight += 1;
        Ok(())
    }

    /// Hands the queued reads to the kernel.
    pub fn submit(&mut self) -> io::Result<()> {
        self.uring.submit().map(|_| ())
    }

    /// Waits for buffer `slot`'s read and holds it (its bytes are [`Ring::bytes`]) until
    /// [`Ring::release`]; returns how many bytes were read.
    pub fn take(&mut self, slot: usize) -> io::Result<usize> {
        loop {
            self.reap();
            if let Slot::Read(r) = self.slots[slot] {
                if r < 0 {
                    self.slots[slot] = Slot::Free;
                    return Err(io::Error::from_raw_os_error(-r));
                }
                self.slots[slot] = Slot::Held;
                return Ok((r as usize).min(self.chunk));
            }
            assert_eq!(
                self.slots[slot],
                Slot::Reading,
                "a buffer waited for unread"
            );
            self.wait()?;
        }
    }

    /// The first `n` bytes of held buffer `slot`.
    pub fn bytes(&self, slot: usize, n: usize) -> &[u8] {
        assert_eq!(self.slots[slot], Slot::Held);
        // SAFETY: inside `mem` (slot < slots, n ≤ chunk); the kernel is done with a held
        // buffer and starts on it again only after `release`, which takes `&mut self`
        // and so ends this borrow first.
        unsafe { std::slice::from_raw_parts(self.start.add(slot * self.chunk), n.min(self.chunk)) }
    }

    /// Gives back a held buffer for another read.
    pub fn release(&mut self, slot: usize) {
        debug_assert_eq!(self.slots[slot], Slot::Held);
        self.slots[slot] = Slot::Free;
    }

    /// Waits for every read in flight and frees every buffer (a file read to its end, or
    /// given up before it; nothing of it is held any more).
    pub fn drain(&mut self) {
        while self.in_flight > 0 {
            self.reap();
            if self.in_flight > 0 && self.wait().is_err() {
                self.stuck = true;
                return;
            }
        }
        self.slots.fill(Slot::Free);
    }

    /// Blocks until a completion arrives.
    fn wait(&mut self) -> io::Result<()> {
        match self.uring.submit_and_wait(1) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => Err(e),
            _ => Ok(()),
        }
    }

    /// Records the completions that have arrived.
    fn reap(&mut self) {
        for cqe in self.uring.completion() {
            let slot = cqe.user_data() as usize;
            debug_assert_eq!(self.slots[slot], Slot::Reading);
            self.slots[slot] = Slot::Read(cqe.result());
            self.in_flight -= 1;
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        self.drain();
        if self.stuck {
            // The kernel may still write into them: leaked rather than freed.
            std::mem::forget(std::mem::take(&mut self.mem));
            log::warn!(
                "warm-up: reads still in flight could not be waited for; their buffers are kept"
            );
        }
    }
}
