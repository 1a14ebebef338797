//! memcached's command line as corecached takes it: `-l` lists (host names, `host:port`),
//! `-o` suboptions, and the flags that have no effect here, each accepted with one warning
//! so that any command line memcached 1.6.18 starts with starts corecached too.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// memcached 1.6.18's `-o` suboptions (those its Debian build, with TLS and extstore,
/// accepts) that mean nothing here: accepted with a warning. `modern` and `no_modern` are
/// accepted silently (they change nothing in memcached 1.6 either); `hashpower`,
/// `idle_timeout`, `watcher_logbuf_size`, `worker_logbuf_size` and the TLS ones (`ssl_*`,
/// [`crate::tls::SslOptions`]) are honoured.
pub const NO_EFFECT_SUBOPTIONS: &[&str] = &[
    "maxconns_fast",
    "no_maxconns_fast",
    "slab_reassign",
    "no_slab_reassign",
    "slab_automove",
    "no_slab_automove",
    "slab_automove_ratio",
    "slab_automove_window",
    "slab_automove_freeratio",
    "tail_repair_time",
    "hash_algorithm",
    "lru_crawler",
    "no_lru_crawler",
    "lru_crawler_sleep",
    "lru_crawler_tocrawl",
    "lru_maintainer",
    "no_lru_maintainer",
    "hot_lru_pct",
    "warm_lru_pct",
    "hot_max_factor",
    "warm_max_factor",
    "temporary_ttl",
    "read_buf_mem_limit",
    "resp_obj_mem_limit",
    "slab_chunk_max",
    "slab_sizes",
    "no_hashexpand",
    "no_inline_ascii_resp",
    "no_chunked_items",
    "drop_privileges",
    "no_drop_privileges",
    "sock_cookie_id",
    "ext_page_size",
    "ext_path",
    "ext_wbuf_size",
    "ext_threads",
    "ext_io_depth",
    "ext_item_size",
    "ext_item_age",
    "ext_low_ttl",
    "ext_recache_rate",
    "ext_compact_under",
    "ext_drop_under",
    "ext_max_sleep",
    "ext_max_frag",
    "ext_drop_unread",
];

/// memcached's flags that mean nothing here.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct NoEffect {
    /// memcached's -k (lock all memory): no effect here (each shard locks what io_uring needs).
    #[arg(short = 'k', long = "lock-memory", hide_short_help = true)]
    pub lock_memory: bool,

    /// memcached's -L (large pages): no effect here.
    #[arg(short = 'L', long = "enable-largepages", hide_short_help = true)]
    pub enable_largepages: bool,

    /// memcached's -e (items in a mmapped file, restartable cache): no effect here.
    #[arg(
        short = 'e',
        long = "memory-file",
        value_name = "FILE",
        hide_short_help = true
    )]
    pub memory_file: Option<PathBuf>,

    /// memcached's -N (NAPI ids): no effect here.
    #[arg(
        short = 'N',
        long = "napi_ids",
        value_name = "NUM",
        hide_short_help = true
    )]
    pub napi_ids: Option<u32>,
}

impl NoEffect {
    /// One warning for each of these flags given (and for `-U` other than 0, which serves
    /// nothing here either).
    pub fn warnings(&self, udp_port: u16) -> Vec<String> {
        let mut w = Vec::new();
        let mut no_effect = |given: bool, flag: &str, why: &str| {
            if given {
                w.push(format!(
                    "{flag}: no effect in corecached ({why}); accepted and ignored"
                ));
            }
        };
        no_effect(
            udp_port != 0,
            &format!("-U {}", udp_port),
            "it serves no UDP: memcached's UDP protocol is an amplification-attack vector; clients use TCP",
        );
        no_effect(
            self.lock_memory,
            "-k/--lock-memory",
            "each shard locks the memory io_uring needs, within `ulimit -l`",
        );
        no_effect(
            self.enable_largepages,
            "-L/--enable-largepages",
            "the store allocates its segments from the heap",
        );
        no_effect(
            self.memory_file.is_some(),
            "-e/--memory-file",
            "items live in memory only; a restart starts empty",
        );
        no_effect(
            self.napi_ids.is_some(),
            "-N/--napi_ids",
            "each shard accepts its own connections",
        );
        w
    }
}

