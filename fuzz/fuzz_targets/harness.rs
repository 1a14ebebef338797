//! Checkers shared by the fuzz targets (`text_parser`, `store_ops`) and the property tests in
//! `tests/invariants.rs` (which include this file with `#[path]`): one definition of each
//! invariant, driven by random generators there and by libFuzzer's bytes here.
//!
//! - [`drive`] feeds a byte stream to the text parser the way a connection does (reads of
//!   given sizes, the swallow after a too-large value) and asserts the per-call invariants.
//! - [`check_fragmentation`] compares a whole-stream run with a fragmented one.
//! - [`StoreCheck`] applies [`Op`]s to a store and to a model, asserting the store's
//!   accounting invariants after every operation and its answers against the model.

#![allow(dead_code)]

use std::collections::HashMap;

use corecached::num::{push_u64, strtoull};
use corecached::protocol::binary as bin;
use corecached::protocol::meta;
use corecached::protocol::text::{parse, LINE_LIMIT};
use corecached::protocol::{Command, Limits, Parse, Request, KEY_MAX};
use corecached::stats::Stat;
use corecached::store::index::Index;
use corecached::store::{ArithResult, Mode, Store, StoreResult};

/// What the store returned of an item, copied out of it.
struct Seen<'a> {
    flags: u32,
    exptime: u32,
    cas: u64,
    value: &'a [u8],
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

/// One line per outcome: the request and the bytes it used.
pub fn summary(req: &Request<'_>, used: usize) -> String {
    let s = |b: &[u8]| b.escape_ascii().to_string();
    let body = match &req.cmd {
        Command::Get {
            kind,
            exptime,
            keys,
            bad_key,
        } => {
            let keys: Vec<String> = keys.iter().map(s).collect();
            format!(
                "{kind:?} exp={exptime} keys=[{}] bad={bad_key}",
                keys.join(",")
            )
        }
        Command::Store {
            mode,
            key,
            flags,
            exptime,
            cas,
            data,
        } => format!(
            "{mode:?} key={} flags={flags} exp={exptime} cas={cas} data={}",
            s(key),
            s(data)
        ),
        Command::TooLarge { mode, key, swallow } => {
            format!("TooLarge {mode:?} key={} swallow={swallow}", s(key))
        }
        Command::Delete { key } => format!("Delete key={}", s(key)),
        Command::Arith { incr, key, delta } => {
            format!("Arith incr={incr} key={} delta={delta}", s(key))
        }
        Command::Touch { key, exptime } => format!("Touch key={} exp={exptime}", s(key)),
        Command::FlushAll { delay } => format!("FlushAll delay={delay}"),
        Command::Version => "Version".into(),
        Command::Verbosity { level } => format!("Verbosity level={level}"),
        Command::Stats { args } => format!("Stats args=[{}]", s(args)),
        Command::Shutdown { args } => format!("Shutdown args=[{}]", s(args)),
        Command::Quit => "Quit".into(),
        Command::RefreshCerts => "RefreshCerts".into(),
        Command::LruCrawler(c) => format!("LruCrawler {c:?}"),
        Command::CacheMemlimit { mb } => format!("CacheMemlimit mb={mb}"),
        Command::Tune(t) => format!("Tune {t:?}"),
        Command::Watch { streams } => format!("Watch {streams:?}"),
        Command::MetaNoop => "MetaNoop".into(),
        Command::Meta(m) => format!("Meta {m:?}"),
        Command::Error(e) => format!("Error {e}"),
        Command::ErrorSwallow { msg, swallow } => format!("Error {msg} swallow={swallow}"),
    };
    format!("{body} noreply={} used={used}", req.noreply)
}

/// The outcome a connection would see: requests in order, and whether it closed.
#[derive(Debug, Default)]
pub struct Run {
    pub outcomes: Vec<String>,
    pub closed: bool,
    /// Meaningful for a whole-stream run only: at some parse point the next newline is more
    /// than [`LINE_LIMIT`] bytes away and a read that stopped before it would have closed the
    /// connection (memcached's unterminated-line rule depends on read sizes there).
    pub length_dependent: bool,
    /// Bytes still buffered (an incomplete request) or still to swallow at the end.
    pub buffered: usize,
    pub swallowing: usize,
}

/// Whether `s` (non-empty) lies inside `outer`.
fn within(s: &[u8], outer: &[u8]) -> bool {
    if s.is_empty() {
        return true;
    }
    let o = outer.as_ptr_range();
    let r = s.as_ptr_range();
    o.start <= r.start && r.end <= o.end
}

