//! `cache_memlimit N`: `-m` changed live. A shrink evicts down to the new bound through
//! the shards' eviction tasks while clients go on; a grow takes effect at once; values are
//! never corrupted; `limit_maxbytes` follows.

mod common;

use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{open_client, roundtrip, stats_on, CorecachedServer};

const MB: u64 = 1 << 20;

fn stat(s: &mut TcpStream, name: &str) -> u64 {
    let all: HashMap<String, String> = stats_on(s, "");
    all[name].parse().unwrap()
}

/// The value stored under `key`, so a reader can tell a corrupted one.
fn value_of(key: &str, len: usize) -> Vec<u8> {
    let seed = key
        .bytes()
        .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    (0..len)
        .map(|i| b'a' + (seed.wrapping_add(i as u8) % 26))
        .collect()
}

/// Sets `count` keys from `first` with 1000-byte values, then reads some back and checks
/// every value found.
fn write_and_check(s: &mut TcpStream, first: u64, count: u64) {
    if count > 5000 {
        for at in (first..first + count).step_by(5000) {
            write_and_check(s, at, 5000.min(first + count - at));
        }
        return;
    }
    let mut req = Vec::new();
    for i in first..first + count {
        let k = format!("key:{i}");
        req.extend_from_slice(format!("set {k} 0 0 1000 noreply\r\n").as_bytes());
        req.extend_from_slice(&value_of(&k, 1000));
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"mn\r\n");
    roundtrip(s, &req, b"MN\r\n");
    let mut req = Vec::new();
    for i in (first..first + count).step_by(17) {
        req.extend_from_slice(format!("get key:{i}\r\n").as_bytes());
    }
    req.extend_from_slice(b"mn\r\n");
    let reply = roundtrip(s, &req, b"MN\r\n");
    check_values(&reply);
}

/// Every `VALUE` in `reply` carries its key's value.
fn check_values(reply: &[u8]) {
    let mut rest = reply;
    while let Some(at) = rest.windows(6).position(|w| w == b"VALUE ") {
        rest = &rest[at..];
        let nl = rest.iter().position(|&b| b == b'\n').unwrap();
        let head = String::from_utf8_lossy(&rest[..nl - 1]).into_owned();
        let mut f = head.split(' ');
        let (key, len) = (
            f.nth(1).unwrap(),
            f.nth(1).unwrap().parse::<usize>().unwrap(),
        );
        let data = &rest[nl + 1..nl + 1 + len];
        assert_eq!(data, value_of(key, len).as_slice(), "{key} corrupted");
        rest = &rest[nl + 1 + len..];
    }
}

/// Polls `stats` until `ok` holds of `store_memory`, for at most `limit`.
fn wait_for(s: &mut TcpStream, what: &str, limit: Duration, ok: impl Fn(u64) -> bool) -> u64 {
    let deadline = Instant::now() + limit;
    loop {
        let used = stat(s, "store_memory");
        if ok(used) {
            return used;
        }
        assert!(Instant::now() < deadline, "{what}: store_memory {used}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn shrink_then_grow_under_load_evicts_down_to_the_bound_and_keeps_values_whole() {
    let server = CorecachedServer::start(&["-t", "2", "-m", "64"]);
    let addr = server.addr();
    let mut s = open_client(addr);
    assert_eq!(stat(&mut s, "limit_maxbytes"), 64 * MB);
    write_and_check(&mut s, 0, 80_000);
    let full = stat(&mut s, "store_memory");
    assert!(full > 48 * MB, "filled: {full}");
    // Clients keep writing and reading while the limit changes.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut c = open_client(addr);
            let mut next = 1_000_000;
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                write_and_check(&mut c, next, 200);
                next += 200;
            }
            next
        })
    };
    let evictions = stat(&mut s, "evictions");
    assert_eq!(
        roundtrip(&mut s, b"cache_memlimit 16\r\n", b"\r\n"),
        b"OK\r\n"
    );
    assert_eq!(stat(&mut s, "limit_maxbytes"), 16 * MB);
    let used = wait_for(&mut s, "shrink to 16 MB", Duration::from_secs(20), |u| {
        u <= 16 * MB
    });
    assert!(stat(&mut s, "evictions") > evictions);
    // It holds while the load goes on.
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            stat(&mut s, "store_memory") <= 16 * MB,
            "after the shrink: {used}"
        );
    }
    // Grow: the writes fill past the old bound.
    assert_eq!(
        roundtrip(&mut s, b"cache_memlimit 48\r\n", b"\r\n"),
        b"OK\r\n"
    );
    assert_eq!(stat(&mut s, "limit_maxbytes"), 48 * MB);
    write_and_check(&mut s, 2_000_000, 40_000);
    wait_for(&mut s, "grow to 48 MB", Duration::from_secs(20), |u| {
        u > 24 * MB && u <= 48 * MB
    });
    stop.store(true, Ordering::Relaxed);
    assert!(load.join().unwrap() > 1_000_000);
    // Everything still readable is whole.
    let mut req = Vec::new();
    for i in (2_000_000..2_040_000).step_by(3) {
        req.extend_from_slice(format!("get key:{i}\r\n").as_bytes());
    }
    req.extend_from_slice(b"mn\r\n");
    check_values(&roundtrip(&mut s, &req, b"MN\r\n"));
}

#[test]
fn limits_a_shard_cannot_hold_are_refused() {
    // 64 shards' worth of segments cannot come out of 8 MB with 4 MB items... but two
    // shards of 4 MB segments (-I 4m) can not hold two segments each in 8 MB either.
    let server = CorecachedServer::start(&["-t", "2", "-m", "64", "-I", "4m"]);
    let mut s = open_client(server.addr());
    assert_eq!(
        roundtrip(&mut s, b"cache_memlimit 8\r\n", b"\r\n"),
        b"MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust\r\n"
    );
    assert_eq!(stat(&mut s, "limit_maxbytes"), 64 * MB);
    // More than the machine's memory cannot be reserved.
    assert_eq!(
        roundtrip(&mut s, b"cache_memlimit 999999999\r\n", b"\r\n"),
        b"MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust\r\n"
    );
    assert_eq!(
        roundtrip(&mut s, b"cache_memlimit 32\r\n", b"\r\n"),
        b"OK\r\n"
    );
    assert_eq!(stat(&mut s, "limit_maxbytes"), 32 * MB);
}
