//! `--metrics`: Prometheus' text format over HTTP. Each scrape is taken with a plain
//! TcpStream, and every line of it is parsed strictly (HELP and TYPE lines, names, labels and
//! their escaping, values, one TYPE per family before its samples, families contiguous,
//! histograms cumulative up to `+Inf` equal to `_count`); values are checked against a known
//! workload. Also: other paths, methods and bad requests, a hostile header, an idle scraper
//! that blocks nothing, start-up errors, and no listener without the flag.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{open_client, roundtrip, CorecachedServer};

/// The metrics address from the start-up log line `metrics on http://ADDR/metrics`.
fn metrics_addr(server: &CorecachedServer) -> SocketAddr {
    let log = server.stderr_log();
    let line = log
        .lines()
        .find(|l| l.contains("metrics on http://"))
        .unwrap_or_else(|| panic!("no metrics line in the log:\n{log}"));
    let rest = &line[line.find("http://").unwrap() + 7..];
    rest[..rest.find("/metrics").expect("the path")]
        .parse()
        .expect("an address")
}

fn start(args: &[&str]) -> (CorecachedServer, SocketAddr) {
    let mut all = vec!["--metrics", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let server = CorecachedServer::start(&all);
    let addr = metrics_addr(&server);
    (server, addr)
}

/// An HTTP response: status, headers (names lowercased), body.
struct Response {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// Reads one response from `s`, with its body when `with_body` (not for HEAD).
fn read_response(s: &mut TcpStream, with_body: bool) -> Response {
    let mut pending = Vec::new();
    let r = read_next(s, &mut pending, with_body);
    assert!(pending.is_empty(), "no bytes past the response");
    r
}

/// Reads the next response from `s`, starting with the bytes `buf` holds; leaves in `buf`
/// the bytes read past it.
fn read_next(s: &mut TcpStream, buf: &mut Vec<u8>, with_body: bool) -> Response {
    let mut chunk = [0u8; 65536];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = s.read(&mut chunk).expect("a response before the timeout");
        assert!(
            n > 0,
            "closed before a response: {:?}",
            String::from_utf8_lossy(buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("status line {status_line:?}"));
    let mut headers = HashMap::new();
    for l in lines {
        let (k, v) = l.split_once(": ").unwrap_or_else(|| panic!("header {l:?}"));
        assert!(
            headers
                .insert(k.to_ascii_lowercase(), v.to_string())
                .is_none(),
            "{k} twice"
        );
    }
    let len: usize = headers["content-length"].parse().unwrap();
    let mut body = buf[head_end + 4..].to_vec();
    let want = if with_body { len } else { 0 };
    while body.len() < want {
        let n = s.read(&mut chunk).expect("the body before the timeout");
        assert!(n > 0, "closed in the body");
        body.extend_from_slice(&chunk[..n]);
    }
    *buf = body.split_off(want);
    Response {
        status,
        headers,
        body,
    }
}

/// Sends `req` on a new connection and reads the response.
fn http(addr: SocketAddr, req: &str) -> Response {
    let mut s = open_client(addr);
    s.write_all(req.as_bytes()).unwrap();
    read_response(&mut s, !req.starts_with("HEAD"))
}

/// Waits (bounded) for the server to close `s`; panics if it does not.
fn assert_closed(s: &mut TcpStream) {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return,
            Err(e) => panic!("the connection stays open: {e}"),
        }
    }
}

fn scrape(addr: SocketAddr) -> Exposition {
    let r = http(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    parse_exposition(&String::from_utf8(r.body).expect("UTF-8"))
}

// ---------------------------------------------------------------------------
// A strict reader of the text format

/// A series' labels, sorted.
type Labels = Vec<(String, String)>;

/// A parsed scrape: each series (name and sorted labels) with its value, and each family's
/// type.
#[derive(Debug, Default)]
struct Exposition {
    samples: HashMap<(String, Labels), f64>,
    types: HashMap<String, String>,
}

impl Exposition {
    /// The value of the series with exactly these labels.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut l: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        l.sort();
        *self
            .samples
            .get(&(name.to_string(), l))
            .unwrap_or_else(|| panic!("no series {name} {labels:?}"))
    }

    /// The sum over every series of `name`.
    fn sum(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|((n, _), _)| n == name)
            .map(|(_, v)| v)
            .sum()
    }
}

fn valid_name(n: &str, colon: bool) -> bool {
    let mut chars = n.chars();
    let first_ok = |c: char| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':');
    chars.next().is_some_and(first_ok)
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

