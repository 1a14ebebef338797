//! Flags to settings: memcached's names and checks, the start-up errors' sentences.

use super::*;

fn parse(args: &[&str]) -> Result<Settings, String> {
    Settings::parse_from(std::iter::once("corecached").chain(args.iter().copied()), 4)
}

#[test]
fn defaults() {
    let s = parse(&[]).unwrap();
    assert_eq!(s.addrs, vec!["127.0.0.1:11211".parse().unwrap()]);
    assert_eq!(s.shards, 4);
    assert_eq!(s.cpus, vec![0, 1, 2, 3]);
    assert_eq!(s.conn_limit, 1024);
    assert_eq!(s.mem_limit, 64 << 20);
    assert_eq!(s.item_size_max, 1 << 20);
    assert!(s.use_cas && s.flush_enabled && s.evict);
    assert_eq!(s.segment_size, 1 << 20);
    assert_eq!((s.io_memory, s.io_memory_auto), (256 << 10, true));
    assert_eq!(s.channel_size, 64);
    assert!(s.warnings.is_empty());
    assert_eq!(s.shutdown_timeout, Duration::from_secs(5));
    let s = parse(&["--shutdown-timeout", "0.5"]).unwrap();
    assert_eq!(s.shutdown_timeout, Duration::from_millis(500));
}

/// Shares too small for two largest items: fewer shards, on the first CPUs, and a
/// warning naming the flags; no refusal for any -m memcached accepts.
#[test]
fn small_memory_serves_fewer_shards_with_a_warning() {
    for (args, shards, warned) in [
        (&["-m", "2", "-t", "4"][..], 1, true),
        (&["-M", "-m", "2"][..], 1, true),
        (&["-t", "64"][..], 31, true),
        (&["-t", "64", "-m", "64", "-I", "256k"][..], 64, false),
        (&["-t", "2", "-m", "4"][..], 1, true),
        (&["-t", "2", "-m", "5"][..], 2, false),
    ] {
        let s = parse(args).unwrap();
        assert_eq!(s.shards, shards, "{args:?}");
        assert_eq!(s.cpus.len(), shards, "{args:?}");
        assert_eq!(s.warnings.len(), usize::from(warned), "{args:?}");
    }
    let s = parse(&["-t", "64"]).unwrap();
    assert_eq!(s.cpus[..4], [0, 1, 2, 3]);
    assert!(
        s.warnings[0].contains("-m/--memory-limit"),
        "{:?}",
        s.warnings
    );
    assert_eq!(s.channel_size, 8);
    let s = parse(&["--io-memory", "64k"]).unwrap();
    assert_eq!((s.io_memory, s.io_memory_auto), (64 << 10, false));
}

#[test]
fn fewer_shards_for_locked_memory_get_larger_shares() {
    let mut s = parse(&["-t", "64", "-m", "1024"]).unwrap();
    assert_eq!((s.shards, s.segment_size, s.channel_size), (64, 1 << 20, 4));
    s.limit_shards(34);
    assert_eq!((s.shards, s.cpus.len(), s.channel_size), (34, 34, 8));
    assert_eq!(s.shard_mem(), (1024 << 20) / 34);
    let mut s = parse(&["-t", "64", "-m", "64", "-I", "64k"]).unwrap();
    assert_eq!(s.segment_size, 64 << 10);
    s.limit_shards(8);
    assert_eq!(s.segment_size, 512 << 10);
}

#[test]
fn channels_shrink_as_shards_grow() {
    for (shards, size) in [
        (1, 128),
        (2, 128),
        (3, 128),
        (4, 64),
        (5, 64),
        (16, 16),
        (34, 8),
        (64, 4),
        (256, 2),
    ] {
        assert_eq!(channel_size(shards), size, "{shards} shards");
    }
}

#[test]
fn memcached_flags() {
    let s = parse(&[
        "-p",
        "1234",
        "-l",
        "127.0.0.1,::1",
        "-t",
        "2",
        "--cpus",
        "1,3",
        "-c",
        "10",
        "-m",
        "128",
        "-I",
        "512k",
        "-C",
        "-F",
        "-M",
        "-b",
        "64",
        "-R",
        "5",
        "-o",
        "hashpower=16,modern,idle_timeout=7",
    ])
    .unwrap();
    assert_eq!(s.addrs.len(), 2);
    assert_eq!(s.addrs[1], "[::1]:1234".parse().unwrap());
    assert_eq!(s.cpus, vec![1, 3]);
    assert_eq!(s.item_size_max, 512 << 10);
    assert_eq!(s.mem_limit, 128 << 20);
    assert!(!s.use_cas && !s.flush_enabled && !s.evict);
    assert_eq!((s.backlog, s.reqs_per_event, s.hashpower), (64, 5, 16));
    assert_eq!(s.idle_timeout, Some(Duration::from_secs(7)));
}

