//! corecached-bench: a load generator for memcached-compatible servers that
//! takes memtier_benchmark's option names and meanings. See bench/README.md.

mod client;
mod hist;
#[path = "../common/json.rs"]
mod json;
mod keys;
mod protocol;
mod report;

use std::io::IsTerminal;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};

use client::{Limit, OpStats, Plan, ThreadStats};
use keys::{KeySpace, Pattern};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProtocolKind {
    /// memcached's text protocol (set / get).
    #[value(name = "memcache_text")]
    MemcacheText,
    /// memcached's binary protocol (SET / GET; GETKQ... NOOP for multi-key gets).
    #[value(name = "memcache_binary")]
    MemcacheBinary,
    /// memcached's meta protocol (ms / mg; mg ... q k v + mn for multi-key gets).
    #[value(name = "memcache_meta")]
    MemcacheMeta,
}

impl ProtocolKind {
    fn name(self) -> &'static str {
        match self {
            ProtocolKind::MemcacheText => "memcache_text",
            ProtocolKind::MemcacheBinary => "memcache_binary",
            ProtocolKind::MemcacheMeta => "memcache_meta",
        }
    }
}

/// Load generator for memcached's text, binary and meta protocols, with memtier_benchmark's options.
#[derive(Parser, Debug)]
#[command(name = "corecached-bench", version)]
pub struct Args {
    /// Server address.
    #[arg(short = 's', long, default_value = "127.0.0.1")]
    server: String,
    /// Server port.
    #[arg(short = 'p', long, default_value_t = 11211)]
    port: u16,
    /// Protocol to speak.
    #[arg(short = 'P', long, value_enum, default_value = "memcache_text")]
    protocol: ProtocolKind,
    /// Number of generator threads.
    #[arg(short = 't', long, default_value_t = 4)]
    threads: usize,
    /// Connections (clients) per thread.
    #[arg(short = 'c', long, default_value_t = 50)]
    clients: usize,
    /// Number of seconds to run (instead of --requests).
    #[arg(long, conflicts_with = "requests")]
    test_time: Option<u64>,
    /// Requests per client (default 10000 unless --test-time).
    #[arg(short = 'n', long)]
    requests: Option<u64>,
    /// Set:Get ratio, e.g. 1:10.
    #[arg(long, default_value = "1:10")]
    ratio: String,
    /// Requests kept in flight per connection.
    #[arg(long, default_value_t = 1)]
    pipeline: usize,
    /// Value size in bytes for sets.
    #[arg(short = 'd', long, default_value_t = 32)]
    data_size: usize,
    /// Value size range MIN-MAX, uniformly random per set (overrides --data-size).
    #[arg(long)]
    data_size_range: Option<String>,
    /// Set:Get key patterns: R random, S sequential, G gaussian, Z zipf, P parallel.
    #[arg(long, default_value = "R:R")]
    key_pattern: String,
    /// Zipf exponent for the Z pattern (> 0).
    #[arg(long, default_value_t = 1.0)]
    key_zipf_exp: f64,
    /// Standard deviation for the G pattern (default: key range / 6).
    #[arg(long)]
    key_stddev: Option<f64>,
    /// Median for the G pattern (default: middle of the key range).
    #[arg(long)]
    key_median: Option<f64>,
    /// Smallest key number.
    #[arg(long, default_value_t = 0)]
    key_minimum: u64,
    /// Largest key number.
    #[arg(long, default_value_t = 10_000_000)]
    key_maximum: u64,
    /// Prefix of every key.
    #[arg(long, default_value = "memtier-")]
    key_prefix: String,
    /// Keys per get (0 or 1: single-key gets).
    #[arg(long, default_value_t = 0)]
    multi_key_get: u32,
    /// Expiry range MIN-MAX in seconds, uniformly random per set.
    #[arg(long, default_value = "0-0")]
    expiry_range: String,
    /// Latency percentiles to report, comma separated.
    #[arg(long, default_value = "50,99,99.9")]
    print_percentiles: String,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json_out_file: Option<String>,
    /// Do not print the latency histogram.
    #[arg(long)]
    hide_histogram: bool,
    /// Set every key in key-minimum..=key-maximum once before the run.
    #[arg(long)]
    prefill: bool,
    /// Only prefill (implies --prefill), then exit.
    #[arg(long)]
    prefill_only: bool,
    /// Pin generator threads to these CPUs (e.g. 1 or 2,3 or 4-7); thread i
    /// goes to the i-th listed CPU, wrapping around.
    #[arg(long)]
    cpu: Option<String>,
    /// Seed of the key / size / expiry choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn parse_pair(s: &str, sep: char, what: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once(sep)
        .ok_or_else(|| format!("{what}: expected A{sep}B, got {s:?}"))?;
    let a = a
        .trim()
        .parse()
        .map_err(|_| format!("{what}: bad number {a:?}"))?;
    let b = b
        .trim()
        .parse()
        .map_err(|_| format!("{what}: bad number {b:?}"))?;
    Ok((a, b))
}

