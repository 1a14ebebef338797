//! Warm-up: a shard loads its journal files back into its store before any listener
//! accepts, on its Reader queue, all shards at once; and, when the files were written by
//! another shard count, the re-layout that rewrites them for this one.
//!
//! Each source (a shard that wrote files) is replayed in file order, later records
//! winning: a set stores the item with its unique, a delete removes it, an item already
//! expired removes any older version. A `flush_all` always begins a file (the flusher sees
//! to it), so replay starts at the file of the newest flush that took effect: an immediate
//! one, or a delayed one whose time has come, before the next flush replaced it (then the
//! records made before its time are skipped too). A delayed flush still to come is set
//! again. A corrupt record with a good one after it is skipped, with a line naming the file
//! and offset; a torn or corrupt tail (no good record after it) is cut (nothing in it can be
//! read) and the next file read.

use std::cell::RefCell;
use std::sync::atomic::Ordering::Relaxed;

use glommio::io::DmaFile;

use super::files::{done_name, JournalFile};
use super::flusher::FileWriter;
use super::journal::Journal;
use super::record::{self, Decoder, Record, Stop};
use super::{stream, Shared};
use crate::store::{key_hash, Store, StoreResult, WalkCursor};

/// A progress line in the log each time this much more has been read.
const PROGRESS_EVERY: u64 = 256 << 20;

/// Corrupt records named in the log per file; the rest are counted in one line.
const SKIPS_LOGGED: usize = 16;

/// Bytes of records a re-layout appends at a time.
const RELAYOUT_BATCH: usize = 8 << 20;

/// Records decoded ahead of the one being loaded, their index buckets loading meanwhile:
/// otherwise each insert waits for its bucket, a cache miss, most of a load's time.
const LOOKAHEAD: usize = 8;

/// What a warm-up did, for its log line and `stats`.
#[derive(Debug, Default)]
pub struct Warmed {
    /// Items in the store once loaded.
    pub live: u64,
    /// Set records loaded (a key written twice counts twice).
    pub items: u64,
    pub bytes: u64,
    /// Items not loaded for want of memory (`-M`), or evicted while loading (`-m`).
    pub dropped: u64,
    /// Records of items already expired.
    pub expired: u64,
    pub max_cas: u64,
    /// A delayed `flush_all` still to come.
    pub pending_flush: Option<u32>,
    /// The store evicts to make room (not `-M`).
    pub evicting: bool,
}

/// The first record of a file, if it is a flush: (time, at).
async fn first_flush(path: &std::path::Path) -> Option<(u32, u32)> {
    let f = DmaFile::open(path).await.ok()?;
    let r = f.read_at_aligned(0, 4096).await.ok();
    let _ = f.close().await;
    match Decoder::new(&r?).next() {
        Some((0, Record::Flush { time, at })) => Some((time, at)),
        _ => None,
    }
}

/// Where replay of one source's files starts: the index of the first file read, the
/// time before which records are skipped, and a delayed flush still to come.
async fn start_of(files: &[&JournalFile], now: u32) -> (usize, u32, Option<u32>) {
    let mut flushes = Vec::new();
    for (i, f) in files.iter().enumerate() {
        if let Some((time, at)) = first_flush(&f.path).await {
            flushes.push((i, time, at));
        }
    }
    let mut start = (0, 0);
    let mut pending = None;
    for (k, &(i, _, at)) in flushes.iter().enumerate() {
        // A later flush replaces a delayed one not yet due.
        let until = flushes.get(k + 1).map_or(now, |&(_, t, _)| t);
        if at == 0 {
            start = (i, 0);
            pending = None;
        } else if at <= until && at <= now {
            start = (i, at);
            pending = None;
        } else if k + 1 == flushes.len() {
            pending = Some(at);
        }
    }
    (start.0, start.1, pending)
}

