//! The shards' full meshes: a bounded channel from every shard to every other, made before
//! the executors start and connected by all of them at once; and a fan-out, from one shard
//! to each other, connected the same way.
//!
//! glommio's `MeshBuilder::join` connects a shard's channels one peer after another, and a
//! connection completes only when the peer's executor runs its side of it, while waiting
//! executors spin. With more shards than CPUs that chain waits, per peer, for a scheduler
//! turn of one particular thread among many spinning ones: starts took tens of seconds and
//! some never finished. Here each shard first puts its name on every end of every channel
//! (the first poll of each connection), then waits, blocked rather than spinning, until
//! every shard has (a [`Barrier`]); after it every connection completes at its next poll.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Barrier;

use glommio::channels::shared_channel::{
    self, ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender,
};
use glommio::GlommioError;

/// One shard's ends of a mesh, not yet connected: a sender to each peer and a receiver from
/// each peer (`None` at the shard's own index).
pub struct MeshEnds<T: Send> {
    senders: Vec<Option<SharedSender<T>>>,
    receivers: Vec<Option<SharedReceiver<T>>>,
}

/// A full mesh of `shards` shards with channels of `capacity` messages; element `i` holds
/// shard `i`'s ends.
pub fn full_mesh<T: Send>(shards: usize, capacity: usize) -> Vec<MeshEnds<T>> {
    let mut ends = unconnected(shards);
    for from in 0..shards {
        for to in (0..shards).filter(|&to| to != from) {
            let (tx, rx) = shared_channel::new_bounded(capacity);
            ends[from].senders[to] = Some(tx);
            ends[to].receivers[from] = Some(rx);
        }
    }
    ends
}

/// Channels of `capacity` messages from shard `from` to each other shard of `shards` (none
/// back, none between the others); element `i` holds shard `i`'s ends, connected with
/// [`connect`] as a full mesh's are.
pub fn fan_out<T: Send>(shards: usize, from: usize, capacity: usize) -> Vec<MeshEnds<T>> {
    let mut ends = unconnected(shards);
    for to in (0..shards).filter(|&to| to != from) {
        let (tx, rx) = shared_channel::new_bounded(capacity);
        ends[from].senders[to] = Some(tx);
        ends[to].receivers[from] = Some(rx);
    }
    ends
}

/// Every shard's ends, with no channel yet.
fn unconnected<T: Send>(shards: usize) -> Vec<MeshEnds<T>> {
    (0..shards)
        .map(|_| MeshEnds {
            senders: (0..shards).map(|_| None).collect(),
            receivers: (0..shards).map(|_| None).collect(),
        })
        .collect()
}

/// A shard's ends of a mesh, connected: senders and receivers indexed by peer.
pub type Connected<T> = (Peers<T>, Vec<Option<ConnectedReceiver<T>>>);

/// Connects this shard's ends of every mesh in `meshes`, on the running executor;
/// `started` is a barrier of all the shards that connect.
///
/// The executor is kept awake meanwhile (`shard::awake`): glommio 0.9's park can
/// miss the wake-ups the connections need.
pub async fn connect<T: Send + 'static>(
    meshes: Vec<MeshEnds<T>>,
    started: &Barrier,
) -> Vec<Connected<T>> {
    crate::shard::awake::kept_awake(connect_all(meshes, started)).await
}

async fn connect_all<T: Send + 'static>(
    meshes: Vec<MeshEnds<T>>,
    started: &Barrier,
) -> Vec<Connected<T>> {
    // Counts the connections polled once, that is, named on this side.
    let named = Rc::new(Cell::new(0usize));
    let mut total = 0;
    let mut tasks = Vec::new();
    for mesh in meshes {
        let senders: Vec<_> = mesh
            .senders
            .into_iter()
            .map(|s| s.map(|s| spawn_counted(&named, s.connect())))
            .collect();
        let receivers: Vec<_> = mesh
            .receivers
            .into_iter()
            .map(|r| r.map(|r| spawn_counted(&named, r.connect())))
            .collect();
        total += senders.iter().flatten().count() + receivers.iter().flatten().count();
        tasks.push((senders, receivers));
    }
    while named.get() < total {
        futures_lite::future::yield_now().await;
    }
    started.wait();
    let mut connected = Vec::new();
    for (senders, receivers) in tasks {
        let mut tx = Vec::with_capacity(senders.len());
        for s in senders {
            tx.push(match s {
                Some(task) => Some(task.await),
                None => None,
            });
        }
        let mut rx = Vec::with_capacity(receivers.len());
        for r in receivers {
            rx.push(match r {
                Some(task) => Some(task.await),
                None => None,
            });
        }
        connected.push((Peers { senders: tx }, rx));
    }
    connected
}

/// Spawns `fut`, counting in `polled` its first poll.
fn spawn_counted<F>(polled: &Rc<Cell<usize>>, fut: F) -> glommio::Task<F::Output>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    let polled = polled.clone();
    glommio::spawn_local(async move {
        polled.set(polled.get() + 1);
        fut.await
    })
}

/// A shard's connected senders, one per peer.
pub struct Peers<T: Send> {
    senders: Vec<Option<ConnectedSender<T>>>,
}

impl<T: Send> Peers<T> {
    fn to(&self, peer: usize) -> &ConnectedSender<T> {
        self.senders[peer]
            .as_ref()
            .expect("a shard sends only to its peers")
    }

    /// Sends to `peer`, waiting while its channel is full; an error once it is closed.
    pub async fn send_to(&self, peer: usize, msg: T) -> Result<(), GlommioError<T>> {
        self.to(peer).send(msg).await
    }

    /// Sends to `peer` if its channel has room (`WouldBlock` with the message if not).
    pub fn try_send_to(&self, peer: usize, msg: T) -> Result<(), GlommioError<T>> {
        self.to(peer).try_send(msg)
    }

    /// Closes every channel: peers' receivers see the end once they have drained them.
    pub fn close(&self) {
        for s in self.senders.iter().flatten() {
            s.close();
        }
    }
}
