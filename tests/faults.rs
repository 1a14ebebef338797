//! Faults between shards (the `fault-injection` feature, which `cargo test` turns on):
//! a slow shard, replies reordered between shards, channels of one batch, a dying shard;
//! and persistence's disk that fails its writes.
#![cfg(feature = "fault-injection")]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::CorecachedServer;
use corecached::shard::shard_for;

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

fn read_exact_reply(s: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    s.read_exact(&mut buf)
        .expect("whole reply before the timeout");
    buf
}

/// `n` keys with the given prefix that live on `shard` of 2.
fn keys_on(shard: usize, prefix: &str, n: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("{prefix}{i}"))
        .filter(|k| shard_for(k.as_bytes(), 2) == shard)
        .take(n)
        .collect()
}

#[test]
fn replies_stay_complete_and_ordered_under_reordering_delays_and_full_channels() {
    let server = CorecachedServer::start(&[
        "--threads",
        "2",
        "--fault-reorder",
        "--fault-channel-size",
        "1",
        "--fault-slow-shard",
        "1",
        "--fault-delay-ms",
        "1",
    ]);
    eight_clients_over_both_shards(clients_on_both_shards(server.addr(), 8));
}

/// Channels of one batch and no other fault: busy shards take their peers' batches between
/// connections' turns too (`Shard::take_peer_batches`), and a reply that finds its channel
/// full waits in a task of its own. Every reply still comes back whole and in order.
#[test]
fn replies_stay_complete_and_ordered_with_full_channels_and_batches_taken_between_turns() {
    let server = CorecachedServer::start(&["--threads", "2", "--fault-channel-size", "1"]);
    let addr = server.addr();
    eight_clients_over_both_shards(clients_on_both_shards(addr, 8));
    let text = shard_stats(addr);
    let sum = |name: &str| -> u64 { per_shard(&text, name).iter().sum() };
    assert!(sum("peer_batches") > 0, "{text}");
    assert!(sum("peer_batches_between_turns") > 0, "{text}");
}

/// `stats shards`, read on a connection of its own.
fn shard_stats(addr: SocketAddr) -> String {
    let mut s = connect(addr);
    s.write_all(b"stats shards\r\n").unwrap();
    let mut reply = Vec::new();
    let mut b = [0u8; 4096];
    while !reply.ends_with(b"END\r\n") {
        let n = s.read(&mut b).unwrap();
        assert!(n > 0, "connection closed during stats");
        reply.extend_from_slice(&b[..n]);
    }
    String::from_utf8(reply).unwrap()
}

/// Statistic `name` of each shard, in shard order, from a `stats shards` reply.
fn per_shard(text: &str, name: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("STAT shard"))
        .filter_map(|l| l.split_once(' '))
        .filter(|(k, _)| k.ends_with(&format!(":{name}")))
        .map(|(_, v)| v.parse::<u64>().unwrap())
        .collect()
}

/// `n` connections, at least two of them on each of the server's two shards. The kernel
/// spreads connections over the shards' listening sockets by their addresses, so all of a
/// few can land on one shard; then every batch goes one way and the shard without
/// connections never takes one between turns. Connections are opened again until both
/// shards hold some (bounded: 50 tries).
fn clients_on_both_shards(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    for _ in 0..50 {
        let conns: Vec<TcpStream> = (0..n).map(|_| connect(addr)).collect();
        // Wait (bounded) until the shards hold exactly these and the stats connection:
        // every one accepted, earlier tries' and stats connections closed.
        let deadline = Instant::now() + Duration::from_secs(10);
        let per = loop {
            let per = per_shard(&shard_stats(addr), "curr_connections");
            if per.iter().sum::<u64>() as usize == n + 1 || Instant::now() > deadline {
                break per;
            }
            std::thread::yield_now();
        };
        assert_eq!(per.len(), 2, "two shards");
        if per.iter().all(|&c| c >= 2) {
            return conns;
        }
    }
    panic!("50 tries of {n} connections never left two on each shard");
}