/// Loads shard `shard`'s records into `store` (journaling off). With a new shard count,
/// every file is read and the keys this shard owns kept.
pub async fn load(shared: &Shared, shard: usize, store: &RefCell<Store>, now: u32) -> Warmed {
    let layout = &shared.layout;
    let files = layout.files_for(shard);
    let mut w = Warmed {
        evicting: shared.evict,
        ..Warmed::default()
    };
    let evictions = || store.borrow().counters().get(crate::stats::Stat::Evictions);
    let evicted_before = evictions();
    // A source is one shard of one shard count; sources are read oldest first (by their
    // first file's seq: what a shard count wrote after a failed re-layout comes later).
    let mut sources: Vec<(u64, usize, usize)> = Vec::new();
    for f in &files {
        match sources.iter_mut().find(|s| (s.1, s.2) == (f.of, f.shard)) {
            Some(s) => s.0 = s.0.min(f.seq),
            None => sources.push((f.seq, f.of, f.shard)),
        }
    }
    sources.sort_unstable();
    // Bytes to read, for sizing the store's index ahead of the records (a shard reading
    // every file for a new layout keeps about its share).
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(&f.path).ok())
        .map(|m| m.len())
        .sum();
    let share = if layout.relayout() { shared.shards } else { 1 };
    let mut reported = 0u64;
    // Loaded in 4 KiB pages, which fault in faster than fresh huge pages where the host
    // has taken free memory back (see Store::huge_pages); huge pages again for what is
    // written once serving.
    store.borrow_mut().huge_pages(false);
    let mut carry = Vec::new();
    let mut reader = stream::Reader::new(stream::CHUNK, shared.warmup_ring);
    for (_, of, src) in sources {
        let mine: Vec<&JournalFile> = files
            .iter()
            .copied()
            .filter(|f| (f.of, f.shard) == (of, src))
            .collect();
        let (first, floor, pending) = start_of(&mine, now).await;
        if pending.is_some() {
            w.pending_flush = pending;
        }
        let replay = Replay {
            floor,
            now,
            relayout: layout.relayout(),
            shards: shared.shards,
            shard,
        };
        for f in &mine[first..] {
            let size = std::fs::metadata(&f.path).map_or(0, |m| m.len());
            let mut sized = false;
            let read_before = w.bytes;
            let mut skipped = Vec::new();
            let stopped = stream::read_frames(&mut reader, &f.path, &mut carry, |window, base| {
                let mut s = store.borrow_mut();
                if !sized && size > 0 {
                    sized = true;
                    // The index is sized for every record still to read, at this file's
                    // records per byte (from its first chunk): one rebuild for the whole
                    // warm-up (another only if a later file packs records tighter), where
                    // growing as records come rebuilds each time, each into a fresh
                    // mapping the kernel zeroes. Capped at what -m holds. The pager,
                    // which shrinks an index four times too big for what it holds, starts
                    // only once warm-up is over (shard::start).
                    let frames = record::frames(window);
                    if frames > 0 {
                        let left = total.saturating_sub(read_before);
                        let coming =
                            (left as u128 * frames as u128 / window.len() as u128) as usize / share;
                        let have = s.len();
                        s.reserve_items(have + coming, window.len().div_ceil(frames));
                    }
                }
                let (at, why, passed) = load_window(&mut s, window, &mut w, &replay);
                skipped.extend(
                    passed
                        .iter()
                        .map(|&(a, b)| (base + a as u64, base + b as u64)),
                );
                (at, why)
            })
            .await;
            let (at, why) = match stopped {
                Ok(stop) => stop,
                Err(e) => {
                    log::error!(
                        "shard {shard}: warm-up: cannot read {}: {e}; its records after those loaded are not",
                        f.path.display(),
                    );
                    continue;
                }
            };
            w.bytes += size;
            if w.bytes - reported >= PROGRESS_EVERY {
                reported = w.bytes;
                log::info!(
                    "shard {shard}: warm-up: {:.0} MB read, {} records loaded",
                    w.bytes as f64 / 1e6,
                    w.items
                );
            }
            for &(at, next) in skipped.iter().take(SKIPS_LOGGED) {
                log::warn!(
                    "shard {shard}: warm-up: {} has a corrupt record at offset {at}; skipped {} bytes to the next good record, at offset {next}",
                    f.path.display(),
                    next - at
                );
            }
            if skipped.len() > SKIPS_LOGGED {
                log::warn!(
                    "shard {shard}: warm-up: {} has {} more corrupt records, skipped",
                    f.path.display(),
                    skipped.len() - SKIPS_LOGGED
                );
            }
            if why != Stop::Clean {
                log::warn!(
                    "shard {shard}: warm-up: {} has a {} record at offset {at}; cut there",
                    f.path.display(),
                    if why == Stop::Torn { "torn" } else { "corrupt" }
                );
                cut(&f.path, at);
            }
        }
    }
    w.dropped += evictions() - evicted_before;
    let mut s = store.borrow_mut();
    s.huge_pages(true);
    w.live = s.len() as u64;
    s.resume_cas(w.max_cas);
    if let Some(at) = w.pending_flush {
        s.flush_all(at, now);
    }
    w
}

