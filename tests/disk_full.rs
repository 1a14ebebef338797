//! A full disk under load (issue 23): `--data-dir` on a small filesystem of its own (ext4 in
//! a loop file, so the server's O_DIRECT writes meet ENOSPC as on a real disk; tmpfs when
//! loop devices are not available) that a ballast file fills while a client writes. The
//! server must answer reads throughout, count the failed commits and log them at most a
//! line a second, pause writers once what it holds unwritten reaches its bound (never drop
//! or crash), and once the ballast is removed write everything it held: a `kill -9` then
//! loses nothing acknowledged, nor does a SIGTERM restart after it.
//!
//! Mounting needs root; without it (or without any filesystem to mount) the test says why
//! it skipped.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{open_client, roundtrip, stats_on, CorecachedServer};

/// Size of the filesystem the data directory lives on: room, once the ballast is gone, for
/// the most the server holds unwritten (the journal's bound, at most 64 MiB) and more.
const FS_BYTES: u64 = 192 << 20;
/// Free bytes the ballast leaves: the disk fills after a few hundred writes.
const LEFT_FREE: u64 = 3 << 20;
/// Bytes of each value written.
const VALUE_LEN: usize = 8 << 10;
/// Most sets the writer sends (it stops earlier when told).
const MAX_SETS: usize = 20_000;

/// A small filesystem mounted on a directory of its own; unmounted and removed on drop.
struct SmallFs {
    base: PathBuf,
    mnt: PathBuf,
    /// What was mounted, for the test's output.
    kind: &'static str,
}

