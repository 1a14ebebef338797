//! memcached's slab and LRU tuning commands (`slabs reassign|automove`, `lru
//! tune|mode|temp_ttl`) against memcached 1.6.18: the same reply bytes for the same lines,
//! and `stats settings` showing what they set. Skipped (with a message) when memcached is not
//! installed.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;

use common::{exchange, open_client, roundtrip, stat_lines, CorecachedServer, MemcachedServer};

fn send(addr: SocketAddr, req: &[u8]) -> String {
    let r = exchange(addr, req);
    let show = String::from_utf8_lossy(req).into_owned();
    assert!(!r.closed, "server closed on {show:?}");
    String::from_utf8_lossy(&r.bytes).into_owned()
}

fn settings(addr: SocketAddr) -> HashMap<String, String> {
    let mut s = open_client(addr);
    stat_lines(&roundtrip(&mut s, b"stats settings\r\n", b"END\r\n"))
        .into_iter()
        .collect()
}

/// Each line alone on a fresh connection, in order (some change settings the next read).
const LINES: &[&str] = &[
    "slabs\r\n",
    "slabs foo\r\n",
    "slabs automove\r\n",
    "slabs automove 3\r\n",
    "slabs automove x\r\n",
    "slabs automove -1\r\n",
    "slabs automove 0\r\n",
    "slabs automove 2\r\n",
    "slabs automove 1 noreply\r\n",
    "slabs automove ratio\r\n",
    "slabs automove ratio 0.5\r\n",
    "slabs automove ratio x\r\n",
    "slabs automove ratio 0.25 noreply\r\n",
    "slabs reassign 1 1\r\n",
    "slabs reassign -1 -1\r\n",
    "slabs reassign 1 2\r\n",
    "slabs reassign 0 2\r\n",
    "slabs reassign 2 0\r\n",
    "slabs reassign -1 2\r\n",
    "slabs reassign 99 2\r\n",
    "slabs reassign 1 99\r\n",
    "slabs reassign -2 1\r\n",
    "slabs reassign x y\r\n",
    "slabs reassign 1\r\n",
    "slabs reassign 1 2 3\r\n",
    "slabs reassign 1 2 noreply\r\n",
    "lru\r\n",
    "lru foo\r\n",
    "lru mode\r\n",
    "lru mode x\r\n",
    "lru mode flat\r\n",
    "lru mode segmented noreply\r\n",
    "lru tune 10 20\r\n",
    "lru tune 10 20 0.1\r\n",
    "lru tune 50 40 0.1 2.0\r\n",
    "lru tune 10 20 0 2.0\r\n",
    "lru tune 10 20 0.1 -1\r\n",
    "lru tune x 20 0.1 2.0\r\n",
    "lru tune 10 20 0.1 x\r\n",
    "lru tune 10 30 0.15 1.5\r\n",
    "lru tune 10 30 0.15 1.5 noreply\r\n",
    "lru tune 4294967295 1 0.1 2.0\r\n",
    "lru tune 50 40 0.1 2.0 noreply\r\n",
    "lru temp_ttl\r\n",
    "lru temp_ttl x\r\n",
    "lru temp_ttl 30\r\n",
    "lru temp_ttl -1\r\n",
    "lru temp_ttl 45 noreply\r\n",
];

/// The settings these commands show.
const KEYS: &[&str] = &[
    "slab_reassign",
    "slab_automove",
    "slab_automove_ratio",
    "lru_segmented",
    "hot_lru_pct",
    "warm_lru_pct",
    "hot_max_factor",
    "warm_max_factor",
    "temp_lru",
    "temporary_ttl",
    "lru_crawler",
    "lru_crawler_sleep",
    "lru_crawler_tocrawl",
];

#[test]
fn slabs_and_lru_lines_answer_and_set_as_memcached() {
    let Some(m) = MemcachedServer::start(&[]) else {
        return;
    };
    let c = CorecachedServer::start(&["--threads", "2"]);
    // memcached's LRU is segmented by default, corecached's is not (one S3-FIFO); after
    // this line both say the same.
    for addr in [m.addr(), c.addr()] {
        assert_eq!(send(addr, b"lru mode flat\r\n"), "OK\r\n");
    }
    for line in LINES
        .iter()
        .copied()
        .chain(["lru_crawler sleep 200\r\n", "lru_crawler tocrawl 7\r\n"])
    {
        let (a, b) = (
            send(m.addr(), line.as_bytes()),
            send(c.addr(), line.as_bytes()),
        );
        assert_eq!(a, b, "{line:?}");
        let (sm, sc) = (settings(m.addr()), settings(c.addr()));
        for k in KEYS {
            assert_eq!(sm.get(*k), sc.get(*k), "stats settings {k} after {line:?}");
        }
    }
}

