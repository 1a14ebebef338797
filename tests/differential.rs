//! Differential tests: the same request bytes to memcached 1.6.18 (the oracle)
//! and to corecached must give the same reply bytes, except for the cases listed
//! in INTENDED_DIFFERENCES. Also checks that the recorded corpus still matches
//! what memcached answers now. Skipped (with a message) when memcached is missing.

mod common;

use std::net::SocketAddr;

use common::cases::{
    Case, CAS_SCENARIO_REPLY, FLUSH_CASES, MEMCACHED_SMALL_ITEM_ARGS, SMALL_ITEM_ARGS,
    SMALL_ITEM_CASES, TEXT_CASES,
};
use common::{
    assert_no_failures, compare, exchange, fragment_requests, run_cas_scenario, run_cases,
    show_short, CorecachedServer, MemcachedServer,
};

/// Replays `cases` in order to both servers; one message per differing case.
fn diff_cases(oracle: SocketAddr, subject: SocketAddr, cases: &[Case]) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let want = exchange(oracle, case.req);
        let got = exchange(subject, case.req);
        if let Err(e) = compare(case.name, case.req, &want.bytes, want.closed, &got) {
            failures.push(format!("[memcached vs corecached] {e}"));
        }
    }
    failures
}

fn diff_suite(threads: &str) {
    let Some(memcached) = MemcachedServer::start(&[]) else {
        return;
    };
    let mut corecached = CorecachedServer::start(&["--threads", threads]);
    let (m, c) = (memcached.addr(), corecached.addr());
    let mut failures = diff_cases(m, c, TEXT_CASES);
    let (want, got) = (run_cas_scenario(m), run_cas_scenario(c));
    if want != got {
        failures.push(format!(
            "cas scenario transcripts differ\n  memcached:  \"{}\"\n  corecached: \"{}\"",
            show_short(&want, 4000),
            show_short(&got, 4000)
        ));
    }
    for (i, req) in fragment_requests().iter().enumerate() {
        let (want, got) = (exchange(m, req), exchange(c, req));
        if want != got {
            failures.push(format!(
                "fragment request {i} (written at once) differs\n  memcached:  \"{}\" (closed={})\n  corecached: \"{}\" (closed={})",
                show_short(&want.bytes, 600),
                want.closed,
                show_short(&got.bytes, 600),
                got.closed
            ));
        }
    }
    failures.extend(diff_cases(m, c, FLUSH_CASES));
    corecached.assert_alive();
    assert_no_failures(
        &format!("memcached vs corecached --threads {threads}"),
        &failures,
    );
}

#[test]
fn differential_one_thread() {
    diff_suite("1");
}

#[test]
fn differential_two_threads() {
    diff_suite("2");
}

#[test]
fn differential_small_items() {
    for threads in ["1", "2"] {
        let Some(memcached) = MemcachedServer::start(MEMCACHED_SMALL_ITEM_ARGS) else {
            return;
        };
        let mut args = vec!["--threads", threads];
        args.extend_from_slice(SMALL_ITEM_ARGS);
        let mut corecached = CorecachedServer::start(&args);
        let failures = diff_cases(memcached.addr(), corecached.addr(), SMALL_ITEM_CASES);
        corecached.assert_alive();
        assert_no_failures(&format!("memcached vs corecached {args:?}"), &failures);
    }
}

/// The corpus must not drift from the oracle: memcached still answers exactly
/// the recorded bytes (cases listed in INTENDED_DIFFERENCES get the weak check).
#[test]
fn recorded_corpus_matches_memcached() {
    let Some(memcached) = MemcachedServer::start(&[]) else {
        return;
    };
    let mut failures = run_cases(memcached.addr(), TEXT_CASES);
    let cas = run_cas_scenario(memcached.addr());
    if cas != CAS_SCENARIO_REPLY {
        failures.push(format!(
            "cas scenario transcript differs from the recording\n  recorded:  \"{}\"\n  memcached: \"{}\"",
            show_short(CAS_SCENARIO_REPLY, 4000),
            show_short(&cas, 4000)
        ));
    }
    failures.extend(run_cases(memcached.addr(), FLUSH_CASES));
    let Some(small) = MemcachedServer::start(MEMCACHED_SMALL_ITEM_ARGS) else {
        return;
    };
    failures.extend(run_cases(small.addr(), SMALL_ITEM_CASES));
    assert_no_failures("recorded corpus vs live memcached", &failures);
}

/// The corpus is meant to be complete: every table is non-empty, names are
/// unique, and every intended difference names an existing case.
#[test]
fn corpus_is_well_formed() {
    let all: Vec<&Case> = TEXT_CASES
        .iter()
        .chain(SMALL_ITEM_CASES)
        .chain(FLUSH_CASES)
        .collect();
    assert!(TEXT_CASES.len() >= 120, "{} text cases", TEXT_CASES.len());
    let mut names: Vec<&str> = all.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate case names");
    for (name, _) in common::cases::INTENDED_DIFFERENCES {
        assert!(
            names.contains(name),
            "INTENDED_DIFFERENCES names unknown case {name}"
        );
    }
    for case in &all {
        assert!(
            !case.req.is_empty(),
            "case {} has an empty request",
            case.name
        );
    }
}
