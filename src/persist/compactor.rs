//! Compaction: each shard's engine task on its AuxIO queue that rewrites the shard's files
//! as one snapshot of its live items once they hold much more than that, then removes them.
//!
//! The flusher begins it: past [`should_compact`]'s bound it closes its file, leaves the
//! next seq free for the snapshot and goes on in the one after. The compactor walks the
//! store (bounded steps, yielding between them), writes every live item to the free seq,
//! syncs it, and removes the files before it. Replay reads the snapshot after the files it
//! replaces and before everything written since the seq was left free, so an item the
//! walk saw newer than a later record still ends at that record's state; a snapshot cut by
//! a crash is a torn tail like any other, read before the newer files.
//!
//! Disk use per shard stays under about three times its live data plus [`COMPACT_MIN`]
//! and the journal's [`super::PENDING_LIMIT`]: twice the live data (and the minimum)
//! before a compaction begins, plus the snapshot while it is written.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::flusher::{FileWriter, ShardPersist};
use super::journal::Journal;
use super::record::BIT_KEY_BINARY;
use crate::store::{Store, WalkCursor};
use crate::tasks::{State, TaskInfo};

/// Files smaller than this are never compacted.
pub const COMPACT_MIN: u64 = 64 << 20;

/// Index buckets per walk step: small enough that a step stays short.
const WALK_BUCKETS: usize = 256;
/// Bytes gathered before each write.
const WRITE_AT: usize = 4 << 20;

/// How long after a failed compaction the next may begin.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether files of `disk` bytes holding `live` bytes of items should be compacted.
pub fn should_compact(disk: u64, live: u64) -> bool {
    disk > 2 * live + COMPACT_MIN
}

/// The compactor task: sleeps until the flusher leaves a seq free, then writes the
/// snapshot there and removes the files it replaces.
pub async fn run(p: Rc<ShardPersist>, store: Rc<RefCell<Store>>, info: Arc<TaskInfo>) {
    loop {
        info.set_state(State::Sleeping);
        p.compact_wake.woken().await;
        let Some(seq) = p.compacting.get() else {
            continue;
        };
        if p.stopping() {
            break;
        }
        info.set_state(State::Running);
        let started = std::time::Instant::now();
        let before = p.disk_bytes.get();
        match snapshot(&p, &store, seq).await {
            Ok(written) => log::info!(
                "shard {}: compaction: {:.1} MB of files rewritten as {:.1} MB in {:.3} s",
                p.id,
                before as f64 / 1e6,
                written as f64 / 1e6,
                started.elapsed().as_secs_f64()
            ),
            Err(e) => {
                log::warn!(
                    "shard {}: compaction failed ({e}); the files are kept, it is tried again in {RETRY_AFTER:?}",
                    p.id
                );
                glommio::timer::sleep(RETRY_AFTER).await;
            }
        }
        let disk = super::files::shard_files(&p.shared.dir, p.gen, p.id, p.shared.shards)
            .map_or(before, |v| v.iter().map(|f| f.2).sum());
        p.disk_bytes.set(disk);
        p.shared.stats[p.id]
            .compactions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        p.compacting.set(None);
        info.record_run(started.elapsed());
    }
}

/// Writes every live item (and a delayed `flush_all` still to come) to file `seq`, syncs
/// it, and removes the shard's files before it. Returns the bytes written.
///
/// A snapshot that could not be written whole (a full disk) is removed, the files it was
/// to replace kept: it holds nothing they do not, and its blocks are what a full disk
/// needs back. Once it is synced, it is the only copy of what it replaced, and stays.
async fn snapshot(p: &ShardPersist, store: &RefCell<Store>, seq: u64) -> std::io::Result<u64> {
    let mut w = FileWriter::new(&p.shared, p.id, p.gen, seq);
    let written = match write_snapshot(&mut w, store).await {
        Ok(n) => n,
        Err(e) => {
            w.close().await;
            let path = p.shared.path(&super::files::journal_name(
                p.gen,
                p.id,
                p.shared.shards,
                seq,
            ));
            if let Err(r) = std::fs::remove_file(&path) {
                if r.kind() != std::io::ErrorKind::NotFound {
                    log::warn!(
                        "shard {}: compaction: cannot remove {}: {r}",
                        p.id,
                        path.display()
                    );
                }
            }
            return Err(e);
        }
    };
    w.remove_before(seq).await?;
    w.close().await;
    Ok(written)
}

/// Writes the snapshot through `w` and syncs it.
async fn write_snapshot(w: &mut FileWriter, store: &RefCell<Store>) -> std::io::Result<u64> {
    let now = crate::shard::unix_now();
    let mut j = Journal::default();
    if let Some(at) = store.borrow().flush_due() {
        // The snapshot's records carry the time now, before `at`: the flush clears them.
        j.flush(now, at);
    }
    let mut written = 0u64;
    let mut cursor = WalkCursor::default();
    while !cursor.done() {
        store
            .borrow_mut()
            .walk_step(&mut cursor, now, WALK_BUCKETS, |it| {
                let bits = if it.key_binary { BIT_KEY_BINARY } else { 0 };
                j.set(now, it.flags, it.exptime, it.cas, bits, it.key, it.value);
            });
        if j.bytes() >= WRITE_AT || cursor.done() {
            w.append(&j.buf).await?;
            written += j.buf.len() as u64;
            j.buf.clear();
        }
        glommio::yield_if_needed().await;
    }
    w.sync().await?;
    Ok(written)
}
