//! Shards: the one module that knows about cores, executors and channels.
//!
//! ```text
//!   main thread: flags, listening sockets, signals
//!        │ spawns one pinned glommio executor per shard
//!        ▼
//!   shard i ── accept loop(s) ── connection tasks ──► engine::apply on its own Store
//!        │                            │ ops for keys of shard j, one Batch per peer per read
//!        │                            ▼
//!        └── request mesh ──► shard j: apply every op, fill the Batch's reply buffers
//!            reply mesh   ◄── shard j: the same Batch back, routed to the waiting connection
//! ```
//!
//! Ownership contract: a key belongs to shard [`shard_for`]`(key, shards)`; only that shard's
//! executor touches the key's item. Requests travel on one bounded mesh and replies on
//! another. A full request channel makes the sending connection wait (backpressure, nothing is
//! dropped). The reply side can never deadlock: each shard drains its reply channels in a
//! task that does nothing but hand batches to local connections, so a shard sending replies
//! waits at most for that drain, never for a peer that is itself waiting.

pub mod buffers;
pub mod ring;

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, RawFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_lite::AsyncReadExt;
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::channels::shared_channel::ConnectedReceiver;
use glommio::net::UnixStream;
use glommio::sync::Gate;
use glommio::{LocalExecutorBuilder, Placement};

use crate::config::Settings;
use crate::conn;
use crate::engine::reply::Reply;
use crate::engine::{self, KeyOp};
use crate::listen::{self, Rejection, Spare};
use crate::mesh::{MeshEnds, Peers};
use crate::park::{Parked, ShardPark};
use crate::protocol::text::Limits;
use crate::ratelog::RateLog;
use crate::startup::{self, StartError};
use crate::stats::{Counters, Stat};
use crate::store::Store;
use crate::tasks::{
    self, Evictor, ExpiryPager, Next, Registry, State, StatsUpkeep, Task, TaskHandle, TaskInfo,
};

/// The shard that owns `key`: see [`shard_of_hash`].
pub fn shard_for(key: &[u8], shards: usize) -> usize {
    if shards <= 1 {
        return 0;
    }
    shard_of_hash(crate::store::key_hash(key), shards)
}

/// The shard that owns a key of hash `h` ([`crate::store::key_hash`]): bits 16..32 of the
/// hash scaled to the shard count. The store's index uses the top bits for the bucket and
/// the low 15 for the tag, so every shard still fills all of its buckets, and the key is
/// hashed once for routing, prefetching and the lookup.
#[inline]
pub fn shard_of_hash(h: u64, shards: usize) -> usize {
    ((((h >> 16) & 0xffff) * shards as u64) >> 16) as usize
}

/// The unit of cross-shard work: every op one connection's read batch has for one peer, and,
/// on the way back, their replies. Its buffers go back and forth and are reused, so
/// forwarding allocates nothing in steady state.
#[derive(Debug, Default)]
pub struct Batch {
    /// Shard that sent the request and waits for the reply.
    pub from: usize,
    /// Shard that owns the keys and runs the ops.
    pub owner: usize,
    /// The waiting connection's inbox on the sending shard.
    pub token: u32,
    /// Encoded [`KeyOp`]s.
    pub ops: Vec<u8>,
    /// Number of ops in `ops`.
    pub n: u32,
    /// Replies of all ops, back to back; large values held pinned in the owner's store.
    pub out: Reply,
    /// End offset in `out.buf` of each op's reply.
    pub ends: Vec<u32>,
    /// Values held in `out` up to the end of each op's reply.
    pub held_ends: Vec<u32>,
    /// Held values the waiting connection has taken (while splicing).
    pub held_taken: u32,
}

impl Batch {
    /// The reply bytes of op `i`, without its held values.
    pub fn reply(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.out.buf[start..self.ends[i] as usize]
    }
}

/// Batches on each mesh channel, counted by their sender after each send and by their
/// receiver after each receive, so that a busy shard can take a peer's batch without a
/// reactor pass.
///
/// glommio notices a message on a shared channel only when the receiving executor polls its
/// reactor, and a busy shard polls it about once per turn of its connections
/// ([`Rounds`]). So a forwarded request waited for a pass of its owner, and its reply for a
/// pass of the sender. Between turns, a connection looks at its shard's counts
/// ([`Shard::take_peer_batches`]) and runs or delivers what is there.
///
/// A count above zero means the channel holds a batch: the receiver, whose thread alone
/// decrements, pops before it decrements, and a sender increments only after its push. (It
/// may read below zero for a moment when a receive overtakes the sender's increment.) So a
/// receive made because of a count finds its batch at once and never leaves a waker with
/// the reactor for a channel that stays empty.
pub struct InFlight {
    shards: usize,
    counts: Vec<PaddedCount>,
}

/// One channel's count, on its own cache line (its sender and receiver run on two cores).
#[repr(align(64))]
#[derive(Default)]
struct PaddedCount(AtomicIsize);

/// The two meshes.
#[derive(Clone, Copy)]
enum MeshKind {
    Requests = 0,
    Replies = 1,
}

impl InFlight {
    pub fn new(shards: usize) -> InFlight {
        InFlight {
            shards,
            counts: (0..2 * shards * shards)
                .map(|_| Default::default())
                .collect(),
        }
    }

    fn count(&self, mesh: MeshKind, from: usize, to: usize) -> &AtomicIsize {
        &self.counts[(mesh as usize * self.shards + to) * self.shards + from].0
    }

    fn sent(&self, mesh: MeshKind, from: usize, to: usize) {
        self.count(mesh, from, to).fetch_add(1, Ordering::Release);
    }

    fn received(&self, mesh: MeshKind, from: usize, to: usize) {
        self.count(mesh, from, to).fetch_sub(1, Ordering::Relaxed);
    }

    fn waiting(&self, mesh: MeshKind, from: usize, to: usize) -> bool {
        self.count(mesh, from, to).load(Ordering::Acquire) > 0
    }
}

