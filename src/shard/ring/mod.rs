//! A shard's network ring: its listeners and its connections' sockets on one io_uring of
//! its own, beside glommio's.
//!
//! ```text
//!   listener ──multishot accept──► Slot { fd, no future }
//!   socket ──recv into a provided buffer──► copied into the slot's input (the connection's
//!        own read buffer while it waits), the recv armed again ──► the connection scheduled
//!        for the driver to poll; a connection without a future (new, or parked) goes to the
//!        shard's ready list, and the driver makes one (`crate::shard::conns`)
//!   connection future ──send(out)──► SENDMSG (MSG_WAITALL) queued, submitted with the pass
//!   driver task: pass = one io_uring_enter (submit + run completions) + reap from shared
//!        memory, then the scheduled connections polled; nothing to do: wait in this ring
//!        (busy), or sleep on the ring's eventfd, read through glommio (idle)
//! ```
//!
//! Why this shape: one submission and one completion pass for all of a shard's sockets, no
//! task, poll source or timer per idle connection, nothing shared between shards. An idle
//! connection costs its `Slot` and the kernel's armed recv; a provided buffer is taken
//! only when bytes arrive, and given back in the same pass.
//!
//! Why a capped multishot recv: an uncapped multishot recv takes whatever the socket holds,
//! as long as provided buffers last, before the pass that could stop it, so a connection
//! that does not consume (a value waiting for the read budget, replies not read) could hold
//! as much as the buffer ring each time it fills, past the bound that tests/memory_bounds.rs
//! checks (bench/RESULTS.md, *Session 16*). Each arming is therefore capped at the room the
//! connection has left (`sqe->optlen`, Linux 6.17), and armed again only while fewer than
//! `PAUSE_AT` bytes wait: a connection holds at most that plus one buffer. A kernel without
//! the cap gets one recv per arming, with the same bound.
//!
//! How it sits beside glommio: glommio stays the executor (task queues, timers, the mesh,
//! DMA files) and sleeps in its own ring. This ring's eventfd (IORING_REGISTER_EVENTFD) is
//! read by a glommio task, so a sleeping shard wakes for either. A busy shard's driver waits
//! in this ring instead ([`NetRing::wait`]), which spares glommio's reactor a run per wake;
//! peers then wake it by posting into this ring (IORING_OP_MSG_RING). The eventfd is
//! signalled only while the driver sleeps (IORING_CQ_EVENTFD_DISABLED otherwise), so a busy shard
//! reaps without a wake-up per completion. The ring uses COOP_TASKRUN | TASKRUN_FLAG, not
//! DEFER_TASKRUN: with DEFER_TASKRUN the kernel runs network completions only for a waiter
//! inside this ring's own `io_uring_enter`, and signals the eventfd for bytes that another
//! CPU delivers only after a delay of milliseconds, so a shard asleep in glommio would
//! answer an idle client late (bench/RESULTS.md, DEFER_TASKRUN beside glommio).
//!
//! Safety: the kernel writes into the provided buffers and reads the replies being sent.
//! Provided buffers live as long as the ring; a reply being sent is owned by its slot (a
//! boxed [`Out`], never moved or changed until its completion), and a slot is not reused
//! while a send of it is in flight.

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use io_uring::{opcode, squeue, types, IoUring};

use crate::park::Parked;
use crate::shard::buffers::BufferPool;
use crate::shard::out::Out;
use crate::shard::provided::Buffers;
use crate::stats::{Counters, Stat};

mod complete;
mod conn_side;
mod hand_out;
mod setup;
mod tls;

pub use hand_out::HandOut;
use hand_out::HandingOut;

pub use setup::{buffer_count, probe, Offers};
use setup::{recv_entry, setup};
pub(crate) use setup::{Sock, SEND_VECTORIZED};

/// Bytes a connection may have received and not taken before its recv is cancelled (it
/// is re-armed when the connection reads again): a client that sends while its replies
/// go unread, or faster than its connection handles, is held by TCP, not by this process.
const PAUSE_AT: usize = 32 << 10;

/// `IORING_ENTER_GETEVENTS` (the crate keeps its constants private).
const ENTER_GETEVENTS: u32 = 1;

