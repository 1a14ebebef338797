//! Command-line flags (memcached's names, with long forms) and the settings they produce.
//! What memcached's command line means here (`-l` lists, `-o`, flags with no effect) is in
//! [`memcached`].

pub mod memcached;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgAction, Parser};

/// corecached: a memcached-compatible cache server, one pinned shard per CPU core.
#[derive(Parser, Debug, Clone)]
// A flag given twice takes its last value, as memcached's getopt loop does.
#[command(
    name = "corecached",
    version,
    about,
    disable_version_flag = true,
    args_override_self = true
)]
pub struct Args {
    /// TCP port to listen on (0 picks a free port, logged at start).
    #[arg(short = 'p', long = "port", default_value_t = 11211)]
    pub port: u16,

    /// Addresses to listen on: IP addresses or host names, each with an optional `:PORT`
    /// (`[::1]:11211`), comma separated or repeated [default: 127.0.0.1].
    #[arg(short = 'l', long = "listen", value_name = "ADDR")]
    pub listen: Vec<String>,

    /// Listen on this UNIX domain socket instead of TCP (as memcached, no TCP port then).
    #[arg(short = 's', long = "unix-socket", value_name = "FILE")]
    pub unix_socket: Option<PathBuf>,

    /// Access mask of the -s socket file, in octal.
    #[arg(short = 'a', long = "unix-mask", default_value = "700", value_parser = memcached::parse_mask)]
    pub unix_mask: u32,

    /// Run as a daemon: in the background, detached from the terminal, with standard streams
    /// on /dev/null (kept with -v). The command returns once the server serves, with its
    /// start-up error if it cannot.
    #[arg(short = 'd', long = "daemon")]
    pub daemon: bool,

    /// Write the server's process id to FILE at start; removed when it stops.
    #[arg(short = 'P', long = "pidfile", value_name = "FILE")]
    pub pidfile: Option<PathBuf>,

    /// Raise the core file size limit to its maximum, so a crash leaves a core dump.
    #[arg(short = 'r', long = "enable-coredumps")]
    pub enable_coredumps: bool,

    /// Number of shards, one executor each [default: every online CPU]; fewer serve, with a
    /// warning, when -m split this many ways cannot hold two largest items per shard, or
    /// when `ulimit -l` cannot hold what each locks.
    #[arg(short = 't', long = "threads")]
    pub threads: Option<usize>,

    /// Pin shards to these CPUs, e.g. `0,2-3` [default: CPUs 0.. in order].
    #[arg(long = "cpus")]
    pub cpus: Option<String>,

    /// Maximum simultaneous connections, all shards together.
    #[arg(short = 'c', long = "conn-limit", default_value_t = 1024)]
    pub conn_limit: usize,

    /// Item memory in megabytes, split evenly across shards.
    #[arg(short = 'm', long = "memory-limit", default_value = "64", value_parser = memcached::parse_megabytes)]
    pub memory_limit: usize,

    /// Largest item (value plus memcached's item header), with k/m suffixes: 512k, 1m.
    #[arg(short = 'I', long = "max-item-size", default_value = "1m", value_parser = parse_size)]
    pub max_item_size: usize,

    /// UDP port. Only 0 is accepted: UDP is off (memcached's UDP is an amplification vector).
    #[arg(short = 'U', long = "udp-port", default_value_t = 0)]
    pub udp_port: u16,

    /// Verbosity: -v info, -vv debug, -vvv trace (RUST_LOG also works).
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,

    /// Return `SERVER_ERROR out of memory storing object` when memory is full instead of
    /// evicting.
    #[arg(short = 'M', long = "disable-evictions")]
    pub disable_evictions: bool,

    /// Disable CAS: items carry no unique (`gets` reports 0).
    #[arg(short = 'C', long = "disable-cas")]
    pub disable_cas: bool,

    /// Disable flush_all (it answers `CLIENT_ERROR flush_all not allowed`).
    #[arg(short = 'F', long = "disable-flush-all")]
    pub disable_flush_all: bool,

