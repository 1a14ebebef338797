//! Shards: a pinned executor's context (its store, its network ring, its ends of the
//! meshes) and the routing of keys between shards.
//!
//! ```text
//!   crate::server: flags, listening sockets, signals
//!        │ spawns one pinned glommio executor per shard (start.rs)
//!        ▼
//!   shard i ── ring (ring/, driver.rs) ── connections (conns.rs) ──► engine::apply on its Store
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

pub(crate) mod awake;
pub mod buffers;
mod conns;
mod driver;
mod handoff;
mod in_flight;
pub mod out;
pub mod provided;
pub mod ring;
mod start;

pub(crate) use handoff::CAPACITY as HANDOFF_CAPACITY;
pub use in_flight::InFlight;
pub(crate) use start::{ExitNotice, ShardStart};

use std::cell::{Cell, RefCell};
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::channels::shared_channel::ConnectedReceiver;

use crate::config::Settings;
use crate::engine::reply::Reply;
use crate::engine::{self, KeyOp};
use crate::mesh::Peers;
use crate::park::{Parked, ShardPark};
use crate::protocol::Limits;
use crate::stats::{Counters, Stat};
use crate::store::Store;
use crate::tasks::{Registry, State, TaskHandle, TaskInfo};

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
    /// The waiting connection's socket, for the `cfd=` of `watch` lines.
    pub fd: i32,
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

/// What a driver out of work polls for ([`Shard::idle_poll_for`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum PollFor {
    /// Replies a peer owes: they are due.
    Replies,
    /// A peer's next batch, after one came: it may or may not come soon.
    Peers,
}

