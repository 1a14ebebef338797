//! Unix-socket clients spread over every shard, as memcached's dispatcher thread spreads
//! them over its worker threads.
//!
//! ```text
//!   shard 0: multishot accept on the unix listener ──► turn t = next of 0, 1, … n-1
//!        t = 0: served here (NetRing::adopt)
//!        t ≠ 0: the descriptor ──fan-out channel──► shard t: NetRing::adopt
//!               (channel full, or shard t stopped: served here instead)
//! ```
//!
//! Why not an accept on every shard, as TCP has with SO_REUSEPORT: a unix socket has no
//! such group, and shards waiting in accept on one listener get clients as the kernel
//! wakes them, which puts nearly every client on the same shard (a pool opened at once
//! as much as clients arriving one at a time).
//!
//! A descriptor travels as an [`OwnedFd`]: one still in a channel when either side ends
//! is closed with it, once; none is leaked.

use std::cell::Cell;
use std::os::fd::OwnedFd;
use std::rc::Rc;

use glommio::channels::shared_channel::ConnectedReceiver;
use glommio::{GlommioError, ResourceType};

use super::{ring, Shard};
use crate::mesh::Peers;

/// Clients that may wait in each peer's channel before the dispatcher serves the next
/// ones of that turn itself: room for a pool opened at once.
pub(crate) const CAPACITY: usize = 1024;

/// The dispatching shard's placement of each client it accepts: round-robin over all
/// `shards`, its own turn served by its own ring, a peer's sent to it (`peers`: none with
/// one shard, which keeps every client).
pub(super) fn dispatcher(me: usize, shards: usize, peers: Option<Peers<OwnedFd>>) -> ring::HandOut {
    let Some(peers) = peers else {
        return Box::new(Some);
    };
    let turn = Cell::new(me);
    Box::new(move |fd| {
        let t = turn.get();
        turn.set((t + 1) % shards);
        if t == me {
            return Some(fd);
        }
        match peers.try_send_to(t, fd) {
            Ok(()) => None,
            // A full channel, or a peer that has stopped: served here rather than lost.
            Err(
                GlommioError::WouldBlock(ResourceType::Channel(fd))
                | GlommioError::Closed(ResourceType::Channel(fd)),
            ) => Some(fd),
            // try_send fails only as above; the descriptor went with the error, closed.
            Err(_) => None,
        }
    })
}

/// A peer's side: serves each client the dispatcher hands over, as its own ring would one
/// it accepted, until the task is dropped at the shard's stop (the channel closes then,
/// and the dispatcher keeps its clients).
pub(super) async fn adopt_handed(shard: Rc<Shard>, rx: ConnectedReceiver<OwnedFd>) {
    while let Some(fd) = rx.recv().await {
        shard.net.adopt(fd);
    }
}
