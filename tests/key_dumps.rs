//! Key dumps: `lru_crawler metadump` and `stats cachedump` list every stored key exactly
//! once with memcached's fields, across shards, during writes, and through the tools that
//! read them (memcached-tool `dump`/`keys`, libmemcached's `memcdump`); the lines and the
//! errors are memcached 1.6.18's.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{open_client, roundtrip, CorecachedServer, MemcachedServer};

/// Sends `n` noreply requests made by `line`, a few thousand per round trip (each read
/// waits at most the client's timeout, and a debug build on a busy machine is slow).
fn fill(s: &mut TcpStream, n: usize, line: impl Fn(usize) -> String) {
    for start in (0..n).step_by(5000) {
        let mut req = Vec::new();
        for i in start..n.min(start + 5000) {
            req.extend_from_slice(line(i).as_bytes());
        }
        req.extend_from_slice(b"mn\r\n");
        roundtrip(s, &req, b"MN\r\n");
    }
}

/// memcached's default slab classes (`-f 1.25 -n 48`): chunk sizes, ascending.
fn class_sizes() -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut size = 96usize;
    while (size as f64) < 524288.0 / 1.25 {
        size = size.next_multiple_of(8);
        sizes.push(size);
        size = (size as f64 * 1.25) as usize;
    }
    sizes.push(524288);
    sizes
}

/// memcached's item size (with CAS) and its class.
fn size_and_class(key: &str, flags: u32, vlen: usize) -> (usize, usize) {
    let size = 48 + 8 + key.len() + 1 + if flags != 0 { 4 } else { 0 } + vlen + 2;
    let sizes = class_sizes();
    let class = sizes
        .iter()
        .position(|&s| s >= size)
        .unwrap_or(sizes.len() - 1)
        + 1;
    (size, class)
}

/// What the test wrote for a key.
#[derive(Clone, Debug)]
struct Item {
    flags: u32,
    vlen: usize,
    /// Absolute exptime, 0 for none.
    exp: u64,
    fetched: bool,
}

/// One metadump line's fields, by name.
fn fields(line: &str) -> HashMap<&str, &str> {
    line.split(' ').filter_map(|f| f.split_once('=')).collect()
}

