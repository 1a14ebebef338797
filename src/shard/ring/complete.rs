//! A shard's network ring's completions, reaped by [`NetRing::pass`] and told apart by the
//! op, slot and generation their user data names: an accept's client adopted, a recv's
//! bytes copied into its slot's input (the common case inlined into the pass), a send
//! finished or sent on, a slot freed once nothing of it is in flight.
//!
//! The kernel's side of the slots, where `conn_side.rs` is the connections' side; both keep
//! to the safety note of the module (`mod.rs`).

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::Ordering;

use io_uring::{cqueue, opcode, squeue, types};

use super::{
    tls, user_data, AcceptFailed, ConnId, NetRing, Ready, Recv, Slot, Wait, OP_ACCEPT, OP_CANCEL,
    OP_CLOSE, OP_FILES, OP_LISTENER_READY, OP_RECV, OP_SEND, OP_TLS_SEND,
};
use crate::shard::buffers::BufferPool;
use crate::stats::Stat;

/// What a registered file's slot is set to when its connection closes.
static NO_FILE: RawFd = -1;

fn split_user_data(ud: u64) -> (u64, u32, u32) {
    (ud >> 60, ((ud >> 32) & 0x0fff_ffff) as u32, ud as u32)
}

impl NetRing {
    pub(super) fn complete(&self, ud: u64, res: i32, flags: u32, pool: &BufferPool) {
        let (op, gen, idx) = split_user_data(ud);
        match op {
            OP_ACCEPT => self.accepted(idx as usize, res, flags),
            OP_RECV => {
                let bid = cqueue::buffer_select(flags);
                self.received(idx, gen, res, bid, cqueue::more(flags), pool);
                if let Some(bid) = bid {
                    self.bufs.borrow_mut().give(bid);
                }
            }
            OP_SEND => self.sent(idx, gen, res, pool),
            OP_LISTENER_READY => self.listener_ready(idx as usize, res),
            // The slot's ops then fail (EBADF) and its connection closes.
            OP_FILES if res < 0 => log::warn!(
                "registering connection {idx}'s socket with the ring failed: {}",
                io::Error::from_raw_os_error(-res)
            ),
            OP_TLS_SEND => self.tls_sent(idx, gen, res, pool),
            // OP_CANCEL: the cancelled op completes on its own. OP_CLOSE, OP_PEER (a peer's
            // wake-up: the pass that reaped it takes the peer's batches), OP_POSTED (our post
            // failed: the peer has stopped), OP_FILES succeeding (not posted): nothing to do.
            _ => {}
        }
    }

    fn accepted(&self, listener: usize, res: i32, flags: u32) {
        if res < 0 {
            if !cqueue::more(flags) {
                self.accept_failed.borrow_mut().push(AcceptFailed {
                    listener,
                    fd: self.listeners[listener],
                    error: io::Error::from_raw_os_error(-res),
                });
            }
            return;
        }
        if !cqueue::more(flags) {
            self.arm_accept(listener);
        }
        // SAFETY: a descriptor just accepted, ours alone.
        self.adopt(unsafe { OwnedFd::from_raw_fd(res) }, Some(listener));
    }

    /// A recv's completion. Inlined: bytes for a served connection whose recv goes on and
    /// whose input has room (at pipeline 1, its lent buffer), which wake it if it waits for
    /// them; every other case is `received_slow`.
    #[inline(always)]
    fn received(
        &self,
        idx: u32,
        gen: u32,
        res: i32,
        bid: Option<u16>,
        more: bool,
        pool: &BufferPool,
    ) {
        if let (Some(bid), true, true) = (bid, res > 0, more) {
            let n = res as usize;
            let mut slots = self.slots.borrow_mut();
            if let Some(s) = slots.get_mut(idx as usize) {
                if s.gen == gen
                    && s.fd >= 0
                    && s.served
                    && s.tls.is_none()
                    && s.end + n <= s.input.len()
                {
                    self.take_bytes(s, bid, n);
                    // The recv goes on (`more`), so none is armed here; the bytes are input.
                    self.wake_conn(idx, s, Wait::Read);
                    return;
                }
            }
        }
        self.received_slow(idx, gen, res, bid, more, pool)
    }

    /// Copies a recv's `n` bytes from provided buffer `bid` after the slot's input, which
    /// has room for them.
    #[inline(always)]
    fn take_bytes(&self, s: &mut Slot, bid: u16, n: usize) {
        s.input[s.end..s.end + n].copy_from_slice(self.bufs.borrow().bytes(bid, n));
        s.end += n;
        self.accounts.counters.add(Stat::BytesRead, n as u64);
    }

