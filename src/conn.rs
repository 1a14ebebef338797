//! One client connection: read, parse, route, reply.
//!
//! ```text
//!   socket ─read─► rbuf ─parse─► Request ─split into KeyOps─┬─ local key: engine::apply → out
//!                                                           └─ other shard: encode into that
//!                                                              peer's Batch, mark a splice in out
//!   after the read batch: one Batch per peer, await them, splice replies in request order,
//!   one write of `out`
//! ```
//!
//! At most `-R` requests are handled per pass before the connection yields, as memcached's
//! `reqs_per_event`. A pass parses a window of requests before running them, so the store can
//! prefetch their index buckets and items. Values of 8 KiB and more are sent straight from the
//! store's memory, pinned there until sent ([`crate::engine::reply`]). A connection that stops
//! reading its replies stops being read: each pass's replies are written in full before more
//! input is read. Memory outside the store is bounded per shard ([`BufferPool::budget`]): a
//! pass's copied replies (past the budget, values are pinned instead and passes stop early)
//! and read buffers grown for requests still arriving (past it, a connection waits unread).
//! A connection waiting with nothing buffered lends its buffers to the shard's [`BufferPool`];
//! one waiting longer than `--park-after-ms` parks: it gives up its task and waits as a bare
//! descriptor ([`crate::park`]), and a fresh task resumes it when bytes arrive.

use std::io::ErrorKind;
use std::mem;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use crate::engine::reply::{Held, Reply, MAX_HELD, PIN_FROM};
use crate::engine::{self, KeyOp, ReplySink};
use crate::park::Parked;
use crate::protocol::binary;
use crate::protocol::text::{self, Command, Limits, Parse, Request};
use crate::shard::{unix_now_ms, Batch, Inbox, Shard};
use crate::stats::{self, Stat};
use crate::store::{key_hash, Prefetch, StoreValue};

const READ_BUF: usize = 16 << 10;
/// Requests parsed ahead of execution, for prefetching (see `process_in`).
const WINDOW: usize = 32;

/// The requests parsed ahead of execution, in order, without initialising the slots a
/// window does not fill: a request is about 400 bytes, and writing 32 empty `Option`s
/// cost more than parsing one request (at pipeline 1 it was a quarter of the server's
/// instructions, measured with callgrind). Requests are run in place, by reference, so
/// each is written once.
struct Window<'a> {
    slots: [mem::MaybeUninit<Parsed<'a>>; WINDOW],
    /// Slots `..len` hold requests.
    len: usize,
}

/// A request in a window: the bytes it used, and its key's hash when prefetching computed
/// it (a `get` of one local key), so the lookup need not hash the key again.
struct Parsed<'a> {
    req: Request<'a>,
    used: usize,
    hash: Option<u64>,
}