/// Each connection makes 10 rounds of 20 sets, gets and incrs over keys on both shards in
/// one write; every reply must come back whole and in request order.
fn eight_clients_over_both_shards(conns: Vec<TcpStream>) {
    std::thread::scope(|scope| {
        for (c, mut s) in conns.into_iter().enumerate() {
            scope.spawn(move || {
                let a = keys_on(0, &format!("c{c}-a"), 20);
                let b = keys_on(1, &format!("c{c}-b"), 20);
                for round in 0..10 {
                    let mut req = Vec::new();
                    let mut want = Vec::new();
                    for i in 0..20 {
                        for k in [&a[i], &b[i]] {
                            let v = format!("{round}-{k}");
                            req.extend(format!("set {k} 0 0 {}\r\n{v}\r\n", v.len()).bytes());
                            want.extend(b"STORED\r\n");
                        }
                        req.extend(format!("get {} {}\r\n", b[i], a[i]).bytes());
                        for k in [&b[i], &a[i]] {
                            let v = format!("{round}-{k}");
                            want.extend(format!("VALUE {k} 0 {}\r\n{v}\r\n", v.len()).bytes());
                        }
                        want.extend(b"END\r\n");
                        req.extend(format!("incr {} 1\r\n", b[i]).bytes());
                        want.extend(
                            b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
                        );
                    }
                    s.write_all(&req).unwrap();
                    let got = read_exact_reply(&mut s, want.len());
                    assert!(got == want, "client {c} round {round}: replies differ");
                }
            });
        }
    });
}

#[test]
fn a_slow_shard_does_not_stall_connections_whose_keys_live_elsewhere() {
    let server = CorecachedServer::start(&[
        "--threads",
        "2",
        "--fault-slow-shard",
        "1",
        "--fault-delay-ms",
        "400",
    ]);
    let addr = server.addr();
    let fast = keys_on(0, "fast", 50);
    let slow = keys_on(1, "slow", 50);
    // Clients keep the slow shard busy with forwarded work.
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (slow, stop) = (&slow, &stop);
            scope.spawn(move || {
                let mut s = connect(addr);
                let mut i = t;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 200 {
                    s.write_all(format!("get {}\r\n", slow[i % slow.len()]).as_bytes())
                        .unwrap();
                    let mut b = [0u8; 64];
                    let n = s.read(&mut b).unwrap();
                    assert!(b[..n].ends_with(b"END\r\n"));
                    i += 4;
                }
            });
        }
        // A client whose keys all live on shard 0 is served at full speed meanwhile.
        let mut s = connect(addr);
        let started = Instant::now();
        let mut slowest = Duration::ZERO;
        for (i, k) in fast.iter().enumerate().cycle().take(300) {
            let t0 = Instant::now();
            s.write_all(format!("set {k} 0 0 1\r\n{}\r\n", i % 10).as_bytes())
                .unwrap();
            assert_eq!(read_exact_reply(&mut s, 8), b"STORED\r\n");
            slowest = slowest.max(t0.elapsed());
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(
            slowest < Duration::from_millis(200),
            "a request for shard 0 waited {slowest:?} behind the 400 ms shard"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    });
}

#[test]
fn a_shard_that_dies_ends_the_process_with_an_error() {
    let mut server = CorecachedServer::start(&["--threads", "2", "--fault-panic-key", "boom"]);
    let mut s = connect(server.addr());
    let _ = s.write_all(b"get boom\r\n");
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(
        matches!(status, Some(code) if code != 0),
        "exit status {status:?}"
    );
    let log = server.stderr_log();
    assert!(
        log.contains("failed"),
        "no clear line about the dead shard:\n{log}"
    );
}

