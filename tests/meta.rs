//! corecached's meta commands against the recorded memcached 1.6.18 corpus
//! (tests/common/meta_cases.rs), with `--threads 1` and `--threads 2`; the same scripts
//! replayed live against memcached (skipped, with a message, when it is not installed);
//! pipelines cut into fragments; and the counters memcached keeps for meta commands.

mod common;

use std::net::SocketAddr;

use common::meta_cases::{
    compare_replies, last_cas, with_cas, CasLabels, Script, META_SCRIPTS, META_SCRIPTS_STATS,
    META_SMALL_ITEM_SCRIPTS,
};
use common::{
    assert_no_failures, exchange, exchange_fragmented, open_client, show_short, stats_on, Conn,
    CorecachedServer, MemcachedServer,
};

/// The replies of one script's steps on one connection, `$CAS` filled in from the
/// connection's own replies.
fn replay(addr: SocketAddr, script: &Script) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut conn = Conn::open(addr);
    let mut cas = 0;
    script
        .steps
        .iter()
        .map(|(req, _)| {
            let req = with_cas(req, cas);
            let reply = conn.exchange(&req);
            assert!(
                !reply.closed,
                "{}: connection closed at \"{}\"",
                script.name,
                show_short(&req, 200)
            );
            if let Some(c) = last_cas(&reply.bytes) {
                cas = c;
            }
            (req, reply.bytes)
        })
        .collect()
}

/// Compares a replay with expected replies (per step); one message per differing step.
fn check(
    what: &str,
    script: &Script,
    expected: &[&[u8]],
    actual: &[(Vec<u8>, Vec<u8>)],
) -> Vec<String> {
    let (mut el, mut al) = (CasLabels::default(), CasLabels::default());
    let mut failures = Vec::new();
    for (i, (want, (req, got))) in expected.iter().zip(actual).enumerate() {
        if !compare_replies(want, got, &mut el, &mut al) {
            failures.push(format!(
                "[{what}] {} step {i}\n  request:  \"{}\"\n  expected: \"{}\"\n  actual:   \"{}\"",
                script.name,
                show_short(req, 300),
                show_short(want, 1000),
                show_short(got, 1000)
            ));
        }
    }
    failures
}

fn run_scripts(addr: SocketAddr, scripts: &[Script], what: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for script in scripts {
        let expected: Vec<&[u8]> = script.steps.iter().map(|(_, r)| *r).collect();
        failures.extend(check(what, script, &expected, &replay(addr, script)));
    }
    failures
}

fn suite(threads: &str) {
    let mut server = CorecachedServer::start(&["--threads", threads]);
    let what = format!("corecached --threads {threads}");
    let mut failures = run_scripts(server.addr(), META_SCRIPTS, &what);
    let mut s = open_client(server.addr());
    let stats = stats_on(&mut s, "");
    for &(name, want) in META_SCRIPTS_STATS {
        if name == "get_expired" {
            // corecached's expiry pager reclaims an item as soon as it expires (a `T-1`
            // expires it at once); memcached finds it expired on the next read.
            continue;
        }
        let got: Option<u64> = stats.get(name).and_then(|v| v.parse().ok());
        if got != Some(want) {
            failures.push(format!(
                "[{what}] after the scripts, stat {name} is {got:?}, memcached had {want}"
            ));
        }
    }
    server.assert_alive();
    let mut small = CorecachedServer::start(&["--threads", threads, "-I", "1k"]);
    failures.extend(run_scripts(
        small.addr(),
        META_SMALL_ITEM_SCRIPTS,
        &format!("{what} -I 1k"),
    ));
    small.assert_alive();
    assert_no_failures(&what, &failures);
}

#[test]
fn meta_scripts_one_thread() {
    suite("1");
}

#[test]
fn meta_scripts_two_threads() {
    suite("2");
}

