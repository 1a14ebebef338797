//! `-s PATH -a MASK`: a unix domain socket served in place of TCP, against memcached `-s`
//! (same bytes back, same file mode), shared by every shard, stopped cleanly, and a
//! socket file another server still answers on left alone.

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::process::{exchange_on, start_exact, unix_client, wait_for_unix, TempDir};

/// Text requests and what memcached 1.6.18 `-s` answers to each, on one connection, in
/// order (recorded, and replayed against memcached when it is installed).
const CASES: &[(&[u8], &[u8])] = &[
    (b"version\r\n", b"VERSION 1.6.18\r\n"),
    (b"set unix_k 5 0 3\r\nabc\r\n", b"STORED\r\n"),
    (
        b"get unix_k unix_missing\r\n",
        b"VALUE unix_k 5 3\r\nabc\r\nEND\r\n",
    ),
    (b"append unix_k 0 0 2\r\nde\r\n", b"STORED\r\n"),
    (b"get unix_k\r\n", b"VALUE unix_k 5 5\r\nabcde\r\nEND\r\n"),
    (b"incr unix_n 1\r\n", b"NOT_FOUND\r\n"),
    (
        b"set unix_n 0 0 1\r\n7\r\nincr unix_n 5\r\n",
        b"STORED\r\n12\r\n",
    ),
    (
        b"ms unix_m 2 T0 F3\r\nhi\r\nmg unix_m v f\r\n",
        b"HD\r\nVA 2 f3\r\nhi\r\n",
    ),
    (
        b"delete unix_k\r\ndelete unix_k\r\n",
        b"DELETED\r\nNOT_FOUND\r\n",
    ),
    (b"bogus\r\n", b"ERROR\r\n"),
    (
        b"set unix_x 0 0 zz\r\n",
        b"CLIENT_ERROR bad command line format\r\n",
    ),
    (b"version\r\n", b"VERSION 1.6.18\r\n"),
];

/// The mask both servers get: group may connect, others not.
const MASK: &str = "0770";

fn run_cases(path: &Path) -> Vec<String> {
    let mut s = unix_client(path);
    let mut failures = Vec::new();
    for (req, want) in CASES {
        let got = exchange_on(&mut s, req);
        if got != *want {
            failures.push(format!(
                "{}: want {} got {}",
                common::show(req),
                common::show(want),
                common::show(&got)
            ));
        }
    }
    failures
}

fn mode(path: &Path) -> u32 {
    let meta = std::fs::symlink_metadata(path).unwrap();
    assert!(
        meta.file_type().is_socket(),
        "{} is a socket",
        path.display()
    );
    meta.permissions().mode() & 0o777
}

/// memcached `-s PATH -a MASK` (it then listens on no TCP port); killed on drop.
struct Memcached(Child);

impl Drop for Memcached {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn memcached_on(path: &Path) -> Option<Memcached> {
    let bin = common::memcached_path().or_else(|| {
        eprintln!("memcached not installed: the unix socket is checked against recorded bytes only (apt-get install memcached)");
        None
    })?;
    let child = Command::new(bin)
        .args(["-u", "root", "-U", "0", "-t", "1", "-a", MASK, "-s"])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn memcached");
    let mc = Memcached(child);
    assert!(wait_for_unix(path), "memcached -s did not listen");
    Some(mc)
}

#[test]
fn unix_socket_answers_as_memcached_does_with_its_mask() {
    let dir = TempDir::new("unix");
    let ours = dir.join("corecached.sock");
    let mut server = start_exact(&["-s", ours.to_str().unwrap(), "-a", MASK, "-t", "2"])
        .unwrap_or_else(|f| panic!("corecached -s did not start: {f:?}"));
    // A unix socket alone, as memcached: no TCP port.
    assert!(server.tcp_addrs().is_empty(), "{}", server.line);
    assert!(
        server
            .line
            .contains(&format!("serving unix {} (mask 770)", ours.display())),
        "{}",
        server.line
    );
    assert_eq!(mode(&ours), 0o770);
    common::assert_no_failures("corecached -s", &run_cases(&ours));

    if let Some(_mc) = memcached_on(&dir.join("memcached.sock")) {
        let theirs = dir.join("memcached.sock");
        assert_eq!(mode(&theirs), mode(&ours), "the mask applies alike");
        common::assert_no_failures("memcached -s (the recorded table)", &run_cases(&theirs));
    }
    assert_eq!(server.stop(libc::SIGTERM), Some(0), "clean stop");
}

/// Every shard serves keys it owns for a client on the socket (whichever shard accepted
/// it), and several clients at once are served.
#[test]
fn unix_clients_reach_every_shard() {
    let dir = TempDir::new("unix-shards");
    let path = dir.join("s");
    let _server = start_exact(&["-s", path.to_str().unwrap(), "-t", "2"])
        .unwrap_or_else(|f| panic!("corecached -s did not start: {f:?}"));
    let mut clients: Vec<_> = (0..8).map(|_| unix_client(&path)).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        for k in 0..16 {
            let req = format!("set k{i}_{k} 0 0 1\r\n{}\r\n", k % 10);
            assert_eq!(exchange_on(c, req.as_bytes()), b"STORED\r\n");
        }
    }
    let stats = String::from_utf8(exchange_on(&mut clients[0], b"stats shards\r\n")).unwrap();
    for shard in 0..2 {
        let items: u64 = stats
            .lines()
            .find_map(|l| l.strip_prefix(&format!("STAT shard{shard}:curr_items ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no curr_items for shard {shard}: {stats}"));
        assert!(items > 0, "shard {shard} holds none of 128 keys: {stats}");
    }
    let conns: u64 = stats
        .lines()
        .filter_map(|l| l.split_once(":curr_connections "))
        .map(|(_, v)| v.trim().parse::<u64>().unwrap())
        .sum();
    assert_eq!(conns, 8, "{stats}");
}

/// A socket file a server still answers on is not taken over; one left by a server that
/// has gone is replaced.
#[test]
fn a_live_socket_is_refused_a_stale_one_replaced() {
    let dir = TempDir::new("unix-stale");
    let path = dir.join("s");
    let p = path.to_str().unwrap();
    let mut first = start_exact(&["-s", p, "-t", "1"]).unwrap_or_else(|f| panic!("{f:?}"));
    let second = start_exact(&["-s", p, "-t", "1"]);
    let failed = second
        .err()
        .expect("a second server on a live socket must not start");
    assert_eq!(failed.code, Some(71), "{}", failed.stderr);
    assert!(
        failed
            .stderr
            .contains("another server answers on this socket"),
        "{}",
        failed.stderr
    );
    // The first still serves.
    assert_eq!(
        exchange_on(&mut unix_client(&path), b"version\r\n"),
        b"VERSION 1.6.18\r\n"
    );
    // SIGKILL leaves the socket file behind, with nothing listening.
    assert_eq!(first.stop(libc::SIGKILL), None);
    assert!(path.exists());
    let _again = start_exact(&["-s", p, "-t", "1"])
        .unwrap_or_else(|f| panic!("a stale socket file must be replaced: {f:?}"));
    assert_eq!(
        exchange_on(&mut unix_client(&path), b"version\r\n"),
        b"VERSION 1.6.18\r\n"
    );
    // A path that is not a socket is left alone.
    let file = dir.join("plain");
    std::fs::write(&file, b"x").unwrap();
    let failed = start_exact(&["-s", file.to_str().unwrap(), "-t", "1"])
        .err()
        .expect("a regular file is not replaced");
    assert!(
        failed.stderr.contains("is not a socket"),
        "{}",
        failed.stderr
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}
