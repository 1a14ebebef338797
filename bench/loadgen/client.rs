//! One generator thread: an epoll loop over its connections, each keeping
//! `pipeline` requests in flight.
//!
//! Per connection, requests are encoded into a reused write buffer and sent
//! with one `write` per refill; replies are read with one `read` per
//! readiness into a reused buffer and parsed in place. Timestamps are taken
//! once per read and once per batch sent, not per request.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::hist::Histogram;
use crate::keys::{KeyGen, KeySpace, Pattern, Rng};
use crate::protocol::{Kind, Protocol};

/// How long the loop tolerates a server that answers nothing before giving up.
const STALL_LIMIT: Duration = Duration::from_secs(10);
const READ_BUF: usize = 64 * 1024;
const MAX_EVENTS: usize = 256;

#[derive(Clone, Copy, Debug)]
pub enum Limit {
    /// Each client sends this many requests.
    Requests(u64),
    /// Clients send until this long after their thread started.
    Time(Duration),
    /// Each client sets the keys of its share of the key range once.
    Prefill,
}

/// Everything a phase (prefill or main run) needs; shared by all threads.
pub struct Plan {
    pub addr: SocketAddr,
    pub threads: usize,
    pub clients: usize,
    pub pipeline: usize,
    pub ratio_set: u32,
    pub ratio_get: u32,
    pub set_pattern: Pattern,
    pub get_pattern: Pattern,
    pub keys: KeySpace,
    pub prefix: Vec<u8>,
    pub limit: Limit,
    pub multi_key: u32,
    pub data_min: usize,
    pub data_max: usize,
    pub expiry_min: u32,
    pub expiry_max: u32,
    /// `data_max` bytes of value; sets send a prefix of it.
    pub value: Vec<u8>,
    pub seed: u64,
}

#[derive(Clone, Default)]
pub struct OpStats {
    pub ops: u64,
    pub hits: u64,
    pub misses: u64,
    pub errors: u64,
    /// Request bytes sent plus reply bytes received.
    pub bytes: u64,
    pub hist: Histogram,
}

impl OpStats {
    pub fn merge(&mut self, o: &OpStats) {
        self.ops += o.ops;
        self.hits += o.hits;
        self.misses += o.misses;
        self.errors += o.errors;
        self.bytes += o.bytes;
        self.hist.merge(&o.hist);
    }
}

#[derive(Clone, Default)]
pub struct ThreadStats {
    pub sets: OpStats,
    pub gets: OpStats,
    /// Start and end of this thread's run, ns since the phase's base instant.
    pub start_ns: u64,
    pub end_ns: u64,
}

#[derive(Clone, Copy, Default)]
struct Pending {
    sent_ns: u64,
    keys: u32,
    req_bytes: u32,
    is_set: bool,
}

struct Conn<P> {
    /// Owns the socket; closed when the connection is dropped.
    _sock: TcpStream,
    fd: RawFd,
    proto: P,
    wbuf: Vec<u8>,
    wpos: usize,
    rbuf: Vec<u8>,
    rlen: usize,
    ring: Box<[Pending]>,
    head: usize,
    inflight: usize,
    issued: u64,
    quota: u64,
    cycle: u32,
    set_keys: KeyGen,
    get_keys: KeyGen,
    rng: Rng,
    key_ids: Vec<u64>,
    want_out: bool,
    finished: bool,
}

fn os_err(what: &str) -> String {
    format!("{what}: {}", io::Error::last_os_error())
}

/// Pins the calling thread to `cpu`.
pub fn pin_to_cpu(cpu: usize) -> Result<(), String> {
    // SAFETY: cpu_set_t is plain data; CPU_SET writes within it (checked
    // against its size by the bound below); sched_setaffinity(0) affects the
    // calling thread only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if cpu >= 8 * std::mem::size_of::<libc::cpu_set_t>() {
            return Err(format!("cpu {cpu} out of range"));
        }
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(os_err(&format!("sched_setaffinity(cpu {cpu})")));
        }
    }
    Ok(())
}