pub struct Shard {
    pub id: usize,
    /// Shards keys are spread over: `settings.shards`, or 1 with `--bench-no-forward`
    /// (kept here: [`Shard::owner_of_hash`] runs twice per request).
    routed: usize,
    pub settings: Arc<Settings>,
    pub store: Rc<RefCell<Store>>,
    pub counters: Arc<Counters>,
    /// Every shard's counters, for `stats`.
    pub all_counters: Arc<Vec<Arc<Counters>>>,
    /// Open connections on all shards, for `-c`.
    pub open_conns: Arc<AtomicUsize>,
    /// Unix time the server started.
    pub started: u32,
    requests: Option<Peers<Batch>>,
    replies: Option<Peers<Batch>>,
    in_flight: Arc<InFlight>,
    /// This shard's receivers of each peer's requests and replies (`None` for itself).
    request_rx: Vec<Option<ConnectedReceiver<Batch>>>,
    reply_rx: Vec<Option<ConnectedReceiver<Batch>>>,
    /// Wakers of the tasks that receive each peer's requests and replies
    /// (`[MeshKind as usize * shards + peer]`): the context of a connection's receive.
    rx_wakers: RefCell<Vec<Option<std::task::Waker>>>,
    inboxes: RefCell<Vec<Option<LocalSender<Batch>>>>,
    free_inboxes: RefCell<Vec<u32>>,
    /// The shard's listeners and connections ([`ring`]).
    pub net: ring::NetRing,
    stopping: Cell<bool>,
    pager: TaskHandle,
    pager_info: Arc<TaskInfo>,
    evictor: TaskHandle,
    /// Every shard's engine tasks, for `stats tasks`.
    pub tasks: Registry,
    /// Spare connection buffers.
    pub buffers: buffers::BufferPool,
    /// The accepted users, when `-S` or `--auth-file` asks for authentication.
    pub auth: Option<Arc<crate::auth::Auth>>,
    /// Parked idle connections, when `--park-after-ms` is not 0.
    pub park: Option<ShardPark>,
}

/// A connection's place to receive the replies of its forwarded batches.
pub struct Inbox {
    pub token: u32,
    pub rx: LocalReceiver<Batch>,
}

impl Shard {
    pub fn shards(&self) -> usize {
        self.settings.shards
    }

    /// The shard that owns `key`.
    #[inline]
    pub fn owner(&self, key: &[u8]) -> usize {
        if self.routed <= 1 {
            return self.id;
        }
        shard_for(key, self.routed)
    }

    /// [`Shard::owner`] of a key of hash `h` ([`crate::store::key_hash`]).
    #[inline]
    pub fn owner_of_hash(&self, h: u64) -> usize {
        if self.routed <= 1 {
            return self.id;
        }
        shard_of_hash(h, self.routed)
    }

    /// Current unix time in seconds.
    pub fn now(&self) -> u32 {
        unix_now()
    }

    pub fn stopping(&self) -> bool {
        self.stopping.get()
    }

    /// Opens an inbox for a connection that may forward work.
    pub fn open_inbox(&self) -> Inbox {
        let (tx, rx) = local_channel::new_unbounded();
        let mut inboxes = self.inboxes.borrow_mut();
        let token = match self.free_inboxes.borrow_mut().pop() {
            Some(t) => {
                inboxes[t as usize] = Some(tx);
                t
            }
            None => {
                inboxes.push(Some(tx));
                (inboxes.len() - 1) as u32
            }
        };
        Inbox { token, rx }
    }

    pub fn close_inbox(&self, token: u32) {
        self.inboxes.borrow_mut()[token as usize] = None;
        self.free_inboxes.borrow_mut().push(token);
    }

    /// Parked connections on all shards.
    pub fn parked_total(&self) -> usize {
        crate::stats::sum(&self.all_counters, Stat::ParkedConnections) as usize
    }

    /// Closes the parked connections `close` picks; returns how many.
    fn close_parked(&self, close: impl FnMut(&Parked) -> bool) -> usize {
        self.net.close_parked(close, &self.buffers)
    }

    /// Sends a batch to its owner shard; waits while that channel is full.
    pub async fn forward(&self, peer: usize, batch: Batch) {
        let senders = self.requests.as_ref().expect("forwarding needs peers");
        if senders.send_to(peer, batch).await.is_err() {
            // Peers close their channels only after every shard has stopped serving.
            panic!(
                "shard {peer} closed its request channel while shard {} still serves",
                self.id
            );
        }
        self.in_flight.sent(MeshKind::Requests, self.id, peer);
    }

    /// Takes the batches peers have put on this shard's channels (see [`InFlight`]): hands
    /// replies to their connections, and runs requests and sends their replies back, here
    /// and now, as the receiving tasks would at the reactor's next pass. Connections call it
    /// between turns. Off under fault injection, whose faults live in those tasks.
    pub fn take_peer_batches(self: &Rc<Self>) {
        let n = self.shards();
        if n == 1 || self.settings.faults.active() {
            return;
        }
        for peer in 0..n {
            if peer == self.id {
                continue;
            }
            while self.in_flight.waiting(MeshKind::Replies, peer, self.id) {
                let Some(batch) = self.receive(MeshKind::Replies, peer) else {
                    break;
                };
                self.deliver(batch);
            }
            while self.in_flight.waiting(MeshKind::Requests, peer, self.id) {
                let Some(mut batch) = self.receive(MeshKind::Requests, peer) else {
                    break;
                };
                self.counters.incr(Stat::PeerBatchesBetweenTurns);
                self.execute(&mut batch);
                match replies_of(self).try_send_to(peer, batch) {
                    Ok(()) => self.in_flight.sent(MeshKind::Replies, self.id, peer),
                    Err(glommio::GlommioError::WouldBlock(glommio::ResourceType::Channel(
                        batch,
                    ))) => {
                        // The reply channel is full: a task waits for room.
                        let shard = self.clone();
                        glommio::spawn_local(async move { shard.reply(peer, batch).await })
                            .detach();
                    }
                    Err(_) => {} // closed: the server is stopping
                }
            }
        }
    }

