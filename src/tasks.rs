//! Engine background tasks, after ep-engine's GlobalTask model.
//!
//! A [`Task`] has a name, a description, a queue and a priority. [`Task::run`] does one
//! bounded step and says when it wants to run again: at once (it has more to do, but lets the
//! foreground go first), after a snooze, or not until woken. Any code on the shard can
//! [`TaskHandle::wake`] a task; a task with nothing to do sleeps until woken rather than
//! polling. The shard runs each task in its own low-priority glommio task queue (see
//! `shard`), which is the only place that knows about executors; this module is plain Rust.
//!
//! Each task's bookkeeping lives in an [`TaskInfo`] that only its shard writes and any shard
//! reads, for `stats tasks`.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::store::Store;

/// ep-engine's task queues: NonIO for the engine's upkeep; Reader (warm-up), Writer (the
/// flusher) and AuxIO (compaction) for persistence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queue {
    NonIo,
    Reader,
    Writer,
    AuxIo,
}

impl Queue {
    pub const ALL: [Queue; 4] = [Queue::NonIo, Queue::Reader, Queue::Writer, Queue::AuxIo];
    pub fn name(self) -> &'static str {
        match self {
            Queue::NonIo => "NonIO",
            Queue::Reader => "Reader",
            Queue::Writer => "Writer",
            Queue::AuxIo => "AuxIO",
        }
    }
}

/// When a task wants to run next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// More work now: run again once the foreground has had its turn.
    Again,
    /// Run again after this long, or earlier if woken.
    Snooze(Duration),
    /// Nothing to do until woken.
    Sleep,
}

/// A background task. `run` must do a bounded amount of work.
pub trait Task {
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    fn queue(&self) -> Queue;
    /// Lower runs first when several are ready (ep-engine's convention).
    fn priority(&self) -> u8;
    fn run(&mut self, now: u32) -> Next;
}

/// A task's state, for `stats tasks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    Running = 0,
    Ready = 1,
    Snoozing = 2,
    Sleeping = 3,
}

impl State {
    fn from_u8(v: u8) -> State {
        match v {
            0 => State::Running,
            1 => State::Ready,
            2 => State::Snoozing,
            _ => State::Sleeping,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Ready => "ready",
            State::Snoozing => "snoozing",
            State::Sleeping => "sleeping",
        }
    }
}

/// A task's bookkeeping: written by its shard, read by `stats tasks` on any shard.
#[derive(Debug)]
pub struct TaskInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub queue: Queue,
    pub priority: u8,
    state: AtomicU8,
    runs: AtomicU64,
    total_ns: AtomicU64,
    longest_ns: AtomicU64,
    /// Unix time in milliseconds of the next planned run; 0 when sleeping until woken.
    next_wake_ms: AtomicU64,
}

impl TaskInfo {
    pub fn new(t: &dyn Task) -> TaskInfo {
        TaskInfo::named(t.name(), t.description(), t.queue(), t.priority())
    }

    /// The bookkeeping of a task that is not a [`Task`]: one that awaits I/O between its
    /// steps (persistence's flusher and warm-up run as their own futures on their queue).
    pub fn named(
        name: &'static str,
        description: &'static str,
        queue: Queue,
        priority: u8,
    ) -> TaskInfo {
        TaskInfo {
            name,
            description,
            queue,
            priority,
            state: AtomicU8::new(State::Ready as u8),
            runs: AtomicU64::new(0),
            total_ns: AtomicU64::new(0),
            longest_ns: AtomicU64::new(0),
            next_wake_ms: AtomicU64::new(0),
        }
    }
    pub fn state(&self) -> State {
        State::from_u8(self.state.load(Relaxed))
    }
    pub fn set_state(&self, s: State) {
        self.state.store(s as u8, Relaxed);
    }
    pub fn runs(&self) -> u64 {
        self.runs.load(Relaxed)
    }
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.total_ns.load(Relaxed))
    }
    pub fn longest(&self) -> Duration {
        Duration::from_nanos(self.longest_ns.load(Relaxed))
    }
    pub fn next_wake_ms(&self) -> u64 {
        self.next_wake_ms.load(Relaxed)
    }
    pub fn set_next_wake_ms(&self, ms: u64) {
        self.next_wake_ms.store(ms, Relaxed);
    }
    /// Records one run (only the owning shard calls this).
    pub fn record_run(&self, took: Duration) {
        let ns = took.as_nanos() as u64;
        self.runs.store(self.runs() + 1, Relaxed);
        self.total_ns
            .store(self.total_ns.load(Relaxed) + ns, Relaxed);
        if ns > self.longest_ns.load(Relaxed) {
            self.longest_ns.store(ns, Relaxed);
        }
    }
}

