//! The store through the server: the memory limit under a 10x fill, proactive TTL
//! reclaim, `-M`, eviction, and `stats tasks`.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{open_client, roundtrip, stats_on, CorecachedServer};

fn stats(addr: SocketAddr, group: &str) -> HashMap<String, String> {
    stats_on(&mut open_client(addr), group)
}

fn stat(addr: SocketAddr, name: &str) -> u64 {
    stats(addr, "")[name].parse().unwrap()
}

/// Stores `count` values of `size` bytes under `prefix{i}` with one pipelined write per
/// 100 items and checks every reply.
fn fill(addr: SocketAddr, prefix: &str, count: usize, size: impl Fn(usize) -> usize, ttl: u32) {
    let mut s = open_client(addr);
    for start in (0..count).step_by(100) {
        let mut req = Vec::new();
        let end = (start + 100).min(count);
        for i in start..end {
            let n = size(i);
            req.extend_from_slice(format!("set {prefix}{i} 0 {ttl} {n}\r\n").as_bytes());
            req.resize(req.len() + n, b'a' + (i % 26) as u8);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"mn\r\n");
        let reply = roundtrip(&mut s, &req, b"MN\r\n");
        let stored = reply.windows(8).filter(|w| w == b"STORED\r\n").count();
        assert_eq!(stored, end - start, "{}", String::from_utf8_lossy(&reply));
    }
}

#[test]
fn memory_limit_holds_under_a_ten_times_fill_of_mixed_sizes() {
    let server = CorecachedServer::start(&["--threads", "2", "-m", "8"]);
    let addr = server.addr();
    let baseline = server.rss();
    // 80 MB in all, value sizes from 1 byte to nearly -I, in four parallel streams.
    let sizes = [1usize, 100, 3_000, 40_000, 300_000, 1_000_000];
    let per_stream = 80 << 20;
    std::thread::scope(|scope| {
        for t in 0..4 {
            scope.spawn(move || {
                let mut written = 0;
                let mut i = 0;
                let mut keys = 0;
                while written < per_stream / 4 {
                    let n = sizes[(i + t) % sizes.len()];
                    written += n;
                    i += 1;
                    keys += 1;
                }
                fill(
                    addr,
                    &format!("t{t}-"),
                    keys,
                    |i| sizes[(i + t) % sizes.len()],
                    0,
                );
            });
        }
    });
    let st = stats(addr, "");
    let limit: usize = st["limit_maxbytes"].parse().unwrap();
    let store: usize = st["store_memory"].parse().unwrap();
    assert_eq!(limit, 8 << 20);
    assert!(
        store <= limit,
        "store_memory {store} over limit_maxbytes {limit}"
    );
    assert!(st["evictions"].parse::<u64>().unwrap() > 0);
    let rss = server.rss();
    // The stated fixed overhead: the process at start plus 4 MiB (connections, buffers).
    assert!(
        rss <= baseline + limit + (4 << 20),
        "resident {rss} bytes: over {baseline} at start + {limit} limit + 4 MiB"
    );
    // A full store still takes new items of any size and returns them.
    let mut s = open_client(addr);
    for n in [1usize, 500_000] {
        let mut req = format!("set after-{n} 0 0 {n}\r\n").into_bytes();
        req.resize(req.len() + n, b'z');
        req.extend_from_slice(format!("\r\nget after-{n}\r\n").as_bytes());
        let reply = roundtrip(&mut s, &req, b"END\r\n");
        let head = format!("STORED\r\nVALUE after-{n} 0 {n}\r\n");
        assert!(
            reply.starts_with(head.as_bytes()),
            "{n}-byte item after the fill"
        );
    }
}