/// The two meshes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MeshKind {
    Requests = 0,
    Replies = 1,
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
    /// The addresses served, with the ports really bound (`-p 0`), for `stats conns`.
    pub listen_addrs: Vec<std::net::SocketAddr>,
    requests: Option<Peers<Batch>>,
    replies: Option<Peers<Batch>>,
    in_flight: Arc<InFlight>,
    /// Request batches sent to peers whose replies have not come back.
    awaiting_replies: Cell<usize>,
    /// A peer's batch came since the driver last asked ([`Shard::idle_poll_for`]).
    peer_traffic: Cell<bool>,
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
    /// Unix seconds, set by each pass of the ring's driver ([`Shard::now`]).
    clock: Cell<u32>,
    stopping: Cell<bool>,
    /// `--data-dir`: the shard's journal's flusher and the writers it pauses.
    pub persist: Option<Rc<crate::persist::flusher::ShardPersist>>,
    pager: TaskHandle,
    pager_info: Arc<TaskInfo>,
    evictor: TaskHandle,
    /// Whether this shard's background tasks have work ([`crate::tasks::Backlog`]).
    background: crate::tasks::Backlog,
    /// Every shard's engine tasks, for `stats tasks`.
    pub tasks: Registry,
    /// What admin commands change live (`cache_memlimit`, the crawler), and every shard's
    /// desk for key dumps.
    pub admin: Arc<crate::admin::Admin>,
    /// Spare connection buffers.
    pub buffers: buffers::BufferPool,
    /// The accepted users, when `-S` or `--auth-file` asks for authentication.
    pub auth: Option<Arc<crate::auth::Auth>>,
    /// Parked idle connections, when `--park-after-ms` is not 0.
    pub park: Option<ShardPark>,
    /// Request timing for `--metrics`' latency histograms (none without `--metrics`).
    pub latency: Option<crate::latency::PassClock>,
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

    /// [`Shard::owner`], with the key's hash when routing computed it (keys are hashed to
    /// route them only when there are shards to route to): a forwarded op carries it.
    #[inline]
    pub fn owner_hashed(&self, key: &[u8]) -> (usize, Option<u64>) {
        if self.routed <= 1 {
            return (self.id, None);
        }
        let h = crate::store::key_hash(key);
        (shard_of_hash(h, self.routed), Some(h))
    }

    /// [`Shard::owner`] of a key of hash `h` ([`crate::store::key_hash`]).
    #[inline]
    pub fn owner_of_hash(&self, h: u64) -> usize {
        if self.routed <= 1 {
            return self.id;
        }
        shard_of_hash(h, self.routed)
    }

    /// Unix time in seconds as of the driver's last pass (every request a connection
    /// handles comes after one): the clock is read once per pass, not per request.
    pub fn now(&self) -> u32 {
        self.clock.get()
    }

    pub fn stopping(&self) -> bool {
        self.stopping.get()
    }

    /// Records in the shard's journal not yet taken by its flusher (persistence on): a pass
    /// or a peer's batch that made it grow waits while the journal is over its bound.
    pub fn journal_len(&self) -> u64 {
        self.store.borrow().journal().map_or(0, |j| j.records)
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
        self.note_sent(MeshKind::Requests, peer);
    }

    /// Counts a batch sent to `peer`, and wakes it if it waits in its ring.
    fn note_sent(&self, mesh: MeshKind, peer: usize) {
        if mesh == MeshKind::Requests {
            self.awaiting_replies.set(self.awaiting_replies.get() + 1);
        }
        if let Some(ring) = self.in_flight.sent(mesh, self.id, peer) {
            self.net.post_to(ring);
        }
    }

    /// Whether the driver may wait inside its ring rather than in glommio's reactor: not
    /// under fault injection between shards, whose batches only the receiving tasks take.
    fn may_wait_in_ring(&self) -> bool {
        self.shards() == 1 || !self.settings.faults.active()
    }

    /// Whether a background task has work now ([`crate::tasks::Backlog`]).
    fn background_ready(&self) -> bool {
        self.background.any()
    }

    /// The driver is about to wait in its ring: false if a peer's batch is already there.
    fn begin_ring_wait(&self) -> bool {
        self.in_flight.begin_wait(self.id)
    }

    /// Whether the driver, out of work, should poll a while before it sleeps
    /// (`--idle-poll-us`), and for what: a peer owes this shard replies, or sent it a batch
    /// since the last time it asked. Either peer would otherwise pay a wake-up of this
    /// shard for its next batch: on a virtual machine that halts idle CPUs, an interrupt
    /// into a halted CPU, which costs more than the poll (bench/RESULTS.md has the figures).
    fn idle_poll_for(&self) -> Option<PollFor> {
        let traffic = self.peer_traffic.replace(false);
        if self.settings.idle_poll.is_zero() || self.shards() == 1 {
            None
        } else if self.awaiting_replies.get() > 0 {
            Some(PollFor::Replies)
        } else if traffic {
            Some(PollFor::Peers)
        } else {
            None
        }
    }

    /// Whether a peer's batch waits for this shard.
    fn peers_pending(&self) -> bool {
        self.in_flight.pending(self.id)
    }

    fn end_ring_wait(&self) {
        self.in_flight.end_wait(self.id)
    }

    /// Takes the batches peers have put on this shard's channels (see [`InFlight`]): hands
    /// replies to their connections, and runs requests and sends their replies back, here
    /// and now, as the receiving tasks would at the reactor's next pass. Connections call it
    /// between turns. Off under fault injection, whose faults live in those tasks.
    pub fn take_peer_batches(self: &Rc<Self>) -> bool {
        let n = self.shards();
        if n == 1 || self.settings.faults.active() {
            return false;
        }
        let mut took = false;
        for peer in 0..n {
            if peer == self.id {
                continue;
            }
            while self.in_flight.waiting(MeshKind::Replies, peer, self.id) {
                let Some(batch) = self.receive(MeshKind::Replies, peer) else {
                    break;
                };
                self.deliver(batch);
                took = true;
            }
            while self.in_flight.waiting(MeshKind::Requests, peer, self.id) {
                let Some(mut batch) = self.receive(MeshKind::Requests, peer) else {
                    break;
                };
                took = true;
                self.counters.incr(Stat::PeerBatchesBetweenTurns);
                self.execute(&mut batch);
                match replies_of(self).try_send_to(peer, batch) {
                    Ok(()) => self.note_sent(MeshKind::Replies, peer),
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
        took
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
        self.peer_traffic.set(true);
        if mesh == MeshKind::Replies {
            self.awaiting_replies
                .set(self.awaiting_replies.get().saturating_sub(1));
        }
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
        self.note_sent(MeshKind::Replies, peer);
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
        let now = unix_now();
        if batch.n > 1 {
            // As a connection does for its window: the lookups start loading first.
            let store = self.store.borrow();
            let mut prefetch = store.prefetcher();
            let mut pos = 0;
            for _ in 0..batch.n {
                let (hash, used) = engine::wire::encoded_hash(&batch.ops[pos..]);
                if let Some(h) = hash {
                    prefetch.hashed(h);
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
        self.counters.watch.note_cfd(batch.fd);
        for _ in 0..batch.n {
            pos += engine::wire::apply_encoded(
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

/// Unix time in seconds from the coarse clock: the driver reads it every pass, and a
/// second's resolution needs no reading of the TSC.
pub fn unix_now() -> u32 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the timespec (it cannot fail for this clock on Linux).
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    ts.tv_sec as u32
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

#[cfg(test)]
mod tests {
    use super::{shard_for, shard_of_hash};

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