    /// This shard's receiver of `peer`'s batches on `mesh`.
    fn rx(&self, mesh: MeshKind, peer: usize) -> &ConnectedReceiver<Batch> {
        let rx = match mesh {
            MeshKind::Requests => &self.request_rx[peer],
            MeshKind::Replies => &self.reply_rx[peer],
        };
        rx.as_ref().expect("a receiver for every peer")
    }

    /// Waits for the next batch from `peer` on `mesh` (None once the peer has closed it),
    /// and counts its receipt.
    async fn next_batch(&self, mesh: MeshKind, peer: usize) -> Option<Batch> {
        let batch = self.rx(mesh, peer).recv().await?;
        self.in_flight.received(mesh, peer, self.id);
        Some(batch)
    }

    /// Receives one batch from `peer` on `mesh` if one is there, in the context of the
    /// task that receives that channel (any waker left with the reactor is that task's).
    fn receive(&self, mesh: MeshKind, peer: usize) -> Option<Batch> {
        let wakers = self.rx_wakers.borrow();
        let waker = wakers.get(mesh as usize * self.shards() + peer)?.as_ref()?;
        let mut cx = std::task::Context::from_waker(waker);
        let fut = std::pin::pin!(self.next_batch(mesh, peer));
        match std::future::Future::poll(fut, &mut cx) {
            std::task::Poll::Ready(batch) => batch,
            std::task::Poll::Pending => None,
        }
    }

    /// Sends `peer` the replies of its batch, waiting for room, and counts the send;
    /// false once the channel is closed (the server is stopping).
    async fn reply(&self, peer: usize, batch: Batch) -> bool {
        if replies_of(self).send_to(peer, batch).await.is_err() {
            return false;
        }
        self.in_flight.sent(MeshKind::Replies, self.id, peer);
        true
    }

    /// Hands a reply batch to the connection waiting for it.
    fn deliver(&self, batch: Batch) {
        let inboxes = self.inboxes.borrow();
        if let Some(Some(tx)) = inboxes.get(batch.token as usize) {
            let _ = tx.try_send(batch);
        }
    }

    /// Records the running task as the one receiving `peer`'s batches on `mesh`.
    async fn register_receiver(&self, mesh: MeshKind, peer: usize) {
        let waker =
            futures_lite::future::poll_fn(|cx| std::task::Poll::Ready(cx.waker().clone())).await;
        let n = self.shards();
        let mut wakers = self.rx_wakers.borrow_mut();
        if wakers.is_empty() {
            wakers.resize(2 * n, None);
        }
        wakers[mesh as usize * n + peer] = Some(waker);
    }

    /// Wakes engine tasks that writes have given work: the pager when an item now expires
    /// before its next planned run, the evictor when a write had to evict inline.
    pub fn after_writes(&self) {
        let mut store = self.store.borrow_mut();
        let hint = store.expiry_hint();
        let headroom = store.take_wants_headroom();
        drop(store);
        if headroom {
            self.evictor.wake();
        }
        if hint != 0 {
            let due_ms = self.pager_info.next_wake_ms();
            let pending = match self.pager_info.state() {
                State::Sleeping => true,
                // Whole seconds: an item due in the same second as the plan changes nothing.
                State::Snoozing => (u64::from(hint) + 1) * 1000 <= due_ms,
                State::Running | State::Ready => false,
            };
            if pending {
                self.pager.wake();
            }
        }
    }

    /// Fault injection: the owner of the configured key panics when an op for it runs,
    /// so tests can check that a dead shard ends the process.
    #[inline]
    pub fn inject_panic(&self, op: &KeyOp<'_>) {
        if !cfg!(feature = "fault-injection") {
            return;
        }
        if let Some(k) = &self.settings.faults.panic_key {
            let mut decoded = None;
            let key = op.key(&mut decoded);
            if key == Some(k.as_slice()) {
                panic!("fault injection: shard {} asked for key {key:?}", self.id);
            }
        }
    }

    /// What the parsers need to know of the settings.
    pub fn limits(&self) -> Limits {
        Limits {
            item_size_max: self.settings.item_size_max,
            use_cas: self.settings.use_cas,
        }
    }

    /// Runs a batch forwarded by a peer against the local store.
    fn execute(&self, batch: &mut Batch) {
        // The ops were written on the sender's core: their lines load together, not one
        // miss per op as the walk below reaches each.
        crate::store::prefetch_slice(&batch.ops);
        self.counters.incr(Stat::PeerBatches);
        let now = self.now();
        if batch.n > 1 {
            // As a connection does for its window: the lookups start loading first.
            let store = self.store.borrow();
            let mut prefetch = store.prefetcher();
            let mut pos = 0;
            for _ in 0..batch.n {
                let (key, used) = engine::encoded_key(&batch.ops[pos..]);
                match key {
                    Some((_, Some(h))) => prefetch.hashed(h),
                    Some((key, None)) => {
                        prefetch.key(key);
                    }
                    None => {}
                }
                pos += used;
            }
        }
        let mut store = self.store.borrow_mut();
        batch.out.clear();
        // As the asking connection's own replies (`conn::Conn::process`), except that a
        // large value is never copied: the asking shard's budget for copies is not known
        // here, and it counts a forwarded get as one value under the pin threshold.
        batch
            .out
            .set_over_budget(self.buffers.replies_over_budget());
        batch.out.no_copies = true;
        batch.ends.clear();
        batch.held_ends.clear();
        batch.held_taken = 0;
        let mut pos = 0;
        let limits = self.limits();
        for _ in 0..batch.n {
            pos += engine::apply_encoded(
                &mut store,
                &self.counters,
                &batch.ops[pos..],
                &limits,
                now,
                &mut batch.out,
                |op| self.inject_panic(op),
            );
            batch.ends.push(batch.out.buf.len() as u32);
            batch.held_ends.push(batch.out.held.len() as u32);
        }
        drop(store);
        self.after_writes();
    }

