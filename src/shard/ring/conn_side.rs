//! The ring's side that connection futures call: take received bytes (or wait for them), hand
//! a reply over, close or park.

use std::io;
use std::task::Poll;

use super::{user_data, ConnId, NetRing, Recv, Slot, Wait, OP_SEND};
use crate::park::Parked;
use crate::shard::buffers::BufferPool;
use crate::shard::out::Out;

impl NetRing {
    /// Moves what the connection's client sent into `rbuf` after its first `end` bytes, or
    /// waits for it. Ready with the bytes added, 0 at end of stream. While it waits, the
    /// connection's read buffer is lent to the slot, so bytes are copied once, into place.
    /// Waiting, the connection is scheduled when bytes come ([`NetRing::schedule`]): no
    /// waker, as the driver polls it.
    #[inline(always)]
    pub fn poll_read(
        &self,
        id: ConnId,
        rbuf: &mut Vec<u8>,
        end: &mut usize,
        pool: &BufferPool,
    ) -> Poll<io::Result<usize>> {
        // The two cases of a wait at pipeline 1, inlined: the wait starts (the connection's
        // buffer is lent), and its bytes came (the buffer comes back with them). With the
        // recv armed, neither arms it; anything else is `poll_read_slow`.
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[id.idx as usize];
        debug_assert_eq!(s.gen, id.gen);
        if s.error == 0 && !s.eof && s.recv == Recv::Armed {
            match s.lent {
                Some(at) if s.end > at as usize => {
                    let n = s.end - at as usize;
                    Self::unlend(s, rbuf, end);
                    return Poll::Ready(Ok(n));
                }
                Some(_) => {
                    s.waits = Wait::Read;
                    return Poll::Pending;
                }
                None if s.end == 0 && *end < rbuf.len() && s.input.capacity() == 0 => {
                    Self::lend(s, rbuf, *end);
                    s.waits = Wait::Read;
                    return Poll::Pending;
                }
                None => {}
            }
        }
        drop(slots);
        self.poll_read_slow(id, rbuf, end, pool)
    }

    /// [`NetRing::poll_read`] in every case.
    #[inline(never)]
    fn poll_read_slow(
        &self,
        id: ConnId,
        rbuf: &mut Vec<u8>,
        end: &mut usize,
        pool: &BufferPool,
    ) -> Poll<io::Result<usize>> {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[id.idx as usize];
        if let Some(at) = s.lent {
            if s.end > at as usize {
                // Our buffer back, with what came since.
                debug_assert!(rbuf.is_empty());
                let n = s.end - at as usize;
                Self::unlend(s, rbuf, end);
                let rearm = s.wants_recv();
                drop(slots);
                if rearm {
                    self.rearm_recv(id.idx);
                }
                return Poll::Ready(Ok(n));
            }
        } else if s.end > 0 {
            let n = s.end;
            if *end == 0 {
                // Nothing of ours buffered: the slot's buffer becomes ours.
                let mine = std::mem::replace(rbuf, std::mem::take(&mut s.input));
                if mine.capacity() > 0 {
                    pool.put_read(mine);
                }
            } else {
                if rbuf.len() < *end + n {
                    rbuf.resize(*end + n, 0);
                }
                rbuf[*end..*end + n].copy_from_slice(&s.input[..n]);
                pool.put_read(std::mem::take(&mut s.input));
            }
            *end += n;
            s.end = 0;
            let rearm = s.wants_recv();
            drop(slots);
            if rearm {
                self.rearm_recv(id.idx);
            }
            return Poll::Ready(Ok(n));
        } else if !rbuf.is_empty() && *end < rbuf.len() {
            // Wait with our own buffer in place.
            if s.input.capacity() > 0 {
                pool.put_read(std::mem::take(&mut s.input));
            }
            Self::lend(s, rbuf, *end);
        }
        if s.error != 0 {
            let e = s.error;
            Self::unlend(s, rbuf, end);
            return Poll::Ready(Err(io::Error::from_raw_os_error(e)));
        }
        if s.eof {
            Self::unlend(s, rbuf, end);
            return Poll::Ready(Ok(0));
        }
        s.waits = Wait::Read;
        // Checked here, under the borrow already held: the recv is armed at most waits.
        let rearm = s.wants_recv();
        drop(slots);
        if rearm {
            self.rearm_recv(id.idx);
        }
        Poll::Pending
    }

    /// Lends the connection's read buffer, `end` bytes of it used, to the slot: the
    /// bytes that come are copied into its room.
    #[inline(always)]
    fn lend(s: &mut Slot, rbuf: &mut Vec<u8>, end: usize) {
        s.input = std::mem::take(rbuf);
        debug_assert!(u32::try_from(s.input.len()).is_ok());
        s.room = s.input.len() as u32;
        s.end = end;
        s.lent = Some(end as u32);
    }

    /// Takes a lent buffer back.
    #[inline(always)]
    fn unlend(s: &mut Slot, rbuf: &mut Vec<u8>, end: &mut usize) {
        if s.lent.take().is_some() {
            *rbuf = std::mem::take(&mut s.input);
            *end = s.end;
            s.end = 0;
        }
    }