const OP_ACCEPT: u64 = 1;
const OP_RECV: u64 = 2;
const OP_SEND: u64 = 3;
const OP_CANCEL: u64 = 4;
const OP_CLOSE: u64 = 5;
/// A completion a peer posted into this ring (IORING_OP_MSG_RING) to wake it; and this
/// ring's own post, whose completion only comes on failure.
const OP_PEER: u64 = 6;
const OP_POSTED: u64 = 7;
/// A handing-out listener has clients waiting ([`NetRing::hand_out`]).
const OP_LISTENER_READY: u64 = 8;
/// A change to the ring's registered files; its completion only comes on failure.
const OP_FILES: u64 = 9;
/// A TLS connection's records sent (`tls.rs`).
const OP_TLS_SEND: u64 = 10;

fn user_data(op: u64, gen: u32, idx: u32) -> u64 {
    (op << 60) | ((gen as u64 & 0x0fff_ffff) << 32) | idx as u64
}

/// A connection's handle on its slot: the generation tells a reused slot apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnId {
    idx: u32,
    gen: u32,
}

impl ConnId {
    /// The slot's index: dense, reused once the connection has closed.
    pub fn index(self) -> usize {
        self.idx as usize
    }
}

/// Whether the slot's recv is armed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Recv {
    #[default]
    Off,
    Armed,
}

/// What a slot's connection waits for on the ring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Wait {
    #[default]
    No,
    /// Bytes, the end of the stream or an error ([`NetRing::poll_read`]).
    Read,
    /// Its reply to have gone ([`NetRing::poll_send`]).
    Sent,
}

#[derive(Default)]
struct Slot {
    /// -1: free.
    fd: RawFd,
    gen: u32,
    /// Bytes received and not yet taken: the connection's own read buffer while it waits
    /// (`lent` is then where its bytes ended), else a buffer from the shard's pool.
    input: Vec<u8>,
    end: usize,
    /// 32 bits, as `room`: a read buffer is bounded by the largest request (`-I`), and a
    /// smaller slot is less memory for every parked connection.
    lent: Option<u32>,
    /// The size of the lent buffer when it was lent.
    room: u32,
    eof: bool,
    /// errno of a failed recv or send.
    error: i32,
    recv: Recv,
    /// The reply being sent (`sending`), or the spare one for the connection's next swap.
    out: Option<Box<Out>>,
    sending: bool,
    /// What its connection waits for: that completion schedules it (and no other, so a
    /// connection waiting for bytes is not polled again when its reply has gone).
    waits: Wait,
    /// Scheduled for the driver to poll ([`NetRing::schedule`]).
    queued: bool,
    /// A connection future serves it.
    served: bool,
    /// Closed by its connection while a send was in flight: the fd closes when it ends.
    closing: bool,
    /// What a connection without a future keeps.
    parked: Parked,
    /// A TLS connection's session (`tls.rs`); `input` then holds its plaintext.
    tls: Option<Box<tls::TlsConn>>,
}

impl Slot {
    /// More is waiting than the connection has room for: its lent buffer is full, or,
    /// with none lent, [`PAUSE_AT`] bytes wait.
    fn over(&self) -> bool {
        self.end >= self.limit()
    }

    /// How many bytes may wait: the lent buffer's size, or [`PAUSE_AT`] with none lent.
    fn limit(&self) -> usize {
        match self.lent {
            Some(_) => self.room as usize,
            None => PAUSE_AT,
        }
    }

    /// No recv is armed and the connection can take more.
    fn wants_recv(&self) -> bool {
        self.recv == Recv::Off && !self.eof && self.error == 0 && !self.over()
    }

    fn has_input(&self) -> bool {
        self.end > self.lent.map_or(0, |at| at as usize) || self.eof || self.error != 0
    }
}

/// What the ring needs of the shard: its counters and the process's connection count.
pub struct Accounts {
    pub counters: Arc<Counters>,
    pub open_conns: Arc<AtomicUsize>,
    pub conn_limit: usize,
    /// The state a new connection starts with.
    pub fresh: Parked,
    /// `idle_timeout` in ms: a new connection that sends nothing is closed after it.
    pub idle_timeout_ms: Option<u64>,
    /// `-Z`: TCP listeners serve TLS, but those on `notls` addresses.
    pub tls: Option<Arc<crate::tls::Tls>>,
    pub notls: Vec<std::net::SocketAddr>,
}

