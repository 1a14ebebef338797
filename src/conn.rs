//! One client connection: read, parse, route, reply.
//!
//! ```text
//!   socket ─read─► rbuf ─parse─► Request ─one KeyOp per key─┬─ local key: engine::apply → out
//!                                                           └─ other shard: its bytes into that
//!                                                              peer's Batch, mark a splice in out
//!   after the read batch: one Batch per peer, await them, splice replies in request order,
//!   one write of `out`
//! ```
//!
//! At most `-R` requests are handled per pass before the connection yields, as memcached's
//! `reqs_per_event`. A pass parses a window of requests before running them, so the store can
//! prefetch their index buckets and items. Values of 8 KiB and more are sent straight from the
//! store's memory, pinned there until sent ([`crate::engine::reply`]). Bytes come from and
//! replies go to the shard's network ring ([`crate::shard::ring`]); a connection that stops
//! reading its replies stops being read: a pass's replies wait for the previous pass's to
//! have gone, and the ring stops receiving for it. Memory outside the store is bounded per shard ([`BufferPool::budget`]): a
//! pass's copied replies (past the budget, values are pinned instead and passes stop early)
//! and read buffers grown for requests still arriving (past it, a connection waits unread).
//! A connection waiting with nothing buffered gives buffers grown past the small size back
//! to the shard's [`BufferPool`] (all of them when connections do not park); one waiting
//! longer than `--park-after-ms` parks: it gives up its future and its buffers and stays in
//! the ring as a slot, and a fresh future resumes it when bytes arrive.

use std::future::Future;
use std::io::ErrorKind;
use std::mem;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::engine::reply::{Held, MAX_HELD, PIN_FROM};
use crate::park::{IdleWatch, Parked, Proto};
use crate::protocol::binary;
use crate::protocol::{text, Command, Limits, Parse};
use crate::shard::buffers::{BufferPool, READ_BUF};
use crate::shard::out::Out;
use crate::shard::ring::{ConnId, NetRing, Ready};
use crate::shard::{unix_now_ms, Batch, Inbox, Shard};
use crate::stats::Stat;
mod binary_conn;
mod dump;
mod forward;
mod handle;
mod stats_cmd;
mod stats_conns;
mod stats_groups;
mod text_auth;
mod tune;
mod watch;
mod window;

pub(crate) use stats_cmd::stat_pairs;
use window::{has_many_keys, prefetch_keys, Window, WINDOW};

/// What the connection does after a pass over its buffered input.
enum AfterPass {
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
    /// Write what is pending, then stream the key dump asked for (`Conn::dump`).
    Stream,
    /// Write what is pending, then be a `watch` stream until the client goes
    /// (`Conn::watcher`).
    Watch,
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
    start: usize,
    end: usize,
    /// Bytes still to discard after a too-large value (memcached's `conn_swallow`).
    swallow: usize,
    out: Box<Out>,
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
    /// Requests handled in the last turn.
    turn_reqs: u32,
    /// Keys of the current multi-key `get` already answered: a pass that filled the reply
    /// stops in the middle of it and goes on from here after a write.
    get_resume: usize,
    /// Gets forwarded in this pass (their replies are copied on their owners).
    forwarded_gets: u32,
    /// Set when a reply went over [`OUT_LIMIT`]: the connection closes.
    overflow: bool,
    /// The share of the read budget that the grown read buffer holds.
    read_permit: Option<(glommio::sync::StaticPermit, u64)>,
    /// The connection's slot in the shard's network ring.
    id: ConnId,
    /// The socket, to name the peer in the log of a failed authentication.
    fd: std::os::fd::RawFd,
    /// Requests of this pass by kind, for the latency histograms (`--metrics` only).
    tally: crate::latency::Tally,
    /// A key dump to stream once this pass's replies are out.
    dump: Option<std::sync::Arc<crate::dump::Job>>,
    /// The `watch` this connection became, once this pass's replies are out.
    watcher: Option<crate::watch::Watching>,
}

/// How [`Conn::serve_requests`] ends.
enum Exit {
    Close,
    /// Idle past `--park-after-ms`: the connection stays open in the ring, without a future.
    Park,
}

