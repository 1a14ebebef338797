//! Persistence (`--data-dir`, issue 23): what a restart keeps. A graceful stop loses
//! nothing; another `-t` serves every item; a torn tail is cut and the rest served; a
//! `kill -9` under load (sets with and without a TTL, touches, deletes) loses only what was
//! acknowledged within the last flush interval (plus a second), keeps every older item's
//! exact value, flags and expiry, never serves a value a key never had, and never brings
//! back a deleted item; a second instance on the same directory refuses to start.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{open_client, roundtrip, CorecachedServer, Rng};

/// A fresh directory under /tmp (ext4 here: O_DIRECT works), removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p =
            std::env::temp_dir().join(format!("corecached-persist-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create the temp dir");
        TempDir(p)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start(dir: &TempDir, threads: usize, extra: &[&str]) -> CorecachedServer {
    let t = threads.to_string();
    let mut args = vec!["-t", &t, "-m", "256", "-I", "2m", "--data-dir", dir.path()];
    args.extend_from_slice(extra);
    CorecachedServer::start(&args)
}

/// Stops the server with SIGTERM and waits (bounded) for it to exit 0.
fn stop(mut s: CorecachedServer) {
    let code = s.signal_and_wait(libc::SIGTERM, Duration::from_secs(20));
    assert_eq!(code, Some(0), "SIGTERM exit; stderr:\n{}", s.stderr_log());
}

/// Every `.log` file in the directory, sorted.
fn journal_files(dir: &TempDir) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir.0)
        .expect("read dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    v.sort();
    v
}

/// `gets` of each key on its own: the exact reply bytes (value, flags, size and unique).
fn snapshot(addr: SocketAddr, keys: &[String]) -> Vec<Vec<u8>> {
    let mut c = open_client(addr);
    keys.iter()
        .map(|k| roundtrip(&mut c, format!("gets {k}\r\n").as_bytes(), b"END\r\n"))
        .collect()
}

/// The remaining TTL `mg <key> t` reports (-1: none), None on a miss.
fn ttl(c: &mut TcpStream, key: &str) -> Option<i64> {
    let r = roundtrip(c, format!("mg {key} t\r\nmn\r\n").as_bytes(), b"MN\r\n");
    let line = String::from_utf8_lossy(&r)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    if line.starts_with("EN") {
        return None;
    }
    let t = line.split(' ').find_map(|w| w.strip_prefix('t'))?;
    t.parse().ok()
}

fn value_of(len: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed | 1);
    (0..len).map(|_| b'!' + r.below(90) as u8).collect()
}

