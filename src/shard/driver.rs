//! A shard's network driver and its connection housekeeping.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::os::fd::FromRawFd;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use glommio::sync::Gate;

use super::conns::Conns;
use super::{ring, unix_now, unix_now_ms, PollFor, Shard};
use crate::listen::{Rejection, Spare};
use crate::ratelog::RateLog;
use crate::stats::Stat;

/// How a shard serves a connection its ring has bytes for.
pub type ServeConn = fn(Rc<Shard>, ring::Ready) -> Pin<Box<dyn Future<Output = ()>>>;

/// How long the driver waits inside its ring before it sleeps in glommio's reactor
/// instead. Glommio's timers and I/O wait meanwhile, so it is short; a shard that saw no
/// completion for that long is idle, and sleeps where anything can wake it.
const RING_WAIT: Duration = Duration::from_millis(1);

/// Drives the shard's network ring (see [`ring`]) and runs its connections ([`Conns`]):
/// a pass submits what connections queued and reaps what completed; new connections, and
/// parked ones with bytes, get a future; peers' batches waiting on the mesh are taken; then
/// every connection scheduled is polled once, so their replies go in the next pass's
/// submission. While passes find work it goes on, and yields to glommio only when glommio
/// wants its loop to run (its preemption timer fired, or a connection yielded for it).
///
/// With none, it lets glommio's other tasks run once (they may wake a connection); if a
/// background task has work, it sleeps in glommio's reactor at once, which runs it; else,
/// if a peer is busy with this shard, it polls a while ([`poll_idle`]); then it waits: on a
/// busy shard inside the ring itself ([`ring::NetRing::wait`], peers post into that
/// ring), which costs a fraction of a sleep in glommio's reactor (no preemption timers
/// re-armed, no eventfd); once that wait times out, or glommio wants its loop to run, in
/// glommio's reactor until the ring's eventfd or a connection's waker wakes it. It ends
/// once the shard has stopped and every connection has closed.
pub(super) async fn drive(
    shard: Rc<Shard>,
    gate: Rc<Gate>,
    mut spares: Vec<Spare>,
    drained: Rc<Cell<bool>>,
    serve_conn: ServeConn,
) {
    let net = &shard.net;
    net.start_accepting();
    let me = futures_lite::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
    let mut conns = Conns::new(me);
    let mut ready = Vec::new();
    let failures = RateLog::new(5);
    // Glommio's other tasks had their turn since the last work was found.
    let mut others_ran = false;
    let mut timed_out = false;
    // The driver polled since the last work was found.
    let mut polled = false;
    let mut idle_poll = IdlePoll::new();
    loop {
        let n = net.pass(&shard.buffers);
        shard.clock.set(unix_now());
        if let (true, Some(l)) = (n > 0, &shard.latency) {
            l.stamp();
        }
        net.take_ready(&mut ready);
        for r in ready.drain(..) {
            let id = r.id;
            match gate.enter() {
                Ok(pass) => conns.insert(net, id, serve_conn(shard.clone(), r), pass),
                // The gate is closing (stop): the connection closes unserved.
                Err(_) => net.close(id, &shard.buffers),
            }
        }
        for f in net.take_accept_failed() {
            accept_failed(&shard, &failures, &mut spares, f);
        }
        let took = shard.take_peer_batches();
        let ran = conns.run(net);
        if drained.get() && net.open() == 0 {
            // The last closes were queued after this pass.
            net.pass(&shard.buffers);
            return;
        }
        if n > 0 || took || ran > 0 || conns.has_work(net) {
            others_ran = false;
            timed_out = false;
            polled = false;
            if glommio::executor().need_preempt() {
                futures_lite::future::yield_now().await;
            }
            continue;
        }
        if !others_ran {
            others_ran = true;
            futures_lite::future::yield_now().await;
            continue;
        }
        others_ran = false;
        // Background tasks with work (engine tasks ready or woken, persistence's running)
        // take what the connections leave: the driver sleeps in glommio's reactor, which
        // runs their queues, rather than poll or wait in its ring, where they would get
        // only what glommio's preemption grants.
        let background = shard.background_ready();
        if !polled && !background {
            // Replies due are always polled for; a peer's next batch while such polls
            // catch it often enough.
            let (poll, adapted) = match shard.idle_poll_for() {
                Some(PollFor::Replies) => (true, false),
                Some(PollFor::Peers) => (idle_poll.should(), true),
                None => (false, false),
            };
            polled = true;
            if poll {
                let caught = poll_idle(&shard, &conns, shard.settings.idle_poll);
                if adapted {
                    idle_poll.fared(caught);
                }
                continue;
            }
        }
        if !background
            && !timed_out
            && shard.may_wait_in_ring()
            && !glommio::executor().need_preempt()
        {
            if shard.begin_ring_wait() {
                timed_out = !net.wait(RING_WAIT);
                shard.end_ring_wait();
            }
            continue;
        }
        timed_out = false;
        if !net.prepare_sleep() {
            futures_lite::future::yield_now().await;
            continue;
        }
        futures_lite::future::poll_fn(|cx| {
            if conns.woken() {
                net.woke();
                return Poll::Ready(());
            }
            net.poll_sleep(cx)
        })
        .await;
        net.woke();
    }
}

