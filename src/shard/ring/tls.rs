//! A TLS connection's session in its slot (`-Z`, [`crate::tls`]): ciphertext a recv
//! brought goes into the session and the plaintext it yields into the slot's input, where
//! a plaintext connection's bytes go; a reply is written into the session and the records
//! it makes are sent as one piece. The connection (`conn`) sees plaintext only.
//!
//! ```text
//!   recv ─ciphertext─► session ─plaintext─► slot.input ─► conn (as plaintext)
//!   conn ─reply (Out)─► session ─records─► wbuf ─SEND─► socket
//!   handshake records, alerts: sent by the ring itself (a new or parked connection has
//!   no future)
//! ```
//!
//! One send of records is in flight at a time: records made meanwhile wait in the session
//! and go when it completes. The slot is not freed while one is in flight (the kernel
//! reads `wbuf`): a close then waits for it, as a plaintext reply's does.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, RawFd};
use std::sync::atomic::Ordering::Relaxed;

use io_uring::{opcode, types};
use rustls::ServerConnection;

use super::{user_data, Accounts, ConnId, NetRing, Slot, Sock, Wait, OP_TLS_SEND};
use crate::shard::buffers::BufferPool;
use crate::shard::out::Out;
use crate::stats::Stat;

/// The first byte of a TLS handshake record: a connection whose first byte is another
/// speaks something else (plaintext memcached), and is closed without an alert, as
/// memcached's OpenSSL does.
const HANDSHAKE_RECORD: u8 = 0x16;

/// A TLS connection's session and the records on their way out.
pub(super) struct TlsConn {
    session: ServerConnection,
    /// Records being sent (`in_flight`), `wsent` bytes of them already.
    wbuf: Vec<u8>,
    wsent: usize,
    in_flight: bool,
    /// The session failed: its alert (if any) is sent, then the connection closes.
    failed: bool,
    /// The client's first byte is not a TLS record's.
    not_tls: bool,
    seen: bool,
    /// Copied reply bytes counted as waiting ([`BufferPool::count_reply`]) until sent.
    counted: usize,
}

/// The ring's TLS: which of its listeners serve it, and a rate-limited log of failures.
pub(super) struct RingTls {
    on: Vec<bool>,
    failures: crate::ratelog::RateLog,
}

impl RingTls {
    pub(super) fn new(listeners: &[RawFd], a: &Accounts) -> RingTls {
        RingTls {
            on: listeners.iter().map(|&l| listener_is_tls(l, a)).collect(),
            failures: crate::ratelog::RateLog::new(5),
        }
    }

    /// Whether connections accepted on listener `i` are TLS.
    #[inline]
    pub(super) fn on(&self, i: usize) -> bool {
        self.on.get(i).copied().unwrap_or(false)
    }
}

/// Whether `listener` serves TLS: `-Z` is on, it is a TCP socket, and not a `notls:` one.
fn listener_is_tls(listener: RawFd, a: &Accounts) -> bool {
    if a.tls.is_none() {
        return false;
    }
    // SAFETY: borrowed for getsockname only, never dropped (ManuallyDrop).
    let l = std::mem::ManuallyDrop::new(unsafe { std::net::TcpListener::from_raw_fd(listener) });
    let Ok(local) = l.local_addr() else {
        return false; // a unix socket: never TLS, as memcached's
    };
    !a.notls
        .iter()
        .any(|n: &SocketAddr| n.ip() == local.ip() && (n.port() == local.port() || n.port() == 0))
}

/// A new session for a connection accepted on a TLS listener.
fn session(a: &Accounts) -> Option<Box<TlsConn>> {
    let config = a.tls.as_ref()?.config();
    let mut session = ServerConnection::new(config).ok()?;
    // The connection bounds what it writes (it waits for each reply to go), and
    // records are taken out as soon as they are made.
    session.set_buffer_limit(None);
    Some(Box::new(TlsConn {
        session,
        wbuf: Vec::new(),
        wsent: 0,
        in_flight: false,
        failed: false,
        not_tls: false,
        seen: false,
        counted: 0,
    }))
}