fn parse_value(v: &str) -> f64 {
    match v {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        _ => {
            assert!(
                v.bytes()
                    .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)),
                "value {v:?}"
            );
            v.parse().unwrap_or_else(|_| panic!("value {v:?}"))
        }
    }
}

/// Reads `name="value",...}` from `s` (after the `{`); the labels and the rest after `}`.
fn parse_labels(mut s: &str) -> (Labels, &str) {
    let mut labels = Vec::new();
    loop {
        if let Some(rest) = s.strip_prefix('}') {
            return (labels, rest);
        }
        if !labels.is_empty() {
            s = s
                .strip_prefix(',')
                .unwrap_or_else(|| panic!("',' in {s:?}"));
        }
        let eq = s.find('=').unwrap_or_else(|| panic!("label in {s:?}"));
        let name = &s[..eq];
        assert!(valid_name(name, false), "label name {name:?}");
        s = s[eq + 1..]
            .strip_prefix('"')
            .unwrap_or_else(|| panic!("quoted value in {s:?}"));
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => panic!("bad escape {other:?} in {s:?}"),
                },
                Some((i, '"')) => break i,
                Some((_, '\n')) => panic!("raw newline in a label value"),
                Some((_, c)) => value.push(c),
                None => panic!("unterminated label value {s:?}"),
            }
        };
        assert!(labels.iter().all(|(n, _)| n != name), "label {name} twice");
        labels.push((name.to_string(), value));
        s = &s[end + 1..];
    }
}

/// Parses every line of `text`, panicking on anything the format does not allow (or that
/// this server must not send: other comments, timestamps).
fn parse_exposition(text: &str) -> Exposition {
    const TYPES: [&str; 5] = ["counter", "gauge", "histogram", "summary", "untyped"];
    assert!(text.ends_with('\n'), "the last line ends in a newline");
    let mut e = Exposition::default();
    let mut helps = HashSet::new();
    let mut done_families: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        assert!(!line.is_empty(), "an empty line");
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            assert!(valid_name(name, true), "HELP name {name:?}");
            assert!(helps.insert(name.to_string()), "HELP {name} twice");
            let mut it = help.chars();
            while let Some(c) = it.next() {
                if c == '\\' {
                    assert!(matches!(it.next(), Some('\\' | 'n')), "HELP escape: {line}");
                }
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').expect("TYPE name type");
            assert!(valid_name(name, true), "TYPE name {name:?}");
            assert!(TYPES.contains(&ty), "type {ty:?}");
            assert!(
                e.types.insert(name.to_string(), ty.to_string()).is_none(),
                "TYPE {name} twice"
            );
            if let Some(prev) = current.replace(name.to_string()) {
                done_families.insert(prev);
            }
            continue;
        }
        assert!(!line.starts_with('#'), "other comment: {line}");
        let name_end = line.find(['{', ' ']).expect("a sample");
        let name = &line[..name_end];
        assert!(valid_name(name, true), "sample name {name:?}");
        let (mut labels, rest) = match line[name_end..].strip_prefix('{') {
            Some(r) => parse_labels(r),
            None => (Vec::new(), &line[name_end..]),
        };
        let value = rest
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("space before the value: {line}"));
        assert!(!value.contains(' '), "a timestamp or junk: {line}");
        let v = parse_value(value);
        // The sample's family: the name, or a histogram's name before its suffix.
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .filter_map(|s| name.strip_suffix(s))
            .find(|f| e.types.get(*f).map(String::as_str) == Some("histogram"))
            .unwrap_or(name);
        let ty = e
            .types
            .get(family)
            .unwrap_or_else(|| panic!("{name}: no TYPE before it"));
        assert_eq!(
            current.as_deref(),
            Some(family),
            "{name}: samples of a family are together under its TYPE"
        );
        assert!(!done_families.contains(family));
        if ty == "histogram" {
            assert_ne!(family, name, "a histogram's samples have suffixes");
            assert_eq!(
                name.ends_with("_bucket"),
                labels.iter().any(|(k, _)| k == "le"),
                "le on buckets only: {line}"
            );
        } else {
            assert_eq!(family, name);
        }
        labels.sort();
        assert!(
            e.samples.insert((name.to_string(), labels), v).is_none(),
            "series twice: {line}"
        );
    }
    check_histograms(&e);
    e
}

