//! Parked connections (`--park-after-ms`, src/park.rs): an idle connection gives up its task
//! and waits as a bare descriptor; these check that it wakes and answers with its state
//! intact, that `idle_timeout` and the stop close it, and that nothing leaks.
//!
//! Every wait is a bounded loop on an observable condition (`stats`, end of stream).

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{open_client, roundtrip, stats_on, CorecachedServer};

/// `stats` from a fresh connection, closed after (so it never parks itself).
fn stats(addr: SocketAddr) -> HashMap<String, String> {
    let mut s = open_client(addr);
    stats_on(&mut s, "")
}

fn stat(addr: SocketAddr, name: &str) -> u64 {
    stats(addr)[name].parse().unwrap()
}

/// Waits (bounded) until `name` equals `want`.
fn wait_stat(addr: SocketAddr, name: &str, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = stat(addr, name);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name}: {got}, waited for {want}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)
        .expect("the server closes before the timeout");
    buf
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[test]
fn a_parked_connection_wakes_and_answers() {
    let server = CorecachedServer::start(&["--threads", "2", "--park-after-ms", "50"]);
    let addr = server.addr();
    let mut conns: Vec<TcpStream> = (0..8).map(|_| open_client(addr)).collect();
    for (i, s) in conns.iter_mut().enumerate() {
        let req = format!("set k{i} 0 0 2\r\nv{i}\r\n");
        assert_eq!(roundtrip(s, req.as_bytes(), b"\r\n"), b"STORED\r\n");
    }
    wait_stat(addr, "parked_connections", 8);
    // Parked connections stay counted: 8, and the one asking (waited for, as the previous
    // asking connection may not be closed yet).
    wait_stat(addr, "curr_connections", 9);

    // Woken by a pipeline: a multi-key get across both shards, a value larger than the
    // idle read buffer, and a get of it, all in one write.
    let big = vec![b'x'; 100_000];
    for (i, s) in conns.iter_mut().enumerate() {
        let mut req = b"get k0 k1 k2 k3 k4 k5 k6 k7\r\n".to_vec();
        req.extend_from_slice(format!("set big{i} 0 0 {}\r\n", big.len()).as_bytes());
        req.extend_from_slice(&big);
        req.extend_from_slice(format!("\r\nget big{i}\r\n").as_bytes());
        let mut want = Vec::new();
        for k in 0..8 {
            want.extend_from_slice(format!("VALUE k{k} 0 2\r\nv{k}\r\n").as_bytes());
        }
        want.extend_from_slice(b"END\r\nSTORED\r\n");
        want.extend_from_slice(format!("VALUE big{i} 0 {}\r\n", big.len()).as_bytes());
        want.extend_from_slice(&big);
        want.extend_from_slice(b"\r\nEND\r\n");
        s.write_all(&req).unwrap();
        let mut reply = vec![0u8; want.len()];
        s.read_exact(&mut reply).expect("the whole reply");
        assert!(reply == want, "connection {i}: wrong reply after waking");
    }
    // They park again, and wake again, one byte at a time.
    wait_stat(addr, "parked_connections", 8);
    for s in &mut conns {
        for b in b"get k3\r\n" {
            s.write_all(&[*b]).unwrap();
        }
        let reply = roundtrip(s, b"", b"END\r\n");
        assert_eq!(reply, b"VALUE k3 0 2\r\nv3\r\nEND\r\n");
    }
    // A parked connection whose client leaves is closed and uncounted.
    conns.truncate(4);
    wait_stat(addr, "curr_connections", 5);
    wait_stat(addr, "parked_connections", 4);
    assert_eq!(stat(addr, "idle_kicks"), 0);
}

