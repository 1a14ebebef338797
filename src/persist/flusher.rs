//! The flusher: each shard's engine task on its Writer queue that takes the store's
//! journal and appends it to the shard's own files, then syncs them (fdatasync per batch),
//! at most `--flush-interval-ms` after a write was acknowledged; and the pause of writers
//! while the journal is over [`PENDING_LIMIT`].
//!
//! Files are glommio DMA files (O_DIRECT over io_uring): every write starts and ends on a
//! block boundary, so an append rewrites the last partial block (kept in memory) with the
//! new bytes after it, and pads the end with zeros, which decoding reads as the end.
//! Buffers larger than glommio's registered I/O memory (`--io-memory`) come from the heap,
//! unlocked, so writes never need more locked memory than `ulimit -l` allows.

use std::cell::{Cell, RefCell};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Poll, Waker};

use glommio::io::{DmaFile, OpenOptions};

use super::files::journal_name;
use super::journal::Journal;
use super::record::{Decoder, Record};
use super::{Shared, FILE_ROTATE, PENDING_FLOOR, PENDING_LIMIT, PENDING_TIME};
use crate::store::Store;
use crate::tasks::{State, TaskHandle, TaskInfo};

/// O_DIRECT's alignment of positions and lengths (the largest a block device asks).
const ALIGN: usize = 4096;
/// Bytes per write submitted: large and sequential, without one huge buffer per batch.
const CHUNK: usize = 4 << 20;

/// Appends to one shard's journal files in one generation.
pub struct FileWriter {
    dir: PathBuf,
    gen: u64,
    shard: usize,
    of: usize,
    /// The seq of the file open now (the next file takes one more).
    seq: u64,
    file: Option<DmaFile>,
    /// Bytes of records in the open file.
    len: u64,
    /// The open file's last partial block: rewritten, with what follows it, by the next
    /// append.
    tail: Vec<u8>,
    /// A file was created since the directory was last synced.
    dir_dirty: bool,
    /// Files closed since the last sync, still to be synced.
    unsynced: Vec<DmaFile>,
    /// Fault injection (`--fault-kill-removing`): the process kills itself after the first
    /// file [`FileWriter::remove_before`] removes.
    kill_removing: bool,
}

impl FileWriter {
    /// A writer whose first file is `seq`, created on the first append.
    pub fn new(shared: &Shared, shard: usize, gen: u64, seq: u64) -> Self {
        FileWriter {
            dir: shared.dir.clone(),
            gen,
            shard,
            of: shared.shards,
            seq: seq.max(1) - 1,
            file: None,
            len: 0,
            tail: Vec::new(),
            dir_dirty: false,
            unsynced: Vec::new(),
            kill_removing: shared.kill_removing,
        }
    }