fn parse_cpus(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        if let Some((a, b)) = part.split_once('-') {
            let a: usize = a
                .trim()
                .parse()
                .map_err(|_| format!("--cpu: bad {part:?}"))?;
            let b: usize = b
                .trim()
                .parse()
                .map_err(|_| format!("--cpu: bad {part:?}"))?;
            if b < a {
                return Err(format!("--cpu: empty range {part:?}"));
            }
            out.extend(a..=b);
        } else {
            out.push(
                part.trim()
                    .parse()
                    .map_err(|_| format!("--cpu: bad {part:?}"))?,
            );
        }
    }
    if out.is_empty() {
        return Err("--cpu: no CPU given".into());
    }
    Ok(out)
}

/// The validated run configuration.
pub struct Config {
    pub args: Args,
    pub addr: SocketAddr,
    pub ratio: (u32, u32),
    pub patterns: (Pattern, Pattern),
    pub data: (usize, usize),
    pub expiry: (u32, u32),
    pub percentiles: Vec<f64>,
    pub cpus: Vec<usize>,
    pub keys: KeySpace,
    pub limit: Limit,
}

fn configure(args: Args) -> Result<Config, String> {
    if args.threads == 0 || args.clients == 0 || args.pipeline == 0 {
        return Err("--threads, --clients and --pipeline must be at least 1".into());
    }
    let addr = (args.server.as_str(), args.port)
        .to_socket_addrs()
        .map_err(|e| format!("--server {}: {e}", args.server))?
        .next()
        .ok_or_else(|| format!("--server {}: no address", args.server))?;
    let (rs, rg) = parse_pair(&args.ratio, ':', "--ratio")?;
    if rs + rg == 0 || rs > u32::MAX as u64 / 2 || rg > u32::MAX as u64 / 2 {
        return Err("--ratio: at least one side must be non-zero".into());
    }
    let (ps, pg) = args
        .key_pattern
        .split_once(':')
        .ok_or("--key-pattern: expected SET:GET, e.g. R:R")?;
    let letter = |p: &str| {
        let mut ch = p.trim().chars();
        match (ch.next(), ch.next()) {
            (Some(c), None) => Pattern::from_letter(c),
            _ => None,
        }
        .ok_or_else(|| format!("--key-pattern: unknown pattern {p:?} (R, S, G, Z or P)"))
    };
    let patterns = (letter(ps)?, letter(pg)?);
    let data = match &args.data_size_range {
        Some(r) => {
            let (a, b) = parse_pair(r, '-', "--data-size-range")?;
            if b < a {
                return Err("--data-size-range: MAX < MIN".into());
            }
            (a as usize, b as usize)
        }
        None => (args.data_size, args.data_size),
    };
    let (ea, eb) = parse_pair(&args.expiry_range, '-', "--expiry-range")?;
    if eb < ea || eb > u32::MAX as u64 {
        return Err("--expiry-range: bad range".into());
    }
    let mut percentiles = Vec::new();
    for p in args
        .print_percentiles
        .split(',')
        .filter(|p| !p.trim().is_empty())
    {
        let v: f64 = p
            .trim()
            .parse()
            .map_err(|_| format!("--print-percentiles: bad value {p:?}"))?;
        if !(0.0..=100.0).contains(&v) {
            return Err(format!("--print-percentiles: {v} not in 0..100"));
        }
        percentiles.push(v);
    }
    if args.key_maximum < args.key_minimum {
        return Err("--key-maximum is below --key-minimum".into());
    }
    if args.key_maximum - args.key_minimum == u64::MAX {
        return Err("key range too large".into());
    }
    if !(args.key_zipf_exp > 0.0 && args.key_zipf_exp < 100.0) {
        return Err("--key-zipf-exp must be > 0".into());
    }
    let span = (args.key_maximum - args.key_minimum) as f64;
    let keys = KeySpace {
        min: args.key_minimum,
        max: args.key_maximum,
        zipf_exp: args.key_zipf_exp,
        gauss_median: args
            .key_median
            .unwrap_or(args.key_minimum as f64 + span / 2.0),
        gauss_stddev: args.key_stddev.unwrap_or(span / 6.0),
    };
    let cpus = match &args.cpu {
        Some(s) => parse_cpus(s)?,
        None => Vec::new(),
    };
    let limit = match (args.test_time, args.requests) {
        (Some(t), _) => Limit::Time(Duration::from_secs(t)),
        (None, Some(n)) => Limit::Requests(n),
        (None, None) => Limit::Requests(10_000),
    };
    Ok(Config {
        ratio: (rs as u32, rg as u32),
        patterns,
        data,
        expiry: (ea as u32, eb as u32),
        percentiles,
        cpus,
        keys,
        limit,
        addr,
        args,
    })
}