    /// Protocol: auto (chosen by each connection's first byte), ascii or binary
    /// [default: auto; binary with -S, ascii with -Y alone].
    #[arg(short = 'B', long = "protocol", value_parser = ["auto", "ascii", "binary"])]
    pub protocol: Option<String>,

    /// Binary clients must authenticate with SASL PLAIN against the -Y/--auth-file users
    /// (without -Y, every authentication fails: no Cyrus SASL database is read).
    /// Serves the binary protocol only (memcached refuses -S with -B ascii or auto).
    #[arg(short = 'S', long = "enable-sasl")]
    pub sasl: bool,

    /// Password file, one `user:password` a line, re-read on SIGHUP. Alone, text clients
    /// must authenticate (`set <any> 0 0 <len>` with the value `user password`) and only
    /// the text protocol is served; with -S it holds the SASL users.
    #[arg(short = 'Y', long = "auth-file", value_name = "FILE")]
    pub auth_file: Option<PathBuf>,

    /// Run as this user: as root, the server switches to it (and its group, without
    /// supplementary groups) once the port is bound and the limits are raised.
    #[arg(short = 'u', long = "user", value_name = "USER")]
    pub user: Option<String>,

    /// Listen backlog.
    #[arg(short = 'b', long = "listen-backlog", default_value_t = 1024)]
    pub backlog: i32,

    /// memcached's slab growth factor. corecached has no slabs; item and slab stats report on
    /// the classes memcached would build with it ([`crate::store::classes`]).
    #[arg(short = 'f', long = "slab-growth-factor", default_value_t = crate::store::classes::DEFAULT_FACTOR)]
    pub slab_growth_factor: f64,

    /// memcached's minimum chunk for key, value and flags: the first class of the stats scale.
    #[arg(short = 'n', long = "slab-min-size", default_value_t = crate::store::classes::DEFAULT_MIN_CHUNK)]
    pub slab_min_size: u32,

    /// Enable the `shutdown` command (memcached's -A): it stops the server as SIGTERM does.
    #[arg(short = 'A', long = "enable-shutdown")]
    pub enable_shutdown: bool,

    /// The character that ends a key's prefix for `stats detail` (memcached's -D); given,
    /// detail counting starts on, as in memcached.
    #[arg(short = 'D', long = "prefix-delimiter", value_name = "CHAR")]
    pub prefix_delimiter: Option<char>,

    /// Requests handled per connection before yielding to other connections.
    #[arg(short = 'R', long = "max-reqs-per-event", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub reqs_per_event: u32,

    /// memcached's extended options, `name=value`, comma separated or repeated:
    /// hashpower=N (initial index size 2^N), idle_timeout=SECONDS; memcached's others are
    /// accepted with a warning that they have no effect here.
    #[arg(short = 'o', long = "extended", value_name = "OPTIONS")]
    pub extended: Vec<String>,

    /// Refuse key dumps (`stats cachedump`, `lru_crawler metadump`).
    #[arg(short = 'X', long = "disable-dumping", hide_short_help = true)]
    pub disable_dumping: bool,

    /// Refuse `watch` (log streams).
    #[arg(short = 'W', long = "disable-watch", hide_short_help = true)]
    pub disable_watch: bool,

    /// TLS: serve every TCP listener but `-l notls:ADDR` ones encrypted, with -o
    /// ssl_chain_cert=CERT.pem,ssl_key=KEY.pem (and the other ssl_* options).
    #[arg(short = 'Z', long = "enable-ssl")]
    pub enable_ssl: bool,

    /// memcached's flags that mean nothing here.
    #[command(flatten)]
    pub no_effect: memcached::NoEffect,

    /// Print the license and exit (memcached's -i).
    #[arg(short = 'i', long = "license")]
    pub license: bool,

    /// Close connections idle for this many seconds (0: never), counted as `idle_kicks`
    /// (memcached's `-o idle_timeout`).
    #[arg(long = "idle-timeout", default_value_t = 0, value_name = "SECONDS")]
    pub idle_timeout: u64,

    /// Park connections idle this many milliseconds (0: never): the connection gives up its
    /// task and keeps only its slot in the shard's network ring, and gets a fresh task
    /// when bytes arrive (see src/park.rs).
    #[arg(long = "park-after-ms", default_value_t = 1000, value_name = "MS")]
    pub park_after_ms: u64,

