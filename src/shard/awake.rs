//! Keeping a starting shard's executor awake while a phase with no other wake-up source
//! runs (connecting the meshes, warm-up): before the shard listens, no client or peer
//! wakes it.
//!
//! Why: glommio 0.9's park misses wake-ups in two ways, both seen here as a start that
//! never came under load (the crash test's "did not report 2 listening shards"; both
//! executors of the hung process asleep in `io_cqring_wait`, nothing in flight on the
//! stuck one):
//!
//! - its loop can park an executor that still has runnable tasks: when its preemption
//!   timer has already fired as `run_task_queues` starts (the thread was descheduled for
//!   longer than the timer after its I/O poll), that call reports that nothing ran and the
//!   loop parks (fixed upstream after 0.9, glommio/glommio pull request 53);
//! - it parks on its main ring, linked to its latency ring by a POLL_ADD on that ring's
//!   descriptor, and that wake-up is sometimes lost (glommio issues 326 and 547): a shard
//!   slept through its own meeting timer.
//!
//! So a timer ticks beside the phase: each tick wakes an executor parked by the first bug,
//! and gives the second another chance every tick rather than one per wait. A task that
//! naps and yields in a loop (so the executor never parks) is not used: it would take the
//! executor each time warm-up yields between its chunks.

use std::future::Future;
use std::time::Duration;

/// The tick: the preemption timer's period (`server::PREEMPT_TIMER`).
const TICK: Duration = Duration::from_millis(5);

/// Runs `phase` with the executor kept awake.
pub async fn kept_awake<F: Future>(phase: F) -> F::Output {
    let tick = async {
        loop {
            glommio::timer::sleep(TICK).await;
        }
    };
    futures_lite::future::or(phase, tick).await
}