struct Epoll(RawFd);

impl Epoll {
    fn new() -> Result<Self, String> {
        // SAFETY: plain syscall.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(os_err("epoll_create1"));
        }
        Ok(Epoll(fd))
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, token: u64) -> Result<(), String> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: ev is a valid epoll_event for the duration of the call.
        if unsafe { libc::epoll_ctl(self.0, op, fd, &mut ev) } != 0 {
            return Err(os_err("epoll_ctl"));
        }
        Ok(())
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        // SAFETY: we own this fd.
        unsafe { libc::close(self.0) };
    }
}

/// Runs one thread's share of a phase and returns its statistics.
/// `progress` counts completed requests across threads; `abort` stops all.
pub fn run_thread<P: Protocol + Default>(
    plan: &Plan,
    thread: usize,
    base: Instant,
    progress: &AtomicU64,
    abort: &AtomicBool,
) -> Result<ThreadStats, String> {
    let now_ns = || base.elapsed().as_nanos() as u64;
    let total_clients = (plan.threads * plan.clients) as u64;
    let span = plan.keys.max - plan.keys.min + 1;
    let ep = Epoll::new()?;

    let mut conns: Vec<Conn<P>> = Vec::with_capacity(plan.clients);
    for c in 0..plan.clients {
        let global = (thread * plan.clients + c) as u64;
        let sock = TcpStream::connect_timeout(&plan.addr, Duration::from_secs(5))
            .map_err(|e| format!("connect {}: {e}", plan.addr))?;
        sock.set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        sock.set_nonblocking(true)
            .map_err(|e| format!("O_NONBLOCK: {e}"))?;
        let fd = sock.as_raw_fd();
        ep.ctl(libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN as u32, c as u64)?;
        let (set_pattern, get_pattern, quota) = match plan.limit {
            Limit::Requests(n) => (plan.set_pattern, plan.get_pattern, n),
            Limit::Time(_) => (plan.set_pattern, plan.get_pattern, u64::MAX),
            Limit::Prefill => {
                let a = (span as u128 * global as u128 / total_clients as u128) as u64;
                let b = (span as u128 * (global + 1) as u128 / total_clients as u128) as u64;
                (Pattern::Parallel, Pattern::Parallel, b - a)
            }
        };
        let seed = plan.seed ^ global.wrapping_mul(0x2545_f491_4f6c_dd1d);
        conns.push(Conn {
            _sock: sock,
            fd,
            proto: P::default(),
            // Room for a pipeline of the largest requests (a binary request
            // is a 24-byte header, up to 8 bytes of extras, the key and the
            // value), so the buffer does not grow during the run.
            wbuf: Vec::with_capacity(
                plan.pipeline
                    * (plan.data_max
                        + 64
                        + plan.prefix.len()
                        + (plan.prefix.len() + 48) * (plan.multi_key as usize + 1)),
            ),
            wpos: 0,
            rbuf: vec![0u8; READ_BUF],
            rlen: 0,
            ring: vec![Pending::default(); plan.pipeline].into_boxed_slice(),
            head: 0,
            inflight: 0,
            issued: 0,
            quota,
            cycle: 0,
            set_keys: KeyGen::new(set_pattern, &plan.keys, global, total_clients),
            get_keys: KeyGen::new(get_pattern, &plan.keys, global, total_clients),
            rng: Rng::new(seed),
            key_ids: Vec::with_capacity(plan.multi_key.max(1) as usize),
            want_out: false,
            finished: false,
        });
    }

    let mut st = ThreadStats::default();
    let start = now_ns();
    st.start_ns = start;
    let deadline = match plan.limit {
        Limit::Time(d) => Some(start + d.as_nanos() as u64),
        _ => None,
    };
    let mut stopping = false;
    let mut active = conns.len();
    for (i, c) in conns.iter_mut().enumerate() {
        refill(c, plan, stopping, &now_ns)?;
        flush(c, &ep, i)?;
        if c.inflight == 0 {
            c.finished = true;
            active -= 1;
        }
    }

    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; MAX_EVENTS];
    let mut last_progress = now_ns();
    let mut reported = 0u64;
    while active > 0 {
        // SAFETY: events has MAX_EVENTS valid slots.
        let n = unsafe { libc::epoll_wait(ep.0, events.as_mut_ptr(), MAX_EVENTS as i32, 100) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("epoll_wait: {e}"));
        }
        let now = now_ns();
        if abort.load(Ordering::Relaxed) {
            return Err("aborted".into());
        }
        if let Some(d) = deadline {
            if !stopping && now >= d {
                stopping = true;
                for c in conns.iter_mut() {
                    if !c.finished && c.inflight == 0 {
                        c.finished = true;
                        active -= 1;
                    }
                }
            }
        }
        if n == 0 {
            if now - last_progress > STALL_LIMIT.as_nanos() as u64 {
                return Err(format!(
                    "no reply from the server for {} s with requests in flight",
                    STALL_LIMIT.as_secs()
                ));
            }
            continue;
        }
        last_progress = now;
        for ev in &events[..n as usize] {
            let idx = ev.u64 as usize;
            let flags = ev.events;
            let c = &mut conns[idx];
            if c.finished {
                continue;
            }
            if flags & libc::EPOLLOUT as u32 != 0 {
                flush(c, &ep, idx)?;
            }
            if flags & (libc::EPOLLIN | libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0 {
                on_readable(c, &mut st, &now_ns)?;
                refill(c, plan, stopping, &now_ns)?;
                flush(c, &ep, idx)?;
            }
            if c.inflight == 0 && (stopping || c.issued >= c.quota) {
                c.finished = true;
                active -= 1;
            }
        }
        let done = st.sets.ops + st.gets.ops;
        progress.fetch_add(done - reported, Ordering::Relaxed);
        reported = done;
    }
    st.end_ns = now_ns();
    drop(conns);
    Ok(st)
}

