//! corecached-hitratio: replays a deterministic key trace against a memcached
//! text-protocol server as a cache-aside client (`get`; on a miss, `set`) and reports the
//! hit ratio, split by value size, with the server's evictions and item count at the end.
//!
//! Requests go in windows: the `noreply` sets for the previous window's misses, then one
//! multi-key `get` with this window's keys (hits come back in order, so the absent keys
//! are the misses); the last sets are followed by `mn` and read up to `MN`. The trace
//! depends only on the options, so every server sees the same requests.
//!
//! `--load N` instead stores N items with fixed 16-byte keys (`key:000000000001`) and
//! waits for every `STORED`: the memory-per-item measurement.

mod trace;
mod wire;

#[path = "../common/json.rs"]
mod json;
use json::json_str;
use std::fmt::Write as _;
use std::io;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use trace::{Dist, Key, Sizes, Trace};
use wire::Conn;

/// Cache-aside hit ratio of a memcached-protocol server on a Zipf or scan-polluted trace.
#[derive(Parser, Debug)]
#[command(name = "corecached-hitratio", version)]
struct Args {
    /// Server address.
    #[arg(short = 's', long, default_value = "127.0.0.1")]
    server: String,
    /// Server port.
    #[arg(short = 'p', long, default_value_t = 11211)]
    port: u16,
    /// Size of the Zipf key space.
    #[arg(long, default_value_t = 1_000_000)]
    keys: u64,
    /// Requests counted in the hit ratio (after the warmup).
    #[arg(long, default_value_t = 1_000_000)]
    requests: u64,
    /// Requests replayed first and not counted.
    #[arg(long, default_value_t = 0)]
    warmup: u64,
    /// Key distribution.
    #[arg(long, value_enum, default_value = "zipf")]
    dist: Dist,
    /// Zipf exponent (P(rank k) proportional to k^-exp).
    #[arg(long, default_value_t = 1.0)]
    zipf_exp: f64,
    /// scan-mix: fraction of requests that belong to the scan.
    #[arg(long, default_value_t = 0.3)]
    scan_fraction: f64,
    /// scan-mix: requests per scan burst.
    #[arg(long, default_value_t = 10_000)]
    scan_burst: u64,
    /// Value size in bytes (when --value-range is not given).
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// Value sizes MIN-MAX, log-uniform, fixed per key by a hash of the key.
    #[arg(long)]
    value_range: Option<String>,
    /// Values up to this many bytes are "small" in the per-size-class split.
    #[arg(long, default_value_t = 1000)]
    size_threshold: usize,
    /// Prepended to every key (ids are 12 digits after it).
    #[arg(long, default_value = "key:")]
    key_prefix: String,
    /// Seed of the trace.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Requests per pipelined window (capped so a window's values stay under ~256 KiB).
    #[arg(long, default_value_t = 64)]
    window: usize,
    /// Name printed at the start of the result line.
    #[arg(long, default_value = "run")]
    label: String,
    /// Print one JSON object instead of the text line.
    #[arg(long)]
    json: bool,
    /// Give up (exit status 2) after this many seconds.
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
    /// Socket read/write timeout in seconds.
    #[arg(long, default_value_t = 30)]
    io_timeout: u64,
    /// Instead of a replay: store N items `<prefix><12-digit id>` (ids 1..=N) with
    /// --value-size bytes and wait for every STORED.
    #[arg(long)]
    load: Option<u64>,
    /// Instead of a replay: check the Zipf sampler against the exact probabilities.
    #[arg(long)]
    check_sampler: bool,
}

fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("--value-range {s:?}: expected MIN-MAX"))?;
    let a: usize = a.trim().parse().map_err(|_| format!("bad MIN in {s:?}"))?;
    let b: usize = b.trim().parse().map_err(|_| format!("bad MAX in {s:?}"))?;
    if a == 0 || a > b {
        return Err(format!("--value-range {s:?}: need 0 < MIN <= MAX"));
    }
    Ok((a, b))
}

