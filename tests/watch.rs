//! `watch`: memcached's log streams. The replies to `watch …` and the lines' fields are
//! compared byte for byte with memcached 1.6.18 (ts, gid and the client's socket number
//! masked: they depend on the moment and the process); a watcher on one shard sees the
//! requests every shard runs; a watcher that never reads slows no client and later says
//! how many lines it missed; `-W`; a watcher that goes is forgotten.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::binary::{incr_ext, request, set_ext};
use common::{stats_on, CorecachedServer, MemcachedServer};

const DEADLINE: Duration = Duration::from_secs(10);

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).unwrap();
    s
}

/// Reads from `s` until `done` says the bytes so far are complete, or the deadline.
fn read_until(s: &mut TcpStream, limit: Duration, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let end = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while !done(&got) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        s.set_read_timeout(Some(left.min(Duration::from_millis(200))))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    got
}

/// Starts watching `streams` on a new connection; returns it once `OK` came.
fn watcher(addr: SocketAddr, streams: &str) -> TcpStream {
    let mut w = connect(addr);
    w.write_all(format!("watch {streams}\r\n").as_bytes())
        .unwrap();
    let ok = read_until(&mut w, DEADLINE, |b| b.len() >= 4);
    assert_eq!(ok, b"OK\r\n", "watch {streams}");
    w
}

/// Lines from a watcher until `n` have come (or the deadline), each with its `ts=… gid=… `
/// cut off and its `cfd=` and `rport=` masked.
fn lines(w: &mut TcpStream, n: usize) -> Vec<String> {
    let got = read_until(w, DEADLINE, |b| {
        b.iter().filter(|&&c| c == b'\n').count() >= n
    });
    String::from_utf8(got).unwrap().lines().map(mask).collect()
}

