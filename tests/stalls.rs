//! Requests that hold a shard long enough to stall every other client that needs it: what
//! the stall watchdog (scripts/stall-watchdog.py) found.

mod common;

use common::{open_client, roundtrip, CorecachedServer};
use corecached::shard::shard_for;

/// CPU seconds the process has used so far, all threads.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server runs");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("a stat line")
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf reads a constant.
    ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// Issue 20, item 8d: a `get` whose keys alternate between the connection's shard and the
/// other copied the whole reply gathered so far before each forwarded key (so that the
/// large local values it references are in place before a splice offset is taken): time
/// quadratic in the reply. 400 keys of 100 KiB (a 41 MB reply) took 1.4 s of server CPU
/// (5.6 s on a loaded machine), during which that shard served nobody; 600 keys 3 s (12 s).
/// Linear, it takes 0.06 s. The watchdog saw every connection but its control client
/// stall 1.2 s and 2.1 s in a 10-minute run, each time a client sent such gets.
///
/// Measured as the server's CPU time, not wall time, with a 20x margin over the linear
/// cost: the machine's load does not move it much, and the quadratic copy has no other
/// outside sign. Replies now hold such values pinned and splice peers' replies in one
/// linear pass (src/conn/forward.rs `Conn::splice`): nothing is copied again per forwarded key.
#[test]
fn a_get_alternating_local_large_values_and_forwarded_keys_costs_linear_time() {
    let server = CorecachedServer::start(&["--threads", "2", "-m", "64"]);
    // One key on each shard, so that whichever shard the connection lands on, every other
    // key is local (a referenced value) and the next one forwarded.
    let key_on = |shard: usize| {
        (0..)
            .map(|i| format!("stall{i}"))
            .find(|k| shard_for(k.as_bytes(), 2) == shard)
            .unwrap()
    };
    let keys = [key_on(0), key_on(1)];
    let value: Vec<u8> = (0..100 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let mut c = open_client(server.addr());
    for k in &keys {
        let mut req = format!("set {k} 0 0 {}\r\n", value.len()).into_bytes();
        req.extend_from_slice(&value);
        req.extend_from_slice(b"\r\n");
        assert_eq!(roundtrip(&mut c, &req, b"\r\n"), b"STORED\r\n");
    }
    let n = 400;
    let asked: Vec<&str> = (0..n).map(|i| keys[i % 2].as_str()).collect();
    let mut expected = Vec::new();
    for k in &asked {
        expected.extend_from_slice(format!("VALUE {k} 0 {}\r\n", value.len()).as_bytes());
        expected.extend_from_slice(&value);
        expected.extend_from_slice(b"\r\n");
    }
    expected.extend_from_slice(b"END\r\n");

    let before = cpu_secs(server.pid());
    let reply = roundtrip(
        &mut c,
        format!("get {}\r\n", asked.join(" ")).as_bytes(),
        b"END\r\n",
    );
    let spent = cpu_secs(server.pid()) - before;
    assert_eq!(reply.len(), expected.len());
    assert!(reply == expected, "the reply's bytes differ");
    // 20 times the CPU a linear copy needs, 3 times under what the quadratic one took.
    assert!(
        spent < 0.5,
        "a {} MB get took {spent:.2} s of server CPU",
        reply.len() >> 20
    );
}
