//! Parked connections: idle connections that keep a slot in their shard's network ring
//! (`crate::shard::ring`), not a future.
//!
//! ```text
//!   conn future, idle for --park-after-ms ──► ring.park(id, Parked { proto, authed, kick_at })
//!        the future, its Conn and its waker are dropped; the ring's recv stays armed
//!   bytes arrive ──► the ring hands the slot to the shard's driver, which makes a fresh
//!        future with the parked state (`crate::shard::conns`)
//! ```
//!
//! Why: an idle connection waiting in its future costs the future (1.3 KB) and the
//! `Conn` struct with its per-peer batch vectors; a parked one costs its ring slot. The
//! state that must survive is small: the protocol chosen by the first byte, whether the
//! client has authenticated, and when `idle_timeout` is due. Everything else a connection
//! holds is empty when it parks: it parks only with nothing buffered, nothing to write, no
//! swallow pending and no forwarded work outstanding.
//!
//! Which connections park is told by [`IdleWatch`]: the active path gains two writes to a
//! slot per idle wait, no timer and no allocation.
//!
//! Who closes a parked connection: the client (the ring sees the end of stream), the
//! shard's sweep task at `idle_timeout` (counted in `idle_kicks`), or the stop.
//!
//! Memory: parking thousands of connections frees their futures in the middle of the shard's
//! malloc arena, which glibc only returns to the system from its top; the sweep calls
//! `malloc_trim` once at least [`TRIM_AFTER`] connections have parked since the last trim,
//! so resident memory follows.

use std::cell::{Cell, RefCell};
use std::task::{Context, Poll, Waker};

use crate::config::{Protocol, Settings};

/// Returns memory the process has freed to the system (glibc keeps freed memory in the
/// middle of its arenas otherwise).
pub fn release_free_memory() {
    // SAFETY: glibc's malloc_trim takes its own locks.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::malloc_trim(0)
    };
}

/// Connections parked since the last trim that make the sweep call `malloc_trim`.
pub const TRIM_AFTER: usize = 64;

/// What a parked connection keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Parked {
    /// Unix time in ms when `idle_timeout` closes it (0: never).
    pub kick_at_ms: u64,
    /// The protocol, as the connection encodes it.
    pub proto: u8,
    pub authed: bool,
}

/// The protocol a connection speaks, chosen by its first byte as memcached does (`-B`
/// can fix it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Proto {
    Unknown = 0,
    Text = 1,
    Binary = 2,
}

impl Proto {
    pub fn from_u8(v: u8) -> Proto {
        match v {
            1 => Proto::Text,
            2 => Proto::Binary,
            _ => Proto::Unknown,
        }
    }
}

impl Parked {
    /// The state a new connection starts with.
    pub fn fresh(settings: &Settings, authed: bool) -> Parked {
        let proto = match settings.protocol {
            Protocol::Ascii => Proto::Text,
            Protocol::Binary => Proto::Binary,
            Protocol::Auto => Proto::Unknown,
        };
        Parked::new(proto as u8, authed, 0)
    }

    pub fn new(proto: u8, authed: bool, kick_at_ms: u64) -> Parked {
        Parked {
            kick_at_ms,
            proto,
            authed,
        }
    }
}

/// Tells connections waiting idle that they have waited long enough to park, without a
/// timer per wait: a glommio timer allocates and enters the reactor's timer tree, and a
/// connection at pipeline 1 waits once per request. A waiting connection marks its slot
/// with the current tick; the shard's sweep advances the tick every half
/// `--park-after-ms` and signals slots two ticks old (so a connection parks after
/// 1 to 1.5 times `--park-after-ms`). A wait costs two writes to the slot and, when the
/// connection's waker changed, a waker clone.
#[derive(Default)]
pub struct IdleWatch {
    slots: RefCell<Vec<Slot>>,
    free: RefCell<Vec<u32>>,
    tick: Cell<u32>,
}

#[derive(Default)]
struct Slot {
    since: u32,
    state: SlotState,
    waker: Option<Waker>,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    #[default]
    Free,
    Busy,
    Waiting,
    Expired,
}

impl IdleWatch {
    /// A slot for a connection, for its life.
    pub fn join(&self) -> u32 {
        let mut slots = self.slots.borrow_mut();
        let i = match self.free.borrow_mut().pop() {
            Some(i) => i,
            None => {
                slots.push(Slot::default());
                (slots.len() - 1) as u32
            }
        };
        slots[i as usize].state = SlotState::Busy;
        i
    }

    pub fn leave(&self, slot: u32) {
        self.slots.borrow_mut()[slot as usize] = Slot::default();
        self.free.borrow_mut().push(slot);
    }

    /// The connection starts waiting idle.
    #[inline]
    pub fn wait_start(&self, slot: u32) {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[slot as usize];
        s.since = self.tick.get();
        s.state = SlotState::Waiting;
    }

    /// The connection stops waiting (bytes came, or it parks).
    #[inline]
    pub fn wait_end(&self, slot: u32) {
        self.slots.borrow_mut()[slot as usize].state = SlotState::Busy;
    }

    /// Ready when the slot has waited long enough to park; else `cx` is woken when it has.
    #[inline]
    pub fn poll_expired(&self, slot: u32, cx: &mut Context<'_>) -> Poll<()> {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[slot as usize];
        if s.state == SlotState::Expired {
            return Poll::Ready(());
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Advances the clock and signals the slots that have waited two ticks.
    pub fn tick(&self) {
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);
        for s in self.slots.borrow_mut().iter_mut() {
            if s.state == SlotState::Waiting && tick.wrapping_sub(s.since) >= 2 {
                s.state = SlotState::Expired;
                if let Some(w) = s.waker.take() {
                    w.wake();
                }
            }
        }
    }
}

/// A shard's parking: which connections are idle long enough, and when to return the
/// memory their futures freed.
#[derive(Default)]
pub struct ShardPark {
    pub watch: IdleWatch,
    since_trim: Cell<usize>,
}

impl ShardPark {
    /// A connection parked.
    pub fn note_parked(&self) {
        self.since_trim.set(self.since_trim.get() + 1);
    }

    /// Returns freed memory to the system once enough connections have parked.
    pub fn maybe_trim(&self) {
        if self.since_trim.get() >= TRIM_AFTER {
            self.since_trim.set(0);
            release_free_memory();
        }
    }
}
