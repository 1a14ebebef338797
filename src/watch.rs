//! `watch`: memcached's log streams. A connection that sends `watch [streams…]` stops
//! taking commands and receives a line per event of the streams it asked for
//! (`fetchers`, `mutations`, `evictions`, `connevents`), from every shard.
//!
//! ```text
//!  shard A: request ─► engine/store event ─► Tap (A's bounded buffer of lines)
//!                       (one relaxed load of A's mask           │ A's LogTask, every pass:
//!                        when nobody watches)                   │ one append per watcher
//!                                                               ▼
//!  shard B: watching connection ◄── Watcher's bounded outbox ◄──┘ (and from every shard)
//! ```
//!
//! As memcached's per-worker logger buffers and logger thread: each shard formats its own
//! lines into its [`Tap`] (`worker_logbuf_size`), and its [`LogTask`], a low-priority
//! engine task, hands them to every watcher's outbox (`watcher_logbuf_size`) in one append
//! per watcher per pass, waking the watching connection, which sends them. A full tap drops
//! lines (`log_worker_dropped`); a full outbox skips them (`log_watcher_skipped`) and says
//! how many with a `skipped=N` line before the next line that fits, as memcached does. No
//! request waits for a watcher, and neither buffer grows.
//!
//! The tap's lock is taken by its own shard only (its requests and its log task); the
//! outbox's by the producing shards' log tasks and the watching connection. Nothing is
//! shared on the request path: whether anyone watches is each shard's own mask, written
//! when a watcher comes or goes.
//!
//! `gid`: memcached draws it from one global counter per event; here there is none to draw
//! from without a write shared by every shard per event. A line's gid is its number in its
//! watcher's stream (lines skipped count), so it increases along a stream and a gap is
//! lines skipped; two watchers number the same event differently (README, intended
//! differences).

pub mod lines;

use std::sync::atomic::{AtomicI32, AtomicU16, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::admin::Admin;
use crate::num::push_u64;
pub use crate::protocol::admin::streams;
use crate::stats::Counters;
use crate::tasks::{Next, Queue, Task};

/// memcached's limit of watchers at once (`WATCHER_LIMIT`).
pub const WATCHER_LIMIT: usize = 20;
/// Bytes of lines a shard holds for its log task by default: memcached's
/// `worker_logbuf_size`.
pub const TAP_BYTES: usize = 64 << 10;
/// Bytes of lines a watcher's outbox holds by default: memcached's `watcher_logbuf_size`.
pub const OUTBOX_BYTES: usize = 256 << 10;

/// The sizes `-o worker_logbuf_size` and `-o watcher_logbuf_size` give, in bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Buffers {
    /// Each shard's tap.
    pub worker: usize,
    /// Each watcher's outbox.
    pub watcher: usize,
}

/// The streams lines are made for; the others are accepted and stay silent, as in a
/// memcached without the proxy (`proxy*`), with no LRU crawler or slab mover running
/// (`sysevents`), and 1.6.18's `rawcmds`, which nothing logs.
pub const PRODUCED: u16 =
    streams::FETCHERS | streams::MUTATIONS | streams::EVICTIONS | streams::CONNEVENTS;

/// An entry's head in a tap: stream (2 bytes), unix microseconds (8), length of its
/// `ts=… ` prefix (2), length of its line (2).
const HEAD: usize = 14;
/// Room a line may need: its key uriencoded (750 bytes at most) and its fields.
const LINE_MAX: usize = 1024;
/// Room memcached keeps beside a line in a watcher's buffer, for a `skipped=N` line.
const SKIP_ROOM: usize = 128;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds one to a counter only one thread writes.
fn bump(c: &AtomicU64) {
    c.store(c.load(Relaxed) + 1, Relaxed);
}

fn unix_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// A shard's log lines and whether anyone watches (in the shard's [`Counters`]).
#[derive(Debug)]
pub struct Tap {
    /// The streams some watcher wants, of those made ([`PRODUCED`]); 0 when none.
    mask: AtomicU16,
    /// The client socket of the requests running now (memcached's `cfd=`): set by a
    /// connection's pass, or a peer's batch, while someone watches.
    cfd: AtomicI32,
    buf: Mutex<Vec<u8>>,
    /// Bytes the tap holds at most ([`Buffers::worker`]), set as watchers join: a shard
    /// that sees a new mask before the size keeps the default size for those lines.
    cap: AtomicUsize,
    /// memcached's `log_worker_written` and `log_worker_dropped`: lines into this tap, and
    /// lines it had no room for.
    pub written: AtomicU64,
    pub dropped: AtomicU64,
    /// memcached's `log_watcher_sent` and `log_watcher_skipped`: this shard's lines into
    /// watchers' outboxes, and lines an outbox had no room for.
    pub sent: AtomicU64,
    pub skipped: AtomicU64,
}