/// A connection the shard must give a future to: new, or parked with bytes to read.
pub struct Ready {
    pub id: ConnId,
    pub state: Parked,
    pub fd: RawFd,
}

/// A listener's accept failed and its multishot ended: the shard decides when to re-arm.
pub struct AcceptFailed {
    pub listener: usize,
    pub fd: RawFd,
    pub error: io::Error,
}

pub struct NetRing {
    // Dropped first: the kernel stops using the buffers and replies below with it.
    ring: RefCell<IoUring>,
    bufs: RefCell<Buffers>,
    slots: RefCell<Vec<Slot>>,
    free: RefCell<Vec<u32>>,
    /// The descriptor registered (or being registered) at each index of the ring's file
    /// table, which slot `i` uses: read by the kernel when the update is submitted, so it
    /// never moves. Slots past its end use their plain descriptor.
    files: Box<[std::cell::Cell<RawFd>]>,
    listeners: Vec<RawFd>,
    /// A listener whose clients are handed out ([`NetRing::hand_out`]).
    hand_out: Option<HandingOut>,
    accepting: Cell<bool>,
    ready: RefCell<Vec<Ready>>,
    /// Connections scheduled for the driver to poll.
    runnable: RefCell<Vec<ConnId>>,
    accept_failed: RefCell<Vec<AcceptFailed>>,
    /// The eventfd the kernel signals while the driver sleeps.
    eventfd: OwnedFd,
    asleep: Cell<bool>,
    driver: RefCell<Option<Waker>>,
    accounts: Accounts,
    /// Recvs are multishot, capped per arming (`setup::capped_multishot_works`).
    capped_multishot: bool,
    /// Replies of several pieces go out as a vectored send (`setup::vectored_send_works`).
    vectored_send: bool,
    /// Connections without a future.
    parked: Cell<usize>,
    open: Cell<usize>,
    rejections: crate::ratelog::RateLog,
    tls: tls::RingTls,
}

impl NetRing {
    /// A ring for `listeners`, with `buffers` provided buffers (rounded to a power of two);
    /// multishot recvs with `capped_multishot`, vectored sends with `vectored_send`.
    /// `entries` submission entries (a full queue is submitted at once); completions get
    /// four times as many (more wait in the kernel, none lost). Locked memory: see
    /// `crate::memlock::NET_RING_LOCKED`.
    pub fn new(
        listeners: Vec<RawFd>,
        capped_multishot: bool,
        vectored_send: bool,
        entries: u32,
        buffers: usize,
        accounts: Accounts,
    ) -> io::Result<NetRing> {
        // The ring is dropped before the buffers (field order).
        let (mut ring, bufs) = setup(entries, buffers)?;
        // SAFETY: eventfd returns a new descriptor or -1.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if efd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: just created, owned here.
        let eventfd = unsafe { OwnedFd::from_raw_fd(efd) };
        ring.submitter().register_eventfd(eventfd.as_raw_fd())?;
        ring.completion().disable_eventfd();
        let files = register_files(&ring, accounts.conn_limit);
        let tls = tls::RingTls::new(&listeners, &accounts);
        Ok(NetRing {
            ring: RefCell::new(ring),
            bufs: RefCell::new(bufs),
            slots: RefCell::new(Vec::new()),
            free: RefCell::new(Vec::new()),
            files,
            listeners,
            hand_out: None,
            accepting: Cell::new(false),
            ready: RefCell::new(Vec::new()),
            runnable: RefCell::new(Vec::new()),
            accept_failed: RefCell::new(Vec::new()),
            eventfd,
            asleep: Cell::new(false),
            driver: RefCell::new(None),
            accounts,
            capped_multishot,
            vectored_send,
            parked: Cell::new(0),
            open: Cell::new(0),
            rejections: crate::ratelog::RateLog::new(5),
            tls,
        })
    }

    pub fn eventfd(&self) -> RawFd {
        self.eventfd.as_raw_fd()
    }

    /// Arms a multishot accept on every listener.
    pub fn start_accepting(&self) {
        self.accepting.set(true);
        for i in 0..self.listeners.len() {
            self.arm_accept(i);
        }
    }