    /// Stop: no new connections; open ones finish what they have read, then close.
    fn stop(&self, listeners: &[RawFd]) {
        self.stopping.set(true);
        self.net.stop_accepting();
        for &fd in listeners {
            // SAFETY: shutting down a socket this shard owns; ends the pending accept.
            unsafe { libc::shutdown(fd, libc::SHUT_RD) };
        }
        // Parked connections have nothing read and nothing to finish: closed first.
        let n = self.close_parked(|_| true);
        if n > 0 {
            log::debug!("shard {}: closed {n} parked connections", self.id);
        }
        // The others' pending reads return end-of-stream.
        self.net.shutdown_all(libc::SHUT_RD);
    }

    /// Shutdown timeout: shuts down both directions of every connection still open, so
    /// their pending reads and writes fail and their tasks end, however little their
    /// clients read.
    fn close_all(&self) {
        let n = self.net.shutdown_all(libc::SHUT_RDWR);
        if n > 0 {
            log::info!(
                "shard {}: closed {n} connections still open at the shutdown timeout",
                self.id
            );
        }
    }
}

pub fn unix_now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0)
}

/// Checks, before any executor starts, what io_uring needs, so a failure is one clear
/// sentence rather than a panic inside a shard.
fn preflight() -> Result<(), String> {
    if let Ok(v) = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled") {
        match v.trim() {
            "2" => return Err("io_uring is disabled on this machine (kernel.io_uring_disabled = 2): enable it with `sysctl kernel.io_uring_disabled=0`".into()),
            "1" => log::debug!("kernel.io_uring_disabled = 1: io_uring is limited to privileged processes or the io_uring group"),
            _ => {}
        }
    }
    // SAFETY: io_uring_setup with a zeroed parameter block; the ring fd is closed at once.
    unsafe {
        let mut params = [0u8; 120];
        let fd = libc::syscall(libc::SYS_io_uring_setup, 2u32, params.as_mut_ptr());
        if fd < 0 {
            let err = io::Error::last_os_error();
            return Err(match err.raw_os_error() {
                Some(libc::ENOSYS) => "io_uring is not available: this kernel does not support it (Linux 5.8 or later is needed)".to_string(),
                Some(libc::EPERM) | Some(libc::EACCES) => format!("io_uring is not permitted here ({err}): a seccomp profile (docker, systemd) or kernel.io_uring_disabled blocks it; allow io_uring_setup/io_uring_enter or run outside the sandbox"),
                Some(libc::ENOMEM) => format!("io_uring could not be set up ({err}): locked memory is too low; raise it with `ulimit -l` (or LimitMEMLOCK= in a systemd unit)"),
                _ => format!("io_uring could not be set up: {err}"),
            });
        }
        libc::close(fd as i32);
    }
    Ok(())
}

/// Runs the server until SIGINT or SIGTERM (SIGHUP re-reads the password file). Returns the
/// sentence and exit status of a refusal to start, or of a shard that failed.
pub fn run(mut settings: Settings) -> Result<(), StartError> {
    for w in &settings.warnings {
        log::warn!("{w}");
    }
    startup::check_cpus(&settings)?;
    preflight().map_err(StartError::usage)?;
    crate::memlock::plan_locked_memory(&mut settings).map_err(StartError::usage)?;
    startup::check_memlock_floor()?;
    let auth = start_auth(&settings)?;
    let user = settings
        .user
        .as_deref()
        .map(startup::lookup_user)
        .transpose()?;
    startup::raise_descriptor_limit(&settings)?;
    let settings = Arc::new(settings);
    let shards = settings.shards;

    // Bind every shard's listeners here, so that a port of 0 resolves once and every shard
    // shares it, and so a bind failure is reported before anything starts.
    let (addrs, listeners) = listen::bind_all(&settings)?;
    startup::drop_privileges(user.as_ref())?;

    // Block the stop signals and SIGHUP in every thread; the main thread waits for them.
    // SAFETY: signal-mask manipulation with a locally built set.
    let sigset = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGHUP);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };

    let started = unix_now();
    let all_counters: Arc<Vec<Arc<Counters>>> =
        Arc::new((0..shards).map(|_| Arc::new(Counters::default())).collect());
    let open_conns = Arc::new(AtomicUsize::new(0));
    let task_registry: Registry =
        Arc::new((0..shards).map(|_| std::sync::OnceLock::new()).collect());
    let started_meshes = Arc::new(std::sync::Barrier::new(shards));
    let mut meshes = if shards > 1 {
        let requests = crate::mesh::full_mesh::<Batch>(shards, settings.channel_size);
        let replies = crate::mesh::full_mesh::<Batch>(shards, settings.channel_size);
        requests
            .into_iter()
            .zip(replies)
            .map(|(req, rep)| Some((req, rep)))
            .collect()
    } else {
        vec![None]
    };
    let in_flight = Arc::new(InFlight::new(shards));
    let mut stop_writers = Vec::new();
    let mut handles = Vec::new();
    let (exit_tx, exit_rx) = std::sync::mpsc::channel::<usize>();
    for (id, fds) in listeners.into_iter().enumerate() {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| format!("cannot create a control socket: {e}"))?;
        theirs.set_nonblocking(true).map_err(|e| e.to_string())?;
        stop_writers.push(ours);
        let stop_fd = std::os::fd::IntoRawFd::into_raw_fd(theirs);
        let cpu = settings.cpus[id];
        let ctx = ShardStart {
            id,
            settings: settings.clone(),
            counters: all_counters.clone(),
            open_conns: open_conns.clone(),
            tasks: task_registry.clone(),
            auth: auth.clone(),
            started,
            listeners: fds,
            addrs: addrs.clone(),
            cpu,
            stop_fd,
            exit: ExitNotice {
                id,
                tx: exit_tx.clone(),
            },
            meshes: meshes[id].take(),
            started_meshes: started_meshes.clone(),
            in_flight: in_flight.clone(),
        };
        let handle = LocalExecutorBuilder::new(Placement::Fixed(cpu))
            .name(&format!("shard-{id}"))
            .io_memory(settings.io_memory)
            .spawn(move || ctx.serve())
            .map_err(|e| format!("cannot start shard {id} on CPU {cpu}: {e}"))?;
        handles.push(Some(handle));
    }

    let mut stopped = false;
    // Past this, shards still running are left behind: the process exits.
    let mut give_up: Option<std::time::Instant> = None;
    loop {
        let timeout = libc::timespec {
            tv_sec: 0,
            tv_nsec: 200_000_000,
        };
        // SAFETY: waits for one of the blocked signals, with a timeout.
        let sig = unsafe { libc::sigtimedwait(&sigset, std::ptr::null_mut(), &timeout) };
        if sig == libc::SIGHUP {
            // memcached re-reads its password file on SIGHUP; a bad file keeps the old users.
            match &auth {
                Some(a) => match a.reload() {
                    Ok(n) => log::info!("SIGHUP: {n} users from {} (re-read)", a.path().display()),
                    Err(e) => {
                        log::warn!("SIGHUP: {e}; keeping the {} users read before", a.users())
                    }
                },
                None => log::info!("SIGHUP: no -Y/--auth-file to re-read; ignored"),
            }
        } else if sig > 0 {
            if stopped {
                log::info!("signal {sig} again: closing the connections still open");
            } else {
                log::info!(
                    "signal {sig}: stopping; finishing requests already read (at most {:?})",
                    settings.shutdown_timeout
                );
                stopped = true;
                give_up = Some(std::time::Instant::now() + settings.shutdown_timeout + STOP_GRACE);
            }
            for w in &mut stop_writers {
                use std::io::Write;
                let _ = w.write_all(b"s");
            }
        }
        // A shard that ends on its own (before a stop) has failed: end the process rather
        // than serve with a missing shard.
        while let Ok(id) = exit_rx.try_recv() {
            let result = handles[id]
                .take()
                .expect("one exit notice per shard")
                .join();
            if !stopped {
                return Err(match result {
                    Ok(()) => format!("shard {id} stopped unexpectedly"),
                    Err(e) => format!("shard {id} failed: {e}"),
                }
                .into());
            }
        }
        if handles.iter().all(Option::is_none) {
            return Ok(());
        }
        if give_up.is_some_and(|t| std::time::Instant::now() > t) {
            let left = handles.iter().filter(|h| h.is_some()).count();
            log::warn!(
                "{left} shards still running {STOP_GRACE:?} after --shutdown-timeout closed their connections; exiting"
            );
            return Ok(());
        }
    }
}