/// Persistence under a disk that fails every write for its first two seconds (issue 23):
/// writes are acknowledged and served from memory, the failures counted in
/// `ep_item_commit_failed`; once the disk works, the journal is written, and a restart
/// after `kill -9` serves every item.
#[test]
fn persistence_retries_through_disk_errors_and_loses_nothing() {
    let dir = std::env::temp_dir().join(format!("corecached-faults-disk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap().to_string();
    let server = CorecachedServer::start(&[
        "--threads",
        "2",
        "--data-dir",
        &d,
        "--fault-disk-errors-ms",
        "2000",
    ]);
    let mut s = connect(server.addr());
    let keys: Vec<String> = (0..200).map(|i| format!("disk:{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        s.write_all(format!("set {k} {i} 0 5\r\nv{i:04}\r\n").as_bytes())
            .unwrap();
        assert_eq!(read_exact_reply(&mut s, 8), b"STORED\r\n");
    }
    let stat = |s: &mut TcpStream, name: &str| -> u64 {
        s.write_all(b"stats\r\n").unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        while !buf.ends_with(b"END\r\n") {
            let n = s.read(&mut chunk).expect("stats reply");
            assert!(n > 0);
            buf.extend_from_slice(&chunk[..n]);
        }
        let text = String::from_utf8_lossy(&buf).to_string();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("STAT {name} ")))
            .unwrap_or_else(|| panic!("no {name} in {text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    // Failing: counted, and served from memory meanwhile.
    let deadline = Instant::now() + Duration::from_secs(10);
    while stat(&mut s, "ep_item_commit_failed") == 0 {
        assert!(Instant::now() < deadline, "no failed commit counted");
        std::thread::sleep(Duration::from_millis(20));
    }
    s.write_all(b"get disk:7\r\n").unwrap();
    let want = b"VALUE disk:7 7 5\r\nv0007\r\nEND\r\n";
    assert_eq!(read_exact_reply(&mut s, want.len()), want);
    // The disk works again: everything is written.
    let deadline = Instant::now() + Duration::from_secs(20);
    while stat(&mut s, "ep_total_persisted") < keys.len() as u64 {
        assert!(
            Instant::now() < deadline,
            "the journal was not written after the faults"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server); // kill -9
    let server = CorecachedServer::start(&["--threads", "2", "--data-dir", &d]);
    let mut s = connect(server.addr());
    for (i, k) in keys.iter().enumerate() {
        s.write_all(format!("get {k}\r\n").as_bytes()).unwrap();
        let want = format!("VALUE {k} {i} 5\r\nv{i:04}\r\nEND\r\n");
        assert_eq!(
            String::from_utf8_lossy(&read_exact_reply(&mut s, want.len())),
            want
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The journal files of `dir`, by name (which orders them by seq).
fn journal_files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".log"))
        .collect();
    v.sort();
    v
}

/// A compaction removes the files its snapshot replaces, oldest first: a crash between two
/// removals leaves the newest records, so a key deleted before the compaction stays
/// deleted. (The snapshot lists only live items: had the file with the delete gone and
/// the one with the key's set stayed, the key would come back.)
#[test]
fn a_crash_while_a_compaction_removes_files_brings_no_deleted_key_back() {
    let dir = std::env::temp_dir().join(format!("corecached-faults-rm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap().to_string();
    let args = ["-t", "1", "-m", "256", "-I", "2m", "--data-dir", &d];
    // A first run sets the keys: its file holds their sets.
    let server = CorecachedServer::start(&args);
    let mut s = connect(server.addr());
    let gone: Vec<String> = (0..10).map(|i| format!("gone{i}")).collect();
    for k in &gone {
        s.write_all(format!("set {k} 0 0 1\r\nx\r\n").as_bytes())
            .unwrap();
        assert_eq!(read_exact_reply(&mut s, 8), b"STORED\r\n");
    }
    let mut server = server;
    assert_eq!(
        server.signal_and_wait(libc::SIGTERM, Duration::from_secs(20)),
        Some(0)
    );
    assert_eq!(journal_files(&dir).len(), 1);
    // A second run deletes them: its own file holds the deletes.
    let mut faulty = args.to_vec();
    faulty.push("--fault-kill-removing");
    let mut server = CorecachedServer::start(&faulty);
    let mut s = connect(server.addr());
    for k in &gone {
        s.write_all(format!("delete {k}\r\n").as_bytes()).unwrap();
        assert_eq!(read_exact_reply(&mut s, 9), b"DELETED\r\n");
    }
    let big = vec![b'b'; 1 << 20];
    let set_big = |s: &mut TcpStream, i: usize| -> bool {
        let mut req = format!("set big{} {i} 0 {}\r\n", i % 2, big.len()).into_bytes();
        req.extend_from_slice(&big);
        req.extend_from_slice(b"\r\n");
        let mut reply = [0u8; 8];
        s.write_all(&req).is_ok() && s.read_exact(&mut reply).is_ok() && &reply == b"STORED\r\n"
    };
    let mut i = 0;
    // More, until the files are twice the live data and 64 MiB over: a compaction writes
    // its snapshot, and the fault kills the server after its first removal.
    let mut left = 200;
    while set_big(&mut s, i) {
        i += 1;
        left -= 1;
        assert!(left > 0, "no compaction: {:?}", journal_files(&dir));
    }
    assert!(
        server.wait_exit(Duration::from_secs(20)).is_some(),
        "the fault did not end the server"
    );
    let files = journal_files(&dir);
    let server = CorecachedServer::start(&args);
    let mut s = connect(server.addr());
    for k in &gone {
        s.write_all(format!("get {k}\r\n").as_bytes()).unwrap();
        assert_eq!(
            read_exact_reply(&mut s, 5),
            b"END\r\n",
            "{k} came back from {files:?}"
        );
    }
    // The crash came between removals: the oldest file removed, the deletes' kept.
    assert!(files.len() >= 3, "{files:?}");
    assert_eq!(files[0], "g1-s0-of-1-000002.log", "{files:?}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