#[test]
fn parking_keeps_text_authentication() {
    let dir = std::env::temp_dir().join(format!("corecached-park-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let users = dir.join("users");
    std::fs::write(&users, "foo:bar\n").unwrap();
    let server = CorecachedServer::start(&[
        "--threads",
        "1",
        "--park-after-ms",
        "50",
        "-Y",
        users.to_str().unwrap(),
    ]);
    let addr = server.addr();
    let mut authed = open_client(addr);
    assert_eq!(
        roundtrip(&mut authed, b"set a 0 0 7\r\nfoo bar\r\n", b"\r\n"),
        b"STORED\r\n"
    );
    let mut stranger = open_client(addr);
    assert_eq!(
        roundtrip(&mut stranger, b"get a\r\n", b"\r\n"),
        b"CLIENT_ERROR unauthenticated\r\n"
    );
    // Both park (counted from a fresh authenticated connection each time); then each
    // wakes with what it had.
    let parked = || -> u64 {
        let mut probe = open_client(addr);
        roundtrip(&mut probe, b"set a 0 0 7\r\nfoo bar\r\n", b"\r\n");
        stats_on(&mut probe, "")["parked_connections"]
            .parse()
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while parked() < 2 {
        assert!(Instant::now() < deadline, "the connections never parked");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        roundtrip(&mut authed, b"set k 0 0 1\r\nz\r\nget k\r\n", b"END\r\n"),
        b"STORED\r\nVALUE k 0 1\r\nz\r\nEND\r\n"
    );
    assert_eq!(
        roundtrip(&mut stranger, b"version\r\n", b"\r\n"),
        b"CLIENT_ERROR unauthenticated\r\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn idle_timeout_closes_parked_connections() {
    let server = CorecachedServer::start(&[
        "--threads",
        "2",
        "--idle-timeout",
        "2",
        "--park-after-ms",
        "50",
    ]);
    let addr = server.addr();
    let started = Instant::now();
    let mut idle: Vec<TcpStream> = (0..6).map(|_| open_client(addr)).collect();
    for s in &mut idle {
        assert!(roundtrip(s, b"version\r\n", b"\r\n").starts_with(b"VERSION "));
    }
    wait_stat(addr, "parked_connections", 6);
    for s in &mut idle {
        assert_eq!(read_to_close(s), b"", "closed without a reply");
    }
    assert!(started.elapsed() >= Duration::from_millis(1900));
    wait_stat(addr, "idle_kicks", 6);
    wait_stat(addr, "parked_connections", 0);
    wait_stat(addr, "curr_connections", 1);

    // A connection that wakes from parking and goes quiet again is kicked on time too.
    let mut s = open_client(addr);
    roundtrip(&mut s, b"version\r\n", b"\r\n");
    wait_stat(addr, "parked_connections", 1);
    let woke = Instant::now();
    roundtrip(&mut s, b"version\r\n", b"\r\n");
    assert_eq!(read_to_close(&mut s), b"");
    assert!(woke.elapsed() >= Duration::from_millis(1900));
    wait_stat(addr, "idle_kicks", 7);
}

#[test]
fn a_stop_with_parked_connections_exits_cleanly() {
    let mut server = CorecachedServer::start(&["--threads", "2", "--park-after-ms", "50"]);
    let addr = server.addr();
    let mut idle: Vec<TcpStream> = (0..50).map(|_| open_client(addr)).collect();
    for s in &mut idle {
        assert!(roundtrip(s, b"version\r\n", b"\r\n").starts_with(b"VERSION "));
    }
    wait_stat(addr, "parked_connections", 50);
    assert_eq!(
        server.signal_and_wait(libc_sigterm(), Duration::from_secs(10)),
        Some(0),
        "stderr:\n{}",
        server.stderr_log()
    );
    for s in &mut idle {
        assert_eq!(read_to_close(s), b"");
    }
}

fn libc_sigterm() -> i32 {
    15
}

#[test]
fn parking_and_waking_many_connections_leaks_nothing() {
    let server =
        CorecachedServer::start(&["--threads", "2", "-c", "4096", "--park-after-ms", "20"]);
    let addr = server.addr();
    stats(addr);
    let fds_before = fd_count(server.pid());
    let mut conns: Vec<TcpStream> = (0..400).map(|_| open_client(addr)).collect();
    for round in 0..3 {
        for (i, s) in conns.iter_mut().enumerate() {
            let req = format!("set r{round}c{i} 0 0 1\r\n{}\r\n", i % 10);
            assert_eq!(roundtrip(s, req.as_bytes(), b"\r\n"), b"STORED\r\n");
        }
        wait_stat(addr, "parked_connections", 400);
    }
    for (i, s) in conns.iter_mut().enumerate() {
        let req = format!("get r2c{i}\r\n");
        let want = format!("VALUE r2c{i} 0 1\r\n{}\r\nEND\r\n", i % 10);
        assert_eq!(roundtrip(s, req.as_bytes(), b"END\r\n"), want.as_bytes());
    }
    // Half leave while parked, half while (possibly) awake.
    for s in conns.iter_mut().skip(200) {
        s.write_all(b"version\r\n").unwrap();
    }
    drop(conns);
    wait_stat(addr, "curr_connections", 1);
    wait_stat(addr, "parked_connections", 0);
    let fds_after = fd_count(server.pid());
    assert!(
        fds_after <= fds_before + 2,
        "descriptors {fds_before} -> {fds_after}"
    );
    let st = stats(addr);
    assert!(st["total_connections"].parse::<u64>().unwrap() >= 400);
}

#[test]
fn a_parked_binary_connection_wakes_in_the_binary_protocol() {
    use corecached::protocol::binary::{request, HEADER_LEN};
    let server = CorecachedServer::start(&["--threads", "2", "--park-after-ms", "50"]);
    let addr = server.addr();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let exchange = |s: &mut TcpStream, req: &[u8]| -> Vec<u8> {
        s.write_all(req).unwrap();
        let mut head = [0u8; HEADER_LEN];
        s.read_exact(&mut head).unwrap();
        let body = u32::from_be_bytes(head[8..12].try_into().unwrap()) as usize;
        let mut rest = vec![0u8; body];
        s.read_exact(&mut rest).unwrap();
        let mut all = head.to_vec();
        all.extend(rest);
        all
    };
    // SET k = "hi" with flags 7, then park.
    let set = request(0x01, 1, 0, &[0, 0, 0, 7, 0, 0, 0, 0], b"bk", b"hi");
    let reply = exchange(&mut s, &set);
    assert_eq!(&reply[..2], &[0x81, 0x01]);
    assert_eq!(&reply[6..8], &[0, 0], "set status");
    wait_stat(addr, "parked_connections", 1);
    // Woken by a GETK: the connection still speaks binary (no text `ERROR`).
    let reply = exchange(&mut s, &request(0x0c, 2, 0, &[], b"bk", &[]));
    assert_eq!(&reply[..2], &[0x81, 0x0c], "a binary response");
    assert_eq!(&reply[6..8], &[0, 0], "get status");
    assert_eq!(&reply[12..16], &2u32.to_be_bytes(), "opaque");
    assert_eq!(&reply[HEADER_LEN..], b"\0\0\0\x07bkhi", "flags, key, value");
}
