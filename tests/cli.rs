//! The binary's start-up and shutdown: flag errors that name the flag, the locked-memory
//! check, `--version`, and a graceful stop on SIGTERM and SIGINT.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::CorecachedServer;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_corecached"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run corecached");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn bad_flags_are_errors_that_name_them() {
    for (args, needle) in [
        (&["--frobnicate"][..], "--frobnicate"),
        (&["-p", "notaport"][..], "notaport"),
        (&["-U", "11211"][..], "-U"),
        (&["-I", "100"][..], "-I"),
        (&["-t", "0"][..], "threads"),
        (&["--cpus", "x"][..], "CPU list"),
        (&["-o", "nosuchoption=1"][..], "nosuchoption"),
        (&["-B", "morse"][..], "morse"),
    ] {
        let (code, text) = run(args);
        assert_ne!(code, 0, "{args:?} must fail");
        assert!(text.contains(needle), "{args:?}: {text}");
        assert!(!text.contains("panicked"), "{args:?}: {text}");
    }
}

#[test]
fn version_and_help() {
    let (code, text) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(text.starts_with("corecached "), "{text}");
    let (code, text) = run(&["--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--port",
        "--listen",
        "--threads",
        "--cpus",
        "--memory-limit",
        "--idle-timeout",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn too_little_locked_memory_is_one_clear_sentence() {
    let mut lim = libc_rlimit();
    if lim == u64::MAX {
        eprintln!("skipped: locked memory is unlimited here, so the check cannot trip");
        return;
    }
    lim = lim / 1024 + 1024;
    let (code, text) = run(&["-p", "0", "-t", "1", "--io-memory", &format!("{lim}k")]);
    assert_ne!(code, 0);
    assert!(
        text.contains("locked memory") && text.contains("ulimit -l"),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

/// RLIMIT_MEMLOCK's soft limit in bytes (u64::MAX when unlimited), read from /proc.
fn libc_rlimit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max locked memory"))
        .expect("Max locked memory in /proc/self/limits");
    match line.split_whitespace().nth(3) {
        Some("unlimited") | None => u64::MAX,
        Some(v) => v.parse().unwrap(),
    }
}

fn stop_with(signal: i32) {
    let mut server = CorecachedServer::start(&["--threads", "2"]);
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // A request already read is answered before the connection closes.
    s.write_all(b"set k 0 0 1\r\nv\r\nget k\r\n").unwrap();
    let mut reply = Vec::new();
    let mut b = [0u8; 256];
    while !reply.ends_with(b"END\r\n") {
        // A signal to the test process (another test's child exiting) may interrupt it.
        let n = match s.read(&mut b) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => r.unwrap(),
        };
        assert!(n > 0);
        reply.extend_from_slice(&b[..n]);
    }
    assert_eq!(reply, b"STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n");
    let status = server.signal_and_wait(signal, Duration::from_secs(10));
    assert_eq!(status, Some(0), "exit status after signal {signal}");
    // The open connection was closed.
    let mut rest = Vec::new();
    let started = Instant::now();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty() && started.elapsed() < Duration::from_secs(5));
}

#[test]
fn sigterm_stops_gracefully() {
    stop_with(15);
}

#[test]
fn sigint_stops_gracefully() {
    stop_with(2);
}
