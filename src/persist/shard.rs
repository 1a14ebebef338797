//! A shard's persistence from start to stop: warm-up on its Reader queue before it
//! listens, the meeting of every shard after it (and the re-layout for a new shard count),
//! then its flusher on its Writer queue until the shard stops.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::flusher::{self, FileWriter, ShardPersist};
use super::{warmup, Shared};
use crate::store::Store;
use crate::tasks::{Queue, State, TaskInfo};

/// The `stats tasks` entries of a shard's persistence: warm-up, the flusher, the
/// compactor.
pub fn task_infos() -> [Arc<TaskInfo>; 3] {
    [
        Arc::new(TaskInfo::named(
            "warmup",
            "loads the shard's journal files into its store before it listens",
            Queue::Reader,
            0,
        )),
        Arc::new(TaskInfo::named(
            "flusher",
            "writes the shard's journal to its files and syncs them",
            Queue::Writer,
            2,
        )),
        Arc::new(TaskInfo::named(
            "compactor",
            "rewrites the shard's files as one snapshot of its live items",
            Queue::AuxIo,
            7,
        )),
    ]
}

/// Warms the store up from the shard's files (journaling off), waits until every shard has,
/// re-lays the files out if the shard count changed, and turns journaling on. Returns
/// the writer the flusher appends with. The shard's executor is kept awake meanwhile
/// (`shard::awake`): nothing else wakes it before it listens.
pub async fn warm_up(
    shared: &Arc<Shared>,
    shard: usize,
    store: &Rc<RefCell<Store>>,
    reader: glommio::TaskQueueHandle,
    info: &TaskInfo,
) -> FileWriter {
    crate::shard::awake::kept_awake(warm_up_steps(shared, shard, store, reader, info)).await
}

async fn warm_up_steps(
    shared: &Arc<Shared>,
    shard: usize,
    store: &Rc<RefCell<Store>>,
    reader: glommio::TaskQueueHandle,
    info: &TaskInfo,
) -> FileWriter {
    info.set_state(State::Running);
    let started = std::time::Instant::now();
    let now = crate::shard::unix_now();
    let load = {
        let (shared, store) = (shared.clone(), store.clone());
        glommio::spawn_local_into(
            async move { warmup::load(&shared, shard, &store, now).await },
            reader,
        )
        .expect("the Reader queue exists")
    };
    let warmed = load.await;
    let layout = &shared.layout;
    let writer = if layout.relayout() {
        // Every shard has loaded what it owns before any writes the new layout; the old
        // files go only once every shard has synced its new ones.
        shared.meet(1).await;
        let w = match warmup::relayout(shared, shard, store, warmed.pending_flush, now).await {
            Ok(w) => Some(w),
            Err(e) => {
                log::error!(
                    "shard {shard}: persistence: cannot write the new layout under {}: {e}; the old files are kept",
                    shared.dir.display()
                );
                shared.fail();
                None
            }
        };
        shared.meet(2).await;
        if shard == 0 && !shared.failed() {
            if let Err(e) = warmup::finish_relayout(shared) {
                log::error!(
                    "persistence: cannot finish the re-layout of {}: {e}",
                    shared.dir.display()
                );
                if !shared
                    .path(&super::files::done_name(layout.write_gen))
                    .exists()
                {
                    shared.fail();
                }
            }
        }
        // Every shard learns whether the new layout holds before it journals into it.
        shared.meet(3).await;
        let w = w.filter(|_| !shared.failed());
        // A failed re-layout keeps journaling in the old generation (the new one is not
        // marked done, so the next start reads the old), in files of this shard count
        // numbered after every old file: the next start reads them after the old ones.
        w.unwrap_or_else(|| {
            FileWriter::new(
                shared,
                shard,
                layout.gen,
                layout
                    .files
                    .iter()
                    .map(|f| f.seq + 1)
                    .max()
                    .unwrap_or(1)
                    .max(1 << 20),
            )
        })
    } else {
        FileWriter::new(shared, shard, layout.gen, layout.next_seq(shard))
    };
    warmup::report(shared, shard, &warmed, started.elapsed());
    info.record_run(started.elapsed());
    info.set_state(State::Sleeping);
    store.borrow_mut().start_journal();
    // Listeners open only once every shard has warmed (after a re-layout, the fourth
    // meeting).
    shared.meet(if layout.relayout() { 4 } else { 1 }).await;
    writer
}

/// Starts the shard's flusher in its Writer queue and its compactor in its AuxIO queue.
pub fn start_tasks(
    p: Rc<ShardPersist>,
    store: Rc<RefCell<Store>>,
    writer: FileWriter,
    [flush, compact]: [Arc<TaskInfo>; 2],
    [writer_q, aux_q]: [glommio::TaskQueueHandle; 2],
) -> (glommio::Task<()>, glommio::Task<()>) {
    let compactor = glommio::spawn_local_into(
        super::compactor::run(p.clone(), store.clone(), compact),
        aux_q,
    )
    .expect("the AuxIO queue exists");
    let flusher = glommio::spawn_local_into(flusher::run(p, store, writer, flush), writer_q)
        .expect("the Writer queue exists");
    (flusher, compactor)
}