/// Merged result of one phase.
pub struct PhaseResult {
    pub sets: OpStats,
    pub gets: OpStats,
    pub duration: Duration,
    /// CPU time the whole generator process used during the phase (user, system).
    pub cpu: (Duration, Duration),
}

/// User and system CPU time of this process so far.
fn cpu_times() -> (Duration, Duration) {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(ru.ru_utime), tv(ru.ru_stime))
}

fn plan_for(cfg: &Config, limit: Limit) -> Plan {
    let a = &cfg.args;
    let prefill = matches!(limit, Limit::Prefill);
    let value: Vec<u8> = (0..cfg.data.1).map(|i| b'a' + (i % 26) as u8).collect();
    Plan {
        addr: cfg.addr,
        threads: a.threads,
        clients: a.clients,
        pipeline: a.pipeline,
        ratio_set: if prefill { 1 } else { cfg.ratio.0 },
        ratio_get: if prefill { 0 } else { cfg.ratio.1 },
        set_pattern: cfg.patterns.0,
        get_pattern: cfg.patterns.1,
        keys: cfg.keys.clone(),
        prefix: a.key_prefix.as_bytes().to_vec(),
        limit,
        multi_key: a.multi_key_get.max(1),
        data_min: cfg.data.0,
        data_max: cfg.data.1,
        expiry_min: cfg.expiry.0,
        expiry_max: cfg.expiry.1,
        value,
        seed: a.seed.wrapping_add(if prefill { 0x5eed } else { 0 }),
    }
}