#[test]
fn errors_name_the_flag() {
    for (args, needle) in [
        (&["-Z"][..], "-Z"),
        (
            &["-Z", "-o", "ssl_chain_cert=/nonexistent/cert.pem"][..],
            "ssl_chain_cert=/nonexistent/cert.pem",
        ),
        (&["-Z", "-o", "ssl_keyformat=2"][..], "ssl_keyformat"),
        (&["-o", "ssl_verify_mode=4"][..], "ssl_verify_mode"),
        (&["-o", "ssl_min_version=x"][..], "ssl_min_version"),
        (&["-o", "ssl_chain_cert"][..], "ssl_chain_cert"),
        (&["-a", "8"][..], "8"),
        (&["-s", ""][..], "-s"),
        (&["-P", ""][..], "pidfile"),
        (&["-I", "10"][..], "-I"),
        (&["-I", "abc"][..], "abc"),
        (&["-t", "0"][..], "threads"),
        (&["--cpus", "3-1"][..], "CPU list"),
        (&["-t", "3", "--cpus", "0,1"][..], "--cpus"),
        (&["-o", "bogus=1"][..], "bogus"),
        (&["--frobnicate"][..], "--frobnicate"),
        (&["-p", "99999"][..], "99999"),
        (&["-l", "127.0.0.1:x"][..], "127.0.0.1:x"),
        (&["-m", "1", "-I", "1m"][..], "-I"),
        (&["-m", "1", "-o", "hashpower=24"][..], "hashpower"),
        (&["--shutdown-timeout=-1"][..], "--shutdown-timeout"),
        (&["--shutdown-timeout", "1e9"][..], "--shutdown-timeout"),
        (&["-S", "-B", "ascii"][..], "-B ascii"),
        (&["-S", "--bench-noop"][..], "--bench-noop"),
        (&["-S", "-Y", "f", "-B", "ascii"][..], "-B ascii"),
        (&["-S", "-Y", "f", "-B", "auto"][..], "-B auto"),
        (&["-Y", "f", "-B", "binary"][..], "-B binary"),
        (&["-Y", "f", "-B", "auto"][..], "-B auto"),
        (&["-Y", "f", "--bench-noop"][..], "--bench-noop"),
        (&["-u", ""][..], "-u/--user"),
    ] {
        let err = parse(args).unwrap_err();
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn protocol_and_authentication() {
    let p = |args: &[&str]| {
        let s = parse(args).unwrap();
        (s.protocol, s.sasl, s.auth_file)
    };
    assert_eq!(p(&[]), (Protocol::Auto, false, None));
    assert_eq!(p(&["-B", "binary"]).0, Protocol::Binary);
    assert_eq!(p(&["-B", "ascii"]).0, Protocol::Ascii);
    let f = Some(PathBuf::from("users"));
    assert_eq!(p(&["-Y", "users"]), (Protocol::Ascii, false, f.clone()));
    assert_eq!(
        p(&["--auth-file", "users", "-B", "ascii"]).0,
        Protocol::Ascii
    );
    // memcached's -S alone: binary, with no users to check (every SASL authentication fails).
    assert_eq!(p(&["-S"]), (Protocol::Binary, true, None));
    assert_eq!(
        p(&["-S", "-Y", "users"]),
        (Protocol::Binary, true, f.clone())
    );
    assert_eq!(
        p(&["--enable-sasl", "--auth-file=users", "--protocol", "binary"]),
        (Protocol::Binary, true, f)
    );
}

#[test]
fn sizes_and_cpu_lists() {
    assert_eq!(parse_size("1m"), Ok(1 << 20));
    assert_eq!(parse_size("2K"), Ok(2048));
    assert_eq!(parse_size("4096"), Ok(4096));
    assert!(parse_size("m").is_err());
    assert_eq!(parse_cpus("0,2-3"), Ok(vec![0, 2, 3]));
    assert!(parse_cpus("0,0").is_err());
    assert!(parse_cpus("").is_err());
}