/// The class memcached stores a value of `size` bytes under key `key` in.
fn class_of(addr: SocketAddr, key: &str, size: usize) -> u32 {
    let mut s = open_client(addr);
    let set = format!("set {key} 0 0 {size}\r\n{}\r\n", "v".repeat(size));
    roundtrip(&mut s, set.as_bytes(), b"STORED\r\n");
    let items = stat_lines(&roundtrip(&mut s, b"stats items\r\n", b"END\r\n"));
    let class = items
        .iter()
        .find_map(|(k, v)| {
            let mut p = k.split(':');
            (p.next() == Some("items") && v == "1")
                .then(|| p.next().map(|c| c.parse::<u32>().unwrap()))
                .flatten()
        })
        .expect("a class with one item");
    class
}

/// A class with two pages of items gives one away (memcached moves a page; corecached,
/// whose memory is not split by class, answers the same and moves nothing); one with one
/// page has none to spare; the largest class id is memcached's. Source class 1 (one page)
/// against every destination id shows where memcached's classes end.
#[test]
fn slabs_reassign_follows_the_pages_stats_slabs_shows() {
    let Some(m) = MemcachedServer::start(&[]) else {
        return;
    };
    let c = CorecachedServer::start(&["--threads", "2"]);
    let size = 30_000;
    let (cm, cc) = (
        class_of(m.addr(), "probe", size),
        class_of(c.addr(), "probe", size),
    );
    assert_eq!(cm, cc, "the class of a {size}-byte value");
    let small = class_of(m.addr(), "small", 10);
    assert_eq!(small, class_of(c.addr(), "small", 10));
    let lines = [
        format!("slabs reassign {cm} {small}\r\n"),
        format!("slabs reassign {small} {cm}\r\n"),
    ];
    for l in &lines {
        assert_eq!(
            send(m.addr(), l.as_bytes()),
            send(c.addr(), l.as_bytes()),
            "{l:?}"
        );
    }
    // Enough items of the large class for more than two of memcached's 1 MiB pages.
    let mut fill = String::new();
    for i in 0..120 {
        fill += &format!("set big{i} 0 0 {size}\r\n{}\r\n", "v".repeat(size));
    }
    for addr in [m.addr(), c.addr()] {
        let r = send(addr, fill.as_bytes());
        assert_eq!(r, "STORED\r\n".repeat(120));
    }
    let pages = |addr| {
        let mut s = open_client(addr);
        let slabs = stat_lines(&roundtrip(&mut s, b"stats slabs\r\n", b"END\r\n"));
        slabs
            .into_iter()
            .find(|(k, _)| *k == format!("{cm}:total_pages"))
            .map(|(_, v)| v)
    };
    assert_eq!(pages(m.addr()), pages(c.addr()));
    let mut last_ok = 0;
    for id in 1..64 {
        let l = format!("slabs reassign 1 {id}\r\n");
        let (a, b) = (send(m.addr(), l.as_bytes()), send(c.addr(), l.as_bytes()));
        assert_eq!(a, b, "{l:?}");
        if !a.starts_with("BADCLASS") {
            last_ok = id;
        }
    }
    assert!(
        last_ok > 30,
        "memcached's classes reach past 30 ({last_ok})"
    );
    for addr in [m.addr(), c.addr()] {
        let l = format!("slabs reassign 1 {}\r\n", last_ok + 1);
        assert_eq!(
            send(addr, l.as_bytes()),
            "BADCLASS invalid src or dst class id\r\n"
        );
    }
    // Last: memcached then moves a page in the background, and answers BUSY meanwhile.
    let l = format!("slabs reassign {cm} {small}\r\n");
    assert_eq!(send(m.addr(), l.as_bytes()), "OK\r\n");
    assert_eq!(send(c.addr(), l.as_bytes()), "OK\r\n");
}
