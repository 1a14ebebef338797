//! Hostile and broken clients: connection limits, idle kicks, garbage input next to a
//! well-behaved client (random bytes, lying text, meta and binary requests), and connection
//! storms that must leave nothing behind.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use common::{open_client, roundtrip, stats_on, CorecachedServer, Rng};

fn stats(s: &mut TcpStream) -> HashMap<String, String> {
    stats_on(s, "")
}

/// Reads until the server closes; returns what it sent.
fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)
        .expect("the server closes before the timeout");
    buf
}

#[test]
fn connections_past_the_limit_get_memcacheds_reply_and_are_counted() {
    let server = CorecachedServer::start(&["--threads", "2", "-c", "5"]);
    let addr = server.addr();
    let mut open: Vec<TcpStream> = (0..5).map(|_| open_client(addr)).collect();
    for s in &mut open {
        // Each is accepted and served before the next test step.
        assert!(roundtrip(s, b"version\r\n", b"\r\n").starts_with(b"VERSION "));
    }
    let mut extra = open_client(addr);
    assert_eq!(
        read_to_close(&mut extra),
        b"ERROR Too many open connections\r\n"
    );
    let st = stats(&mut open[0]);
    assert_eq!(st["curr_connections"], "5");
    assert_eq!(st["rejected_connections"], "1");
    assert_eq!(st["total_connections"], "5");
    // Closing one makes room again.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut again = open_client(addr);
        again.write_all(b"version\r\n").unwrap();
        let reply = read_reply_or_close(&mut again);
        if reply.starts_with(b"VERSION ") {
            break;
        }
        assert_eq!(reply, b"ERROR Too many open connections\r\n");
        assert!(
            Instant::now() < deadline,
            "the closed connection never freed its place"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One line, or everything until the server closes.
fn read_reply_or_close(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut b = [0u8; 256];
    while !buf.ends_with(b"\r\n") {
        match s.read(&mut b) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&b[..n]),
            Err(_) => break,
        }
    }
    buf
}

#[test]
fn idle_connections_are_closed_and_counted() {
    let server = CorecachedServer::start(&["--threads", "1", "--idle-timeout", "1"]);
    let addr = server.addr();
    let mut idle = open_client(addr);
    assert!(roundtrip(&mut idle, b"version\r\n", b"\r\n").starts_with(b"VERSION "));
    let started = Instant::now();
    assert_eq!(read_to_close(&mut idle), b"", "closed without a reply");
    assert!(started.elapsed() >= Duration::from_millis(900));
    let mut check = open_client(addr);
    assert_eq!(stats(&mut check)["idle_kicks"], "1");
}

/// A random number below `k`, as an index.
fn n(r: &mut Rng, k: usize) -> usize {
    r.below(k as u64) as usize
}