    /// The open file's seq (0 before the first).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    pub fn gen(&self) -> u64 {
        self.gen
    }

    /// Closes the open file (synced at the next [`FileWriter::sync`]) and opens the next;
    /// an empty open file is kept instead.
    pub async fn rotate(&mut self) -> std::io::Result<()> {
        if self.file.is_some() && self.len == 0 {
            return Ok(());
        }
        let path = self
            .dir
            .join(journal_name(self.gen, self.shard, self.of, self.seq + 1));
        let f = create(&path).await?;
        self.seq += 1;
        if let Some(old) = self.file.replace(f) {
            self.unsynced.push(old);
        }
        self.len = 0;
        self.tail.clear();
        self.dir_dirty = true;
        Ok(())
    }

    /// Leaves a seq free for a compaction's snapshot: the open file is closed and the next
    /// one takes the seq after the one returned, so replay reads the snapshot after every
    /// file before it and before every record written from now on.
    pub async fn reserve(&mut self) -> std::io::Result<u64> {
        let reserved = self.seq + 1;
        let path = self
            .dir
            .join(journal_name(self.gen, self.shard, self.of, reserved + 1));
        let f = create(&path).await?;
        self.seq = reserved + 1;
        if let Some(old) = self.file.replace(f) {
            self.unsynced.push(old);
        }
        self.len = 0;
        self.tail.clear();
        self.dir_dirty = true;
        self.sync().await?;
        Ok(reserved)
    }

    /// Appends `bytes` (whole records) to the open file, after its last record.
    pub async fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.file.is_none() || self.len >= FILE_ROTATE {
            self.rotate().await?;
        }
        let file = self.file.as_ref().expect("a file is open");
        let start = self.len - self.tail.len() as u64;
        let total = self.tail.len() + bytes.len();
        let padded = total.div_ceil(ALIGN) * ALIGN;
        let mut off = 0;
        while off < padded {
            let n = CHUNK.min(padded - off);
            let mut buf = file.alloc_dma_buffer(n);
            fill(buf.as_bytes_mut(), &self.tail, bytes, off);
            let wrote = file.write_at(buf, start + off as u64).await?;
            if wrote != n {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::WriteZero,
                    format!("short write: {wrote} of {n} bytes"),
                ));
            }
            off += n;
        }
        // The new partial block, from the bytes just written.
        let keep = total % ALIGN;
        let mut tail = std::mem::take(&mut self.tail);
        if keep > bytes.len() {
            tail.drain(..tail.len() - (keep - bytes.len()));
            tail.extend_from_slice(bytes);
        } else {
            tail.clear();
            tail.extend_from_slice(&bytes[bytes.len() - keep..]);
        }
        self.tail = tail;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Makes everything appended durable: the files closed since the last sync, the open
    /// one, and the directory when a file was created.
    pub async fn sync(&mut self) -> std::io::Result<()> {
        for f in std::mem::take(&mut self.unsynced) {
            f.fdatasync().await?;
            let _ = f.close().await;
        }
        if let Some(f) = &self.file {
            f.fdatasync().await?;
        }
        if self.dir_dirty {
            let d = glommio::io::Directory::open(&self.dir).await?;
            d.sync().await?;
            let _ = d.close().await;
            self.dir_dirty = false;
        }
        Ok(())
    }

    /// Removes this shard's files of this generation before seq `below` (everything in them
    /// was cleared by a `flush_all`, or is in a compaction's snapshot), oldest first, then
    /// syncs the directory.
    ///
    /// Oldest first, so that a crash between two removals leaves the newest of them: replay
    /// then reads a tail of the records, and every key's last record before `below` is in
    /// it unless all of that key's records were removed. Any other order can leave a key's
    /// older set without the delete that followed it, and a snapshot, which lists only live
    /// items, does not delete it again: the key would come back.
    pub async fn remove_before(&mut self, below: u64) -> std::io::Result<()> {
        let mut old = super::files::shard_files(&self.dir, self.gen, self.shard, self.of)?;
        old.retain(|&(_, seq, _)| seq < below);
        old.sort_by_key(|&(_, seq, _)| seq);
        let mut removed = 0;
        for (path, _, _) in old {
            std::fs::remove_file(path)?;
            removed += 1;
            if self.kill_removing {
                // Fault injection: a crash between two removals.
                // SAFETY: signals this process.
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            }
        }
        if removed > 0 {
            self.dir_dirty = true;
            self.sync().await?;
        }
        Ok(())
    }

    pub async fn close(mut self) {
        let _ = self.sync().await;
        if let Some(f) = self.file.take() {
            let _ = f.close().await;
        }
    }
}

/// Fills `dst` with bytes `off..` of `tail ++ bytes ++ zeros`.
fn fill(dst: &mut [u8], tail: &[u8], bytes: &[u8], off: usize) {
    let mut at = 0;
    let mut pos = off;
    for part in [tail, bytes] {
        if pos < part.len() && at < dst.len() {
            let n = (part.len() - pos).min(dst.len() - at);
            dst[at..at + n].copy_from_slice(&part[pos..pos + n]);
            at += n;
            pos = 0;
        } else {
            pos -= pos.min(part.len());
        }
    }
    dst[at..].fill(0);
}

/// Writes a batch: each flush record begins a new file (warm-up starts from the newest
/// flush it finds at a file's start), then one sync. After an immediate `flush_all`, the
/// files before it hold nothing live and are removed.
pub async fn write_batch(w: &mut FileWriter, batch: &Journal) -> std::io::Result<()> {
    let mut from = 0;
    let mut cleared = false;
    for &m in &batch.flush_marks {
        w.append(&batch.buf[from..m]).await?;
        w.rotate().await?;
        if let Some((_, Record::Flush { at: 0, .. })) = Decoder::new(&batch.buf[m..]).next() {
            cleared = true;
        }
        from = m;
    }
    w.append(&batch.buf[from..]).await?;
    w.sync().await?;
    if cleared {
        let open = w.seq();
        w.remove_before(open).await?;
    }
    Ok(())
}