/// How long shards may take to end after the shutdown timeout has closed their
/// connections, before the process exits without them.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Reads the password file (`-Y`), logs who must authenticate, and warns when the server is
/// reachable from the network without authentication.
fn start_auth(settings: &Settings) -> Result<Option<Arc<crate::auth::Auth>>, String> {
    let exposed = settings.addrs.iter().any(|a| !a.ip().is_loopback());
    let Some(path) = &settings.auth_file else {
        if exposed {
            log::warn!("no authentication (-Y/--auth-file, -S) while listening beyond loopback: any client that reaches the port can read, write and flush");
        }
        return Ok(None);
    };
    let auth = crate::auth::Auth::load(path)?;
    let who = if settings.sasl {
        "binary clients authenticate with SASL PLAIN"
    } else {
        "text clients authenticate"
    };
    log::info!(
        "{who}: {} users from {} (SIGHUP re-reads it)",
        auth.users(),
        path.display()
    );
    Ok(Some(Arc::new(auth)))
}

/// Tells the main thread that a shard's executor ended, however it ended (also on a panic).
struct ExitNotice {
    id: usize,
    tx: std::sync::mpsc::Sender<usize>,
}

impl Drop for ExitNotice {
    fn drop(&mut self) {
        let _ = self.tx.send(self.id);
    }
}

struct ShardStart {
    id: usize,
    settings: Arc<Settings>,
    counters: Arc<Vec<Arc<Counters>>>,
    open_conns: Arc<AtomicUsize>,
    tasks: Registry,
    auth: Option<Arc<crate::auth::Auth>>,
    started: u32,
    listeners: Vec<RawFd>,
    addrs: Vec<SocketAddr>,
    cpu: usize,
    stop_fd: RawFd,
    exit: ExitNotice,
    /// This shard's ends of the request and reply meshes (none with one shard).
    meshes: Option<(MeshEnds<Batch>, MeshEnds<Batch>)>,
    /// Every shard waits here to connect the meshes ([`crate::mesh::connect`]).
    started_meshes: Arc<std::sync::Barrier>,
    in_flight: Arc<InFlight>,
}