#[test]
fn garbage_never_disturbs_a_well_behaved_client() {
    let server = CorecachedServer::start(&["--threads", "2", "-I", "64k", "-m", "16"]);
    let addr = server.addr();
    let attackers: Vec<_> = (0..4u64)
        .map(|t| {
            std::thread::spawn(move || {
                let mut r = Rng(0x9e37_79b9_7f4a_7c15 ^ (t + 1));
                let mut sent = 0usize;
                for i in 0..150 {
                    let Ok(mut s) = TcpStream::connect(addr) else {
                        continue;
                    };
                    s.set_read_timeout(Some(Duration::from_millis(200)))
                        .unwrap();
                    let payload: Vec<u8> = match i % 8 {
                        // Random bytes.
                        0 => (0..r.below(5000)).map(|_| r.next() as u8).collect(),
                        // A truncated command.
                        1 => b"set trunc 0 0 100\r\nabc".to_vec(),
                        // An over-long line with no newline.
                        2 => vec![b'x'; 10_000],
                        // A length that lies (longer and shorter than the data).
                        3 => {
                            format!("set lie{i} 0 0 5\r\n123456789\r\nget lie{i}\r\n").into_bytes()
                        }
                        // A value over -I, half sent.
                        4 => {
                            let mut v = b"set big 0 0 100000\r\n".to_vec();
                            v.resize(v.len() + 30_000, b'z');
                            v
                        }
                        // Meta commands with random flags, lying lengths, bad base64 keys.
                        5 => {
                            let mut v = Vec::new();
                            for _ in 0..1 + n(&mut r, 20) {
                                let word = ["mg", "ms", "md", "ma", "me", "mn"][n(&mut r, 6)];
                                let flags: Vec<&str> = (0..n(&mut r, 6))
                                    .map(|_| {
                                        [
                                            "v", "q", "k", "O1", "T9", "N5", "I", "b", "MA", "C7",
                                            "Zz",
                                        ][n(&mut r, 11)]
                                    })
                                    .collect();
                                let key = if n(&mut r, 4) == 0 { "!!b64" } else { "mk" };
                                let len = n(&mut r, 40);
                                v.extend_from_slice(
                                    format!(
                                        "{word} {key}{} {len} {}\r\n",
                                        n(&mut r, 9),
                                        flags.join(" ")
                                    )
                                    .as_bytes(),
                                );
                                // Data shorter or longer than announced, sometimes.
                                v.resize(v.len() + n(&mut r, 50), b'd');
                                v.extend_from_slice(b"\r\n");
                            }
                            v
                        }
                        // Binary packets with lying lengths, random opcodes, keys over 250.
                        6 => {
                            let mut v = Vec::new();
                            for _ in 0..1 + n(&mut r, 10) {
                                let klen = [1usize, 3, 251, 65535][n(&mut r, 4)];
                                let elen = [0usize, 4, 8, 20, 255][n(&mut r, 5)];
                                let blen = n(&mut r, klen + elen + 100) as u32;
                                v.extend_from_slice(&[0x80, r.next() as u8]);
                                v.extend_from_slice(&(klen as u16).to_be_bytes());
                                v.extend_from_slice(&[elen as u8, 0, 0, 0]);
                                v.extend_from_slice(&blen.to_be_bytes());
                                v.extend_from_slice(&[0; 12]);
                                v.extend((0..n(&mut r, blen as usize + 1)).map(|_| r.next() as u8));
                            }
                            v
                        }
                        // Valid-looking commands with random tokens.
                        _ => format!(
                            "{} k{} {} {} {}\r\n",
                            ["get", "set", "incr", "delete", "touch", "cas"][i % 6],
                            r.next(),
                            r.next() as i64,
                            r.below(100),
                            r.next() as i32
                        )
                        .into_bytes(),
                    };
                    let _ = s.write_all(&payload);
                    sent += payload.len();
                    let mut sink = [0u8; 4096];
                    let _ = s.read(&mut sink);
                    if r.below(2) == 0 {
                        let _ = s.shutdown(Shutdown::Both);
                    }
                }
                sent
            })
        })
        .collect();
    // Meanwhile a good client checks every reply exactly.
    let mut good = open_client(addr);
    for i in 0..1500 {
        let v = format!("value-{i}");
        let req = format!(
            "set good{} 0 0 {}\r\n{v}\r\nget good{}\r\n",
            i % 97,
            v.len(),
            i % 97
        );
        let want = format!(
            "STORED\r\nVALUE good{} 0 {}\r\n{v}\r\nEND\r\n",
            i % 97,
            v.len()
        );
        let got = roundtrip(&mut good, req.as_bytes(), b"END\r\n");
        assert_eq!(String::from_utf8_lossy(&got), want, "good request {i}");
    }
    let sent: usize = attackers.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(sent > 1_000_000, "the attackers sent {sent} bytes");
    let st = stats(&mut good);
    assert!(st["total_connections"].parse::<u64>().unwrap() >= 500);
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[test]
fn a_connection_storm_leaves_no_descriptor_or_connection_behind() {
    let server = CorecachedServer::start(&["--threads", "2", "-c", "4096"]);
    let addr = server.addr();
    let mut check = open_client(addr);
    stats(&mut check);
    let fds_before = fd_count(server.pid());
    let rss_before = server.rss();
    let connected = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        for t in 0..4 {
            let connected = &connected;
            scope.spawn(move || {
                for i in 0..750 {
                    let Ok(mut s) = TcpStream::connect(addr) else {
                        continue;
                    };
                    connected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let req: &[u8] = match (i + t) % 4 {
                        0 => b"set storm 0 0 5\r\nhello\r\nget storm\r\n",
                        1 => b"set half 0 0 10\r\nabc",
                        2 => b"get a b c d e f",
                        _ => b"",
                    };
                    let _ = s.write_all(req);
                    if i % 3 == 0 {
                        let mut b = [0u8; 64];
                        s.set_read_timeout(Some(Duration::from_millis(100)))
                            .unwrap();
                        let _ = s.read(&mut b);
                    }
                }
            });
        }
    });
    // Every connect that succeeded reached the server; some may still wait in the listen
    // queue when the storm ends (a client closes before the shard accepts it), so wait
    // (bounded) until the server has accepted all of them and only the checking one is left.
    let connected = connected.into_inner();
    assert!(
        connected >= 1500,
        "only {connected} of 3000 connects succeeded"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let st = stats(&mut check);
        let total: u64 = st["total_connections"].parse().unwrap();
        if st["curr_connections"] == "1" && total > connected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "connections left: {}, accepted {total} of {connected} + 1",
            st["curr_connections"]
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let fds_after = fd_count(server.pid());
    assert!(
        fds_after <= fds_before + 2,
        "descriptors {fds_before} -> {fds_after}"
    );
    let rss_after = server.rss();
    assert!(
        rss_after < rss_before + (16 << 20),
        "resident memory {rss_before} -> {rss_after}"
    );
}