/// Feeds `cipher` to the slot's session and appends the plaintext it yields to the
/// slot's input. Returns the plaintext bytes, or the session's failure as an errno, having
/// counted a failed handshake.
fn decrypt(
    s: &mut Slot,
    mut cipher: &[u8],
    a: &Accounts,
    rt: &RingTls,
    pool: &BufferPool,
) -> Result<usize, i32> {
    let Slot {
        tls,
        input,
        end,
        eof,
        ..
    } = s;
    let t = tls.as_deref_mut().expect("a TLS slot");
    if !t.seen {
        t.seen = true;
        t.not_tls = cipher.first() != Some(&HANDSHAKE_RECORD);
    }
    let mut plain = 0;
    while !cipher.is_empty() && !t.failed {
        let took = match t.session.read_tls(&mut cipher) {
            Ok(n) => n,
            // Its buffer is full of what it cannot process: as a protocol error.
            Err(_) => {
                fail(t, a, rt, "a record too large to buffer");
                break;
            }
        };
        match t.session.process_new_packets() {
            Ok(state) => {
                let n = state.plaintext_bytes_to_read();
                if n > 0 {
                    take_plaintext(t, n, input, end, pool);
                    plain += n;
                }
                if state.peer_has_closed() {
                    // close_notify: the client's end of stream.
                    *eof = true;
                }
            }
            Err(e) => fail(t, a, rt, &e.to_string()),
        }
        if took == 0 {
            break;
        }
    }
    if t.failed {
        return Err(libc::EPROTO);
    }
    Ok(plain)
}

/// The session failed: counted if it was handshaking, logged (rate-limited).
fn fail(t: &mut TlsConn, a: &Accounts, rt: &RingTls, why: &str) {
    if t.session.is_handshaking() {
        a.counters.incr(Stat::SslHandshakeErrors);
    }
    if let Some(note) = rt.failures.admit() {
        log::info!("TLS: a connection failed: {why}{note}");
    }
    t.failed = true;
}

/// Moves the session's `n` bytes of plaintext into `input` after `*end`.
fn take_plaintext(
    t: &mut TlsConn,
    n: usize,
    input: &mut Vec<u8>,
    end: &mut usize,
    pool: &BufferPool,
) {
    if input.is_empty() {
        *input = pool.take_read();
    }
    if *end + n > input.len() {
        let len = (input.len() * 2).max(*end + n);
        input.resize(len, 0);
    }
    let mut got = 0;
    while got < n {
        match t.session.reader().read(&mut input[*end + got..*end + n]) {
            Ok(0) | Err(_) => break,
            Ok(k) => got += k,
        }
    }
    *end += got;
}

impl NetRing {
    /// The session for a connection just accepted on `listener` (counted in `open_conns`):
    /// none on a plaintext listener; Err when it cannot have one, and is closed (never
    /// served in the clear).
    pub(super) fn tls_session(
        &self,
        listener: usize,
        fd: RawFd,
    ) -> Result<Option<Box<TlsConn>>, ()> {
        if !self.tls.on(listener) {
            return Ok(None);
        }
        match session(&self.accounts) {
            Some(t) => Ok(Some(t)),
            None => {
                self.accounts.open_conns.fetch_sub(1, Relaxed);
                // SAFETY: a descriptor just accepted, ours alone.
                unsafe { libc::close(fd) };
                Err(())
            }
        }
    }

    /// A recv brought `n` bytes of ciphertext in provided buffer `bid`.
    pub(super) fn tls_received(&self, s: &mut Slot, bid: u16, n: usize, pool: &BufferPool) {
        if s.closing {
            return; // closed, its last records on their way
        }
        let a = &self.accounts;
        let cipher = self.bufs.borrow();
        match decrypt(s, cipher.bytes(bid, n), a, &self.tls, pool) {
            Ok(n) => a.counters.add(Stat::BytesRead, n as u64),
            Err(e) => {
                s.error = e;
                if !s.served {
                    // Failed before it was served: nothing is.
                    s.end = 0;
                }
            }
        }
    }

    /// Writes `out` (a TLS connection's reply) into its session and sends the records;
    /// `out` is swapped for the slot's spare reply, empty, as [`NetRing::send`] does.
    pub(super) fn tls_send(&self, id: ConnId, out: &mut Box<Out>) -> io::Result<()> {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[id.idx as usize];
        let t = s.tls.as_deref_mut().expect("a TLS slot");
        let mut w = t.session.writer();
        let mut total = 0;
        // Unbounded buffers: a write takes everything.
        out.reply.pieces_from(0, |p| {
            total += p.len();
            let _ = w.write_all(p);
        });
        self.accounts.counters.add(Stat::BytesWritten, total as u64);
        t.counted += std::mem::take(&mut out.counted);
        let mut spare = s.out.take().unwrap_or_default();
        std::mem::swap(out, &mut spare);
        // The values it held are copied into records: their pins go now.
        spare.finish();
        s.out = Some(spare);
        s.sending = true;
        drop(slots);
        self.tls_flush(id.idx, None);
        Ok(())
    }