/// A shard's side of persistence while it serves: what its connections and its flusher
/// share.
#[derive(Debug)]
pub struct ShardPersist {
    pub shared: Arc<Shared>,
    pub id: usize,
    /// Wakes the flusher (a writer is paused, or the shard stops).
    pub wake: TaskHandle,
    /// Wakes the compactor (the flusher reserved a seq for its snapshot).
    pub compact_wake: TaskHandle,
    /// The generation the shard writes.
    pub gen: u64,
    /// Bytes in the shard's files (as of the last compaction, plus what was written since).
    pub disk_bytes: Cell<u64>,
    /// The seq of the snapshot a compaction is writing, while it runs.
    pub compacting: Cell<Option<u64>>,
    /// The journal's bound now ([`ShardPersist::over_limit`]).
    limit: Cell<usize>,
    /// Bytes the flusher took and could not write yet (a full or failing disk): they count
    /// against the bound with the journal, so writers pause instead of the retried batch
    /// growing without end.
    held: Cell<usize>,
    stopping: Cell<bool>,
    /// Bumped after each batch the flusher writes; paused writers wait for it to change.
    drained: Cell<u64>,
    waiters: RefCell<Vec<Waker>>,
}

impl ShardPersist {
    /// `gen`: the generation the shard writes (its files there count as its disk use).
    pub fn new(shared: Arc<Shared>, id: usize, gen: u64) -> Self {
        let disk = super::files::shard_files(&shared.dir, gen, id, shared.shards)
            .map_or(0, |v| v.iter().map(|f| f.2).sum());
        ShardPersist {
            shared,
            id,
            wake: TaskHandle::default(),
            compact_wake: TaskHandle::default(),
            gen,
            disk_bytes: Cell::new(disk),
            compacting: Cell::new(None),
            limit: Cell::new(PENDING_LIMIT / 4),
            held: Cell::new(0),
            stopping: Cell::new(false),
            drained: Cell::new(0),
            waiters: RefCell::new(Vec::new()),
        }
    }

    fn stats(&self) -> &super::PersistStats {
        &self.shared.stats[self.id]
    }

    /// Whether the journal, with what the flusher holds after a failed write, is over its
    /// bound (what the flusher writes in [`PENDING_TIME`], within
    /// [`PENDING_FLOOR`]..[`PENDING_LIMIT`]): writers then wait.
    pub fn over_limit(&self, store: &Store) -> bool {
        store
            .journal()
            .is_some_and(|j| j.bytes() + self.held.get() > self.limit.get())
    }

    /// Sets the bound from a batch of `bytes` written and synced in `took`.
    fn measured(&self, bytes: usize, took: std::time::Duration) {
        if bytes < PENDING_FLOOR / 4 {
            // Small batches measure the sync more than the disk's rate.
            return;
        }
        let rate = bytes as f64 / took.as_secs_f64().max(1e-6);
        let bound = (rate * PENDING_TIME.as_secs_f64()) as usize;
        self.limit.set(bound.clamp(PENDING_FLOOR, PENDING_LIMIT));
    }