/// How many of its latest outcomes [`IdlePoll`] weighs, at most.
const POLL_CREDIT: u32 = 16;

/// Whether to poll for a peer's next batch, by how such polls have fared: each that caught
/// the batch earns a credit, each that ran out loses one, and the driver polls while it has
/// credit. A caught batch saves about what a poll that runs out costs (a wake-up of this
/// shard and its peer's doorbell, against the window spun). Out of credit (peers slow or
/// load low), it polls once every `POLL_CREDIT` chances, to learn when peers come back
/// sooner.
struct IdlePoll {
    credit: u32,
    /// Chances passed since the credit ran out.
    skipped: u32,
}

impl IdlePoll {
    fn new() -> IdlePoll {
        IdlePoll {
            credit: POLL_CREDIT,
            skipped: 0,
        }
    }

    /// Whether to poll for a peer's next batch now.
    fn should(&mut self) -> bool {
        if self.credit > 0 {
            return true;
        }
        self.skipped += 1;
        if self.skipped < POLL_CREDIT {
            return false;
        }
        self.skipped = 0;
        true
    }

    /// How the poll fared: `caught` if work came before its window ran out.
    fn fared(&mut self, caught: bool) {
        self.credit = if caught {
            (self.credit + 1).min(POLL_CREDIT)
        } else {
            self.credit.saturating_sub(1)
        };
    }
}

/// Polls for work, at most `window`, giving the CPU to any other runnable thread between
/// polls: the ring (a completion, or one the kernel holds for this thread), a peer's
/// batch, a connection's waker, a background task woken (a dump's reader on another
/// shard wakes its producer here). Returns whether work came. Without another thread
/// runnable, the poll spins: that is its cost, paid only while peers are busy with this
/// shard ([`Shard::idle_poll_for`]) and, for their next batches, while polls catch them
/// ([`IdlePoll`]).
fn poll_idle(shard: &Shard, conns: &Conns, window: Duration) -> bool {
    let until = Instant::now() + window;
    loop {
        if shard.net.busy() || shard.peers_pending() || conns.woken() || shard.background_ready() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        // SAFETY: no arguments; it only gives up the CPU.
        unsafe { libc::sched_yield() };
    }
}

/// Reads the ring's eventfd through glommio and wakes the driver: the one place a
/// sleeping shard learns of network completions.
pub(super) async fn wake_on_eventfd(shard: Rc<Shard>) {
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

/// The shard's housekeeping for connections, in a low-priority queue. With parking on,
/// every half `--park-after-ms` it tells connections idle long enough to park
/// ([`crate::park::IdleWatch`]), and once a second closes parked connections whose
/// `idle_timeout` has passed (counted in `idle_kicks`) and returns memory freed by parking
/// to the system. Always, once a second, it frees the spare connection buffers that went
/// unused ([`super::buffers::BufferPool::trim`]).
pub(super) async fn conn_sweep(shard: Rc<Shard>) {
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
    use super::{IdlePoll, POLL_CREDIT};

    #[test]
    fn polls_for_peers_go_on_while_they_catch_batches() {
        let mut p = IdlePoll::new();
        // Polls that catch as often as they miss keep their credit.
        for _ in 0..100 {
            assert!(p.should());
            p.fared(true);
            assert!(p.should());
            p.fared(false);
        }
        // A catch fills the credit; misses only then run it out after POLL_CREDIT.
        p.fared(true);
        for i in 0..POLL_CREDIT {
            assert!(p.should(), "miss {i} still had credit");
            p.fared(false);
        }
        // Then one chance in POLL_CREDIT polls.
        let polls = (0..10 * POLL_CREDIT)
            .filter(|_| {
                let poll = p.should();
                if poll {
                    p.fared(false);
                }
                poll
            })
            .count();
        assert_eq!(polls, 10);
        // A probe that catches one earns the credit back, one catch at a time.
        let mut chances = 0;
        while !p.should() {
            chances += 1;
            assert!(chances < POLL_CREDIT, "no probe within POLL_CREDIT chances");
        }
        p.fared(true);
        assert!(p.should());
        p.fared(false);
        assert!(!p.should(), "one catch, one miss: out of credit again");
    }
}
