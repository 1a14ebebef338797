//! Eventual persistence (`--data-dir`), after ep-engine: writes are acknowledged from
//! memory; the store journals each mutation ([`journal`], appended by `store/journal.rs`);
//! each shard's flusher, on its Writer queue, writes its journal to the shard's own files
//! with glommio's DMA files and syncs them at most `--flush-interval-ms` later
//! ([`flusher`]); at start, each shard loads its files back on its Reader queue before any
//! listener accepts ([`warmup`]).
//!
//! - `record.rs`: the record format, with a CRC32C per record (pure).
//! - `journal.rs`: the records not yet written (plain memory, owned by the store).
//! - `files.rs`: file names and which files a start reads (the layout).
//! - `flusher.rs`: appending to a shard's files, the flusher task, the pause of writers.
//! - `stream.rs`: reading a file for warm-up, chunks ahead in flight, frames made whole.
//! - `warmup.rs`: loading the files back, cutting a torn tail, a re-layout for a new `-t`.
//! - `compactor.rs`: rewriting a shard's files as one snapshot on its AuxIO queue.
//! - `shard.rs`: a shard's persistence from start to stop (what `shard::start` calls).
//!
//! Nothing is shared between shards while serving but the statistics (relaxed atomics,
//! each written by its shard) and, at start, a meeting point.

pub mod compactor;
pub mod files;
pub mod flusher;
pub mod journal;
pub mod reader;
pub mod record;
pub mod shard;
pub mod stream;
pub mod warmup;

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use crate::config::Settings;

/// Above this many bytes of journal not yet written, a shard's connections that write wait
/// for its flusher (reads go on): at most this, and less on a slower disk
/// ([`PENDING_TIME`]).
pub const PENDING_LIMIT: usize = 64 << 20;
/// The least the journal may hold before writers wait.
pub const PENDING_FLOOR: usize = 4 << 20;
/// The journal holds at most what the flusher writes (and syncs) in this long, as last
/// measured: so what `kill -9` can lose stays within the flush interval and about twice
/// this, whatever the disk's speed.
pub const PENDING_TIME: std::time::Duration = std::time::Duration::from_millis(250);

/// A shard's journal file is closed and the next one begun past this size.
pub const FILE_ROTATE: u64 = 64 << 20;

/// What every shard shares: the directory and its lock, the layout read at start, the
/// shards' persistence counters, and the start-up meeting point.
#[derive(Debug)]
pub struct Shared {
    pub dir: PathBuf,
    /// Held (flock) for the process's life; closing it releases the lock.
    _lock: File,
    pub layout: files::Layout,
    pub shards: usize,
    pub flush_interval: std::time::Duration,
    /// Warm-up reads through a ring of each shard's own ([`crate::config::Settings`]).
    pub warmup_ring: bool,
    /// `-M` is not given: a full store evicts (warm-up drops the oldest).
    pub evict: bool,
    /// Fault injection: journal writes fail until then.
    pub fail_writes_until: std::time::Instant,
    /// Fault injection: the process kills itself after a compaction's first removal.
    pub kill_removing: bool,
    pub stats: Vec<PersistStats>,
    /// Every shard meets here: after warm-up, and during a re-layout (arrivals so far).
    met: AtomicU64,
    /// Set by a shard whose warm-up or re-layout failed, so the others do not remove files.
    failed: AtomicBool,
}

/// One shard's persistence counters (ep-engine's names in `stats`), written by that shard.
#[derive(Debug, Default)]
pub struct PersistStats {
    /// Records journaled and not yet taken by the flusher (as of its last look).
    pub queue_size: AtomicU64,
    /// Records the flusher is writing now.
    pub flusher_todo: AtomicU64,
    pub total_persisted: AtomicU64,
    pub commit_failed: AtomicU64,
    /// Bytes written to the journal files since start.
    pub bytes_written: AtomicU64,
    pub warmed: AtomicBool,
    pub warmup_us: AtomicU64,
    pub warmup_items: AtomicU64,
    pub warmup_dropped: AtomicU64,
    /// Writers paused because the journal was over [`PENDING_LIMIT`].
    pub write_pauses: AtomicU64,
    /// Compactions run (or tried).
    pub compactions: AtomicU64,
}