#[test]
fn sigterm_restart_loses_nothing() {
    let dir = TempDir::new("sigterm");
    let s = start(&dir, 2, &[]);
    let mut c = open_client(s.addr());
    let mut keys = Vec::new();
    // Values of every size up to 1 MB, with flags and expiries.
    for (i, len) in [0usize, 1, 100, 4095, 4096, 5000, 100_000, 1_000_000]
        .into_iter()
        .enumerate()
    {
        let key = format!("size{i}");
        let v = value_of(len, i as u64 + 7);
        let exptime = if i % 2 == 0 { 0 } else { 1000 + i };
        let mut req = format!("set {key} {} {exptime} {len}\r\n", i * 1000 + 3).into_bytes();
        req.extend_from_slice(&v);
        req.extend_from_slice(b"\r\n");
        assert_eq!(roundtrip(&mut c, &req, b"\r\n"), b"STORED\r\n", "{key}");
        keys.push(key);
    }
    let script: &[(&[u8], &[u8])] = &[
        (b"set gone 1 0 1\r\nx\r\n", b"STORED\r\n"),
        (b"delete gone\r\n", b"DELETED\r\n"),
        (b"set n 9 0 2\r\n10\r\n", b"STORED\r\n"),
        (b"incr n 95\r\n", b"105\r\n"),
        (b"decr n 3\r\n", b"102\r\n"),
        (b"set ap 4 0 3\r\nmid\r\n", b"STORED\r\n"),
        (b"append ap 0 0 4\r\n-end\r\n", b"STORED\r\n"),
        (b"prepend ap 0 0 6\r\nstart-\r\n", b"STORED\r\n"),
        (b"set t 2 0 1\r\nt\r\n", b"STORED\r\n"),
        (b"touch t 700\r\n", b"TOUCHED\r\n"),
        (b"add ap 0 0 1\r\nz\r\n", b"NOT_STORED\r\n"),
        (b"ms m 2 F77 T0\r\nmv\r\n", b"HD\r\n"),
    ];
    for (req, want) in script {
        assert_eq!(
            roundtrip(&mut c, req, b"\r\n"),
            *want,
            "{}",
            String::from_utf8_lossy(req)
        );
    }
    keys.extend(["gone", "n", "ap", "t", "m"].map(String::from));
    let before = snapshot(s.addr(), &keys);
    assert!(before[keys.len() - 4].starts_with(b"VALUE n 9 3 "));
    let ttl_t = ttl(&mut c, "t").expect("t is there");
    stop(s);

    let s = start(&dir, 2, &[]);
    let after = snapshot(s.addr(), &keys);
    for (k, (b, a)) in keys.iter().zip(before.iter().zip(&after)) {
        assert_eq!(
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b),
            "{k} after a SIGTERM restart"
        );
    }
    let mut c = open_client(s.addr());
    let t = ttl(&mut c, "t").expect("t after restart");
    assert!((ttl_t - 3..=ttl_t).contains(&t), "t's TTL {ttl_t} then {t}");
    assert_eq!(ttl(&mut c, "size0"), Some(-1));
    // A flush_all clears what came before it for good; what follows it stays.
    let reqs: &[(&[u8], &[u8])] = &[
        (b"flush_all\r\n", b"OK\r\n"),
        (b"set after 3 0 5\r\nlater\r\n", b"STORED\r\n"),
    ];
    for (req, want) in reqs {
        assert_eq!(roundtrip(&mut c, req, b"\r\n"), *want);
    }
    let stats = common::stats_on(&mut c, "");
    assert_eq!(stats["ep_warmup_state"], "done");
    assert_eq!(stats["ep_data_dir"], dir.path());
    assert_eq!(stats["ep_item_commit_failed"], "0");
    stop(s);
    let s = start(&dir, 2, &[]);
    let mut c = open_client(s.addr());
    assert_eq!(
        roundtrip(&mut c, b"get size0 n ap t after\r\n", b"END\r\n"),
        b"VALUE after 3 5\r\nlater\r\nEND\r\n"
    );
    let tasks = roundtrip(&mut c, b"stats tasks\r\n", b"END\r\n");
    let tasks = String::from_utf8_lossy(&tasks);
    assert!(
        tasks.contains("flusher") && tasks.contains("warmup"),
        "{tasks}"
    );
    stop(s);
}

/// A fresh directory's first journal files: the server logs no error. Glommio's iopoll probe
/// reads from the first direct file each shard opens, and a journal is opened write-only,
/// so the probe fails with EBADF: that is logged at debug (src/verbosity.rs).
#[test]
fn the_first_journal_files_log_no_error() {
    let dir = TempDir::new("noerror");
    let s = start(&dir, 2, &[]);
    let mut c = open_client(s.addr());
    for i in 0..64 {
        let req = format!("set k{i} 0 0 1\r\nv\r\n");
        assert_eq!(roundtrip(&mut c, req.as_bytes(), b"\r\n"), b"STORED\r\n");
    }
    drop(c);
    let mut s = s;
    let code = s.signal_and_wait(libc::SIGTERM, Duration::from_secs(20));
    assert_eq!(code, Some(0), "SIGTERM exit; stderr:\n{}", s.stderr_log());
    let log = s.stderr_log_at_exit();
    let files = journal_files(&dir);
    assert!(files.len() >= 2, "each shard wrote a journal: {files:?}");
    let errors: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert!(errors.is_empty(), "errors logged:\n{}", errors.join("\n"));
}