impl Default for Tap {
    fn default() -> Self {
        Tap {
            mask: AtomicU16::new(0),
            cfd: AtomicI32::new(0),
            buf: Mutex::default(),
            cap: AtomicUsize::new(TAP_BYTES),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        }
    }
}

impl Tap {
    /// Whether anyone watches a stream this shard makes lines for.
    #[inline(always)]
    pub fn on(&self) -> bool {
        self.mask.load(Relaxed) != 0
    }

    #[inline]
    pub fn wants(&self, stream: u16) -> bool {
        self.mask.load(Relaxed) & stream != 0
    }

    /// Notes the socket of the requests about to run, while someone watches.
    #[inline(always)]
    pub fn note_cfd(&self, fd: i32) {
        if self.on() {
            self.cfd.store(fd, Relaxed);
        }
    }

    pub fn cfd(&self) -> i32 {
        self.cfd.load(Relaxed)
    }

    /// Adds a line of `stream`, stamped now, whose fields `write` writes (ending in
    /// `\n`); counts it dropped if the tap is full.
    pub fn log(&self, stream: u16, write: impl FnOnce(&mut Vec<u8>)) {
        let cap = self.cap.load(Relaxed);
        let mut b = lock(&self.buf);
        if b.len() + HEAD + LINE_MAX > cap {
            bump(&self.dropped);
            return;
        }
        if b.capacity() < cap {
            let more = cap - b.len();
            b.reserve_exact(more);
        }
        let micros = unix_micros();
        let at = b.len();
        b.extend_from_slice(&[0; HEAD]);
        lines::timestamp(&mut b, micros);
        let ts_len = b.len() - at - HEAD;
        write(&mut b);
        let len = b.len() - at - HEAD;
        b[at..at + 2].copy_from_slice(&stream.to_le_bytes());
        b[at + 2..at + 10].copy_from_slice(&micros.to_le_bytes());
        b[at + 10..at + 12].copy_from_slice(&(ts_len as u16).to_le_bytes());
        b[at + 12..at + 14].copy_from_slice(&(len as u16).to_le_bytes());
        bump(&self.written);
    }

    /// Swaps the tap's lines with `into` (empty; its room becomes the tap's).
    fn take(&self, into: &mut Vec<u8>) {
        std::mem::swap(&mut *lock(&self.buf), into);
    }

    /// Gives up the tap's memory (nobody watches).
    fn release(&self) {
        *lock(&self.buf) = Vec::new();
    }
}

/// One line taken from a tap.
struct Entry<'a> {
    stream: u16,
    micros: u64,
    /// `ts=… ` and the rest: the gid goes between.
    ts: &'a [u8],
    rest: &'a [u8],
}

fn entries(buf: &[u8]) -> impl Iterator<Item = Entry<'_>> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let h = buf.get(pos..pos + HEAD)?;
        let stream = u16::from_le_bytes([h[0], h[1]]);
        let micros = u64::from_le_bytes(h[2..10].try_into().unwrap());
        let ts_len = usize::from(u16::from_le_bytes([h[10], h[11]]));
        let len = usize::from(u16::from_le_bytes([h[12], h[13]]));
        let line = &buf[pos + HEAD..pos + HEAD + len];
        pos += HEAD + len;
        Some(Entry {
            stream,
            micros,
            ts: &line[..ts_len],
            rest: &line[ts_len..],
        })
    })
}

/// One watching connection: the streams it asked for and its bounded outbox.
#[derive(Debug)]
pub struct Watcher {
    streams: u16,
    /// Unix microseconds it joined at: lines stamped before are not its (memcached's
    /// `min_gid`).
    since: u64,
    /// Bytes the outbox holds at most ([`Buffers::watcher`]).
    cap: usize,
    out: Mutex<Outbox>,
}

#[derive(Debug, Default)]
struct Outbox {
    bytes: Vec<u8>,
    /// The gid of the last line offered.
    gid: u64,
    /// Lines skipped since the last that fit.
    skipped: u64,
    waker: Option<Waker>,
}