impl ShardStart {
    async fn serve(self) {
        // Lives as long as this function runs, and reports its end to the main thread.
        let _exit = self.exit;
        let shards = self.settings.shards;
        let (requests, request_rx, replies, reply_rx) = match self.meshes {
            None => (None, none_for(shards), None, none_for(shards)),
            Some((req, rep)) => {
                let mut both = crate::mesh::connect(vec![req, rep], &self.started_meshes).await;
                let (replies, reply_rx) = both.pop().expect("the reply mesh");
                let (requests, request_rx) = both.pop().expect("the request mesh");
                (Some(requests), request_rx, Some(replies), reply_rx)
            }
        };
        let counters = self.counters[self.id].clone();
        let shards = self.settings.shards as u64;
        let builder = Store::builder()
            .mem_limit(self.settings.shard_mem())
            .capacity(self.settings.index_items)
            .segment_size(self.settings.segment_size)
            .item_size_max(self.settings.item_size_max)
            .evict(self.settings.evict)
            .use_cas(self.settings.use_cas)
            .cas_sequence(self.id as u64, shards)
            .started(self.started)
            .counters(counters.clone());
        let store = Rc::new(RefCell::new(builder.build()));
        let engine_tasks: Vec<Box<dyn Task>> = vec![
            Box::new(ExpiryPager::new(store.clone())),
            Box::new(Evictor::new(store.clone())),
            Box::new(StatsUpkeep::new(self.counters[self.id].clone())),
        ];
        let infos: Vec<Arc<TaskInfo>> = engine_tasks
            .iter()
            .map(|t| Arc::new(TaskInfo::new(t.as_ref())))
            .collect();
        let handles: Vec<TaskHandle> = engine_tasks.iter().map(|_| TaskHandle::default()).collect();
        let _ = self.tasks[self.id].set(infos.clone());
        let net = match ring::NetRing::new(
            self.listeners.clone(),
            self.settings.net_ring_entries,
            ring::buffer_count(&self.settings),
            ring::Accounts {
                counters: counters.clone(),
                open_conns: self.open_conns.clone(),
                conn_limit: self.settings.conn_limit,
                fresh: conn::fresh_state(&self.settings, self.auth.is_none()),
                idle_timeout_ms: self.settings.idle_timeout.map(|d| d.as_millis() as u64),
            },
        ) {
            Ok(n) => n,
            Err(e) => {
                log::error!("shard {}: cannot set up its network ring: {e}", self.id);
                return;
            }
        };
        let shard = Rc::new(Shard {
            id: self.id,
            routed: if self.settings.no_forward {
                1
            } else {
                self.settings.shards
            },
            settings: self.settings.clone(),
            store,
            pager: handles[0].clone(),
            pager_info: infos[0].clone(),
            evictor: handles[1].clone(),
            tasks: self.tasks.clone(),
            buffers: buffers::BufferPool::new(self.settings.shard_mem()),
            auth: self.auth.clone(),
            park: self.settings.park_after.map(|_| ShardPark::default()),
            net,
            counters,
            all_counters: self.counters.clone(),
            open_conns: self.open_conns,
            started: self.started,
            requests,
            replies,
            in_flight: self.in_flight.clone(),
            request_rx,
            reply_rx,
            rx_wakers: RefCell::new(Vec::new()),
            inboxes: RefCell::new(Vec::new()),
            free_inboxes: RefCell::new(Vec::new()),
            stopping: Cell::new(false),
        });

        // Engine tasks, each in the low-priority queue its task names.
        let queues = engine_queues();
        let mut background = Vec::new();
        for ((task, info), handle) in engine_tasks.into_iter().zip(infos).zip(handles) {
            let tq = queues[tasks::Queue::ALL
                .iter()
                .position(|q| *q == task.queue())
                .expect("known queue")];
            background.push(run_engine_task(tq, task, info, handle));
        }

        // Peer work: run forwarded batches, hand replies to waiting connections.
        let mut peer_tasks = Vec::new();
        for peer in (0..self.settings.shards).filter(|&p| p != self.id) {
            let shard = shard.clone();
            peer_tasks.push(glommio::spawn_local(async move {
                let faults = &shard.settings.faults;
                shard.register_receiver(MeshKind::Requests, peer).await;
                while let Some(mut batch) = shard.next_batch(MeshKind::Requests, peer).await {
                    if faults.slow_shard == Some(shard.id) {
                        glommio::timer::sleep(faults.delay).await;
                    }
                    shard.execute(&mut batch);
                    if faults.reorder {
                        // Fault injection: if another batch arrives soon, it is answered
                        // first.
                        let next = futures_lite::future::or(
                            shard.next_batch(MeshKind::Requests, peer),
                            async {
                                glommio::timer::sleep(Duration::from_millis(2)).await;
                                None
                            },
                        )
                        .await;
                        if let Some(mut second) = next {
                            shard.execute(&mut second);
                            if !shard.reply(peer, second).await {
                                break;
                            }
                        }
                    }
                    if !shard.reply(peer, batch).await {
                        break;
                    }
                }
            }));
        }
        let mut drain_tasks = Vec::new();
        for peer in (0..self.settings.shards).filter(|&p| p != self.id) {
            let shard = shard.clone();
            drain_tasks.push(glommio::spawn_local(async move {
                shard.register_receiver(MeshKind::Replies, peer).await;
                while let Some(batch) = shard.next_batch(MeshKind::Replies, peer).await {
                    shard.deliver(batch);
                }
            }));
        }

        // Stop watcher: one byte (or end of stream) on the control socket.
        let listener_fds = self.listeners.clone();
        let stopped = Rc::new(glommio::sync::Semaphore::new(0));
        let watcher = {
            let shard = shard.clone();
            let stopped = stopped.clone();
            // SAFETY: the control socket's fd was handed to this shard alone.
            let mut ctl = unsafe { UnixStream::from_raw_fd(self.stop_fd) };
            glommio::spawn_local(async move {
                let mut b = [0u8; 1];
                let _ = ctl.read(&mut b).await;
                shard.stop(&listener_fds);
                stopped.signal(1);
                // What has not finished by the timeout, or by a second signal, is closed.
                let again = async {
                    let _ = ctl.read(&mut b).await;
                };
                let timeout = glommio::timer::sleep(shard.settings.shutdown_timeout);
                futures_lite::future::or(again, timeout).await;
                shard.close_all();
            })
        };

        let gate = Rc::new(Gate::new());
        let mut housekeeping = Vec::new();
        let tq = glommio::executor().create_task_queue(
            glommio::Shares::Static(50),
            glommio::Latency::NotImportant,
            "conn-sweep",
        );
        housekeeping.push(
            glommio::spawn_local_into(conn_sweep(shard.clone()), tq)
                .expect("conn-sweep queue exists"),
        );
        // Opened before the shard says it listens: its descriptors are all open then.
        let spares = self.listeners.iter().map(|_| Spare::new()).collect();
        for addr in &self.addrs {
            log::info!(
                "shard {} on cpu {} listening on {}",
                self.id,
                self.cpu,
                addr
            );
        }
        let drained = Rc::new(Cell::new(false));
        housekeeping.push(glommio::spawn_local(wake_on_eventfd(shard.clone())));
        let driver =
            glommio::spawn_local(drive(shard.clone(), gate.clone(), spares, drained.clone()));
        let _ = stopped.acquire(1).await;
        let _ = gate.close().await;
        log::debug!("shard {}: connections closed", self.id);
        drained.set(true);
        shard.net.wake();
        driver.await;
        if let Some(r) = &shard.requests {
            r.close();
        }
        for t in peer_tasks {
            t.await;
        }
        if let Some(r) = &shard.replies {
            r.close();
        }
        for t in drain_tasks {
            t.await;
        }
        drop(watcher);
        drop(housekeeping);
        drop(background);
    }
}

