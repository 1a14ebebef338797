//! The binary's start-up and shutdown: memcached's command lines (every flag of its `-h`,
//! its `-o` suboptions, Debian's config line with `-d` and `-P`), flag errors that name the
//! flag, the locked-memory check, the versions, the start-up line, and a graceful stop on
//! SIGTERM and SIGINT.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{exchange_on, free_port, start_exact, TempDir};
use common::CorecachedServer;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_corecached"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run corecached");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn bad_flags_are_errors_that_name_them() {
    for (args, needle) in [
        (&["--frobnicate"][..], "--frobnicate"),
        (&["-p", "notaport"][..], "notaport"),
        (&["-Z"][..], "-Z"),
        (&["-o", "lru_segmented"][..], "lru_segmented"),
        (&["-I", "100"][..], "-I"),
        (&["-t", "0"][..], "threads"),
        (&["--cpus", "x"][..], "CPU list"),
        (&["-o", "nosuchoption=1"][..], "nosuchoption"),
        (&["-B", "morse"][..], "morse"),
        (&["--idle-poll-us", "1001"][..], "idle-poll-us"),
    ] {
        let (code, text) = run(args);
        assert_ne!(code, 0, "{args:?} must fail");
        assert!(text.contains(needle), "{args:?}: {text}");
        assert!(!text.contains("panicked"), "{args:?}: {text}");
    }
}

#[test]
fn version_and_help() {
    let (code, text) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(text.starts_with("corecached "), "{text}");
    let (code, text) = run(&["--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--port",
        "--listen",
        "--threads",
        "--cpus",
        "--memory-limit",
        "--idle-timeout",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn too_little_locked_memory_is_one_clear_sentence() {
    let mut lim = libc_rlimit();
    if lim == u64::MAX {
        eprintln!("skipped: locked memory is unlimited here, so the check cannot trip");
        return;
    }
    lim = lim / 1024 + 1024;
    let (code, text) = run(&["-p", "0", "-t", "1", "--io-memory", &format!("{lim}k")]);
    assert_ne!(code, 0);
    assert!(
        text.contains("locked memory") && text.contains("ulimit -l"),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

/// RLIMIT_MEMLOCK's soft limit in bytes (u64::MAX when unlimited), read from /proc.
fn libc_rlimit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max locked memory"))
        .expect("Max locked memory in /proc/self/limits");
    match line.split_whitespace().nth(3) {
        Some("unlimited") | None => u64::MAX,
        Some(v) => v.parse().unwrap(),
    }
}

fn stop_with(signal: i32) {
    let mut server = CorecachedServer::start(&["--threads", "2"]);
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // A request already read is answered before the connection closes.
    s.write_all(b"set k 0 0 1\r\nv\r\nget k\r\n").unwrap();
    let mut reply = Vec::new();
    let mut b = [0u8; 256];
    while !reply.ends_with(b"END\r\n") {
        // A signal to the test process (another test's child exiting) may interrupt it.
        let n = match s.read(&mut b) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => r.unwrap(),
        };
        assert!(n > 0);
        reply.extend_from_slice(&b[..n]);
    }
    assert_eq!(reply, b"STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n");
    let status = server.signal_and_wait(signal, Duration::from_secs(10));
    assert_eq!(status, Some(0), "exit status after signal {signal}");
    // The open connection was closed.
    let mut rest = Vec::new();
    let started = Instant::now();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty() && started.elapsed() < Duration::from_secs(5));
}

#[test]
fn sigterm_stops_gracefully() {
    stop_with(15);
}

#[test]
fn sigint_stops_gracefully() {
    stop_with(2);
}

/// `-u nobody` when the tests run as root (the server then warns of nothing), else nothing.
fn as_nobody() -> Vec<&'static str> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        vec!["-u", "nobody"]
    } else {
        Vec::new()
    }
}

/// The WARN lines of a log.
fn warnings(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.contains(" WARN "))
        .cloned()
        .collect()
}