impl Watcher {
    /// The watching connection's side: moves the outbox's lines to `dst`, or waits for
    /// some.
    pub fn poll_lines(&self, cx: &mut Context<'_>, dst: &mut Vec<u8>) -> Poll<()> {
        let mut o = lock(&self.out);
        if o.bytes.is_empty() {
            o.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        dst.extend_from_slice(&o.bytes);
        o.bytes.clear();
        Poll::Ready(())
    }

    /// Appends the lines of `buf` this watcher wants, numbering them, skipping those that
    /// do not fit; counts into `tap`. Wakes the connection if any was added.
    fn deliver(&self, buf: &[u8], tap: &Tap) {
        let mut o = lock(&self.out);
        let before = o.bytes.len();
        for e in entries(buf) {
            if e.stream & self.streams == 0 || e.micros < self.since {
                continue;
            }
            o.gid += 1;
            let need = e.ts.len() + 26 + e.rest.len();
            if o.bytes.len() + need + SKIP_ROOM > self.cap {
                o.skipped += 1;
                bump(&tap.skipped);
                continue;
            }
            let (gid, skipped) = (o.gid, std::mem::take(&mut o.skipped));
            let out = &mut o.bytes;
            if skipped > 0 {
                out.extend_from_slice(b"skipped=");
                push_u64(out, skipped);
                out.push(b'\n');
            }
            out.extend_from_slice(e.ts);
            out.extend_from_slice(b"gid=");
            push_u64(out, gid);
            out.push(b' ');
            out.extend_from_slice(e.rest);
            bump(&tap.sent);
        }
        if o.bytes.len() > before {
            if let Some(w) = o.waker.take() {
                drop(o);
                w.wake();
            }
        }
    }
}

/// Every watcher, whichever shard its connection is on (in [`Admin`]).
#[derive(Debug)]
pub struct Hub {
    watchers: Mutex<Vec<Arc<Watcher>>>,
    sizes: Buffers,
}

impl Hub {
    pub fn new(sizes: Buffers) -> Hub {
        Hub {
            watchers: Mutex::default(),
            sizes,
        }
    }

    /// memcached's `log_watchers`.
    pub fn count(&self) -> usize {
        lock(&self.watchers).len()
    }