#[test]
fn expired_items_are_reclaimed_without_any_read() {
    let server = CorecachedServer::start(&["--threads", "1", "-m", "64"]);
    let addr = server.addr();
    fill(addr, "ttl", 20_000, |_| 100, 2);
    assert_eq!(stat(addr, "curr_items"), 20_000);
    // The pager must bring both to zero on its own; wait for that condition (bounded).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let st = stats(addr, "");
        let (items, bytes) = (st["curr_items"].clone(), st["bytes"].clone());
        if items == "0" && bytes == "0" {
            assert_eq!(st["reclaimed"], "20000");
            assert_eq!(st["expired_unfetched"], "20000");
            assert_eq!(st["cmd_get"], "0", "nothing read the items");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after 15 s: curr_items {items}, bytes {bytes}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn no_evictions_flag_answers_out_of_memory() {
    let server = CorecachedServer::start(&["--threads", "1", "-m", "4", "-M"]);
    let addr = server.addr();
    let mut s = open_client(addr);
    let value = vec![b'x'; 100_000];
    let mut refused = None;
    for i in 0..100 {
        let mut req = format!("set big{i} 0 0 {}\r\n", value.len()).into_bytes();
        req.extend_from_slice(&value);
        req.extend_from_slice(b"\r\n");
        let reply = roundtrip(&mut s, &req, b"\r\n");
        if reply != b"STORED\r\n" {
            assert_eq!(reply, b"SERVER_ERROR out of memory storing object\r\n");
            refused = Some(i);
            break;
        }
    }
    let refused = refused.expect("a 4 MB store refuses 10 MB");
    assert!(refused >= 20, "refused after {refused} items");
    assert_eq!(stat(addr, "evictions"), 0);
    // Nothing was evicted: the first item is still there, and the connection works.
    let first = roundtrip(&mut s, b"get big0\r\n", b"END\r\n");
    assert!(first.starts_with(b"VALUE big0 0 100000\r\n"));
}

/// `stats shards` carries each shard's executor counts, which its stats task adds up from
/// glommio's (glommio hands over its counts since the last call): scheduler runs and tasks
/// run, both counted and both only growing.
#[test]
fn stats_shards_counts_scheduler_runs_and_tasks() {
    let server = CorecachedServer::start(&["--threads", "2"]);
    let addr = server.addr();
    let counts = |shards: &HashMap<String, String>, name: &str| -> Vec<u64> {
        (0..2)
            .map(|s| shards[&format!("shard{s}:{name}")].parse::<u64>().unwrap())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let first = loop {
        let shards = stats(addr, "shards");
        let (passes, tasks) = (
            counts(&shards, "shard_scheduler_runs"),
            counts(&shards, "shard_tasks_run"),
        );
        if passes.iter().chain(&tasks).all(|&n| n > 0) {
            break (passes, tasks);
        }
        assert!(
            Instant::now() < deadline,
            "no counts after 10 s: {shards:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // The stats task adds at most once a second: wait for both shards' next additions.
    loop {
        let shards = stats(addr, "shards");
        let (passes, tasks) = (
            counts(&shards, "shard_scheduler_runs"),
            counts(&shards, "shard_tasks_run"),
        );
        for s in 0..2 {
            assert!(
                passes[s] >= first.0[s] && tasks[s] >= first.1[s],
                "{first:?} then {shards:?}"
            );
        }
        if (0..2).all(|s| passes[s] > first.0[s] && tasks[s] > first.1[s]) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "counts stopped at {first:?}: {shards:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn stats_tasks_lists_the_engine_tasks_of_every_shard() {
    let server = CorecachedServer::start(&["--threads", "2"]);
    let addr = server.addr();
    fill(addr, "exp", 200, |_| 10, 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let tasks = stats(addr, "tasks");
        let pagers: Vec<&String> = (0..2)
            .filter_map(|s| tasks.get(&format!("shard{s}:expiry_pager")))
            .collect();
        assert_eq!(pagers.len(), 2, "{tasks:?}");
        for task in ["eviction", "stats_upkeep"] {
            for shard in 0..2 {
                assert!(
                    tasks.contains_key(&format!("shard{shard}:{task}")),
                    "{tasks:?}"
                );
            }
        }
        for p in &pagers {
            assert!(p.contains("queue=NonIO"), "{p}");
        }
        let ran = pagers.iter().all(|p| !p.contains(" runs=0 "));
        if ran && stat(addr, "curr_items") == 0 {
            // Per-shard gauges: the two shards' items add up to the total.
            let shards = stats(addr, "shards");
            let items: u64 = (0..2)
                .map(|s| {
                    shards[&format!("shard{s}:curr_items")]
                        .parse::<u64>()
                        .unwrap()
                })
                .sum();
            assert_eq!(items, 0);
            assert!(shards.contains_key("shard1:shard_cpu_user_us"));
            break;
        }
        assert!(Instant::now() < deadline, "pagers never ran: {pagers:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
