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
        shard.net.adopt(fd, None);
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::{mpsc, Arc, Barrier};

    use glommio::{LocalExecutorBuilder, Placement};

    use super::dispatcher;

    fn descriptor() -> OwnedFd {
        // SAFETY: eventfd returns a new descriptor, owned at once.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        assert!(fd >= 0);
        unsafe { OwnedFd::from_raw_fd(fd) }
    }

    fn open(fd: &OwnedFd) -> bool {
        // SAFETY: F_GETFD only reads the descriptor's flags.
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) >= 0 }
    }

    /// Turns alternate between the dispatcher and its peer; a client whose turn finds the
    /// peer's channel full, or closed (the peer stopped), is kept, never lost; what was
    /// sent arrives open.
    #[test]
    fn turns_alternate_and_a_full_or_closed_channel_keeps_the_client() {
        let mut ends = crate::mesh::fan_out(2, 0, 2).into_iter();
        let (ours, theirs) = (ends.next().unwrap(), ends.next().unwrap());
        let barrier = Arc::new(Barrier::new(2));
        let (filled_tx, filled_rx) = mpsc::channel::<()>();
        let (closed_tx, closed_rx) = mpsc::channel::<()>();
        let b = barrier.clone();
        let peer = LocalExecutorBuilder::new(Placement::Unbound)
            .io_memory(256 << 10)
            .spawn(move || async move {
                let (_, mut rx) = crate::mesh::connect(vec![theirs], &b).await.pop().unwrap();
                let rx = rx[0].take().expect("a receiver from shard 0");
                filled_rx.recv().unwrap();
                for _ in 0..2 {
                    let fd = rx.recv().await.expect("a client sent");
                    assert!(open(&fd), "a client handed over arrives open");
                }
                drop(rx);
                closed_tx.send(()).unwrap();
            })
            .unwrap();
        let me = LocalExecutorBuilder::new(Placement::Unbound)
            .io_memory(256 << 10)
            .spawn(move || async move {
                let (peers, _) = crate::mesh::connect(vec![ours], &barrier)
                    .await
                    .pop()
                    .unwrap();
                let place = dispatcher(0, 2, Some(peers));
                let mut kept = Vec::new();
                // Own turn, peer's, own, peer's (the channel now holds 2), own, peer's.
                for _ in 0..6 {
                    kept.push(place(descriptor()).is_some());
                }
                assert_eq!(kept, [true, false, true, false, true, true], "full: kept");
                filled_tx.send(()).unwrap();
                closed_rx.recv().unwrap();
                assert!(place(descriptor()).is_some(), "own turn");
                let back = place(descriptor()).expect("a stopped peer's turn: kept");
                assert!(open(&back));
            })
            .unwrap();
        me.join().unwrap();
        peer.join().unwrap();
    }

    #[test]
    fn one_shard_keeps_every_client() {
        let place = dispatcher(0, 1, None);
        for _ in 0..3 {
            assert!(place(descriptor()).is_some());
        }
    }
}