/// Serves a connection the shard's ring has bytes for (a new one, or a parked one waking),
/// until the client quits, the peer closes, the server stops, or it parks again.
pub fn serve(shard: Rc<Shard>, ready: Ready) -> impl Future<Output = ()> {
    let state = ready.state;
    let c = Conn {
        // No buffers yet: the ring's buffer with the first bytes becomes the read buffer.
        rbuf: Vec::new(),
        start: 0,
        end: 0,
        swallow: 0,
        out: Box::default(),
        spare: Vec::new(),
        spare_held: Vec::new(),
        batches: (0..shard.shards()).map(|_| Batch::default()).collect(),
        splices: Vec::new(),
        inbox: (shard.shards() > 1).then(|| shard.open_inbox()),
        limits: shard.limits(),
        proto: Proto::from_u8(state.proto),
        authed: state.authed,
        kick_at_ms: state.kick_at_ms,
        idle_slot: shard.park.as_ref().map(|p| p.watch.join()),
        turn_reqs: 0,
        get_resume: 0,
        forwarded_gets: 0,
        overflow: false,
        read_permit: None,
        id: ready.id,
        fd: ready.fd,
        tally: Default::default(),
        dump: None,
        watcher: None,
    };
    c.serve_requests(shard)
}

impl Conn {
    /// What a connection's end gives back: its buffers to the shard's pool, its slot to the
    /// ring (closed, or kept for a parked connection).
    fn finish(&mut self, shard: &Shard, exit: std::io::Result<Exit>) {
        if let (Some(slot), Some(park)) = (self.idle_slot, &shard.park) {
            park.watch.leave(slot);
        }
        if let Some(inbox) = &self.inbox {
            shard.close_inbox(inbox.token);
        }
        let pool = &shard.buffers;
        pool.count_reply(&mut self.out.counted, 0);
        pool.put_read(mem::take(&mut self.rbuf));
        pool.put_out(mem::take(&mut self.out.reply.buf));
        pool.put_out(mem::take(&mut self.spare));
        match (exit, &shard.park) {
            // What it held is freed: the sweep returns it to the system once enough have parked.
            (Ok(Exit::Park), Some(park)) => park.note_parked(),
            (Ok(Exit::Park), None) => {}
            _ => shard.net.close(self.id, pool),
        }
    }