/// What `-o` asks for.
#[derive(Debug, Default, PartialEq)]
pub struct Extended {
    /// `hashpower=N`, 0 when not given.
    pub hashpower: u32,
    /// `idle_timeout=SECONDS`, when given.
    pub idle_timeout: Option<u64>,
    /// `track_sizes`: `stats sizes` counts from the start.
    pub track_sizes: bool,
    /// `worker_logbuf_size=KB` and `watcher_logbuf_size=KB`, in bytes, when given.
    pub worker_logbuf: Option<usize>,
    pub watcher_logbuf: Option<usize>,
    /// The `ssl_*` suboptions (TLS, with `-Z`).
    pub ssl: crate::tls::SslOptions,
    /// The suboptions named in [`NO_EFFECT_SUBOPTIONS`], in order, each once.
    pub ignored: Vec<String>,
}

/// Parses `-o` values (each a comma-separated list). An unknown name is refused as
/// memcached refuses it (`Illegal suboption "NAME"`).
pub fn extended(options: &[String]) -> Result<Extended, String> {
    let mut x = Extended::default();
    for opt in options.iter().flat_map(|o| o.split(',')) {
        let (name, value) = match opt.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (opt.trim(), None),
        };
        match (name, value) {
            ("hashpower", Some(v)) => {
                x.hashpower = v
                    .parse()
                    .ok()
                    .filter(|p| (12..=32).contains(p))
                    .ok_or_else(|| format!("-o hashpower={v}: expected 12 to 32"))?;
            }
            ("idle_timeout", Some(v)) => {
                x.idle_timeout = Some(
                    v.parse()
                        .map_err(|_| format!("-o idle_timeout={v}: expected seconds"))?,
                );
            }
            ("track_sizes", None) => x.track_sizes = true,
            ("worker_logbuf_size", v) => x.worker_logbuf = Some(kilobytes(name, v)?),
            ("watcher_logbuf_size", v) => x.watcher_logbuf = Some(kilobytes(name, v)?),
            ("modern" | "no_modern" | "", None) => {}
            (n, v) if n.starts_with("ssl_") && x.ssl.set(n, v)? => {}
            (n, _) if NO_EFFECT_SUBOPTIONS.contains(&n) => {
                if !x.ignored.iter().any(|i| i == n) {
                    x.ignored.push(n.to_string());
                }
            }
            _ => {
                return Err(format!(
                    "-o: illegal suboption \"{opt}\" (memcached 1.6.18 has no such option; `memcached -h` lists them)"
                ))
            }
        }
    }
    Ok(x)
}

/// A buffer size given in kilobytes, as bytes. memcached keeps it in 32 bits; a size that
/// would not fit there is refused rather than wrapped.
fn kilobytes(name: &str, v: Option<&str>) -> Result<usize, String> {
    v.and_then(|v| v.parse::<u32>().ok())
        .filter(|&k| k <= u32::MAX >> 10)
        .map(|k| k as usize * 1024)
        .ok_or_else(|| {
            format!(
                "-o {name}={}: give the size in kilobytes, 0 to {}",
                v.unwrap_or(""),
                u32::MAX >> 10
            )
        })
}

/// The addresses `-l` values name, with `port` where a value gives none. Each value is a
/// comma-separated list of `host`, `host:port`, `[v6]` or `[v6]:port` (a bare IPv6
/// address has no port, as memcached reads it); a host name stands for every address it
/// resolves to. memcached's `notls:` prefix is dropped here ([`notls_addrs`] lists them).
pub fn listen_addrs(values: &[String], port: u16) -> Result<Vec<SocketAddr>, String> {
    Ok(tagged_addrs(values, port)?
        .into_iter()
        .map(|(a, _)| a)
        .collect())
}

/// The addresses `-l` values name with memcached's `notls:` prefix: served in plaintext
/// while the others are TLS (`-Z`).
pub fn notls_addrs(values: &[String], port: u16) -> Result<Vec<SocketAddr>, String> {
    Ok(tagged_addrs(values, port)?
        .into_iter()
        .filter(|(_, notls)| *notls)
        .map(|(a, _)| a)
        .collect())
}