/// Asserts what every parse result must satisfy, for `buf` as the unread bytes.
fn check_parse(buf: &[u8], p: &Parse<'_>, limits: &Limits) {
    match p {
        Parse::Incomplete { need: Some(n) } => {
            assert!(
                *n > buf.len(),
                "Incomplete need {n} with {} buffered",
                buf.len()
            );
        }
        Parse::Incomplete { need: None } | Parse::Close => {}
        Parse::Done(req, used) => {
            let used = *used;
            assert!(used >= 1, "Done consumed nothing");
            assert!(used <= buf.len(), "Done consumed {used} of {}", buf.len());
            let nl = buf.iter().position(|&b| b == b'\n');
            assert!(
                nl.is_some_and(|nl| nl < used),
                "Done without consuming its line: used {used}, first newline {nl:?}"
            );
            let region = &buf[..used];
            let keyed = match &req.cmd {
                Command::Get { keys, .. } => {
                    assert!(within(keys.0, region), "keys outside the request");
                    for k in keys.iter() {
                        assert!(k.len() <= KEY_MAX, "get key of {} bytes", k.len());
                    }
                    None
                }
                Command::Store { key, data, .. } => {
                    assert!(within(data, region), "data outside the request");
                    Some(*key)
                }
                Command::TooLarge { key, .. }
                | Command::Delete { key }
                | Command::Arith { key, .. }
                | Command::Touch { key, .. } => Some(*key),
                Command::Stats { args } => {
                    assert!(within(args, region), "stats args outside the request");
                    None
                }
                Command::Meta(m) => {
                    // Forwarding sends `raw` and the owner parses it again: it must be
                    // exactly the bytes used, and give the same request.
                    assert_eq!(
                        m.raw, region,
                        "a meta request's raw bytes are not what it used"
                    );
                    assert!(
                        m.key(&mut None).len() <= KEY_MAX,
                        "meta key of {} bytes",
                        m.key(&mut None).len()
                    );
                    assert_eq!(
                        &meta::reparse(m.raw, limits),
                        m,
                        "a forwarded meta request parses to another request"
                    );
                    None
                }
                _ => None,
            };
            if let Some(key) = keyed {
                assert!(within(key, region), "key outside the request");
                assert!(key.len() <= KEY_MAX, "key of {} bytes", key.len());
            }
        }
    }
}

/// Whether the request at the start of `buf` (everything left of the stream) could close the
/// connection when read in pieces although it does not when read whole.
fn line_length_dependent(buf: &[u8], limits: &Limits) -> bool {
    if buf.len() <= LINE_LIMIT || buf[..=LINE_LIMIT].contains(&b'\n') {
        return false;
    }
    // No newline in the first LINE_LIMIT + 1 bytes. With none at all, every read ends the
    // same way; with one further on, a read stopping before it sees this prefix.
    buf[LINE_LIMIT..].contains(&b'\n') && parse(&buf[..=LINE_LIMIT], limits) == Parse::Close
}

/// What one parse tells the feeder.
enum Step {
    /// More input is needed.
    More,
    /// An outcome that used `used` bytes, then discards the next `swallow`; `close` ends the
    /// connection after it.
    Took {
        outcome: String,
        used: usize,
        swallow: usize,
        close: bool,
    },
}

/// Feeds `input` as a connection receives it, in reads that end at `cuts` (positions in the
/// stream; the last read ends at the end): after each read, `step` parses the unread bytes
/// until it needs more; swallowed bytes are discarded whenever they arrive.
fn feed(input: &[u8], cuts: &[usize], mut step: impl FnMut(&[u8], &mut Run) -> Step) -> Run {
    let mut ends: Vec<usize> = cuts
        .iter()
        .copied()
        .filter(|&c| c > 0 && c < input.len())
        .collect();
    ends.sort_unstable();
    ends.dedup();
    ends.push(input.len());
    let mut run = Run::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = 0; // parsed bytes at the front of `buf`
    let mut swallow = 0usize;
    let mut fed = 0;
    'feed: for end in ends {
        buf.drain(..pos);
        pos = 0;
        buf.extend_from_slice(&input[fed..end]);
        fed = end;
        loop {
            let k = swallow.min(buf.len() - pos);
            pos += k;
            swallow -= k;
            if swallow > 0 || pos == buf.len() {
                continue 'feed;
            }
            match step(&buf[pos..], &mut run) {
                Step::More => continue 'feed,
                Step::Took {
                    outcome,
                    used,
                    swallow: s,
                    close,
                } => {
                    run.outcomes.push(outcome);
                    pos += used;
                    swallow = s;
                    if close {
                        run.closed = true;
                        break 'feed;
                    }
                }
            }
        }
    }
    run.buffered = buf.len() - pos;
    run.swallowing = swallow;
    run
}

