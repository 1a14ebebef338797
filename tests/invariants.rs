//! Property tests over random inputs, deterministic (a fixed-seed xorshift) and bounded.
//!
//! Parser (`protocol::text::parse`), fed like a connection feeds it:
//! - a `Done` consumes at least its first line and at most what it was given; every slice it
//!   borrows lies in the bytes it consumed; keys are at most 250 bytes;
//! - `Incomplete { need: Some(n) }` has `n` above the bytes given;
//! - parsing is a pure function of its input;
//! - fragmentation: the stream read whole or in reads cut anywhere gives the same outcomes
//!   (with the swallow after a too-large value), except where memcached's 2048-byte
//!   unterminated-line rule depends on read sizes (detected, and only then skipped);
//! - a stream of N valid commands gives exactly the N expected requests, however it is cut.
//!
//! Meta commands go through the same parser; besides the above, a meta request's raw bytes
//! are exactly what it used and parse again (on the owner shard, after forwarding) to the
//! same request, and N meta commands with random flags give N outcomes however they are cut.
//!
//! Binary parser (`protocol::binary::parse`): a packet uses at least its header and at most
//! what was given, its raw bytes are what it used and re-parse to the same request, what it
//! uses plus what it swallows is exactly its packet (never a byte of the next), `need` agrees
//! with the parse, parsing is pure, read sizes never change the packets, and N valid packets
//! give N packets.
//!
//! Store: random operation sequences on tiny stores, `check_invariants()` after every one,
//! and every answer checked against a model (exact when the store cannot evict; otherwise an
//! item may vanish but never appear or change behind the model's back).
//!
//! The checkers are shared with the fuzz targets in `fuzz/` (same invariants, libFuzzer's
//! inputs instead of these generators).

#[path = "../fuzz/fuzz_targets/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use corecached::protocol::text::Limits;
use corecached::store::Mode;
use harness::{
    check_binary_fragmentation, check_fragmentation, cuts_from_seed, drive, memcached_size,
    CasPick, Data, Exp, Op, StoreCheck, StoreConfig, NUMERIC,
};

/// xorshift64*: small, deterministic, good enough to pick test cases.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Each property stops early, successfully, when it has run this long (an unoptimised build
/// on a loaded machine); the counts are sized to finish well within it in release.
const BUDGET: Duration = Duration::from_secs(if cfg!(debug_assertions) { 5 } else { 30 });

const LIMITS: &[Limits] = &[
    Limits {
        item_size_max: 1024,
        use_cas: true,
    },
    Limits {
        item_size_max: 2048,
        use_cas: false,
    },
    Limits {
        item_size_max: 1 << 20,
        use_cas: true,
    },
    Limits {
        item_size_max: 100,
        use_cas: true,
    },
];

// ---------------------------------------------------------------------------------------------
// Generators of protocol text
// ---------------------------------------------------------------------------------------------

fn esc(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

fn key(r: &mut Rng) -> Vec<u8> {
    let len = match r.below(20) {
        0 => 250,
        1 => 1 + r.below(250),
        _ => 1 + r.below(12),
    };
    (0..len)
        .map(|_| {
            if r.chance(16) {
                0x80 + r.below(128) as u8
            } else {
                0x21 + r.below(0x7f - 0x21) as u8
            }
        })
        .collect()
}

fn int32(r: &mut Rng) -> i32 {
    match r.below(6) {
        0 => 0,
        1 => r.below(100) as i32,
        2 => -(r.below(100) as i32),
        3 => i32::MAX,
        4 => i32::MIN,
        _ => r.next() as i32,
    }
}

fn uint32(r: &mut Rng) -> u32 {
    match r.below(4) {
        0 => 0,
        1 => r.below(100) as u32,
        2 => u32::MAX,
        _ => r.next() as u32,
    }
}

fn uint64(r: &mut Rng) -> u64 {
    match r.below(4) {
        0 => 0,
        1 => r.below(1000) as u64,
        2 => u64::MAX,
        _ => r.next(),
    }
}

fn data(r: &mut Rng) -> Vec<u8> {
    let len = match r.below(12) {
        0 => r.below(3000),
        1 => 0,
        _ => r.below(64),
    };
    // Anything goes in a data block, CR, LF and NUL included.
    (0..len)
        .map(|_| match r.below(8) {
            0 => *r.pick(b"\r\n\0 "),
            _ => r.next() as u8,
        })
        .collect()
}

/// A line of `tokens`, separated by one or more spaces, perhaps padded, then CRLF or LF.
fn line(r: &mut Rng, tokens: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    if r.chance(8) {
        out.resize(1 + r.below(3), b' ');
    }
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 {
            let n = if r.chance(6) { 2 + r.below(2) } else { 1 };
            out.resize(out.len() + n, b' ');
        }
        out.extend_from_slice(t);
    }
    if r.chance(8) {
        out.resize(out.len() + 1 + r.below(2), b' ');
    }
    out.extend_from_slice(if r.chance(4) { b"\n" } else { b"\r\n" });
    out
}