    pub fn arm_accept(&self, listener: usize) {
        if !self.accepting.get() {
            return;
        }
        if self.arm_hand_out(listener) {
            return;
        }
        let e = opcode::AcceptMulti::new(types::Fd(self.listeners[listener]))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(user_data(OP_ACCEPT, 0, listener as u32));
        self.push(e);
    }

    /// This ring's descriptor, for peers to post into ([`NetRing::post_to`]).
    pub fn ring_fd(&self) -> RawFd {
        self.ring.borrow().as_raw_fd()
    }

    /// Posts a completion into a peer's network ring, which wakes it if it waits there;
    /// goes out with this ring's next submission. A post to a ring that has meanwhile
    /// closed fails on our side, and is ignored.
    pub fn post_to(&self, ring: RawFd) {
        let e = opcode::MsgRingData::new(types::Fd(ring), 0, user_data(OP_PEER, 0, 0), None)
            .build()
            .flags(squeue::Flags::SKIP_SUCCESS)
            .user_data(user_data(OP_POSTED, 0, 0));
        self.push(e);
    }

    /// No new connections (stop): the listeners' accepts end as they are shut down.
    pub fn stop_accepting(&self) {
        self.accepting.set(false);
    }

    /// Connections open on this shard (with a future or without).
    pub fn open(&self) -> usize {
        self.open.get()
    }

    fn set_parked(&self, n: usize) {
        self.parked.set(n);
        self.accounts
            .counters
            .set(Stat::ParkedConnections, n as u64);
    }

    /// Queues a submission; with the queue full, submits what is queued first.
    fn push(&self, e: squeue::Entry) {
        self.push_inline(e)
    }

    /// [`NetRing::push`] inlined, for the paths that run once per request (a reply's send):
    /// the entry is written into the queue where it is built, without a call per layer.
    #[inline(always)]
    fn push_inline(&self, e: squeue::Entry) {
        let mut ring = self.ring.borrow_mut();
        // SAFETY: every entry's buffers outlive its completion (see the module's note).
        let full = unsafe { ring.submission().push(&e).is_err() };
        if full {
            Self::push_full(&mut ring, &e);
        }
        drop(ring);
        self.kick();
    }

    /// The queue is full: what is queued is submitted, then `e` queued.
    #[cold]
    #[inline(never)]
    fn push_full(ring: &mut IoUring, e: &squeue::Entry) {
        let _ = ring.submit();
        // SAFETY: as in `push_inline`.
        let _ = unsafe { ring.submission().push(e) };
    }

    /// Wakes the driver if it sleeps: something was queued.
    fn kick(&self) {
        if self.asleep.get() {
            self.wake();
        }
    }

    /// One pass: submits what is queued, runs the kernel's pending completions, and reaps
    /// every completion. Returns how many it reaped.
    pub fn pass(&self, pool: &BufferPool) -> usize {
        {
            let mut ring = self.ring.borrow_mut();
            let mut sq = ring.submission();
            sq.sync();
            let queued = sq.len();
            let taskrun = sq.taskrun() || sq.cq_overflow();
            drop(sq);
            if queued > 0 || taskrun {
                // SAFETY: a plain enter with no argument.
                let _ = unsafe {
                    ring.submitter().enter::<libc::sigset_t>(
                        queued as u32,
                        0,
                        ENTER_GETEVENTS,
                        None,
                    )
                };
            }
        }
        let mut seen = 0;
        let mut cqes = [(0u64, 0i32, 0u32); 16];
        loop {
            let n = {
                let mut ring = self.ring.borrow_mut();
                let mut cq = ring.completion();
                let mut n = 0;
                for c in &mut cq {
                    cqes[n] = (c.user_data(), c.result(), c.flags());
                    n += 1;
                    if n == cqes.len() {
                        break;
                    }
                }
                n
            };
            if n == 0 {
                break;
            }
            seen += n;
            for &(ud, res, flags) in &cqes[..n] {
                self.complete(ud, res, flags, pool);
            }
            self.bufs.borrow().publish();
        }
        seen
    }