#[test]
fn restart_with_another_thread_count_serves_every_item() {
    let dir = TempDir::new("threads");
    let s = start(&dir, 2, &[]);
    let keys: Vec<String> = (0..400).map(|i| format!("key:{i}")).collect();
    let mut c = open_client(s.addr());
    for (i, k) in keys.iter().enumerate() {
        let v = value_of(i % 300 + 1, i as u64);
        let mut req = format!("set {k} {i} 0 {}\r\n", v.len()).into_bytes();
        req.extend_from_slice(&v);
        req.extend_from_slice(b"\r\n");
        assert_eq!(roundtrip(&mut c, &req, b"\r\n"), b"STORED\r\n");
    }
    assert_eq!(
        roundtrip(&mut c, b"delete key:7\r\n", b"\r\n"),
        b"DELETED\r\n"
    );
    let before = snapshot(s.addr(), &keys);
    stop(s);
    for threads in [1, 2] {
        let s = start(&dir, threads, &[]);
        let after = snapshot(s.addr(), &keys);
        for (k, (b, a)) in keys.iter().zip(before.iter().zip(&after)) {
            assert_eq!(
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b),
                "{k} with -t {threads}; stderr:\n{}",
                s.stderr_log()
            );
        }
        stop(s);
        // Only the new layout's files remain.
        let suffix = format!("-of-{threads}-");
        for f in journal_files(&dir) {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            assert!(
                name.contains(&suffix),
                "{name} left after a re-layout for {threads}"
            );
        }
    }
}

/// Bytes of a set record: frame header 12 (mark, length, checksum), fixed fields 24, key
/// and value.
fn record_len(key: &str, vlen: usize) -> u64 {
    (12 + 24 + key.len() + vlen) as u64
}

#[test]
fn a_torn_tail_is_cut_and_the_rest_served() {
    let dir = TempDir::new("torn");
    let s = start(&dir, 1, &[]);
    let mut c = open_client(s.addr());
    let keys: Vec<String> = (0..200).map(|i| format!("key{i:03}")).collect();
    for (i, k) in keys.iter().enumerate() {
        let v = value_of(100, i as u64);
        let mut req = format!("set {k} 0 0 100\r\n").into_bytes();
        req.extend_from_slice(&v);
        req.extend_from_slice(b"\r\n");
        assert_eq!(roundtrip(&mut c, &req, b"\r\n"), b"STORED\r\n");
    }
    stop(s);
    let files = journal_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let rec = record_len(&keys[0], 100);
    let full = rec * keys.len() as u64;
    // Written in whole blocks, the last one padded.
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().len(),
        full.div_ceil(4096) * 4096
    );
    let mut rng = Rng(0x5eed_1234);
    let cut = 1 + rng.below(full - 2);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&files[0])
        .unwrap();
    f.set_len(cut).unwrap();
    drop(f);
    let whole = (cut / rec) as usize;
    let s = start(&dir, 1, &[]);
    let log = s.stderr_log();
    if !cut.is_multiple_of(rec) {
        assert!(
            log.contains(&format!(
                "torn record at offset {}; cut there",
                whole as u64 * rec
            )),
            "cut at {cut}: {log}"
        );
        assert_eq!(
            std::fs::metadata(&files[0]).unwrap().len(),
            whole as u64 * rec
        );
    }
    let mut c = open_client(s.addr());
    for (i, k) in keys.iter().enumerate() {
        let r = roundtrip(&mut c, format!("get {k}\r\n").as_bytes(), b"END\r\n");
        if i < whole {
            let mut want = format!("VALUE {k} 0 100\r\n").into_bytes();
            want.extend_from_slice(&value_of(100, i as u64));
            want.extend_from_slice(b"\r\nEND\r\n");
            assert_eq!(r, want, "{k}, cut at {cut}");
        } else {
            assert_eq!(r, b"END\r\n", "{k} past the cut at {cut}");
        }
    }
    // Writes after the cut persist too.
    assert_eq!(
        roundtrip(&mut c, b"set new 1 0 1\r\nn\r\n", b"\r\n"),
        b"STORED\r\n"
    );
    stop(s);
    let s = start(&dir, 1, &[]);
    let mut c = open_client(s.addr());
    assert_eq!(
        roundtrip(&mut c, b"get new\r\n", b"END\r\n"),
        b"VALUE new 1 1\r\nn\r\nEND\r\n"
    );
    stop(s);
}