    /// With more than one shard: how long a shard that runs out of work while a peer
    /// owes it replies, or just after a peer's batch, keeps polling for the next one
    /// (giving its CPU to any other runnable thread between polls) before it sleeps; a
    /// sleeping shard costs its peer a wake-up (0: never poll; at most 1000, as glommio's
    /// timers wait meanwhile).
    #[arg(
        long = "idle-poll-us",
        default_value_t = 50,
        value_name = "US",
        value_parser = clap::value_parser!(u64).range(0..=1000)
    )]
    pub idle_poll_us: u64,

    /// On SIGTERM or SIGINT, how long connections may take to finish the requests they have
    /// read (and send their replies) before they are closed; a second signal closes them
    /// at once. The process then exits 0.
    #[arg(
        long = "shutdown-timeout",
        default_value_t = 5.0,
        value_name = "SECONDS"
    )]
    pub shutdown_timeout: f64,

    /// Persist items to this directory and load them back at start (eventual persistence:
    /// writes are acknowledged from memory and on disk within --flush-interval-ms). Off
    /// unless given.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// With --data-dir, the longest a write waits in memory before it is written and synced.
    #[arg(long = "flush-interval-ms", default_value_t = 100, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub flush_interval_ms: u64,

    /// I/O buffer memory glommio registers (locks) per shard, with k/m suffixes, at least
    /// 64k [default: 256k, less to fit `ulimit -l`; given, it must fit].
    #[arg(long = "io-memory", value_parser = parse_size)]
    pub io_memory: Option<usize>,

    /// Serve Prometheus metrics over HTTP at `http://ADDR:PORT/metrics` (port 0: any free
    /// port, logged at start-up); off unless given.
    #[arg(long = "metrics", value_name = "ADDR:PORT", value_parser = crate::metrics::parse_addr)]
    pub metrics: Option<SocketAddr>,

    /// Benchmark mode: answer `get` with END and storage commands with STORED, without
    /// parsing or storing, to measure the connection and I/O layer alone.
    #[arg(long = "bench-noop", hide_short_help = true)]
    pub bench_noop: bool,

    /// Benchmark mode: every shard serves every key itself (no forwarding; shards do not
    /// share data), to measure what forwarding costs against normal routing.
    #[arg(long = "bench-no-forward", hide_short_help = true)]
    pub bench_no_forward: bool,

    /// Fault injection (builds with `--features fault-injection` only): shard N delays
    /// every batch forwarded to it by --fault-delay-ms.
    #[cfg(feature = "fault-injection")]
    #[arg(long = "fault-slow-shard", hide_short_help = true)]
    pub fault_slow_shard: Option<usize>,

    /// Fault injection: the slow shard's delay per forwarded batch, in milliseconds.
    #[cfg(feature = "fault-injection")]
    #[arg(long = "fault-delay-ms", default_value_t = 0, hide_short_help = true)]
    pub fault_delay_ms: u64,

    /// Fault injection: shards send replies to their peers out of arrival order.
    #[cfg(feature = "fault-injection")]
    #[arg(long = "fault-reorder", hide_short_help = true)]
    pub fault_reorder: bool,

    /// Fault injection: capacity of every shard-to-shard channel (default 128).
    #[cfg(feature = "fault-injection")]
    #[arg(long = "fault-channel-size", hide_short_help = true)]
    pub fault_channel_size: Option<usize>,

    /// Fault injection: the shard that owns this key panics when asked for it.
    #[cfg(feature = "fault-injection")]
    #[arg(long = "fault-panic-key", hide_short_help = true)]
    pub fault_panic_key: Option<String>,

    /// Fault injection: with --data-dir, every journal write fails (as a disk error would)
    /// for this many milliseconds after start.
    #[cfg(feature = "fault-injection")]
    #[arg(
        long = "fault-disk-errors-ms",
        default_value_t = 0,
        hide_short_help = true
    )]
    pub fault_disk_errors_ms: u64,

    /// Fault injection: with --data-dir, the process kills itself (SIGKILL) right after the
    /// first journal file it removes once a compaction's snapshot or a flush_all replaced
    /// them: a crash between two removals.
    #[cfg(feature = "fault-injection")]
    #[arg(long = "fault-kill-removing", hide_short_help = true)]
    pub fault_kill_removing: bool,

    /// Print version and exit.
    #[arg(short = 'V', long = "version", action = ArgAction::Version)]
    pub version: Option<bool>,
}