    /// Waits in this ring for a completion, at most `timeout`, submitting what is queued:
    /// for a driver with nothing to do on a shard that is busy, cheaper than sleeping in
    /// glommio's reactor and being woken through the eventfd. Returns false if it timed out
    /// with nothing completed. Glommio's timers and I/O, and peers that do not ring the
    /// doorbell, wait meanwhile: the caller bounds `timeout` accordingly.
    pub fn wait(&self, timeout: std::time::Duration) -> bool {
        let mut ring = self.ring.borrow_mut();
        {
            let mut cq = ring.completion();
            cq.sync();
            if !cq.is_empty() {
                return true;
            }
        }
        let ts = types::Timespec::from(timeout);
        let args = types::SubmitArgs::new().timespec(&ts);
        match ring.submitter().submit_with_args(1, &args) {
            Err(e) if e.raw_os_error() == Some(libc::ETIME) => {
                let mut cq = ring.completion();
                cq.sync();
                !cq.is_empty()
            }
            _ => true,
        }
    }

    /// Whether a pass has anything to do now.
    pub fn busy(&self) -> bool {
        let mut ring = self.ring.borrow_mut();
        let mut sq = ring.submission();
        sq.sync();
        if !sq.is_empty() || sq.taskrun() {
            return true;
        }
        drop(sq);
        let mut cq = ring.completion();
        cq.sync();
        !cq.is_empty()
    }

    /// Serves a client this shard accepted on `listener`, or one handed over (a unix
    /// socket's, `None`: never TLS): counted, held to the connection limit, parked until it
    /// sends, as every client is.
    pub fn adopt(&self, fd: OwnedFd, listener: Option<usize>) {
        let a = &self.accounts;
        if !self.accepting.get() {
            return; // dropped: closed
        }
        let fd = fd.into_raw_fd();
        // The ring's accept was prepared with the descriptor limit of its time: a client
        // past today's limit is turned away as an accept failing for want of descriptors
        // would be (src/listen.rs's spare does that for those).
        let past_limit = {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit fills the struct.
            let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
            rc == 0 && fd as u64 >= lim.rlim_cur
        };
        if past_limit {
            if let Some(note) = self.rejections.admit() {
                log::warn!(
                    "accept: the process is out of descriptors; the client was told ERROR Too many open connections{note}"
                );
            }
        }
        if past_limit || a.open_conns.fetch_add(1, Ordering::Relaxed) >= a.conn_limit {
            if !past_limit {
                a.open_conns.fetch_sub(1, Ordering::Relaxed);
            }
            a.counters.incr(Stat::RejectedConnections);
            crate::listen::turn_away(fd);
            return;
        }
        let session = match listener.map(|l| self.tls_session(l, fd)) {
            Some(Ok(session)) => session,
            Some(Err(())) => return,
            None => None,
        };
        a.counters.incr(Stat::CurrConnections);
        a.counters.incr(Stat::TotalConnections);
        crate::watch::conn_event(&a.counters.watch, fd, false);
        let one: libc::c_int = 1;
        // SAFETY: setsockopt with a valid int option on our socket (fails harmlessly on a
        // unix socket).
        unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                &one as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        let idx = match self.free.borrow_mut().pop() {
            Some(i) => i,
            None => {
                let mut slots = self.slots.borrow_mut();
                slots.push(Slot {
                    fd: -1,
                    ..Slot::default()
                });
                (slots.len() - 1) as u32
            }
        };
        let gen = {
            let mut slots = self.slots.borrow_mut();
            let s = &mut slots[idx as usize];
            s.fd = fd;
            s.parked = a.fresh;
            s.tls = session;
            if let Some(t) = a.idle_timeout_ms {
                s.parked.kick_at_ms = crate::shard::unix_now_ms() + t;
            }
            s.gen
        };
        self.open.set(self.open.get() + 1);
        self.set_parked(self.parked.get() + 1);
        // Registered before the recv that uses it: the ring issues entries in order, and
        // a file update completes as it is issued.
        if let Some(cell) = self.files.get(idx as usize) {
            cell.set(fd);
            self.push(
                opcode::FilesUpdate::new(cell.as_ptr(), 1)
                    .offset(idx as i32)
                    .build()
                    .flags(squeue::Flags::SKIP_SUCCESS)
                    .user_data(user_data(OP_FILES, gen, idx)),
            );
        }
        self.arm_recv(idx, gen, fd);
        let mut slots = self.slots.borrow_mut();
        slots[idx as usize].recv = Recv::Armed;
    }