#[test]
fn a_corrupt_record_in_the_middle_is_skipped_named_in_the_log_and_the_rest_served() {
    let dir = TempDir::new("corrupt");
    let s = start(&dir, 1, &[]);
    let mut c = open_client(s.addr());
    let keys: Vec<String> = (0..200).map(|i| format!("key{i:03}")).collect();
    for (i, k) in keys.iter().enumerate() {
        let mut req = format!("set {k} {i} 0 100\r\n").into_bytes();
        req.extend_from_slice(&value_of(100, i as u64));
        req.extend_from_slice(b"\r\n");
        assert_eq!(roundtrip(&mut c, &req, b"\r\n"), b"STORED\r\n");
    }
    stop(s);
    let files = journal_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let rec = record_len(&keys[0], 100);
    let len = std::fs::metadata(&files[0]).unwrap().len();
    // A byte of record 50's value, record 120's mark and record 121's length: 50 is
    // skipped, 120 and 121 as one stretch.
    let mut bytes = std::fs::read(&files[0]).unwrap();
    for at in [51 * rec - 5, 120 * rec, 121 * rec + 5] {
        bytes[at as usize] ^= 0x24;
    }
    std::fs::write(&files[0], &bytes).unwrap();
    let bad = [50, 120, 121];
    for round in 0..2 {
        let s = start(&dir, 1, &[]);
        let log = s.stderr_log();
        let name = files[0].display();
        for (at, skipped) in [(50 * rec, rec), (120 * rec, 2 * rec)] {
            let want = format!(
                "{name} has a corrupt record at offset {at}; skipped {skipped} bytes to the next good record, at offset {}",
                at + skipped
            );
            assert!(log.contains(&want), "round {round}: no {want:?} in\n{log}");
        }
        assert!(!log.contains("cut there"), "{log}");
        assert_eq!(std::fs::metadata(&files[0]).unwrap().len(), len, "not cut");
        let mut c = open_client(s.addr());
        for (i, k) in keys.iter().enumerate() {
            let r = roundtrip(&mut c, format!("get {k}\r\n").as_bytes(), b"END\r\n");
            if bad.contains(&i) {
                assert_eq!(r, b"END\r\n", "{k} was in a corrupt record");
            } else {
                let mut want = format!("VALUE {k} {i} 100\r\n").into_bytes();
                want.extend_from_slice(&value_of(100, i as u64));
                want.extend_from_slice(b"\r\nEND\r\n");
                assert_eq!(r, want, "{k}, round {round}");
            }
        }
        stop(s);
    }
}

#[test]
fn a_second_instance_on_the_same_directory_refuses_to_start() {
    let dir = TempDir::new("lock");
    let first = start(&dir, 1, &[]);
    let bin = env!("CARGO_BIN_EXE_corecached");
    let mut child = Command::new(bin)
        .args([
            "-p",
            "0",
            "-l",
            "127.0.0.1",
            "-t",
            "1",
            "--data-dir",
            dir.path(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "the second instance did not exit"
        );
        thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!status.success(), "{err}");
    let want = format!(
        "--data-dir {} is in use by another corecached (pid {}); stop it or give another directory",
        dir.path(),
        first.pid()
    );
    assert!(err.contains(&want), "{err}");
    stop(first);
}

// ---------------------------------------------------------------------------
// The crash test

/// What a key holds: its flags, value and expiry (unix seconds, 0 for none).
#[derive(Clone, Debug)]
struct Item {
    flags: u32,
    value: Vec<u8>,
    exp: u64,
}

/// A key's state: absent, or an item.
type State = Option<Item>;

/// Seconds an expiry read back may differ from the one asked for: the server's clock is
/// coarse (one tick a pass) and the test's `now` is taken on its own side of the wire.
const EXP_SLACK: u64 = 3;

/// Whether two states are the same item: flags and value exactly, expiry within the slack.
fn same(a: &State, b: &State) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.flags == b.flags
                && a.value == b.value
                && (a.exp == b.exp
                    || (a.exp != 0 && b.exp != 0 && a.exp.abs_diff(b.exp) <= EXP_SLACK))
        }
        _ => false,
    }
}