fn mask(line: &str) -> String {
    let rest = match line.strip_prefix("ts=") {
        Some(r) => {
            let (ts, r) = r.split_once(' ').unwrap();
            let (secs, usecs) = ts.split_once('.').unwrap();
            assert!(secs.parse::<u64>().is_ok() && usecs.parse::<u32>().unwrap() < 1_000_000);
            let r = r.strip_prefix("gid=").expect("gid after ts");
            let (gid, r) = r.split_once(' ').unwrap();
            assert!(gid.parse::<u64>().is_ok(), "{line}");
            r
        }
        None => line,
    };
    rest.split(' ')
        .map(|f| match f.split_once('=') {
            Some((k @ ("cfd" | "rport"), _)) => format!("{k}=N"),
            _ => f.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sends `req` on a connection and reads `reply_len` bytes of reply.
fn run(addr: SocketAddr, req: &[u8], reply: &[u8]) {
    let mut c = connect(addr);
    c.write_all(req).unwrap();
    let got = read_until(&mut c, DEADLINE, |b| b.len() >= reply.len());
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(reply)
    );
}

/// The replies to `watch` lines that do not start a stream, and the first bytes of those
/// that do, are memcached's. A `noreply` line is answered by nothing, and the
/// connection goes on.
#[test]
fn watch_replies_are_memcacheds() {
    let Some(mc) = MemcachedServer::start(&[]) else {
        eprintln!("skipped: memcached is not installed");
        return;
    };
    let Some(mc_w) = MemcachedServer::start(&["-W"]) else {
        return;
    };
    let cc = CorecachedServer::start(&["-t", "2"]);
    let cc_w = CorecachedServer::start(&["-W"]);
    let table: &[&[u8]] = &[
        b"watch\r\n",
        b"watch fetchers\r\n",
        b"watch  fetchers mutations\r\n",
        b"watch evictions connevents sysevents rawcmds\r\n",
        b"watch proxyreqs proxyevents proxyuser\r\n",
        b"watch deletions\r\nversion\r\n",
        b"watch bogus\r\nversion\r\n",
        b"watch fetchers bogus\r\nversion\r\n",
        b"watch fetchers noreply\r\nversion\r\n",
        b"watch noreply\r\nversion\r\n",
        b"WATCH\r\nversion\r\n",
        b"watch\n",
    ];
    for (m, c) in [(&mc, &cc), (&mc_w, &cc_w)] {
        for &req in table {
            // A request that ends in `version` is answered up to its `VERSION`; the others
            // by one line (memcached's logger sends `OK` within a second or so), compared
            // without the stream's lines that may follow it in the same read (memcached's
            // LRU crawler logs `sysevents` on its own schedule).
            let until_version = req.ends_with(b"version\r\n");
            let first_line = |b: &[u8]| b.windows(2).position(|w| w == b"\r\n").map(|i| i + 2);
            let answer = |addr| {
                let mut s = connect(addr);
                s.write_all(req).unwrap();
                let mut got = read_until(&mut s, DEADLINE, |b| {
                    if until_version {
                        b.ends_with(b"1.6.18\r\n")
                    } else {
                        first_line(b).is_some()
                    }
                });
                if !until_version {
                    got.truncate(first_line(&got).unwrap_or(got.len()));
                }
                got
            };
            assert_eq!(
                String::from_utf8_lossy(&answer(c.addr())),
                String::from_utf8_lossy(&answer(m.addr())),
                "{}",
                String::from_utf8_lossy(req)
            );
        }
    }
}

/// The lines of a sequence of requests, fields and order, are memcached's (one shard, so
/// the order is the requests').
#[test]
fn lines_are_memcacheds() {
    let Some(mc) = MemcachedServer::start(&[]) else {
        eprintln!("skipped: memcached is not installed");
        return;
    };
    let cc = CorecachedServer::start(&["-t", "1"]);
    let req: &[u8] = b"set a 5 0 3\r\nabc\r\nget a b\r\nadd a 0 0 1\r\nx\r\n\
        replace zz 0 0 1\r\nx\r\nappend a 0 0 1\r\nx\r\nprepend a 0 0 1\r\ny\r\ngets a\r\n\
        cas a 0 100 1 999\r\nz\r\ncas q 0 0 1 1\r\nz\r\nincr a 1\r\nset n 0 0 1\r\n5\r\n\
        incr n 1\r\ndecr n 1\r\ntouch n 10\r\ngat 0 n\r\ndelete n\r\ndelete n\r\nmg a v\r\n\
        ms b 2 T50\r\nhi\r\nms b 1 ME\r\nx\r\nms c 1 MA\r\nx\r\nmd b\r\nma n\r\n\
        flush_all\r\nget a\r\nquit\r\n";
    let mut seen = Vec::new();
    for addr in [mc.addr(), cc.addr()] {
        let mut w = watcher(addr, "fetchers mutations connevents");
        let mut c = connect(addr);
        c.write_all(req).unwrap();
        // 38 lines, the connection's opening and closing included.
        seen.push(lines(&mut w, 38));
    }
    assert_eq!(seen[1].join("\n"), seen[0].join("\n"));
    assert_eq!(seen[0].len(), 38, "{:#?}", seen[0]);
}

/// The binary protocol's lines are memcached's: its storage commands (a CAS makes a set a
/// `cas`, not an append), the quiet ones, lookups, and an incr that creates its key.
#[test]
fn binary_lines_are_memcacheds() {
    let Some(mc) = MemcachedServer::start(&[]) else {
        eprintln!("skipped: memcached is not installed");
        return;
    };
    let cc = CorecachedServer::start(&["-t", "1"]);
    let packets: Vec<Vec<u8>> = vec![
        request(0x01, 0, 0, &set_ext(5, 0), b"a", b"abc"),
        request(0x02, 0, 0, &set_ext(0, 0), b"a", b"x"),
        request(0x03, 0, 0, &set_ext(0, 0), b"zz", b"x"),
        request(0x0e, 0, 0, b"", b"a", b"x"),
        request(0x0f, 0, 0, b"", b"a", b"y"),
        request(0x01, 0, 999, &set_ext(0, 100), b"a", b"z"),
        request(0x01, 0, 1, &set_ext(0, 0), b"q", b"z"),
        request(0x11, 0, 0, &set_ext(2, 50), b"b", b"hi"),
        request(0x12, 0, 0, &set_ext(0, 0), b"b", b"x"),
        request(0x00, 0, 0, b"", b"a", b""),
        request(0x0c, 0, 0, b"", b"a", b""),
        request(0x04, 0, 0, b"", b"b", b""),
        request(0x05, 0, 0, &incr_ext(1, 7, 0), b"n", b""),
        request(0x1c, 0, 0, &10u32.to_be_bytes(), b"n", b""),
        request(0x1d, 0, 0, &0u32.to_be_bytes(), b"n", b""),
        request(0x0e, 0, 12345, b"", b"a", b"q"),
        request(0x19, 0, 0, b"", b"nokey", b"q"),
        request(0x15, 0, 0, &incr_ext(1, 7, u32::MAX), b"n", b""),
        request(0x16, 0, 0, &incr_ext(1, 7, u32::MAX), b"zz9", b""),
    ];
    let req = packets.concat();
    let mut seen = Vec::new();
    for addr in [mc.addr(), cc.addr()] {
        let mut w = watcher(addr, "fetchers mutations");
        let mut c = connect(addr);
        c.write_all(&req).unwrap();
        seen.push(lines(&mut w, 32));
    }
    assert_eq!(seen[1].join("\n"), seen[0].join("\n"));
    assert_eq!(seen[0].len(), 32, "{:#?}", seen[0]);
}

/// A binary set over `-I` while mutations are watched logs `too_large`, as a text one
/// does, and the server goes on (memcached 1.6.18 crashes here: `WATCH_DIFFERENCES`).
#[test]
fn a_binary_store_too_large_is_logged() {
    let cc = CorecachedServer::start(&["-t", "1", "-I", "1k"]);
    let mut w = watcher(cc.addr(), "mutations");
    let mut c = connect(cc.addr());
    let mut req = request(0x01, 0, 0, &set_ext(0, 0), b"big", &[b'x'; 4096]);
    req.extend_from_slice(&request(0x0a, 0, 0, b"", b"", b""));
    c.write_all(&req).unwrap();
    // "Too large." (E2BIG, 10 bytes of body), then the noop's empty reply.
    let got = read_until(&mut c, DEADLINE, |b| b.len() >= 24 + 10 + 24);
    assert_eq!(got.len(), 58, "{got:?}");
    assert_eq!((got[1], u16::from_be_bytes([got[6], got[7]])), (0x01, 0x03));
    assert_eq!(&got[24..34], b"Too large.");
    assert_eq!(got[35], 0x0a);
    let got = lines(&mut w, 1);
    // The class field carries the socket number, as in memcached's text too_large line.
    let line = got.first().map(String::as_str).unwrap_or("");
    assert!(
        line.starts_with("type=item_store key=big status=too_large cmd=set ttl=0 clsid=")
            && line.ends_with(" cfd=N size=0"),
        "{got:?}"
    );
}

/// With two shards, a watcher sees the lines of every key whichever shard owns it and
/// whichever shard the watcher is on, numbered 1, 2, 3… along its stream.
#[test]
fn a_watcher_sees_every_shard() {
    let cc = CorecachedServer::start(&["-t", "2"]);
    let keys: Vec<String> = (0..16).map(|i| format!("key{i}")).collect();
    let owners: std::collections::HashSet<usize> = keys
        .iter()
        .map(|k| corecached::shard::shard_for(k.as_bytes(), 2))
        .collect();
    assert_eq!(owners.len(), 2, "the keys are on both shards");
    // Several watchers: the kernel spreads their connections over the shards.
    let mut ws: Vec<TcpStream> = (0..4).map(|_| watcher(cc.addr(), "mutations")).collect();
    let mut req = Vec::new();
    for k in &keys {
        req.extend_from_slice(format!("set {k} 0 0 1\r\nx\r\n").as_bytes());
    }
    run(cc.addr(), &req, &b"STORED\r\n".repeat(keys.len()));
    for w in &mut ws {
        let got = read_until(w, DEADLINE, |b| {
            b.iter().filter(|&&c| c == b'\n').count() >= keys.len()
        });
        let text = String::from_utf8(got).unwrap();
        let mut stored: Vec<String> = Vec::new();
        for (i, l) in text.lines().enumerate() {
            let gid = l.split(' ').nth(1).unwrap();
            assert_eq!(gid, format!("gid={}", i + 1), "{text}");
            stored.push(mask(l));
        }
        stored.sort();
        let mut want: Vec<String> = keys
            .iter()
            .map(|k| {
                format!("type=item_store key={k} status=stored cmd=set ttl=0 clsid=1 cfd=N size=1")
            })
            .collect();
        want.sort();
        assert_eq!(stored, want);
    }
}

/// A watcher that never reads: the clients' requests go on at their pace, the watcher's
/// lines are skipped and counted, and once it reads again a `skipped=N` line says how
/// many it missed before the next line.
#[test]
fn a_slow_watcher_skips_lines_and_says_so() {
    let cc = CorecachedServer::start(&["-t", "2"]);
    let w = watcher(cc.addr(), "fetchers");
    let mut w = w;
    let mut c = connect(cc.addr());
    let batch = b"get nothing-here-at-all\r\n".repeat(1000);
    let start = Instant::now();
    let mut skipped = 0;
    // Enough lines to fill the socket's buffers and the outbox (a fast build drops many at
    // the shard's buffer first, between the log task's passes): at most 4M gets.
    for _ in 0..4000 {
        c.write_all(&batch).unwrap();
        let got = read_until(&mut c, DEADLINE, |b| b.len() >= 5 * 1000);
        assert_eq!(got, b"END\r\n".repeat(1000));
        let stats = stats_on(&mut c, "");
        skipped = stats["log_watcher_skipped"].parse::<u64>().unwrap();
        if skipped > 0 {
            break;
        }
    }
    assert!(skipped > 0, "lines were skipped");
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "the client was not held back by the watcher"
    );
    // Drain the watcher; a new line must then come after a skipped line.
    let deadline = Instant::now() + DEADLINE;
    let mut all = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    w.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    while Instant::now() < deadline && !all.windows(9).any(|x| x == b"\nskipped=") {
        run(cc.addr(), b"get now-read-again\r\n", b"END\r\n");
        loop {
            match w.read(&mut buf) {
                Ok(0) => panic!("the watcher was closed"),
                Ok(n) => all.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
    }
    let text = String::from_utf8_lossy(&all);
    let at = text.find("\nskipped=").expect("a skipped= line");
    let line = text[at + 1..].lines().next().unwrap();
    let n: u64 = line.strip_prefix("skipped=").unwrap().parse().unwrap();
    // Lines go on being skipped after the first count was read, while the watcher drains.
    let skipped = stats_on(&mut c, "")["log_watcher_skipped"]
        .parse::<u64>()
        .unwrap();
    assert!(
        n > 0 && n <= skipped,
        "{line} with {skipped} skipped in all"
    );
    let next = text[at + 1..].lines().nth(1).unwrap_or("");
    assert!(next.is_empty() || next.starts_with("ts="), "{next}");
}

/// Closing the watcher forgets it (`log_watchers`); memcached's limit of 20 watchers.
#[test]
fn watchers_are_counted_limited_and_forgotten() {
    let cc = CorecachedServer::start(&["-t", "2"]);
    let mut c = connect(cc.addr());
    let count = |c: &mut TcpStream| stats_on(c, "")["log_watchers"].parse::<u32>().unwrap();
    assert_eq!(count(&mut c), 0);
    let ws: Vec<TcpStream> = (0..20).map(|_| watcher(cc.addr(), "")).collect();
    assert_eq!(count(&mut c), 20);
    let mut extra = connect(cc.addr());
    extra.write_all(b"watch fetchers\r\nversion\r\n").unwrap();
    let got = read_until(&mut extra, DEADLINE, |b| b.ends_with(b"1.6.18\r\n"));
    assert_eq!(
        got,
        b"WATCHER_TOO_MANY log watcher limit reached\r\nVERSION 1.6.18\r\n"
    );
    drop(ws);
    let end = Instant::now() + DEADLINE;
    while count(&mut c) != 0 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(count(&mut c), 0, "closed watchers are forgotten");
    let stats = stats_on(&mut c, "");
    assert!(stats["log_worker_written"].parse::<u64>().is_ok());
    // Nobody watches: requests make no lines.
    let before = stats["log_worker_written"].clone();
    run(cc.addr(), b"get a\r\n", b"END\r\n");
    assert_eq!(stats_on(&mut c, "")["log_worker_written"], before);
}

/// Evictions are logged with memcached's fields.
#[test]
fn evictions_are_logged() {
    let cc = CorecachedServer::start(&["-t", "1", "-m", "8"]);
    let mut w = watcher(cc.addr(), "evictions");
    let mut c = connect(cc.addr());
    let value = vec![b'v'; 4000];
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut i = 0u32;
    while got.is_empty() && Instant::now() < deadline && i < 100_000 {
        let mut req = Vec::new();
        for _ in 0..200 {
            req.extend_from_slice(format!("set k{i} 0 0 {}\r\n", value.len()).as_bytes());
            req.extend_from_slice(&value);
            req.extend_from_slice(b"\r\n");
            i += 1;
        }
        c.write_all(&req).unwrap();
        let r = read_until(&mut c, DEADLINE, |b| b.len() >= 8 * 200);
        assert_eq!(r, b"STORED\r\n".repeat(200));
        w.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        let mut buf = [0u8; 4096];
        if let Ok(n) = w.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    let text = String::from_utf8_lossy(&got);
    let first = mask(text.lines().next().expect("an eviction line"));
    let fields: Vec<&str> = first
        .split(' ')
        .map(|f| f.split('=').next().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["type", "key", "fetch", "ttl", "la", "clsid", "size"],
        "{first}"
    );
    assert!(first.starts_with("type=eviction key=k"), "{first}");
    assert!(
        first.contains(" fetch=no ttl=-1 ") && first.ends_with(" size=4000"),
        "{first}"
    );
}

/// A watcher starts after the requests before `watch` on its connection, those forwarded
/// to the other shard included: it sees none of their lines (another watcher already
/// has the shards logging).
#[test]
fn a_watcher_starts_after_its_earlier_requests() {
    let cc = CorecachedServer::start(&["-t", "2"]);
    let _other = watcher(cc.addr(), "fetchers");
    let keys: Vec<String> = (0..16).map(|i| format!("early{i}")).collect();
    let mut w = connect(cc.addr());
    w.write_all(format!("get {}\r\nwatch fetchers\r\n", keys.join(" ")).as_bytes())
        .unwrap();
    let got = read_until(&mut w, DEADLINE, |b| b.ends_with(b"OK\r\n"));
    assert_eq!(got, b"END\r\nOK\r\n");
    run(cc.addr(), b"get late\r\n", b"END\r\n");
    let seen = lines(&mut w, 1);
    assert_eq!(
        seen,
        ["type=item_get key=late status=not_found clsid=0 cfd=N size=0"]
    );
}

/// `-o worker_logbuf_size` and `-o watcher_logbuf_size` (kilobytes) size the buffers and
/// show in `stats settings` as memcached shows them; a small shard buffer drops lines a
/// burst makes before the log task takes them.
#[test]
fn log_buffer_sizes_are_honoured() {
    let sizes = |s: &std::collections::HashMap<String, String>| {
        (
            s["worker_logbuf_size"].clone(),
            s["watcher_logbuf_size"].clone(),
        )
    };
    // memcached 1.6.18 also reads `worker_logbuf_size`'s value as `slab_sizes` (its
    // option falls through), so it starts only with a size that is a valid slab size.
    let opts = "worker_logbuf_size=64,watcher_logbuf_size=8";
    let cc = CorecachedServer::start(&["-t", "1", "-o", opts]);
    let mut c = connect(cc.addr());
    let settings = stats_on(&mut c, "settings");
    assert_eq!(sizes(&settings), ("65536".into(), "8192".into()));
    match MemcachedServer::start(&["-o", opts]) {
        Some(mc) => {
            let mut m = connect(mc.addr());
            assert_eq!(sizes(&stats_on(&mut m, "settings")), sizes(&settings));
        }
        None => eprintln!("memcached is not installed: its stats settings were not compared"),
    }
    let cc = CorecachedServer::start(&["-t", "1", "-o", "worker_logbuf_size=4"]);
    let mut c = connect(cc.addr());
    assert_eq!(sizes(&stats_on(&mut c, "settings")).0, "4096");
    let _w = watcher(cc.addr(), "fetchers");
    // 100 lines of about 90 bytes are more than 4 KiB and far less than the default 64.
    let batch = b"get no-such-key-here\r\n".repeat(100);
    let mut dropped = 0;
    for _ in 0..20 {
        c.write_all(&batch).unwrap();
        let got = read_until(&mut c, DEADLINE, |b| b.len() >= 5 * 100);
        assert_eq!(got, b"END\r\n".repeat(100));
        dropped = stats_on(&mut c, "")["log_worker_dropped"]
            .parse::<u64>()
            .unwrap();
        if dropped > 0 {
            break;
        }
    }
    assert!(dropped > 0, "a 4 KiB shard buffer dropped lines");
}

/// What memcached 1.6.18 logs, masked, for a client that sets and gets `k` and closes:
/// on a unix socket (`rip=unix rport=0 transport=local`) or over IPv6 (`rip=::1`).
fn session_lines(rip: &str, transport: &str) -> Vec<String> {
    vec![
        format!("type=conn_new rip={rip} rport=N transport={transport} cfd=N"),
        "type=item_get key=k status=not_found clsid=0 cfd=N size=0".into(),
        "type=item_store key=k status=stored cmd=set ttl=0 clsid=1 cfd=N size=1".into(),
        "type=item_get key=k status=found clsid=1 cfd=N size=1".into(),
        format!("type=conn_close rip={rip} rport=N transport={transport} reason=normal cfd=N"),
    ]
}

/// Watching over a unix socket, and over IPv6: the watcher's stream and the lines naming
/// those clients are memcached's (compared with memcached -s when it is installed; the
/// IPv6 lines against memcached's recorded ones).
#[test]
fn watchers_on_a_unix_socket_and_ipv6_see_memcacheds_lines() {
    use common::process::{start_exact, unix_client, wait_for_unix, TempDir};
    use std::os::unix::net::UnixStream;

    fn watch_session<C: Read + Write>(
        mut w: impl Read + Write,
        client: impl Fn() -> C,
    ) -> Vec<String> {
        w.write_all(b"watch connevents mutations fetchers\r\n")
            .unwrap();
        let mut ok = [0u8; 4];
        w.read_exact(&mut ok).unwrap();
        assert_eq!(&ok, b"OK\r\n");
        // The client connects once the watch has started, so its conn_new is logged.
        let mut c = client();
        c.write_all(b"set k 0 0 1\r\nx\r\nget k\r\n").unwrap();
        let want = b"STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n";
        let mut got = vec![0u8; want.len()];
        c.read_exact(&mut got).unwrap();
        assert_eq!(got, want);
        drop(c);
        let mut text = Vec::new();
        let mut buf = [0u8; 4096];
        let end = Instant::now() + DEADLINE;
        while text.iter().filter(|&&b| b == b'\n').count() < 5 && Instant::now() < end {
            match w.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => text.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("read: {e}"),
            }
        }
        String::from_utf8(text)
            .unwrap()
            .lines()
            .map(mask)
            .map(|l| {
                l.split(' ')
                    .map(|f| {
                        if f.starts_with("rport=") {
                            "rport=N"
                        } else {
                            f
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    let dir = TempDir::new("watch-unix");
    let ours = dir.join("cc.sock");
    // One shard: with two, lines of different shards may come in either order.
    let mut server = start_exact(&["-s", ours.to_str().unwrap(), "-t", "1"])
        .unwrap_or_else(|f| panic!("corecached -s did not start: {f:?}"));
    let open = |p: &std::path::Path| -> UnixStream { unix_client(p) };
    let want = session_lines("unix", "local");
    assert_eq!(watch_session(open(&ours), || open(&ours)), want);
    match common::memcached_path() {
        Some(bin) => {
            let theirs = dir.join("mc.sock");
            let mut mc = std::process::Command::new(bin)
                .args(["-u", "root", "-U", "0", "-t", "1", "-s"])
                .arg(&theirs)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("spawn memcached");
            assert!(wait_for_unix(&theirs), "memcached -s did not listen");
            let got = watch_session(open(&theirs), || open(&theirs));
            let _ = mc.kill();
            let _ = mc.wait();
            assert_eq!(got, want, "memcached -s logs what was recorded");
        }
        None => eprintln!(
            "memcached is not installed: the unix lines are checked against recorded ones"
        ),
    }
    assert_eq!(server.stop(libc::SIGTERM), Some(0));

    match start_exact(&["-l", "::1", "-p", "0", "-t", "1"]) {
        Ok(mut v6) => {
            let addr = v6.tcp_addrs()[0];
            let got = watch_session(connect(addr), || connect(addr));
            assert_eq!(got, session_lines("::1", "tcp"));
            assert_eq!(v6.stop(libc::SIGTERM), Some(0));
        }
        Err(f) => eprintln!("skipped the IPv6 half: ::1 is not available here ({f:?})"),
    }
}