/// Each address `-l` values name, and whether it came with `notls:`.
fn tagged_addrs(values: &[String], port: u16) -> Result<Vec<(SocketAddr, bool)>, String> {
    let mut addrs: Vec<(SocketAddr, bool)> = Vec::new();
    for item in values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        let notls = item.starts_with("notls:");
        let spec = item.strip_prefix("notls:").unwrap_or(item);
        let (host, port) = split_host_port(spec, port)
            .ok_or_else(|| format!("-l {item}: expected HOST, HOST:PORT or [IPv6]:PORT"))?;
        let found: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => (host, port)
                .to_socket_addrs()
                .map_err(|e| format!("-l {item}: cannot resolve {host} ({e}); name an address or a host name of this machine"))?
                .collect(),
        };
        if found.is_empty() {
            return Err(format!("-l {item}: {host} resolves to no address"));
        }
        for a in found {
            if !addrs.iter().any(|(b, _)| *b == a) {
                addrs.push((a, notls));
            }
        }
    }
    Ok(addrs)
}

/// `host[:port]` as memcached splits it: brackets around an IPv6 address, a port after
/// the last colon only when there is one colon (or after the brackets).
fn split_host_port(spec: &str, default_port: u16) -> Option<(&str, u16)> {
    let port = |p: &str| p.parse::<u16>().ok();
    if let Some(rest) = spec.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, default_port)),
            p => Some((host, port(p.strip_prefix(':')?)?)),
        };
    }
    match spec.matches(':').count() {
        1 => {
            let (host, p) = spec.split_once(':')?;
            Some((host, port(p)?))
        }
        _ => Some((spec, default_port)),
    }
}

/// `-m`: megabytes, with memcached's optional `m`/`M` suffix (`-m 64m`). memcached reads
/// only the digits of other suffixes too (`-m 2g` is 2 megabytes there): refused here
/// rather than read so.
pub fn parse_megabytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.strip_suffix(['m', 'M']).unwrap_or(t);
    digits.parse().map_err(|_| {
        format!(
            "invalid size '{s}' (megabytes, e.g. 64 or 64m; memcached would read only its digits)"
        )
    })
}