/// Wakes a task, from its shard or any other (a peer's `cache_memlimit`, a dump asked for
/// on another shard's connection).
#[derive(Clone, Debug, Default)]
pub struct TaskHandle {
    inner: Arc<Wake>,
}

#[derive(Debug, Default)]
struct Wake {
    woken: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl TaskHandle {
    /// Makes the task run soon, whatever it is waiting for.
    pub fn wake(&self) {
        self.inner.woken.store(true, SeqCst);
        let w = self
            .inner
            .waker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(w) = w {
            w.wake();
        }
    }

    /// Whether a wake is pending: the task will run once its queue gets a turn.
    pub fn is_woken(&self) -> bool {
        self.inner.woken.load(SeqCst)
    }

    /// Resolves once [`TaskHandle::wake`] has been called (then clears the flag).
    pub fn woken(&self) -> Woken<'_> {
        Woken { h: self }
    }
}

/// Future returned by [`TaskHandle::woken`].
#[derive(Debug)]
pub struct Woken<'a> {
    h: &'a TaskHandle,
}

impl Future for Woken<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let w = &self.h.inner;
        if w.woken.swap(false, SeqCst) {
            return Poll::Ready(());
        }
        *w.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        // A wake between the check and the store found no waker: look again.
        if w.woken.swap(false, SeqCst) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// Items the expiry pager examines per step: small enough to keep a step in the tens of
/// microseconds, so foreground requests never wait long behind it.
pub const PAGER_STEP_ITEMS: usize = 2000;

/// The expiry pager: walks every segment, reclaims expired and flushed items and frees the
/// segments they leave empty. Sleeps until the earliest expiry it saw, or until woken.
#[derive(Debug)]
pub struct ExpiryPager {
    store: Rc<RefCell<Store>>,
}

impl ExpiryPager {
    pub fn new(store: Rc<RefCell<Store>>) -> Self {
        ExpiryPager { store }
    }
}

impl Task for ExpiryPager {
    fn name(&self) -> &'static str {
        "expiry_pager"
    }
    fn description(&self) -> &'static str {
        "reclaims expired and flushed items, frees emptied segments"
    }
    fn queue(&self) -> Queue {
        Queue::NonIo
    }
    fn priority(&self) -> u8 {
        6
    }
    fn run(&mut self, now: u32) -> Next {
        let mut store = self.store.borrow_mut();
        let step = store.pager_step(now, PAGER_STEP_ITEMS);
        if !step.pass_done {
            return Next::Again;
        }
        let due = [step.next_expiry, store.flush_due().unwrap_or(0)]
            .into_iter()
            .filter(|&t| t != 0)
            .min();
        match due {
            None => Next::Sleep,
            Some(t) => Next::Snooze(Duration::from_secs(u64::from(t.saturating_sub(now)).max(1))),
        }
    }
}

/// Eviction maintenance: keeps a segment's worth of memory free, so a foreground write rarely
/// has to evict inline, and applies `cache_memlimit` (a shrink one segment a step). Woken
/// when a write had to evict, or the limit changed.
#[derive(Debug)]
pub struct Evictor {
    store: Rc<RefCell<Store>>,
    /// This shard's share of the live limit.
    limit: crate::admin::ShardLimit,
}

impl Evictor {
    pub fn new(store: Rc<RefCell<Store>>, limit: crate::admin::ShardLimit) -> Self {
        Evictor { store, limit }
    }
}

