//! corecached against the recorded memcached 1.6.18 corpus (tests/common/cases.rs):
//! exact reply bytes for every case, pipelined and fragmented requests.

mod common;

use common::cases::{
    intended_difference, CAS_SCENARIO_REPLY, FLUSH_CASES, SMALL_ITEM_ARGS, SMALL_ITEM_CASES,
    TEXT_CASES,
};
use common::{
    assert_no_failures, exchange, exchange_fragmented, fragment_requests, has_long_non_get_line,
    run_cas_scenario, run_cases, show_short, CorecachedServer,
};

/// Every text case, then the cas scenario, then the flush cases (which wipe
/// everything, so they come last), all against one server.
fn run_suite(threads: &str) {
    let mut server = CorecachedServer::start(&["--threads", threads]);
    let addr = server.addr();
    let mut failures = run_cases(addr, TEXT_CASES);
    let cas = run_cas_scenario(addr);
    if cas != CAS_SCENARIO_REPLY {
        failures.push(format!(
            "cas scenario transcript differs\n  expected: \"{}\"\n  actual:   \"{}\"",
            show_short(CAS_SCENARIO_REPLY, 4000),
            show_short(&cas, 4000)
        ));
    }
    failures.extend(run_cases(addr, FLUSH_CASES));
    server.assert_alive();
    assert_no_failures(&format!("corecached --threads {threads}"), &failures);
}

#[test]
fn text_cases_one_thread() {
    run_suite("1");
}

#[test]
fn text_cases_two_threads() {
    run_suite("2");
}

#[test]
fn small_item_cases() {
    for threads in ["1", "2"] {
        let mut args = vec!["--threads", threads];
        args.extend_from_slice(SMALL_ITEM_ARGS);
        let mut server = CorecachedServer::start(&args);
        let failures = run_cases(server.addr(), SMALL_ITEM_CASES);
        server.assert_alive();
        assert_no_failures(&format!("corecached {args:?}"), &failures);
    }
}

/// All non-closing cases written as ONE request on ONE connection give all their
/// replies, concatenated, in order.
#[test]
fn pipelined_cases() {
    let cases: Vec<_> = TEXT_CASES
        .iter()
        .filter(|c| !c.closes && intended_difference(c.name).is_none())
        .filter(|c| !has_long_non_get_line(c.req))
        .collect();
    assert!(cases.len() > 150, "only {} pipelinable cases", cases.len());
    let req: Vec<u8> = cases.iter().flat_map(|c| c.req.iter().copied()).collect();
    let expected: Vec<u8> = cases.iter().flat_map(|c| c.reply.iter().copied()).collect();
    for threads in ["1", "2"] {
        let mut server = CorecachedServer::start(&["--threads", threads]);
        let reply = exchange(server.addr(), &req);
        server.assert_alive();
        assert!(!reply.closed, "connection closed during the pipeline");
        if reply.bytes != expected {
            // Locate the first case whose reply went wrong.
            let at = reply
                .bytes
                .iter()
                .zip(&expected)
                .position(|(a, b)| a != b)
                .unwrap_or(reply.bytes.len().min(expected.len()));
            let mut offset = 0;
            let culprit = cases
                .iter()
                .find(|c| {
                    offset += c.reply.len();
                    offset > at
                })
                .map_or("<past the end>", |c| c.name);
            panic!(
                "--threads {threads}: pipelined replies differ at byte {at} (within case {culprit}); \
                 expected {} bytes, got {}\n  expected from there: \"{}\"\n  actual from there:   \"{}\"",
                expected.len(),
                reply.bytes.len(),
                show_short(&expected[at.min(expected.len())..], 600),
                show_short(&reply.bytes[at.min(reply.bytes.len())..], 600)
            );
        }
    }
}

/// Multi-command requests written in small pieces give the same reply as when
/// written at once (each write is a separate syscall; no sleeps).
#[test]
fn fragmented_requests() {
    let requests = fragment_requests();
    for threads in ["1", "2"] {
        let mut server = CorecachedServer::start(&["--threads", threads]);
        let addr = server.addr();
        let mut failures = Vec::new();
        for (i, req) in requests.iter().enumerate() {
            let whole = exchange(addr, req);
            if whole.closed {
                failures.push(format!(
                    "request {i}: connection closed when written at once"
                ));
                continue;
            }
            for size in [1, 7, 1000] {
                let pieces = exchange_fragmented(addr, req, size);
                if pieces != whole {
                    failures.push(format!(
                        "request {i} written {size} byte(s) at a time:\n  at once: \"{}\" (closed={})\n  pieces:  \"{}\" (closed={})",
                        show_short(&whole.bytes, 600),
                        whole.closed,
                        show_short(&pieces.bytes, 600),
                        pieces.closed
                    ));
                }
            }
        }
        server.assert_alive();
        assert_no_failures(
            &format!("fragmented requests, --threads {threads}"),
            &failures,
        );
    }
}