/// Each script's steps written as ONE request, whole and cut into small fragments, give
/// the replies of the steps concatenated (scripts without `$CAS`, whose steps do not
/// depend on an earlier reply).
#[test]
fn meta_scripts_pipelined_and_fragmented() {
    for threads in ["1", "2"] {
        let mut server = CorecachedServer::start(&["--threads", threads]);
        let mut failures = Vec::new();
        for (round, size) in [(0, 0), (1, 1), (2, 7), (3, 64)] {
            for script in META_SCRIPTS {
                if script
                    .steps
                    .iter()
                    .any(|(r, _)| r.windows(4).any(|w| w == b"$CAS"))
                {
                    continue;
                }
                // Fresh keys per round: the same script runs again on the same server.
                let req: Vec<u8> = script.steps.iter().flat_map(|(r, _)| r.to_vec()).collect();
                let want: Vec<u8> = script.steps.iter().flat_map(|(_, r)| r.to_vec()).collect();
                let _ = exchange(server.addr(), b"flush_all\r\n");
                let got = if size == 0 {
                    exchange(server.addr(), &req)
                } else {
                    exchange_fragmented(server.addr(), &req, size)
                };
                let (mut el, mut al) = (CasLabels::default(), CasLabels::default());
                if got.closed || !compare_replies(&want, &got.bytes, &mut el, &mut al) {
                    failures.push(format!(
                        "--threads {threads} round {round} (fragments of {size}): {}\n  expected: \"{}\"\n  actual:   \"{}\"",
                        script.name,
                        show_short(&want, 1500),
                        show_short(&got.bytes, 1500)
                    ));
                }
            }
        }
        server.assert_alive();
        assert_no_failures(&format!("pipelined --threads {threads}"), &failures);
    }
}

/// The scripts replayed live against memcached and corecached: the same replies (up to
/// CAS uniques and clock ticks), and memcached still answers what the corpus recorded.
fn differential(threads: &str) {
    let Some(memcached) = MemcachedServer::start(&[]) else {
        eprintln!("memcached is not installed: skipping the meta differential test");
        return;
    };
    let Some(memcached_small) = MemcachedServer::start(&["-I", "1k", "-o", "slab_chunk_max=1024"])
    else {
        return;
    };
    let mut corecached = CorecachedServer::start(&["--threads", threads]);
    let mut corecached_small = CorecachedServer::start(&["--threads", threads, "-I", "1k"]);
    let mut failures = Vec::new();
    for (scripts, m, c) in [
        (META_SCRIPTS, memcached.addr(), corecached.addr()),
        (
            META_SMALL_ITEM_SCRIPTS,
            memcached_small.addr(),
            corecached_small.addr(),
        ),
    ] {
        for script in scripts {
            let oracle = replay(m, script);
            let recorded: Vec<&[u8]> = script.steps.iter().map(|(_, r)| *r).collect();
            failures.extend(check("recorded vs memcached", script, &recorded, &oracle));
            let live: Vec<&[u8]> = oracle.iter().map(|(_, r)| r.as_slice()).collect();
            failures.extend(check(
                "memcached vs corecached",
                script,
                &live,
                &replay(c, script),
            ));
        }
    }
    let (mut sm, mut sc) = (
        open_client(memcached.addr()),
        open_client(corecached.addr()),
    );
    let (want, got) = (stats_on(&mut sm, ""), stats_on(&mut sc, ""));
    for &(name, _) in META_SCRIPTS_STATS {
        if name != "get_expired" && want.get(name) != got.get(name) {
            failures.push(format!(
                "stat {name}: memcached {:?}, corecached {:?}",
                want.get(name),
                got.get(name)
            ));
        }
    }
    corecached.assert_alive();
    corecached_small.assert_alive();
    assert_no_failures(
        &format!("meta: memcached vs corecached --threads {threads}"),
        &failures,
    );
}

#[test]
fn meta_differential_one_thread() {
    differential("1");
}

#[test]
fn meta_differential_two_threads() {
    differential("2");
}

/// Large values through `ms` and `mg v` on keys of both shards, pipelined in one request:
/// values come back whole and in request order (a forwarded `mg v` reply carries the value).
#[test]
fn large_values_pipelined_across_shards() {
    for threads in ["1", "2"] {
        let mut server = CorecachedServer::start(&["--threads", threads]);
        let mut req = Vec::new();
        let mut want = Vec::new();
        for i in 0..8usize {
            let len = 100_000 + i * 50_001;
            let value: Vec<u8> = (0..len).map(|j| b'a' + ((i + j) % 26) as u8).collect();
            req.extend_from_slice(format!("ms big{i} {len} T0 F{i} q\r\n").as_bytes());
            req.extend_from_slice(&value);
            req.extend_from_slice(b"\r\n");
            req.extend_from_slice(
                format!("mg big{i} s v f k Oo{i}\r\nmg nobig{i} v q\r\n").as_bytes(),
            );
            want.extend_from_slice(format!("VA {len} s{len} f{i} kbig{i} Oo{i}\r\n").as_bytes());
            want.extend_from_slice(&value);
            want.extend_from_slice(b"\r\n");
        }
        let got = exchange(server.addr(), &req);
        server.assert_alive();
        assert!(!got.closed);
        assert!(
            got.bytes == want,
            "--threads {threads}: {} bytes back, {} expected; starts \"{}\"",
            got.bytes.len(),
            want.len(),
            show_short(&got.bytes, 300)
        );
    }
}