impl SmallFs {
    /// Mounts ext4 in a loop file, or else tmpfs; Err says why neither could be.
    fn mount() -> Result<SmallFs, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("mounting a small filesystem needs root".into());
        }
        let base = std::env::temp_dir().join(format!("corecached-diskfull-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let mnt = base.join("mnt");
        std::fs::create_dir_all(&mnt).map_err(|e| format!("create {}: {e}", mnt.display()))?;
        let image = base.join("fs.img");
        let ext4 = (|| -> Result<(), String> {
            std::fs::File::create(&image)
                .and_then(|f| f.set_len(FS_BYTES))
                .map_err(|e| format!("make {}: {e}", image.display()))?;
            run(
                "mkfs.ext4",
                &["-q", "-F", "-m", "0", "-O", "^has_journal", path(&image)],
            )?;
            run("mount", &["-o", "loop", path(&image), path(&mnt)])
        })();
        let fs = |kind| SmallFs {
            base: base.clone(),
            mnt: mnt.clone(),
            kind,
        };
        let Err(no_ext4) = ext4 else {
            return Ok(fs("ext4 on a loop file (O_DIRECT)"));
        };
        let size = format!("size={}", FS_BYTES);
        match run("mount", &["-t", "tmpfs", "-o", &size, "tmpfs", path(&mnt)]) {
            Ok(()) => {
                println!("no ext4 on a loop file ({no_ext4}): tmpfs instead");
                Ok(fs("tmpfs"))
            }
            Err(no_tmpfs) => {
                let _ = std::fs::remove_dir_all(&base);
                Err(format!(
                    "no ext4 on a loop file ({no_ext4}) nor tmpfs ({no_tmpfs})"
                ))
            }
        }
    }

    /// Bytes free for this user.
    fn free(&self) -> u64 {
        let c = std::ffi::CString::new(path(&self.mnt)).unwrap();
        // SAFETY: statvfs fills the zeroed struct it is given from a NUL-terminated path.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0, "statvfs");
        st.f_bavail as u64 * st.f_frsize as u64
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        if run("umount", &[path(&self.mnt)]).is_err() {
            let _ = run("umount", &["-l", path(&self.mnt)]);
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs a command (found on PATH, or in the sbin directories a user's PATH may lack); Err
/// with its stderr (or why it did not run) when it fails.
fn run(cmd: &str, args: &[&str]) -> Result<(), String> {
    let program = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(cmd))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(cmd));
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn key(i: usize) -> String {
    format!("full:{i}")
}

/// Item `i`'s value: its number, then bytes that differ from item to item.
fn value(i: usize) -> Vec<u8> {
    let mut v = format!("{i}:").into_bytes();
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    while v.len() < VALUE_LEN {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.push(b'a' + (x % 26) as u8);
    }
    v
}

/// `get` of item `i`'s key as it must be answered.
fn reply_of(i: usize) -> Vec<u8> {
    let mut r = format!("VALUE {} {i} {VALUE_LEN}\r\n", key(i)).into_bytes();
    r.extend_from_slice(&value(i));
    r.extend_from_slice(b"\r\nEND\r\n");
    r
}

/// Sets items 0.. until `stop` or [`MAX_SETS`]; `acked` counts the sets answered STORED (in
/// order: items below it are acknowledged). A paused write waits for its reply.
fn writer(addr: SocketAddr, stop: Arc<AtomicBool>, acked: Arc<AtomicUsize>) {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.set_nodelay(true).unwrap();
    let mut out = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    for i in 0..MAX_SETS {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let mut req = format!("set {} {i} 0 {VALUE_LEN}\r\n", key(i)).into_bytes();
        req.extend_from_slice(&value(i));
        req.extend_from_slice(b"\r\n");
        out.write_all(&req).expect("send a set");
        line.clear();
        r.read_line(&mut line).expect("a reply to a set");
        assert_eq!(line, "STORED\r\n", "set {i}");
        acked.store(i + 1, Ordering::Release);
    }
}

fn stat(c: &mut TcpStream, name: &str) -> u64 {
    let stats = stats_on(c, "");
    stats[name]
        .parse()
        .unwrap_or_else(|_| panic!("{name}: {stats:?}"))
}

/// Every item below `n` is served with its exact bytes.
fn check_items(addr: SocketAddr, n: usize, when: &str, log: &dyn Fn() -> String) {
    let mut c = open_client(addr);
    for i in 0..n {
        let got = roundtrip(&mut c, format!("get {}\r\n", key(i)).as_bytes(), b"END\r\n");
        assert!(
            got == reply_of(i),
            "{} {when}: {}; stderr:\n{}",
            key(i),
            common::show_short(&got, 80),
            log()
        );
    }
}

/// Waits (at most `limit`) until `cond` holds, checking every 20 ms.
fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_full_disk_pauses_writers_serves_reads_and_persists_everything_once_space_returns() {
    let fs = match SmallFs::mount() {
        Ok(fs) => fs,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    println!("data directory on {}", fs.kind);
    let data = fs.mnt.join("data");
    let start = || {
        CorecachedServer::start(&[
            "-t",
            "1",
            "-m",
            "256",
            "--flush-interval-ms",
            "100",
            "--data-dir",
            path(&data),
        ])
    };
    let s = start();
    let addr = s.addr();
    // The ballast leaves a few MB free.
    let ballast = fs.mnt.join("ballast");
    {
        let mut f = std::fs::File::create(&ballast).expect("create the ballast");
        let chunk = vec![0x5au8; 1 << 20];
        let mut left = fs.free().saturating_sub(LEFT_FREE);
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            f.write_all(&chunk[..n]).expect("write the ballast");
            left -= n as u64;
        }
        f.sync_all().expect("sync the ballast");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let w = {
        let (stop, acked) = (stop.clone(), acked.clone());
        thread::spawn(move || writer(addr, stop, acked))
    };
    let mut c = open_client(addr);
    let full_at = Instant::now();
    wait_for(Duration::from_secs(30), "a failed commit counted", || {
        stat(&mut c, "ep_item_commit_failed") > 0
    });
    // Full: writers pause once the journal and the batch held are over the bound, and
    // reads are answered meanwhile, with the exact bytes acknowledged.
    let mut reads = 0;
    wait_for(Duration::from_secs(30), "a writer paused", || {
        let n = acked.load(Ordering::Acquire);
        if n > 0 {
            let i = (reads * 7919) % n;
            let got = roundtrip(&mut c, format!("get {}\r\n", key(i)).as_bytes(), b"END\r\n");
            assert!(got == reply_of(i), "{} while the disk is full", key(i));
            reads += 1;
        }
        stat(&mut c, "ep_write_pauses") > 0
    });
    // Paused, not dropped: the writer's set waits, and nothing more is acknowledged.
    let paused_at = acked.load(Ordering::Acquire);
    let stats = stats_on(&mut c, "");
    assert!(
        stats["ep_flusher_todo"] != "0",
        "the records held are still to do: {stats:?}"
    );
    for i in (0..paused_at).step_by(97) {
        let got = roundtrip(&mut c, format!("get {}\r\n", key(i)).as_bytes(), b"END\r\n");
        assert!(got == reply_of(i), "{} while writers are paused", key(i));
    }
    // At most the reply sent just before the pause can have arrived since.
    let later = acked.load(Ordering::Acquire);
    assert!(
        later <= paused_at + 1,
        "{} writes passed the bound",
        later - paused_at
    );
    let full_for = full_at.elapsed();
    let log = s.stderr_log();
    let lines = log.matches("persistence: cannot write").count();
    assert!(lines > 0, "no line says the writes fail: {log}");
    assert!(
        lines as u64 <= full_for.as_secs() + 2,
        "{lines} lines in {full_for:?}: not rate-limited: {log}"
    );
    // Space returns: the held records and the paused writes are written.
    std::fs::remove_file(&ballast).expect("remove the ballast");
    stop.store(true, Ordering::Relaxed);
    w.join().expect("the writer");
    let n = acked.load(Ordering::Acquire);
    assert!(n > paused_at, "the paused write was answered");
    wait_for(Duration::from_secs(30), "the flusher drained", || {
        let stats = stats_on(&mut c, "");
        stats["ep_queue_size"] == "0" && stats["ep_flusher_todo"] == "0"
    });
    assert!(
        s.stderr_log().contains("again after"),
        "no line says writing works again: {}",
        s.stderr_log()
    );
    println!(
        "{n} items of {VALUE_LEN} bytes; disk full for {full_for:?}, {} failed commits counted, {reads} reads answered while full",
        stat(&mut c, "ep_item_commit_failed")
    );
    // Everything acknowledged was written before the kill.
    drop(s);
    let s = start();
    check_items(s.addr(), n, "after kill -9", &|| s.stderr_log());
    let mut s = s;
    let code = s.signal_and_wait(libc::SIGTERM, Duration::from_secs(20));
    assert_eq!(code, Some(0), "SIGTERM exit; stderr:\n{}", s.stderr_log());
    let s = start();
    check_items(s.addr(), n, "after a SIGTERM restart", &|| s.stderr_log());
    let mut c = open_client(s.addr());
    assert_eq!(stat(&mut c, "ep_item_commit_failed"), 0);
}