/// Parses a size with memcached's optional k/m/g suffix.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1usize << 10),
        Some((i, 'm' | 'M')) => (&s[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    let n: usize = digits.parse().map_err(|_| {
        format!("invalid size '{s}' (expected a number with an optional k/m/g suffix)")
    })?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size '{s}' is too large"))
}

/// Parses a CPU list such as `0,2-3`.
pub fn parse_cpus(s: &str) -> Result<Vec<usize>, String> {
    let mut cpus = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("invalid CPU list '{s}' (expected e.g. 0,2-3)");
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if a > b {
                    return Err(bad());
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(part.parse().map_err(|_| bad())?),
        }
    }
    if cpus.is_empty() {
        return Err(format!("invalid CPU list '{s}': it names no CPU"));
    }
    let mut sorted = cpus.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != cpus.len() {
        return Err(format!("invalid CPU list '{s}': a CPU is named twice"));
    }
    Ok(cpus)
}

/// Everything a shard needs to know about the server's configuration. Immutable once built.
#[derive(Debug, Clone)]
pub struct Settings {
    /// TCP addresses (none with a unix socket: memcached's `-s` serves it alone).
    pub addrs: Vec<SocketAddr>,
    /// `-l notls:ADDR`: those of `addrs` served in plaintext under `-Z`.
    pub notls: Vec<SocketAddr>,
    /// `-Z`: the TLS every other TCP listener serves ([`crate::tls`]).
    pub tls: Option<Arc<crate::tls::Tls>>,
    /// The `ssl_*` options as given, for `stats settings`.
    pub ssl: crate::tls::SslOptions,
    /// `-s`, `-a`: the unix domain socket served instead of TCP.
    pub unix_socket: Option<UnixSocket>,
    /// `-d`: run in the background ([`crate::daemon`]).
    pub daemon: bool,
    /// `-P`: the file that holds the server's pid while it runs.
    pub pid_file: Option<PathBuf>,
    /// `-r`: raise the core file size limit to its maximum.
    pub core_dumps: bool,
    /// `-X`: key dumps (`stats cachedump`, `lru_crawler metadump`) are refused.
    pub dumps_disabled: bool,
    /// `-W`: `watch` is refused.
    pub watch_disabled: bool,
    pub shards: usize,
    pub cpus: Vec<usize>,
    pub conn_limit: usize,
    /// Bytes of item memory, all shards together.
    pub mem_limit: usize,
    pub item_size_max: usize,
    /// Bytes per store segment (see `store`): holds the largest item ([`crate::geometry`]).
    pub segment_size: usize,
    /// Entries each shard's index has room for before it first grows (`-o hashpower`).
    pub index_items: usize,
    pub evict: bool,
    pub use_cas: bool,
    pub flush_enabled: bool,
    pub backlog: i32,
    pub reqs_per_event: u32,
    /// glommio's registered I/O memory per shard: `--io-memory`, or sized at start to fit
    /// `ulimit -l` when `io_memory_auto` ([`crate::memlock::plan_locked_memory`]).
    pub io_memory: usize,
    pub io_memory_auto: bool,
    /// Submission entries of each shard's network ring, sized to `ulimit -l`
    /// ([`crate::memlock::plan_locked_memory`]).
    pub net_ring_entries: u32,
    /// Warm-up reads through a small ring of each shard's own, where `ulimit -l` leaves room
    /// for it ([`crate::memlock::plan_locked_memory`]); else through glommio's.
    pub warmup_ring: bool,
    /// Recvs are multishot, capped per arming: start-up sets it where the kernel can
    /// (`shard::ring::probe`).
    pub capped_multishot: bool,
    /// A reply of several pieces goes out as one vectored `send` rather than a `sendmsg`:
    /// start-up sets it where the kernel can (`shard::ring::probe`).
    pub vectored_send: bool,
    pub hashpower: u32,
    /// memcached's slab classes for `-f` and `-n`: the scale of item and slab stats.
    pub slab_classes: crate::store::classes::Classes,
    /// `-A`: the `shutdown` command stops the server.
    pub shutdown_enabled: bool,
    /// `--data-dir`: persistence on ([`crate::persist`]).
    pub data_dir: Option<PathBuf>,
    /// `--flush-interval-ms`.
    pub flush_interval: Duration,
    /// `-D`: what ends a key's prefix for `stats detail`.
    pub prefix_delimiter: u8,
    /// `-D` was given: `stats detail` counting starts on.
    pub detail_at_start: bool,
    /// `-o track_sizes`: `stats sizes` counts from the start.
    pub track_sizes: bool,
    /// `-o worker_logbuf_size`, `-o watcher_logbuf_size`: the `watch` buffers.
    pub log_buffers: crate::watch::Buffers,
    pub verbose: u8,
    /// `-u/--user`: the user to switch to when started as root.
    pub user: Option<String>,
    /// `-B`, after -S and -Y have had their say.
    pub protocol: Protocol,
    /// `-S`: binary clients authenticate with SASL PLAIN against `auth_file`.
    pub sasl: bool,
    /// `-Y/--auth-file`: the users; alone, text clients authenticate against them.
    pub auth_file: Option<PathBuf>,
    /// `--bench-noop`: bypass parsing and the store.
    pub noop: bool,
    /// `--bench-no-forward`: each shard serves every key.
    pub no_forward: bool,
    /// `--idle-timeout`: close connections idle this long.
    pub idle_timeout: Option<std::time::Duration>,
    /// `--park-after-ms`: park connections idle this long.
    pub park_after: Option<std::time::Duration>,
    /// `--idle-poll-us`: how long a shard busy with peers polls before it sleeps.
    pub idle_poll: Duration,
    /// `--shutdown-timeout`: how long a stop waits for connections before closing them.
    pub shutdown_timeout: Duration,
    /// `--metrics`: where the Prometheus endpoint listens.
    pub metrics: Option<SocketAddr>,
    /// Capacity of each shard-to-shard channel, in batches.
    pub channel_size: usize,
    /// Injected faults (all off unless built with the `fault-injection` feature).
    pub faults: Faults,
    /// Start-up warnings to log (fewer shards than asked).
    pub warnings: Vec<String>,
}

