//! Request latency histograms, per shard and per kind of command, for `--metrics`.
//!
//! Cheap by construction: no clock is read per request. The network ring's driver reads the
//! monotonic clock once per pass that reaped completions ([`PassClock::stamp`]); a
//! connection reads it once per pass over its input, when the pass's replies are about to
//! be handed to the ring, and adds that one duration to the bucket of every request the
//! pass handled ([`Tally`] counts them by kind as they are handled). So a request is timed
//! from the ring pass that brought its bytes to its reply being queued for sending: its
//! parsing, its store lookups, and any wait for other shards' replies. Time in the kernel
//! and on the wire is not in it.
//!
//! Without `--metrics` nothing here runs: the shard has no [`PassClock`], and connections
//! neither tally nor read the clock.
//!
//! Each shard owns one [`Histograms`] and is its only writer (relaxed load and store, as
//! [`crate::stats::Counters`]); the metrics endpoint reads every shard's.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use crate::protocol::Command;

/// The kinds of command timed apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Kind {
    Get,
    Set,
    Delete,
    Incr,
    Decr,
    Touch,
    Flush,
    Meta,
    Stats,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::Get,
        Kind::Set,
        Kind::Delete,
        Kind::Incr,
        Kind::Decr,
        Kind::Touch,
        Kind::Flush,
        Kind::Meta,
        Kind::Stats,
        Kind::Other,
    ];

    /// The `command` label.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Get => "get",
            Kind::Set => "set",
            Kind::Delete => "delete",
            Kind::Incr => "incr",
            Kind::Decr => "decr",
            Kind::Touch => "touch",
            Kind::Flush => "flush",
            Kind::Meta => "meta",
            Kind::Stats => "stats",
            Kind::Other => "other",
        }
    }

    /// The kind of a text or meta request. `gat` counts as a get, as memcached's
    /// `cmd_get` does; every storage command (`cas` too) as a set.
    #[inline]
    pub fn of(cmd: &Command<'_>) -> Kind {
        match cmd {
            Command::Get { .. } => Kind::Get,
            Command::Store { .. } | Command::TooLarge { .. } => Kind::Set,
            Command::Delete { .. } => Kind::Delete,
            Command::Arith { incr: true, .. } => Kind::Incr,
            Command::Arith { incr: false, .. } => Kind::Decr,
            Command::Touch { .. } => Kind::Touch,
            Command::FlushAll { .. } => Kind::Flush,
            Command::Meta(_) | Command::MetaNoop => Kind::Meta,
            Command::Stats { .. } => Kind::Stats,
            _ => Kind::Other,
        }
    }

    /// The kind of a binary request, by opcode (quiet variants with their command).
    #[inline]
    pub fn of_opcode(op: u8) -> Kind {
        match op {
            0x00 | 0x09 | 0x0c | 0x0d | 0x1d | 0x1e | 0x23 | 0x24 => Kind::Get,
            0x01..=0x03 | 0x0e | 0x0f | 0x11..=0x13 | 0x19 | 0x1a => Kind::Set,
            0x04 | 0x14 => Kind::Delete,
            0x05 | 0x15 => Kind::Incr,
            0x06 | 0x16 => Kind::Decr,
            0x1c => Kind::Touch,
            0x08 | 0x18 => Kind::Flush,
            0x10 => Kind::Stats,
            _ => Kind::Other,
        }
    }
}

/// Upper bounds of the buckets, in nanoseconds (the last bucket, `+Inf`, is implicit).
pub const BOUNDS_NS: [u64; 16] = [
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
];

const BUCKETS: usize = BOUNDS_NS.len() + 1;
/// Per kind: the buckets (not cumulative), then the sum in nanoseconds, then the count.
const PER_KIND: usize = BUCKETS + 2;

/// One shard's histograms. Written only by the owning shard.
#[derive(Debug)]
pub struct Histograms {
    values: Box<[AtomicU64]>,
}

impl Default for Histograms {
    fn default() -> Self {
        Histograms {
            values: (0..Kind::ALL.len() * PER_KIND)
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }
}

/// A histogram as read: per bucket (not cumulative, `+Inf` last), the sum and the count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub buckets: [u64; BUCKETS],
    pub sum_ns: u64,
    pub count: u64,
}

