//! The counts of batches in flight on each mesh channel, and each shard's doorbell
//! ([`InFlight`]): how a busy shard finds a peer's batch without a pass of glommio's reactor,
//! and how a peer wakes a shard that waits in its network ring. Every shard holds the same
//! one and touches it from its own core, so its orderings, argued on the type, are this
//! file's whole concern; the shard's own context stays in `mod.rs`.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicIsize, Ordering};

use super::MeshKind;

/// Batches on each mesh channel, counted by their sender after each send and by their
/// receiver after each receive, so that a busy shard can take a peer's batch without a
/// reactor pass.
///
/// glommio notices a message on a shared channel only when the receiving executor polls its
/// reactor, which a busy shard does only between runs of its task queues. So a forwarded
/// request would wait for such a pass of its owner, and its reply for one of the sender.
/// Each pass of the network ring's driver looks at its shard's counts
/// ([`Shard::take_peer_batches`](super::Shard::take_peer_batches)) and runs or delivers
/// what is there.
///
/// A count above zero means the channel holds a batch: the receiver, whose thread alone
/// decrements, pops before it decrements, and a sender increments only after its push. (It
/// may read below zero for a moment when a receive overtakes the sender's increment.) So a
/// receive made because of a count finds its batch at once and never leaves a waker with
/// the reactor for a channel that stays empty.
///
/// A shard whose driver waits inside its network ring (not in glommio's reactor, whose
/// notifier peers use) says so in its doorbell: a sender that finds it waiting posts a
/// completion straight into that ring (IORING_OP_MSG_RING, queued with the sender's next
/// submission). Both sides order their store before their load (SeqCst), so a batch sent
/// while the receiver decides to wait is either seen by the receiver's last look or rings.
pub struct InFlight {
    shards: usize,
    counts: Vec<PaddedCount>,
    doorbells: Vec<Doorbell>,
}

/// One channel's count, on its own cache line (its sender and receiver run on two cores).
#[repr(align(64))]
#[derive(Default)]
struct PaddedCount(AtomicIsize);

/// A shard's flag "waiting in my ring", and that ring's descriptor (-1 until the shard has
/// published it, and again once it has stopped).
#[repr(align(64))]
struct Doorbell {
    waiting: AtomicBool,
    ring: AtomicI32,
}

impl InFlight {
    /// Counts for `shards` shards, with a doorbell each when there are peers.
    pub fn new(shards: usize) -> InFlight {
        let doorbells = if shards > 1 {
            (0..shards)
                .map(|_| Doorbell {
                    waiting: AtomicBool::new(false),
                    ring: AtomicI32::new(-1),
                })
                .collect()
        } else {
            Vec::new()
        };
        InFlight {
            shards,
            counts: (0..2 * shards * shards)
                .map(|_| Default::default())
                .collect(),
            doorbells,
        }
    }

    /// Shard `id`'s network ring, for peers to post into while it waits there (`-1`: none,
    /// once the shard has stopped).
    pub fn publish_ring(&self, id: usize, fd: RawFd) {
        if let Some(d) = self.doorbells.get(id) {
            d.ring.store(fd, Ordering::SeqCst);
        }
    }

    /// Shard `me` is about to wait in its ring: false if a peer's batch is already there
    /// (then it must not wait). [`InFlight::end_wait`] after the wait.
    pub(super) fn begin_wait(&self, me: usize) -> bool {
        let Some(d) = self.doorbells.get(me) else {
            return true;
        };
        d.waiting.store(true, Ordering::SeqCst);
        if self.pending(me) {
            d.waiting.store(false, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Whether a peer's batch waits for shard `me`. Sequentially consistent, so that a
    /// shard that has just said it waits ([`InFlight::begin_wait`]) sees every batch sent
    /// before its peers could see it waiting.
    pub(super) fn pending(&self, me: usize) -> bool {
        [MeshKind::Requests, MeshKind::Replies]
            .into_iter()
            .any(|mesh| {
                (0..self.shards)
                    .any(|from| from != me && self.count(mesh, from, me).load(Ordering::SeqCst) > 0)
            })
    }

    pub(super) fn end_wait(&self, me: usize) {
        if let Some(d) = self.doorbells.get(me) {
            d.waiting.store(false, Ordering::Relaxed);
        }
    }

    fn count(&self, mesh: MeshKind, from: usize, to: usize) -> &AtomicIsize {
        &self.counts[(mesh as usize * self.shards + to) * self.shards + from].0
    }

    /// Counts a batch sent; returns the receiver's ring if it waits there (the sender then
    /// posts into it).
    #[must_use]
    pub(super) fn sent(&self, mesh: MeshKind, from: usize, to: usize) -> Option<RawFd> {
        self.count(mesh, from, to).fetch_add(1, Ordering::SeqCst);
        let d = self.doorbells.get(to)?;
        if !d.waiting.load(Ordering::SeqCst) {
            return None;
        }
        let fd = d.ring.load(Ordering::SeqCst);
        (fd >= 0).then_some(fd)
    }

    pub(super) fn received(&self, mesh: MeshKind, from: usize, to: usize) {
        self.count(mesh, from, to).fetch_sub(1, Ordering::Relaxed);
    }

    pub(super) fn waiting(&self, mesh: MeshKind, from: usize, to: usize) -> bool {
        self.count(mesh, from, to).load(Ordering::Acquire) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::{InFlight, MeshKind};

    /// Each channel has its own count; a receive that overtakes its sender's increment
    /// reads as nothing waiting, never as a batch.
    #[test]
    fn in_flight_counts_each_channel_apart() {
        let f = InFlight::new(3);
        let _ = f.sent(MeshKind::Requests, 0, 2);
        let _ = f.sent(MeshKind::Requests, 0, 2);
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
        let _ = f.sent(MeshKind::Replies, 1, 0);
        assert!(!f.waiting(MeshKind::Replies, 1, 0));
    }

    /// A batch sent to a shard waiting in its ring names that ring, once published; one
    /// sent to a shard that is not waiting does not; a shard with a batch there does not wait.
    #[test]
    fn a_shard_waiting_in_its_ring_is_woken_by_a_peer_batch() {
        let f = InFlight::new(2);
        assert!(f.begin_wait(1));
        assert_eq!(
            f.sent(MeshKind::Requests, 0, 1),
            None,
            "no ring published yet"
        );
        f.received(MeshKind::Requests, 0, 1);
        f.publish_ring(1, 42);
        assert_eq!(f.sent(MeshKind::Requests, 0, 1), Some(42));
        f.end_wait(1);
        assert!(!f.begin_wait(1), "a batch is there: no wait");
        f.received(MeshKind::Requests, 0, 1);
        f.publish_ring(0, 41);
        assert_eq!(
            f.sent(MeshKind::Replies, 1, 0),
            None,
            "shard 0 was not waiting"
        );
        assert!(!f.begin_wait(0), "shard 0 has a reply to take");
        assert!(f.begin_wait(1));
        f.end_wait(1);
        f.publish_ring(1, -1);
        assert!(f.begin_wait(1));
        assert_eq!(
            f.sent(MeshKind::Requests, 0, 1),
            None,
            "shard 1 has stopped"
        );
        let lone = InFlight::new(1);
        assert!(lone.begin_wait(0));
        assert_eq!(lone.sent(MeshKind::Requests, 0, 0), None);
    }
}
