//! Setting up a shard's network ring, and what the kernel offers it: the ring's flags and
//! provided buffers, the recv it arms, and the start-up probe.

use std::io;
use std::os::fd::RawFd;

use io_uring::{cqueue, opcode, squeue, types, IoUring};

use crate::shard::provided::{Buffers, BUF_SIZE};

/// `IORING_RECVSEND_POLL_FIRST` and `IORING_RECV_MULTISHOT` (the crate keeps its constants
/// private).
const RECVSEND_POLL_FIRST: u16 = 1;
const RECV_MULTISHOT: u16 = 2;
/// `IORING_SEND_VECTORIZED` (Linux 6.17): a send's buffer is an iovec array.
pub(crate) const SEND_VECTORIZED: u16 = 1 << 5;

/// What the kernel offers beyond what a shard's ring needs (Linux 6.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offers {
    /// A multishot recv capped at a byte count (`capped_multishot_works`).
    pub capped_multishot: bool,
    /// A send of an iovec array (`vectored_send_works`).
    pub vectored_send: bool,
}

/// Sets up a ring as the shards do, with a provided-buffer ring, and drops it: start-up
/// asks this once, so an unfit kernel fails with a sentence rather than in every shard.
/// Returns what else the kernel offers, asked here once, before the shards' rings take the
/// locked memory.
pub fn probe() -> io::Result<Offers> {
    let (ring, bufs) = setup(2, 16)?;
    drop(ring);
    drop(bufs);
    Ok(Offers {
        capped_multishot: capped_multishot_works(),
        vectored_send: vectored_send_works(),
    })
}

/// Whether this kernel sends an iovec array with a plain send (`IORING_SEND_VECTORIZED`,
/// Linux 6.17; older kernels refuse the flag): two pieces sent on a socket pair must
/// arrive as both.
fn vectored_send_works() -> bool {
    on_socket_pair(|ring, _, [near, far]| {
        static PIECES: [&[u8]; 2] = [b"ab", b"cd"];
        let iov = Box::new(PIECES.map(|p| libc::iovec {
            iov_base: p.as_ptr() as *mut libc::c_void,
            iov_len: p.len(),
        }));
        let e = opcode::Send::new(types::Fd(far), iov.as_ptr().cast(), iov.len() as u32)
            .ioprio(SEND_VECTORIZED)
            .flags(libc::MSG_NOSIGNAL)
            .build()
            .user_data(7);
        // SAFETY: the bytes are static and the iovecs live until the send completes.
        let Some(c) = (unsafe { push_and_wait(ring, &e) }) else {
            // Not completed: the kernel may still read the iovecs, so they are never freed.
            Box::leak(iov);
            return false;
        };
        let mut got = [0u8; 8];
        // SAFETY: a read of at most 8 bytes into `got`, nonblocking.
        let n = unsafe { libc::recv(near, got.as_mut_ptr().cast(), got.len(), libc::MSG_DONTWAIT) };
        c.result() == 4 && n == 4 && got[..4] == *b"abcd"
    })
}

/// Whether this kernel caps a multishot recv at a byte count (`sqe->optlen`, Linux 6.17).
fn capped_multishot_works() -> bool {
    on_socket_pair(|ring, bufs, [near, far]| {
        let e = recv_entry(Sock::Fd(near), Some(1)).user_data(7);
        let two = [b'a', b'b'];
        // SAFETY: a 2-byte write to our own socket.
        unsafe { libc::write(far, two.as_ptr().cast(), 2) };
        // SAFETY: the entry uses the ring's provided buffers, which outlive it.
        let Some(c) = (unsafe { push_and_wait(ring, &e) }) else {
            return false;
        };
        if let Some(bid) = cqueue::buffer_select(c.flags()) {
            bufs.give(bid);
        }
        // Capped: the multishot ended once the byte was there (its read takes what the
        // buffer holds room for, so both bytes). Older kernels refuse the field.
        c.result() > 0 && !cqueue::more(c.flags())
    })
}

/// Runs a start-up question on a ring of its own as the shards set theirs up, and a
/// socket pair (`[near, far]`); false if either cannot be had.
fn on_socket_pair(ask: impl FnOnce(&mut IoUring, &mut Buffers, [RawFd; 2]) -> bool) -> bool {
    let Ok((mut ring, mut bufs)) = setup(2, 16) else {
        return false;
    };
    let mut fds = [0; 2];
    // SAFETY: socketpair fills two descriptors, closed below.
    if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) } != 0 {
        return false;
    }
    let answer = ask(&mut ring, &mut bufs, fds);
    // SAFETY: the socket pair made above.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    drop(ring);
    drop(bufs);
    answer
}