/// A unix domain socket to serve (`-s PATH -a MASK`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixSocket {
    pub path: PathBuf,
    /// The socket file's permissions (`-a`, octal).
    pub mask: u32,
}

/// Faults to inject between shards (`--features fault-injection`), in the spirit of
/// memcached's "ewouldblock" test engine.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// This shard sleeps `delay` before running each batch forwarded to it.
    pub slow_shard: Option<usize>,
    pub delay: Duration,
    /// Replies to peers leave out of arrival order.
    pub reorder: bool,
    /// The shard owning this key panics when an op for it runs.
    pub panic_key: Option<Vec<u8>>,
    /// Journal writes fail for this long after start (persistence's disk errors).
    pub disk_errors: Duration,
    /// The process kills itself after the first journal file it removes.
    pub kill_removing: bool,
}

impl Faults {
    /// Whether any fault between shards is injected (`disk_errors` is not one).
    pub fn active(&self) -> bool {
        self.slow_shard.is_some() || self.reorder || self.panic_key.is_some()
    }
}

impl Settings {
    /// Memory share of one shard.
    pub fn shard_mem(&self) -> usize {
        self.mem_limit / self.shards
    }

    /// Serves only the first `n` shards (when locked memory cannot hold more): each gets a
    /// larger share of `-m`, so the store geometry is planned again.
    pub fn limit_shards(&mut self, n: usize) {
        let n = n.max(1);
        if n >= self.shards {
            return;
        }
        if self.channel_size == channel_size(self.shards) {
            self.channel_size = channel_size(n);
        }
        self.shards = n;
        self.cpus.truncate(n);
        if let Ok(g) =
            crate::geometry::plan(self.mem_limit, self.item_size_max, n, self.index_items)
        {
            self.segment_size = g.segment_size;
        }
    }

