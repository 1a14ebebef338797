//! Issue 20, item 7: small `-m` and many shards start and serve, and locked memory fits
//! `ulimit -l`. At 3f4a00d `-M -m 2` (memcached's t/dash-M.t) and `-t 64 -m 64` were
//! refused, and 64 shards asked for 20 MiB of locked memory.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{open_client, roundtrip, stats_on, CorecachedServer, Rng};
use corecached::shard::shard_for;
use corecached::store::memcached_item_size;

/// One key owned by each of `shards` shards.
fn key_per_shard(shards: usize) -> Vec<String> {
    let mut keys: Vec<Option<String>> = vec![None; shards];
    for i in 0..100_000 {
        let k = format!("key:{i}");
        let s = shard_for(k.as_bytes(), shards);
        keys[s].get_or_insert(k);
        if keys.iter().all(Option::is_some) {
            break;
        }
    }
    keys.into_iter()
        .map(|k| k.expect("a key for every shard"))
        .collect()
}

/// Sets and gets a distinct value on every shard, and the largest item `-I` allows.
fn serves_every_shard(s: &mut TcpStream, shards: usize, item_size_max: usize) {
    for (i, key) in key_per_shard(shards).iter().enumerate() {
        let value = format!("value-{i}");
        let set = format!("set {key} 0 0 {}\r\n{value}\r\n", value.len());
        assert_eq!(
            roundtrip(s, set.as_bytes(), b"\r\n"),
            b"STORED\r\n",
            "{key}"
        );
        let got = roundtrip(s, format!("get {key}\r\n").as_bytes(), b"END\r\n");
        let want = format!("VALUE {key} 0 {}\r\n{value}\r\nEND\r\n", value.len());
        assert_eq!(got, want.as_bytes(), "{key} on shard {i}");
    }
    let key = "largest";
    let vlen = item_size_max - memcached_item_size(key.len(), 0, 0, true);
    assert_eq!(memcached_item_size(key.len(), 0, vlen, true), item_size_max);
    let value: Vec<u8> = (0..vlen).map(|i| b'a' + (i % 26) as u8).collect();
    let mut set = format!("set {key} 0 0 {vlen}\r\n").into_bytes();
    set.extend_from_slice(&value);
    set.extend_from_slice(b"\r\n");
    assert_eq!(roundtrip(s, &set, b"\r\n"), b"STORED\r\n");
    let got = roundtrip(s, format!("get {key}\r\n").as_bytes(), b"END\r\n");
    let mut want = format!("VALUE {key} 0 {vlen}\r\n").into_bytes();
    want.extend_from_slice(&value);
    want.extend_from_slice(b"\r\nEND\r\n");
    assert!(got == want, "the largest item came back changed");
    // One byte more is over -I, as memcached counts it.
    let set = format!("set {key} 0 0 {}\r\n{}\r\n", vlen + 1, "b".repeat(vlen + 1));
    assert_eq!(
        roundtrip(s, set.as_bytes(), b"\r\n"),
        b"SERVER_ERROR object too large for cache\r\n"
    );
}

#[test]
fn issue20_t64_m64_starts_with_the_shards_its_memory_holds() {
    let server = CorecachedServer::start_expecting(&["-t", "64", "-m", "64"], 31);
    let log = server.stderr_log();
    assert!(
        log.contains("too little for 64 shards") && log.contains("so 31 shards serve"),
        "{log}"
    );
    let mut s = open_client(server.addr());
    let st = stats_on(&mut s, "settings");
    for (k, v) in [
        ("num_threads", "31"),
        ("maxbytes", "67108864"),
        ("segment_size", "1048576"),
        ("item_size_max", "1048576"),
    ] {
        assert_eq!(st[k], v, "stats settings {k}");
    }
    serves_every_shard(&mut s, 31, 1 << 20);
}

#[test]
fn issue20_64_shards_start_and_serve_on_two_cpus() {
    let server = CorecachedServer::start_expecting(&["-t", "64", "-m", "64", "-I", "256k"], 64);
    // No warning but the one about running as root (the tests run as root here).
    assert!(
        !server
            .stderr_log()
            .lines()
            .any(|l| l.contains("WARN") && !l.contains("running as root")),
        "{}",
        server.stderr_log()
    );
    let mut s = open_client(server.addr());
    let st = stats_on(&mut s, "settings");
    assert_eq!(st["num_threads"], "64");
    assert_eq!(st["segment_size"], "262144");
    serves_every_shard(&mut s, 64, 256 << 10);
}

/// memcached's t/dash-M.t: `-M -m 2` stores 8 KiB values until memory is full, then
/// refuses the next one, and every value stored reads back whole.
#[test]
fn issue20_dash_m_with_m2_starts_fills_and_keeps_every_value() {
    let server = CorecachedServer::start_expecting(&["-M", "-m", "2"], 1);
    let mut s = open_client(server.addr());
    let value = "B".repeat(8192);
    let set = |s: &mut TcpStream, key: usize| {
        let req = format!("set dash{key} 0 0 {}\r\n{value}\r\n", value.len());
        roundtrip(s, req.as_bytes(), b"\r\n")
    };
    let mut stored = 0;
    loop {
        let reply = set(&mut s, stored);
        if reply != b"STORED\r\n" {
            assert_eq!(reply, b"SERVER_ERROR out of memory storing object\r\n");
            break;
        }
        stored += 1;
        assert!(stored < 1000, "-m 2 never filled");
    }
    // One 1 MiB segment (the largest item's) of 8 KiB values, less their headers.
    assert!(stored >= 100, "only {stored} values stored");
    assert_eq!(
        set(&mut s, stored + 1),
        b"SERVER_ERROR out of memory storing object\r\n"
    );
    for key in 0..stored {
        let got = roundtrip(&mut s, format!("get dash{key}\r\n").as_bytes(), b"END\r\n");
        let want = format!("VALUE dash{key} 0 8192\r\n{value}\r\nEND\r\n");
        assert!(got == want.as_bytes(), "dash{key} did not read back whole");
    }
}