fn decode_key(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The metadump reply's lines (each `\n`-terminated, memcached's), `END\r\n` checked.
fn metadump(s: &mut TcpStream, arg: &str) -> Vec<String> {
    let reply = roundtrip(
        s,
        format!("lru_crawler metadump {arg}\r\n").as_bytes(),
        b"END\r\n",
    );
    let text = String::from_utf8(reply).unwrap();
    let body = text.strip_suffix("END\r\n").unwrap();
    assert!(body.is_empty() || body.ends_with('\n'));
    body.lines().map(str::to_string).collect()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Whether a listed exptime is the one an item written between `it.exp - ttl` and `slack`
/// seconds later got.
fn exp_ok(listed: i64, it: &Item, slack: u64) -> bool {
    if it.exp == 0 {
        return listed == -1 || listed == 0;
    }
    listed >= it.exp as i64 && listed <= (it.exp + slack) as i64
}

/// Writes a known set of items, some read, some deleted, some expired; returns the model
/// (exptimes as of the start) and the seconds the writes took, plus one.
fn populate(s: &mut TcpStream, n: usize) -> (HashMap<String, Item>, u64) {
    let mut model = HashMap::new();
    let now = unix_now();
    let mut req = Vec::new();
    for i in 0..n {
        // Keys with bytes uriencode must escape, values across several classes.
        let key = if i % 10 == 3 {
            format!("k/{i}:x")
        } else {
            format!("key{i}")
        };
        let flags = if i % 4 == 0 { 0 } else { i as u32 };
        let vlen = [1, 40, 300, 2000, 9000][i % 5];
        let ttl = if i % 3 == 0 { 1000 } else { 0 };
        req.extend_from_slice(format!("set {key} {flags} {ttl} {vlen} noreply\r\n").as_bytes());
        req.extend(std::iter::repeat_n(b'v', vlen));
        req.extend_from_slice(b"\r\n");
        model.insert(
            key,
            Item {
                flags,
                vlen,
                exp: if ttl == 0 { 0 } else { now + ttl },
                fetched: false,
            },
        );
        if i % 1000 == 999 {
            req.extend_from_slice(b"mn\r\n");
            roundtrip(s, &req, b"MN\r\n");
            req.clear();
        }
    }
    req.extend_from_slice(b"mn\r\n");
    roundtrip(s, &req, b"MN\r\n");
    // Read some (fetched), delete some, and give a few an exptime already past.
    let mut req = Vec::new();
    for i in (0..n).step_by(7) {
        req.extend_from_slice(format!("get key{i}\r\n").as_bytes());
        if let Some(it) = model.get_mut(&format!("key{i}")) {
            it.fetched = true;
        }
    }
    for i in (0..n).step_by(11) {
        req.extend_from_slice(format!("delete key{i} noreply\r\n").as_bytes());
        model.remove(&format!("key{i}"));
    }
    for i in (1..n).step_by(13) {
        req.extend_from_slice(format!("touch key{i} -1 noreply\r\n").as_bytes());
        model.remove(&format!("key{i}"));
    }
    req.extend_from_slice(b"mn\r\n");
    roundtrip(s, &req, b"MN\r\n");
    (model, unix_now() - now + 1)
}

#[test]
fn metadump_lists_every_key_once_with_its_fields_on_two_shards() {
    let server = CorecachedServer::start(&["-t", "2", "-m", "256"]);
    let mut s = open_client(server.addr());
    let (model, slack) = populate(&mut s, 5000);
    let lines = metadump(&mut s, "all");
    let mut seen = HashSet::new();
    let mut cases = HashMap::new();
    for line in &lines {
        let f = fields(line);
        let names: Vec<&str> = line
            .split(' ')
            .map(|f| f.split('=').next().unwrap())
            .collect();
        assert_eq!(
            names,
            ["key", "exp", "la", "cas", "fetch", "cls", "size"],
            "{line}"
        );
        let key = decode_key(f["key"]);
        assert!(seen.insert(key.clone()), "{key} listed twice");
        let it = model
            .get(&key)
            .unwrap_or_else(|| panic!("{key} not stored: {line}"));
        let (size, class) = size_and_class(&key, it.flags, it.vlen);
        let exp: i64 = f["exp"].parse().unwrap();
        assert!(exp != 0 && exp_ok(exp, it, slack), "{line}: exp {}", it.exp);
        assert_eq!(f["fetch"], if it.fetched { "yes" } else { "no" }, "{line}");
        assert_eq!(f["size"], size.to_string(), "{line}");
        assert_eq!(f["cls"], class.to_string(), "{line}");
        assert!(f["cas"].parse::<u64>().unwrap() > 0);
        cases.insert(key, f["cas"].to_string());
    }
    assert_eq!(seen.len(), model.len(), "every stored key");
    // The cas shown is the one `gets` shows.
    for key in model.keys().take(50) {
        let r = roundtrip(&mut s, format!("gets {key}\r\n").as_bytes(), b"END\r\n");
        let head = String::from_utf8_lossy(&r)
            .lines()
            .next()
            .unwrap()
            .to_string();
        assert_eq!(head.split(' ').nth(4), Some(cases[key].as_str()), "{head}");
    }
    // A class list dumps those classes' keys alone.
    let lines = metadump(&mut s, "1,3");
    let want: HashSet<String> = model
        .iter()
        .filter(|(k, it)| [1, 3].contains(&size_and_class(k, it.flags, it.vlen).1))
        .map(|(k, _)| k.clone())
        .collect();
    let got: Vec<String> = lines.iter().map(|l| decode_key(fields(l)["key"])).collect();
    assert_eq!(got.len(), want.len());
    assert_eq!(got.into_iter().collect::<HashSet<_>>(), want);
    // `hash` walks the same items.
    assert_eq!(metadump(&mut s, "hash").len(), model.len());
}

#[test]
fn cachedump_lists_each_class_and_honours_its_limit() {
    let server = CorecachedServer::start(&["-t", "2", "-m", "256"]);
    let mut s = open_client(server.addr());
    let (model, slack) = populate(&mut s, 3000);
    let mut seen = HashSet::new();
    for class in 0..64 {
        let r = roundtrip(
            &mut s,
            format!("stats cachedump {class} 0\r\n").as_bytes(),
            b"END\r\n",
        );
        let text = String::from_utf8(r).unwrap();
        for line in text.strip_suffix("END\r\n").unwrap().lines() {
            let rest = line
                .strip_prefix("ITEM ")
                .unwrap_or_else(|| panic!("{line}"));
            let (key, tail) = rest.split_once(" [").unwrap();
            let it = &model[key];
            assert_eq!(size_and_class(key, it.flags, it.vlen).1, class, "{line}");
            let (bytes, exp) = tail
                .strip_suffix(" s]")
                .unwrap()
                .split_once(" b; ")
                .unwrap();
            assert_eq!(bytes, it.vlen.to_string(), "{line}");
            let exp: i64 = exp.parse().unwrap();
            assert!(exp != -1 && exp_ok(exp, it, slack), "{line}");
            assert!(seen.insert(key.to_string()), "{key} twice");
        }
    }
    assert_eq!(seen.len(), model.len());
    // A limit caps the lines over all shards.
    let r = roundtrip(&mut s, b"stats cachedump 1 3\r\n", b"END\r\n");
    assert_eq!(String::from_utf8(r).unwrap().matches("ITEM ").count(), 3);
}

#[test]
fn cachedump_without_a_limit_stops_at_memcacheds_two_megabytes() {
    let server = CorecachedServer::start(&["-t", "2", "-m", "256"]);
    let mut s = open_client(server.addr());
    // 50,000 items of class 1 (30-byte keys, 90-byte items): over 2 MB of ITEM lines.
    fill(&mut s, 50_000, |i| {
        format!("set {i:030} 0 0 1 noreply\r\nv\r\n")
    });
    let r = roundtrip(&mut s, b"stats cachedump 1 0\r\n", b"END\r\n");
    assert!(r.len() <= 2 * 1024 * 1024, "{}", r.len());
    assert!(r.len() > 2 * 1024 * 1024 - 100, "{}", r.len());
}

/// Keys written or deleted during a dump: no crash, no key twice, no torn line, and every
/// key present for the whole dump listed.
#[test]
fn a_dump_during_writes_lists_the_stable_keys_once() {
    let server = CorecachedServer::start(&["-t", "2", "-m", "256"]);
    let addr = server.addr();
    let mut s = open_client(addr);
    fill(&mut s, 20_000, |i| {
        format!("set stable:{i} 0 0 10 noreply\r\n0123456789\r\n")
    });
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = open_client(addr);
                let mut n = 0u64;
                let deadline = Instant::now() + Duration::from_secs(30);
                // Bounded in count too: the writes stay far below `-m`, so nothing is
                // evicted and every stable key is present for the whole dump.
                let mut rounds = 0;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline && rounds < 3000 {
                    rounds += 1;
                    let mut req = Vec::new();
                    for _ in 0..100 {
                        n += 1;
                        req.extend_from_slice(
                            format!("set churn:{w}:{n} 0 0 5 noreply\r\nhello\r\n").as_bytes(),
                        );
                        req.extend_from_slice(
                            format!("delete churn:{w}:{} noreply\r\n", n / 2).as_bytes(),
                        );
                        req.extend_from_slice(
                            format!("set stable:{} 0 0 10 noreply\r\n0123456789\r\n", n % 20_000)
                                .as_bytes(),
                        );
                    }
                    req.extend_from_slice(b"mn\r\n");
                    roundtrip(&mut c, &req, b"MN\r\n");
                }
                n
            })
        })
        .collect();
    let mut dumps = 0;
    for _ in 0..3 {
        let lines = metadump(&mut s, "all");
        let mut seen = HashSet::new();
        for line in &lines {
            let f = fields(line);
            assert_eq!(f.len(), 7, "torn line {line:?}");
            let key = decode_key(f["key"]);
            assert!(
                key.starts_with("stable:") || key.starts_with("churn:"),
                "{line}"
            );
            assert!(seen.insert(key.clone()), "{key} twice");
        }
        for i in 0..20_000 {
            assert!(seen.contains(&format!("stable:{i}")), "stable:{i} missing");
        }
        dumps += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let written: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(dumps, 3);
    assert!(written > 0);
    let stats = String::from_utf8(roundtrip(&mut s, b"stats\r\n", b"END\r\n")).unwrap();
    assert!(stats.contains("STAT evictions 0\r\n"), "{stats}");
    // The connection and the server go on.
    assert_eq!(
        roundtrip(&mut s, b"get stable:1\r\n", b"END\r\n"),
        b"VALUE stable:1 0 10\r\n0123456789\r\nEND\r\n"
    );
}