/// Drives the shard's network ring (see [`ring`]): a pass submits what connections
/// queued and reaps what completed; connections with bytes and no task get one; peers'
/// batches waiting on the mesh are taken. While passes find work, the driver lets the
/// connections it woke run before the next pass (their replies then go in one submission);
/// with none, it sleeps until the ring's eventfd or a connection wakes it. It ends once
/// the shard has stopped and every connection has closed.
async fn drive(shard: Rc<Shard>, gate: Rc<Gate>, mut spares: Vec<Spare>, drained: Rc<Cell<bool>>) {
    let net = &shard.net;
    net.start_accepting();
    let mut ready = Vec::new();
    let failures = RateLog::new(5);
    loop {
        let n = net.pass(&shard.buffers);
        net.take_ready(&mut ready);
        for r in ready.drain(..) {
            let id = r.id;
            let task_shard = shard.clone();
            match gate.spawn(async move { conn::serve(&task_shard, r).await }) {
                Ok(task) => {
                    task.detach();
                }
                // The gate is closing (stop): the connection closes unserved.
                Err(_) => net.close(id, &shard.buffers),
            }
        }
        for f in net.take_accept_failed() {
            accept_failed(&shard, &failures, &mut spares, f);
        }
        shard.take_peer_batches();
        if drained.get() && net.open() == 0 {
            // The last closes were queued after this pass.
            net.pass(&shard.buffers);
            return;
        }
        if n > 0 {
            futures_lite::future::yield_now().await;
            continue;
        }
        if !net.prepare_sleep() {
            futures_lite::future::yield_now().await;
            continue;
        }
        futures_lite::future::poll_fn(|cx| net.poll_sleep(cx)).await;
        net.woke();
    }
}

/// Reads the ring's eventfd through glommio and wakes the driver: the one place a
/// sleeping shard learns of network completions.
async fn wake_on_eventfd(shard: Rc<Shard>) {
    // SAFETY: a duplicate of the ring's eventfd, owned by the file from here on.
    let fd = unsafe { libc::fcntl(shard.net.eventfd(), libc::F_DUPFD_CLOEXEC, 0) };
    if fd < 0 {
        log::error!(
            "shard {}: cannot duplicate the ring's eventfd: {}",
            shard.id,
            io::Error::last_os_error()
        );
        return;
    }
    // SAFETY: the descriptor was just duplicated for this file alone.
    let file = unsafe { glommio::io::BufferedFile::from_raw_fd(fd) };
    loop {
        match file.read_at(0, 8).await {
            Ok(_) => shard.net.wake(),
            Err(e) => {
                log::error!("shard {}: reading the ring's eventfd: {e}", shard.id);
                return;
            }
        }
    }
}

/// A listener's multishot accept ended with an error: out of descriptors, the client
/// waiting is told so with the spare descriptor; the accept is armed again, after a short
/// back-off unless a client was told (an accept that fails at once must not spin).
fn accept_failed(
    shard: &Rc<Shard>,
    failures: &RateLog,
    spares: &mut [Spare],
    f: ring::AcceptFailed,
) {
    if shard.stopping() {
        return;
    }
    let done = spares[f.listener].reject_one(f.fd, &f.error);
    if done == Rejection::Told {
        shard.counters.incr(Stat::RejectedConnections);
    }
    // Out of descriptors, an accept fails at once whether or not a client waits: only a
    // client turned away, or one that could not be, is news.
    let what = match done {
        Rejection::Told => Some("; the client was told ERROR Too many open connections"),
        Rejection::Failed => Some(""),
        Rejection::NonePending => None,
    };
    if let Some(what) = what {
        if let Some(note) = failures.admit() {
            log::warn!("shard {}: accept failed: {}{what}{note}", shard.id, f.error);
        }
    }
    if done == Rejection::Told {
        shard.net.arm_accept(f.listener);
    } else {
        let shard = shard.clone();
        glommio::spawn_local(async move {
            glommio::timer::sleep(Duration::from_millis(10)).await;
            shard.net.arm_accept(f.listener);
        })
        .detach();
    }
}

/// glommio task queues for the engine's queues, with shares far below the foreground's
/// (1000): background work takes what the foreground leaves.
fn engine_queues() -> Vec<glommio::TaskQueueHandle> {
    tasks::Queue::ALL
        .iter()
        .map(|q| {
            glommio::executor().create_task_queue(
                glommio::Shares::Static(50),
                glommio::Latency::NotImportant,
                q.name(),
            )
        })
        .collect()
}

/// Runs an engine task: one bounded step at a time, then as the task asks: again after the
/// foreground has run, after a snooze (or a wake), or when woken.
fn run_engine_task(
    tq: glommio::TaskQueueHandle,
    mut task: Box<dyn Task>,
    info: Arc<TaskInfo>,
    handle: TaskHandle,
) -> glommio::Task<()> {
    glommio::spawn_local_into(
        async move {
            loop {
                info.set_state(State::Running);
                let started = std::time::Instant::now();
                let next = task.run(unix_now());
                info.record_run(started.elapsed());
                match next {
                    Next::Again => {
                        info.set_state(State::Ready);
                        info.set_next_wake_ms(0);
                        glommio::executor().yield_task_queue_now().await;
                    }
                    Next::Snooze(d) => {
                        info.set_state(State::Snoozing);
                        info.set_next_wake_ms(unix_now_ms() + d.as_millis() as u64);
                        futures_lite::future::or(glommio::timer::sleep(d), handle.woken()).await;
                    }
                    Next::Sleep => {
                        info.set_state(State::Sleeping);
                        info.set_next_wake_ms(0);
                        handle.woken().await;
                    }
                }
            }
        },
        tq,
    )
    .expect("engine task queue exists")
}