/// Feeds `input` to the text parser as a connection receiving it in reads that end at `cuts`,
/// discarding `swallow` bytes after a too-large value or an error, stopping at `Close`.
/// Every parse is done twice, the second time on a copy (it must be a pure function) and
/// checked with [`check_parse`].
pub fn drive(input: &[u8], cuts: &[usize], limits: &Limits) -> Run {
    feed(input, cuts, |rest, run| {
        if line_length_dependent(rest, limits) {
            run.length_dependent = true;
        }
        let p = parse(rest, limits);
        // Same bytes at another address, same result.
        let copy = rest.to_vec();
        assert_eq!(p, parse(&copy, limits), "parse is not a pure function");
        check_parse(rest, &p, limits);
        match p {
            Parse::Incomplete { .. } => Step::More,
            Parse::Close => Step::Took {
                outcome: "Close".into(),
                used: 0,
                swallow: 0,
                close: true,
            },
            Parse::Done(req, used) => Step::Took {
                outcome: summary(&req, used),
                used,
                swallow: match &req.cmd {
                    Command::TooLarge { swallow, .. } | Command::ErrorSwallow { swallow, .. } => {
                        *swallow
                    }
                    Command::Meta(m) => m.swallow(),
                    _ => 0,
                },
                close: false,
            },
        }
    })
}

/// Drives `input` whole and cut at `cuts`; unless the whole run is length dependent, both
/// must give the same outcomes. Returns the whole run.
pub fn check_fragmentation(input: &[u8], cuts: &[usize], limits: &Limits) -> Run {
    let whole = drive(input, &[], limits);
    let cut = drive(input, cuts, limits);
    if !whole.length_dependent {
        if whole.outcomes != cut.outcomes {
            let first = whole
                .outcomes
                .iter()
                .zip(&cut.outcomes)
                .position(|(a, b)| a != b)
                .unwrap_or(whole.outcomes.len().min(cut.outcomes.len()));
            panic!(
                "fragmentation changed the outcomes (limits {limits:?}, cuts {cuts:?})\n\
                 input: {}\nfirst difference at outcome {first}:\n  whole: {:?}\n  cut:   {:?}",
                input.escape_ascii(),
                whole.outcomes.get(first),
                cut.outcomes.get(first)
            );
        }
        if !whole.closed {
            assert_eq!(
                (whole.buffered, whole.swallowing),
                (cut.buffered, cut.swallowing),
                "fragmentation changed what is left buffered"
            );
        }
    }
    whole
}

/// What the parser fuzz targets take from their first two bytes: the server limits (from
/// `config`) and where reads are cut in a stream of `len` bytes (from `seed`).
pub fn fuzz_setup(config: u8, seed: u8, len: usize) -> (Limits, Vec<usize>) {
    let limits = Limits {
        item_size_max: [100, 1024, 2048, 1 << 20][usize::from(config & 3)],
        use_cas: config & 4 == 0,
    };
    let seed = u64::from(seed).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ len as u64;
    (limits, cuts_from_seed(len, seed))
}