/// Appends `<prefix><id, 12 digits>` (or `<prefix>x<n, 11 digits>` for scan keys).
fn push_key(out: &mut Vec<u8>, prefix: &str, key: Key) {
    out.extend_from_slice(prefix.as_bytes());
    let (mut v, width) = match key {
        Key::Hot(id) => (id, 12),
        Key::Scan(n) => {
            out.push(b'x');
            (n, 11)
        }
    };
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    while v > 0 {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let start = (digits.len() - width).min(i);
    out.extend_from_slice(&digits[start..]);
}

#[derive(Default, Debug)]
struct Counts {
    hits: u64,
    misses: u64,
    small_hits: u64,
    small_misses: u64,
    large_hits: u64,
    large_misses: u64,
    hit_bytes: u64,
    miss_bytes: u64,
    /// Hits whose key, flags, length or bytes differ from what was stored.
    bad_values: u64,
    /// Gets not counted (warmup).
    warmup: u64,
    sets: u64,
    /// Error lines from `noreply` sets (e.g. SERVER_ERROR out of memory).
    set_errors: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.check_sampler {
        return check_sampler(&args);
    }
    let result = match args.load {
        Some(n) => load(&args, n),
        None => replay(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("corecached-hitratio: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check_sampler(args: &Args) -> ExitCode {
    let samples = args.requests.max(1_000_000);
    let (worst, rows) = trace::check_sampler(args.keys, args.zipf_exp, samples, args.seed);
    for (k, expected, got) in rows {
        println!("rank {k:>3}: expected {expected:.6} got {got:.6}");
    }
    println!("largest relative error (ranks with >= 10000 expected samples): {worst:.4}");
    if worst < 0.02 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn connect(args: &Args) -> io::Result<Conn> {
    let addr = format!("{}:{}", args.server, args.port);
    Conn::connect(&addr, Duration::from_secs(args.io_timeout.max(1)))
        .map_err(|e| io::Error::new(e.kind(), format!("connect {addr}: {e}")))
}

fn stat<'a>(stats: &'a [(String, String)], name: &str) -> Option<&'a str> {
    stats
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn replay(args: &Args) -> io::Result<ExitCode> {
    let sizes = match &args.value_range {
        Some(r) => {
            let (min, max) = parse_range(r).map_err(io::Error::other)?;
            Sizes {
                min,
                max,
                seed: args.seed,
            }
        }
        None => Sizes {
            min: args.value_size.max(1),
            max: args.value_size.max(1),
            seed: args.seed,
        },
    };
    if args.keys == 0 || !(args.zipf_exp > 0.0 && args.zipf_exp.is_finite()) {
        return Err(io::Error::other("need --keys > 0 and --zipf-exp > 0"));
    }
    let pattern = trace::pattern(sizes.max);
    let window = args
        .window
        .clamp(1, 4096)
        .min((256 * 1024 / sizes.max).max(1));
    let mut trace = Trace::new(
        args.dist,
        args.keys,
        args.zipf_exp,
        args.seed,
        args.scan_fraction,
        args.scan_burst,
    );
    let mut conn = connect(args)?;
    let total = args.warmup + args.requests;
    let deadline = Duration::from_secs(args.max_seconds);
    let started = Instant::now();
    let mut counts = Counts::default();
    let mut stray = Vec::new();
    let mut out: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut pending: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut keys: Vec<Key> = Vec::with_capacity(window);
    let mut names: Vec<u8> = Vec::with_capacity(window * 32);
    let mut name_ends: Vec<usize> = Vec::with_capacity(window);
    let mut missed: Vec<Key> = Vec::with_capacity(window);
    let mut hit: Vec<bool> = Vec::with_capacity(window);
    let mut done: u64 = 0;
    let mut timed_out = false;
    while done < total {
        if started.elapsed() > deadline {
            timed_out = true;
            break;
        }
        let w = window.min((total - done) as usize);
        keys.clear();
        names.clear();
        name_ends.clear();
        missed.clear();
        out.clear();
        out.extend_from_slice(&pending);
        pending.clear();
        for _ in 0..w {
            let k = trace.next_key();
            keys.push(k);
            push_key(&mut names, &args.key_prefix, k);
            name_ends.push(names.len());
        }
        out.extend_from_slice(b"get");
        let mut from = 0;
        for &end in &name_ends {
            out.push(b' ');
            out.extend_from_slice(&names[from..end]);
            from = end;
        }
        out.extend_from_slice(b"\r\n");
        conn.send(&out)
            .map_err(|e| at(e, "sending a window", done, w))?;
        // Hits come back in request order: a VALUE for key j means keys before it that
        // were skipped missed.
        hit.clear();
        hit.resize(w, false);
        let mut j = 0;
        let mut bad_values = 0;
        conn.multi_get_reply(&mut stray, |key, flags, data| {
            while j < w && name_of(&names, &name_ends, j) != key {
                j += 1;
            }
            if j == w {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "VALUE for {:?}, a key not requested (or out of order)",
                        String::from_utf8_lossy(key)
                    ),
                ));
            }
            let k = keys[j];
            let (size, off) = (sizes.size_of(k), sizes.offset_of(k));
            if flags != 0 || data != &pattern[off..off + size] {
                bad_values += 1;
            }
            hit[j] = true;
            j += 1;
            Ok(())
        })
        .map_err(|e| at(e, "reading the get reply", done, w))?;
        counts.bad_values += bad_values;
        for (i, &k) in keys.iter().enumerate() {
            let size = sizes.size_of(k);
            let small = size <= args.size_threshold;
            let counted = done + i as u64 >= args.warmup;
            if !counted {
                counts.warmup += 1;
            }
            if hit[i] {
                if counted {
                    counts.hits += 1;
                    counts.hit_bytes += size as u64;
                    if small {
                        counts.small_hits += 1;
                    } else {
                        counts.large_hits += 1;
                    }
                }
                continue;
            }
            if counted {
                counts.misses += 1;
                counts.miss_bytes += size as u64;
                if small {
                    counts.small_misses += 1;
                } else {
                    counts.large_misses += 1;
                }
            }
            // One set per key per window, as one client would do.
            if !missed.contains(&k) {
                missed.push(k);
                let off = sizes.offset_of(k);
                pending.extend_from_slice(b"set ");
                pending.extend_from_slice(name_of(&names, &name_ends, i));
                write!(Text(&mut pending), " 0 0 {size} noreply\r\n").unwrap();
                pending.extend_from_slice(&pattern[off..off + size]);
                pending.extend_from_slice(b"\r\n");
                counts.sets += 1;
            }
        }
        done += w as u64;
    }
    if !pending.is_empty() {
        pending.extend_from_slice(b"mn\r\n");
        conn.send(&pending)
            .map_err(|e| at(e, "sending the last sets", done, 0))?;
        conn.until_mn(&mut stray)
            .map_err(|e| at(e, "reading MN", done, 0))?;
    }
    let elapsed = started.elapsed();
    counts.set_errors = stray.len() as u64;
    let stats = conn.stats().map_err(|e| at(e, "reading stats", done, 0))?;
    print_replay(args, &sizes, window, &counts, &stats, &stray, elapsed, done);
    if timed_out {
        eprintln!(
            "corecached-hitratio: gave up after {} s with {done} of {total} requests done",
            args.max_seconds
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// Adds where in the trace an I/O error happened (a timeout reads as "Resource temporarily
/// unavailable": the server stopped answering).
fn at(e: io::Error, what: &str, done: u64, window: usize) -> io::Error {
    let kind = match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => " (timed out)",
        _ => "",
    };
    io::Error::new(
        e.kind(),
        format!("{what}{kind} after {done} requests (window of {window}): {e}"),
    )
}

/// The i-th key name of a window.
fn name_of<'a>(names: &'a [u8], ends: &[usize], i: usize) -> &'a [u8] {
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &names[start..ends[i]]
}

/// `write!` into a byte vector.
struct Text<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if a + b == 0 {
        0.0
    } else {
        a as f64 / (a + b) as f64
    }
}