    /// Checks the flags and derives the settings. `online_cpus` is the machine's CPU count.
    pub fn from_args(a: &Args, online_cpus: usize) -> Result<Settings, String> {
        let mut warnings = a.no_effect.warnings(a.udp_port);
        let protocol = protocol(a)?;
        if a.slab_growth_factor.is_nan() || a.slab_growth_factor <= 1.0 {
            return Err(format!(
                "-f {}: the slab growth factor must be greater than 1",
                a.slab_growth_factor
            ));
        }
        if a.slab_min_size == 0 || a.slab_min_size > crate::store::classes::SLAB_CHUNK_MAX / 2 {
            return Err(format!(
                "-n {}: the minimum chunk must be between 1 and {}",
                a.slab_min_size,
                crate::store::classes::SLAB_CHUNK_MAX / 2
            ));
        }
        if a.bench_noop && (a.auth_file.is_some() || a.sasl) {
            return Err("--bench-noop bypasses the store and authentication alike; it cannot be combined with -Y/--auth-file or -S/--enable-sasl".into());
        }
        let asked = a.threads.unwrap_or(online_cpus);
        if asked == 0 {
            return Err("-t/--threads must be at least 1".into());
        }
        let cpus = match &a.cpus {
            Some(list) => {
                let cpus = parse_cpus(list)?;
                if cpus.len() < asked {
                    return Err(format!(
                        "--cpus {list} names {} CPUs for {asked} shards: name one CPU per shard",
                        cpus.len()
                    ));
                }
                cpus[..asked].to_vec()
            }
            None => (0..asked).map(|i| i % online_cpus.max(1)).collect(),
        };
        if a.user.as_deref().is_some_and(|u| u.trim().is_empty()) {
            return Err("-u/--user needs a user name, e.g. -u nobody".into());
        }
        if a.conn_limit == 0 {
            return Err("-c/--conn-limit must be at least 1".into());
        }
        if a.memory_limit == 0 {
            return Err("-m/--memory-limit must be at least 1 (megabyte)".into());
        }
        let mem_limit = a
            .memory_limit
            .checked_mul(1 << 20)
            .ok_or("-m/--memory-limit is too large")?;
        if a.max_item_size < 1024 {
            return Err("-I/--max-item-size cannot be less than 1024 bytes".into());
        }
        if a.max_item_size > 256 << 20 {
            return Err("-I/--max-item-size cannot be more than 256m".into());
        }
        let extended = memcached::extended(&a.extended)?;
        if !extended.ignored.is_empty() {
            warnings.push(format!(
                "-o {}: memcached options with no effect in corecached (accepted and ignored)",
                extended.ignored.join(",")
            ));
        }
        let tls = if a.enable_ssl {
            warnings.extend(extended.ssl.warnings());
            Some(Arc::new(crate::tls::Tls::load(extended.ssl.clone())?))
        } else {
            if extended.ssl != crate::tls::SslOptions::default() {
                warnings.push("-o ssl_*: no effect without -Z/--enable-ssl (TLS is off); accepted and ignored".into());
            }
            None
        };
        let hashpower = extended.hashpower;
        let idle_timeout = extended.idle_timeout.unwrap_or(a.idle_timeout);
        let index_items = if hashpower > 0 {
            1usize << hashpower
        } else {
            crate::geometry::INDEX_ITEMS
        };
        let geometry = crate::geometry::plan(mem_limit, a.max_item_size, asked, index_items)?;
        let shards = geometry.shards;
        let mut cpus = cpus;
        cpus.truncate(shards);
        let shutdown_timeout = Duration::try_from_secs_f64(a.shutdown_timeout)
            .ok()
            .filter(|d| *d <= Duration::from_secs(24 * 3600))
            .ok_or_else(|| {
                format!(
                    "--shutdown-timeout {}: expected seconds, from 0 to 86400",
                    a.shutdown_timeout
                )
            })?;
        let unix_socket = a.unix_socket.as_ref().map(|path| UnixSocket {
            path: path.clone(),
            mask: a.unix_mask,
        });
        let mut notls = Vec::new();
        let addrs = if let Some(u) = &unix_socket {
            if u.path.as_os_str().is_empty() {
                return Err("-s/--unix-socket needs a path".into());
            }
            if !a.listen.is_empty() {
                warnings.push(format!(
                    "-l {}: no effect with -s {} (as in memcached, a unix socket is served alone)",
                    a.listen.join(","),
                    u.path.display()
                ));
            }
            Vec::new()
        } else if a.listen.is_empty() {
            vec![SocketAddr::from(([127, 0, 0, 1], a.port))]
        } else {
            notls = memcached::notls_addrs(&a.listen, a.port)?;
            let addrs = memcached::listen_addrs(&a.listen, a.port)?;
            if addrs.is_empty() {
                return Err("-l/--listen names no address".into());
            }
            addrs
        };
        if a.pidfile.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            return Err("-P/--pidfile needs a file name".into());
        }
        warnings.extend(geometry.warning);
        let prefix_delimiter = match a.prefix_delimiter {
            None => b':',
            Some(c) if c.is_ascii() && !c.is_ascii_whitespace() => c as u8,
            Some(c) => {
                return Err(format!(
                "-D {c:?}: the prefix delimiter must be one printable ASCII character, e.g. -D :"
            ))
            }
        };
        let settings = Settings {
            addrs,
            notls,
            tls,
            ssl: extended.ssl,
            unix_socket,
            daemon: a.daemon,
            pid_file: a.pidfile.clone(),
            core_dumps: a.enable_coredumps,
            dumps_disabled: a.disable_dumping,
            watch_disabled: a.disable_watch,
            shards,
            cpus,
            conn_limit: a.conn_limit,
            mem_limit,
            item_size_max: a.max_item_size,
            segment_size: geometry.segment_size,
            index_items,
            evict: !a.disable_evictions,
            use_cas: !a.disable_cas,
            flush_enabled: !a.disable_flush_all,
            backlog: a.backlog,
            reqs_per_event: a.reqs_per_event,
            io_memory: a.io_memory.unwrap_or(IO_MEMORY),
            io_memory_auto: a.io_memory.is_none(),
            net_ring_entries: crate::memlock::NET_RING_LARGE,
            warmup_ring: true,
            capped_multishot: false,
            vectored_send: false,
            hashpower,
            slab_classes: crate::store::classes::Classes::new(
                a.slab_growth_factor,
                a.slab_min_size,
            ),
            shutdown_enabled: a.enable_shutdown,
            data_dir: a.data_dir.clone(),
            flush_interval: Duration::from_millis(a.flush_interval_ms),
            prefix_delimiter,
            detail_at_start: a.prefix_delimiter.is_some(),
            track_sizes: extended.track_sizes,
            log_buffers: crate::watch::Buffers {
                worker: extended.worker_logbuf.unwrap_or(crate::watch::TAP_BYTES),
                watcher: extended
                    .watcher_logbuf
                    .unwrap_or(crate::watch::OUTBOX_BYTES),
            },
            verbose: a.verbose,
            user: a.user.clone(),
            protocol,
            sasl: a.sasl,
            auth_file: a.auth_file.clone(),
            noop: a.bench_noop,
            no_forward: a.bench_no_forward,
            idle_timeout: (idle_timeout > 0).then(|| Duration::from_secs(idle_timeout)),
            park_after: (a.park_after_ms > 0).then(|| Duration::from_millis(a.park_after_ms)),
            idle_poll: Duration::from_micros(a.idle_poll_us),
            shutdown_timeout,
            metrics: a.metrics,
            channel_size: channel_size(shards),
            faults: Faults::default(),
            warnings,
        };
        #[cfg(feature = "fault-injection")]
        let settings = settings.with_faults(a);
        Ok(settings)
    }

    /// Applies the fault-injection flags.
    #[cfg(feature = "fault-injection")]
    fn with_faults(mut self, a: &Args) -> Self {
        self.faults = Faults {
            slow_shard: a.fault_slow_shard,
            delay: Duration::from_millis(a.fault_delay_ms),
            reorder: a.fault_reorder,
            panic_key: a.fault_panic_key.clone().map(String::into_bytes),
            disk_errors: Duration::from_millis(a.fault_disk_errors_ms),
            kill_removing: a.fault_kill_removing,
        };
        if let Some(n) = a.fault_channel_size {
            self.channel_size = n.max(1);
        }
        self
    }

    /// Rejected flags and values are errors that name them.
    pub fn parse_from<I, T>(argv: I, online_cpus: usize) -> Result<Settings, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args = Args::try_parse_from(argv).map_err(|e| e.to_string())?;
        Settings::from_args(&args, online_cpus)
    }
}

