//! Parked connections: idle connections that hold a file descriptor and 16 bytes, not a task.
//!
//! ```text
//!   conn task, idle for --park-after-ms ──► dup the fd, drop TcpStream + task + Conn
//!        │                                  table[fd] = Parked { proto, authed, kick_at }
//!        ▼                                  epoll_ctl(ADD, EPOLLIN | EPOLLONESHOT)
//!   parking thread (one for all shards): epoll_wait ──► fd readable (or hung up)
//!        │ push fd on its shard's ready list (a mutex-guarded Vec), and if the list was
//!        │ empty, write one byte to that shard's wake socket
//!        ▼
//!   shard's wake task (glommio read on the socketpair) ──► drain the list, take each fd's
//!        Parked state out of the table, epoll_ctl(DEL), spawn a fresh connection task
//! ```
//!
//! Why: an idle connection waiting in glommio costs its task (a 1.3 KB future), its
//! `TcpStream` with two poll sources and timer ids, the `Conn` struct with its 512-byte
//! read buffer and per-peer batch vectors: about 3.9 KB resident, against memcached's 580.
//! A parked one costs an entry of [`Parked`] in a table indexed by fd (16 bytes) plus the
//! kernel's epoll item (kernel memory, not resident in the process). The state that must
//! survive is small: the protocol chosen by the first byte, whether the client has
//! authenticated, and when `idle_timeout` is due. Everything else a connection holds is
//! empty when it parks: it parks only with nothing buffered, nothing to write, no swallow
//! pending and no forwarded work outstanding.
//!
//! Why a thread and epoll rather than glommio: any wait inside glommio costs a task or a
//! source per connection, which is what parking removes. The thread only moves fd numbers;
//! the hand-off list is touched once per park→wake transition, never per request. The
//! active path gains two writes to a slot per idle wait ([`IdleWatch`]), no timer and no
//! allocation.
//!
//! No lost wake-up: the pending wait is a readiness poll or a one-byte `MSG_PEEK` receive
//! through the reactor (`conn::recv_ready`), so cancelling it consumes no data; epoll is level-triggered, so bytes that arrived before `EPOLL_CTL_ADD` fire at once.
//! Stale events are harmless: a ready fd whose table entry is gone (closed by the sweep or
//! the stop) is ignored, and a spurious wake of a reused fd number only makes a connection
//! wait again in a task, until it parks again.
//!
//! Who closes a parked connection: the client (the wake task spawns a task that reads the
//! end of stream), `idle_timeout` (the shard's sweep task, on a low-priority queue, counted
//! in `idle_kicks`), or the stop (every parked fd of the shard is closed). Each path removes
//! the table entry first, so the connection counts fall exactly once.
//!
//! Memory: parking thousands of connections frees their tasks in the middle of the shard's
//! malloc arena, which glibc only returns to the system from its top; the sweep calls
//! `malloc_trim` once at least [`TRIM_AFTER`] connections have parked since the last trim,
//! so resident memory follows.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

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
    /// The table slot is in use.
    used: bool,
}

impl Parked {
    pub fn new(proto: u8, authed: bool, kick_at_ms: u64) -> Parked {
        Parked {
            kick_at_ms,
            proto,
            authed,
            used: true,
        }
    }
}

/// The process-wide part: the epoll set, the parking thread, each shard's ready list.
pub struct Parker {
    epfd: OwnedFd,
    shards: Vec<ReadyList>,
    /// Parked connections on all shards, for `stats`.
    parked: AtomicUsize,
}

struct ReadyList {
    fds: Mutex<Vec<RawFd>>,
    /// Write end of the shard's wake socketpair (non-blocking).
    wake: OwnedFd,
}

impl Parker {
    /// Creates the epoll set and one wake socketpair per shard, and starts the parking
    /// thread. Returns the parker and, per shard, the read end of its wake socket.
    pub fn start(shards: usize) -> io::Result<(Arc<Parker>, Vec<RawFd>)> {
        // SAFETY: plain syscalls; every returned descriptor is owned right away.
        let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epfd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor nobody else owns.
        let epfd = unsafe { OwnedFd::from_raw_fd(epfd) };
        let mut lists = Vec::new();
        let mut reads = Vec::new();
        for _ in 0..shards {
            let (theirs, ours) = std::os::unix::net::UnixStream::pair()?;
            ours.set_nonblocking(true)?;
            theirs.set_nonblocking(true)?;
            lists.push(ReadyList {
                fds: Mutex::new(Vec::new()),
                wake: OwnedFd::from(ours),
            });
            reads.push(std::os::fd::IntoRawFd::into_raw_fd(theirs));
        }
        let parker = Arc::new(Parker {
            epfd,
            shards: lists,
            parked: AtomicUsize::new(0),
        });
        let p = parker.clone();
        std::thread::Builder::new()
            .name("parking".into())
            .spawn(move || p.watch())?;
        Ok((parker, reads))
    }

    /// The parking thread: moves ready fds to their shard. Runs until the process ends.
    fn watch(&self) {
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        let mut touched = vec![false; self.shards.len()];
        loop {
            // SAFETY: `events` is valid for its length.
            let n = unsafe {
                libc::epoll_wait(
                    self.epfd.as_raw_fd(),
                    events.as_mut_ptr(),
                    events.len() as i32,
                    -1,
                )
            };
            if n < 0 {
                if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                log::error!("parking thread: epoll_wait: {}", io::Error::last_os_error());
                return;
            }
            for ev in &events[..n as usize] {
                let (shard, fd) = ((ev.u64 >> 32) as usize, ev.u64 as u32 as RawFd);
                let Some(list) = self.shards.get(shard) else {
                    continue;
                };
                let mut fds = list.fds.lock().unwrap_or_else(|e| e.into_inner());
                if fds.is_empty() {
                    touched[shard] = true;
                }
                fds.push(fd);
            }
            for (list, touched) in self.shards.iter().zip(touched.iter_mut()) {
                if mem::take(touched) {
                    // A full socket means unread bytes: the shard wakes anyway.
                    // SAFETY: one byte from a valid buffer to our own socket.
                    unsafe {
                        libc::send(
                            list.wake.as_raw_fd(),
                            b"w".as_ptr() as *const libc::c_void,
                            1,
                            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                        )
                    };
                }
            }
        }
    }