/// Every histogram series: buckets with increasing bounds, cumulative, ending in `+Inf`
/// equal to `_count`, and a `_sum`.
fn check_histograms(e: &Exposition) {
    for (family, _) in e.types.iter().filter(|(_, t)| *t == "histogram") {
        let bucket = format!("{family}_bucket");
        let mut series: HashMap<Labels, Vec<(f64, f64)>> = HashMap::new();
        for ((name, labels), v) in &e.samples {
            if *name != bucket {
                continue;
            }
            let le = labels.iter().find(|(k, _)| k == "le").unwrap();
            let rest: Vec<_> = labels.iter().filter(|(k, _)| k != "le").cloned().collect();
            series
                .entry(rest)
                .or_default()
                .push((parse_value(&le.1), *v));
        }
        assert!(!series.is_empty(), "{family} has buckets");
        for (labels, mut buckets) in series {
            buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
            assert_eq!(
                buckets.last().unwrap().0,
                f64::INFINITY,
                "{family} ends in +Inf"
            );
            for w in buckets.windows(2) {
                assert!(w[0].0 < w[1].0, "{family}: a bound twice");
                assert!(w[0].1 <= w[1].1, "{family} {labels:?}: not cumulative");
            }
            let key = |suffix: &str| (format!("{family}{suffix}"), labels.clone());
            let count = e.samples[&key("_count")];
            assert_eq!(
                buckets.last().unwrap().1,
                count,
                "{family} {labels:?}: +Inf != _count"
            );
            assert!(e.samples[&key("_sum")] >= 0.0);
        }
    }
}

// ---------------------------------------------------------------------------

#[test]
fn a_scrape_parses_strictly_and_counts_the_workload() {
    let (server, maddr) = start(&["-t", "2"]);
    let mut c = open_client(server.addr());
    const KEYS: usize = 40;
    for i in 0..KEYS {
        roundtrip(
            &mut c,
            format!("set key{i} 0 0 2\r\nv{}\r\n", i % 10).as_bytes(),
            b"STORED\r\n",
        );
    }
    // 40 gets of one present key each, then 3 gets of 5 keys: 2 present, 3 absent.
    for i in 0..KEYS {
        roundtrip(&mut c, format!("get key{i}\r\n").as_bytes(), b"END\r\n");
    }
    for _ in 0..3 {
        roundtrip(&mut c, b"get key1 nope1 key2 nope2 nope3\r\n", b"END\r\n");
    }
    roundtrip(&mut c, b"delete key0\r\n", b"DELETED\r\n");
    roundtrip(&mut c, b"delete key0\r\n", b"NOT_FOUND\r\n");

    let e = scrape(maddr);
    let hits = KEYS + 3 * 2;
    let misses = 3 * 3;
    assert_eq!(e.get("memcached_up", &[]), 1.0);
    assert_eq!(
        e.get(
            "memcached_commands_total",
            &[("command", "get"), ("status", "hit")]
        ),
        hits as f64
    );
    assert_eq!(
        e.get(
            "memcached_commands_total",
            &[("command", "get"), ("status", "miss")]
        ),
        misses as f64
    );
    assert_eq!(
        e.get(
            "memcached_commands_total",
            &[("command", "set"), ("status", "hit")]
        ),
        KEYS as f64
    );
    for (status, n) in [("hit", 1.0), ("miss", 1.0)] {
        assert_eq!(
            e.get(
                "memcached_commands_total",
                &[("command", "delete"), ("status", status)]
            ),
            n
        );
    }
    assert_eq!(e.get("memcached_current_items", &[]), (KEYS - 1) as f64);
    assert_eq!(e.get("memcached_items_total", &[]), KEYS as f64);
    assert_eq!(e.get("memcached_current_connections", &[]), 1.0);
    assert_eq!(e.get("memcached_limit_bytes", &[]), (64 << 20) as f64);
    assert_eq!(e.types["memcached_commands_total"], "counter");
    assert_eq!(e.types["memcached_current_items"], "gauge");
    assert!(e.get("memcached_current_bytes", &[]) > 0.0);
    // Per shard: the two shards' items add up to the total.
    assert_eq!(e.sum("corecached_shard_current_items"), (KEYS - 1) as f64);
    assert_eq!(
        e.get("corecached_shard_current_items", &[("shard", "0")])
            + e.get("corecached_shard_current_items", &[("shard", "1")]),
        (KEYS - 1) as f64
    );
    // Per task: every shard's engine tasks, with their queue.
    for shard in ["0", "1"] {
        let runs = e.get(
            "corecached_task_runs_total",
            &[
                ("shard", shard),
                ("queue", "NonIO"),
                ("task", "expiry_pager"),
            ],
        );
        assert!(runs >= 1.0, "the pager ran on shard {shard}");
    }
    // Latency: one measurement per request (each request here is alone in its pass).
    let lat = "corecached_request_duration_seconds";
    assert_eq!(e.types[lat], "histogram");
    assert_eq!(
        e.get(&format!("{lat}_count"), &[("command", "get")]),
        (KEYS + 3) as f64
    );
    assert_eq!(
        e.get(&format!("{lat}_count"), &[("command", "set")]),
        KEYS as f64
    );
    assert_eq!(
        e.get(&format!("{lat}_count"), &[("command", "delete")]),
        2.0
    );
    assert!(e.get(&format!("{lat}_sum"), &[("command", "get")]) > 0.0);
    assert_eq!(e.get(&format!("{lat}_count"), &[("command", "touch")]), 0.0);
}