/// Read boundaries derived from `seed`: a fixed read size or random cut points.
pub fn cuts_from_seed(len: usize, seed: u64) -> Vec<usize> {
    if len < 2 {
        return Vec::new();
    }
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    match next() % 4 {
        0 => {
            // A fixed read size (1 byte only for short inputs: the drive is quadratic).
            let min = if len <= 512 { 1 } else { 1 + len / 256 };
            let size = min + (next() % 64) as usize;
            (size..len).step_by(size).collect()
        }
        _ => {
            let n = 1 + (next() % 12) as usize;
            (0..n)
                .map(|_| 1 + (next() % (len as u64 - 1)) as usize)
                .collect()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Binary protocol parser
// ---------------------------------------------------------------------------------------------

/// One line per binary packet: what the connection would act on.
pub fn bin_summary(p: &bin::Packet<'_>) -> String {
    let r = &p.req;
    format!(
        "op={:#04x} kind={:?} opaque={} cas={} extras={} key={} value={} used={} swallow={}",
        r.opcode,
        p.kind,
        r.opaque,
        r.cas,
        r.extras.escape_ascii(),
        r.key.escape_ascii(),
        r.value.len(),
        p.used,
        p.swallow
    )
}

/// Asserts what every binary parse result must satisfy, for `buf` as the unread bytes.
fn check_bin_parse(buf: &[u8], p: &bin::Parse<'_>) {
    match p {
        bin::Parse::Incomplete { need: Some(n) } => {
            assert!(
                *n > buf.len(),
                "Incomplete need {n} with {} buffered",
                buf.len()
            );
        }
        bin::Parse::Incomplete { need: None } => {
            assert!(
                buf.len() < bin::HEADER_LEN,
                "Incomplete with a whole header"
            );
        }
        bin::Parse::Close => assert_ne!(buf[0], bin::REQ_MAGIC, "closed on a request magic"),
        bin::Parse::Packet(pk) => {
            let r = &pk.req;
            assert!(
                pk.used >= bin::HEADER_LEN,
                "a packet shorter than its header"
            );
            assert!(pk.used <= buf.len(), "used {} of {}", pk.used, buf.len());
            assert_eq!(r.raw, &buf[..pk.used], "raw bytes are not what it used");
            let body = u32::from_be_bytes(buf[8..12].try_into().unwrap()) as usize;
            // Used and swallowed together are the whole packet (or its header, extras and
            // key when they claim more than the body): never bytes of the next request.
            let claimed = bin::HEADER_LEN + body.max(r.extras.len() + r.key.len());
            assert_eq!(
                pk.used + pk.swallow,
                claimed,
                "used + swallow is not the packet"
            );
            assert!(within(r.key, r.raw) && within(r.extras, r.raw) && within(r.value, r.raw));
            if pk.kind == bin::Kind::Valid {
                assert!(r.key.len() <= KEY_MAX, "key of {} bytes", r.key.len());
                // Forwarding sends `raw`; the owner must read the same request.
                assert_eq!(
                    &bin::reparse(r.raw),
                    r,
                    "a forwarded packet parses differently"
                );
            }
        }
    }
}

/// Feeds `input` to the binary parser as a connection does (reads ending at `cuts`, the
/// discarded part of a body swallowed, stopping at a close), checking every parse.
pub fn drive_binary(input: &[u8], cuts: &[usize], limits: &Limits) -> Run {
    feed(input, cuts, |rest, _| {
        let p = bin::parse(rest, limits);
        let copy = rest.to_vec();
        assert_eq!(p, bin::parse(&copy, limits), "parse is not a pure function");
        check_bin_parse(rest, &p);
        // What the connection buffers up to must agree with the parse.
        match (&p, bin::need(rest, limits)) {
            (bin::Parse::Incomplete { need }, n) => assert_eq!(*need, n, "need disagrees"),
            (bin::Parse::Packet(pk), n) => assert_eq!(n, Some(pk.used), "need disagrees"),
            (bin::Parse::Close, _) => {}
        }
        match p {
            bin::Parse::Incomplete { .. } => Step::More,
            bin::Parse::Close => Step::Took {
                outcome: "Close".into(),
                used: 0,
                swallow: 0,
                close: true,
            },
            bin::Parse::Packet(pk) => Step::Took {
                outcome: bin_summary(&pk),
                used: pk.used,
                swallow: pk.swallow,
                // memcached answers these and closes the connection.
                close: matches!(
                    pk.kind,
                    bin::Kind::Inconsistent | bin::Kind::KeyTooLong | bin::Kind::Invalid
                ),
            },
        }
    })
}

/// Drives `input` whole and cut at `cuts`: both must give the same packets (the binary
/// protocol frames by length, so read sizes never matter). Returns the whole run.
pub fn check_binary_fragmentation(input: &[u8], cuts: &[usize], limits: &Limits) -> Run {
    let whole = drive_binary(input, &[], limits);
    let cut = drive_binary(input, cuts, limits);
    assert_eq!(
        whole.outcomes,
        cut.outcomes,
        "fragmentation changed the packets (cuts {cuts:?}) of {}",
        input.escape_ascii()
    );
    if !whole.closed {
        assert_eq!(
            (whole.buffered, whole.swallowing),
            (cut.buffered, cut.swallowing),
            "fragmentation changed what is left buffered"
        );
    }
    whole
}

// ---------------------------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------------------------

/// The operations' clock starts here (any time works: the store judges expiry, eviction
/// included, only by the times its operations are given).
pub const NOW: u32 = 2_000_000_000;
/// The store's start time (absolute exptimes at or before it are already past).
pub const STARTED: u32 = NOW - 100;

/// An exptime as a client sends it, turned into the store's absolute time by
/// `Store::abs_exptime` as the engine does.
#[derive(Clone, Copy, Debug)]
pub enum Exp {
    Never,
    /// Relative seconds (up to 30 days).
    In(u32),
    /// Negative: already expired.
    Negative,
    /// An absolute time before the server started: already expired.
    AbsPast,
    /// An absolute time this many seconds after the operation's `now`.
    AbsAhead(u32),
}

/// The value of a storage command.
#[derive(Clone, Copy, Debug)]
pub enum Data {
    /// `len` bytes derived from `seed`.
    Bytes { len: usize, seed: u8 },
    /// One of [`NUMERIC`] (for `incr`/`decr`).
    Numeric(usize),
}

/// Values `incr`/`decr` meet: numbers, padded numbers, the largest, and non-numbers.
pub const NUMERIC: &[&str] = &[
    "0",
    "1",
    "9",
    "99",
    "100",
    "12 abc",
    "7  ",
    "18446744073709551615",
    "18446744073709551616",
    "-5",
    "",
    "abc",
    " 42",
    "4294967296",
];

impl Data {
    pub fn bytes(&self) -> Vec<u8> {
        match *self {
            Data::Bytes { len, seed } => (0..len)
                .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
                .collect(),
            Data::Numeric(i) => NUMERIC[i % NUMERIC.len()].as_bytes().to_vec(),
        }
    }
}

/// The unique a `cas` sends.
#[derive(Clone, Copy, Debug)]
pub enum CasPick {
    /// The unique the model knows for the key (0 if none).
    Known,
    Zero,
    Other(u64),
}

#[derive(Clone, Copy, Debug)]
pub enum Op {
    Store {
        mode: Mode,
        key: usize,
        flags: u32,
        exp: Exp,
        cas: CasPick,
        data: Data,
    },
    Get {
        key: usize,
    },
    Gat {
        key: usize,
        exp: Exp,
    },
    Touch {
        key: usize,
        exp: Exp,
    },
    Delete {
        key: usize,
    },
    /// The clean-up after a failed `set`.
    Remove {
        key: usize,
    },
    Arith {
        key: usize,
        incr: bool,
        delta: u64,
    },
    /// `flush_all`: `None` now, `Some(d)` at `now + d` (0 is now too).
    Flush {
        delay: Option<u32>,
    },
    Pager {
        budget: usize,
    },
    Advance {
        secs: u32,
    },
    /// The eviction task's step (skipped on stores that must not evict).
    Headroom,
}

/// How to build the store under test.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    pub segment_size: usize,
    /// Segments the memory limit pays for (besides the initial index).
    pub segments: usize,
    pub evict: bool,
    pub use_cas: bool,
    pub cas_offset: u64,
    pub cas_stride: u64,
    pub item_size_max: usize,
    pub keys: usize,
}

impl StoreConfig {
    /// A tiny evicting store: 4 KiB segments.
    pub fn tiny(segments: usize, keys: usize) -> Self {
        StoreConfig {
            segment_size: 4096,
            segments,
            evict: true,
            use_cas: true,
            cas_offset: 0,
            cas_stride: 1,
            item_size_max: usize::MAX,
            keys,
        }
    }

    /// Large enough for every item the generators make: nothing is ever evicted, so the
    /// model is exact. `item_size_max` keeps `append` from growing an item past a segment.
    pub fn roomy(keys: usize) -> Self {
        StoreConfig {
            segment_size: 4096,
            segments: 2048,
            evict: false,
            item_size_max: 4096,
            ..Self::tiny(0, keys)
        }
    }
}

/// The model's item.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    value: Vec<u8>,
    flags: u32,
    exptime: u32,
    cas: u64,
}

/// Counts of what happened, for reports.
#[derive(Clone, Debug, Default)]
pub struct StoreTally {
    pub ops: usize,
    pub hits: usize,
    pub misses: usize,
    pub stored: usize,
    pub no_memory: usize,
    pub evicted_seen: usize,
}

/// A store and its model. With `exact` (the store cannot evict) the model says exactly which
/// keys are present; otherwise an item may vanish (evicted) but never appear or change behind
/// the model's back: whatever the store returns must be what the model holds.
pub struct StoreCheck {
    pub store: Store,
    pub cfg: StoreConfig,
    exact: bool,
    keys: Vec<Vec<u8>>,
    model: HashMap<Vec<u8>, Entry>,
    now: u32,
    next_cas: u64,
    flush_at: Option<u32>,
    pub tally: StoreTally,
    /// The operation being checked, for failure messages.
    current: String,
}

/// The key table: short keys, and every fifth one long (up to 250 bytes).
pub fn key_table(n: usize) -> Vec<Vec<u8>> {
    (0..n.max(1))
        .map(|i| {
            let mut k = format!("k{i}").into_bytes();
            if i % 5 == 4 {
                let len = 40 + (i * 37) % 211;
                k.resize(len.min(KEY_MAX), b'x');
            }
            k
        })
        .collect()
}

/// memcached's item size (`item_size_ok`): 48 bytes of header, 8 of CAS, the key and its NUL,
/// 4 bytes of flags when not 0, the data and its CRLF.
pub fn memcached_size(nkey: usize, flags: u32, vlen: usize, use_cas: bool) -> usize {
    48 + if use_cas { 8 } else { 0 } + nkey + 1 + if flags != 0 { 4 } else { 0 } + vlen + 2
}

impl StoreCheck {
    pub fn new(cfg: StoreConfig) -> Self {
        // The limit pays for `segments` segments and the index the store starts with.
        let index_bytes = Index::with_capacity(64).bytes();
        let store = Store::builder()
            .segment_size(cfg.segment_size)
            .capacity(64)
            .mem_limit(cfg.segments.max(1) * cfg.segment_size + index_bytes)
            .evict(cfg.evict)
            .use_cas(cfg.use_cas)
            .cas_sequence(cfg.cas_offset, cfg.cas_stride)
            .item_size_max(cfg.item_size_max)
            .started(STARTED)
            .build();
        store.check_invariants();
        StoreCheck {
            store,
            exact: !cfg.evict,
            keys: key_table(cfg.keys),
            model: HashMap::new(),
            now: NOW,
            next_cas: cfg.cas_offset + 1,
            flush_at: None,
            tally: StoreTally::default(),
            current: String::new(),
            cfg,
        }
    }

    pub fn now(&self) -> u32 {
        self.now
    }

    fn fail(&self, what: String) -> ! {
        panic!(
            "store check failed at op #{} {}: {what}\nconfig {:?}, now {}",
            self.tally.ops, self.current, self.cfg, self.now
        )
    }

    fn exp(&self, e: Exp) -> u32 {
        let v = match e {
            Exp::Never => 0,
            Exp::In(s) => s.min(60 * 60 * 24 * 30) as i32,
            Exp::Negative => -1,
            Exp::AbsPast => (STARTED - 1000) as i32,
            Exp::AbsAhead(s) => self.now.saturating_add(s).min(i32::MAX as u32) as i32,
        };
        self.store.abs_exptime(v, self.now)
    }

    fn new_cas(&mut self) -> u64 {
        let c = self.next_cas;
        self.next_cas += self.cfg.cas_stride.max(1);
        c
    }

    /// What every operation that looks a key up does first: a due delayed flush takes
    /// effect (everything stored before it is gone).
    fn tick(&mut self) {
        if let Some(at) = self.flush_at {
            if self.now >= at {
                self.flush_at = None;
                self.model.clear();
            }
        }
    }

    /// The model's live entry for `key` (expired ones are dropped).
    fn live(&mut self, key: &[u8]) -> Option<Entry> {
        let e = self.model.get(key)?;
        if e.exptime != 0 && e.exptime <= self.now {
            self.model.remove(key);
            return None;
        }
        Some(e.clone())
    }

    /// The store showed whether `key` is present. Returns the model's entry when it is.
    fn observe(&mut self, key: &[u8], present: bool, what: &str) -> Option<Entry> {
        let m = self.live(key);
        match (present, m) {
            (true, Some(e)) => Some(e),
            (true, None) => self.fail(format!(
                "{what}: the store has {} but the model says it is absent",
                key.escape_ascii()
            )),
            (false, Some(e)) => {
                if self.exact {
                    self.fail(format!(
                        "{what}: the store lost {} (model: {:?})",
                        key.escape_ascii(),
                        e
                    ));
                }
                self.tally.evicted_seen += 1;
                self.model.remove(key);
                None
            }
            (false, None) => None,
        }
    }

    fn compare(&self, key: &[u8], it: &Seen<'_>, e: &Entry, what: &str) {
        let cas = if self.cfg.use_cas { e.cas } else { 0 };
        if it.value != e.value.as_slice()
            || it.flags != e.flags
            || it.exptime != e.exptime
            || it.cas != cas
        {
            self.fail(format!(
                "{what} {}: store returned value={} flags={} exptime={} cas={}, \
                 model value={} flags={} exptime={} cas={}",
                key.escape_ascii(),
                it.value.escape_ascii(),
                it.flags,
                it.exptime,
                it.cas,
                e.value.escape_ascii(),
                e.flags,
                e.exptime,
                cas
            ));
        }
    }

    /// Applies `op` to the store and the model, checks the answer, then the store's
    /// invariants.
    pub fn apply(&mut self, op: &Op) {
        self.tally.ops += 1;
        self.current = format!("{op:?}");
        let key = |k: usize| self.keys[k % self.keys.len()].clone();
        match *op {
            Op::Store {
                mode,
                key: k,
                flags,
                exp,
                cas,
                data,
            } => {
                let key = key(k);
                let exptime = self.exp(exp);
                let data = data.bytes();
                self.tick();
                let before = self.live(&key);
                let cas = match cas {
                    CasPick::Known => before.as_ref().map_or(0, |e| e.cas),
                    CasPick::Zero => 0,
                    CasPick::Other(c) => c,
                };
                let r = self
                    .store
                    .store(mode, &key, flags, exptime, cas, &data, self.now);
                self.after_store(mode, &key, flags, exptime, cas, &data, r);
            }
            Op::Get { key: k } => {
                let key = key(k);
                self.tick();
                let got = self
                    .store
                    .get(&key, self.now)
                    .map(|it| (it.value.to_vec(), it.flags, it.exptime, it.cas));
                match got {
                    Some((value, flags, exptime, cas)) => {
                        self.tally.hits += 1;
                        let e = self.observe(&key, true, "get").expect("present");
                        let it = Seen {
                            flags,
                            exptime,
                            cas,
                            value: &value,
                        };
                        self.compare(&key, &it, &e, "get");
                    }
                    None => {
                        self.tally.misses += 1;
                        self.observe(&key, false, "get");
                    }
                }
            }
            Op::Gat { key: k, exp } => {
                let key = key(k);
                let exptime = self.exp(exp);
                self.tick();
                let got = self
                    .store
                    .get_and_touch(&key, exptime, self.now)
                    .map(|it| (it.value.to_vec(), it.flags, it.exptime, it.cas));
                match got {
                    Some((value, flags, got_exp, cas)) => {
                        let mut e = self.observe(&key, true, "gat").expect("present");
                        e.exptime = exptime;
                        let it = Seen {
                            flags,
                            exptime: got_exp,
                            cas,
                            value: &value,
                        };
                        self.compare(&key, &it, &e, "gat");
                        self.model.insert(key, e);
                    }
                    None => {
                        self.observe(&key, false, "gat");
                    }
                }
            }
            Op::Touch { key: k, exp } => {
                let key = key(k);
                let exptime = self.exp(exp);
                self.tick();
                let hit = self.store.touch(&key, exptime, self.now);
                if let Some(mut e) = self.observe(&key, hit, "touch") {
                    e.exptime = exptime;
                    self.model.insert(key, e);
                }
            }
            Op::Delete { key: k } => {
                let key = key(k);
                self.tick();
                let hit = self.store.delete(&key, self.now);
                self.observe(&key, hit, "delete");
                self.model.remove(&key);
            }
            Op::Remove { key: k } => {
                let key = key(k);
                self.tick();
                self.store.remove(&key, self.now);
                self.model.remove(&key);
            }
            Op::Arith {
                key: k,
                incr,
                delta,
            } => {
                let key = key(k);
                self.tick();
                let r = self.store.arith(&key, incr, delta, self.now);
                self.after_arith(&key, incr, delta, r);
            }
            Op::Flush { delay } => {
                let at = delay.map_or(0, |d| self.now.saturating_add(d));
                self.store.flush_all(at, self.now);
                if at == 0 || at <= self.now {
                    self.flush_at = None;
                    self.model.clear();
                } else {
                    self.flush_at = Some(at);
                }
            }
            Op::Pager { budget } => {
                self.tick();
                self.store.pager_step(self.now, budget.max(1));
            }
            Op::Advance { secs } => {
                self.now = self.now.saturating_add(secs).min(i32::MAX as u32 - 1);
            }
            Op::Headroom => {
                // A no-op on a store that must not evict.
                self.store.make_headroom();
                self.store.take_wants_headroom();
            }
        }
        self.store.check_invariants();
    }

    #[allow(clippy::too_many_arguments)]
    fn after_store(
        &mut self,
        mode: Mode,
        key: &[u8],
        flags: u32,
        exptime: u32,
        cas: u64,
        data: &[u8],
        r: StoreResult,
    ) {
        let what = format!("{mode:?} -> {r:?}");
        let fresh = |c: &mut Self, value: Vec<u8>, flags: u32, exptime: u32| {
            let cas = c.new_cas();
            c.model.insert(
                key.to_vec(),
                Entry {
                    value,
                    flags,
                    exptime,
                    cas,
                },
            );
            c.tally.stored += 1;
        };
        if r == StoreResult::NoMemory {
            self.tally.no_memory += 1;
            // memcached unlinks the old value of a `set` it cannot store; the other modes
            // leave the old item as it was (if eviction did not take it).
            if mode == Mode::Set {
                self.model.remove(key);
            }
            return;
        }
        match mode {
            Mode::Set => {
                if r != StoreResult::Stored {
                    self.fail(what);
                }
                fresh(self, data.to_vec(), flags, exptime);
            }
            Mode::Add => match r {
                StoreResult::Stored => {
                    self.observe(key, false, &what);
                    fresh(self, data.to_vec(), flags, exptime);
                }
                StoreResult::NotStored => {
                    self.observe(key, true, &what);
                }
                _ => self.fail(what),
            },
            Mode::Replace => match r {
                StoreResult::Stored => {
                    self.observe(key, true, &what);
                    fresh(self, data.to_vec(), flags, exptime);
                }
                StoreResult::NotStored => {
                    self.observe(key, false, &what);
                }
                _ => self.fail(what),
            },
            Mode::Append | Mode::Prepend => {
                let m = self.live(key);
                let too_big = m.as_ref().is_some_and(|e| {
                    memcached_size(
                        key.len(),
                        e.flags,
                        e.value.len() + data.len(),
                        self.cfg.use_cas,
                    ) > self.cfg.item_size_max
                });
                match r {
                    StoreResult::Stored => {
                        let e = self.observe(key, true, &what).expect("present");
                        if too_big {
                            self.fail(format!("{what}: over item_size_max yet stored"));
                        }
                        let value = if mode == Mode::Append {
                            [e.value.as_slice(), data].concat()
                        } else {
                            [data, e.value.as_slice()].concat()
                        };
                        // The old item's flags and expiry are kept.
                        fresh(self, value, e.flags, e.exptime);
                    }
                    StoreResult::NotStored => {
                        if !too_big {
                            self.observe(key, false, &what);
                        }
                    }
                    _ => self.fail(what),
                }
            }
            Mode::Cas => match r {
                StoreResult::NotFound => {
                    self.observe(key, false, &what);
                }
                StoreResult::Exists => {
                    let e = self.observe(key, true, &what).expect("present");
                    if self.cfg.use_cas && cas != 0 && e.cas == cas {
                        self.fail(format!("{what}: the unique {cas} matches"));
                    }
                }
                StoreResult::Stored => {
                    let e = self.observe(key, true, &what).expect("present");
                    if !(self.cfg.use_cas && cas != 0 && e.cas == cas) {
                        self.fail(format!("{what}: unique {cas} vs the item's {}", e.cas));
                    }
                    fresh(self, data.to_vec(), flags, exptime);
                }
                _ => self.fail(what),
            },
        }
    }

    fn after_arith(&mut self, key: &[u8], incr: bool, delta: u64, r: ArithResult) {
        let what = format!("arith incr={incr} delta={delta} -> {r:?}");
        if r == ArithResult::NotFound {
            self.observe(key, false, &what);
            return;
        }
        let e = self.observe(key, true, &what).expect("present");
        // memcached's do_add_delta: strtoull of the value (followed by its CRLF).
        let current = if e.value.is_empty() {
            None
        } else {
            strtoull(&[e.value.as_slice(), b"\r\n"].concat())
        };
        let Some(current) = current else {
            if r != ArithResult::NonNumeric {
                self.fail(format!(
                    "{what}: value {} is not numeric",
                    e.value.escape_ascii()
                ));
            }
            return;
        };
        let want = if incr {
            current.wrapping_add(delta)
        } else {
            current.saturating_sub(delta)
        };
        let mut digits = Vec::new();
        push_u64(&mut digits, want);
        match r {
            ArithResult::Value(v) if v == want => {
                let value = if digits.len() <= e.value.len() {
                    let mut d = digits;
                    d.resize(e.value.len(), b' ');
                    d
                } else {
                    digits
                };
                let cas = self.new_cas();
                self.model.insert(key.to_vec(), Entry { value, cas, ..e });
            }
            // A longer number needs a new item, which may not fit.
            ArithResult::NoMemory if digits.len() > e.value.len() => {
                self.tally.no_memory += 1;
            }
            _ => self.fail(format!("{what}: expected {want} from {current}")),
        }
    }

    /// End-of-sequence checks: every key the model holds is readable with its value.
    pub fn finish(&mut self) {
        for k in 0..self.keys.len() {
            self.apply(&Op::Get { key: k });
        }
        if self.exact {
            assert_eq!(
                self.store.counters().get(Stat::Evictions),
                0,
                "a store that must not evict evicted"
            );
        }
    }
}