    /// The connection's loop: a pass over its input, the pass's replies sent, then a wait
    /// for more input; one future with the connection's end (`finish`), so the driver
    /// polls it without a layer of futures around it.
    async fn serve_requests(mut self, shard: Rc<Shard>) {
        let shard = &shard;
        let net = &shard.net;
        let pool = &shard.buffers;
        let exit = 'serve: loop {
            let pass_start = shard.latency.as_ref().map(|l| l.reaped_at());
            // With persistence, the journal's length before the pass: a pass that wrote
            // waits below if the journal is over its limit.
            let journaled = shard.persist.as_ref().map(|_| shard.journal_len());
            let next = self.process(shard);
            // The pass's copies count against the shard's budget from now until sent:
            // other connections run their passes while this one waits for its peers.
            let copied = self.out.capacity();
            pool.count_reply(&mut self.out.counted, copied);
            if self.forwarded() {
                self.settle(shard).await;
            }
            shard.after_writes();
            if let (Some(l), Some(start)) = (&shard.latency, pass_start) {
                l.pass_done(start, &mut self.tally);
            }
            if let Err(e) = self.send(shard).await {
                break 'serve Err(e);
            }
            if let (Some(p), Some(before)) = (&shard.persist, journaled) {
                if shard.journal_len() != before {
                    p.wait_below_limit(&shard.store).await;
                }
            }
            if self.overflow {
                break 'serve Ok(Exit::Close);
            }
            match next {
                AfterPass::Close => break 'serve Ok(Exit::Close),
                AfterPass::Settle => continue,
                AfterPass::Stream => {
                    if let Err(e) = self.stream_dump(shard).await {
                        break 'serve Err(e);
                    }
                    continue;
                }
                AfterPass::Watch => {
                    if let Err(e) = self.stream_watch(shard).await {
                        break 'serve Err(e);
                    }
                    break 'serve Ok(Exit::Close);
                }
                AfterPass::Yield | AfterPass::Drain => {
                    glommio::yield_if_needed().await;
                    continue;
                }
                AfterPass::Read => {}
            }
            let id = self.id;
            let read = if self.start == self.end {
                self.lend_idle_buffers(shard);
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
                let kick_at = kick.map(|k| unix_now_ms() + k.as_millis() as u64);
                let woke = WaitInput {
                    net,
                    id,
                    rbuf: &mut self.rbuf,
                    end: &mut self.end,
                    pool,
                    kick: kick.map(glommio::timer::Timer::new),
                    park,
                }
                .await;
                if let Some((watch, slot)) = park {
                    watch.wait_end(slot);
                }
                match woke {
                    Woke::Read(r) => r,
                    Woke::Park => {
                        let kick_at_ms = kick_at.unwrap_or(0);
                        let state = Parked::new(self.proto as u8, self.authed, kick_at_ms);
                        if net.park(id, state, pool) {
                            break 'serve Ok(Exit::Park);
                        }
                        // Bytes came meanwhile: read them.
                        self.kick_at_ms = kick_at_ms;
                        continue;
                    }
                    Woke::Kick => {
                        // memcached's idle_timeout: an idle connection is closed.
                        shard.counters.incr(Stat::IdleKicks);
                        break 'serve Ok(Exit::Close);
                    }
                }
            } else {
                if let Some(grow) = self.make_room() {
                    self.reserve_read(pool, grow).await;
                    self.grow_rbuf(pool, grow);
                }
                // The rest of a request (a large value, say), read into place.
                let (rbuf, end) = (&mut self.rbuf, &mut self.end);
                futures_lite::future::poll_fn(|_| net.poll_read(id, rbuf, end, pool)).await
            };
            if self.out.reply.buf.capacity() == 0 {
                self.out.reply.buf = pool.take_out();
            }
            match read {
                Ok(0) => break 'serve Ok(Exit::Close),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => break 'serve Err(e),
            }
        };
        self.finish(shard, exit);
    }

    /// Before a wait with nothing buffered: buffers grown past the small size go back to
    /// the shard's pool (with the read budget they hold), and, when connections do not
    /// park, the small ones too, so an idle connection holds almost no memory. A connection
    /// that parks keeps its small buffers until it does (parking gives them back): at
    /// pipeline 1 it waits once per request, and lending and taking back two or three
    /// buffers each time cost more than the rest of the wait.
    #[inline]
    fn lend_idle_buffers(&mut self, shard: &Shard) {
        let pool = &shard.buffers;
        let keep = shard.park.is_some();
        self.start = 0;
        self.end = 0;
        if !keep || self.rbuf.len() > READ_BUF {
            // The ring's buffer with the next bytes becomes the read buffer.
            pool.put_read(mem::take(&mut self.rbuf));
            self.read_permit = None;
        }
        if !keep || self.out.reply.buf.capacity() > READ_BUF {
            pool.put_out(mem::take(&mut self.out.reply.buf));
        }
        if self.spare.capacity() > 0 && (!keep || self.spare.capacity() > READ_BUF) {
            pool.put_out(mem::take(&mut self.spare));
        }
    }

    /// Hands the pass's replies to the ring, once the previous ones have gone: a client
    /// that does not read holds at most two passes' replies (their copied bytes and pins),
    /// and is not read meanwhile.
    fn send<'a>(&'a mut self, shard: &'a Shard) -> SendOut<'a> {
        // A future polled in place rather than an async function: at pipeline 1 it runs
        // once per request and rarely waits.
        SendOut { conn: self, shard }
    }

    #[inline(always)]
    fn poll_send(&mut self, shard: &Shard) -> Poll<std::io::Result<()>> {
        let pool = &shard.buffers;
        if !self.out.pending() {
            pool.count_reply(&mut self.out.counted, 0);
            return Poll::Ready(Ok(()));
        }
        if self.out.len() > OUT_LIMIT {
            // A client that asks for this much copied and does not read it is not served
            // further: the connection closes rather than the server buffering without bound.
            self.overflow = true;
            self.out.finish();
            pool.count_reply(&mut self.out.counted, 0);
            return Poll::Ready(Ok(()));
        }
        shard.net.poll_send(self.id, &mut self.out)
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
        // In whole pages: values of one size come with keys of several lengths, and a
        // buffer grown for one must fit the next, or the pool's buffers are seldom reused
        // and each large `set` zeroes a new one.
        (need > self.rbuf.len() || self.end == self.rbuf.len())
            .then(|| need.max(self.rbuf.len() * 2).next_multiple_of(4096))
    }

    /// Holds the share of the shard's read budget that a read buffer of `len` bytes
    /// needs, waiting (not reading) until other connections' partial requests give it
    /// back: bytes of requests still arriving are bounded per shard
    /// ([`BufferPool::budget`]). A request larger than the whole budget waits for all of it.
    async fn reserve_read(&mut self, pool: &BufferPool, len: usize) {
        let kib = len.saturating_sub(READ_BUF).div_ceil(1024) as u64;
        if self.read_permit.as_ref().map_or(0, |p| p.1) >= kib {
            return;
        }
        self.read_permit = None;
        self.read_permit = pool.reserve_read(kib).await;
    }

    /// Moves the buffered bytes into a read buffer of at least `len` bytes.
    fn grow_rbuf(&mut self, pool: &BufferPool, len: usize) {
        let mut big = pool.take_big_read(len);
        big[..self.end].copy_from_slice(&self.rbuf[..self.end]);
        pool.put_read(mem::replace(&mut self.rbuf, big));
    }
    /// Handles the buffered complete requests (at most `-R`).
    fn process(&mut self, shard: &Shard) -> AfterPass {
        // Requests borrow the read buffer while their replies are written into `self`.
        self.turn_reqs = 0;
        self.forwarded_gets = 0;
        // Over the shard's reply budget every value is held in place where the store
        // allows, so waiting replies stop growing the server's memory.
        self.out
            .reply
            .set_over_budget(shard.buffers.replies_over_budget());
        shard.counters.watch.note_cfd(self.fd);
        let rbuf = mem::take(&mut self.rbuf);
        let next = self.process_in(shard, &rbuf);
        self.rbuf = rbuf;
        next
    }

    fn process_in(&mut self, shard: &Shard, rbuf: &[u8]) -> AfterPass {
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
                    return AfterPass::Read;
                }
            }
            if self.start == self.end {
                return AfterPass::Read;
            }
            // Parse a window of requests first, so the store can start loading their index
            // buckets and items while the rest are parsed: at pipeline depth the lookups
            // overlap instead of stalling one after another.
            let budget = (shard.settings.reqs_per_event - handled) as usize;
            let mut window = Window::new();
            let mut close = false;
            {
                let mut pos = self.start;
                let store = shard.store.borrow();
                let mut prefetch = None;
                while window.len() < WINDOW.min(budget) && pos < self.end {
                    let (used, last) = match window.parse_next(&rbuf[pos..self.end], &self.limits) {
                        Parse::Incomplete { .. } => break,
                        Parse::Close => {
                            close = true;
                            break;
                        }
                        Parse::Done(req, used) => {
                            // These end a window: what follows depends on them.
                            let last = match &req.cmd {
                                Command::Stats { .. }
                                | Command::Watch { .. }
                                | Command::TooLarge { .. }
                                | Command::ErrorSwallow { .. }
                                | Command::Quit => true,
                                Command::Meta(m) => m.swallow() > 0,
                                _ => false,
                            };
                            (*used, last)
                        }
                    };
                    window.keep();
                    pos += used;
                    // From the second request on, or from a first one with several
                    // keys (a lone one-key request has nothing to overlap with), the
                    // keys' lookups start loading while parsing goes on.
                    let n = window.len();
                    if prefetch.is_none() && (n == 2 || has_many_keys(window.get(0).0)) {
                        let p = prefetch.insert(store.prefetcher());
                        let h = prefetch_keys(shard, p, window.get(0).0);
                        window.set_hash(0, h);
                        if n == 2 {
                            let h = prefetch_keys(shard, p, window.get(1).0);
                            window.set_hash(1, h);
                        }
                    } else if let Some(p) = prefetch.as_mut() {
                        let h = prefetch_keys(shard, p, window.get(n - 1).0);
                        window.set_hash(n - 1, h);
                    }
                    if last {
                        break;
                    }
                }
                // The prefetcher (it loads the last keys' items as it goes) and the store's
                // borrow end here, before the requests run.
            }
            let n = window.len();
            for i in 0..n {
                let (req, used, hash) = window.get(i);
                // `stats` sees, and a watcher starts after, every earlier request's effects.
                if matches!(req.cmd, Command::Stats { .. } | Command::Watch { .. })
                    && !self.splices.is_empty()
                {
                    return AfterPass::Settle;
                }
                if shard.latency.is_some() {
                    self.tally.note(crate::latency::Kind::of(&req.cmd));
                }
                let raw = &rbuf[self.start..self.start + used];
                let next = match &req.cmd {
                    Command::Get { keys, .. } if keys.is_single() && self.get_resume == 0 => {
                        self.get_one(shard, req, raw, keys.0, hash, now);
                        None
                    }
                    _ => self.handle(shard, req, raw, hash, now),
                };
                if let Some(AfterPass::Drain) = next {
                    return AfterPass::Drain;
                }
                self.start += used;
                if let Some(next) = next {
                    return next;
                }
                handled += 1;
                self.turn_reqs += 1;
                if self.out_full(shard) {
                    return AfterPass::Yield;
                }
            }
            if close {
                return AfterPass::Close;
            }
            if n == 0 {
                return AfterPass::Read;
            }
            if handled >= shard.settings.reqs_per_event {
                // memcached's conn_yields: a connection that used its turn's requests.
                shard.counters.incr(Stat::ConnYields);
                return AfterPass::Yield;
            }
        }
    }

    /// `--bench-noop`: the same connection and I/O path with parsing and the store bypassed.
    /// Retrieval lines answer `END`, storage lines skip their data and answer `STORED`,
    /// anything else `ERROR`. It measures what everything but the I/O layer costs.
    fn process_noop(&mut self, rbuf: &[u8]) -> AfterPass {
        loop {
            let buf = &rbuf[self.start..self.end];
            if buf.is_empty() {
                return AfterPass::Read;
            }
            let Some(nl) = memchr::memchr(b'\n', buf) else {
                return AfterPass::Read;
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
                        return AfterPass::Read;
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
}

/// [`Conn::send`]'s future, inlined where it is awaited.
struct SendOut<'a> {
    conn: &'a mut Conn,
    shard: &'a Shard,
}

impl Future for SendOut<'_> {
    type Output = std::io::Result<()>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        let w = self.get_mut();
        w.conn.poll_send(w.shard)
    }
}