    /// Parked connections on all shards.
    pub fn parked(&self) -> usize {
        self.parked.load(Ordering::Relaxed)
    }
}

/// Tells connections waiting idle that they have waited long enough to park, without a
/// timer per wait: a glommio timer allocates and enters the reactor's timer tree, and a
/// connection at pipeline 1 waits once per request. A waiting connection marks its slot
/// with the current tick; the shard's sweep advances the tick every half
/// `--park-after-ms` and signals slots two ticks old (so a connection parks after
/// 1 to 1.5 times `--park-after-ms`). A wait costs two writes to the slot and, when the
/// task's waker changed, a waker clone.
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
    pub fn wait_start(&self, slot: u32) {
        let mut slots = self.slots.borrow_mut();
        let s = &mut slots[slot as usize];
        s.since = self.tick.get();
        s.state = SlotState::Waiting;
    }

    /// The connection stops waiting (bytes came, or it parks).
    pub fn wait_end(&self, slot: u32) {
        self.slots.borrow_mut()[slot as usize].state = SlotState::Busy;
    }

    /// Completes when the slot has waited long enough to park.
    pub fn expired(&self, slot: u32) -> Expired<'_> {
        Expired { watch: self, slot }
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

/// See [`IdleWatch::expired`].
pub struct Expired<'a> {
    watch: &'a IdleWatch,
    slot: u32,
}

impl Future for Expired<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut slots = self.watch.slots.borrow_mut();
        let s = &mut slots[self.slot as usize];
        if s.state == SlotState::Expired {
            return Poll::Ready(());
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// A shard's parked connections (used by that shard's executor only).
pub struct ShardPark {
    /// Idle connections still in tasks, for the decision to park.
    pub watch: IdleWatch,
    parker: Arc<Parker>,
    shard: usize,
    /// Indexed by fd.
    table: RefCell<Vec<Parked>>,
    count: Cell<usize>,
    since_trim: Cell<usize>,
}

impl ShardPark {
    pub fn new(parker: Arc<Parker>, shard: usize) -> ShardPark {
        ShardPark {
            watch: IdleWatch::default(),
            parker,
            shard,
            table: Default::default(),
            count: Default::default(),
            since_trim: Default::default(),
        }
    }

    /// Parks `fd` (which the caller hands over) with its state. On an error the fd is
    /// closed and the connection is gone.
    pub fn park(&self, fd: RawFd, state: Parked) -> io::Result<()> {
        let i = fd as usize;
        {
            let mut t = self.table.borrow_mut();
            if t.len() <= i {
                t.resize((i + 1).next_power_of_two(), Parked::default());
            }
            t[i] = state;
        }
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLONESHOT) as u32,
            u64: (self.shard as u64) << 32 | fd as u32 as u64,
        };
        // SAFETY: registering a descriptor we own in our epoll set.
        if unsafe {
            libc::epoll_ctl(
                self.parker.epfd.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd,
                &mut ev,
            )
        } < 0
        {
            let e = io::Error::last_os_error();
            self.table.borrow_mut()[i] = Parked::default();
            // SAFETY: the fd was handed to us and is registered nowhere.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        self.count.set(self.count.get() + 1);
        self.since_trim.set(self.since_trim.get() + 1);
        self.parker.parked.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Takes `fd` out of the parked set (its state), or `None` when it is not parked
    /// (a stale event). The fd then belongs to the caller.
    pub fn unpark(&self, fd: RawFd) -> Option<Parked> {
        let state = {
            let mut t = self.table.borrow_mut();
            let slot = t.get_mut(fd as usize)?;
            if !slot.used {
                return None;
            }
            mem::take(slot)
        };
        // SAFETY: removing our own registration; the fd stays open.
        unsafe {
            libc::epoll_ctl(
                self.parker.epfd.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
        self.count.set(self.count.get() - 1);
        self.parker.parked.fetch_sub(1, Ordering::Relaxed);
        Some(state)
    }

    /// The fds the parking thread found ready since the last call.
    pub fn take_ready(&self) -> Vec<RawFd> {
        let list = &self.parker.shards[self.shard];
        mem::take(&mut *list.fds.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Closes the parked connections `close` picks; returns how many it closed.
    pub fn close_where(&self, mut close: impl FnMut(&Parked) -> bool) -> usize {
        if self.count.get() == 0 {
            return 0;
        }
        let picked: Vec<RawFd> = self
            .table
            .borrow()
            .iter()
            .enumerate()
            .filter(|(_, p)| p.used && close(p))
            .map(|(fd, _)| fd as RawFd)
            .collect();
        for &fd in &picked {
            if self.unpark(fd).is_some() {
                // SAFETY: unparked, so ours to close.
                unsafe { libc::close(fd) };
            }
        }
        picked.len()
    }

    /// Parked connections on this shard.
    pub fn count(&self) -> usize {
        self.count.get()
    }

    /// Parked connections on all shards.
    pub fn count_all(&self) -> usize {
        self.parker.parked()
    }

    /// Returns freed memory to the system when many connections have parked since the
    /// last time.
    pub fn maybe_trim(&self) {
        if self.since_trim.get() >= TRIM_AFTER {
            self.since_trim.set(0);
            release_free_memory();
        }
    }
}