    /// Sets every shard's mask to the streams the watchers want (and its tap's size),
    /// under the hub's lock so that concurrent joins and leaves end in the last one's
    /// masks.
    fn set_masks(&self, watchers: &[Arc<Watcher>], taps: &[Arc<Counters>]) {
        let m = watchers.iter().fold(0, |m, w| m | w.streams) & PRODUCED;
        for c in taps {
            c.watch.cap.store(self.sizes.worker, Relaxed);
            c.watch.mask.store(m, Relaxed);
        }
    }
}

/// A connection's watch: it leaves the hub when dropped, however the connection ends.
pub struct Watching {
    watcher: Arc<Watcher>,
    admin: Arc<Admin>,
    taps: Arc<Vec<Arc<Counters>>>,
}

impl Watching {
    /// Moves the lines handed over to `dst`, or waits for some.
    pub fn poll_lines(&self, cx: &mut Context<'_>, dst: &mut Vec<u8>) -> Poll<()> {
        self.watcher.poll_lines(cx, dst)
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        leave(&self.admin, &self.taps, &self.watcher);
    }
}

/// A connection starts watching `streams` (`taps`: every shard's counters): `None` at
/// memcached's limit of watchers. Every shard's log task is woken to hand over lines.
pub fn join(admin: &Arc<Admin>, taps: &Arc<Vec<Arc<Counters>>>, streams: u16) -> Option<Watching> {
    let mut ws = lock(&admin.watchers.watchers);
    if ws.len() >= WATCHER_LIMIT {
        return None;
    }
    let w = Arc::new(Watcher {
        streams,
        since: unix_micros(),
        cap: admin.watchers.sizes.watcher,
        out: Mutex::default(),
    });
    ws.push(w.clone());
    admin.watchers.set_masks(&ws, taps);
    drop(ws);
    for d in admin.desks() {
        d.logger.wake();
    }
    Some(Watching {
        watcher: w,
        admin: admin.clone(),
        taps: taps.clone(),
    })
}

/// The watching connection is gone.
fn leave(admin: &Admin, taps: &[Arc<Counters>], w: &Arc<Watcher>) {
    let mut ws = lock(&admin.watchers.watchers);
    ws.retain(|x| !Arc::ptr_eq(x, w));
    admin.watchers.set_masks(&ws, taps);
}

/// Logs a connection's start or end (`close`) for the shard's watchers of `connevents`,
/// if any. memcached names why a connection closed; every close here is `normal`.
#[inline]
pub fn conn_event(tap: &Tap, fd: i32, close: bool) {
    if !tap.wants(streams::CONNEVENTS) {
        return;
    }
    let peer = peer_of(fd);
    tap.log(streams::CONNEVENTS, |out| {
        lines::conn_event(out, &peer, close.then_some("normal"), fd)
    });
}

/// The peer of socket `fd`, as memcached's log names it.
fn peer_of(fd: i32) -> lines::Peer {
    // SAFETY: sockaddr_storage is plain data; getpeername writes at most `len` bytes of it.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: as above; `fd` is the shard's open socket.
    let rc = unsafe { libc::getpeername(fd, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) };
    let (ip, port, transport) = match (rc, i32::from(ss.ss_family)) {
        (0, libc::AF_INET) => {
            // SAFETY: the family says it is a sockaddr_in.
            let a = unsafe { &*(&ss as *const _ as *const libc::sockaddr_in) };
            let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            (ip.to_string(), u16::from_be(a.sin_port), "tcp")
        }
        (0, libc::AF_INET6) => {
            // SAFETY: the family says it is a sockaddr_in6.
            let a = unsafe { &*(&ss as *const _ as *const libc::sockaddr_in6) };
            let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
            (ip.to_string(), u16::from_be(a.sin6_port), "tcp")
        }
        _ => ("unix".to_string(), 0, "local"),
    };
    lines::Peer {
        ip,
        port,
        transport,
    }
}

/// A shard's log task: hands the shard's lines to every watcher, a pass every
/// millisecond while lines come (backing off to `IDLE_MAX` while none do), asleep while
/// nobody watches.
pub struct LogTask {
    counters: Arc<Counters>,
    admin: Arc<Admin>,
    lines: Vec<u8>,
    watchers: Vec<Arc<Watcher>>,
    idle_passes: u32,
}

/// The longest a log task waits between passes while someone watches.
const IDLE_MAX: Duration = Duration::from_millis(64);

impl LogTask {
    pub fn new(counters: Arc<Counters>, admin: Arc<Admin>) -> Self {
        LogTask {
            counters,
            admin,
            lines: Vec::new(),
            watchers: Vec::new(),
            idle_passes: 0,
        }
    }
}

impl Task for LogTask {
    fn name(&self) -> &'static str {
        "log_fanout"
    }
    fn description(&self) -> &'static str {
        "hands the shard's watch lines to every watcher's stream"
    }
    fn queue(&self) -> Queue {
        Queue::NonIo
    }
    fn priority(&self) -> u8 {
        6
    }
    fn run(&mut self, _now: u32) -> Next {
        self.watchers.clear();
        self.watchers
            .extend(lock(&self.admin.watchers.watchers).iter().cloned());
        let tap = &self.counters.watch;
        if self.watchers.is_empty() {
            // Lines made while the last watcher left are nobody's.
            tap.release();
            self.lines = Vec::new();
            return Next::Sleep;
        }
        tap.take(&mut self.lines);
        if self.lines.is_empty() {
            self.idle_passes = (self.idle_passes + 1).min(6);
            return Next::Snooze(Duration::from_millis(1 << self.idle_passes).min(IDLE_MAX));
        }
        for w in &self.watchers {
            w.deliver(&self.lines, tap);
        }
        self.lines.clear();
        self.watchers.clear();
        self.idle_passes = 0;
        Next::Snooze(Duration::from_millis(1))
    }
}

/// Test helpers: a shard's mask set as if watchers wanted `streams`.
#[cfg(test)]
pub(crate) fn tests_set_mask(c: &Counters, streams: u16) {
    c.watch.mask.store(streams & PRODUCED, Relaxed);
}