fn run_phase(cfg: &Config, plan: &Plan, label: &str) -> Result<PhaseResult, String> {
    let progress = AtomicU64::new(0);
    let abort = AtomicBool::new(false);
    let base = Instant::now();
    let cpu0 = cpu_times();
    let tty = std::io::stderr().is_terminal();
    let total_requests = match plan.limit {
        Limit::Requests(n) => Some(n * (plan.threads * plan.clients) as u64),
        Limit::Prefill => Some(plan.keys.max - plan.keys.min + 1),
        Limit::Time(_) => None,
    };
    let results: Vec<Result<ThreadStats, String>> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for t in 0..plan.threads {
            let cpu = (!cfg.cpus.is_empty()).then(|| cfg.cpus[t % cfg.cpus.len()]);
            let (progress, abort) = (&progress, &abort);
            handles.push(s.spawn(move || {
                if let Some(cpu) = cpu {
                    client::pin_to_cpu(cpu)?;
                }
                let r = match cfg.args.protocol {
                    ProtocolKind::MemcacheText => {
                        client::run_thread::<protocol::Text>(plan, t, base, progress, abort)
                    }
                    ProtocolKind::MemcacheBinary => {
                        client::run_thread::<protocol::Binary>(plan, t, base, progress, abort)
                    }
                    ProtocolKind::MemcacheMeta => {
                        client::run_thread::<protocol::Meta>(plan, t, base, progress, abort)
                    }
                };
                if r.is_err() {
                    abort.store(true, Ordering::Relaxed);
                }
                r
            }));
        }
        // Progress line once a second while the threads run.
        let mut last = (Instant::now(), 0u64);
        let mut next_print = Instant::now() + Duration::from_secs(1);
        while !handles.iter().all(|h| h.is_finished()) {
            std::thread::sleep(Duration::from_millis(20));
            if tty && Instant::now() >= next_print {
                next_print += Duration::from_secs(1);
                let done = progress.load(Ordering::Relaxed);
                let now = Instant::now();
                let rate = (done - last.1) as f64 / (now - last.0).as_secs_f64();
                last = (now, done);
                let secs = base.elapsed().as_secs();
                let pct = match (total_requests, plan.limit) {
                    (Some(t), _) => done as f64 * 100.0 / t.max(1) as f64,
                    (None, Limit::Time(d)) => {
                        base.elapsed().as_secs_f64() * 100.0 / d.as_secs_f64().max(1e-9)
                    }
                    _ => 0.0,
                };
                eprint!(
                    "\r[{label} {:>3.0}%, {secs:>4} secs] {} threads: {done:>12} ops, {rate:>12.0} (avg: {:>12.0}) ops/sec   ",
                    pct.min(100.0),
                    plan.threads,
                    done as f64 / base.elapsed().as_secs_f64(),
                );
            }
        }
        if tty {
            eprintln!();
        }
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("generator thread panicked".into()))
            })
            .collect()
    });
    let mut sets = OpStats::default();
    let mut gets = OpStats::default();
    let mut start = u64::MAX;
    let mut end = 0u64;
    let mut first_err = None;
    for r in results {
        match r {
            Ok(t) => {
                sets.merge(&t.sets);
                gets.merge(&t.gets);
                start = start.min(t.start_ns);
                end = end.max(t.end_ns);
            }
            Err(e) if e == "aborted" => {}
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let cpu1 = cpu_times();
    Ok(PhaseResult {
        sets,
        gets,
        duration: Duration::from_nanos(end.saturating_sub(start).max(1)),
        cpu: (cpu1.0 - cpu0.0, cpu1.1 - cpu0.1),
    })
}

fn real_main() -> Result<(), String> {
    let cfg = configure(Args::parse())?;
    let a = &cfg.args;
    // SAFETY: plain sysconf query (not limited by our affinity mask, unlike
    // available_parallelism).
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize;
    if let Some(&c) = cfg.cpus.iter().find(|&&c| c >= online) {
        eprintln!("warning: --cpu {c} but only {online} CPUs are online");
    }
    println!("Writing results to stdout");
    println!(
        "[corecached-bench] server {} protocol {}, {} threads, {} connections per thread, pipeline {}",
        cfg.addr,
        a.protocol.name(),
        a.threads,
        a.clients,
        a.pipeline
    );
    let mut prefill = None;
    if a.prefill || a.prefill_only {
        let plan = plan_for(&cfg, Limit::Prefill);
        let r = run_phase(&cfg, &plan, "PREFILL")?;
        println!(
            "Prefill: {} keys ({}..={}) set in {:.3} secs ({:.0} ops/sec), {} errors",
            r.sets.ops,
            cfg.keys.min,
            cfg.keys.max,
            r.duration.as_secs_f64(),
            r.sets.ops as f64 / r.duration.as_secs_f64(),
            r.sets.errors
        );
        prefill = Some(r);
    }
    let main = if a.prefill_only {
        None
    } else {
        let plan = plan_for(&cfg, cfg.limit);
        match cfg.limit {
            Limit::Time(d) => println!("{} seconds test time", d.as_secs()),
            Limit::Requests(n) => println!("{n} requests per client"),
            Limit::Prefill => {}
        }
        let r = run_phase(&cfg, &plan, "RUN #1")?;
        print!("{}", report::text(&cfg, &r));
        Some(r)
    };
    if let Some(path) = &a.json_out_file {
        let j = report::json(&cfg, prefill.as_ref(), main.as_ref());
        std::fs::write(path, j).map_err(|e| format!("--json-out-file {path}: {e}"))?;
    }
    let errors = |r: &PhaseResult| r.sets.errors + r.gets.errors;
    let total_err = prefill.as_ref().map_or(0, errors) + main.as_ref().map_or(0, errors);
    if total_err > 0 {
        eprintln!("warning: {total_err} error replies (see Errors in the table)");
    }
    Ok(())
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corecached-bench: {e}");
            ExitCode::from(1)
        }
    }
}