/// Encodes new requests until `pipeline` are in flight (or the quota or the
/// time is up), then stamps them with one timestamp.
#[inline]
fn refill<P: Protocol>(
    c: &mut Conn<P>,
    plan: &Plan,
    stopping: bool,
    now_ns: &impl Fn() -> u64,
) -> Result<(), String> {
    if stopping {
        return Ok(());
    }
    if c.wpos == c.wbuf.len() {
        c.wbuf.clear();
        c.wpos = 0;
    }
    let cap = c.ring.len();
    let period = plan.ratio_set + plan.ratio_get;
    let mut added = 0usize;
    while c.inflight < cap && c.issued < c.quota {
        let is_set = c.cycle < plan.ratio_set;
        c.cycle += 1;
        if c.cycle >= period {
            c.cycle = 0;
        }
        let before = c.wbuf.len();
        let keys = if is_set {
            let key = c.set_keys.next_key(&mut c.rng);
            let size = if plan.data_min == plan.data_max {
                plan.data_max
            } else {
                c.rng
                    .range_inclusive(plan.data_min as u64, plan.data_max as u64)
                    as usize
            };
            let exp = if plan.expiry_min == plan.expiry_max {
                plan.expiry_min
            } else {
                c.rng
                    .range_inclusive(plan.expiry_min as u64, plan.expiry_max as u64)
                    as u32
            };
            c.proto
                .encode_set(&mut c.wbuf, &plan.prefix, key, &plan.value[..size], exp);
            1
        } else {
            c.key_ids.clear();
            for _ in 0..plan.multi_key.max(1) {
                let k = c.get_keys.next_key(&mut c.rng);
                c.key_ids.push(k);
            }
            c.proto.encode_get(&mut c.wbuf, &plan.prefix, &c.key_ids);
            c.key_ids.len() as u32
        };
        let slot = (c.head + c.inflight) % cap;
        c.ring[slot] = Pending {
            sent_ns: 0,
            keys,
            req_bytes: (c.wbuf.len() - before) as u32,
            is_set,
        };
        c.inflight += 1;
        c.issued += 1;
        added += 1;
    }
    if added > 0 {
        let t = now_ns();
        for i in c.inflight - added..c.inflight {
            c.ring[(c.head + i) % cap].sent_ns = t;
        }
    }
    Ok(())
}