fn tok(s: impl ToString) -> Vec<u8> {
    s.to_string().into_bytes()
}

/// One valid command and the outcome `harness::summary` gives for it. With `long_gets`, a
/// `get`/`gets` line may be far over 2048 bytes (which memcached allows for them alone).
fn valid_command(r: &mut Rng, limits: &Limits, long_gets: bool) -> (Vec<u8>, String) {
    let noreply = r.chance(3);
    let nr = |mut t: Vec<Vec<u8>>| {
        if noreply {
            t.push(tok("noreply"));
        }
        t
    };
    match r.below(13) {
        0..=2 => {
            let (word, kind, touches) = *r.pick(&[
                ("get", "Get", false),
                ("bget", "Get", false),
                ("gets", "Gets", false),
                ("gat", "Gat", true),
                ("gats", "Gats", true),
            ]);
            let mut tokens = vec![tok(word)];
            let mut exp = 0;
            if touches {
                exp = int32(r);
                tokens.push(tok(exp));
            }
            let n = if long_gets && !touches && word != "bget" && r.chance(6) {
                150 + r.below(250)
            } else {
                usize::from(!touches) + r.below(6)
            };
            let keys: Vec<Vec<u8>> = (0..n).map(|_| key(r)).collect();
            tokens.extend(keys.iter().cloned());
            let l = line(r, &tokens);
            let names: Vec<String> = keys.iter().map(|k| esc(k)).collect();
            let used = l.len();
            let want = format!(
                "{kind} exp={exp} keys=[{}] bad=false noreply=false used={used}",
                names.join(",")
            );
            (l, want)
        }
        3..=5 => {
            let (word, mode) = *r.pick(&[
                ("set", Mode::Set),
                ("add", Mode::Add),
                ("replace", Mode::Replace),
                ("append", Mode::Append),
                ("prepend", Mode::Prepend),
                ("cas", Mode::Cas),
            ]);
            let k = key(r);
            let flags = uint32(r);
            let exp = int32(r);
            let d = data(r);
            let cas = if mode == Mode::Cas { uint64(r) } else { 0 };
            let mut tokens = vec![tok(word), k.clone(), tok(flags), tok(exp), tok(d.len())];
            if mode == Mode::Cas {
                tokens.push(tok(cas));
            }
            let mut l = line(r, &nr(tokens));
            let line_len = l.len();
            l.extend_from_slice(&d);
            l.extend_from_slice(b"\r\n");
            let want =
                if memcached_size(k.len(), flags, d.len(), limits.use_cas) > limits.item_size_max {
                    format!(
                        "TooLarge {mode:?} key={} swallow={} noreply={noreply} used={line_len}",
                        esc(&k),
                        d.len() + 2
                    )
                } else {
                    format!(
                        "{mode:?} key={} flags={flags} exp={exp} cas={cas} data={} \
                     noreply={noreply} used={}",
                        esc(&k),
                        esc(&d),
                        l.len()
                    )
                };
            (l, want)
        }
        6 => {
            let k = key(r);
            let mut tokens = vec![tok("delete"), k.clone()];
            if r.chance(2) {
                tokens.push(tok(0));
            }
            let l = line(r, &nr(tokens));
            let want = format!("Delete key={} noreply={noreply} used={}", esc(&k), l.len());
            (l, want)
        }
        7 => {
            let incr = r.chance(2);
            let k = key(r);
            let delta = uint64(r);
            let word = if incr { "incr" } else { "decr" };
            let l = line(r, &nr(vec![tok(word), k.clone(), tok(delta)]));
            let want = format!(
                "Arith incr={incr} key={} delta={delta} noreply={noreply} used={}",
                esc(&k),
                l.len()
            );
            (l, want)
        }
        8 => {
            let k = key(r);
            let exp = int32(r);
            let l = line(r, &nr(vec![tok("touch"), k.clone(), tok(exp)]));
            let want = format!(
                "Touch key={} exp={exp} noreply={noreply} used={}",
                esc(&k),
                l.len()
            );
            (l, want)
        }
        9 => {
            let delay = if r.chance(2) { Some(int32(r)) } else { None };
            let mut tokens = vec![tok("flush_all")];
            if let Some(d) = delay {
                tokens.push(tok(d));
            }
            let l = line(r, &nr(tokens));
            let want = format!(
                "FlushAll delay={} noreply={noreply} used={}",
                delay.unwrap_or(0),
                l.len()
            );
            (l, want)
        }
        10 => {
            let level = uint32(r);
            let l = line(r, &nr(vec![tok("verbosity"), tok(level)]));
            let want = format!("Verbosity level={level} noreply={noreply} used={}", l.len());
            (l, want)
        }
        11 => {
            const ARGS: &[&[&str]] = &[
                &[],
                &["settings"],
                &["items"],
                &["detail", "on"],
                &["cachedump", "1", "100"],
            ];
            let args = *r.pick(ARGS);
            let mut tokens = vec![tok("stats")];
            tokens.extend(args.iter().map(tok));
            let l = line(r, &tokens);
            // The arguments are the line's bytes from the first to the last, as sent.
            let text = String::from_utf8_lossy(&l).into_owned();
            let shown = if args.is_empty() {
                String::new()
            } else {
                let start = text.find(args[0]).expect("first argument");
                let last = args[args.len() - 1];
                let end = text.rfind(last).expect("last argument") + last.len();
                text[start..end].to_string()
            };
            let want = format!("Stats args=[{shown}] noreply=false used={}", l.len());
            (l, want)
        }
        _ => {
            let (word, name) =
                *r.pick(&[("version", "Version"), ("quit", "Quit"), ("mn", "MetaNoop")]);
            let l = line(r, &[tok(word)]);
            let want = format!("{name} noreply=false used={}", l.len());
            (l, want)
        }
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "+5",
    "00012",
    "3000",
    "1000",
    "65536",
    "2147483647",
    "2147483648",
    "-2147483648",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999",
    "1x",
    "x",
    " ",
    "noreply",
    "HTTP/1.1",
];

/// A random edit of `s`: flip, overwrite, insert, delete, duplicate, or a number swapped.
fn mutate(r: &mut Rng, s: &mut Vec<u8>) {
    let interesting = b" \r\n\0\t0123456789-noreply";
    let at = r.below(s.len() + 1);
    match r.below(7) {
        0 if !s.is_empty() => {
            let i = at.min(s.len() - 1);
            s[i] ^= 1 << r.below(8);
        }
        1 if !s.is_empty() => {
            let i = at.min(s.len() - 1);
            s[i] = *r.pick(interesting);
        }
        2 => {
            let n = 1 + r.below(4);
            for _ in 0..n {
                let b = if r.chance(2) {
                    *r.pick(interesting)
                } else {
                    r.next() as u8
                };
                s.insert(at, b);
            }
        }
        3 => {
            let end = (at + 1 + r.below(8)).min(s.len());
            s.drain(at..end);
        }
        4 => {
            let end = (at + 1 + r.below(40)).min(s.len());
            let piece = s[at..end].to_vec();
            let to = r.below(s.len() + 1);
            s.splice(to..to, piece);
        }
        _ => {
            // Replace the digit run at or after `at` (a count, a flag, an exptime...).
            let Some(start) = s[at..].iter().position(|b| b.is_ascii_digit()) else {
                return;
            };
            let start = at + start;
            let len = s[start..].iter().take_while(|b| b.is_ascii_digit()).count();
            let with = r.pick(NUMBERS).as_bytes().to_vec();
            s.splice(start..start + len, with);
        }
    }
}

fn random_bytes(r: &mut Rng) -> Vec<u8> {
    let len = match r.below(10) {
        0 => 2000 + r.below(1200),
        _ => r.below(300),
    };
    let alphabet = b"  \r\n\r\n\0getsadcrplnoy_ 0123456789-";
    (0..len)
        .map(|_| {
            if r.chance(3) {
                r.next() as u8
            } else {
                *r.pick(alphabet)
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Parser properties
// ---------------------------------------------------------------------------------------------

#[test]
fn parser_random_bytes() {
    let start = Instant::now();
    let mut r = Rng::new(1);
    let mut runs = 0;
    for case in 0..12_000 {
        if start.elapsed() > BUDGET {
            break;
        }
        let input = random_bytes(&mut r);
        let limits = r.pick(LIMITS);
        for _ in 0..2 {
            let cuts = cuts_from_seed(input.len(), r.next());
            check_fragmentation(&input, &cuts, limits);
        }
        runs = case + 1;
    }
    eprintln!("parser_random_bytes: {runs} inputs");
}

#[test]
fn parser_mutated_commands() {
    let start = Instant::now();
    let mut r = Rng::new(2);
    let (mut runs, mut skipped, mut outcomes) = (0, 0, 0);
    for case in 0..10_000 {
        if start.elapsed() > BUDGET {
            break;
        }
        let limits = r.pick(LIMITS);
        let mut input = Vec::new();
        for _ in 0..1 + r.below(10) {
            input.extend(valid_command(&mut r, limits, true).0);
        }
        for _ in 0..1 + r.below(6) {
            mutate(&mut r, &mut input);
        }
        if r.chance(3) {
            let cut = r.below(input.len() + 1);
            input.truncate(cut);
        }
        for _ in 0..3 {
            let cuts = cuts_from_seed(input.len(), r.next());
            let whole = check_fragmentation(&input, &cuts, limits);
            skipped += usize::from(whole.length_dependent);
            outcomes += whole.outcomes.len();
        }
        runs = case + 1;
    }
    eprintln!(
        "parser_mutated_commands: {runs} streams, {outcomes} outcomes, \
         {skipped} fragment comparisons skipped (2048-byte rule)"
    );
}

#[test]
fn parser_valid_streams_give_one_request_per_command() {
    let start = Instant::now();
    let mut r = Rng::new(3);
    let (mut runs, mut commands) = (0, 0);
    for case in 0..2500 {
        if start.elapsed() > BUDGET {
            break;
        }
        let limits = r.pick(LIMITS);
        let n = 1 + r.below(40);
        let mut input = Vec::new();
        let mut want = Vec::new();
        for _ in 0..n {
            let (bytes, outcome) = valid_command(&mut r, limits, true);
            input.extend(bytes);
            want.push(outcome);
        }
        let mut cut_sets = vec![Vec::new()];
        for _ in 0..3 {
            cut_sets.push(cuts_from_seed(input.len(), r.next()));
        }
        for cuts in &cut_sets {
            let run = drive(&input, cuts, limits);
            assert!(
                !run.length_dependent,
                "a valid stream depends on read sizes: {}",
                input.escape_ascii()
            );
            assert_eq!(run.outcomes.len(), n, "{n} commands, cuts {cuts:?}");
            for (i, (got, want)) in run.outcomes.iter().zip(&want).enumerate() {
                assert_eq!(
                    got, want,
                    "command {i} of {n} (limits {limits:?}, cuts {cuts:?})"
                );
            }
            assert!(!run.closed);
            assert_eq!((run.buffered, run.swallowing), (0, 0), "bytes left over");
        }
        runs = case + 1;
        commands += n;
    }
    eprintln!("parser_valid_streams: {runs} streams, {commands} commands");
}

/// The one place fragmentation may change the outcome is detected (so the skip above is not
/// vacuous), and a long multi-get is not mistaken for it.
#[test]
fn parser_length_dependence_is_detected_exactly() {
    let limits = &LIMITS[0];
    let mut long_set = b"set ".to_vec();
    long_set.resize(3000, b'k');
    long_set.extend_from_slice(b" 0 0 1\r\nx\r\n");
    let whole = drive(&long_set, &[], limits);
    assert!(whole.length_dependent);
    assert!(!whole.closed, "read whole, the line is complete");
    assert!(
        drive(&long_set, &[2049], limits).closed,
        "read in pieces, it closes"
    );

    let mut long_get = b"get".to_vec();
    for i in 0..400 {
        long_get.extend_from_slice(format!(" key{i}").as_bytes());
    }
    long_get.extend_from_slice(b"\r\n");
    assert!(!drive(&long_get, &[], limits).length_dependent);
    check_fragmentation(&long_get, &[100, 2049, 2500], limits);

    let junk = vec![b'x'; 3000];
    assert!(!drive(&junk, &[], limits).length_dependent);
    assert!(check_fragmentation(&junk, &[10, 2100], limits).closed);
}

// ---------------------------------------------------------------------------------------------
// Store properties
// ---------------------------------------------------------------------------------------------

fn exp(r: &mut Rng) -> Exp {
    match r.below(8) {
        0 => Exp::In(1 + r.below(3) as u32),
        1 => Exp::In(r.below(100) as u32),
        2 => Exp::Negative,
        3 => Exp::AbsPast,
        4 => Exp::AbsAhead(r.below(5) as u32),
        _ => Exp::Never,
    }
}

fn store_op(r: &mut Rng, keys: usize, max_len: usize) -> Op {
    let key = r.below(keys);
    match r.below(20) {
        0..=6 => {
            let mode = *r.pick(&[
                Mode::Set,
                Mode::Set,
                Mode::Set,
                Mode::Add,
                Mode::Replace,
                Mode::Append,
                Mode::Prepend,
                Mode::Cas,
            ]);
            let len = match r.below(12) {
                0 => r.below(max_len),
                1 => 0,
                _ => r.below(150),
            };
            let data = if r.chance(3) {
                Data::Numeric(r.below(NUMERIC.len()))
            } else {
                Data::Bytes {
                    len,
                    seed: r.next() as u8,
                }
            };
            let cas = match r.below(6) {
                0 => CasPick::Zero,
                1 => CasPick::Other(r.below(1000) as u64),
                _ => CasPick::Known,
            };
            Op::Store {
                mode,
                key,
                flags: if r.chance(2) { 0 } else { uint32(r) },
                exp: if r.chance(3) { exp(r) } else { Exp::Never },
                cas,
                data,
            }
        }
        7..=10 => Op::Get { key },
        11 => Op::Gat { key, exp: exp(r) },
        12 => Op::Touch { key, exp: exp(r) },
        13 => Op::Delete { key },
        14 => {
            if r.chance(4) {
                Op::Remove { key }
            } else {
                Op::Advance {
                    secs: if r.chance(20) { 100 } else { r.below(3) as u32 },
                }
            }
        }
        15 | 16 => Op::Arith {
            key,
            incr: r.chance(2),
            delta: uint64(r),
        },
        17 => {
            if r.chance(25) {
                Op::Flush {
                    delay: if r.chance(2) {
                        None
                    } else {
                        Some(r.below(4) as u32)
                    },
                }
            } else {
                Op::Get { key }
            }
        }
        18 => Op::Pager {
            budget: 1 + r.below(80),
        },
        _ => Op::Headroom,
    }
}

/// Runs `ops` random operations; `check_invariants()` runs after every one (in `apply`).
fn store_run(r: &mut Rng, cfg: StoreConfig, ops: usize, max_len: usize) -> StoreCheck {
    let keys = cfg.keys;
    let mut c = StoreCheck::new(cfg);
    for _ in 0..ops {
        let op = store_op(r, keys, max_len);
        c.apply(&op);
    }
    c.finish();
    c
}

#[test]
fn store_tiny_stores_keep_their_accounting_and_agree_with_the_model() {
    let start = Instant::now();
    let (mut seqs, mut ops, mut evicted, mut nomem, mut hits) = (0, 0, 0, 0, 0);
    for seed in 1..=200u64 {
        if start.elapsed() > BUDGET {
            break;
        }
        let mut r = Rng::new(100 + seed);
        let mut cfg = StoreConfig::tiny(2 + r.below(9), 8 + r.below(120));
        match seed % 5 {
            1 => cfg.use_cas = false,
            2 => cfg.item_size_max = 300 + r.below(600),
            3 => {
                cfg.cas_offset = 1;
                cfg.cas_stride = 3;
            }
            4 => cfg.evict = false,
            _ => {}
        }
        let c = store_run(&mut r, cfg, 2500, 4200);
        seqs += 1;
        ops += c.tally.ops;
        evicted += c.tally.evicted_seen;
        nomem += c.tally.no_memory;
        hits += c.tally.hits;
    }
    eprintln!(
        "store tiny: {seqs} sequences, {ops} ops, {hits} hits, \
         {evicted} evictions observed, {nomem} NoMemory"
    );
    assert!(
        evicted > 0,
        "the tiny stores never evicted: the test is too gentle"
    );
}

#[test]
fn store_without_eviction_is_exactly_the_model() {
    let start = Instant::now();
    let (mut seqs, mut ops, mut hits) = (0, 0, 0);
    for seed in 1..=40u64 {
        if start.elapsed() > BUDGET {
            break;
        }
        let mut r = Rng::new(200 + seed);
        let mut cfg = StoreConfig::roomy(16 + r.below(200));
        if seed % 3 == 0 {
            cfg.use_cas = false;
        }
        // Values below a segment, so every write fits.
        let c = store_run(&mut r, cfg, 3000, 3800);
        assert_eq!(c.tally.no_memory, 0, "the roomy store ran out of memory");
        seqs += 1;
        ops += c.tally.ops;
        hits += c.tally.hits;
    }
    eprintln!("store exact: {seqs} sequences, {ops} ops, {hits} hits");
}

// ---------------------------------------------------------------------------------------------
// Meta commands
// ---------------------------------------------------------------------------------------------

/// Time for each meta and binary property test (they add to the text ones above).
const PROTO_BUDGET: Duration = Duration::from_secs(if cfg!(debug_assertions) { 3 } else { 12 });

const META_FLAGS: &[&str] = &[
    "v",
    "f",
    "t",
    "s",
    "k",
    "c",
    "h",
    "l",
    "q",
    "u",
    "b",
    "O",
    "Oabc",
    "T0",
    "T30",
    "T-1",
    "N30",
    "R10",
    "I",
    "E5",
    "C1",
    "C99999999999",
    "MS",
    "ME",
    "MA",
    "MP",
    "MR",
    "Mx",
    "F5",
    "F4294967296",
    "J13",
    "D2",
    "MI",
    "MD",
    "M+",
    "M-",
    "x",
    "T",
    "N",
    "Z",
    "S10",
    "vv",
];

/// A well-formed meta command line (random flags, some invalid) and its data block: one
/// outcome however the flags are judged. `ms` always has a sound length so that its data
/// block is consumed by it (stored, refused or swallowed).
fn meta_command(r: &mut Rng) -> Vec<u8> {
    let word = *r.pick(&["mg", "ms", "md", "ma", "me", "mn"]);
    let mut l = word.as_bytes().to_vec();
    if word == "mn" {
        l.extend_from_slice(b"\r\n");
        return l;
    }
    let key = if r.chance(8) {
        // base64 of "key1" / something not base64
        (*r.pick(&["a2V5MQ==", "!!!!", "Zm9v"])).as_bytes().to_vec()
    } else {
        key(r)
    };
    l.push(b' ');
    l.extend_from_slice(&key);
    let data = if word == "ms" { data(r) } else { Vec::new() };
    if word == "ms" {
        l.extend_from_slice(format!(" {}", data.len()).as_bytes());
    }
    if word != "me" {
        for _ in 0..r.below(6) {
            l.push(b' ');
            l.extend_from_slice(r.pick(META_FLAGS).as_bytes());
        }
    }
    l.extend_from_slice(b"\r\n");
    if word == "ms" {
        l.extend_from_slice(&data);
        l.extend_from_slice(b"\r\n");
    }
    l
}

#[test]
fn meta_streams_give_one_outcome_per_command_and_reparse_the_same() {
    let start = Instant::now();
    let mut r = Rng::new(21);
    let (mut runs, mut commands) = (0, 0);
    for case in 0..5_000 {
        if start.elapsed() > PROTO_BUDGET {
            break;
        }
        let limits = r.pick(LIMITS);
        let n = 1 + r.below(20);
        let mut input = Vec::new();
        for _ in 0..n {
            input.extend(meta_command(&mut r));
        }
        for _ in 0..2 {
            let cuts = cuts_from_seed(input.len(), r.next());
            let whole = check_fragmentation(&input, &cuts, limits);
            assert!(!whole.closed, "closed: {}", input.escape_ascii());
            assert_eq!(
                whole.outcomes.len(),
                n,
                "{n} meta commands: {}\n{:#?}",
                input.escape_ascii(),
                whole.outcomes
            );
            assert_eq!(
                (whole.buffered, whole.swallowing),
                (0, 0),
                "bytes left over"
            );
        }
        runs = case + 1;
        commands += n;
    }
    eprintln!("meta_streams: {runs} streams, {commands} commands");
}

#[test]
fn meta_mutated_streams() {
    let start = Instant::now();
    let mut r = Rng::new(22);
    let (mut runs, mut outcomes) = (0, 0);
    for case in 0..8_000 {
        if start.elapsed() > PROTO_BUDGET {
            break;
        }
        let limits = r.pick(LIMITS);
        let mut input = Vec::new();
        for _ in 0..1 + r.below(8) {
            input.extend(meta_command(&mut r));
        }
        for _ in 0..1 + r.below(6) {
            mutate(&mut r, &mut input);
        }
        let cuts = cuts_from_seed(input.len(), r.next());
        outcomes += check_fragmentation(&input, &cuts, limits).outcomes.len();
        runs = case + 1;
    }
    eprintln!("meta_mutated_streams: {runs} streams, {outcomes} outcomes");
}

// ---------------------------------------------------------------------------------------------
// Binary protocol
// ---------------------------------------------------------------------------------------------

/// A well-formed request packet of a random opcode memcached answers.
fn binary_packet(r: &mut Rng) -> Vec<u8> {
    // (opcode, extras length, has key, has value)
    const OPS: &[(u8, usize, bool, bool)] = &[
        (0x00, 0, true, false),  // get
        (0x09, 0, true, false),  // getq
        (0x0c, 0, true, false),  // getk
        (0x0d, 0, true, false),  // getkq
        (0x01, 8, true, true),   // set
        (0x02, 8, true, true),   // add
        (0x03, 8, true, true),   // replace
        (0x11, 8, true, true),   // setq
        (0x04, 0, true, false),  // delete
        (0x05, 20, true, false), // incr
        (0x06, 20, true, false), // decr
        (0x0e, 0, true, true),   // append
        (0x0f, 0, true, true),   // prepend
        (0x1c, 4, true, false),  // touch
        (0x1d, 4, true, false),  // gat
        (0x1e, 4, true, false),  // gatq
        (0x08, 0, false, false), // flush
        (0x08, 4, false, false), // flush with expiry
        (0x0a, 0, false, false), // noop
        (0x0b, 0, false, false), // version
        (0x10, 0, false, false), // stat
        (0x20, 0, false, false), // sasl list mechs
        (0x21, 0, true, true),   // sasl auth
    ];
    let &(op, elen, has_key, has_value) = r.pick(OPS);
    let key = if has_key { key(r) } else { Vec::new() };
    let extras: Vec<u8> = (0..elen).map(|_| r.next() as u8).collect();
    let value = if has_value { data(r) } else { Vec::new() };
    let mut p = vec![0x80, op];
    p.extend_from_slice(&(key.len() as u16).to_be_bytes());
    p.push(elen as u8);
    p.extend_from_slice(&[0, 0, 0]);
    p.extend_from_slice(&((elen + key.len() + value.len()) as u32).to_be_bytes());
    p.extend_from_slice(&(r.next() as u32).to_be_bytes());
    p.extend_from_slice(&(if r.chance(4) { r.next() } else { 0 }).to_be_bytes());
    p.extend_from_slice(&extras);
    p.extend_from_slice(&key);
    p.extend_from_slice(&value);
    p
}

#[test]
fn binary_valid_packets_give_one_packet_each() {
    let start = Instant::now();
    let mut r = Rng::new(31);
    let (mut runs, mut packets) = (0, 0);
    for case in 0..5_000 {
        if start.elapsed() > PROTO_BUDGET {
            break;
        }
        let limits = r.pick(LIMITS);
        let n = 1 + r.below(30);
        let mut input = Vec::new();
        for _ in 0..n {
            input.extend(binary_packet(&mut r));
        }
        for _ in 0..2 {
            let cuts = cuts_from_seed(input.len(), r.next());
            let whole = check_binary_fragmentation(&input, &cuts, limits);
            assert!(!whole.closed, "closed on valid packets");
            assert_eq!(
                whole.outcomes.len(),
                n,
                "{n} packets: {:#?}",
                whole.outcomes
            );
            assert!(
                whole
                    .outcomes
                    .iter()
                    .all(|o| o.contains("kind=Valid") || o.contains("kind=TooLarge")),
                "{:#?}",
                whole.outcomes
            );
            assert_eq!(
                (whole.buffered, whole.swallowing),
                (0, 0),
                "bytes left over"
            );
        }
        runs = case + 1;
        packets += n;
    }
    eprintln!("binary_valid_packets: {runs} streams, {packets} packets");
}

#[test]
fn binary_mutated_and_random_packets() {
    let start = Instant::now();
    let mut r = Rng::new(32);
    let (mut runs, mut outcomes, mut closed) = (0, 0, 0);
    for case in 0..10_000 {
        if start.elapsed() > PROTO_BUDGET {
            break;
        }
        let limits = r.pick(LIMITS);
        let mut input = Vec::new();
        for _ in 0..1 + r.below(8) {
            input.extend(binary_packet(&mut r));
        }
        // Lying lengths, wrong magic, random opcodes: flip header and body bytes.
        for _ in 0..1 + r.below(4) {
            if input.is_empty() {
                break;
            }
            let at = if r.chance(2) {
                r.below(input.len().min(24))
            } else {
                r.below(input.len())
            };
            input[at] = r.next() as u8;
        }
        if r.chance(3) {
            let cut = r.below(input.len() + 1);
            input.truncate(cut);
        }
        if r.chance(5) {
            input.extend((0..r.below(64)).map(|_| r.next() as u8));
        }
        let cuts = cuts_from_seed(input.len(), r.next());
        let whole = check_binary_fragmentation(&input, &cuts, limits);
        outcomes += whole.outcomes.len();
        closed += usize::from(whole.closed);
        runs = case + 1;
    }
    eprintln!("binary_mutated_and_random: {runs} streams, {outcomes} packets, {closed} closed");
}
