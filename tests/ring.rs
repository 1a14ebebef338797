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

/// The sockets registered in the server's network rings (`UserFiles` in each io_uring
/// descriptor's fdinfo), as `socket:[inode]` names.
fn registered_sockets(pid: u32) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
    {
        let Ok(target) = std::fs::read_link(e.path()) else {
            continue;
        };
        if !target.to_string_lossy().contains("io_uring") {
            continue;
        }
        let fd = e.file_name();
        let Ok(info) =
            std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{}", fd.to_string_lossy()))
        else {
            continue;
        };
        let mut in_files = false;
        for line in info.lines() {
            if line.starts_with("UserFiles:") {
                in_files = true;
            } else if in_files && line.starts_with(' ') {
                if let Some((_, name)) = line.trim().split_once(": ") {
                    found.push(name.to_string());
                }
            } else {
                in_files = false;
            }
        }
    }
    found
}

/// The inode of each of the server's own socket descriptors.
fn server_sockets(pid: u32) -> std::collections::HashSet<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|t| t.to_string_lossy().into_owned())
        .filter(|t| t.starts_with("socket:"))
        .collect()
}

/// Each connection's socket is registered with its shard's ring while it is open (its ops
/// name it by index) and unregistered when it closes: the table follows the connections,
/// with nothing left behind.
#[test]
fn open_connections_are_registered_with_the_ring_and_closed_ones_are_not() {
    let server = CorecachedServer::start(&["--threads", "2"]);
    let pid = server.pid();
    let clients: Vec<TcpStream> = (0..6)
        .map(|_| {
            let mut s = common::open_client(server.addr());
            s.write_all(b"version\r\n").unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"VERSION 1.6.18\r\n");
            s
        })
        .collect();
    let wait_for = |want: usize| {
        let start = Instant::now();
        loop {
            let reg = registered_sockets(pid);
            if reg.len() == want {
                return reg;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{} sockets registered, not {want}: {reg:?}",
                reg.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let reg = wait_for(6);
    let own = server_sockets(pid);
    assert!(
        reg.iter().all(|r| own.contains(r)),
        "registered {reg:?}, the server's sockets {own:?}"
    );
    drop(clients);
    wait_for(0);
}
