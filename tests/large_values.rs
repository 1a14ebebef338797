//! Large values: sent from the store's memory without a copy, which must stay exact when
//! writes, forwarding, or a slow reader come between taking and sending them.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::CorecachedServer;

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// A value whose bytes depend on its key and position, so any mix-up shows.
fn value(key: &str, len: usize) -> Vec<u8> {
    let seed = key
        .bytes()
        .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    (0..len)
        .map(|i| b'a' + ((i as u8).wrapping_add(seed) % 26))
        .collect()
}

fn set_req(key: &str, len: usize) -> Vec<u8> {
    let mut r = format!("set {key} 0 0 {len}\r\n").into_bytes();
    r.extend_from_slice(&value(key, len));
    r.extend_from_slice(b"\r\n");
    r
}

fn value_reply(keys: &[(&str, usize)]) -> Vec<u8> {
    let mut r = Vec::new();
    for (k, len) in keys {
        r.extend_from_slice(format!("VALUE {k} 0 {len}\r\n").as_bytes());
        r.extend_from_slice(&value(k, *len));
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"END\r\n");
    r
}

fn read_exact_reply(s: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    s.read_exact(&mut buf)
        .expect("whole reply before the timeout");
    buf
}

fn pipeline_with_writes_between(threads: &str) {
    let server = CorecachedServer::start(&["--threads", threads, "-m", "64"]);
    let mut s = connect(server.addr());
    let keys = [("big1", 200_000usize), ("big2", 9_000), ("big3", 700_000)];
    let mut req = Vec::new();
    for (k, len) in keys {
        req.extend(set_req(k, len));
    }
    // Gets, a write in the same batch, then gets again (the write may not disturb the
    // values referenced before it).
    req.extend_from_slice(b"get big1 big2 big3\r\n");
    req.extend(set_req("big1", 300_000));
    req.extend_from_slice(b"get big3 big1\r\n");
    s.write_all(&req).unwrap();
    let mut want = b"STORED\r\nSTORED\r\nSTORED\r\n".to_vec();
    want.extend(value_reply(&keys));
    want.extend_from_slice(b"STORED\r\n");
    want.extend(value_reply(&[("big3", 700_000), ("big1", 300_000)]));
    let got = read_exact_reply(&mut s, want.len());
    assert!(got == want, "replies differ (threads {threads})");
}

#[test]
fn large_values_in_a_pipeline_with_writes_one_shard() {
    pipeline_with_writes_between("1");
}

#[test]
fn large_values_across_shards() {
    pipeline_with_writes_between("2");
}

#[test]
fn a_slow_reader_gets_every_byte() {
    let server = CorecachedServer::start(&["--threads", "1", "-m", "64"]);
    let mut s = connect(server.addr());
    s.write_all(&set_req("slow", 500_000)).unwrap();
    assert_eq!(read_exact_reply(&mut s, 8), b"STORED\r\n");
    // 40 gets of 500 KB in one write: 20 MB of replies, far more than the socket buffers,
    // so sends stop part-way and go on later. Meanwhile another client overwrites the key.
    let mut req = Vec::new();
    for _ in 0..40 {
        req.extend_from_slice(b"get slow\r\n");
    }
    s.write_all(&req).unwrap();
    let mut other = connect(server.addr());
    other.write_all(&set_req("slow", 400_000)).unwrap();
    assert_eq!(read_exact_reply(&mut other, 8), b"STORED\r\n");
    let one = value_reply(&[("slow", 500_000)]);
    let newer = value_reply(&[("slow", 400_000)]);
    // Each reply is whole: the old value or, once the overwrite is seen, the new one.
    let mut seen_new = false;
    for i in 0..40 {
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n") {
            s.read_exact(&mut b).unwrap();
            head.push(b[0]);
        }
        let want = if head.starts_with(b"VALUE slow 0 500000") {
            assert!(!seen_new, "reply {i}: old value after the new one");
            &one
        } else {
            seen_new = true;
            &newer
        };
        let rest = read_exact_reply(&mut s, want.len() - head.len());
        assert!(
            head.iter().chain(rest.iter()).eq(want.iter()),
            "reply {i} is not an exact value"
        );
    }
}

/// Buffers grown by large values go back to the shard's pool while their connection waits,
/// and other connections take them again: replies stay exact whatever a reused buffer held.
#[test]
fn reused_large_buffers_hold_no_stale_bytes() {
    let server = CorecachedServer::start(&["--threads", "1", "-m", "64"]);
    let mut conns: Vec<TcpStream> = (0..3).map(|_| connect(server.addr())).collect();
    let sizes = [300_000usize, 20_000, 150_000, 1, 90_000, 600_000, 9_000];
    for round in 0..21 {
        let c = &mut conns[round % 3];
        let len = sizes[round % sizes.len()];
        let key = format!("reuse{round}");
        c.write_all(&set_req(&key, len)).unwrap();
        assert_eq!(read_exact_reply(c, 8), b"STORED\r\n", "round {round}");
        // This round's value and the one before, whose size differs, in one reply.
        let before = round.saturating_sub(1);
        let prev = format!("reuse{before}");
        c.write_all(format!("get {key} {prev}\r\n").as_bytes())
            .unwrap();
        let want = value_reply(&[(&key, len), (&prev, sizes[before % sizes.len()])]);
        let got = read_exact_reply(c, want.len());
        assert!(got == want, "round {round}: reply differs");
    }
}