/// The same smallest store, evicting: every read is the value written or a miss.
#[test]
fn issue20_m2_evicting_serves_exact_values() {
    let server = CorecachedServer::start_expecting(&["-m", "2", "-t", "2"], 1);
    let mut s = open_client(server.addr());
    let value = |key: u64| format!("{key:08}").repeat(1024);
    let mut rng = Rng(20);
    let mut written = 0u64;
    for _ in 0..2000 {
        if rng.below(3) > 0 || written == 0 {
            let v = value(written);
            let req = format!("set k{written} 0 0 {}\r\n{v}\r\n", v.len());
            assert_eq!(roundtrip(&mut s, req.as_bytes(), b"\r\n"), b"STORED\r\n");
            written += 1;
        } else {
            let key = rng.below(written);
            let got = roundtrip(&mut s, format!("get k{key}\r\n").as_bytes(), b"END\r\n");
            let hit = format!("VALUE k{key} 0 8192\r\n{}\r\nEND\r\n", value(key));
            assert!(
                got == b"END\r\n" || got == hit.as_bytes(),
                "k{key}: {}",
                common::show_short(&got, 80)
            );
        }
    }
    let last = written - 1;
    let got = roundtrip(&mut s, format!("get k{last}\r\n").as_bytes(), b"END\r\n");
    assert!(got.starts_with(format!("VALUE k{last} ").as_bytes()));
    let st = stats_on(&mut s, "");
    assert!(st["evictions"].parse::<u64>().unwrap() > 0, "{st:?}");
}

// ---------------------------------------------------------------------------
// Locked memory

/// A corecached process started as an unprivileged user (so without CAP_IPC_LOCK) under
/// `ulimit -l` of `limit` bytes; killed on drop.
struct Unprivileged {
    child: Child,
    addr: SocketAddr,
    log: String,
}

impl Drop for Unprivileged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CAP_IPC_LOCK (linux/capability.h).
const CAP_IPC_LOCK: u64 = 14;

/// Starts it as user `uid` and waits for `shards` listening shards; None (with the reason
/// printed) when this machine cannot run it so. Locked memory is counted per user, so each
/// run takes a user of its own: none inherits what another has just released.
fn start_unprivileged(args: &[&str], limit: u64, shards: usize, uid: u32) -> Option<Unprivileged> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_corecached"));
    cmd.args(["-p", "0", "-l", "127.0.0.1", "-v"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: prctl and setrlimit are async-signal-safe; the child execs right after.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            // A user other than root loses every capability at setuid.
            if libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim) != 0
                || libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(uid) != 0
                || libc::setuid(uid) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("skipped: cannot start the server as user {uid} under ulimit -l ({e})");
            return None;
        }
    };
    let caps = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let eff = caps
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap();
    if eff & (1 << CAP_IPC_LOCK) != 0 {
        let _ = child.kill();
        let _ = child.wait();
        eprintln!("skipped: the server kept CAP_IPC_LOCK, so ulimit -l would not apply");
        return None;
    }
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut log, mut seen, mut port) = (String::new(), 0, 0u16);
    while seen < shards {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            let status = child.try_wait();
            let _ = child.kill();
            panic!(
                "{args:?}: {seen} of {shards} shards listening (exit: {status:?}); stderr:\n{log}"
            );
        };
        if let Some(p) = line.split("listening on 127.0.0.1:").nth(1) {
            port = p.trim().parse().unwrap();
            seen += 1;
        }
        log.push_str(&line);
        log.push('\n');
    }
    Some(Unprivileged {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        log,
    })
}

/// The process's pinned memory (io_uring's registered buffers), in bytes.
fn vm_pin(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmPin:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmPin in /proc/PID/status");
    kb << 10
}

#[test]
fn issue20_many_shards_fit_8_mib_of_locked_memory() {
    const LIMIT: u64 = 8 << 20;
    // The defaults on a 256-CPU host (31 shards serve -m 64), and more shards than 8 MiB
    // can lock (each locks glommio's three rings with 64 KiB of I/O memory each, and its
    // network ring: 256 KiB): 31 serve, with a warning.
    for (args, shards, warning, uid, item_size_max) in [
        (&["-t", "256"][..], 31, None, 64_020, 1 << 20),
        (
            &["-t", "64", "-m", "64", "-I", "256k"][..],
            31,
            Some("so 31 of 64 shards serve"),
            64_021,
            256 << 10,
        ),
    ] {
        let Some(server) = start_unprivileged(args, LIMIT, shards, uid) else {
            return;
        };
        let pinned = vm_pin(server.child.id());
        assert!(pinned <= LIMIT, "{args:?}: {pinned} bytes pinned");
        assert!(!server.log.contains("glommio"), "{args:?}:\n{}", server.log);
        match warning {
            None => assert!(!server.log.contains("locked memory"), "{}", server.log),
            Some(w) => assert!(server.log.contains(w), "{}", server.log),
        }
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let st = stats_on(&mut s, "settings");
        assert_eq!(st["num_threads"], shards.to_string());
        serves_every_shard(&mut s, shards, item_size_max);
    }
}
