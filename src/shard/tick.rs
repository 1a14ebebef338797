//! A timer that ticks while a phase with no other wake-up source runs.
//!
//! Why: glommio 0.9's loop can park an executor that still has runnable tasks. When its
//! preemption timer has already fired as `run_task_queues` starts (the thread was
//! descheduled for longer than the timer after its I/O poll), that call reports that
//! nothing ran, and the loop parks until a timer or an I/O completion wakes it (fixed
//! upstream after 0.9, glommio/glommio pull request 53). On this 2-CPU machine under load
//! a shard then slept for good in the middle of its warm-up, its files half read, while
//! the other shard waited for it (a `gdb` and `/proc/*/stack` of the hung start: both
//! executors in `io_cqring_wait`, no timer and no file I/O pending on the stuck one).
//! A tick wakes such an executor; phases that have no other wake-up source (connecting
//! the meshes, warm-up) run under one.

use std::future::Future;
use std::time::Duration;

/// How often an executor running a ticking phase wakes, runnable tasks or not: the
/// preemption timer's period (`server::PREEMPT_TIMER`), so a park the bug causes lasts
/// no longer than a preemption would.
pub const TICK: Duration = Duration::from_millis(5);

/// Runs `phase` with a timer ticking beside it.
pub async fn ticking<F: Future>(phase: F) -> F::Output {
    let tick = async {
        loop {
            glommio::timer::sleep(TICK).await;
        }
    };
    futures_lite::future::or(phase, tick).await
}