impl Shared {
    /// Opens (creating it if needed) and locks `--data-dir`, and reads its layout. The
    /// error is one sentence naming the flag.
    pub fn open(settings: &Settings) -> Result<Option<std::sync::Arc<Shared>>, String> {
        let Some(dir) = settings.data_dir.clone() else {
            return Ok(None);
        };
        std::fs::create_dir_all(&dir).map_err(|e| {
            format!(
                "--data-dir {}: cannot create the directory ({e}); give a directory this user can write",
                dir.display()
            )
        })?;
        let lock = lock_dir(&dir)?;
        let names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| {
                format!(
                    "--data-dir {}: cannot read the directory ({e})",
                    dir.display()
                )
            })?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        let layout = files::plan(&names, &dir, settings.shards);
        for f in &layout.files {
            wait_for_writes(&f.path, WRITES_WAIT)
                .map_err(|e| format!("--data-dir {}: {e}", dir.display()))?;
        }
        for p in &layout.stale {
            log::info!(
                "persistence: removing {} (left by an interrupted re-layout)",
                p.display()
            );
            if let Err(e) = std::fs::remove_file(p) {
                log::warn!("persistence: cannot remove {}: {e}", p.display());
            }
        }
        if layout.relayout() {
            log::info!(
                "persistence: {} was written by {} shards; re-laying it out for {}",
                dir.display(),
                layout.written_by,
                settings.shards
            );
        }
        Ok(Some(std::sync::Arc::new(Shared {
            dir,
            _lock: lock,
            layout,
            shards: settings.shards,
            flush_interval: settings.flush_interval,
            warmup_ring: settings.warmup_ring,
            evict: settings.evict,
            fail_writes_until: std::time::Instant::now() + settings.faults.disk_errors,
            kill_removing: settings.faults.kill_removing,
            stats: (0..settings.shards)
                .map(|_| PersistStats::default())
                .collect(),
            met: AtomicU64::new(0),
            failed: AtomicBool::new(false),
        })))
    }

    /// Waits until every shard has called it as many times as this shard has (`times`,
    /// counted by the caller from 1): every shard meets the same number of times, in the
    /// same order. It polls rather than block the thread, so the executor's own I/O and
    /// timers go on meanwhile.
    pub async fn meet(&self, times: u64) {
        self.met.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let all = times * self.shards as u64;
        while self.met.load(std::sync::atomic::Ordering::SeqCst) < all {
            glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    pub fn fail(&self) {
        self.failed.store(true, Relaxed);
    }

    pub fn failed(&self) -> bool {
        self.failed.load(Relaxed)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `stats` lines with ep-engine's names, summed over the shards; `own` is the asking
    /// shard's id and the records in its journal now (the others' as of their flusher's
    /// last look).
    pub fn stat_lines(&self, own: (usize, u64)) -> Vec<(&'static str, String)> {
        let sum = |f: fn(&PersistStats) -> &AtomicU64| -> u64 {
            self.stats.iter().map(|s| f(s).load(Relaxed)).sum()
        };
        let queue_size: u64 = self
            .stats
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if i == own.0 {
                    own.1
                } else {
                    s.queue_size.load(Relaxed)
                }
            })
            .sum();
        let warmed = self.stats.iter().all(|s| s.warmed.load(Relaxed));
        let warmup_us = self
            .stats
            .iter()
            .map(|s| s.warmup_us.load(Relaxed))
            .max()
            .unwrap_or(0);
        vec![
            ("ep_data_dir", self.dir.display().to_string()),
            ("ep_queue_size", queue_size.to_string()),
            ("ep_flusher_todo", sum(|s| &s.flusher_todo).to_string()),
            (
                "ep_total_persisted",
                sum(|s| &s.total_persisted).to_string(),
            ),
            (
                "ep_item_commit_failed",
                sum(|s| &s.commit_failed).to_string(),
            ),
            ("ep_io_bytes_written", sum(|s| &s.bytes_written).to_string()),
            (
                "ep_flush_interval_ms",
                self.flush_interval.as_millis().to_string(),
            ),
            ("ep_write_pauses", sum(|s| &s.write_pauses).to_string()),
            ("ep_compactions", sum(|s| &s.compactions).to_string()),
            (
                "ep_warmup_state",
                if warmed { "done" } else { "loading" }.to_string(),
            ),
            ("ep_warmup_time", warmup_us.to_string()),
            ("ep_warmup_items", sum(|s| &s.warmup_items).to_string()),
            ("ep_warmup_dropped", sum(|s| &s.warmup_dropped).to_string()),
        ]
    }
}

/// How long a start waits for an earlier run's writes to one file to finish.
const WRITES_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Locks a journal file just created, for as long as it is written: a start waits for the
/// lock before it reads the file.
pub fn lock_journal(fd: std::os::fd::RawFd) -> std::io::Result<()> {
    // SAFETY: flock on a descriptor the caller owns. The lock belongs to the open file,
    // which the kernel keeps while any write submitted through it is in flight: a run
    // killed mid-write holds it until that write has landed.
    if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Waits until no earlier run still writes to the journal file at `path`. A run killed
/// with `kill -9` exits before the writes it had submitted have landed (the kernel ends
/// its io_uring requests after the process is gone); read before they land, a file would
/// miss records this start then writes over or around, and the next start, reading them,
/// would bring back what this run had deleted or replaced. The writer holds each file's
/// lock until its last write ends ([`lock_journal`]), so taking it here waits them out.
fn wait_for_writes(path: &Path, limit: std::time::Duration) -> Result<(), String> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot open {} ({e})", path.display())),
    };
    let started = std::time::Instant::now();
    let mut told = false;
    // SAFETY: flock on a descriptor this function owns; closing it releases the lock.
    while unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(format!("cannot lock {} ({e})", path.display()));
        }
        if started.elapsed() >= limit {
            return Err(format!(
                "{} is still being written after {} s, by a process that holds it open; stop that process",
                path.display(),
                limit.as_secs()
            ));
        }
        if !told {
            told = true;
            log::info!(
                "persistence: waiting for an earlier run's writes to {} to land",
                path.display()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    Ok(())
}

/// Takes `DIR/LOCK` (flock, exclusive, not waiting) and writes this process's id in it.
fn lock_dir(dir: &Path) -> Result<File, String> {
    let path = dir.join("LOCK");
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| {
            format!(
                "--data-dir {}: cannot open {} ({e}); give a directory this user can write",
                dir.display(),
                path.display()
            )
        })?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let other = std::fs::read_to_string(&path).unwrap_or_default();
        let other = other.trim();
        let who = if other.is_empty() {
            "another process".to_string()
        } else {
            format!("another corecached (pid {other})")
        };
        return Err(format!(
            "--data-dir {} is in use by {who}; stop it or give another directory",
            dir.display()
        ));
    }
    let _ = f.set_len(0);
    let _ = write!(f, "{}", std::process::id());
    let _ = f.sync_all();
    Ok(f)
}
