//! Requests whose keys live on different shards (`--threads 2`): pipelined batches
//! and multi-gets must come back complete and in request order.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use common::{exchange, show_short, stats_on, CorecachedServer};
use corecached::shard::shard_for;

const SHARDS: usize = 2;

/// A small deterministic generator (no dependencies): xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `n` keys named `<prefix><i>`, checked to cover every shard.
fn keys(prefix: &str, n: usize) -> Vec<String> {
    let keys: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    assert_covers_all_shards(keys.iter().map(String::as_str), "keys");
    keys
}

fn assert_covers_all_shards<'a>(keys: impl Iterator<Item = &'a str>, what: &str) {
    let mut seen = [0usize; SHARDS];
    for k in keys {
        seen[shard_for(k.as_bytes(), SHARDS)] += 1;
    }
    assert!(
        seen.iter().all(|&n| n > 0),
        "{what} do not cover every shard: {seen:?} keys per shard"
    );
}

fn value_reply(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.extend_from_slice(format!("VALUE {key} 0 {}\r\n", value.len()).as_bytes());
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Builds a pipelined batch of `ops` commands over keys on both shards and the
/// reply sequence a memcached-compatible server must give, from a model of the
/// cache. Values are decimal numbers that only grow (incr without wrap-around),
/// so the model never needs memcached's in-place padding rules.
fn batch(prefix: &str, seed: u64, ops: usize) -> (Vec<u8>, Vec<u8>, Vec<String>) {
    let keys = keys(prefix, 24);
    let mut rng = Rng(seed | 1);
    let mut model: HashMap<String, u64> = HashMap::new();
    let (mut req, mut reply) = (Vec::new(), Vec::new());
    let mut touched = Vec::new();
    for _ in 0..ops {
        let key = &keys[rng.below(keys.len())];
        touched.push(key.clone());
        match rng.below(10) {
            0..=2 => {
                let v = rng.below(1_000_000) as u64;
                let text = v.to_string();
                req.extend_from_slice(
                    format!("set {key} 0 0 {}\r\n{text}\r\n", text.len()).as_bytes(),
                );
                reply.extend_from_slice(b"STORED\r\n");
                model.insert(key.clone(), v);
            }
            3..=5 => {
                req.extend_from_slice(format!("get {key}\r\n").as_bytes());
                if let Some(v) = model.get(key) {
                    value_reply(&mut reply, key, v.to_string().as_bytes());
                }
                reply.extend_from_slice(b"END\r\n");
            }
            6 => {
                req.extend_from_slice(format!("delete {key}\r\n").as_bytes());
                let r: &[u8] = if model.remove(key).is_some() {
                    b"DELETED\r\n"
                } else {
                    b"NOT_FOUND\r\n"
                };
                reply.extend_from_slice(r);
            }
            7 | 8 => {
                let delta = rng.below(1000) as u64;
                req.extend_from_slice(format!("incr {key} {delta}\r\n").as_bytes());
                match model.get_mut(key) {
                    Some(v) => {
                        *v += delta;
                        reply.extend_from_slice(format!("{v}\r\n").as_bytes());
                    }
                    None => reply.extend_from_slice(b"NOT_FOUND\r\n"),
                }
            }
            _ => {
                // A multi-get of three keys, possibly on different shards.
                let picked: Vec<&String> = (0..3).map(|_| &keys[rng.below(keys.len())]).collect();
                let names: Vec<&str> = picked.iter().map(|k| k.as_str()).collect();
                req.extend_from_slice(format!("get {}\r\n", names.join(" ")).as_bytes());
                for k in picked {
                    if let Some(v) = model.get(k) {
                        value_reply(&mut reply, k, v.to_string().as_bytes());
                    }
                }
                reply.extend_from_slice(b"END\r\n");
            }
        }
    }
    (req, reply, touched)
}

fn check_batch(addr: SocketAddr, prefix: &str, seed: u64) {
    let (req, expected, touched) = batch(prefix, seed, 200);
    assert_covers_all_shards(touched.iter().map(String::as_str), "the batch's keys");
    let reply = exchange(addr, &req);
    assert!(
        !reply.closed,
        "server closed the connection during the batch"
    );
    if reply.bytes != expected {
        let at = reply
            .bytes
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(reply.bytes.len().min(expected.len()));
        panic!(
            "pipelined cross-shard batch (prefix {prefix}, seed {seed}) differs at byte {at} \
             (expected {} bytes, got {})\n  expected from there: \"{}\"\n  actual from there:   \"{}\"",
            expected.len(),
            reply.bytes.len(),
            show_short(&expected[at.min(expected.len())..], 500),
            show_short(&reply.bytes[at.min(reply.bytes.len())..], 500)
        );
    }
}

/// (a) One write carrying ~200 commands over both shards: replies complete, in order.
#[test]
fn pipelined_batch_over_both_shards() {
    let server = CorecachedServer::start(&["--threads", "2"]);
    for seed in [1, 2, 3] {
        check_batch(server.addr(), &format!("xs_batch{seed}_"), seed);
    }
}

/// `--idle-poll-us` at both ends of its range: a shard that polls for its peer's next
/// batch, or sleeps at once, answers alike. Connections send one request at a time, as most
/// clients do, so shards run out of work between requests and poll or sleep each time.
#[test]
fn one_request_at_a_time_with_and_without_idle_polling() {
    for poll in ["0", "1000"] {
        let server = CorecachedServer::start(&["--threads", "2", "--idle-poll-us", poll]);
        let addr = server.addr();
        let handles: Vec<_> = (0..4)
            .map(|t| {
                thread::spawn(move || {
                    let keys = keys(&format!("xs_p1_{poll}_{t}_"), 40);
                    let mut s = std::net::TcpStream::connect(addr).expect("connect");
                    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    for (i, k) in keys.iter().enumerate() {
                        let v = format!("{t}-{i}-{poll}");
                        let set = format!("set {k} {i} 0 {}\r\n{v}\r\n", v.len());
                        one_request(&mut s, set.as_bytes(), b"STORED\r\n");
                    }
                    for (i, k) in keys.iter().enumerate() {
                        let v = format!("{t}-{i}-{poll}");
                        let want = format!("VALUE {k} {i} {}\r\n{v}\r\nEND\r\n", v.len());
                        one_request(&mut s, format!("get {k}\r\n").as_bytes(), want.as_bytes());
                    }
                })
            })
            .collect();
        for h in handles {
            h.join()
                .unwrap_or_else(|_| panic!("--idle-poll-us {poll}: a connection failed"));
        }
    }
}

/// Sends `req` alone and reads exactly `want`'s length back, which must be `want`.
fn one_request(s: &mut std::net::TcpStream, req: &[u8], want: &[u8]) {
    use std::io::{Read, Write};
    s.write_all(req).expect("write");
    let mut got = vec![0; want.len()];
    s.read_exact(&mut got)
        .unwrap_or_else(|e| panic!("{e} waiting for the reply to \"{}\"", show_short(req, 80)));
    assert_eq!(
        got,
        want,
        "reply to \"{}\": \"{}\"",
        show_short(req, 80),
        show_short(&got, 200)
    );
}

/// The same batches from several connections at once (distinct keys each).
#[test]
fn concurrent_pipelined_batches() {
    let server = CorecachedServer::start(&["--threads", "2"]);
    let addr = server.addr();
    let handles: Vec<_> = (0..6u64)
        .map(|t| {
            thread::spawn(move || {
                for round in 0..5u64 {
                    let seed = 100 + t * 10 + round;
                    check_batch(addr, &format!("xs_conc{t}_{round}_"), seed);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a connection's batch failed");
    }
}

/// A busy shard also takes its peers' batches between its connections' turns
/// (`Shard::take_peer_batches`), not only in the task that receives them. Batches taken
/// either way are answered alike: connections that keep both shards busy get every reply
/// right, and `stats shards` shows batches taken between turns.
#[test]
fn peer_batches_taken_between_turns_are_answered() {
    let server = CorecachedServer::start(&["--threads", "2"]);
    let addr = server.addr();
    let deadline = Instant::now() + Duration::from_secs(30);
    for round in 0..100u64 {
        let handles: Vec<_> = (0..8u64)
            .map(|t| {
                thread::spawn(move || {
                    check_batch(addr, &format!("xs_turn{round}_{t}_"), 1000 + round * 8 + t)
                })
            })
            .collect();
        for h in handles {
            h.join().expect("a connection's batch failed");
        }
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let st = stats_on(&mut s, "shards");
        let sum = |name: &str| -> u64 {
            (0..SHARDS)
                .map(|i| st[&format!("shard{i}:{name}")].parse::<u64>().unwrap())
                .sum()
        };
        let (all, between) = (sum("peer_batches"), sum("peer_batches_between_turns"));
        assert!(all > 0, "no batch was forwarded: {st:?}");
        assert!(
            between <= all,
            "{between} of {all} batches taken between turns"
        );
        if between > 0 {
            return;
        }
        if Instant::now() > deadline {
            break;
        }
    }
    panic!("no peer batch was taken between turns in 100 rounds or 30 s of 8 connections");
}

/// Sets 70 of 100 keys, then returns the keys in a shuffled request order plus
/// the set values.
fn multiget_setup(addr: SocketAddr, prefix: &str) -> (Vec<String>, HashMap<String, Vec<u8>>) {
    let keys = keys(prefix, 100);
    let mut rng = Rng(0x5eed);
    let mut stored = HashMap::new();
    let mut req = Vec::new();
    let mut expected = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if i % 10 < 7 {
            let v = format!("value-of-{k}-{}", "x".repeat(i % 13)).into_bytes();
            req.extend_from_slice(format!("set {k} 0 0 {}\r\n", v.len()).as_bytes());
            req.extend_from_slice(&v);
            req.extend_from_slice(b"\r\n");
            expected.extend_from_slice(b"STORED\r\n");
            stored.insert(k.clone(), v);
        }
    }
    let reply = exchange(addr, &req);
    assert_eq!(show_short(&reply.bytes, 300), show_short(&expected, 300));
    let mut order = keys.clone();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let hits: Vec<&str> = order
        .iter()
        .filter(|k| stored.contains_key(*k))
        .map(String::as_str)
        .collect();
    let misses: Vec<&str> = order
        .iter()
        .filter(|k| !stored.contains_key(*k))
        .map(String::as_str)
        .collect();
    assert_covers_all_shards(hits.iter().copied(), "the hits");
    assert_covers_all_shards(misses.iter().copied(), "the misses");
    (order, stored)
}

/// (b) A multi-get of 100 keys over both shards (30 misses interleaved) returns
/// the VALUEs in requested order.
#[test]
fn multiget_in_request_order() {
    let server = CorecachedServer::start(&["--threads", "2"]);
    let (order, stored) = multiget_setup(server.addr(), "xs_mget_");
    let req = format!("get {}\r\n", order.join(" "));
    let mut expected = Vec::new();
    for k in &order {
        if let Some(v) = stored.get(k) {
            value_reply(&mut expected, k, v);
        }
    }
    expected.extend_from_slice(b"END\r\n");
    let reply = exchange(server.addr(), req.as_bytes());
    assert!(!reply.closed);
    assert!(
        reply.bytes == expected,
        "multi-get over both shards:\n  expected: \"{}\"\n  actual:   \"{}\"",
        show_short(&expected, 3000),
        show_short(&reply.bytes, 3000)
    );
    // The same keys requested twice in one line.
    let twice = format!("get {} {}\r\n", order.join(" "), order.join(" "));
    let mut expected2 = expected[..expected.len() - 5].to_vec();
    expected2.extend_from_slice(&expected);
    let reply = exchange(server.addr(), twice.as_bytes());
    assert!(
        reply.bytes == expected2,
        "multi-get with every key twice differs"
    );
}

/// (c) The same with `gets`: VALUE lines in requested order, each with a cas.
#[test]
fn multigets_in_request_order() {
    let server = CorecachedServer::start(&["--threads", "2"]);
    let (order, stored) = multiget_setup(server.addr(), "xs_mgets_");
    let req = format!("gets {}\r\n", order.join(" "));
    let reply = exchange(server.addr(), req.as_bytes());
    assert!(!reply.closed);
    let mut rest = &reply.bytes[..];
    let mut cas_of = HashMap::new();
    for k in order.iter().filter(|k| stored.contains_key(*k)) {
        let v = &stored[k];
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or_else(|| panic!("reply ends early: \"{}\"", show_short(&reply.bytes, 3000)));
        let line = std::str::from_utf8(&rest[..nl + 1]).expect("VALUE line is not UTF-8");
        let prefix = format!("VALUE {k} 0 {} ", v.len());
        let cas = line
            .strip_prefix(&prefix)
            .and_then(|s| s.strip_suffix("\r\n"))
            .unwrap_or_else(|| {
                panic!(
                    "expected a line starting \"{prefix}\", got \"{}\"",
                    line.escape_debug()
                )
            });
        let cas: u64 = cas
            .parse()
            .unwrap_or_else(|_| panic!("bad cas in \"{}\"", line.escape_debug()));
        cas_of.insert(k.clone(), cas);
        rest = &rest[nl + 1..];
        assert!(
            rest.starts_with(v) && rest[v.len()..].starts_with(b"\r\n"),
            "bad data for {k}"
        );
        rest = &rest[v.len() + 2..];
    }
    assert_eq!(show_short(rest, 300), "END\\r\\n");
    // The cas returned by the multi-gets is each key's current one.
    for (k, cas) in cas_of.iter().take(10) {
        let r = exchange(
            server.addr(),
            format!("cas {k} 0 0 1 {cas}\r\nz\r\n").as_bytes(),
        );
        assert_eq!(
            show_short(&r.bytes, 300),
            "STORED\\r\\n",
            "cas on {k} with {cas}"
        );
    }
}