// A request borrows everything it holds: a window drops nothing.
const _: () = assert!(!mem::needs_drop::<Request<'static>>());

impl<'a> Window<'a> {
    fn new() -> Self {
        Window {
            slots: [const { mem::MaybeUninit::uninit() }; WINDOW],
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Panics when full (the caller stops at `WINDOW`).
    fn push(&mut self, req: Request<'a>, used: usize) {
        self.slots[self.len].write(Parsed {
            req,
            used,
            hash: None,
        });
        self.len += 1;
    }

    /// The requests, with the bytes each used.
    fn parsed(&self) -> &[Parsed<'a>] {
        let live = &self.slots[..self.len];
        // SAFETY: slots ..len were written by `push`; MaybeUninit<T> has T's layout.
        unsafe { &*(live as *const [mem::MaybeUninit<Parsed<'a>>] as *const [Parsed<'a>]) }
    }

    /// Records the key hash of request `i`.
    fn set_hash(&mut self, i: usize, hash: Option<u64>) {
        assert!(i < self.len);
        // SAFETY: slot `i` was written by `push` (checked above).
        unsafe { self.slots[i].assume_init_mut().hash = hash };
    }
}

/// Feeds the local keys of `req` to a prefetcher. Returns the hash of the key of a `get`
/// with one key, local or not. Inlined, as is [`Conn::route`]: once per request each, and
/// their calls cost more than their work on a `get` (callgrind).
#[inline(always)]
fn prefetch_keys(shard: &Shard, prefetch: &mut Prefetch<'_>, req: &Request<'_>) -> Option<u64> {
    let mut local = |key: &[u8]| {
        let h = key_hash(key);
        if shard.owner_of_hash(h) == shard.id {
            prefetch.hashed(h);
        }
        h
    };
    match &req.cmd {
        Command::Get { keys, .. } if keys.is_single() => return Some(local(keys.0)),
        Command::Get { keys, .. } => keys.iter().for_each(|k| {
            local(k);
        }),
        Command::Store { key, .. }
        | Command::Delete { key }
        | Command::Arith { key, .. }
        | Command::Touch { key, .. } => {
            local(key);
        }
        Command::Meta(m) => {
            local(m.key(&mut None));
        }
        _ => {}
    }
    None
}

/// Whether a parsed request looks up more than one key (`get k1 k2 ...`).
fn has_many_keys(p: &Parsed<'_>) -> bool {
    matches!(&p.req.cmd, Command::Get { keys, .. } if !keys.is_single())
}

/// An idle connection's read buffer.
const TINY_BUF: usize = 512;
/// Small buffers of each kind a shard keeps for its connections to borrow, at least: more
/// when its memory allows ([`BufferPool::new`]).
const POOL_MIN: usize = 64;
/// Bytes of small buffers of each kind a shard keeps at most.
const POOL_BYTES_MAX: usize = 16 << 20;

mod binary_conn;
mod text_auth;

/// A shard's spare connection buffers. A connection that waits for input with nothing
/// buffered lends its read and reply buffers here and borrows them back when bytes arrive,
/// so 10,000 idle connections hold 10,000 small buffers, not 10,000 big ones, and a busy
/// connection borrows without allocating.
///
/// Buffers grown by large values (a `set` of 100 KiB read whole, a reply the socket did
/// not take at once) are kept too, up to [`BufferPool::new`]'s budget: a fresh one costs a
/// page fault per 4 KiB touched, which with 100 KiB values was about a tenth of the
/// server's CPU (perf, `scripts/ab.py --data-size 102400`).
#[derive(Debug)]
pub struct BufferPool {
    read: std::cell::RefCell<Vec<Vec<u8>>>,
    out: std::cell::RefCell<Vec<Vec<u8>>>,
    /// Grown read buffers, every byte initialized (`len` is their size).
    big_read: std::cell::RefCell<Vec<Vec<u8>>>,
    /// Grown reply buffers, empty.
    big_out: std::cell::RefCell<Vec<Vec<u8>>>,
    /// Capacity held in the two big lists.
    big_bytes: std::cell::Cell<usize>,
    /// Most capacity the big lists may hold.
    big_budget: usize,
    /// Most buffers each small list may hold.
    small_max: usize,
    /// The shortest each small list has been since the last [`BufferPool::trim`]: that
    /// many buffers were not needed in that time.
    read_low: std::cell::Cell<usize>,
    out_low: std::cell::Cell<usize>,
    /// Copied reply bytes that connections whose sockets are full still hold.
    reply_waiting: std::cell::Cell<usize>,
    /// Past this many, replies hold values in place instead of copying them
    /// ([`BufferPool::replies_over_budget`]).
    reply_budget: usize,
    /// KiB that read buffers grown past [`READ_BUF`] may hold, all connections together.
    read_budget: Rc<glommio::sync::Semaphore>,
    read_budget_kib: u64,
}

/// Most bytes of grown buffers a shard keeps for reuse.
const BIG_POOL_BYTES: usize = 8 << 20;
/// The largest buffer kept for reuse.
const BIG_MAX: usize = 2 << 20;

impl BufferPool {
    /// A shard's pool. Grown buffers it keeps are bounded by a sixteenth of the shard's
    /// memory limit (`-m` over the shards) and by `BIG_POOL_BYTES`, so with a small `-m`
    /// the process stays near its limit (tests/store.rs holds it to 4 MiB over).
    ///
    /// Small buffers: as many as that sixteenth holds (at most `POOL_BYTES_MAX`), at
    /// least `POOL_MIN`, of each kind. A shard whose busy connections outnumber what it
    /// keeps frees buffers as connections go idle and allocates them again, zeroed, as
    /// they wake: with 200 connections at pipeline 16, 2 shards, `memset` and `malloc`
    /// took about 25 ns per request (perf) when it kept 64. memcached's read buffer cache
    /// keeps what its connections have used (`-o read_buf_mem_limit`, unlimited by default).
    pub fn new(shard_mem: usize) -> BufferPool {
        BufferPool {
            read: Default::default(),
            out: Default::default(),
            big_read: Default::default(),
            big_out: Default::default(),
            big_bytes: Default::default(),
            big_budget: (shard_mem / 16).min(BIG_POOL_BYTES),
            small_max: ((shard_mem / 16).min(POOL_BYTES_MAX) / READ_BUF).max(POOL_MIN),
            read_low: Default::default(),
            out_low: Default::default(),
            reply_waiting: Default::default(),
            reply_budget: Self::budget(shard_mem),
            read_budget: Rc::new(glommio::sync::Semaphore::new(
                (Self::budget(shard_mem) >> 10) as u64,
            )),
            read_budget_kib: (Self::budget(shard_mem) >> 10) as u64,
        }
    }

    /// Each of the two per-shard budgets for memory outside the store: an eighth of the
    /// shard's `-m`, at least 1 MiB (a largest default item).
    pub fn budget(shard_mem: usize) -> usize {
        (shard_mem / 8).max(1 << 20)
    }

    /// Whether the copied replies waiting on full sockets use the shard's budget up: then
    /// passes stop early and values are held, not copied.
    pub fn replies_over_budget(&self) -> bool {
        self.reply_waiting.get() >= self.reply_budget
    }

    /// Copied reply bytes waiting on full sockets (`stats`).
    pub fn reply_bytes_waiting(&self) -> usize {
        self.reply_waiting.get()
    }

    /// KiB of grown read buffers held now (`stats`).
    pub fn read_kib_held(&self) -> u64 {
        self.read_budget_kib - self.read_budget.available()
    }

    /// Frees the small buffers that have sat unused since the last call (down to
    /// `POOL_MIN` of each kind) and returns how many. The shard calls it about once a
    /// second: a burst of connections can fill the pool (each keeps its buffers until the
    /// others have had a turn), and the steady load keeps what it uses.
    pub fn trim(&self) -> usize {
        let mut freed = 0;
        for (list, low) in [(&self.read, &self.read_low), (&self.out, &self.out_low)] {
            let mut list = list.borrow_mut();
            let surplus = low.get().min(list.len().saturating_sub(POOL_MIN));
            let keep = list.len() - surplus;
            list.truncate(keep);
            list.shrink_to_fit();
            freed += surplus;
            low.set(list.len());
        }
        freed
    }

    /// A read buffer: `READ_BUF` initialized bytes.
    fn take_read(&self) -> Vec<u8> {
        Self::pop_small(&self.read, &self.read_low).unwrap_or_else(|| vec![0; READ_BUF])
    }

    /// An empty reply buffer with room for `READ_BUF` bytes.
    fn take_out(&self) -> Vec<u8> {
        Self::pop_small(&self.out, &self.out_low).unwrap_or_else(|| Vec::with_capacity(READ_BUF))
    }

    /// A spare small buffer, if any, noting how low the list went (for [`BufferPool::trim`]).
    fn pop_small(
        list: &std::cell::RefCell<Vec<Vec<u8>>>,
        low: &std::cell::Cell<usize>,
    ) -> Option<Vec<u8>> {
        let mut list = list.borrow_mut();
        let b = list.pop();
        low.set(low.get().min(list.len()));
        b
    }

    /// A read buffer of at least `len` initialized bytes.
    fn take_big_read(&self, len: usize) -> Vec<u8> {
        let mut v = self
            .take_big(&self.big_read, len, |v| v.len())
            .unwrap_or_default();
        if v.len() < len {
            v.resize(len, 0);
        }
        v
    }

    /// An empty reply buffer with room for at least `len` bytes: a small one, or a grown
    /// one kept from earlier (or, failing that, a new one of the next power of two).
    fn take_out_for(&self, len: usize) -> Vec<u8> {
        let mut out = if len <= 4 * READ_BUF {
            self.take_out()
        } else {
            self.take_big(&self.big_out, len, |v| v.capacity())
                .unwrap_or_else(|| {
                    Vec::with_capacity(len.next_power_of_two().min(BIG_MAX).max(len))
                })
        };
        out.reserve(len);
        out
    }

    fn take_big(
        &self,
        list: &std::cell::RefCell<Vec<Vec<u8>>>,
        len: usize,
        size: impl Fn(&Vec<u8>) -> usize,
    ) -> Option<Vec<u8>> {
        let mut list = list.borrow_mut();
        let i = list.iter().position(|v| size(v) >= len)?;
        let v = list.swap_remove(i);
        self.big_bytes.set(self.big_bytes.get() - v.capacity());
        Some(v)
    }

    fn put_big(&self, list: &std::cell::RefCell<Vec<Vec<u8>>>, v: Vec<u8>) {
        let cap = v.capacity();
        if cap <= BIG_MAX && self.big_bytes.get() + cap <= self.big_budget {
            self.big_bytes.set(self.big_bytes.get() + cap);
            list.borrow_mut().push(v);
        }
    }

    /// Takes back a read and a reply buffer.
    fn put(&self, rbuf: Vec<u8>, out: Vec<u8>) {
        self.put_read(rbuf);
        self.put_out(out);
    }

    fn put_read(&self, rbuf: Vec<u8>) {
        if rbuf.len() > READ_BUF {
            return self.put_big(&self.big_read, rbuf);
        }
        let mut read = self.read.borrow_mut();
        if rbuf.len() == READ_BUF && read.len() < self.small_max {
            read.push(rbuf);
        }
    }

    fn put_out(&self, mut out: Vec<u8>) {
        out.clear();
        if out.capacity() > 4 * READ_BUF {
            return self.put_big(&self.big_out, out);
        }
        let mut pool = self.out.borrow_mut();
        if out.capacity() >= READ_BUF && pool.len() < self.small_max {
            pool.push(out);
        }
    }
}

/// What a pass over the buffered input ends with.
enum Next {
    /// Every complete request is handled; read more.
    Read,
    /// `-R` requests handled, or the reply reached the connection's share: write, let
    /// others run, then go on with the buffered input.
    Yield,
    /// The reply reached the connection's share in the middle of a multi-key `get`: write,
    /// then go on with the same request from `get_resume`.
    Drain,
    /// A request must see the effects of every earlier one (`stats`): settle forwarded
    /// work first, then go on.
    Settle,
    /// Write what is pending, then close.
    Close,
}

/// Where a forwarded op's reply goes in `out`.
struct Splice {
    at: usize,
    /// Values held in `out` before this point: they come before the spliced reply.
    held_before: u32,
    peer: u32,
    op: u32,
}

struct Conn {
    rbuf: Vec<u8>,
    /// What an idle connection reads into while its big buffers are lent out.
    tiny: Box<[u8; TINY_BUF]>,
    start: usize,
    end: usize,
    /// Bytes still to discard after a too-large value (memcached's `conn_swallow`).
    swallow: usize,
    out: Out,
    spare: Vec<u8>,
    spare_held: Vec<Held>,
    /// Work for each peer, indexed by shard (the own entry stays empty).
    batches: Vec<Batch>,
    splices: Vec<Splice>,
    inbox: Option<Inbox>,
    limits: Limits,
    proto: Proto,
    /// The client has authenticated (or the server asks for no authentication).
    authed: bool,
    /// Unix ms when `idle_timeout` closes a connection resumed from parking, if it stays
    /// idle (0: a full `idle_timeout` from the next wait).
    kick_at_ms: u64,
    /// This connection's slot in the shard's [`crate::park::IdleWatch`] (parking on).
    idle_slot: Option<u32>,
    /// Requests handled in the last turn: one means the client waits for each reply.
    turn_reqs: u32,
    /// Keys of the current multi-key `get` already answered: a pass that filled the reply
    /// stops in the middle of it and goes on from here after a write.
    get_resume: usize,
    /// Gets forwarded in this pass (their replies are copied on their owners).
    forwarded_gets: u32,
    /// Bytes this connection counts in the shard's copied replies waiting to be sent.
    reply_counted: usize,
    /// The share of the read budget that the grown read buffer holds.
    read_permit: Option<(glommio::sync::StaticPermit, u64)>,
    /// The socket, to name the peer in the log of a failed authentication.
    fd: std::os::fd::RawFd,
}

/// How [`Conn::run`] ends.
enum Exit {
    Close,
    /// Idle past `--park-after-ms`: hand the descriptor to the parker.
    Park,
}

/// The protocol a connection speaks, chosen by its first byte as memcached does (`-B`
/// can fix it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Proto {
    Unknown = 0,
    Text = 1,
    Binary = 2,
}

impl Proto {
    fn from_u8(v: u8) -> Proto {
        match v {
            1 => Proto::Text,
            2 => Proto::Binary,
            _ => Proto::Unknown,
        }
    }
}

/// Serves one connection until the client quits, the peer closes, the server stops, or it
/// parks (then returns true: the connection stays open, and its counts stay). `resume` is
/// the state of a parked connection waking up.
pub async fn serve(shard: &Rc<Shard>, mut stream: TcpStream, resume: Option<Parked>) -> bool {
    if resume.is_none() {
        let _ = stream.set_nodelay(true);
    }
    let mut c = Conn {
        // No buffers yet: the first wait is with the small one, and bytes borrow them from
        // the shard (see `run`), so a burst of new connections that each send one request
        // does not hold a pair of 16 KiB buffers apiece until then, nor leave the pool
        // grown to its limit by buffers it never needed together.
        rbuf: Vec::new(),
        tiny: Box::new([0; TINY_BUF]),
        start: 0,
        end: 0,
        swallow: 0,
        out: Out {
            reply: Reply::default(),
            iov: Vec::new(),
            sent: 0,
            overflow: false,
        },
        spare: Vec::new(),
        spare_held: Vec::new(),
        batches: (0..shard.shards()).map(|_| Batch::default()).collect(),
        splices: Vec::new(),
        inbox: (shard.shards() > 1).then(|| shard.open_inbox()),
        limits: shard.limits(),
        proto: match shard.settings.protocol.as_str() {
            "ascii" => Proto::Text,
            "binary" => Proto::Binary,
            _ => Proto::Unknown,
        },
        authed: shard.auth.is_none(),
        kick_at_ms: 0,
        idle_slot: shard.park.as_ref().map(|p| p.watch.join()),
        turn_reqs: 0,
        get_resume: 0,
        forwarded_gets: 0,
        reply_counted: 0,
        read_permit: None,
        fd: stream.as_raw_fd(),
    };
    if let Some(p) = resume {
        c.proto = Proto::from_u8(p.proto);
        c.authed = p.authed;
        c.kick_at_ms = p.kick_at_ms;
    }
    let (exit, dup) = loop {
        let exit = c.run(shard, &mut stream).await;
        if !matches!(exit, Ok(Exit::Park)) {
            break (exit, -1);
        }
        // glommio's TcpStream cannot give its descriptor up: keep a duplicate and drop the
        // stream (and with it the pending wait, a poll or a peek, which consumes no data).
        // SAFETY: duplicating a descriptor the stream owns.
        let fd = unsafe { libc::fcntl(stream.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
        if fd >= 0 {
            break (exit, fd);
        }
        // Out of descriptors: this connection stays in its task and never parks.
        if let (Some(slot), Some(park)) = (c.idle_slot.take(), &shard.park) {
            park.watch.leave(slot);
        }
    };
    if let (Some(slot), Some(park)) = (c.idle_slot, &shard.park) {
        park.watch.leave(slot);
    }
    if let Some(inbox) = &c.inbox {
        shard.close_inbox(inbox.token);
    }
    if let (Ok(Exit::Park), Some(park)) = (&exit, &shard.park) {
        let state = Parked::new(c.proto as u8, c.authed, c.kick_at_ms);
        drop(c);
        drop(stream);
        return park.park(dup, state).is_ok();
    }
    let _ = stream.close().await;
    false
}

impl Conn {
    async fn run(&mut self, shard: &Rc<Shard>, stream: &mut TcpStream) -> std::io::Result<Exit> {
        loop {
            let next = self.process(shard);
            // The pass's copies count against the shard's budget from now until sent:
            // other connections run their passes while this one waits for its peers.
            self.count_reply(&shard.buffers, self.out.capacity());
            self.settle(shard).await;
            shard.after_writes();
            self.flush(shard, stream).await?;
            if self.out.overflow {
                return Ok(Exit::Close);
            }
            match next {
                Next::Close => return Ok(Exit::Close),
                Next::Settle => continue,
                Next::Yield | Next::Drain => {
                    glommio::yield_if_needed().await;
                    continue;
                }
                Next::Read => {}
            }
            if let Some(grow) = self.make_room() {
                self.reserve_read(&shard.buffers, grow).await;
                self.grow_rbuf(&shard.buffers, grow);
            }
            let mut wait = Wait::Poll;
            if self.start == self.end
                && self.swallow == 0
                && self.splices.is_empty()
                && !self.rbuf.is_empty()
            {
                // The next request, read without arming a poll (see `recv_after_others`).
                // (Not before the first: a new connection has no read buffer yet.)
                match self.recv_after_others(shard, stream.as_raw_fd()).await {
                    Direct::Read(Ok(0)) => return Ok(Exit::Close),
                    Direct::Read(Ok(n)) => {
                        self.end += n;
                        shard.counters.add(Stat::BytesRead, n as u64);
                        continue;
                    }
                    Direct::Read(Err(e)) if e.kind() == ErrorKind::Interrupted => continue,
                    Direct::Read(Err(e)) => return Err(e),
                    // A client that waits for each reply is served as soon as its next
                    // request comes; one that pipelines is not held up by a pass.
                    Direct::Missed if self.turn_reqs <= 1 => wait = Wait::Peek,
                    Direct::Missed | Direct::Idle => {}
                }
            }
            let read = if self.start == self.end {
                // Nothing buffered: wait with the small buffer and lend the big ones to the
                // shard, so an idle connection holds almost no memory.
                let pool = &shard.buffers;
                pool.put(
                    mem::take(&mut self.rbuf),
                    mem::take(&mut self.out.reply.buf),
                );
                self.read_permit = None;
                pool.put_out(mem::take(&mut self.spare));
                // The idle kick is a timer; parking is signalled by the shard's idle watch
                // (no timer per wait, see crate::park::IdleWatch).
                let kick = shard.settings.idle_timeout.map(|limit| {
                    match mem::take(&mut self.kick_at_ms) {
                        0 => limit,
                        at => Duration::from_millis(at.saturating_sub(unix_now_ms())),
                    }
                });
                let park = match (self.idle_slot, &shard.park) {
                    (Some(slot), Some(p)) if self.parkable(shard) => {
                        p.watch.wait_start(slot);
                        Some((&p.watch, slot))
                    }
                    _ => None,
                };
                let r = if kick.is_none() && park.is_none() {
                    recv_ready(stream, &mut self.tiny[..], wait).await
                } else {
                    let kick_at = kick.map(|k| unix_now_ms() + k.as_millis() as u64);
                    let tiny = &mut self.tiny[..];
                    let read = async { Ok(recv_ready(stream, tiny, wait).await) };
                    let timer = async {
                        match kick {
                            Some(k) => glommio::timer::sleep(k).await,
                            None => futures_lite::future::pending().await,
                        }
                        Err(Exit::Close)
                    };
                    let parked = async {
                        match park {
                            Some((watch, slot)) => watch.expired(slot).await,
                            None => futures_lite::future::pending().await,
                        }
                        Err(Exit::Park)
                    };
                    let woke =
                        futures_lite::future::or(read, futures_lite::future::or(timer, parked))
                            .await;
                    if let Some((watch, slot)) = park {
                        watch.wait_end(slot);
                    }
                    match woke {
                        Ok(r) => r,
                        Err(Exit::Park) => {
                            self.kick_at_ms = kick_at.unwrap_or(0);
                            return Ok(Exit::Park);
                        }
                        Err(Exit::Close) => {
                            // memcached's idle_timeout: an idle connection is closed.
                            shard.counters.incr(Stat::IdleKicks);
                            return Ok(Exit::Close);
                        }
                    }
                };
                self.rbuf = pool.take_read();
                self.out.reply.buf = pool.take_out();
                match r {
                    Ok(n) if n == TINY_BUF => {
                        // A pipeline filled the small buffer: take the rest of what is
                        // there now, so the batch is handled whole, in one pass.
                        self.rbuf[..n].copy_from_slice(&self.tiny[..n]);
                        match try_recv(stream.as_raw_fd(), &mut self.rbuf[n..]) {
                            Some(Ok(more)) if more > 0 => Ok(n + more),
                            _ => Ok(n),
                        }
                    }
                    Ok(n) => {
                        self.rbuf[..n].copy_from_slice(&self.tiny[..n]);
                        Ok(n)
                    }
                    Err(e) => Err(e),
                }
            } else {
                // The rest of a request (a large value, say): glommio's read, whose early
                // poll (see `recv_ready`) the next part's read does wait on.
                stream.read(&mut self.rbuf[self.end..]).await
            };
            let n = match read {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Ok(Exit::Close);
            }
            self.end += n;
            shard.counters.add(Stat::BytesRead, n as u64);
        }
    }

    /// Sends the pass's replies: straight away what the socket takes, then, while it is
    /// full, a chunk at a time through the reactor. Held values stay pinned until sent, so
    /// a client that does not read costs its own copied bytes and pins, nothing more, and
    /// is not read meanwhile.
    async fn flush(&mut self, shard: &Shard, stream: &mut TcpStream) -> std::io::Result<()> {
        if !self.out.pending() {
            self.count_reply(&shard.buffers, 0);
            return Ok(());
        }
        if self.out.len() > OUT_LIMIT {
            // A client that asks for this much copied and does not read it is not served
            // further: the connection closes rather than the server buffering without bound.
            self.out.overflow = true;
            self.out.finish();
            self.count_reply(&shard.buffers, 0);
            return Ok(());
        }
        let fd = stream.as_raw_fd();
        let mut chunk = Vec::new();
        let result = loop {
            match self.out.send_now(fd) {
                Ok(n) => shard.counters.add(Stat::BytesWritten, n as u64),
                Err(e) => break Err(e),
            }
            if self.out.all_sent() {
                break Ok(());
            }
            if chunk.capacity() == 0 {
                chunk = shard.buffers.take_out();
                self.count_reply(&shard.buffers, self.out.capacity() + chunk.capacity());
            }
            self.out.next_chunk(&mut chunk);
            if let Err(e) = stream.write_all(&chunk).await {
                break Err(e);
            }
            self.out.sent += chunk.len();
            shard.counters.add(Stat::BytesWritten, chunk.len() as u64);
        };
        if chunk.capacity() != 0 {
            shard.buffers.put_out(chunk);
        }
        self.out.finish();
        self.count_reply(&shard.buffers, 0);
        result
    }

    /// Sets this connection's part of the shard's copied replies waiting to be sent
    /// ([`BufferPool::replies_over_budget`]) to `bytes`.
    fn count_reply(&mut self, pool: &BufferPool, bytes: usize) {
        let w = &pool.reply_waiting;
        w.set(w.get() - self.reply_counted + bytes);
        self.reply_counted = bytes;
    }

    /// Between requests: lets the shard's other ready connections go first, then reads
    /// whatever this one's client has sent meanwhile with one direct `recv`. When nothing
    /// came ([`Direct::Missed`]), or nothing else ran, so nothing could have
    /// ([`Direct::Idle`]), the caller waits through the reactor ([`recv_ready`]).
    ///
    /// Waiting through the reactor costs an io_uring operation per request: a submission,
    /// a completion, and, since glommio's rings run completions as signalled task work,
    /// often an interrupt of the busy shard by the sender's CPU. With 50 clients at
    /// pipeline 1 the next request is already there after one turn of the others in
    /// 9 cases in 10 (measured), so the wait is skipped and so is the interrupt, as
    /// memcached's epoll skips them while it is busy. The shard bounds how many such reads
    /// happen between two passes of its reactor ([`crate::shard::Rounds`]), so connections
    /// that do wait through the reactor, and forwarded batches, are not starved.
    async fn recv_after_others(&mut self, shard: &Rc<Shard>, fd: std::os::fd::RawFd) -> Direct {
        if !shard.rounds.enabled() {
            return Direct::Idle;
        }
        if shard.rounds.take_fast() {
            let turns = shard.rounds.turns();
            futures_lite::future::yield_now().await;
            shard.take_peer_batches();
            if shard.rounds.turns() == turns {
                shard.rounds.refund();
                return Direct::Idle;
            }
        } else {
            // This pass's direct reads are used up: let the reactor run first.
            shard.rounds.next_pass().await;
        }
        match try_recv(fd, &mut self.rbuf[self.end..]) {
            Some(r) => Direct::Read(r),
            None => Direct::Missed,
        }
    }

    /// Whether an idle connection may park: nothing buffered, to write or to discard, no
    /// forwarded work outstanding, and the server not stopping. State a parked connection
    /// keeps is only `proto`, `authed` and the idle deadline ([`Parked`]): a protocol loop
    /// that holds more between requests must refuse parking here while it does.
    fn parkable(&self, shard: &Shard) -> bool {
        self.start == self.end
            && self.swallow == 0
            && !self.out.pending()
            && self.splices.is_empty()
            && !shard.stopping()
    }

    /// Keeps the unparsed bytes at the front and says how large the read buffer must grow
    /// to have room after them: at least the length a pending storage command needs, so a
    /// large value is read straight into place and each byte is moved at most once.
    fn make_room(&mut self) -> Option<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            return None;
        }
        if self.start > 0 {
            self.rbuf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let need = if self.proto == Proto::Binary {
            binary::need(&self.rbuf[..self.end], &self.limits)
        } else {
            match text::parse(&self.rbuf[..self.end], &self.limits) {
                Parse::Incomplete { need: Some(need) } => Some(need),
                _ => None,
            }
        };
        let need = need.unwrap_or(self.end + 1);
        (need > self.rbuf.len() || self.end == self.rbuf.len())
            .then(|| need.max(self.rbuf.len() * 2))
    }

    /// Holds the share of the shard's read budget that a read buffer of `len` bytes
    /// needs, waiting (not reading) until other connections' partial requests give it
    /// back: bytes of requests still arriving are bounded per shard
    /// ([`BufferPool::budget`]). A request larger than the whole budget waits for all of it.
    async fn reserve_read(&mut self, pool: &BufferPool, len: usize) {
        let kib = (len.saturating_sub(READ_BUF).div_ceil(1024) as u64).min(pool.read_budget_kib);
        if self.read_permit.as_ref().map_or(0, |p| p.1) >= kib {
            return;
        }
        self.read_permit = None;
        if let Ok(p) = pool.read_budget.acquire_static_permit(kib).await {
            self.read_permit = Some((p, kib));
        }
    }

    /// Moves the buffered bytes into a read buffer of at least `len` bytes.
    fn grow_rbuf(&mut self, pool: &BufferPool, len: usize) {
        let mut big = pool.take_big_read(len);
        big[..self.end].copy_from_slice(&self.rbuf[..self.end]);
        pool.put_read(mem::replace(&mut self.rbuf, big));
    }

    /// Handles the buffered complete requests (at most `-R`).
    fn process(&mut self, shard: &Shard) -> Next {
        // Requests borrow the read buffer while their replies are written into `self`.
        shard.rounds.turn();
        self.turn_reqs = 0;
        self.forwarded_gets = 0;
        // Over the shard's reply budget every value is held in place where the store
        // allows, so waiting replies stop growing the server's memory.
        self.out
            .reply
            .set_over_budget(shard.buffers.replies_over_budget());
        let rbuf = mem::take(&mut self.rbuf);
        let next = self.process_in(shard, &rbuf);
        self.rbuf = rbuf;
        next
    }

    fn process_in(&mut self, shard: &Shard, rbuf: &[u8]) -> Next {
        if shard.settings.noop {
            return self.process_noop(rbuf);
        }
        let now = shard.now();
        if self.proto == Proto::Unknown && self.start < self.end {
            self.proto = if rbuf[self.start] == binary::REQ_MAGIC {
                Proto::Binary
            } else {
                Proto::Text
            };
        }
        if self.proto == Proto::Binary {
            return self.process_binary(shard, rbuf, now);
        }
        if !self.authed {
            // `-Y`: only `set <any> <flags> <exptime> <len>` with `user password` gets in.
            if let Some(next) = self.text_auth(shard, rbuf) {
                return next;
            }
        }
        let mut handled = 0;
        loop {
            if self.swallow > 0 {
                let k = self.swallow.min(self.end - self.start);
                self.start += k;
                self.swallow -= k;
                if self.swallow > 0 {
                    return Next::Read;
                }
            }
            if self.start == self.end {
                return Next::Read;
            }
            // Parse a window of requests first, so the store can start loading their index
            // buckets and items while the rest are parsed: at pipeline depth the lookups
            // overlap instead of stalling one after another.
            let budget = (shard.settings.reqs_per_event - handled) as usize;
            let mut window = Window::new();
            let mut pos = self.start;
            let mut close = false;
            let store = shard.store.borrow();
            let mut prefetch = None;
            while window.len() < WINDOW.min(budget) && pos < self.end {
                match text::parse(&rbuf[pos..self.end], &self.limits) {
                    Parse::Incomplete { .. } => break,
                    Parse::Close => {
                        close = true;
                        break;
                    }
                    Parse::Done(req, used) => {
                        // These end a window: what follows depends on them.
                        let last = match &req.cmd {
                            Command::Stats { .. }
                            | Command::TooLarge { .. }
                            | Command::ErrorSwallow { .. }
                            | Command::Quit => true,
                            Command::Meta(m) => m.swallow() > 0,
                            _ => false,
                        };
                        window.push(req, used);
                        pos += used;
                        // From the second request on, or from a first one with several
                        // keys (a lone one-key request has nothing to overlap with), the
                        // keys' lookups start loading while parsing goes on.
                        let n = window.len();
                        if prefetch.is_none() && (n == 2 || has_many_keys(&window.parsed()[0])) {
                            let p = prefetch.insert(store.prefetcher());
                            let h = prefetch_keys(shard, p, &window.parsed()[0].req);
                            window.set_hash(0, h);
                            if n == 2 {
                                let h = prefetch_keys(shard, p, &window.parsed()[1].req);
                                window.set_hash(1, h);
                            }
                        } else if let Some(p) = prefetch.as_mut() {
                            let h = prefetch_keys(shard, p, &window.parsed()[n - 1].req);
                            window.set_hash(n - 1, h);
                        }
                        if last {
                            break;
                        }
                    }
                }
            }
            drop(prefetch);
            drop(store);
            let n = window.len();
            for Parsed { req, used, hash } in window.parsed() {
                if matches!(req.cmd, Command::Stats { .. }) && !self.splices.is_empty() {
                    return Next::Settle;
                }
                let next = self.handle(shard, req, *hash, now);
                if let Some(Next::Drain) = next {
                    return Next::Drain;
                }
                self.start += used;
                if let Some(next) = next {
                    return next;
                }
                handled += 1;
                self.turn_reqs += 1;
                if self.out_full(shard) {
                    return Next::Yield;
                }
            }
            if close {
                return Next::Close;
            }
            if n == 0 {
                return Next::Read;
            }
            if handled >= shard.settings.reqs_per_event {
                return Next::Yield;
            }
        }
    }

    /// `--bench-noop`: the same connection and I/O path with parsing and the store bypassed.
    /// Retrieval lines answer `END`, storage lines skip their data and answer `STORED`,
    /// anything else `ERROR`. It measures what everything but the I/O layer costs.
    fn process_noop(&mut self, rbuf: &[u8]) -> Next {
        loop {
            let buf = &rbuf[self.start..self.end];
            let Some(nl) = memchr::memchr(b'\n', buf) else {
                return Next::Read;
            };
            let line = &buf[..nl];
            let used = match line.first() {
                Some(b'g') => {
                    self.out.extend_from_slice(b"END\r\n");
                    nl + 1
                }
                Some(b's' | b'a' | b'r' | b'p' | b'c') => {
                    let len = line
                        .split(|&b| b == b' ')
                        .nth(4)
                        .and_then(|t| std::str::from_utf8(t.trim_ascii()).ok())
                        .and_then(|t| t.parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() < nl + 1 + len + 2 {
                        return Next::Read;
                    }
                    self.out.extend_from_slice(b"STORED\r\n");
                    nl + 1 + len + 2
                }
                _ => {
                    self.out.extend_from_slice(if line.starts_with(b"mn") {
                        b"MN\r\n"
                    } else {
                        b"ERROR\r\n"
                    });
                    nl + 1
                }
            };
            self.start += used;
            self.turn_reqs += 1;
        }
    }

    /// Runs or queues one op for the shard that owns its key.
    #[inline(always)]
    fn route(&mut self, shard: &Shard, owner: usize, op: KeyOp<'_>, now: u32) {
        if owner == shard.id {
            shard.inject_panic(&op);
            engine::apply(
                &mut shard.store.borrow_mut(),
                &shard.counters,
                &op,
                now,
                &mut self.out,
            );
        } else {
            if let KeyOp::Get { .. } = op {
                self.forwarded_gets += 1;
            }
            let b = &mut self.batches[owner];
            op.encode(&mut b.ops);
            self.splices.push(Splice {
                at: self.out.len(),
                held_before: self.out.reply.held.len() as u32,
                peer: owner as u32,
                op: b.n,
            });
            b.n += 1;
        }
    }

    /// Whether this pass's reply holds the connection's share: then the pass ends and the
    /// reply is written before more requests run. The share is [`CONN_SHARE`] while the
    /// shard's waiting replies are within budget, [`CONN_SHARE_OVER`] once they are not;
    /// a forwarded get counts as a largest copied value (its owner copies it).
    #[inline]
    fn out_full(&self, shard: &Shard) -> bool {
        let share = if shard.buffers.replies_over_budget() {
            CONN_SHARE_OVER
        } else {
            CONN_SHARE
        };
        self.out.len() + self.forwarded_gets as usize * PIN_FROM >= share
            || self.out.reply.held.len() >= MAX_HELD / 2
    }

    fn line(&mut self, noreply: bool, s: &str) {
        if !noreply {
            self.out.extend_from_slice(s.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
    }

    /// Handles one request; returns how the pass must end, if it must.
    /// `hash` is the key's hash for a `get` of one local key, when prefetching computed it.
    fn handle(
        &mut self,
        shard: &Shard,
        req: &Request<'_>,
        hash: Option<u64>,
        now: u32,
    ) -> Option<Next> {
        let noreply = req.noreply;
        match &req.cmd {
            Command::Get {
                kind,
                exptime,
                keys,
                bad_key,
            } => {
                // memcached drops the values it has gathered when a later key is too long
                // and answers the error alone.
                if *bad_key {
                    self.out
                        .extend_from_slice(b"CLIENT_ERROR bad command line format\r\n");
                    return None;
                }
                let skip = mem::take(&mut self.get_resume);
                for (i, key) in keys.iter().enumerate().skip(skip) {
                    // One hash per key routes it, and finds it on its shard (it travels
                    // with a forwarded get).
                    let h = match hash {
                        Some(h) if keys.is_single() => h,
                        _ => key_hash(key),
                    };
                    let op = KeyOp::Get {
                        kind: *kind,
                        exptime: *exptime,
                        key,
                        hash: Some(h),
                    };
                    self.route(shard, shard.owner_of_hash(h), op, now);
                    if self.out_full(shard) {
                        self.get_resume = i + 1;
                        return Some(Next::Drain);
                    }
                }
                self.out.extend_from_slice(b"END\r\n");
            }
            Command::Store {
                mode,
                key,
                flags,
                exptime,
                cas,
                data,
            } => {
                let op = KeyOp::Store {
                    mode: *mode,
                    key,
                    flags: *flags,
                    exptime: *exptime,
                    cas: *cas,
                    data,
                    noreply,
                };
                self.route(shard, shard.owner(key), op, now);
            }
            Command::TooLarge { mode, key, swallow } => {
                let op = KeyOp::TooLarge {
                    mode: *mode,
                    key,
                    noreply,
                };
                self.route(shard, shard.owner(key), op, now);
                self.swallow = *swallow;
            }
            Command::Delete { key } => {
                self.route(shard, shard.owner(key), KeyOp::Delete { key, noreply }, now);
            }
            Command::Arith { incr, key, delta } => {
                let op = KeyOp::Arith {
                    incr: *incr,
                    key,
                    delta: *delta,
                    noreply,
                };
                self.route(shard, shard.owner(key), op, now);
            }
            Command::Touch { key, exptime } => {
                let op = KeyOp::Touch {
                    key,
                    exptime: *exptime,
                    noreply,
                };
                self.route(shard, shard.owner(key), op, now);
            }
            Command::FlushAll { delay } => {
                shard.counters.incr(Stat::CmdFlush);
                if !shard.settings.flush_enabled {
                    self.line(noreply, "CLIENT_ERROR flush_all not allowed");
                } else {
                    self.flush_every_shard(shard, *delay, now);
                    self.line(noreply, "OK");
                }
            }
            Command::Version => {
                self.line(
                    false,
                    concat!("VERSION 1.6.18-corecached-", env!("CARGO_PKG_VERSION")),
                );
            }
            Command::Verbosity { level } => {
                // memcached's `verbosity` sets the process's log level; so does this.
                log::set_max_level(match *level {
                    0 => log::LevelFilter::Warn,
                    1 => log::LevelFilter::Info,
                    2 => log::LevelFilter::Debug,
                    _ => log::LevelFilter::Trace,
                });
                self.line(noreply, "OK");
            }
            Command::Stats { args } => self.stats(shard, args, now),
            Command::Quit => return Some(Next::Close),
            Command::MetaNoop => self.out.extend_from_slice(b"MN\r\n"),
            Command::Meta(req) => {
                let owner = shard.owner(req.key(&mut None));
                self.route(shard, owner, KeyOp::Meta(req), now);
                self.swallow = req.swallow();
            }
            Command::Error(e) => self.line(noreply, e),
            Command::ErrorSwallow { msg, swallow } => {
                self.line(false, msg);
                self.swallow = *swallow;
            }
        }
        None
    }

    /// `flush_all` (text or binary): every shard flushes; the per-peer order of batches
    /// keeps the flush between this connection's earlier and later ops.
    fn flush_every_shard(&mut self, shard: &Shard, delay: i32, now: u32) {
        let op = KeyOp::Flush { delay };
        for owner in 0..shard.shards() {
            if owner == shard.id {
                engine::apply(
                    &mut shard.store.borrow_mut(),
                    &shard.counters,
                    &op,
                    now,
                    &mut self.out,
                );
            } else {
                let b = &mut self.batches[owner];
                op.encode(&mut b.ops);
                b.n += 1;
            }
        }
    }

    /// Sends each peer its batch, waits for all of them, and splices the replies into `out`
    /// in request order.
    async fn settle(&mut self, shard: &Rc<Shard>) {
        let Some(inbox) = &self.inbox else { return };
        let mut waiting = 0;
        for peer in 0..self.batches.len() {
            if self.batches[peer].n == 0 {
                continue;
            }
            let mut b = mem::take(&mut self.batches[peer]);
            b.from = shard.id;
            b.owner = peer;
            b.token = inbox.token;
            shard.forward(peer, b).await;
            waiting += 1;
        }
        for _ in 0..waiting {
            let b = inbox
                .rx
                .recv()
                .await
                .expect("inbox open while the connection lives");
            // Written on the owner's core: their lines load together before the splice.
            crate::store::prefetch_slice(&b.out.buf);
            crate::store::prefetch_slice(&b.ends);
            let owner = b.owner;
            self.batches[owner] = b;
        }
        if !self.splices.is_empty() {
            self.splice(shard);
        }
        for b in &mut self.batches {
            b.ops.clear();
            b.n = 0;
        }
    }

    /// Puts the peers' replies in their places in `out`, in request order, with the values
    /// they hold: after a splice, `out` is the whole reply of the pass.
    fn splice(&mut self, shard: &Shard) {
        // Room for all of it at once: every reply of every batch sent is spliced in.
        let replies: usize = self
            .batches
            .iter()
            .filter(|b| b.n > 0)
            .map(|b| b.out.buf.len())
            .sum();
        let mut fin = mem::take(&mut self.spare);
        if fin.capacity() == 0 {
            // Lent to the pool while this connection waited for input.
            fin = shard.buffers.take_out_for(self.out.len() + replies);
        }
        fin.clear();
        fin.reserve(self.out.len() + replies);
        let mut fin_held = mem::take(&mut self.spare_held);
        fin_held.clear();
        for b in self.batches.iter_mut().filter(|b| b.n > 0) {
            // Taken from the end, in order.
            b.out.held.reverse();
        }
        let reply = &mut self.out.reply;
        let mut own = reply.held.drain(..);
        let mut own_taken = 0;
        let mut prev = 0;
        for s in &self.splices {
            let base = fin.len();
            append_reserved(&mut fin, &reply.buf[prev..s.at]);
            while own_taken < s.held_before {
                let h = own.next().expect("held_before counts held values");
                fin_held.push(Held {
                    at: base + h.at - prev,
                    value: h.value,
                });
                own_taken += 1;
            }
            let b = &mut self.batches[s.peer as usize];
            let op = s.op as usize;
            let start = if op == 0 { 0 } else { b.ends[op - 1] as usize };
            let base = fin.len();
            append_reserved(&mut fin, b.reply(op));
            // A value may end its op's reply (binary): the count, not the offset, says
            // which op holds it.
            while b.held_taken < b.held_ends[op] {
                let h = b.out.held.pop().expect("held_ends counts held values");
                fin_held.push(Held {
                    at: base + h.at - start,
                    value: h.value,
                });
                b.held_taken += 1;
            }
            prev = s.at;
        }
        let base = fin.len();
        append_reserved(&mut fin, &reply.buf[prev..]);
        for h in own {
            fin_held.push(Held {
                at: base + h.at - prev,
                value: h.value,
            });
        }
        self.spare = mem::replace(&mut reply.buf, fin);
        self.spare_held = mem::replace(&mut reply.held, fin_held);
        self.splices.clear();
    }

    /// `stats` and its groups, summed over every shard.
    fn stats(&mut self, shard: &Shard, args: &[u8], now: u32) {
        let mut words = args.split(|&b| b == b' ').filter(|w| !w.is_empty());
        let group = words.next().unwrap_or(b"");
        match group {
            b"reset" => {
                reset_stats(shard);
                self.line(false, "RESET");
            }
            b"detail" => match words.next() {
                Some(b"on") | Some(b"off") => self.line(false, "OK"),
                Some(b"dump") => self.line(false, "END"),
                _ => self.line(false, "CLIENT_ERROR usage: stats detail on|off|dump"),
            },
            _ => match stat_pairs(shard, group, now) {
                Some(pairs) => {
                    use std::io::Write;
                    for (name, value) in pairs {
                        let _ = write!(self.out, "STAT {name} {value}\r\n");
                    }
                    self.out.extend_from_slice(b"END\r\n");
                }
                None => self.line(false, "ERROR"),
            },
        }
    }
}

/// `stats reset`: every shard's counters.
fn reset_stats(shard: &Shard) {
    for c in shard.all_counters.iter() {
        c.reset();
    }
}

/// The `(name, value)` pairs of a stats group (`""` for the general one), summed over every
/// shard; `None` for a group that does not exist. Each protocol formats them its own way.
fn stat_pairs(shard: &Shard, group: &[u8], now: u32) -> Option<Vec<(String, String)>> {
    let mut p = Stats(Vec::new());
    match group {
        b"" => general_stats(&mut p, shard, now),
        b"settings" => settings_stats(&mut p, shard),
        b"tasks" => task_stats(&mut p, shard),
        b"shards" => shard_stats(&mut p, shard),
        b"items" | b"slabs" | b"sizes" => {}
        _ => return None,
    }
    Some(p.0)
}

struct Stats(Vec<(String, String)>);

impl Stats {
    fn stat(&mut self, name: &str, value: impl std::fmt::Display) {
        self.0.push((name.to_string(), value.to_string()));
    }
}

fn general_stats(p: &mut Stats, shard: &Shard, now: u32) {
    let all = &shard.all_counters;
    let (user, system) = rusage();
    p.stat("pid", std::process::id());
    p.stat("uptime", now.saturating_sub(shard.started));
    p.stat("time", now);
    p.stat(
        "version",
        concat!("1.6.18-corecached-", env!("CARGO_PKG_VERSION")),
    );
    p.stat("pointer_size", usize::BITS);
    p.stat("rusage_user", format_args!("{}.{:06}", user.0, user.1));
    p.stat(
        "rusage_system",
        format_args!("{}.{:06}", system.0, system.1),
    );
    p.stat("max_connections", shard.settings.conn_limit);
    p.stat("parked_connections", shard.parked_total());
    for &s in stats::Stat::ALL {
        match s {
            Stat::CurrItems
            | Stat::TotalItems
            | Stat::Bytes
            | Stat::Evictions
            | Stat::EvictedUnfetched
            | Stat::EvictedActive
            | Stat::Reclaimed
            | Stat::ExpiredUnfetched
            | Stat::SegmentsEvicted
            | Stat::SegmentsCompacted
            | Stat::StoreMemory
            | Stat::ShardCpuUserUs
            | Stat::ShardCpuSystemUs
            | Stat::ShardSchedulerRuns
            | Stat::ShardTasksRun
            | Stat::PeerBatches
            | Stat::PeerBatchesBetweenTurns => continue,
            _ => {}
        }
        p.stat(s.name(), stats::sum(all, s));
    }
    p.stat("limit_maxbytes", shard.settings.mem_limit);
    p.stat("threads", shard.settings.shards);
    for s in [
        Stat::Bytes,
        Stat::CurrItems,
        Stat::TotalItems,
        Stat::Evictions,
        Stat::EvictedUnfetched,
        Stat::EvictedActive,
        Stat::Reclaimed,
        Stat::ExpiredUnfetched,
        Stat::SegmentsEvicted,
        Stat::SegmentsCompacted,
        Stat::StoreMemory,
        Stat::ShardCpuUserUs,
        Stat::ShardCpuSystemUs,
    ] {
        p.stat(s.name(), stats::sum(all, s));
    }
}

/// `stats shards`: each shard's own gauges, to see how keys, connections and CPU spread.
fn shard_stats(p: &mut Stats, shard: &Shard) {
    for (id, c) in shard.all_counters.iter().enumerate() {
        for s in [
            Stat::CurrConnections,
            Stat::CurrItems,
            Stat::Bytes,
            Stat::StoreMemory,
            Stat::CmdGet,
            Stat::CmdSet,
            Stat::ShardCpuUserUs,
            Stat::ShardCpuSystemUs,
            Stat::ShardSchedulerRuns,
            Stat::ShardTasksRun,
            Stat::PeerBatches,
            Stat::PeerBatchesBetweenTurns,
        ] {
            p.stat(&format!("shard{id}:{}", s.name()), c.get(s));
        }
    }
}

/// `stats tasks`: every engine task of every shard.
fn task_stats(p: &mut Stats, shard: &Shard) {
    let now_ms = crate::shard::unix_now_ms();
    for (id, infos) in shard.tasks.iter().enumerate() {
        for t in infos.get().into_iter().flatten() {
            let next = match t.next_wake_ms() {
                0 => "-".to_string(),
                ms => format!("{}ms", ms.saturating_sub(now_ms)),
            };
            let line = format!(
                "queue={} priority={} state={} runs={} total_us={} longest_us={} next_wake={} description=\"{}\"",
                t.queue.name(),
                t.priority,
                t.state().name(),
                t.runs(),
                t.total().as_micros(),
                t.longest().as_micros(),
                next,
                t.description
            );
            p.stat(&format!("shard{id}:{}", t.name), line);
        }
    }
}

fn settings_stats(p: &mut Stats, shard: &Shard) {
    let s = &shard.settings;
    let addrs: Vec<String> = s.addrs.iter().map(|a| a.ip().to_string()).collect();
    p.stat("maxbytes", s.mem_limit);
    p.stat("maxconns", s.conn_limit);
    p.stat("tcpport", s.addrs[0].port());
    p.stat("udpport", 0);
    p.stat("inter", addrs.join(","));
    p.stat("verbosity", s.verbose);
    p.stat("evictions", if s.evict { "on" } else { "off" });
    p.stat("segment_size", s.segment_size);
    p.stat("num_threads", s.shards);
    p.stat("cas_enabled", if s.use_cas { "yes" } else { "no" });
    p.stat("tcp_backlog", s.backlog);
    p.stat("binding_protocol", &s.protocol);
    p.stat("item_size_max", s.item_size_max);
    p.stat("flush_enabled", if s.flush_enabled { "yes" } else { "no" });
    p.stat("reqs_per_event", s.reqs_per_event);
    p.stat("hashpower_init", s.hashpower);
    p.stat("io_memory", s.io_memory);
    p.stat("auth_enabled_sasl", if s.sasl { "yes" } else { "no" });
    p.stat(
        "auth_enabled_ascii",
        match (&s.auth_file, s.sasl) {
            (Some(f), false) => f.display().to_string(),
            _ => "no".to_string(),
        },
    );
}

/// Copied reply bytes a connection gathers in a pass before it writes them, while the
/// shard's waiting replies are within budget.
const CONN_SHARE: usize = 256 << 10;
/// The same once they are over it.
const CONN_SHARE_OVER: usize = 8 << 10;

/// Iovecs per `sendmsg` (the kernel's `IOV_MAX`).
const IOV_MAX: usize = 1024;
/// Most reply bytes a connection may have copied and waiting to be sent. A reply made of
/// held values is not bounded by it as long as the client reads.
const OUT_LIMIT: usize = 64 << 20;
/// Bytes a connection writes through the reactor when its socket is full: the wait for
/// room, copied from the reply so that nothing borrowed is held across it.
const CHUNK: usize = 16 << 10;

/// A connection's replies: bytes, with large values held pinned in the store (see
/// [`crate::engine::reply`]), and how much of them went out.
struct Out {
    reply: Reply,
    iov: Vec<libc::iovec>,
    /// Bytes of the whole reply already sent.
    sent: usize,
    /// Set when a reply went over [`OUT_LIMIT`]: the connection closes.
    overflow: bool,
}

impl std::ops::Deref for Out {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.reply.buf
    }
}

impl std::ops::DerefMut for Out {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.reply.buf
    }
}

impl ReplySink for Out {
    fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.reply.buf
    }
    #[inline]
    fn value(&mut self, v: StoreValue<'_>) {
        self.reply.value(v)
    }
}

impl Out {
    /// Whether anything is left to send.
    fn pending(&self) -> bool {
        !self.reply.is_empty()
    }

    /// Forgets the reply once sent (its pins with it).
    fn finish(&mut self) {
        self.reply.clear();
        self.sent = 0;
    }

    /// Sends what the socket takes now of the rest of the reply, without waiting
    /// (`sendmsg`, held values straight from the store). Returns the bytes sent.
    fn send_now(&mut self, fd: std::os::fd::RawFd) -> std::io::Result<usize> {
        let mut iov = mem::take(&mut self.iov);
        iov.clear();
        self.reply.pieces_from(self.sent, |s| {
            iov.push(libc::iovec {
                iov_base: s.as_ptr() as *mut libc::c_void,
                iov_len: s.len(),
            })
        });
        let total: usize = iov.iter().map(|v| v.iov_len).sum();
        let mut sent = 0;
        let mut first = 0;
        while sent < total {
            // SAFETY: a zeroed msghdr pointing at `iov`, whose buffers are the reply's bytes
            // and pinned values, unchanged while `self` is borrowed.
            let n = unsafe {
                let mut msg: libc::msghdr = mem::zeroed();
                msg.msg_iov = iov[first..].as_mut_ptr();
                msg.msg_iovlen = (iov.len() - first).min(IOV_MAX);
                libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
            };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == ErrorKind::WouldBlock {
                    break;
                }
                if e.kind() == ErrorKind::Interrupted {
                    continue;
                }
                self.iov = iov;
                return Err(e);
            }
            let mut n = n as usize;
            sent += n;
            // Skip what went: whole iovecs, then part of one.
            while n > 0 {
                let v = &mut iov[first];
                if n >= v.iov_len {
                    n -= v.iov_len;
                    first += 1;
                } else {
                    // SAFETY: advancing within the same buffer.
                    v.iov_base = unsafe { (v.iov_base as *mut u8).add(n) } as *mut libc::c_void;
                    v.iov_len -= n;
                    n = 0;
                }
            }
        }
        self.iov = iov;
        self.sent += sent;
        Ok(sent)
    }

    /// Whether every byte went.
    fn all_sent(&self) -> bool {
        self.sent >= self.reply.total_len()
    }

    /// Copies up to [`CHUNK`] bytes of what is still to send into `chunk`.
    fn next_chunk(&self, chunk: &mut Vec<u8>) {
        chunk.clear();
        self.reply.pieces_from(self.sent, |s| {
            let room = CHUNK - chunk.len();
            chunk.extend_from_slice(&s[..s.len().min(room)]);
        });
    }
}

/// What [`Conn::recv_after_others`] found.
enum Direct {
    /// It read (or the socket failed).
    Read(std::io::Result<usize>),
    /// Other connections ran and the client had sent nothing meanwhile: the shard is busy.
    Missed,
    /// No direct read was made: nothing else ran, or direct reads are off.
    Idle,
}

/// How [`recv_ready`] waits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Wait {
    /// A readiness poll through the reactor, then the read.
    Poll,
    /// A one-byte `MSG_PEEK` receive through the reactor, then the read.
    Peek,
}

/// Reads what the socket holds, waiting through the reactor until it holds something.
/// Dropping the future mid-wait consumes nothing: the pending wait is a poll or a peek.
///
/// Not glommio's `read` on the whole buffer: after a read that leaves its buffer part empty,
/// that arms a poll for the next read at once, and this connection never waits on that one
/// (its next request is read directly, see `Conn::recv_after_others`), but the poll still
/// completes when the next bytes come, costing a ring entry and, on a busy shard, an
/// interrupt from the sender's CPU. So glommio reads one byte, which fills its buffer and
/// arms nothing, and the rest is read directly.
///
/// [`Wait::Peek`] is for a client that waits for each reply (its last turn held one request)
/// on a busy shard, where its direct read found nothing: the peek goes through glommio's
/// latency ring, whose completions end the running task queue's turn, so a client that sent
/// late is served in the current pass of the others rather than after it (pipeline 1, 50
/// clients, one shard: p99 0.76x-0.92x memcached's against 1.05x-1.29x with a poll). Its
/// completion takes the socket's lock, which the sender's CPU may still hold (2 shards at
/// pipeline 16: 9.9 % of the server's CPU spun on it). A pipelining client is not held up
/// by one pass, and on an idle shard every request would pay the lock: those poll.
/// bench/RESULTS.md, *Session 9*.
async fn recv_ready(stream: &mut TcpStream, buf: &mut [u8], wait: Wait) -> std::io::Result<usize> {
    debug_assert!(!buf.is_empty(), "a read needs room (Conn::make_room)");
    let fd = stream.as_raw_fd();
    if wait == Wait::Peek {
        loop {
            let mut probe = [0u8; 1];
            stream.peek(&mut probe).await?;
            if let Some(r) = try_recv(fd, buf) {
                return r;
            }
        }
    }
    let n = stream.read(&mut buf[..1]).await?;
    if n == 0 || buf.len() == 1 {
        return Ok(n);
    }
    // An error here is left for the next read to report.
    match try_recv(fd, &mut buf[1..]) {
        Some(Ok(more)) => Ok(1 + more),
        _ => Ok(1),
    }
}

/// Appends `s` to `v`, short pieces without a call to `memcpy` (a splice copies many
/// reply lines of a few dozen bytes each).
#[inline(always)]
fn append_reserved(v: &mut Vec<u8>, s: &[u8]) {
    if v.capacity() - v.len() < s.len() {
        v.extend_from_slice(s);
        return;
    }
    let len = v.len();
    // SAFETY: the check above leaves room for `s` after `len`; `s` is not part of `v`'s
    // spare capacity, so they do not overlap; the bytes are written before `set_len`.
    unsafe {
        crate::engine::copy_short(v.as_mut_ptr().add(len), s);
        v.set_len(len + s.len());
    }
}

/// A non-blocking `recv` straight on the socket: `None` when nothing is there.
fn try_recv(fd: std::os::fd::RawFd, buf: &mut [u8]) -> Option<std::io::Result<usize>> {
    // SAFETY: `buf` is valid for writes of its length; MSG_DONTWAIT never blocks.
    let n = unsafe {
        libc::recv(
            fd,
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    };
    if n >= 0 {
        return Some(Ok(n as usize));
    }
    let err = std::io::Error::last_os_error();
    (err.kind() != ErrorKind::WouldBlock).then_some(Err(err))
}

/// User and system CPU time of the process, as (seconds, microseconds).
fn rusage() -> ((i64, i64), (i64, i64)) {
    // SAFETY: getrusage fills the zeroed struct.
    let ru = unsafe {
        let mut ru: libc::rusage = mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    (
        (ru.ru_utime.tv_sec, ru.ru_utime.tv_usec),
        (ru.ru_stime.tv_sec, ru.ru_stime.tv_usec),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed<'a>(bytes: &'a [u8], limits: &Limits) -> (Request<'a>, usize) {
        match text::parse(bytes, limits) {
            Parse::Done(req, used) => (req, used),
            _ => panic!("not a complete request: {bytes:?}"),
        }
    }

    #[test]
    fn window_keeps_order() {
        let limits = Limits {
            item_size_max: 1 << 20,
            use_cas: true,
        };
        let input = b"get a\r\nget bb\r\ndelete ccc\r\n";
        let mut w = Window::new();
        assert!(w.parsed().is_empty());
        let mut pos = 0;
        while pos < input.len() {
            let (req, used) = parsed(&input[pos..], &limits);
            w.push(req, used);
            pos += used;
        }
        assert_eq!(w.len(), 3);
        let used: Vec<usize> = w.parsed().iter().map(|p| p.used).collect();
        assert_eq!(used, [7, 8, 12]);
        assert!(matches!(w.parsed()[0].req.cmd, Command::Get { .. }));
        assert!(matches!(
            w.parsed()[2].req.cmd,
            Command::Delete { key: b"ccc" }
        ));
        // Hashes are recorded per request and start absent.
        w.set_hash(1, Some(7));
        let hashes: Vec<Option<u64>> = w.parsed().iter().map(|p| p.hash).collect();
        assert_eq!(hashes, [None, Some(7), None]);
    }

    /// Reads with `recv_ready` until at least `n` bytes came (at most 100 reads); end of
    /// stream before that fails the test.
    async fn read_at_least(server: &mut TcpStream, wait: Wait, n: usize) -> Vec<u8> {
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        for _ in 0..100 {
            let k = recv_ready(server, &mut buf, wait).await.unwrap();
            assert!(
                k > 0,
                "{wait:?}: end of stream after {got:?}, {n} bytes expected"
            );
            got.extend_from_slice(&buf[..k]);
            if got.len() >= n {
                break;
            }
        }
        got
    }

    /// Both ways of waiting: a wait dropped before anything arrives consumes nothing; bytes
    /// already there are read without waiting; a wait ends when bytes come, and at end of
    /// stream with 0.
    #[test]
    fn recv_ready_reads_whole_and_cancels_cleanly() {
        use std::io::Write;
        let ex = glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .io_memory(64 << 10)
            .make()
            .expect("an executor (io_uring and locked memory)");
        ex.run(async {
            let listener = glommio::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            for wait in [Wait::Poll, Wait::Peek] {
                let mut client = std::net::TcpStream::connect(addr).unwrap();
                let mut server = listener.accept().await.unwrap();
                let mut buf = [0u8; 64];
                // Nothing sent: the wait is armed, then dropped when the other branch wins.
                let dropped = futures_lite::future::or(
                    async { Some(recv_ready(&mut server, &mut buf, wait).await) },
                    async {
                        futures_lite::future::yield_now().await;
                        None
                    },
                )
                .await;
                assert!(
                    dropped.is_none(),
                    "{wait:?}: read with nothing sent: {dropped:?}"
                );
                client.write_all(b"get a\r\nget bb\r\n").unwrap();
                let got = read_at_least(&mut server, wait, 15).await;
                assert_eq!(got, b"get a\r\nget bb\r\n", "{wait:?}");
                // The next wait ends when bytes arrive from another thread.
                let writer = std::thread::spawn(move || {
                    client.write_all(b"version\r\n").unwrap();
                    client
                });
                let got = read_at_least(&mut server, wait, 9).await;
                assert_eq!(got, b"version\r\n", "{wait:?}");
                drop(writer.join().unwrap());
                assert_eq!(recv_ready(&mut server, &mut buf, wait).await.unwrap(), 0);
            }
        });
    }

    #[test]
    fn buffer_pool_reuses_grown_buffers_within_its_budget() {
        // 16 MiB of -m for the shard: a budget of 1 MiB.
        let pool = BufferPool::new(16 << 20);
        assert_eq!(pool.big_budget, 1 << 20);
        let mut grown = pool.take_big_read(200 << 10);
        assert!(grown.len() >= 200 << 10, "read buffers come initialized");
        grown[0] = 7;
        let ptr = grown.as_ptr();
        pool.put_read(grown);
        // A smaller request is served by the kept buffer: same memory, nothing allocated.
        let again = pool.take_big_read(150 << 10);
        assert_eq!(again.as_ptr(), ptr);
        assert_eq!(again[0], 7);
        pool.put_read(again);
        // A reply buffer comes back empty with room for what was asked.
        let mut out = pool.take_out_for(300 << 10);
        assert!(out.is_empty() && out.capacity() >= 300 << 10);
        out.extend_from_slice(b"VALUE");
        let cap = out.capacity();
        pool.put_out(out);
        assert_eq!(pool.big_bytes.get(), (200 << 10) + cap);
        // Past the budget, or past BIG_MAX, a buffer is dropped, not kept.
        pool.put_read(vec![0; 400 << 10]);
        pool.put_out(Vec::with_capacity(BIG_MAX + 1));
        assert_eq!(pool.big_bytes.get(), (200 << 10) + cap);
        assert!(pool.take_out_for(4 * READ_BUF + 1).is_empty());
        assert_eq!(pool.big_bytes.get(), 200 << 10);
        // Small buffers keep their own lists.
        pool.put(vec![0; READ_BUF], Vec::with_capacity(READ_BUF));
        assert_eq!(pool.read.borrow().len(), 1);
        assert_eq!(pool.out.borrow().len(), 1);
        assert_eq!(pool.big_bytes.get(), 200 << 10);
    }

    #[test]
    fn buffer_pool_frees_what_went_unused_since_the_last_trim() {
        let pool = BufferPool::new(64 << 20); // keeps up to 256 of each
        for _ in 0..200 {
            pool.put(vec![0; READ_BUF], Vec::with_capacity(READ_BUF));
        }
        // Nothing was watched before the first call: it frees nothing.
        assert_eq!(pool.trim(), 0);
        // Busy: 150 of each lent at once and given back, so 50 of each sat unused.
        let r: Vec<_> = (0..150).map(|_| pool.take_read()).collect();
        let o: Vec<_> = (0..150).map(|_| pool.take_out()).collect();
        for (r, o) in r.into_iter().zip(o) {
            pool.put(r, o);
        }
        assert_eq!(pool.trim(), 2 * 50);
        assert_eq!(pool.read.borrow().len(), 150);
        assert_eq!(pool.out.borrow().len(), 150);
        // Idle: all of them unused, freed down to POOL_MIN.
        assert_eq!(pool.trim(), 2 * (150 - POOL_MIN));
        assert_eq!(pool.read.borrow().len(), POOL_MIN);
        assert_eq!(pool.out.borrow().len(), POOL_MIN);
        assert_eq!(pool.trim(), 0);
    }

    #[test]
    fn buffer_pool_keeps_as_many_small_buffers_as_its_memory_allows() {
        // (-m for the shard, small buffers of each kind kept): a sixteenth of -m, at least
        // POOL_MIN, at most POOL_BYTES_MAX.
        for (mem, kept) in [(8 << 20, POOL_MIN), (64 << 20, 256), (1 << 30, 1024)] {
            let pool = BufferPool::new(mem);
            for _ in 0..kept + 10 {
                pool.put(vec![0; READ_BUF], Vec::with_capacity(READ_BUF));
            }
            assert_eq!(pool.read.borrow().len(), kept, "-m {mem}");
            assert_eq!(pool.out.borrow().len(), kept, "-m {mem}");
            // Every one is lent again without allocating a new one.
            let ptrs: Vec<_> = pool.read.borrow().iter().map(|v| v.as_ptr()).collect();
            for _ in 0..kept {
                let b = pool.take_read();
                assert!(ptrs.contains(&b.as_ptr()));
                assert_eq!(b.len(), READ_BUF);
            }
        }
    }
}