/// Test helpers: the shard's lines so far, without their `ts=… ` (the gid is added per
/// watcher).
#[cfg(test)]
pub(crate) fn tests_lines(c: &Counters) -> String {
    let mut buf = Vec::new();
    c.watch.take(&mut buf);
    entries(&buf)
        .map(|e| String::from_utf8_lossy(e.rest).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watcher(streams: u16) -> Watcher {
        Watcher {
            streams,
            since: 0,
            cap: OUTBOX_BYTES,
            out: Mutex::default(),
        }
    }

    fn take(w: &Watcher) -> String {
        let mut out = Vec::new();
        let waker = futures_lite::future::block_on(futures_lite::future::poll_fn(|cx| {
            Poll::Ready(cx.waker().clone())
        }));
        let _ = w.poll_lines(&mut Context::from_waker(&waker), &mut out);
        String::from_utf8(out).unwrap()
    }

    /// Strips `ts=… ` so lines compare exactly.
    fn no_ts(s: &str) -> String {
        s.lines()
            .map(|l| match l.strip_prefix("ts=") {
                Some(r) => r.split_once(' ').unwrap().1.to_string() + "\n",
                None => l.to_string() + "\n",
            })
            .collect()
    }

    #[test]
    fn lines_go_to_the_watchers_of_their_stream_numbered() {
        let tap = Tap::default();
        tap.log(streams::FETCHERS, |o| o.extend_from_slice(b"type=a\n"));
        tap.log(streams::MUTATIONS, |o| o.extend_from_slice(b"type=b\n"));
        tap.log(streams::FETCHERS, |o| o.extend_from_slice(b"type=c\n"));
        let mut buf = Vec::new();
        tap.take(&mut buf);
        let (f, m) = (watcher(streams::FETCHERS), watcher(streams::MUTATIONS));
        f.deliver(&buf, &tap);
        m.deliver(&buf, &tap);
        assert_eq!(no_ts(&take(&f)), "gid=1 type=a\ngid=2 type=c\n");
        assert_eq!(no_ts(&take(&m)), "gid=1 type=b\n");
        assert_eq!(tap.written.load(Relaxed), 3);
        assert_eq!(tap.sent.load(Relaxed), 3);
    }

    #[test]
    fn a_full_outbox_skips_lines_and_says_how_many() {
        let tap = Tap::default();
        let w = watcher(streams::FETCHERS);
        let line = vec![b'x'; 1000];
        let mut offered = 0;
        // Far more than the outbox holds, a tap's worth at a time.
        for _ in 0..10 {
            for _ in 0..60 {
                tap.log(streams::FETCHERS, |o| {
                    o.extend_from_slice(&line);
                    o.push(b'\n')
                });
            }
            let mut buf = Vec::new();
            tap.take(&mut buf);
            offered += entries(&buf).count();
            w.deliver(&buf, &tap);
        }
        let first = take(&w);
        assert!(first.len() <= OUTBOX_BYTES, "the outbox is bounded");
        let skipped = tap.skipped.load(Relaxed);
        assert!(skipped > 0);
        assert_eq!(tap.sent.load(Relaxed) + skipped, offered as u64);
        // The next line that fits says how many were skipped first.
        tap.log(streams::FETCHERS, |o| o.extend_from_slice(b"type=z\n"));
        let mut buf = Vec::new();
        tap.take(&mut buf);
        w.deliver(&buf, &tap);
        assert_eq!(
            no_ts(&take(&w)),
            format!("skipped={skipped}\ngid={} type=z\n", offered + 1)
        );
    }

    #[test]
    fn the_sizes_given_bound_the_tap_and_the_outbox() {
        let hub = Hub::new(Buffers {
            worker: 4096,
            watcher: 2048,
        });
        let shard = Arc::new(Counters::default());
        hub.set_masks(&[], std::slice::from_ref(&shard));
        let tap = &shard.watch;
        for _ in 0..200 {
            tap.log(streams::FETCHERS, |o| o.extend_from_slice(b"type=a\n"));
        }
        let mut buf = Vec::new();
        tap.take(&mut buf);
        assert!(buf.len() <= 4096 && !buf.is_empty(), "{}", buf.len());
        assert!(tap.dropped.load(Relaxed) > 0);
        let w = Watcher {
            cap: hub.sizes.watcher,
            ..watcher(streams::FETCHERS)
        };
        for _ in 0..10 {
            w.deliver(&buf, tap);
        }
        let got = take(&w);
        assert!(got.len() <= 2048 && !got.is_empty(), "{}", got.len());
        assert!(tap.skipped.load(Relaxed) > 0);
    }

    #[test]
    fn a_full_tap_drops_lines() {
        let tap = Tap::default();
        for _ in 0..3000 {
            tap.log(streams::FETCHERS, |o| o.extend_from_slice(b"type=a\n"));
        }
        let mut buf = Vec::new();
        tap.take(&mut buf);
        assert!(buf.len() <= TAP_BYTES);
        let (w, d) = (tap.written.load(Relaxed), tap.dropped.load(Relaxed));
        assert_eq!(w + d, 3000);
        assert!(d > 0);
        assert_eq!(entries(&buf).count() as u64, w);
    }
}