#[test]
fn binary_and_meta_requests_are_timed_by_kind() {
    use common::binary::{request, set_ext, status, BinConn};
    let (server, maddr) = start(&[]);
    let mut b = BinConn::open(server.addr());
    // Each exchange ends with a noop (timed as `other`).
    let set = b.exchange(&request(0x01, 1, 0, &set_ext(0, 0), b"bk", b"v"));
    assert_eq!(status(&set.packets[0]), 0);
    for key in [&b"bk"[..], b"absent"] {
        b.exchange(&request(0x00, 2, 0, b"", key, b""));
    }
    let mut c = open_client(server.addr());
    roundtrip(&mut c, b"ms mk 1\r\nx\r\n", b"HD\r\n");
    roundtrip(&mut c, b"mg mk v\r\n", b"x\r\n");
    let e = scrape(maddr);
    let count = |cmd| {
        e.get(
            "corecached_request_duration_seconds_count",
            &[("command", cmd)],
        )
    };
    assert_eq!(count("get"), 2.0);
    assert_eq!(count("set"), 1.0);
    assert_eq!(count("meta"), 2.0);
    assert_eq!(count("other"), 3.0, "the three noops");
}

#[test]
fn keep_alive_head_and_pipelined_requests() {
    let (_server, maddr) = start(&[]);
    let mut s = open_client(maddr);
    // Two requests in one write, then HEAD, then one that asks to close.
    s.write_all(b"GET /metrics HTTP/1.1\r\n\r\nGET /metrics?x=1 HTTP/1.1\r\n\r\n")
        .unwrap();
    let mut pending = Vec::new();
    for _ in 0..2 {
        let r = read_next(&mut s, &mut pending, true);
        assert_eq!(r.status, 200);
        assert!(!r.headers.contains_key("connection"));
        parse_exposition(std::str::from_utf8(&r.body).unwrap());
    }
    assert!(pending.is_empty());
    s.write_all(b"HEAD /metrics HTTP/1.1\r\n\r\n").unwrap();
    let r = read_response(&mut s, false);
    assert_eq!(r.status, 200);
    assert!(r.headers["content-length"].parse::<usize>().unwrap() > 0);
    s.write_all(b"GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, true);
    assert_eq!(r.headers["connection"], "close");
    assert_closed(&mut s);
}

#[test]
fn other_paths_methods_and_bad_requests() {
    let (mut server, maddr) = start(&[]);
    let r = http(maddr, "GET /nope HTTP/1.1\r\n\r\n");
    assert_eq!((r.status, r.body.as_slice()), (404, &b"Not Found\n"[..]));
    let r = http(maddr, "GET / HTTP/1.0\r\n\r\n");
    assert_eq!(r.status, 404);
    let r = http(maddr, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "GET, HEAD");
    for bad in [
        "GET /metrics HTTP/2\r\n\r\n",
        "GET /metrics\r\n\r\n",
        "hello\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
        "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    ] {
        let mut s = open_client(maddr);
        s.write_all(bad.as_bytes()).unwrap();
        let r = read_response(&mut s, true);
        assert_eq!(r.status, 400, "{bad:?}");
        assert_eq!(r.headers["connection"], "close");
        assert_closed(&mut s);
    }
    server.assert_alive();
    scrape(maddr);
}

#[test]
fn a_huge_header_is_refused_and_hurts_nothing() {
    let (mut server, maddr) = start(&[]);
    let mut s = open_client(maddr);
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = b"GET /metrics HTTP/1.1\r\nX-Huge: ".to_vec();
    req.resize(1 << 20, b'a');
    // The server stops reading at its bound, answers 400 and closes; closing with unread
    // bytes may reset the connection, and the reset may overtake the answer.
    let _ = s.write_all(&req);
    let mut got = Vec::new();
    match s.read_to_end(&mut got) {
        Ok(_) => assert!(
            got.starts_with(b"HTTP/1.1 400 Bad Request\r\n"),
            "{:?}",
            String::from_utf8_lossy(&got)
        ),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    server.assert_alive();
    let mut c = open_client(server.addr());
    roundtrip(&mut c, b"set k 0 0 1\r\nx\r\n", b"STORED\r\n");
    assert_eq!(scrape(maddr).get("memcached_current_items", &[]), 1.0);
}

#[test]
fn an_idle_or_slow_scraper_blocks_nothing() {
    let (mut server, maddr) = start(&[]);
    // One connected and silent, one that sent half a head and stopped.
    let _idle = open_client(maddr);
    let mut half = open_client(maddr);
    half.write_all(b"GET /metrics HTTP/1.1\r\nHost:").unwrap();
    let started = Instant::now();
    let mut c = open_client(server.addr());
    for i in 0..50 {
        roundtrip(
            &mut c,
            format!("set k{i} 0 0 1\r\nx\r\n").as_bytes(),
            b"STORED\r\n",
        );
    }
    let e = scrape(maddr);
    assert_eq!(e.get("memcached_current_items", &[]), 50.0);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "requests and scrapes went on beside the slow scrapers"
    );
    server.assert_alive();
}

/// The TCP ports process `pid` listens on (from /proc: its socket inodes in LISTEN state).
fn listening_ports(pid: u32) -> Vec<u16> {
    let mut inodes = HashSet::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
    {
        if let Ok(target) = std::fs::read_link(fd.path()) {
            let t = target.to_string_lossy().into_owned();
            if let Some(inode) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                inodes.insert(inode.to_string());
            }
        }
    }
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address is field 1 (ADDR:PORT in hex), st field 3 (0A: LISTEN), inode 9.
            if f.len() > 9 && f[3] == "0A" && inodes.contains(f[9]) {
                let port = f[1].rsplit(':').next().unwrap();
                ports.push(u16::from_str_radix(port, 16).unwrap());
            }
        }
    }
    ports.sort();
    ports.dedup();
    ports
}

