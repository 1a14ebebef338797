//! The connections a shard's driver runs itself: each connection's future, polled by the
//! driver task in its pass, instead of a glommio task per connection.
//!
//! ```text
//!   ring completion for a waiting connection ──► NetRing::schedule: its slot queued
//!   any other waker (timer, channel, semaphore, a dump's producer on another thread)
//!        ──► its id into Remote's queue, the driver task woken through glommio
//!   driver pass: reap ──► poll each queued connection once, in order ──► one submission
//! ```
//!
//! Why: a connection at pipeline 1 is woken once per request; through glommio that is a
//! waker call, a schedule into its task queue and a task poll, and the driver has to yield
//! for those tasks to run. Here the ring marks the slot and the driver polls the future.
//!
//! Which thread wakes: glommio wakes timers, its channels (local and shared: a shared
//! channel's waker waits in this executor's reactor) and its semaphores on this thread, but
//! a key dump's producers wake the consumer from other shards' threads
//! ([`crate::dump::Job`]). A connection's waker is therefore `Send + Sync`: a mutex-held
//! queue that the driver drains each pass, and the driver task's own glommio waker, which
//! glommio makes safe to call from any thread.
//!
//! A connection that yields (`-R`, or glommio's preemption) wakes itself: it is queued
//! behind those already queued, and polled in a later turn. Parking drops the future: a
//! parked connection has no entry here.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

use glommio::sync::Pass;

use super::ring::{ConnId, NetRing};

/// A connection's future, as the driver owns it.
pub type ConnFuture = Pin<Box<dyn Future<Output = ()>>>;

struct Entry {
    id: ConnId,
    fut: ConnFuture,
    waker: Waker,
    /// Holds the shard's gate open until the connection ends.
    _pass: Pass,
}

/// Wake-ups from wakers, which may be called on any thread.
struct Remote {
    queue: Mutex<Vec<ConnId>>,
    pending: AtomicBool,
    /// The driver task's waker.
    driver: Waker,
}

struct ConnWake {
    id: ConnId,
    remote: Arc<Remote>,
}

impl Wake for ConnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let r = &self.remote;
        r.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.id);
        if !r.pending.swap(true, Ordering::AcqRel) {
            r.driver.wake_by_ref();
        }
    }
}

/// The shard's connection futures, by ring slot.
pub(super) struct Conns {
    /// Indexed by ring slot, so as long as the most slots ever open; boxed, so a slot
    /// without a future (parked, or free) costs a pointer, not an entry.
    entries: Vec<Option<Box<Entry>>>,
    /// The connections of the current turn, and how many of them were polled.
    turn: Vec<ConnId>,
    at: usize,
    remote: Arc<Remote>,
}

impl Conns {
    /// `driver`: the waker of the task that runs [`Conns::run`].
    pub fn new(driver: Waker) -> Conns {
        Conns {
            entries: Vec::new(),
            turn: Vec::new(),
            at: 0,
            remote: Arc::new(Remote {
                queue: Mutex::new(Vec::new()),
                pending: AtomicBool::new(false),
                driver,
            }),
        }
    }

    /// Runs `fut` for connection `id` (its slot serves no other future), from the next turn.
    pub fn insert(&mut self, net: &NetRing, id: ConnId, fut: ConnFuture, pass: Pass) {
        let i = id.index();
        if self.entries.len() <= i {
            self.entries.resize_with(i + 1, || None);
        }
        debug_assert!(self.entries[i].is_none(), "one future per slot");
        let waker = Waker::from(Arc::new(ConnWake {
            id,
            remote: self.remote.clone(),
        }));
        self.entries[i] = Some(Box::new(Entry {
            id,
            fut,
            waker,
            _pass: pass,
        }));
        net.schedule(id);
    }

    /// Whether a wake-up came through a waker since the last turn.
    pub fn woken(&self) -> bool {
        self.remote.pending.load(Ordering::Acquire)
    }

    /// Whether connections wait to be polled.
    pub fn has_work(&self, net: &NetRing) -> bool {
        self.at < self.turn.len() || self.woken() || net.has_runnable()
    }

    /// Polls each connection scheduled before this turn once, in order; stops early when
    /// glommio wants its loop to run (the rest go first in the next turn). Returns how
    /// many it polled.
    pub fn run(&mut self, net: &NetRing) -> usize {
        if self.at == self.turn.len() {
            self.turn.clear();
            self.at = 0;
            if self.remote.pending.swap(false, Ordering::AcqRel) {
                let woken = std::mem::take(
                    &mut *self.remote.queue.lock().unwrap_or_else(|e| e.into_inner()),
                );
                for id in woken {
                    net.schedule(id);
                }
            }
            net.take_runnable(&mut self.turn);
        }
        let mut polled = 0;
        while self.at < self.turn.len() {
            let id = self.turn[self.at];
            self.at += 1;
            if !net.unqueue(id) {
                continue;
            }
            let i = id.index();
            let Some(e) = self.entries.get_mut(i).and_then(|e| e.as_mut()) else {
                continue;
            };
            if e.id != id {
                continue;
            }
            polled += 1;
            let mut cx = Context::from_waker(&e.waker);
            if e.fut.as_mut().poll(&mut cx).is_ready() {
                self.entries[i] = None;
            }
            if glommio::executor().need_preempt() {
                break;
            }
        }
        polled
    }
}