    /// A recv for the slot: multishot where the kernel caps it at the room the slot has
    /// left (so it takes no more than one recv at a time would), else one recv.
    fn arm_recv(&self, idx: u32, gen: u32, fd: RawFd) {
        let sock = self.sock(idx, fd);
        let cap = self.capped_multishot.then(|| {
            let slots = self.slots.borrow();
            let s = &slots[idx as usize];
            s.limit().saturating_sub(s.end).max(1) as u32
        });
        let e = recv_entry(sock, cap).user_data(user_data(OP_RECV, gen, idx));
        self.push(e);
    }

    /// How slot `idx`'s ops name its socket `fd`.
    fn sock(&self, idx: u32, fd: RawFd) -> Sock {
        if (idx as usize) < self.files.len() {
            Sock::Fixed(idx)
        } else {
            Sock::Fd(fd)
        }
    }

    /// Closes the connections without a future that `close` picks; returns how many.
    pub fn close_parked(&self, mut close: impl FnMut(&Parked) -> bool, pool: &BufferPool) -> usize {
        let picked: Vec<u32> = self
            .slots
            .borrow()
            .iter()
            .enumerate()
            .filter(|(_, s)| s.fd >= 0 && !s.served && !s.closing && close(&s.parked))
            .map(|(i, _)| i as u32)
            .collect();
        for &i in &picked {
            self.finish_close(i, pool);
        }
        picked.len()
    }

    /// Shuts down every open connection's socket (`how`: SHUT_RD at a stop, SHUT_RDWR at
    /// the shutdown timeout); returns how many.
    pub fn shutdown_all(&self, how: i32) -> usize {
        let slots = self.slots.borrow();
        let mut n = 0;
        for s in slots.iter().filter(|s| s.fd >= 0) {
            // SAFETY: an open connection's socket; its pending ops complete.
            unsafe { libc::shutdown(s.fd, how) };
            n += 1;
        }
        n
    }

    /// New connections and parked ones with bytes to read, for the shard to serve.
    pub fn take_ready(&self, into: &mut Vec<Ready>) {
        std::mem::swap(&mut *self.ready.borrow_mut(), into);
    }

    pub fn take_accept_failed(&self) -> Vec<AcceptFailed> {
        std::mem::take(&mut *self.accept_failed.borrow_mut())
    }

    /// Before the driver sleeps: lets the kernel signal the eventfd, and says whether work
    /// came meanwhile (then the driver does not sleep).
    pub fn prepare_sleep(&self) -> bool {
        self.ring.borrow_mut().completion().enable_eventfd();
        if self.busy() {
            self.ring.borrow_mut().completion().disable_eventfd();
            return false;
        }
        self.asleep.set(true);
        true
    }

    /// Ready when woken by the eventfd task or by something queued.
    pub fn poll_sleep(&self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.asleep.get() {
            return Poll::Ready(());
        }
        *self.driver.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }

    /// The eventfd task read the eventfd: the driver wakes.
    pub fn wake(&self) {
        if self.asleep.replace(false) {
            self.ring.borrow_mut().completion().disable_eventfd();
        }
        if let Some(w) = self.driver.borrow_mut().take() {
            w.wake();
        }
    }

    /// After the driver wakes.
    pub fn woke(&self) {
        if self.asleep.replace(false) {
            self.ring.borrow_mut().completion().disable_eventfd();
        }
    }
}

/// Registers a sparse file table for `conn_limit` connections (within the descriptor
/// limit), which slots then use by index; none if the kernel refuses it, and the slots use
/// their descriptors.
fn register_files(ring: &IoUring, conn_limit: usize) -> Box<[std::cell::Cell<RawFd>]> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct.
    let nofile = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur as usize
    } else {
        0
    };
    let n = conn_limit.min(nofile).min(1 << 20);
    if n == 0 {
        return Box::new([]);
    }
    match ring.submitter().register_files_sparse(n as u32) {
        Ok(()) => (0..n).map(|_| std::cell::Cell::new(-1)).collect(),
        Err(e) => {
            log::debug!("no registered files ({e}): connections use their descriptors");
            Box::new([])
        }
    }
}