/// Starts corecached with `args` and checks it serves `version` on the first address of
/// its start-up line; its WARN lines.
fn starts_and_serves(args: &[&str]) -> Vec<String> {
    let mut server = start_exact(args).unwrap_or_else(|f| panic!("{args:?} did not start: {f:?}"));
    let addr = server.tcp_addrs()[0];
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    if args.contains(&"-S") {
        // Binary clients only.
        assert_eq!(binary_version(&mut s), b"1.6.18");
    } else if args.contains(&"-Y") {
        // Text clients authenticate first.
        let login = b"set auth 0 0 3\r\nu p\r\n";
        assert_eq!(exchange_on(&mut s, login), b"STORED\r\n");
    } else {
        assert_eq!(exchange_on(&mut s, b"version\r\n"), b"VERSION 1.6.18\r\n");
    }
    // Warnings precede the start-up line; what was read until then is all of them.
    let w = warnings(&server.stderr_lines());
    assert_eq!(server.stop(libc::SIGTERM), Some(0), "{args:?}");
    w
}

/// Every flag of `memcached -h` (1.6.18) starts corecached: those that mean something
/// here silently, those that do not with one warning naming the flag. Not here: -A and -D
/// (tests/stats.rs), -s and -a (tests/unix_socket.rs), -d and -P (below), -Z (it needs
/// certificates: tests/tls.rs), -h, -i and -V (they print and exit).
#[test]
fn every_memcached_flag_is_accepted() {
    let dir = TempDir::new("cli-flags");
    let users = dir.join("users");
    std::fs::write(&users, "u:p\n").unwrap();
    let users = users.to_str().unwrap();
    let memfile = dir.join("memory");
    let memfile = memfile.to_str().unwrap();
    let table: &[(&[&str], Option<&str>)] = &[
        (&["-U", "0"], None),
        (&["-U", "11211"], Some("-U 11211: no effect")),
        (&["-l", "127.0.0.1"], None),
        (&["-l", "localhost"], None),
        (&["-l", "127.0.0.1:0"], None),
        (&["-r"], None),
        (&["-m", "32"], None),
        (&["-m", "32m"], None),
        (&["-M"], None),
        (&["-c", "100"], None),
        (&["-k"], Some("-k/--lock-memory: no effect")),
        (&["-v"], None),
        (&["-vv"], None),
        (&["-f", "1.5"], None),
        (&["-n", "64"], None),
        (&["-L"], Some("-L/--enable-largepages: no effect")),
        (&["-t", "2"], None),
        (&["-R", "10"], None),
        (&["-C"], None),
        (&["-b", "128"], None),
        (&["-B", "ascii"], None),
        (&["-I", "2m"], None),
        (&["-S", "-Y", users], None),
        (&["-F"], None),
        (&["-X"], None),
        (&["-W"], None),
        (&["-Y", users], None),
        (&["-e", memfile], Some("-e/--memory-file: no effect")),
        (&["-N", "2"], Some("-N/--napi_ids: no effect")),
        (&["-o", "hashpower=16,idle_timeout=5,modern"], None),
        (
            &["-o", "slab_reassign,slab_automove"],
            Some("-o slab_reassign,slab_automove: memcached options with no effect"),
        ),
        // memcached's long names.
        (
            &[
                "--udp-port=0",
                "--enable-coredumps",
                "--memory-limit=32",
                "--disable-evictions",
                "--conn-limit=100",
                "--verbose",
                "--slab-growth-factor=1.25",
                "--slab-min-size=48",
                "--threads=1",
                "--max-reqs-per-event=20",
                "--disable-cas",
                "--listen-backlog=1024",
                "--protocol=auto",
                "--max-item-size=1m",
                "--disable-flush-all",
                "--disable-dumping",
                "--disable-watch",
                "--extended=modern",
            ],
            None,
        ),
        (&["--lock-memory"], Some("-k/--lock-memory: no effect")),
    ];
    for (flags, warning) in table {
        let mut args = vec!["-p", "0", "-t", "1"];
        args.extend(as_nobody());
        args.extend(flags.iter().copied());
        if !flags
            .iter()
            .any(|f| f.starts_with("-l") || f.starts_with("--listen"))
        {
            args.extend(["-l", "127.0.0.1"]);
        }
        let w = starts_and_serves(&args);
        match warning {
            None => assert!(w.is_empty(), "{flags:?} warned: {w:?}"),
            Some(needle) => {
                assert_eq!(w.len(), 1, "{flags:?}: one warning, not {w:?}");
                assert!(w[0].contains(needle), "{flags:?}: {w:?}");
            }
        }
    }
}