/// Which records of one source a replay loads.
struct Replay {
    /// Records made before this time were flushed.
    floor: u32,
    now: u32,
    /// The files were written by another shard count: only keys this shard owns load.
    relayout: bool,
    shards: usize,
    shard: usize,
}

impl Replay {
    /// Whether this shard owns a key of hash `h` (as [`crate::shard::shard_for`]).
    fn owns(&self, h: u64) -> bool {
        !self.relayout || crate::shard::shard_of_hash(h, self.shards) == self.shard
    }
}

/// Loads a window of whole frames into the store, in order; returns where decoding
/// stopped in it and why, and the bad stretches it passed over. Each record's index bucket is prefetched [`LOOKAHEAD`] records
/// before it is loaded.
fn load_window(
    s: &mut Store,
    window: &[u8],
    w: &mut Warmed,
    r: &Replay,
) -> (usize, Stop, Vec<(usize, usize)>) {
    let mut d = Decoder::new(window);
    let mut ring: [Option<(Record<'_>, u64)>; LOOKAHEAD] = [None; LOOKAHEAD];
    let mut n = 0;
    for (_, rec) in d.by_ref() {
        let h = match rec {
            Record::Set { key, .. } | Record::Delete { key, .. } => {
                let h = key_hash(key);
                s.prefetch_hash(h);
                h
            }
            Record::Flush { .. } => 0,
        };
        if let Some((old, oh)) = ring[n % LOOKAHEAD].replace((rec, h)) {
            replay(s, old, oh, w, r);
        }
        n += 1;
    }
    for k in n.saturating_sub(LOOKAHEAD)..n {
        if let Some((rec, h)) = ring[k % LOOKAHEAD].take() {
            replay(s, rec, h, w, r);
        }
    }
    let (at, why) = d.stopped().expect("the decoder has ended");
    (at, why, d.skipped().to_vec())
}

/// Loads one record (`h` its key's hash).
fn replay(s: &mut Store, rec: Record<'_>, h: u64, w: &mut Warmed, r: &Replay) {
    match rec {
        Record::Set {
            time,
            flags,
            exptime,
            cas,
            bits,
            key,
            value,
        } => {
            if time < r.floor || !r.owns(h) {
                return;
            }
            if exptime != 0 && exptime <= r.now {
                w.expired += 1;
                s.delete(key, r.now);
                return;
            }
            let binary = bits & record::BIT_KEY_BINARY != 0;
            match s.load_hashed(h, key, flags, exptime, cas, binary, value, r.now) {
                StoreResult::Stored => {
                    w.items += 1;
                    w.max_cas = w.max_cas.max(cas);
                }
                _ => w.dropped += 1,
            }
        }
        Record::Delete { time, key } => {
            if time >= r.floor && r.owns(h) {
                s.delete(key, r.now);
            }
        }
        // A flush inside a file (not at its start: only if the flusher's rotation failed)
        // applies to what was loaded before it.
        Record::Flush { at, .. } => {
            if at == 0 || at <= r.now {
                s.flush_all(0, r.now);
            } else {
                w.pending_flush = Some(at);
            }
        }
    }
}

/// Cuts a file at `len` (a torn or corrupt tail), so a later start does not read it again.
fn cut(path: &std::path::Path, len: u64) {
    let r = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| {
            f.set_len(len)?;
            f.sync_all()
        });
    if let Err(e) = r {
        log::warn!("warm-up: cannot cut {} at {len}: {e}", path.display());
    }
}

/// Re-layout, for a new shard count: writes every live item of this shard (and a delayed
/// flush still to come) to its first file of the new generation, synced. The old files
/// are removed by [`finish_relayout`] once every shard has written its own.
pub async fn relayout(
    shared: &Shared,
    shard: usize,
    store: &RefCell<Store>,
    pending_flush: Option<u32>,
    now: u32,
) -> std::io::Result<FileWriter> {
    let mut w = FileWriter::new(shared, shard, shared.layout.write_gen, 1);
    let mut j = Journal::default();
    if let Some(at) = pending_flush {
        // Records of the snapshot carry the time now, before `at`: the flush clears them.
        j.flush(now, at);
    }
    let mut cursor = WalkCursor::default();
    while !cursor.done() {
        store.borrow_mut().walk_step(&mut cursor, now, 4096, |it| {
            let bits = if it.key_binary {
                record::BIT_KEY_BINARY
            } else {
                0
            };
            j.set(now, it.flags, it.exptime, it.cas, bits, it.key, it.value);
        });
        if j.bytes() >= RELAYOUT_BATCH || cursor.done() {
            w.append(&j.buf).await?;
            j.buf.clear();
        }
    }
    w.sync().await?;
    Ok(w)
}

/// After every shard's [`relayout`] succeeded (shard 0 calls it): marks the new generation
/// done, then removes the old one's files.
pub fn finish_relayout(shared: &Shared) -> std::io::Result<()> {
    let layout = &shared.layout;
    let done = shared.path(&done_name(layout.write_gen));
    std::fs::File::create(&done)?.sync_all()?;
    std::fs::File::open(&shared.dir)?.sync_all()?;
    for f in &layout.files {
        std::fs::remove_file(&f.path)?;
    }
    let _ = std::fs::remove_file(shared.path(&done_name(layout.gen)));
    std::fs::File::open(&shared.dir)?.sync_all()?;
    log::info!(
        "persistence: {} re-laid out for {} shards (generation {})",
        shared.dir.display(),
        shared.shards,
        layout.write_gen
    );
    Ok(())
}

/// Records this shard's warm-up in its stats and the log.
pub fn report(shared: &Shared, shard: usize, w: &Warmed, took: std::time::Duration) {
    let st = &shared.stats[shard];
    st.warmup_us.store(took.as_micros() as u64, Relaxed);
    st.warmup_items.store(w.live, Relaxed);
    st.warmup_dropped.store(w.dropped, Relaxed);
    st.warmed.store(true, Relaxed);
    let mb = w.bytes as f64 / 1e6;
    let secs = took.as_secs_f64().max(1e-6);
    log::info!(
        "shard {shard}: warm-up done: {} items ({} records loaded) from {mb:.1} MB in {secs:.3} s ({:.1} MB/s); {} expired skipped",
        w.live,
        w.items,
        mb / secs,
        w.expired
    );
    if w.dropped > 0 {
        log::warn!(
            "shard {shard}: warm-up: {} items did not fit -m and were dropped ({})",
            w.dropped,
            if w.evicting {
                "the oldest first"
            } else {
                "-M: the last read"
            }
        );
    }
}