impl Histograms {
    fn add(&self, i: usize, n: u64) {
        let c = &self.values[i];
        c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// Records `n` requests of `kind` that each took `ns`.
    pub fn record(&self, kind: Kind, ns: u64, n: u64) {
        let bucket = BOUNDS_NS
            .iter()
            .position(|&b| ns <= b)
            .unwrap_or(BOUNDS_NS.len());
        let base = kind as usize * PER_KIND;
        self.add(base + bucket, n);
        self.add(base + BUCKETS, ns.wrapping_mul(n));
        self.add(base + BUCKETS + 1, n);
    }

    /// What `kind`'s histogram holds. The count is read first and the buckets after, so
    /// a reader racing the writer sees buckets that add up to at least the count.
    pub fn snapshot(&self, kind: Kind) -> Snapshot {
        let base = kind as usize * PER_KIND;
        let count = self.values[base + BUCKETS + 1].load(Relaxed);
        let mut s = Snapshot {
            count,
            sum_ns: self.values[base + BUCKETS].load(Relaxed),
            ..Snapshot::default()
        };
        for (b, v) in s.buckets.iter_mut().enumerate() {
            *v = self.values[base + b].load(Relaxed);
        }
        s
    }
}

/// Requests of each kind handled in the current pass of one connection.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    n: [u32; Kind::ALL.len()],
}

impl Tally {
    #[inline]
    pub fn note(&mut self, kind: Kind) {
        self.n[kind as usize] += 1;
    }

    /// Adds the pass's requests to `h`, each taking `ns`, and empties the tally.
    pub fn flush(&mut self, h: &Histograms, ns: u64) {
        for (i, n) in self.n.iter_mut().enumerate() {
            if *n > 0 {
                h.record(Kind::ALL[i], ns, u64::from(*n));
                *n = 0;
            }
        }
    }
}

/// A shard's side of the timing: its histograms and the time of the ring's last pass that
/// reaped completions.
#[derive(Debug)]
pub struct PassClock {
    pub hist: Arc<Histograms>,
    reaped_at: Cell<u64>,
}

impl PassClock {
    pub fn new(hist: Arc<Histograms>) -> PassClock {
        PassClock {
            hist,
            reaped_at: Cell::new(monotonic_ns()),
        }
    }

    /// The ring's driver reaped completions now.
    #[inline]
    pub fn stamp(&self) {
        self.reaped_at.set(monotonic_ns());
    }

    /// When the ring last reaped completions: where a connection's pass starts.
    #[inline]
    pub fn reaped_at(&self) -> u64 {
        self.reaped_at.get()
    }

    /// A connection's pass that started at `start` queues its replies now. A pass that
    /// handled no request (a large value still arriving) reads no clock.
    #[inline]
    pub fn pass_done(&self, start: u64, tally: &mut Tally) {
        if tally.n.iter().any(|&n| n > 0) {
            tally.flush(&self.hist, monotonic_ns().saturating_sub(start));
        }
    }
}

/// The monotonic clock in nanoseconds.
#[inline]
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the timespec (it cannot fail for this clock on Linux).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_lands_every_request_in_one_bucket() {
        let h = Histograms::default();
        let mut t = Tally::default();
        t.note(Kind::Get);
        t.note(Kind::Get);
        t.note(Kind::Set);
        t.flush(&h, 30_000);
        let get = h.snapshot(Kind::Get);
        assert_eq!(get.count, 2);
        assert_eq!(get.sum_ns, 60_000);
        assert_eq!(get.buckets[2], 2, "30us is in the 50us bucket");
        assert_eq!(get.buckets.iter().sum::<u64>(), 2);
        assert_eq!(h.snapshot(Kind::Set).count, 1);
        assert_eq!(h.snapshot(Kind::Delete), Snapshot::default());
        // The tally is empty again.
        t.flush(&h, 1);
        assert_eq!(h.snapshot(Kind::Get).count, 2);
    }

    #[test]
    fn bounds_are_inclusive_and_past_the_last_is_inf() {
        let h = Histograms::default();
        h.record(Kind::Other, 10_000, 1);
        h.record(Kind::Other, 10_001, 1);
        h.record(Kind::Other, 5_000_000_000, 1);
        let s = h.snapshot(Kind::Other);
        assert_eq!(s.buckets[0], 1);
        assert_eq!(s.buckets[1], 1);
        assert_eq!(s.buckets[BUCKETS - 1], 1);
    }

    #[test]
    fn binary_opcodes_are_classed_with_their_text_commands() {
        assert_eq!(Kind::of_opcode(0x00), Kind::Get);
        assert_eq!(Kind::of_opcode(0x0d), Kind::Get);
        assert_eq!(Kind::of_opcode(0x11), Kind::Set);
        assert_eq!(Kind::of_opcode(0x14), Kind::Delete);
        assert_eq!(Kind::of_opcode(0x16), Kind::Decr);
        assert_eq!(Kind::of_opcode(0x0a), Kind::Other);
    }
}