/// Each `-o` name memcached 1.6.18 accepts that means nothing here, with a value memcached
/// takes (memcached itself is asked, when installed).
const SUBOPTIONS: &[&str] = &[
    "maxconns_fast",
    "no_maxconns_fast",
    "slab_reassign",
    "no_slab_reassign",
    "slab_automove=1",
    "no_slab_automove",
    "slab_automove_ratio=0.8",
    "slab_automove_window=30",
    "slab_automove_freeratio=0.01",
    "tail_repair_time=30",
    "hash_algorithm=murmur3",
    "lru_crawler",
    "no_lru_crawler",
    "lru_crawler_sleep=100",
    "lru_crawler_tocrawl=0",
    "lru_maintainer",
    "no_lru_maintainer",
    "hot_lru_pct=20",
    "warm_lru_pct=40",
    "hot_max_factor=0.2",
    "warm_max_factor=2.0",
    "temporary_ttl=61",
    "read_buf_mem_limit=0",
    "resp_obj_mem_limit=0",
    "slab_chunk_max=512",
    "slab_sizes=100-200-300",
    "no_hashexpand",
    "no_inline_ascii_resp",
    "no_chunked_items",
    "drop_privileges",
    "no_drop_privileges",
    "sock_cookie_id=1",
    "ext_page_size=64",
    "ext_path=EXT:64m",
    "ext_wbuf_size=4",
    "ext_threads=1",
    "ext_io_depth=1",
    "ext_item_size=512",
    "ext_item_age=10",
    "ext_low_ttl=0",
    "ext_recache_rate=2000",
    "ext_compact_under=1",
    "ext_drop_under=1",
    "ext_max_sleep=1000",
    "ext_max_frag=0.8",
    "ext_drop_unread",
];