/// A client that closes in the middle of a dump leaves the server serving.
#[test]
fn a_client_leaving_mid_dump_leaves_the_server_serving() {
    let server = CorecachedServer::start(&["-t", "2", "-m", "256"]);
    let mut s = open_client(server.addr());
    fill(&mut s, 50_000, |i| {
        format!("set key{i} 0 0 1 noreply\r\nv\r\n")
    });
    for _ in 0..5 {
        let mut c = open_client(server.addr());
        c.write_all(b"lru_crawler metadump all\r\n").unwrap();
        let mut buf = [0u8; 1000];
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0);
        drop(c);
    }
    let lines = metadump(&mut s, "all");
    assert_eq!(lines.len(), 50_000);
}

/// Exchanges `req` and reads until `end`, for both servers.
fn both(cc: SocketAddr, mc: SocketAddr, req: &[u8], end: &[u8]) -> (String, String) {
    let a = roundtrip(&mut open_client(cc), req, end);
    let b = roundtrip(&mut open_client(mc), req, end);
    (
        String::from_utf8_lossy(&a).into_owned(),
        String::from_utf8_lossy(&b).into_owned(),
    )
}

/// [`both`] for a request followed by `mn`, asking memcached again while its crawler
/// answers BUSY (it runs one crawl at a time, its own periodic one included); the replies
/// without the final `MN`.
fn both_when_not_busy(cc: SocketAddr, mc: SocketAddr, req: &[u8]) -> (String, String) {
    let mut full = req.to_vec();
    full.extend_from_slice(b"mn\r\n");
    let (ours, mut theirs) = both(cc, mc, &full, b"MN\r\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while theirs.starts_with("BUSY") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        theirs = String::from_utf8_lossy(&roundtrip(&mut open_client(mc), &full, b"MN\r\n"))
            .into_owned();
    }
    let strip = |s: String| s.strip_suffix("MN\r\n").map(str::to_string).unwrap_or(s);
    (strip(ours), strip(theirs))
}

