//! Issue 20, item 4: a stop ends within `--shutdown-timeout` (and a margin) with exit status
//! 0, however little its clients read. At 3f4a00d a client that asked for 20 MB of replies
//! and read none of them kept the server running until it closed.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{open_client, roundtrip, small_window_client, CorecachedServer};

/// Bytes waiting in `s`'s receive queue.
fn queued(s: &TcpStream) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    let r = unsafe { libc::ioctl(std::os::fd::AsRawFd::as_raw_fd(s), libc::FIONREAD, &mut n) };
    assert_eq!(r, 0);
    n as usize
}

/// Stores a 1 MB value, then has a small-window client ask for it 20 times and read
/// nothing; returns that client once the server has started replying, and an idle one.
fn stuck_clients(server: &CorecachedServer) -> (TcpStream, TcpStream) {
    let mut c = open_client(server.addr());
    let value = vec![b'x'; 1_000_000];
    let mut set = b"set big 0 0 1000000\r\n".to_vec();
    set.extend_from_slice(&value);
    set.extend_from_slice(b"\r\n");
    assert_eq!(roundtrip(&mut c, &set, b"\r\n"), b"STORED\r\n");
    let idle = open_client(server.addr());
    let mut stuck = small_window_client(server.addr());
    let mut get = b"get".to_vec();
    for _ in 0..20 {
        get.extend_from_slice(b" big");
    }
    get.extend_from_slice(b"\r\n");
    stuck.write_all(&get).unwrap();
    // The server is writing the replies once the first bytes arrive.
    let deadline = Instant::now() + Duration::from_secs(10);
    while queued(&stuck) == 0 {
        assert!(Instant::now() < deadline, "no reply bytes in 10 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    (stuck, idle)
}

#[test]
fn issue20_a_client_that_does_not_read_cannot_hold_up_a_stop() {
    let mut server = CorecachedServer::start(&["-t", "2", "--shutdown-timeout", "1"]);
    let (_stuck, mut idle) = stuck_clients(&server);
    let started = Instant::now();
    let status = server.signal_and_wait(15, Duration::from_secs(6));
    let took = started.elapsed();
    assert_eq!(
        status,
        Some(0),
        "exit after SIGTERM with --shutdown-timeout 1 ({took:?}); stderr:\n{}",
        server.stderr_log()
    );
    // The stuck connection had its second to drain before it was closed.
    assert!(took >= Duration::from_millis(900), "exited after {took:?}");
    // The idle connection was closed.
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = Vec::new();
    assert_eq!(idle.read_to_end(&mut rest).unwrap(), 0);
}

#[test]
fn issue20_a_second_signal_closes_what_is_left_at_once() {
    let mut server = CorecachedServer::start(&["-t", "2", "--shutdown-timeout", "60"]);
    let (_stuck, _idle) = stuck_clients(&server);
    let kill = |sig: &str| {
        let ok = std::process::Command::new("kill")
            .args([sig, &server.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    };
    kill("-TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.stderr_log().contains("stopping") {
        assert!(Instant::now() < deadline, "{}", server.stderr_log());
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = Instant::now();
    let status = server.signal_and_wait(2, Duration::from_secs(5));
    assert_eq!(
        status,
        Some(0),
        "exit after a second signal ({:?}); stderr:\n{}",
        started.elapsed(),
        server.stderr_log()
    );
}