/// Whether memcached starts (reports its port) with these extra arguments.
fn memcached_starts(bin: &std::path::Path, dir: &TempDir, extra: &[&str]) -> Result<(), String> {
    let port_file = dir.join("mc.port");
    let _ = std::fs::remove_file(&port_file);
    let mut child = Command::new(bin)
        .args([
            "-u",
            "root",
            "-l",
            "127.0.0.1",
            "-p",
            "-1",
            "-U",
            "0",
            "-t",
            "1",
        ])
        .args(extra)
        .env("MEMCACHED_PORT_FILENAME", &port_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn memcached");
    let deadline = Instant::now() + Duration::from_secs(10);
    let result = loop {
        if port_file.exists() {
            break Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            break Err(format!("{status}: {err}"));
        }
        if Instant::now() > deadline {
            break Err("no port reported in 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = child.kill();
    let _ = child.wait();
    result
}

#[test]
fn memcached_suboptions_are_accepted_with_one_warning() {
    let dir = TempDir::new("cli-subopts");
    let ext = dir.join("ext");
    let values: Vec<String> = SUBOPTIONS
        .iter()
        .map(|o| o.replace("EXT", ext.to_str().unwrap()))
        .collect();
    let names: Vec<&str> = SUBOPTIONS
        .iter()
        .map(|o| o.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        corecached::config::memcached::NO_EFFECT_SUBOPTIONS,
        "the table names each suboption corecached ignores, in its order"
    );
    match common::memcached_path() {
        None => eprintln!("memcached not installed: the suboptions are not checked against it"),
        Some(bin) => {
            for v in &values {
                // ext_path needs its page size first.
                let mut extra = vec!["-o"];
                let with_page;
                if v.starts_with("ext_path") {
                    with_page = format!("ext_page_size=64,{v}");
                    extra.push(&with_page);
                } else {
                    extra.push(v);
                }
                memcached_starts(&bin, &dir, &extra)
                    .unwrap_or_else(|e| panic!("memcached refuses -o {v}: {e}"));
            }
        }
    }
    let all = values.join(",");
    let mut args = vec!["-p", "0", "-l", "127.0.0.1", "-t", "1", "-o", &all];
    args.extend(as_nobody());
    let w = starts_and_serves(&args);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains(&format!("-o {}:", names.join(","))), "{w:?}");
}

/// At the default log level the server prints one line, once it serves: its version, the
/// protocol's, where it listens (the port -p 0 got), shards and CPUs, memory.
#[test]
fn the_start_up_line_says_what_serves() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (shards, cpu_list) = if cpus >= 2 {
        ("2 shards", "0-1")
    } else {
        ("1 shard", "0")
    };
    let t = if cpus >= 2 { "2" } else { "1" };
    let mut args = vec!["-p", "0", "-l", "127.0.0.1", "-t", t, "-m", "48"];
    args.extend(as_nobody());
    let mut server = start_exact(&args).unwrap_or_else(|f| panic!("{f:?}"));
    let addrs = server.tcp_addrs();
    assert_eq!(addrs.len(), 1, "{}", server.line);
    assert!(addrs[0].ip().is_loopback() && addrs[0].port() != 0);
    assert_eq!(
        server.line,
        format!(
            "corecached {} (memcached 1.6.18 protocol) serving tcp {}; {shards} on CPUs {cpu_list}; 48 MiB item memory (-m)",
            env!("CARGO_PKG_VERSION"),
            addrs[0]
        )
    );
    let lines = server.stderr_lines();
    assert_eq!(lines.len(), 1, "only the start-up line: {lines:?}");
    let mut s = TcpStream::connect(addrs[0]).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(exchange_on(&mut s, b"version\r\n"), b"VERSION 1.6.18\r\n");
    assert_eq!(server.stop(libc::SIGTERM), Some(0));
}

/// `version`, the binary protocol's version and `stats`'s version are memcached's bytes;
/// corecached's own version is `--version` and the last general stat.
#[test]
fn versions_are_memcached_s_and_ours_is_beside() {
    let server = CorecachedServer::start(&["--threads", "1"]);
    let ask = |addr| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let text = exchange_on(&mut s, b"version\r\n");
        let stats = String::from_utf8(exchange_on(&mut s, b"stats\r\n")).unwrap();
        let version = stats
            .lines()
            .find_map(|l| l.strip_prefix("STAT version "))
            .map(str::to_string);
        let last = stats.lines().rev().nth(1).map(str::to_string);
        let mut b = TcpStream::connect(addr).unwrap();
        b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        (text, version, last, binary_version(&mut b))
    };
    let (text, version, last, body) = ask(server.addr());
    assert_eq!(text, b"VERSION 1.6.18\r\n");
    assert_eq!(version.as_deref(), Some("1.6.18"));
    assert_eq!(body, b"1.6.18");
    assert_eq!(
        last,
        Some(format!(
            "STAT corecached_version {}",
            env!("CARGO_PKG_VERSION")
        ))
    );
    if let Some(mc) = common::MemcachedServer::start(&[]) {
        let (mtext, mversion, _, mbody) = ask(mc.addr());
        assert_eq!((text, version, body), (mtext, mversion, mbody));
    }
    let (code, out) = run(&["--version"]);
    assert_eq!(
        (code, out.trim()),
        (
            0,
            format!("corecached {}", env!("CARGO_PKG_VERSION")).as_str()
        )
    );
}

/// The binary protocol's version request (opcode 0x0b) on a fresh connection: the body
/// of the reply.
fn binary_version(b: &mut TcpStream) -> Vec<u8> {
    let mut req = [0u8; 24];
    req[0] = 0x80;
    req[1] = 0x0b;
    b.write_all(&req).unwrap();
    let mut head = [0u8; 24];
    b.read_exact(&mut head).unwrap();
    assert_eq!(&head[..2], &[0x81, 0x0b]);
    let len = u32::from_be_bytes(head[8..12].try_into().unwrap()) as usize;
    let mut body = vec![0u8; len];
    b.read_exact(&mut body).unwrap();
    body
}

/// A process the test started in the background; SIGKILLed on drop if still there.
struct Daemon(i32);

impl Drop for Daemon {
    fn drop(&mut self) {
        if alive(self.0) {
            // SAFETY: kill on the daemon this test started.
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
}

/// Whether a process runs (a zombie has ended).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s.rsplit(") ").next().and_then(|r| r.split(' ').next());
            state != Some("Z") && state != Some("X")
        })
        .unwrap_or(false)
}