    /// Sends what the session has made, unless a send is in flight (its completion calls
    /// this again). With nothing left: the reply has gone (the connection is scheduled), and a
    /// closing slot closes (given the `pool`; the ring's own calls give it).
    pub(super) fn tls_flush(&self, idx: u32, pool: Option<&BufferPool>) {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[idx as usize];
        if s.fd < 0 {
            return;
        }
        let (fd, gen, error) = (s.fd, s.gen, s.error);
        let Some(t) = s.tls.as_deref_mut() else {
            return;
        };
        if t.in_flight {
            return;
        }
        t.wbuf.clear();
        t.wsent = 0;
        // A socket that failed takes nothing more; a session that failed sends its alert,
        // unless the client never spoke TLS.
        let writable = if t.failed { !t.not_tls } else { error == 0 };
        while writable && t.session.wants_write() {
            if t.session.write_tls(&mut t.wbuf).is_err() {
                break;
            }
        }
        if !t.wbuf.is_empty() {
            t.in_flight = true;
            let e = self.tls_submission(t, fd, gen, idx);
            drop(slots);
            self.push(e);
            return;
        }
        // Nothing on its way: the reply (if any) has gone.
        if let Some(p) = pool {
            p.uncount_reply(std::mem::take(&mut t.counted));
        }
        let closing = s.closing;
        if s.sending {
            s.sending = false;
            self.wake_conn(idx, s, Wait::Sent);
            if s.error != 0 {
                self.wake_conn(idx, s, Wait::Read);
            }
        }
        drop(slots);
        if let (true, Some(p)) = (closing, pool) {
            self.finish_close(idx, p);
        }
    }

    fn tls_submission(
        &self,
        t: &TlsConn,
        fd: RawFd,
        gen: u32,
        idx: u32,
    ) -> io_uring::squeue::Entry {
        let left = &t.wbuf[t.wsent..];
        let (buf, len) = (left.as_ptr(), left.len() as u32);
        let send = match self.sock(idx, fd) {
            Sock::Fd(fd) => opcode::Send::new(types::Fd(fd), buf, len),
            Sock::Fixed(i) => opcode::Send::new(types::Fixed(i), buf, len),
        };
        send.flags(libc::MSG_NOSIGNAL | libc::MSG_WAITALL)
            .build()
            .user_data(user_data(OP_TLS_SEND, gen, idx))
    }

    /// A send of records completed.
    pub(super) fn tls_sent(&self, idx: u32, gen: u32, res: i32, pool: &BufferPool) {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[idx as usize];
        debug_assert_eq!(s.gen, gen, "a slot is not reused while it sends");
        let fd = s.fd;
        let mut failed_socket = 0;
        let Some(t) = s.tls.as_deref_mut() else {
            return;
        };
        if res <= 0 {
            failed_socket = if res < 0 { -res } else { libc::EPIPE };
        } else {
            t.wsent += res as usize;
            if t.wsent < t.wbuf.len() {
                let e = self.tls_submission(t, fd, gen, idx);
                drop(slots);
                self.push(e);
                return;
            }
        }
        t.in_flight = false;
        if failed_socket != 0 && s.error == 0 {
            s.error = failed_socket;
        }
        drop(slots);
        self.tls_flush(idx, Some(pool));
    }

    /// The connection closes it: a TLS session says so (close_notify) first, as
    /// memcached's does; the slot closes once that has gone.
    pub(super) fn tls_close_notify(&self, idx: u32, pool: &BufferPool) {
        {
            let mut slots = self.slots.borrow_mut();
            let Some(t) = slots[idx as usize].tls.as_deref_mut() else {
                return;
            };
            if t.failed {
                return;
            }
            t.session.send_close_notify();
        }
        self.tls_flush(idx, Some(pool));
    }
}

/// Before a TLS slot is freed: false while records are in flight (the kernel reads them),
/// and the slot then closes when they have gone; else the session goes, with what it
/// counted.
pub(super) fn release(s: &mut Slot, pool: &BufferPool) -> bool {
    match s.tls.take() {
        Some(t) if t.in_flight => {
            s.tls = Some(t);
            s.closing = true;
            false
        }
        Some(t) => {
            pool.uncount_reply(t.counted);
            true
        }
        None => true,
    }
}