#[allow(clippy::too_many_arguments)]
fn print_replay(
    args: &Args,
    sizes: &Sizes,
    window: usize,
    c: &Counts,
    stats: &[(String, String)],
    stray: &[String],
    elapsed: Duration,
    done: u64,
) {
    let num = |name: &str| -> i64 { stat(stats, name).and_then(|v| v.parse().ok()).unwrap_or(-1) };
    let evictions = num("evictions");
    let curr_items = num("curr_items");
    let bytes = num("bytes");
    let limit = num("limit_maxbytes");
    let version = stat(stats, "version").unwrap_or("?").to_string();
    let hr = ratio(c.hits, c.misses);
    let sizes_text = if sizes.min == sizes.max {
        format!("{}", sizes.min)
    } else {
        format!("{}-{}", sizes.min, sizes.max)
    };
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    if args.json {
        let mut o = String::from("{");
        let _ = write!(
            o,
            "\"label\":{},\"server_version\":{},\"dist\":\"{}\",\"zipf_exp\":{},\"keys\":{},\
             \"requests\":{},\"warmup\":{},\"scan_fraction\":{},\"scan_burst\":{},\
             \"value_sizes\":\"{}\",\"size_threshold\":{},\"seed\":{},\"window\":{},\
             \"hit_ratio\":{:.6},\"hits\":{},\"misses\":{},\"byte_hit_ratio\":{:.6},\
             \"small_hit_ratio\":{:.6},\"small_hits\":{},\"small_misses\":{},\
             \"large_hit_ratio\":{:.6},\"large_hits\":{},\"large_misses\":{},\
             \"sets\":{},\"set_errors\":{},\"bad_values\":{},\"evictions\":{},\
             \"curr_items\":{},\"bytes\":{},\"limit_maxbytes\":{},\"elapsed_s\":{:.3},\
             \"requests_per_s\":{:.0}",
            json_str(&args.label),
            json_str(&version),
            match args.dist {
                Dist::Zipf => "zipf",
                Dist::ScanMix => "scan-mix",
            },
            args.zipf_exp,
            args.keys,
            args.requests,
            args.warmup,
            args.scan_fraction,
            args.scan_burst,
            sizes_text,
            args.size_threshold,
            args.seed,
            window,
            hr,
            c.hits,
            c.misses,
            ratio(c.hit_bytes, c.miss_bytes),
            ratio(c.small_hits, c.small_misses),
            c.small_hits,
            c.small_misses,
            ratio(c.large_hits, c.large_misses),
            c.large_hits,
            c.large_misses,
            c.sets,
            c.set_errors,
            c.bad_values,
            evictions,
            curr_items,
            bytes,
            limit,
            secs,
            rate,
        );
        if let Some(sm) = stat(stats, "store_memory") {
            let _ = write!(o, ",\"store_memory\":{sm}");
        }
        if let Some(first) = stray.first() {
            let _ = write!(o, ",\"first_set_error\":{}", json_str(first));
        }
        o.push('}');
        println!("{o}");
    } else {
        let mut o = format!(
            "{} hit_ratio={:.4} hits={} misses={} evictions={} curr_items={} bytes={} \
             dist={} zipf_exp={} keys={} requests={} warmup={} values={} sets={} \
             set_errors={} bad_values={} elapsed={:.1}s rate={:.0}/s",
            args.label,
            hr,
            c.hits,
            c.misses,
            evictions,
            curr_items,
            bytes,
            match args.dist {
                Dist::Zipf => "zipf".to_string(),
                Dist::ScanMix => format!("scan-mix({})", args.scan_fraction),
            },
            args.zipf_exp,
            args.keys,
            args.requests,
            args.warmup,
            sizes_text,
            c.sets,
            c.set_errors,
            c.bad_values,
            secs,
            rate,
        );
        if sizes.min != sizes.max {
            let _ = write!(
                o,
                " small(<={})={:.4} ({}/{}) large={:.4} ({}/{}) byte_hit_ratio={:.4}",
                args.size_threshold,
                ratio(c.small_hits, c.small_misses),
                c.small_hits,
                c.small_hits + c.small_misses,
                ratio(c.large_hits, c.large_misses),
                c.large_hits,
                c.large_hits + c.large_misses,
                ratio(c.hit_bytes, c.miss_bytes),
            );
        }
        if let Some(first) = stray.first() {
            let _ = write!(o, " first_set_error={first:?}");
        }
        println!("{o}");
    }
    if c.bad_values > 0 {
        eprintln!(
            "corecached-hitratio: {} hits returned a value that differs from the one stored",
            c.bad_values
        );
    }
}