    /// Arms the slot's recv again if it has none and its connection can take more: after
    /// a completion, and once the connection has taken what was waiting.
    pub(super) fn rearm_recv(&self, idx: u32) {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[idx as usize];
        if s.wants_recv() {
            s.recv = Recv::Armed;
            let (gen, fd) = (s.gen, s.fd);
            drop(slots);
            self.arm_recv(idx, gen, fd);
        }
    }

    /// Sends `out` once the connection's previous reply has gone (or fails with its
    /// socket's error); waiting, the connection is scheduled when it has. `out` is then
    /// swapped for the slot's spare reply, empty.
    #[inline(always)]
    pub fn poll_send(&self, id: ConnId, out: &mut Box<Out>) -> Poll<io::Result<()>> {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[id.idx as usize];
        if s.sending {
            s.waits = Wait::Sent;
            return Poll::Pending;
        }
        if s.error != 0 || s.tls.is_some() || s.out.is_none() {
            drop(slots);
            return Poll::Ready(self.send_slow(id, out));
        }
        let Some(spare) = &mut s.out else {
            unreachable!("checked above")
        };
        // The reply goes to the slot, which keeps it until its completion; the slot's
        // spare (empty) becomes the connection's.
        std::mem::swap(out, spare);
        let e = spare
            .submission(self.sock(id.idx, s.fd), self.vectored_send)
            .user_data(user_data(OP_SEND, id.gen, id.idx));
        s.sending = true;
        drop(slots);
        self.push_inline(e);
        Poll::Ready(Ok(()))
    }

    /// [`NetRing::poll_send`] of a failed socket, a TLS connection's, or a slot's first
    /// reply (it has no spare yet).
    #[cold]
    #[inline(never)]
    fn send_slow(&self, id: ConnId, out: &mut Box<Out>) -> io::Result<()> {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[id.idx as usize];
        if s.error != 0 {
            return Err(io::Error::from_raw_os_error(s.error));
        }
        if s.tls.is_some() {
            drop(slots);
            return self.tls_send(id, out);
        }
        s.out = Some(Box::default());
        drop(slots);
        match self.poll_send(id, out) {
            Poll::Ready(r) => r,
            Poll::Pending => unreachable!("checked: no send in flight"),
        }
    }

    /// The connection's future ends and the connection closes: at once, or when its last
    /// reply has gone.
    pub fn close(&self, id: ConnId, pool: &BufferPool) {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[id.idx as usize];
        debug_assert_eq!(s.gen, id.gen);
        s.waits = Wait::No;
        if s.sending {
            s.closing = true;
            return;
        }
        let tls = s.tls.is_some();
        drop(slots);
        if tls {
            self.tls_close_notify(id.idx, pool);
        }
        self.finish_close(id.idx, pool);
    }

    /// The connection's future ends and the connection stays open without one, keeping
    /// `state`; false (and nothing changes) when bytes came meanwhile.
    pub fn park(&self, id: ConnId, state: Parked, pool: &BufferPool) -> bool {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[id.idx as usize];
        if s.has_input() || s.sending {
            return false;
        }
        if s.lent.take().is_some() {
            pool.put_read(std::mem::take(&mut s.input));
            s.end = 0;
        }
        if let Some(out) = s.out.take() {
            pool.put_out(out.reply.buf);
        }
        s.served = false;
        s.waits = Wait::No;
        s.parked = state;
        self.set_parked(self.parked.get() + 1);
        true
    }

    /// Queues the connection for the driver to poll (once, however often it is
    /// scheduled before that): its waker's wake-up, or a new or resumed connection.
    pub fn schedule(&self, id: ConnId) {
        let mut slots = self.slots.borrow_mut();
        if let Some(s) = slots.get_mut(id.idx as usize) {
            if s.gen == id.gen && s.served {
                self.enqueue(id.idx, s);
            }
        }
    }

    /// `what` happened: the slot's connection is scheduled if it waits for that.
    pub(super) fn wake_conn(&self, idx: u32, s: &mut Slot, what: Wait) {
        if s.waits == what {
            s.waits = Wait::No;
            self.enqueue(idx, s);
        }
    }

    fn enqueue(&self, idx: u32, s: &mut Slot) {
        if !s.queued {
            s.queued = true;
            self.runnable.borrow_mut().push(ConnId { idx, gen: s.gen });
        }
    }

    /// The connections scheduled since the last call, in order, into `into` (empty).
    pub fn take_runnable(&self, into: &mut Vec<ConnId>) {
        std::mem::swap(&mut *self.runnable.borrow_mut(), into);
    }

    /// Whether connections are scheduled.
    pub fn has_runnable(&self) -> bool {
        !self.runnable.borrow().is_empty()
    }

    /// The driver is about to poll the connection: scheduling it again queues it again.
    /// False if it is no longer the connection scheduled (it closed, or parked).
    pub fn unqueue(&self, id: ConnId) -> bool {
        let mut slots = self.slots.borrow_mut();
        match slots.get_mut(id.idx as usize) {
            Some(s) if s.gen == id.gen && s.served => {
                s.queued = false;
                true
            }
            _ => false,
        }
    }
}