/// Runs corecached (which returns at once, or once its daemon serves) within 20 s: its
/// exit status and stderr.
fn run_bounded(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_corecached"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run corecached");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    (status, err)
}

/// Debian's /etc/memcached.conf line (`-d -m 64 -p 11211 -u memcache -l 127.0.0.1 -P
/// /var/run/memcached/memcached.pid`, with -u nobody, a free port and a temp dir): the
/// command returns once the daemon serves; the daemon is in its own session with its
/// streams on /dev/null, runs as nobody, its pid in the pid file, which SIGTERM removes.
#[test]
fn debian_config_line_starts_a_daemon_with_a_pid_file() {
    let dir = TempDir::new("cli-daemon");
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        // The pid file is removed as -u's user, as Debian's /var/run/memcached is theirs.
        let nobody = std::process::Command::new("id")
            .args(["-u", "nobody"])
            .output()
            .unwrap();
        let uid: u32 = String::from_utf8_lossy(&nobody.stdout)
            .trim()
            .parse()
            .unwrap();
        std::os::unix::fs::chown(&dir.0, Some(uid), None).unwrap();
    }
    let pid_file = dir.join("memcached.pid");
    let mut attempt = 0;
    let (port, daemon) = loop {
        attempt += 1;
        let port = free_port().to_string();
        let mut args = vec![
            "-d",
            "-m",
            "64",
            "-p",
            &port,
            "-u",
            "nobody",
            "-l",
            "127.0.0.1",
        ];
        args.extend(["-P", pid_file.to_str().unwrap()]);
        let (code, err) = run_bounded(&args);
        if code == Some(71) && err.contains("Address already in use") && attempt < 3 {
            continue; // another test took the port in between
        }
        assert_eq!(code, Some(0), "{args:?}: {err}");
        let text = std::fs::read_to_string(&pid_file).expect("the pid file");
        let pid: i32 = text.trim().parse().unwrap_or_else(|_| panic!("{text:?}"));
        assert_eq!(text, format!("{pid}\n"));
        break (port, Daemon(pid));
    };
    let pid = daemon.0;
    assert!(alive(pid));
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit(") ").next().unwrap().split(' ').collect();
    // state, ppid, pgrp, session
    assert_eq!(fields[3], pid.to_string(), "its own session: {stat}");
    assert_ne!(fields[1], std::process::id().to_string(), "not our child");
    for fd in 0..3 {
        let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
        assert_eq!(target, std::path::Path::new("/dev/null"), "fd {fd}");
    }
    if root {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
        assert!(!uid.split_whitespace().skip(1).any(|u| u == "0"), "{uid}");
    }
    let mut s = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(exchange_on(&mut s, b"version\r\n"), b"VERSION 1.6.18\r\n");
    drop(s);
    // SAFETY: SIGTERM to the daemon this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(15);
    while (alive(pid) || pid_file.exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(pid), "the daemon ended on SIGTERM");
    assert!(
        !pid_file.exists(),
        "the pid file is removed on a clean stop"
    );
}

/// The daemon's start-up error reaches the command that started it, with its status.
#[test]
fn a_daemon_that_cannot_start_says_why() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, err) = run_bounded(&["-d", "-p", &port, "-l", "127.0.0.1", "-t", "1"]);
    assert_eq!(code, Some(71), "{err}");
    assert!(err.contains("Address already in use"), "{err}");
    assert_eq!(err.lines().count(), 1, "one sentence: {err}");
}