/// A state in a line: flags, expiry, the value's length and first bytes.
fn brief(s: &State) -> String {
    match s {
        None => "absent".into(),
        Some(it) => format!(
            "flags {} exp {} {} bytes {:?}",
            it.flags,
            it.exp,
            it.value.len(),
            String::from_utf8_lossy(&it.value[..it.value.len().min(24)])
        ),
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// One operation a writer sent: the state it leaves, and when its reply came (None: no
/// reply, it may or may not have been applied).
struct Op {
    key: usize,
    state: State,
    acked: Option<Instant>,
}

const WRITERS: usize = 2;
const KEYS_PER_WRITER: usize = 60;

fn key_name(w: usize, k: usize) -> String {
    format!("w{w}:k{k}")
}

/// A TTL for a set or touch: none half the time, else long enough (over 16 minutes) that
/// nothing expires during the test.
fn some_ttl(rng: &mut Rng) -> u64 {
    if rng.below(2) == 0 {
        0
    } else {
        1_000 + rng.below(100_000)
    }
}

fn expiry_of(ttl: u64) -> u64 {
    if ttl == 0 {
        0
    } else {
        unix_now() + ttl
    }
}

/// Writes until `stop` (or the connection fails), recording every op: sets (with and
/// without a TTL), deletes, and touches that change only the expiry. `model` is what each
/// key holds when the writer starts; it follows every acknowledged op.
fn writer(
    addr: SocketAddr,
    w: usize,
    seed: u64,
    mut model: Vec<State>,
    stop: Arc<AtomicBool>,
) -> Vec<Op> {
    let mut ops = Vec::new();
    let Ok(s) = TcpStream::connect(addr) else {
        return ops;
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_nodelay(true).unwrap();
    let mut out = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut rng = Rng(seed | 1);
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        let key = rng.below(KEYS_PER_WRITER as u64) as usize;
        let name = key_name(w, key);
        let pick = rng.below(8);
        let (req, state) = if pick == 0 {
            (format!("delete {name}\r\n").into_bytes(), None)
        } else if pick == 1 {
            let ttl = some_ttl(&mut rng);
            let state = model[key].clone().map(|mut it| {
                it.exp = expiry_of(ttl);
                it
            });
            (format!("touch {name} {ttl}\r\n").into_bytes(), state)
        } else {
            let len = 1 + rng.below(3000) as usize;
            let tag = format!("{name}#{}#", rng.next());
            let mut v = tag.into_bytes();
            v.resize(len.max(v.len()), b'.');
            let flags = rng.below(1 << 20) as u32;
            let ttl = some_ttl(&mut rng);
            let mut req = format!("set {name} {flags} {ttl} {}\r\n", v.len()).into_bytes();
            req.extend_from_slice(&v);
            req.extend_from_slice(b"\r\n");
            let state = Some(Item {
                flags,
                value: v,
                exp: expiry_of(ttl),
            });
            (req, state)
        };
        ops.push(Op {
            key,
            state: state.clone(),
            acked: None,
        });
        if out.write_all(&req).is_err() {
            break;
        }
        line.clear();
        match r.read_line(&mut line) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
        // A touch or delete finds the key exactly when the model has it: one writer owns
        // its keys, and nothing it wrote can expire meanwhile.
        let want: &[&str] = match (pick, model[key].is_some()) {
            (0, true) => &["DELETED\r\n"],
            (0, false) => &["NOT_FOUND\r\n"],
            (1, true) => &["TOUCHED\r\n"],
            (1, false) => &["NOT_FOUND\r\n"],
            _ => &["STORED\r\n"],
        };
        assert!(
            want.contains(&line.as_str()),
            "{name}: reply {line:?}, expected {want:?}"
        );
        model[key] = state;
        ops.last_mut().unwrap().acked = Some(Instant::now());
    }
    ops
}

/// Every key's current state: flags, value and remaining TTL by `mg`, pipelined.
fn read_all(addr: SocketAddr, w: usize) -> Vec<State> {
    let mut c = open_client(addr);
    let mut req = String::new();
    for k in 0..KEYS_PER_WRITER {
        req.push_str(&format!("mg {} f t v\r\n", key_name(w, k)));
    }
    req.push_str("mn\r\n");
    let reply = roundtrip(&mut c, req.as_bytes(), b"MN\r\n");
    let now = unix_now();
    let mut states: Vec<State> = Vec::with_capacity(KEYS_PER_WRITER);
    let mut pos = 0;
    for k in 0..KEYS_PER_WRITER {
        let nl = reply[pos..]
            .windows(2)
            .position(|x| x == b"\r\n")
            .expect("a reply line per key");
        let line = String::from_utf8_lossy(&reply[pos..pos + nl]).to_string();
        pos += nl + 2;
        if line == "EN" {
            states.push(None);
            continue;
        }
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words[0], "VA", "{}: {line}", key_name(w, k));
        let len: usize = words[1].parse().unwrap();
        let word = |p: char| -> i64 {
            words
                .iter()
                .find_map(|x| x.strip_prefix(p))
                .unwrap_or_else(|| panic!("{line}: no {p}"))
                .parse()
                .unwrap()
        };
        let ttl = word('t');
        states.push(Some(Item {
            flags: word('f') as u32,
            value: reply[pos..pos + len].to_vec(),
            exp: if ttl < 0 { 0 } else { now + ttl as u64 },
        }));
        pos += len + 2;
    }
    assert_eq!(&reply[pos..], b"MN\r\n");
    states
}

#[test]
fn kill_9_under_load_loses_only_the_last_flush_interval() {
    let dir = TempDir::new("crash");
    let interval = Duration::from_millis(100);
    let settle = interval + Duration::from_secs(1);
    // 20 kills, and a last start that checks the last one.
    let rounds = 21;
    let started = Instant::now();
    let mut rng = Rng(0xc0ffee);
    // What each key is known to hold (settled), per writer.
    let mut known: Vec<Vec<State>> = vec![vec![None; KEYS_PER_WRITER]; WRITERS];
    let mut pending: Vec<Vec<Op>> = (0..WRITERS).map(|_| Vec::new()).collect();
    let mut killed_at: Option<Instant> = None;
    let mut settled_checks = 0usize;
    for round in 0..rounds {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the crash test ran past its time bound at round {round}"
        );
        let s = start(&dir, 2, &["--flush-interval-ms", "100"]);
        // Check what the last round's writes left.
        for w in 0..WRITERS {
            let now_states = read_all(s.addr(), w);
            for (k, got) in now_states.iter().enumerate() {
                let ops: Vec<&Op> = pending[w].iter().filter(|o| o.key == k).collect();
                // The newest op acknowledged long enough before the kill must hold, or
                // something written after it; nothing else.
                let last_settled = killed_at.and_then(|kill| {
                    ops.iter()
                        .rposition(|o| o.acked.is_some_and(|t| t + settle < kill))
                });
                let mut allowed: Vec<&State> = Vec::new();
                match last_settled {
                    Some(i) => {
                        settled_checks += 1;
                        allowed.extend(ops[i..].iter().map(|o| &o.state));
                    }
                    None => {
                        allowed.push(&known[w][k]);
                        allowed.extend(ops.iter().map(|o| &o.state));
                    }
                }
                if !allowed.iter().any(|a| same(a, got)) {
                    // Where the value came from: an op of this round (and when its reply
                    // came, before the kill), the state before it, or nowhere.
                    let kill = killed_at.expect("ops imply a kill");
                    let before_kill = |o: &Op| {
                        o.acked
                            .map(|t| format!("{:?}", kill.saturating_duration_since(t)))
                    };
                    let from = ops.iter().position(|o| same(&o.state, got));
                    panic!(
                        "round {round}: {} holds a value not allowed ({}, known before the round: {}): op {from:?} of {} (acked {:?} before the kill; known before the round: {}); the last op that must hold is {last_settled:?} (acked {:?} before the kill); stderr:\n{}",
                        key_name(w, k),
                        brief(got),
                        brief(&known[w][k]),
                        ops.len(),
                        from.and_then(|i| before_kill(ops[i])),
                        same(&known[w][k], got),
                        last_settled.and_then(|i| before_kill(ops[i])),
                        s.stderr_log()
                    );
                }
                known[w][k] = got.clone();
            }
        }
        if round + 1 == rounds {
            stop(s);
            break;
        }
        // Load, then kill -9 at a random moment while the writers write.
        let stop_flag = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (addr, stop_flag) = (s.addr(), stop_flag.clone());
                let seed = rng.next();
                let model = known[w].clone();
                thread::spawn(move || writer(addr, w, seed, model, stop_flag))
            })
            .collect();
        let run = Duration::from_millis(200 + rng.below(1600));
        thread::sleep(run);
        let pid = s.pid() as i32;
        // SAFETY: kill on the server's pid, which this test started and still owns.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
        killed_at = Some(Instant::now());
        stop_flag.store(true, Ordering::Relaxed);
        for (w, h) in handles.into_iter().enumerate() {
            pending[w] = h.join().expect("writer thread");
        }
        let mut s = s;
        assert!(s.wait_exit(Duration::from_secs(10)).is_some(), "killed");
    }
    assert!(
        settled_checks > 0,
        "no key had an op acknowledged more than {settle:?} before a kill"
    );
    assert!(Path::new(dir.path()).join("LOCK").exists());
}