/// A metadump on memcached, asked again while its crawler answers BUSY. (Nothing may follow
/// it on the connection: memcached hands the connection to its crawler.)
fn metadump_when_not_busy(mc: SocketAddr, req: &[u8]) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut s = open_client(mc);
        s.write_all(req).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 65536];
        while !(buf.ends_with(b"END\r\n") || buf.starts_with(b"BUSY") && buf.ends_with(b"\r\n")) {
            let n = s.read(&mut chunk).expect("reply before the timeout");
            assert!(n > 0, "memcached closed");
            buf.extend_from_slice(&chunk[..n]);
        }
        if !buf.starts_with(b"BUSY") || Instant::now() > deadline {
            return String::from_utf8_lossy(&buf).into_owned();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The times in a metadump line, replaced, and their values.
fn without_times(line: &str) -> (String, Vec<i64>) {
    let mut times = Vec::new();
    let words: Vec<String> = line
        .split(' ')
        .map(|w| match w.split_once('=') {
            Some((k @ ("exp" | "la"), v)) if v != "-1" => {
                times.push(v.trim_end().parse().unwrap());
                format!("{k}=T")
            }
            _ => w.to_string(),
        })
        .collect();
    (words.join(" "), times)
}

#[test]
fn lines_and_errors_match_memcached() {
    let Some(mc) = MemcachedServer::start(&[]) else {
        return;
    };
    let server = CorecachedServer::start(&["-t", "1"]);
    let cc = server.addr();
    let setup = b"set a/b 5 100 3\r\nxyz\r\nset plain 0 0 2\r\nhi\r\nget plain\r\nmn\r\n";
    let (x, y) = both(cc, mc.addr(), setup, b"MN\r\n");
    assert_eq!(x, y);
    for req in [
        "lru_crawler metadump all\r\n",
        "lru_crawler metadump hash\r\n",
        "lru_crawler metadump 1\r\n",
    ] {
        let ours =
            String::from_utf8_lossy(&roundtrip(&mut open_client(cc), req.as_bytes(), b"END\r\n"))
                .into_owned();
        let theirs = metadump_when_not_busy(mc.addr(), req.as_bytes());
        let mut ours: Vec<(String, Vec<i64>)> =
            ours.split_inclusive('\n').map(without_times).collect();
        let mut theirs: Vec<(String, Vec<i64>)> =
            theirs.split_inclusive('\n').map(without_times).collect();
        // The order of lines is the walk's: compare them sorted.
        ours.sort();
        theirs.sort();
        assert_eq!(ours.len(), theirs.len(), "{req}");
        for ((a, ta), (b, tb)) in ours.iter().zip(&theirs) {
            assert_eq!(a, b, "{req}");
            for (x, y) in ta.iter().zip(tb) {
                assert!((x - y).abs() <= 2, "{req}: {a} times {ta:?} vs {tb:?}");
            }
        }
    }
    let (ours, theirs) = both(cc, mc.addr(), b"stats cachedump 1 0\r\n", b"END\r\n");
    let norm = |s: &str| {
        let mut l: Vec<String> = s
            .lines()
            .map(|l| match l.split_once("; ") {
                Some((head, t)) if t != "0 s]" => format!("{head}; T s]"),
                _ => l.to_string(),
            })
            .collect();
        l.sort();
        l
    };
    assert_eq!(norm(&ours), norm(&theirs));
    // Errors and replies, byte for byte. (`lru_crawler metadump ,` is left out: memcached
    // answers NOTSTARTED and keeps the connection as its crawler's client, so every later
    // metadump of that server fails.)
    let table: &[&[u8]] = &[
        b"lru_crawler metadump 0\r\n",
        b"lru_crawler metadump 64\r\n",
        b"lru_crawler metadump x\r\n",
        b"lru_crawler metadump 1,x\r\n",
        b"lru_crawler metadump ALL\r\n",
        b"lru_crawler metadump\r\n",
        b"lru_crawler metadump all extra\r\n",
        b"lru_crawler\r\n",
        b"lru_crawler mgdump all\r\n",
        b"lru_crawler crawl all\r\n",
        b"lru_crawler crawl 1\r\n",
        b"lru_crawler crawl hash\r\n",
        b"lru_crawler crawl 0\r\n",
        b"lru_crawler tocrawl 5\r\n",
        b"lru_crawler tocrawl x\r\n",
        b"lru_crawler sleep 100\r\n",
        b"lru_crawler sleep 1000001\r\n",
        b"lru_crawler enable\r\n",
        b"stats cachedump 1\r\n",
        b"stats cachedump x 0\r\n",
        b"stats cachedump 64 0\r\n",
        b"stats cachedump 63 0\r\n",
        b"stats cachedump 0 0\r\n",
        b"stats cachedump 1 -1\r\n",
        b"stats cachedump\r\n",
        b"cache_memlimit 100\r\n",
        b"cache_memlimit 7\r\n",
        b"cache_memlimit x\r\n",
        b"cache_memlimit\r\n",
        b"cache_memlimit 1000000001\r\n",
        b"cache_memlimit 64 noreply\r\n",
        b"cache_memlimit 64 x\r\n",
        b"cache_memlimit 64 x y\r\n",
        b"cache_memlimit -1\r\n",
        b"cache_memlimit 4294967296\r\n",
        b"cache_memlimit 64\r\n",
        b"lru_crawler disable\r\n",
        b"lru_crawler metadump all\r\n",
        b"lru_crawler crawl all\r\n",
        b"lru_crawler disable\r\n",
        b"lru_crawler enable\r\n",
    ];
    for req in table {
        // memcached's crawler runs one crawl at a time and answers BUSY meanwhile
        // (corecached runs several at once): asked again until it is done.
        let (ours, theirs) = both_when_not_busy(cc, mc.addr(), req);
        assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(req));
    }
}