/// `-a`: a file mode in octal, as memcached reads it (e.g. `700`, `0777`).
pub fn parse_mask(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s.trim(), 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("invalid mask '{s}' (expected octal digits, e.g. 700 or 0777)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn parse(args: &[&str]) -> Result<Settings, String> {
        Settings::parse_from(std::iter::once("corecached").chain(args.iter().copied()), 4)
    }

    /// Debian's /etc/memcached.conf, memcached's flags that have no effect here (one
    /// warning each), and a unix socket in place of TCP.
    #[test]
    fn memcached_command_lines_are_accepted() {
        let s = parse(&[
            "-d",
            "-m",
            "64",
            "-p",
            "11211",
            "-u",
            "memcache",
            "-l",
            "127.0.0.1",
            "-P",
            "/var/run/memcached/memcached.pid",
        ])
        .unwrap();
        assert!(s.daemon && s.warnings.is_empty());
        assert_eq!(s.user.as_deref(), Some("memcache"));
        assert_eq!(
            s.pid_file,
            Some(PathBuf::from("/var/run/memcached/memcached.pid"))
        );
        let s = parse(&["-l", "localhost", "-o", "slab_reassign,slab_automove"]).unwrap();
        assert!(s
            .addrs
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 11211));
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert!(s.warnings[0].contains("slab_reassign,slab_automove"));
        let s = parse(&[
            "-U", "11211", "-k", "-L", "-e", "/tmp/f", "-N", "2", "-W", "-X", "-r",
        ])
        .unwrap();
        assert_eq!(s.warnings.len(), 5, "{:?}", s.warnings);
        for (w, flag) in s.warnings.iter().zip(["-U 11211", "-k", "-L", "-e", "-N"]) {
            assert!(w.starts_with(flag) && w.contains("no effect"), "{w}");
        }
        assert!(s.core_dumps && s.dumps_disabled);
        let s = parse(&[
            "-t",
            "1",
            "-t",
            "2",
            "-l",
            "127.0.0.1",
            "-l",
            "::1",
            "-o",
            "modern",
        ])
        .unwrap();
        assert_eq!((s.shards, s.addrs.len()), (2, 2));
        let s = parse(&["-s", "/tmp/mc.sock", "-a", "0770"]).unwrap();
        assert!(s.addrs.is_empty());
        let u = s.unix_socket.unwrap();
        assert_eq!((u.path, u.mask), (PathBuf::from("/tmp/mc.sock"), 0o770));
        assert_eq!(
            parse(&["-s", "x"]).unwrap().unix_socket.unwrap().mask,
            0o700
        );
        let s = parse(&["-s", "x", "-l", "127.0.0.1"]).unwrap();
        assert!(
            s.warnings[0].contains("no effect with -s"),
            "{:?}",
            s.warnings
        );
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn listen_values_as_memcached_reads_them() {
        let a = |v: &[&str]| listen_addrs(&strings(v), 11211).unwrap();
        let sa = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(a(&["127.0.0.1"]), [sa("127.0.0.1:11211")]);
        assert_eq!(
            a(&["127.0.0.1:11311,::1", "[::1]:5"]),
            [sa("127.0.0.1:11311"), sa("[::1]:11211"), sa("[::1]:5")]
        );
        assert_eq!(a(&["notls:127.0.0.1:9"]), [sa("127.0.0.1:9")]);
        let plain = notls_addrs(&strings(&["127.0.0.1:8,notls:127.0.0.1:9"]), 1).unwrap();
        assert_eq!(plain, [sa("127.0.0.1:9")]);
        assert_eq!(a(&["127.0.0.1", "127.0.0.1"]), [sa("127.0.0.1:11211")]);
        let local = a(&["localhost"]);
        assert!(!local.is_empty() && local.iter().all(|s| s.ip().is_loopback()));
        assert!(local.iter().all(|s| s.port() == 11211), "{local:?}");
        for bad in ["127.0.0.1:x", "[::1", "[::1]x", "no-such-host.invalid"] {
            let e = listen_addrs(&strings(&[bad]), 1).unwrap_err();
            assert!(e.starts_with(&format!("-l {bad}")), "{e}");
        }
    }

    #[test]
    fn suboptions() {
        let x = extended(&strings(&[
            "slab_reassign,slab_automove=1",
            "hashpower=20,modern",
            "idle_timeout=3,slab_reassign,ext_path=/x:1g",
        ]))
        .unwrap();
        assert_eq!(x.hashpower, 20);
        assert_eq!(x.idle_timeout, Some(3));
        assert_eq!(x.ignored, ["slab_reassign", "slab_automove", "ext_path"]);
        let x = extended(&strings(&[
            "ssl_chain_cert=/c.pem,ssl_key=/k.pem,ssl_verify_mode=3,ssl_session_cache",
            "ssl_min_version=3,ssl_wbuf_size=32,ssl_ciphers=HIGH,ssl_kernel_tls",
        ]))
        .unwrap();
        assert!(x.ignored.is_empty(), "{:?}", x.ignored);
        let stats: Vec<String> = x
            .ssl
            .settings_stats(true)
            .into_iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        // memcached 1.6.18's `stats settings` lines for the same options.
        assert_eq!(
            stats,
            [
                "ssl_enabled yes",
                "ssl_chain_cert /c.pem",
                "ssl_key /k.pem",
                "ssl_verify_mode 7",
                "ssl_keyformat 1",
                "ssl_ciphers HIGH",
                "ssl_ca_cert NULL",
                "ssl_wbuf_size 32768",
                "ssl_session_cache yes",
                "ssl_kernel_tls yes",
                "ssl_min_version tlsv1.3",
            ]
        );
        let x = extended(&strings(&["worker_logbuf_size=8,watcher_logbuf_size=1024"])).unwrap();
        assert_eq!(
            (x.worker_logbuf, x.watcher_logbuf),
            (Some(8192), Some(1 << 20))
        );
        assert!(x.ignored.is_empty(), "{:?}", x.ignored);
        for bad in [
            "bogus",
            "lru_segmented",
            "hashpower=2",
            "idle_timeout=x",
            "worker_logbuf_size=-1",
            "watcher_logbuf_size=4194304",
            "watcher_logbuf_size",
        ] {
            let e = extended(&strings(&[bad])).unwrap_err();
            assert!(e.contains(bad.split('=').next().unwrap()), "{e}");
        }
    }

    #[test]
    fn megabytes() {
        assert_eq!(parse_megabytes("64"), Ok(64));
        assert_eq!(parse_megabytes("64m"), Ok(64));
        assert_eq!(parse_megabytes("128M"), Ok(128));
        for bad in ["2g", "65536k", "m", "-1"] {
            assert!(parse_megabytes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn masks() {
        assert_eq!(parse_mask("700"), Ok(0o700));
        assert_eq!(parse_mask("0777"), Ok(0o777));
        assert_eq!(parse_mask("0"), Ok(0));
        assert!(parse_mask("999").is_err());
        assert!(parse_mask("1777").is_err());
    }
}