    /// Waits while the journal is over [`PENDING_LIMIT`] (a connection that wrote, after
    /// its pass): never refused, never dropped, only later.
    pub async fn wait_below_limit(&self, store: &RefCell<Store>) {
        let mut counted = false;
        while self.over_limit(&store.borrow()) && !self.stopping.get() {
            if !counted {
                self.stats().write_pauses.fetch_add(1, Relaxed);
                counted = true;
            }
            self.wake.wake();
            let seen = self.drained.get();
            futures_lite::future::poll_fn(|cx| {
                if self.drained.get() != seen {
                    Poll::Ready(())
                } else {
                    self.waiters.borrow_mut().push(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await;
        }
    }

    fn notify(&self) {
        self.drained.set(self.drained.get() + 1);
        for w in self.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }

    pub fn stopping(&self) -> bool {
        self.stopping.get()
    }

    /// Asks the flusher to write what is pending and end.
    pub fn stop(&self) {
        self.stopping.set(true);
        self.wake.wake();
        self.notify();
    }
}

/// Failed writes of a batch in a row, while stopping, before the flusher gives up on it.
const STOP_RETRIES: u32 = 3;

/// The flusher task: every flush interval (or when woken), takes the journal and writes it.
/// A failed write (a full disk, an I/O error) keeps the batch, counts it in
/// `ep_item_commit_failed`, logs (at most a line a second), and is retried at the next
/// interval with what was journaled since; the shard serves on from memory meanwhile, and
/// the kept batch counts against the journal's bound, so writers pause rather than memory
/// grow while the disk stays full. Ends, after writing everything, once [`ShardPersist::stop`] is called.
pub async fn run(
    p: Rc<ShardPersist>,
    store: Rc<RefCell<Store>>,
    mut w: FileWriter,
    info: Arc<TaskInfo>,
) {
    let interval = p.shared.flush_interval;
    let mut batch = Journal::default();
    let mut failures = 0u32;
    // Since when writes fail (a full or failing disk), for one line when they work again.
    let mut failing_since: Option<std::time::Instant> = None;
    let errors = crate::ratelog::RateLog::new(1);
    // The journal is taken every interval from the last take, not from the end of the last
    // write: a write that took longer is followed by the next at once.
    let mut next_take = std::time::Instant::now() + interval;
    loop {
        let stopping = p.stopping.get();
        let wait = next_take.saturating_duration_since(std::time::Instant::now());
        if !stopping && !wait.is_zero() {
            info.set_state(State::Snoozing);
            info.set_next_wake_ms(crate::shard::unix_now_ms() + wait.as_millis() as u64);
            futures_lite::future::or(glommio::timer::sleep(wait), p.wake.woken()).await;
        }
        info.set_state(State::Running);
        let started = std::time::Instant::now();
        next_take = started + interval;
        {
            let mut s = store.borrow_mut();
            if let Some(j) = s.journal_mut() {
                if batch.is_empty() {
                    j.take_into(&mut batch);
                } else {
                    // A failed batch is retried with what came since, in order.
                    let base = batch.buf.len();
                    batch.buf.extend_from_slice(&j.buf);
                    batch.records += j.records;
                    batch
                        .flush_marks
                        .extend(j.flush_marks.iter().map(|m| m + base));
                    let mut empty = Journal::default();
                    j.take_into(&mut empty);
                }
            }
        }
        let stats = &p.shared.stats[p.id];
        if !batch.is_empty() {
            stats.flusher_todo.store(batch.records, Relaxed);
            let written = if std::time::Instant::now() < p.shared.fail_writes_until {
                Err(std::io::Error::other(
                    "injected disk error (--fault-disk-errors-ms)",
                ))
            } else {
                write_batch(&mut w, &batch).await
            };
            match written {
                Ok(()) => {
                    p.measured(batch.buf.len(), started.elapsed());
                    p.disk_bytes
                        .set(p.disk_bytes.get() + batch.buf.len() as u64);
                    stats.total_persisted.fetch_add(batch.records, Relaxed);
                    stats
                        .bytes_written
                        .fetch_add(batch.buf.len() as u64, Relaxed);
                    batch.buf.clear();
                    batch.records = 0;
                    batch.flush_marks.clear();
                    failures = 0;
                    if let Some(since) = failing_since.take() {
                        log::info!(
                            "shard {}: persistence: writing to {} again after {:.1} s of failed writes",
                            p.id,
                            p.shared.dir.display(),
                            since.elapsed().as_secs_f64()
                        );
                    }
                }
                Err(e) => {
                    stats.commit_failed.fetch_add(batch.records, Relaxed);
                    failures += 1;
                    failing_since.get_or_insert(started);
                    if let Some(note) = errors.admit() {
                        log::warn!(
                            "shard {}: persistence: cannot write {} records to {}: {e}; serving from memory, retrying{note}",
                            p.id,
                            batch.records,
                            p.shared.dir.display()
                        );
                    }
                }
            }
            // What a failed write keeps is still to do, and bounds the writers.
            stats.flusher_todo.store(batch.records, Relaxed);
            p.held.set(batch.buf.len());
            p.notify();
        }
        let waiting = store.borrow().journal().map_or(0, |j| j.records);
        stats.queue_size.store(waiting, Relaxed);
        let live = store.borrow().live_bytes() as u64;
        if !stopping
            && p.compacting.get().is_none()
            && super::compactor::should_compact(p.disk_bytes.get(), live)
        {
            match w.reserve().await {
                Ok(seq) => {
                    p.compacting.set(Some(seq));
                    p.compact_wake.wake();
                }
                Err(e) => {
                    if let Some(note) = errors.admit() {
                        log::warn!(
                            "shard {}: persistence: cannot begin a compaction: {e}{note}",
                            p.id
                        );
                    }
                }
            }
        }
        info.record_run(started.elapsed());
        if stopping {
            let pending = store.borrow().journal().is_some_and(|j| !j.is_empty());
            if (batch.is_empty() && !pending) || failures >= STOP_RETRIES {
                if !batch.is_empty() {
                    log::error!(
                        "shard {}: persistence: {} records not written at stop",
                        p.id,
                        batch.records
                    );
                }
                break;
            }
        }
    }
    w.close().await;
    info.set_state(State::Sleeping);
}

/// A new, empty journal file at `path`, for direct writes, locked until its writes end
/// ([`super::lock_journal`]).
async fn create(path: &std::path::Path) -> std::io::Result<DmaFile> {
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .dma_open(path)
        .await?;
    super::lock_journal(f.as_raw_fd())?;
    Ok(f)
}