impl Task for Evictor {
    fn name(&self) -> &'static str {
        "eviction"
    }
    fn description(&self) -> &'static str {
        "evicts ahead of demand so writes find a free segment"
    }
    fn queue(&self) -> Queue {
        Queue::NonIo
    }
    fn priority(&self) -> u8 {
        3
    }
    fn run(&mut self, _now: u32) -> Next {
        let mut store = self.store.borrow_mut();
        let want = self.limit.bytes();
        if store.mem_target() != want && !store.set_mem_limit(want) {
            // `cache_memlimit` checked it fits every shard's reserve; a store that
            // still refuses keeps its limit.
            log::warn!("the store refused a memory limit of {want} bytes");
        }
        if store.shrink_step() || store.make_headroom() {
            Next::Again
        } else {
            Next::Sleep
        }
    }
}

/// Stats upkeep: once a second, records the shard thread's own CPU time, so `stats` and
/// `stats shards` show how busy each core is (the process's rusage mixes all threads).
#[derive(Debug)]
pub struct StatsUpkeep {
    counters: Arc<crate::stats::Counters>,
}

impl StatsUpkeep {
    pub fn new(counters: Arc<crate::stats::Counters>) -> Self {
        StatsUpkeep { counters }
    }
}

impl Task for StatsUpkeep {
    fn name(&self) -> &'static str {
        "stats_upkeep"
    }
    fn description(&self) -> &'static str {
        "samples the shard thread's CPU time and its executor's counts once a second"
    }
    fn queue(&self) -> Queue {
        Queue::NonIo
    }
    fn priority(&self) -> u8 {
        9
    }
    fn run(&mut self, _now: u32) -> Next {
        // SAFETY: getrusage fills the zeroed struct for the calling thread.
        let ru = unsafe {
            let mut ru: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_THREAD, &mut ru);
            ru
        };
        let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
        use crate::stats::Stat;
        self.counters.set(Stat::ShardCpuUserUs, us(ru.ru_utime));
        self.counters.set(Stat::ShardCpuSystemUs, us(ru.ru_stime));
        // glommio hands over its counts since the last call and starts them again at 0.
        let ex = glommio::executor().executor_stats();
        self.counters
            .add(Stat::ShardSchedulerRuns, ex.scheduler_runs());
        self.counters.add(Stat::ShardTasksRun, ex.tasks_executed());
        Next::Snooze(Duration::from_secs(1))
    }
}

/// Whether any of a shard's background tasks has work it could do now: one that asked to
/// run again, one running (persistence's, which await their disk writes), or one woken.
/// A shard's driver out of work leaves the CPU to them rather than poll or wait in its
/// ring, since either keeps the executor from running their queues.
#[derive(Debug, Default)]
pub struct Backlog {
    infos: Vec<Arc<TaskInfo>>,
    handles: Vec<TaskHandle>,
}

impl Backlog {
    pub fn new(infos: Vec<Arc<TaskInfo>>, handles: Vec<TaskHandle>) -> Backlog {
        Backlog { infos, handles }
    }

    pub fn any(&self) -> bool {
        self.infos
            .iter()
            .any(|i| matches!(i.state(), State::Ready | State::Running))
            || self.handles.iter().any(TaskHandle::is_woken)
    }
}

/// Every task of every shard, for `stats tasks`.
pub type Registry = Arc<Vec<std::sync::OnceLock<Vec<Arc<TaskInfo>>>>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backlog_is_any_task_ready_running_or_woken() {
        let info = |s: State| {
            let i = Arc::new(TaskInfo::named("t", "a test task", Queue::NonIo, 1));
            i.set_state(s);
            i
        };
        let quiet = || vec![info(State::Sleeping), info(State::Snoozing)];
        let handles = vec![TaskHandle::default(), TaskHandle::default()];
        assert!(!Backlog::new(quiet(), handles.clone()).any());
        for busy in [State::Ready, State::Running] {
            let mut infos = quiet();
            infos.push(info(busy));
            assert!(Backlog::new(infos, handles.clone()).any(), "{busy:?}");
        }
        let b = Backlog::new(quiet(), handles.clone());
        handles[1].wake();
        assert!(b.any());
        // The task takes the wake: no backlog left.
        let waker = futures_lite::future::block_on(futures_lite::future::poll_fn(|cx| {
            std::task::Poll::Ready(cx.waker().clone())
        }));
        let mut cx = Context::from_waker(&waker);
        let mut w = handles[1].woken();
        assert!(Pin::new(&mut w).poll(&mut cx).is_ready());
        assert!(!b.any());
    }
}