/// `memcached-tool HOST:PORT keys` and `dump`, as Debian ships the script.
#[test]
fn memcached_tool_dump_and_keys_list_every_key() {
    let tool = "/usr/share/memcached/scripts/memcached-tool";
    if !std::path::Path::new(tool).is_file() {
        eprintln!("skipping: {tool} not installed (apt-get install memcached)");
        return;
    }
    let server = CorecachedServer::start(&["-t", "2"]);
    let mut s = open_client(server.addr());
    let mut req = Vec::new();
    let keys: Vec<String> = (0..500).map(|i| format!("tool:{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        req.extend_from_slice(
            format!("set {k} {i} 0 {}\r\nvalue{i}\r\n", 5 + i.to_string().len()).as_bytes(),
        );
    }
    req.extend_from_slice(b"mn\r\n");
    roundtrip(&mut s, &req, b"MN\r\n");
    let host = format!("127.0.0.1:{}", server.addr().port());
    let run = |mode: &str| {
        let out = Command::new("perl")
            .args([tool, &host, mode])
            .output()
            .expect("perl runs");
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let listed: HashSet<String> = run("keys")
        .lines()
        .map(|l| decode_key(fields(l)["key"]))
        .collect();
    assert_eq!(listed, keys.iter().cloned().collect());
    let dump = run("dump");
    for (i, k) in keys.iter().enumerate() {
        let want = format!("add {k} {i} 0 {}\r\nvalue{i}\r\n", 5 + i.to_string().len());
        assert!(dump.contains(&want), "{want:?} not in the dump");
    }
    assert_eq!(dump.matches("add ").count(), keys.len());
}

/// libmemcached's `memcdump` (what PHP's `getAllKeys` does: `stats cachedump` per class).
#[test]
fn memcdump_lists_every_key() {
    let bin = "/usr/bin/memcdump";
    if !std::path::Path::new(bin).is_file() {
        eprintln!("skipping: {bin} not installed (apt-get install libmemcached-tools)");
        return;
    }
    let server = CorecachedServer::start(&["-t", "2"]);
    let mut s = open_client(server.addr());
    let mut req = Vec::new();
    let keys: Vec<String> = (0..300).map(|i| format!("md:{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        let v = "x".repeat(1 + i * 37 % 5000);
        req.extend_from_slice(format!("set {k} 0 0 {}\r\n{v}\r\n", v.len()).as_bytes());
    }
    req.extend_from_slice(b"mn\r\n");
    roundtrip(&mut s, &req, b"MN\r\n");
    let out = Command::new(bin)
        .arg(format!("--servers=127.0.0.1:{}", server.addr().port()))
        .output()
        .expect("memcdump runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(listed.len(), keys.len());
    assert_eq!(
        listed.into_iter().collect::<HashSet<_>>(),
        keys.into_iter().collect()
    );
}

/// A stop while a client that does not read holds a dump open on two shards: the server
/// still exits (the dump ends when the connections are closed at the shutdown timeout).
#[test]
fn a_stop_during_a_dump_that_is_not_read_still_exits() {
    let mut server = CorecachedServer::start(&["-t", "2", "-m", "256"]);
    let mut s = open_client(server.addr());
    fill(&mut s, 50_000, |i| {
        format!("set key{i} 0 0 1 noreply\r\nv\r\n")
    });
    let mut stuck = common::small_window_client(server.addr());
    stuck.write_all(b"lru_crawler metadump all\r\n").unwrap();
    let mut first = [0u8; 100];
    assert!(stuck.read(&mut first).unwrap() > 0);
    assert_eq!(
        server.signal_and_wait(15, Duration::from_secs(10)),
        Some(0),
        "exits within the shutdown timeout"
    );
}

/// `-X` (memcached's `--disable-dumping`) refuses both dumps with memcached's lines, and
/// the connection goes on.
#[test]
fn dumps_are_refused_with_x_as_memcached_refuses_them() {
    let Some(mc) = MemcachedServer::start(&["-X"]) else {
        eprintln!("skipped: memcached is not installed (apt-get install memcached)");
        return;
    };
    let server = CorecachedServer::start(&["-t", "2", "-X"]);
    let table: &[(&[u8], &[u8])] = &[
        (b"set a 0 0 1\r\nx\r\n", b"STORED\r\n"),
        (
            b"stats cachedump 1 0\r\n",
            b"CLIENT_ERROR stats cachedump not allowed\r\n",
        ),
        (
            b"lru_crawler metadump all\r\n",
            b"ERROR metadump not allowed\r\n",
        ),
        (b"delete a\r\n", b"DELETED\r\n"),
    ];
    for addr in [server.addr(), mc.addr()] {
        let mut s = open_client(addr);
        for (req, want) in table {
            let got = roundtrip(&mut s, req, b"\r\n");
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want),
                "{} to {addr}",
                String::from_utf8_lossy(req).trim_end()
            );
        }
    }
}