/// How a wait for input ends.
enum Woke {
    Read(std::io::Result<usize>),
    /// Idle past `--park-after-ms`.
    Park,
    /// Idle past `idle_timeout`.
    Kick,
}

/// A wait for input with nothing buffered: the read, the idle kick's timer and the idle
/// watch's signal to park, polled in that order, in one future rather than nested `or`s
/// of three (a connection at pipeline 1 waits once per request).
struct WaitInput<'a> {
    net: &'a NetRing,
    id: ConnId,
    rbuf: &'a mut Vec<u8>,
    end: &'a mut usize,
    pool: &'a BufferPool,
    kick: Option<glommio::timer::Timer>,
    park: Option<(&'a IdleWatch, u32)>,
}

impl Future for WaitInput<'_> {
    type Output = Woke;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Woke> {
        let w = self.get_mut();
        if let Poll::Ready(r) = w.net.poll_read(w.id, w.rbuf, w.end, w.pool) {
            return Poll::Ready(Woke::Read(r));
        }
        if let Some(timer) = &mut w.kick {
            if Pin::new(timer).poll(cx).is_ready() {
                return Poll::Ready(Woke::Kick);
            }
        }
        if let Some((watch, slot)) = w.park {
            if watch.poll_expired(slot, cx).is_ready() {
                return Poll::Ready(Woke::Park);
            }
        }
        Poll::Pending
    }
}

/// Copied reply bytes a connection gathers in a pass before it writes them, while the
/// shard's waiting replies are within budget.
const CONN_SHARE: usize = 256 << 10;
/// The same once they are over it.
const CONN_SHARE_OVER: usize = 8 << 10;

/// Most reply bytes a connection may have copied and waiting to be sent. A reply made of
/// held values is not bounded by it as long as the client reads.
const OUT_LIMIT: usize = 64 << 20;
