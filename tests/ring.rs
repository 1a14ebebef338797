//! The shard's network ring (src/shard/ring/): connections that come and go in numbers,
//! closed by the server or by the client while their recv is pending, never take another
//! connection's bytes or leave it waiting.
//!
//! The case behind it: a descriptor closed with close(2) while a recv for it was queued and
//! not yet submitted; a new connection given the same number lost its first request to that
//! stale recv and waited for a reply that never came.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::CorecachedServer;

/// One short-lived connection: a request, its exact reply, then a close by the server
/// (`quit`, or a line too long, which memcached closes on) or by the client, with or
/// without unread bytes left behind.
fn one_connection(addr: SocketAddr, thread: usize, i: usize) -> Result<(), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let key = format!("t{thread}k{i}");
    let value = format!("v{i}");
    let req = format!("set {key} 0 0 {}\r\n{value}\r\nget {key}\r\n", value.len());
    s.write_all(req.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let want = format!(
        "STORED\r\nVALUE {key} 0 {}\r\n{value}\r\nEND\r\n",
        value.len()
    );
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < want.len() {
        match s.read(&mut buf) {
            Ok(0) => {
                return Err(format!(
                    "{key}: closed after {:?}",
                    String::from_utf8_lossy(&got)
                ))
            }
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => {
                return Err(format!(
                    "{key}: {e} after {:?} (a request lost?)",
                    String::from_utf8_lossy(&got)
                ))
            }
        }
    }
    if got != want.as_bytes() {
        return Err(format!("{key}: got {:?}", String::from_utf8_lossy(&got)));
    }
    match i % 4 {
        // The server closes: quit.
        0 => {
            let _ = s.write_all(b"quit\r\n");
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest);
            if !rest.is_empty() {
                return Err(format!("{key}: bytes after quit: {rest:?}"));
            }
        }
        // The server closes: 3,000 bytes without a newline.
        1 => {
            let _ = s.write_all(&[b'x'; 3000]);
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest);
        }
        // The client closes with a request the server has not answered yet.
        2 => {
            let _ = s.write_all(b"get ");
        }
        // The client closes cleanly.
        _ => {}
    }
    Ok(())
}

#[test]
fn connections_that_come_and_go_keep_every_reply() {
    for threads in ["1", "2"] {
        let server = CorecachedServer::start(&["--threads", threads]);
        let addr = server.addr();
        let deadline = Instant::now() + Duration::from_secs(60);
        let workers: Vec<_> = (0..8)
            .map(|t| {
                std::thread::spawn(move || -> Result<usize, String> {
                    let mut done = 0;
                    for i in 0..300 {
                        if Instant::now() > deadline {
                            break;
                        }
                        one_connection(addr, t, i)?;
                        done += 1;
                    }
                    Ok(done)
                })
            })
            .collect();
        let mut total = 0;
        for w in workers {
            total += w
                .join()
                .expect("worker panicked")
                .unwrap_or_else(|e| panic!("-t {threads}: {e}\n{}", server.stderr_log()));
        }
        assert!(
            total >= 8 * 100,
            "-t {threads}: only {total} connections in 60 s"
        );
        // Every connection was closed and counted out.
        let mut s = common::open_client(addr);
        let start = Instant::now();
        loop {
            let st = common::stats_on(&mut s, "");
            if st["curr_connections"] == "1" {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "-t {threads}: curr_connections {} after every client left",
                st["curr_connections"]
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