/// A run killed mid-write exits before the kernel has finished the writes it submitted.
/// A start must read a journal file only once they have landed: else it misses records
/// it then writes around, and the next start brings them back. Here the test plays the
/// dead run: it holds the file's lock, as the run's last write does while in flight, and
/// lands that write (the file's records) once the server says it waits for it.
#[test]
fn a_start_waits_for_a_killed_runs_writes_to_land() {
    let dir = TempDir::new("late-write");
    let s = start(&dir, 1, &[]);
    let mut c = open_client(s.addr());
    assert_eq!(
        roundtrip(&mut c, b"set late 7 0 5\r\nwrote\r\n", b"\r\n"),
        b"STORED\r\n"
    );
    stop(s);
    let written: Vec<(PathBuf, Vec<u8>)> = journal_files(&dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .filter(|(_, b)| !b.is_empty())
        .collect();
    assert_eq!(written.len(), 1, "one file holds the set: {written:?}");
    let (path, bytes) = written.into_iter().next().unwrap();
    // The write has not landed yet: the file is empty, and locked by its writer.
    let held = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    held.set_len(0).unwrap();
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(
        unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    let held = std::sync::Mutex::new(Some(held));
    let landed = Arc::new(AtomicBool::new(false));
    let s = {
        let (path, landed) = (path.clone(), landed.clone());
        CorecachedServer::start_watching(
            &["-t", "1", "-m", "256", "--data-dir", dir.path()],
            1,
            move |line| {
                if line.contains("waiting for an earlier run's writes")
                    && line.contains(&*path.to_string_lossy())
                {
                    let mut f = held.lock().unwrap().take().expect("one wait");
                    f.write_all(&bytes).unwrap();
                    f.sync_all().unwrap();
                    landed.store(true, Ordering::SeqCst);
                    // Closing the file releases its lock: the write has landed.
                    drop(f);
                }
            },
        )
    };
    assert!(
        landed.load(Ordering::SeqCst),
        "the server did not wait for the write; stderr:\n{}",
        s.stderr_log()
    );
    let mut c = open_client(s.addr());
    assert_eq!(
        roundtrip(&mut c, b"get late\r\n", b"END\r\n"),
        b"VALUE late 7 5\r\nwrote\r\nEND\r\n"
    );
    stop(s);
}

#[test]
fn compaction_rewrites_overwritten_files_as_the_live_items() {
    let dir = TempDir::new("compact");
    let s = start(&dir, 1, &[]);
    let mut c = open_client(s.addr());
    // 90 MB of writes over ten keys: past the compaction bound (64 MiB and twice the
    // live data) many times over.
    let len = 100_000;
    let mut last: Vec<(u64, Vec<u8>)> = vec![(0, Vec::new()); 10];
    for i in 0..900u64 {
        let k = (i % 10) as usize;
        let mut v = format!("{i}:").into_bytes();
        v.resize(len, b'a' + (i % 26) as u8);
        let mut req = format!("set big{k} {i} 0 {len}\r\n").into_bytes();
        req.extend_from_slice(&v);
        req.extend_from_slice(b"\r\n");
        assert_eq!(roundtrip(&mut c, &req, b"\r\n"), b"STORED\r\n");
        last[k] = (i, v);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stats = common::stats_on(&mut c, "");
        if stats["ep_compactions"] != "0" && stats["ep_flusher_todo"] == "0" {
            break;
        }
        assert!(Instant::now() < deadline, "no compaction: {stats:?}");
        thread::sleep(Duration::from_millis(50));
    }
    let tasks =
        String::from_utf8_lossy(&roundtrip(&mut c, b"stats tasks\r\n", b"END\r\n")).to_string();
    assert!(tasks.contains("compactor"), "{tasks}");
    stop(s);
    let disk: u64 = journal_files(&dir)
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert!(
        disk < 64 << 20,
        "{disk} bytes of files after compaction (90 MB written, 1 MB live)"
    );
    let s = start(&dir, 1, &[]);
    let mut c = open_client(s.addr());
    for (k, (i, v)) in last.iter().enumerate() {
        let mut want = format!("VALUE big{k} {i} {len}\r\n").into_bytes();
        want.extend_from_slice(v);
        want.extend_from_slice(b"\r\nEND\r\n");
        let got = roundtrip(&mut c, format!("get big{k}\r\n").as_bytes(), b"END\r\n");
        assert!(
            got == want,
            "big{k} after compaction and restart: {}",
            common::show_short(&got, 80)
        );
    }
    stop(s);
}

#[test]
fn warm_up_into_a_smaller_memory_limit_keeps_the_newest_and_says_how_many_were_dropped() {
    let dir = TempDir::new("memlimit");
    let t = "1";
    let args = |m: &'static str| -> Vec<String> {
        ["-t", t, "-m", m, "--data-dir", dir.path()]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let a = args("64");
    let s = CorecachedServer::start(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let mut c = open_client(s.addr());
    let n = 4000;
    let len = 10_000;
    for i in 0..n {
        let mut req = format!("set k{i} 0 0 {len}\r\n").into_bytes();
        req.resize(req.len() + len, b'a' + (i % 26) as u8);
        req.extend_from_slice(b"\r\n");
        assert_eq!(roundtrip(&mut c, &req, b"\r\n"), b"STORED\r\n");
    }
    stop(s);
    // 40 MB of items into 8 MB.
    let a = args("8");
    let s = CorecachedServer::start(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let log = s.stderr_log();
    assert!(
        log.contains("did not fit -m and were dropped (the oldest first)"),
        "{log}"
    );
    let mut c = open_client(s.addr());
    let stats = common::stats_on(&mut c, "");
    let dropped: u64 = stats["ep_warmup_dropped"].parse().unwrap();
    let items: u64 = stats["curr_items"].parse().unwrap();
    assert!(dropped > 0 && items > 0 && items < n, "{stats:?}");
    // The eviction task may make headroom after warm-up: never more items than loaded.
    let warmed: u64 = stats["ep_warmup_items"].parse().unwrap();
    assert!(warmed >= items, "{stats:?}");
    // The newest is served; the oldest is gone.
    let last = format!("get k{}\r\n", n - 1);
    let r = roundtrip(&mut c, last.as_bytes(), b"END\r\n");
    assert!(r.starts_with(format!("VALUE k{} 0 {len}\r\n", n - 1).as_bytes()));
    assert_eq!(roundtrip(&mut c, b"get k0\r\n", b"END\r\n"), b"END\r\n");
    stop(s);
}

#[test]
fn a_delayed_flush_all_survives_a_restart_before_and_after_its_time() {
    let dir = TempDir::new("delayed");
    let s = start(&dir, 2, &[]);
    let mut c = open_client(s.addr());
    let script: &[(&[u8], &[u8])] = &[
        (b"set a 1 0 1\r\na\r\n", b"STORED\r\n"),
        (b"flush_all 2\r\n", b"OK\r\n"),
        (b"set b 2 0 1\r\nb\r\n", b"STORED\r\n"),
    ];
    for (req, want) in script {
        assert_eq!(roundtrip(&mut c, req, b"\r\n"), *want);
    }
    let flush_at = Instant::now() + Duration::from_secs(2);
    stop(s);
    // Restarted before its time: both still served, and the flush still to come.
    let s = start(&dir, 2, &[]);
    let mut c = open_client(s.addr());
    if Instant::now() + Duration::from_millis(500) < flush_at {
        assert_eq!(
            roundtrip(&mut c, b"get a b\r\n", b"END\r\n"),
            b"VALUE a 1 1\r\na\r\nVALUE b 2 1\r\nb\r\nEND\r\n"
        );
    }
    // Past its time (whole seconds: up to one more), both are gone; what is written
    // after it stays, across restarts.
    let deadline = flush_at + Duration::from_secs(3);
    loop {
        let r = roundtrip(&mut c, b"get a b\r\n", b"END\r\n");
        if r == b"END\r\n" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the delayed flush_all did not take effect: {r:?}"
        );
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        roundtrip(&mut c, b"set c 3 0 1\r\nc\r\n", b"\r\n"),
        b"STORED\r\n"
    );
    stop(s);
    let s = start(&dir, 2, &[]);
    let mut c = open_client(s.addr());
    assert_eq!(
        roundtrip(&mut c, b"get a b c\r\n", b"END\r\n"),
        b"VALUE c 3 1\r\nc\r\nEND\r\n"
    );
    stop(s);
}