#[test]
fn without_the_flag_there_is_no_listener() {
    let server = CorecachedServer::start(&[]);
    assert_eq!(listening_ports(server.pid()), vec![server.addr().port()]);
    assert!(!server.stderr_log().contains("metrics on"));
    let (server, maddr) = start(&[]);
    let mut want = vec![server.addr().port(), maddr.port()];
    want.sort();
    assert_eq!(listening_ports(server.pid()), want);
}

#[test]
fn start_up_errors_name_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = format!("127.0.0.1:{}", taken.local_addr().unwrap().port());
    for value in ["localhost", "127.0.0.1", "nonsense:80", busy.as_str()] {
        let out = Command::new(env!("CARGO_BIN_EXE_corecached"))
            .args(["-p", "0", "-l", "127.0.0.1", "--metrics", value])
            .stdin(Stdio::null())
            .output()
            .expect("run corecached");
        let text = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "--metrics {value}: {text}");
        assert!(text.contains("--metrics"), "--metrics {value}: {text}");
        assert!(!text.contains("panicked"), "--metrics {value}: {text}");
    }
}

/// The reader above is what makes the scrape tests strict: it refuses what the format
/// forbids.
#[test]
fn the_strict_reader_rejects_what_the_format_forbids() {
    let good = "# HELP a_total x\n# TYPE a_total counter\na_total{k=\"v\"} 1\n";
    parse_exposition(good);
    for bad in [
        "a 1\n",                                      // no TYPE
        "# TYPE a gauge\na 1",                        // no final newline
        "# TYPE a gauge\na{k=\"v} 1\n",               // unterminated value
        "# TYPE a gauge\na{k=\"\\t\"} 1\n",           // bad escape
        "# TYPE a gauge\na{1k=\"v\"} 1\n",            // label name
        "# TYPE a gauge\na one\n",                    // value
        "# TYPE a gauge\na 1 1700000000\n",           // timestamp
        "# TYPE a gauge\n# TYPE a gauge\na 1\n",      // TYPE twice
        "# TYPE a gauge\n# TYPE b gauge\nb 1\na 2\n", // not together
        "# TYPE a gauge\na 1\na 2\n",                 // series twice
        "# TYPE a wibble\na 1\n",                     // type
        "# a comment\n",                              // other comment
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
    ] {
        let r = std::panic::catch_unwind(|| parse_exposition(bad));
        assert!(r.is_err(), "accepted: {bad:?}");
    }
}

#[test]
fn a_connected_scraper_does_not_hold_the_stop() {
    let (mut server, maddr) = start(&["-t", "2"]);
    let mut s = open_client(maddr);
    s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s, true).status, 200);
    // The connection stays open (keep-alive) while the server is stopped.
    assert_eq!(
        server.signal_and_wait(SIGTERM, Duration::from_secs(15)),
        Some(0),
        "{}",
        server.stderr_log()
    );
}

const SIGTERM: i32 = 15;