fn load(args: &Args, n: u64) -> io::Result<ExitCode> {
    let size = args.value_size.max(1);
    let pattern = trace::pattern(size);
    let window = args.window.clamp(1, 4096).max(256);
    let mut conn = connect(args)?;
    let started = Instant::now();
    let deadline = Duration::from_secs(args.max_seconds);
    let mut out: Vec<u8> = Vec::with_capacity(window * (size + 64));
    let mut stored = 0u64;
    let mut errors = 0u64;
    let mut first_error: Option<String> = None;
    let mut next = 1u64;
    while next <= n {
        if started.elapsed() > deadline {
            eprintln!(
                "corecached-hitratio: load gave up after {} s",
                args.max_seconds
            );
            return Ok(ExitCode::from(2));
        }
        out.clear();
        let w = (window as u64).min(n + 1 - next);
        for id in next..next + w {
            out.extend_from_slice(b"set ");
            push_key(&mut out, &args.key_prefix, Key::Hot(id));
            write!(Text(&mut out), " 0 0 {size}\r\n").unwrap();
            let off = (id % trace::PATTERN_PERIOD as u64) as usize;
            out.extend_from_slice(&pattern[off..off + size]);
            out.extend_from_slice(b"\r\n");
        }
        conn.send(&out)?;
        for _ in 0..w {
            let line = conn.reply_line()?;
            if line == "STORED" {
                stored += 1;
            } else {
                errors += 1;
                first_error.get_or_insert(line);
            }
        }
        next += w;
    }
    let secs = started.elapsed().as_secs_f64();
    let stats = conn.stats()?;
    let get = |name: &str| stat(&stats, name).unwrap_or("-1").to_string();
    if args.json {
        let mut o = format!(
            "{{\"label\":{},\"loaded\":{n},\"stored\":{stored},\"errors\":{errors},\
             \"value_size\":{size},\"curr_items\":{},\"bytes\":{},\"evictions\":{},\
             \"elapsed_s\":{secs:.3}",
            json_str(&args.label),
            get("curr_items"),
            get("bytes"),
            get("evictions"),
        );
        if let Some(sm) = stat(&stats, "store_memory") {
            let _ = write!(o, ",\"store_memory\":{sm}");
        }
        if let Some(e) = &first_error {
            let _ = write!(o, ",\"first_error\":{}", json_str(e));
        }
        o.push('}');
        println!("{o}");
    } else {
        println!(
            "{} loaded={n} stored={stored} errors={errors} value_size={size} curr_items={} \
             bytes={} evictions={} store_memory={} elapsed={secs:.1}s{}",
            args.label,
            get("curr_items"),
            get("bytes"),
            get("evictions"),
            stat(&stats, "store_memory").unwrap_or("-"),
            first_error
                .map(|e| format!(" first_error={e:?}"))
                .unwrap_or_default(),
        );
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