pub fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// No receivers: a lone shard has no peers.
fn none_for(shards: usize) -> Vec<Option<ConnectedReceiver<Batch>>> {
    (0..shards).map(|_| None).collect()
}

fn replies_of(shard: &Shard) -> &Peers<Batch> {
    shard.replies.as_ref().expect("peers")
}

/// The shard's housekeeping for connections, in a low-priority queue. With parking on,
/// every half `--park-after-ms` it tells connections idle long enough to park
/// ([`crate::park::IdleWatch`]), and once a second closes parked connections whose
/// `idle_timeout` has passed (counted in `idle_kicks`) and returns memory freed by parking
/// to the system. Always, once a second, it frees the spare connection buffers that went
/// unused ([`crate::conn::BufferPool::trim`]).
async fn conn_sweep(shard: Rc<Shard>) {
    let park = shard.park.as_ref();
    let period = match shard.settings.park_after {
        Some(after) => (after / 2).clamp(Duration::from_millis(5), Duration::from_secs(1)),
        None => Duration::from_secs(1),
    };
    let mut last = std::time::Instant::now();
    loop {
        glommio::timer::sleep(period).await;
        if shard.stopping() {
            return;
        }
        if let Some(park) = park {
            park.watch.tick();
        }
        if last.elapsed() < Duration::from_secs(1) {
            continue;
        }
        last = std::time::Instant::now();
        if shard.settings.idle_timeout.is_some() {
            let now = unix_now_ms();
            let kicked = shard.close_parked(|p| p.kick_at_ms != 0 && p.kick_at_ms <= now);
            if kicked > 0 {
                shard.counters.add(Stat::IdleKicks, kicked as u64);
            }
        }
        // 1 MiB or more of buffers freed is worth giving back to the system at once.
        if shard.buffers.trim() >= 64 {
            crate::park::release_free_memory();
        } else if let Some(park) = park {
            park.maybe_trim();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{shard_for, shard_of_hash, InFlight, MeshKind};

    /// Each channel has its own count; a receive that overtakes its sender's increment
    /// reads as nothing waiting, never as a batch.
    #[test]
    fn in_flight_counts_each_channel_apart() {
        let f = InFlight::new(3);
        f.sent(MeshKind::Requests, 0, 2);
        f.sent(MeshKind::Requests, 0, 2);
        assert!(f.waiting(MeshKind::Requests, 0, 2));
        for (mesh, from, to) in [
            (MeshKind::Replies, 0, 2),
            (MeshKind::Requests, 2, 0),
            (MeshKind::Requests, 1, 2),
            (MeshKind::Requests, 0, 1),
        ] {
            assert!(!f.waiting(mesh, from, to));
        }
        f.received(MeshKind::Requests, 0, 2);
        assert!(f.waiting(MeshKind::Requests, 0, 2));
        f.received(MeshKind::Requests, 0, 2);
        assert!(!f.waiting(MeshKind::Requests, 0, 2));
        // The receiver popped before the sender counted its send.
        f.received(MeshKind::Replies, 1, 0);
        assert!(!f.waiting(MeshKind::Replies, 1, 0));
        f.sent(MeshKind::Replies, 1, 0);
        assert!(!f.waiting(MeshKind::Replies, 1, 0));
    }

    /// The allowance runs out, a wait for the next pass ends (its wake goes through the
    /// reactor), and the pass gives the allowance back. Several waiters share one pass.
    #[test]
    fn shard_for_is_pure_in_range_and_spreads_keys() {
        assert_eq!(shard_for(b"anything", 1), 0);
        for shards in [2usize, 3, 4, 7, 16] {
            let mut counts = vec![0usize; shards];
            for i in 0..20_000 {
                let key = format!("key:{i}");
                let s = shard_for(key.as_bytes(), shards);
                assert!(s < shards);
                assert_eq!(s, shard_for(key.as_bytes(), shards), "same key, same shard");
                counts[s] += 1;
            }
            let even = 20_000 / shards;
            for c in counts {
                assert!(
                    c > even * 9 / 10 && c < even * 11 / 10,
                    "{shards} shards: {c} vs {even}"
                );
            }
        }
    }

    #[test]
    fn a_shards_keys_spread_over_index_buckets_and_tags() {
        // The index takes a key's bucket from the top bits of its hash and its tag from the
        // low ones: the keys of one shard must not all share those bits.
        for shards in [2, 3, 4, 8] {
            let (mut n, mut top, mut low) = (0usize, 0usize, 0usize);
            for i in 0..40_000 {
                let h = crate::store::key_hash(format!("key:{i}").as_bytes());
                if shard_of_hash(h, shards) == 0 {
                    n += 1;
                    top += (h >> 63) as usize;
                    low += (h & 1) as usize;
                }
            }
            for ones in [top, low] {
                assert!(
                    ones > n * 45 / 100 && ones < n * 55 / 100,
                    "{shards} shards: {ones} of {n}"
                );
            }
        }
    }

    #[test]
    fn shard_for_is_fixed_across_runs() {
        // The seed is fixed: these never change (a change would move every stored key).
        let got: Vec<usize> = ["a", "b", "foo", "key:1", ""]
            .iter()
            .map(|k| shard_for(k.as_bytes(), 1000))
            .collect();
        let again: Vec<usize> = ["a", "b", "foo", "key:1", ""]
            .iter()
            .map(|k| shard_for(k.as_bytes(), 1000))
            .collect();
        assert_eq!(got, again);
        assert_eq!(got, FIXED.to_vec());
    }

    /// `shard_for(k, 1000)` for "a", "b", "foo", "key:1", "" as first computed (since
    /// routing takes bits 16..32 of the store's key hash).
    const FIXED: [usize; 5] = [379, 223, 62, 959, 979];
}