/// Writes what is pending; arms EPOLLOUT while the socket is full.
#[inline]
fn flush<P>(c: &mut Conn<P>, ep: &Epoll, idx: usize) -> Result<(), String> {
    while c.wpos < c.wbuf.len() {
        let rest = &c.wbuf[c.wpos..];
        // SAFETY: rest is a valid readable slice; fd is an open socket.
        let n = unsafe { libc::write(c.fd, rest.as_ptr().cast(), rest.len()) };
        if n > 0 {
            c.wpos += n as usize;
            continue;
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => {
                if !c.want_out {
                    c.want_out = true;
                    ep.ctl(
                        libc::EPOLL_CTL_MOD,
                        c.fd,
                        (libc::EPOLLIN | libc::EPOLLOUT) as u32,
                        idx as u64,
                    )?;
                }
                return Ok(());
            }
            _ => return Err(format!("write to server: {e}")),
        }
    }
    if c.want_out {
        c.want_out = false;
        ep.ctl(libc::EPOLL_CTL_MOD, c.fd, libc::EPOLLIN as u32, idx as u64)?;
    }
    Ok(())
}

/// One `read`, then every complete reply in the buffer.
#[inline]
fn on_readable<P: Protocol>(
    c: &mut Conn<P>,
    st: &mut ThreadStats,
    now_ns: &impl Fn() -> u64,
) -> Result<(), String> {
    if c.rlen == c.rbuf.len() {
        let n = c.rbuf.len() * 2;
        c.rbuf.resize(n, 0);
    }
    let room = &mut c.rbuf[c.rlen..];
    // SAFETY: room is a valid writable slice; fd is an open socket.
    let n = unsafe { libc::read(c.fd, room.as_mut_ptr().cast(), room.len()) };
    if n == 0 {
        return Err(format!(
            "server closed the connection ({} replies outstanding)",
            c.inflight
        ));
    }
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => Ok(()),
            _ => Err(format!("read from server: {e}")),
        };
    }
    c.rlen += n as usize;
    let now = now_ns();
    let cap = c.ring.len();
    let mut pos = 0usize;
    while c.inflight > 0 {
        let p = c.ring[c.head];
        let Some((used, out)) = c.proto.parse_reply(&c.rbuf[pos..c.rlen], p.keys) else {
            break;
        };
        if out.kind == Kind::Garbage {
            return Err(format!(
                "reply not understood ({} replies outstanding): {:?}",
                c.inflight,
                String::from_utf8_lossy(&c.rbuf[pos..c.rlen.min(pos + 80)])
            ));
        }
        pos += used;
        c.head = (c.head + 1) % cap;
        c.inflight -= 1;
        let s = if p.is_set { &mut st.sets } else { &mut st.gets };
        s.ops += 1;
        s.bytes += p.req_bytes as u64 + used as u64;
        s.hist.record(now.saturating_sub(p.sent_ns));
        match (p.is_set, out.kind) {
            (true, Kind::Stored) => {}
            (false, Kind::Hit | Kind::Miss) => {
                s.hits += out.keys_hit as u64;
                s.misses += out.keys_miss as u64;
            }
            _ => s.errors += 1,
        }
    }
    if c.inflight == 0 && pos < c.rlen {
        return Err(format!(
            "unexpected bytes from the server: {:?}",
            String::from_utf8_lossy(&c.rbuf[pos..c.rlen.min(pos + 80)])
        ));
    }
    if pos > 0 {
        c.rbuf.copy_within(pos..c.rlen, 0);
        c.rlen -= pos;
    }
    Ok(())
}