/// Submits `e` and waits at most a second for its completion.
///
/// # Safety
/// What `e` points at must stay valid until it completes, also when this returns `None`
/// (no completion within the second).
unsafe fn push_and_wait(ring: &mut IoUring, e: &squeue::Entry) -> Option<cqueue::Entry> {
    // SAFETY: the caller's promise.
    unsafe { ring.submission().push(e) }.ok()?;
    let ts = types::Timespec::new().sec(1);
    let args = types::SubmitArgs::new().timespec(&ts);
    let _ = ring.submitter().submit_with_args(1, &args);
    ring.completion().next()
}

/// Where an op finds its socket: the ring's registered file at an index (the kernel then
/// skips looking the descriptor up and counting a reference on each op), or a plain
/// descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sock {
    Fd(RawFd),
    Fixed(u32),
}

/// A recv into a provided buffer, polled first (at pipeline 1 the next request is never
/// there yet when it is armed). With `cap`, multishot, ending once `cap` bytes came (its
/// last read may take up to a buffer past that).
pub(super) fn recv_entry(sock: Sock, cap: Option<u32>) -> squeue::Entry {
    let multi = if cap.is_some() { RECV_MULTISHOT } else { 0 };
    let (buf, len) = (std::ptr::null_mut(), BUF_SIZE as u32);
    let recv = match sock {
        Sock::Fd(fd) => opcode::Recv::new(types::Fd(fd), buf, len),
        Sock::Fixed(i) => opcode::Recv::new(types::Fixed(i), buf, len),
    };
    let mut e = recv
        .buf_group(0)
        .ioprio(RECVSEND_POLL_FIRST | multi)
        .build()
        .flags(squeue::Flags::BUFFER_SELECT);
    if let Some(cap) = cap {
        // The crate has no setter for `optlen`, the multishot's byte cap: it is the u32 at
        // byte 44 of the 64-byte SQE (`io_uring_sqe`), which `Entry` wraps (repr(C)).
        const _: () = assert!(std::mem::size_of::<squeue::Entry>() == 64);
        // SAFETY: in bounds of the SQE; `optlen` is a plain u32 of it.
        unsafe {
            let raw = (&mut e as *mut squeue::Entry).cast::<u8>();
            raw.add(44).cast::<u32>().write_unaligned(cap);
        }
    }
    e
}

/// A ring as a shard's (`entries` submission entries, four times as many completions) and
/// its provided buffers (`buffers`, rounded to a power of two), registered with it. The
/// caller drops the ring before the buffers.
pub(super) fn setup(entries: u32, buffers: usize) -> io::Result<(IoUring, Buffers)> {
    let ring = IoUring::builder()
        .setup_single_issuer()
        .setup_coop_taskrun()
        .setup_taskrun_flag()
        .setup_cqsize(entries * 4)
        .build(entries)?;
    let count = buffers.clamp(16, 1 << 15).next_power_of_two() as u16;
    let bufs = Buffers::new(count);
    // SAFETY: the buffer ring outlives the io_uring (the caller drops the ring first).
    unsafe {
        ring.submitter()
            .register_buf_ring_with_flags(bufs.ring as u64, count, 0, 0)?;
    }
    Ok((ring, bufs))
}

/// Provided buffers for a shard: a quarter of its share of `-c` (a recv holds one only
/// until its pass copies it out), at least 64, within an eighth of its memory.
pub fn buffer_count(settings: &crate::config::Settings) -> usize {
    let conns = settings.conn_limit / settings.shards.max(1);
    let by_mem = settings.shard_mem() / 8 / BUF_SIZE;
    (conns / 4).clamp(64, 512).min(by_mem).max(16)
}

#[cfg(test)]
mod tests {
    /// The probes agree with the kernel: the multishot recv's byte cap and the vectored
    /// send came with Linux 6.17.
    #[test]
    fn capped_multishot_and_vectored_send_are_found_where_the_kernel_has_them() {
        // SAFETY: uname fills the zeroed struct.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::uname(&mut u) }, 0);
        // SAFETY: uname NUL-terminates the release.
        let release = unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        let mut parts = release.split(|c: char| !c.is_ascii_digit());
        let mut next = || {
            parts
                .next()
                .and_then(|p| p.parse::<u32>().ok())
                .unwrap_or(0)
        };
        let version = (next(), next());
        let found = super::capped_multishot_works();
        if version >= (6, 17) {
            assert!(found, "Linux {release} caps a multishot recv");
        } else if version < (6, 16) {
            assert!(!found, "Linux {release} has no multishot cap");
        }
        let vectored = super::vectored_send_works();
        if version >= (6, 17) {
            assert!(vectored, "Linux {release} sends an iovec array");
        } else if version < (6, 16) {
            assert!(!vectored, "Linux {release} has no vectored send");
        }
    }
}