    #[inline(never)]
    fn received_slow(
        &self,
        idx: u32,
        gen: u32,
        res: i32,
        bid: Option<u16>,
        more: bool,
        pool: &BufferPool,
    ) {
        let mut slots = self.slots.borrow_mut();
        let Some(s) = slots.get_mut(idx as usize) else {
            return;
        };
        if s.gen != gen || s.fd < 0 {
            return; // a closed connection's last completion
        }
        if !more {
            s.recv = Recv::Off;
        }
        // Ciphertext went into a TLS session: what it has to send goes after.
        let mut tls_flush = false;
        match (res, bid) {
            (n, Some(bid)) if n > 0 && s.tls.is_some() => {
                tls_flush = true;
                self.tls_received(s, bid, n as usize, pool);
            }
            (n, Some(bid)) if n > 0 => {
                let n = n as usize;
                if s.input.is_empty() {
                    s.input = pool.take_read();
                }
                if s.end + n > s.input.len() {
                    let len = (s.input.len() * 2).max(s.end + n);
                    s.input.resize(len, 0);
                }
                self.take_bytes(s, bid, n);
            }
            (0, _) => s.eof = true,
            (e, _) if e == -libc::ENOBUFS || e == -libc::ECANCELED => {}
            (e, _) if e < 0 => s.error = -e,
            _ => {}
        }
        // Receiving stops while more waits than the connection has room for, and starts
        // again once it has taken the bytes (here, or in `poll_read`).
        let rearm = tls_flush || s.wants_recv();
        drop(slots);
        if tls_flush {
            // Handshake records, or the alert of a failed session.
            self.tls_flush(idx, Some(pool));
        }
        if rearm {
            self.rearm_recv(idx);
        }
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[idx as usize];
        if !s.has_input() {
            return;
        }
        if s.served {
            self.wake_conn(idx, s, Wait::Read);
            return;
        }
        if s.end == 0 {
            // End of stream or an error before any request: nothing to serve.
            drop(slots);
            self.finish_close(idx, pool);
            return;
        }
        s.served = true;
        let r = Ready {
            id: ConnId { idx, gen },
            state: s.parked,
            fd: s.fd,
        };
        drop(slots);
        self.set_parked(self.parked.get() - 1);
        self.ready.borrow_mut().push(r);
    }

    fn sent(&self, idx: u32, gen: u32, res: i32, pool: &BufferPool) {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[idx as usize];
        debug_assert_eq!(s.gen, gen, "a slot is not reused while it sends");
        let out = s.out.as_mut().expect("a slot that sends has its reply");
        let done = if res < 0 {
            s.error = -res;
            true
        } else {
            out.sent += res as usize;
            self.accounts.counters.add(Stat::BytesWritten, res as u64);
            if res == 0 && !out.all_sent() {
                s.error = libc::EPIPE;
            }
            out.all_sent() || s.error != 0
        };
        if !done {
            let e = out
                .submission(self.sock(idx, s.fd), self.vectored_send)
                .user_data(user_data(OP_SEND, gen, idx));
            drop(slots);
            self.push(e);
            return;
        }
        out.finish();
        pool.uncount_reply(std::mem::take(&mut out.counted));
        s.sending = false;
        if s.closing {
            drop(slots);
            self.finish_close(idx, pool);
            return;
        }
        self.wake_conn(idx, s, Wait::Sent);
        if s.error != 0 {
            // A reader sees the socket's failure now rather than at its recv's completion.
            self.wake_conn(idx, s, Wait::Read);
        }
    }

    pub(super) fn finish_close(&self, idx: u32, pool: &BufferPool) {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[idx as usize];
        if s.fd < 0 {
            return;
        }
        if s.tls.is_some() && !tls::release(s, pool) {
            return;
        }
        let (fd, gen, recv, served) = (s.fd, s.gen, s.recv, s.served);
        crate::watch::conn_event(&self.accounts.counters.watch, fd, true);
        if s.input.capacity() > 0 {
            pool.put_read(std::mem::take(&mut s.input));
        }
        if let Some(out) = s.out.take() {
            pool.put_out(out.reply.buf);
        }
        *s = Slot {
            fd: -1,
            gen: gen.wrapping_add(1) & 0x0fff_ffff,
            ..Slot::default()
        };
        drop(slots);
        if !served {
            self.set_parked(self.parked.get() - 1);
        }
        if recv == Recv::Armed {
            self.cancel_recv(idx, gen);
        }
        // Both through the ring, after what is queued: an op queued for this socket and not
        // yet submitted must not meet a new connection given the same index or number.
        if (idx as usize) < self.files.len() {
            self.push(
                opcode::FilesUpdate::new(&NO_FILE, 1)
                    .offset(idx as i32)
                    .build()
                    .flags(squeue::Flags::SKIP_SUCCESS)
                    .user_data(user_data(OP_FILES, gen, idx)),
            );
        }
        self.push(
            opcode::Close::new(types::Fd(fd))
                .build()
                .user_data(user_data(OP_CLOSE, gen, idx)),
        );
        self.free.borrow_mut().push(idx);
        self.open.set(self.open.get() - 1);
        self.accounts.counters.sub(Stat::CurrConnections, 1);
        self.accounts.open_conns.fetch_sub(1, Ordering::Relaxed);
    }

    fn cancel_recv(&self, idx: u32, gen: u32) {
        let e = opcode::AsyncCancel::new(user_data(OP_RECV, gen, idx))
            .build()
            .user_data(user_data(OP_CANCEL, gen, idx));
        self.push(e);
    }
}