/// The protocols a connection may speak (`-B`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Each connection's first byte chooses.
    Auto,
    /// The text protocol only.
    Ascii,
    /// The binary protocol only.
    Binary,
}

impl Protocol {
    /// memcached's name, as `-B` takes it and `stats settings` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Auto => "auto",
            Protocol::Ascii => "ascii",
            Protocol::Binary => "binary",
        }
    }
}

/// The protocol served, with memcached's rules for authentication: `-S` serves the binary
/// protocol only (SASL is a binary-protocol mechanism; with text or negotiated connections
/// text clients would get in unauthenticated), `-Y` alone the text protocol only (binary
/// clients would get in unauthenticated). corecached has no Cyrus SASL: `-S` checks PLAIN
/// against the `-Y` file; `-S` alone, a valid memcached command line, is accepted and
/// every authentication fails (`crate::server` warns), as memcached's would with no users
/// in its SASL database. (memcached's `-S` takes Cyrus SASL's users, and with both flags
/// serves text only.)
fn protocol(a: &Args) -> Result<Protocol, String> {
    let asked = a.protocol.as_deref();
    if a.sasl {
        return match asked {
            None | Some("binary") => Ok(Protocol::Binary),
            Some(p) => Err(format!(
                "-S/--enable-sasl with -B {p}: SASL authenticates binary clients only, so text clients would get in unauthenticated (memcached refuses it too); use -B binary or leave -B out"
            )),
        };
    }
    if a.auth_file.is_some() {
        return match asked {
            None | Some("ascii") => Ok(Protocol::Ascii),
            Some(p) => Err(format!(
                "-Y/--auth-file with -B {p}: it authenticates text clients only, so binary clients would get in unauthenticated (memcached refuses it too); use -B ascii, leave -B out, or add -S for binary clients"
            )),
        };
    }
    match asked {
        None | Some("auto") => Ok(Protocol::Auto),
        Some("ascii") => Ok(Protocol::Ascii),
        Some("binary") => Ok(Protocol::Binary),
        Some(p) => Err(format!("-B {p}: the protocol is auto, ascii or binary")),
    }
}

/// The memcached release whose protocol corecached speaks: what `version`, the binary
/// protocol's version and `stats` report, since clients read features from it.
pub const PROTOCOL_VERSION: &str = "1.6.18";

/// corecached's own version (`--version`, the start-up line, `stats`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Capacity of each shard-to-shard channel with two shards, in batches.
pub const CHANNEL_SIZE: usize = 128;

/// Capacity of each shard-to-shard channel, in batches: [`CHANNEL_SIZE`] with two shards,
/// less with more, at least 2, a power of two (glommio rounds it up to one). A mesh has a
/// channel for each ordered pair of shards, and glommio fills every slot of each at start
/// (a slot holds a [`crate::shard::Batch`]), so at 128 slots 256 shards would hold
/// gigabytes of channels; this way a shard's channels together keep about
/// `2 x CHANNEL_SIZE` slots per mesh, whatever the shard count.
pub fn channel_size(shards: usize) -> usize {
    (2 * CHANNEL_SIZE / shards.max(2))
        .next_power_of_two()
        .clamp(2, CHANNEL_SIZE)
}

/// `--io-memory` when locked memory allows it (glommio's own default is 10 MiB).
pub const IO_MEMORY: usize = 256 << 10;

#[cfg(test)]
mod tests;
