//! A window of requests parsed ahead of running them, so the store can prefetch their
//! index buckets and items while the rest are parsed.

use std::mem;

use crate::protocol::{text, Command, Limits, Parse, Request};
use crate::shard::Shard;
use crate::store::{key_hash, Prefetch};

/// Requests parsed ahead of execution, for prefetching (see `process_in`).
pub(super) const WINDOW: usize = 32;

/// The requests parsed ahead of execution, in order, without initialising the slots a
/// window does not fill: a request is about 160 bytes, and writing 32 empty `Option`s
/// would cost more than parsing one request. The parser writes each outcome straight into
/// the next slot ([`Window::parse_next`]), and requests are run in place, by reference, so
/// each is written once.
pub(super) struct Window<'a> {
    /// Slots `..len` hold `Parse::Done`; slot `len` may hold the last outcome, not kept.
    slots: [mem::MaybeUninit<Parse<'a>>; WINDOW],
    /// The hash of each kept request's one key, when prefetching computed it, so neither
    /// routing nor the lookup hashes the key again.
    hashes: [mem::MaybeUninit<Option<u64>>; WINDOW],
    len: usize,
}

// A request borrows everything it holds: a window drops nothing.
const _: () = assert!(!mem::needs_drop::<Parse<'static>>());

impl<'a> Window<'a> {
    pub(super) fn new() -> Self {
        Window {
            slots: [const { mem::MaybeUninit::uninit() }; WINDOW],
            hashes: [const { mem::MaybeUninit::uninit() }; WINDOW],
            len: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Parses the request at the start of `buf` into the next slot and returns the
    /// outcome; [`Window::keep`] keeps a complete one. Panics when full (the caller stops
    /// at `WINDOW`).
    #[inline(always)]
    pub(super) fn parse_next(&mut self, buf: &'a [u8], limits: &Limits) -> &Parse<'a> {
        text::parse_into(buf, limits, &mut self.slots[self.len])
    }

    /// Keeps the complete request [`Window::parse_next`] just parsed.
    #[inline(always)]
    pub(super) fn keep(&mut self) {
        debug_assert!(matches!(
            // SAFETY: `parse_next` wrote the slot.
            unsafe { self.slots[self.len].assume_init_ref() },
            Parse::Done(..)
        ));
        self.hashes[self.len].write(None);
        self.len += 1;
    }

    /// Request `i`, the bytes it used, and its key's hash if known.
    #[inline(always)]
    pub(super) fn get(&self, i: usize) -> (&Request<'a>, usize, Option<u64>) {
        assert!(i < self.len);
        // SAFETY: slots and hashes `..len` were written by `parse_next` and `keep`.
        let (slot, hash) = unsafe {
            (
                self.slots[i].assume_init_ref(),
                self.hashes[i].assume_init(),
            )
        };
        let Parse::Done(req, used) = slot else {
            unreachable!("window slot {i} kept without a complete request")
        };
        (req, *used, hash)
    }

    /// Records the key hash of request `i`.
    pub(super) fn set_hash(&mut self, i: usize, hash: Option<u64>) {
        assert!(i < self.len);
        self.hashes[i].write(hash);
    }
}

/// Feeds the local keys of `req` to a prefetcher. Returns the hash of the request's one
/// key, local or not (a text request for one key, a `get` of one key included). Inlined,
/// as is `Conn::route`: once per request each, and their calls would cost more than
/// their work on a `get`.
#[inline(always)]
pub(super) fn prefetch_keys(
    shard: &Shard,
    prefetch: &mut Prefetch<'_>,
    req: &Request<'_>,
) -> Option<u64> {
    let mut local = |key: &[u8]| {
        let h = key_hash(key);
        if shard.owner_of_hash(h) == shard.id {
            prefetch.hashed(h);
        }
        h
    };
    match &req.cmd {
        Command::Get { keys, .. } if keys.is_single() => Some(local(keys.0)),
        Command::Get { keys, .. } => {
            keys.iter().for_each(|k| {
                local(k);
            });
            None
        }
        Command::Meta(m) => {
            local(m.key(&mut None));
            None
        }
        cmd => cmd.key().map(local),
    }
}

/// Whether a parsed request looks up more than one key (`get k1 k2 ...`).
pub(super) fn has_many_keys(req: &Request<'_>) -> bool {
    matches!(&req.cmd, Command::Get { keys, .. } if !keys.is_single())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_order() {
        let limits = Limits {
            item_size_max: 1 << 20,
            use_cas: true,
        };
        let input = b"get a\r\nget bb\r\ndelete ccc\r\nget";
        let mut w = Window::new();
        assert_eq!(w.len(), 0);
        let mut pos = 0;
        while let Parse::Done(_, used) = w.parse_next(&input[pos..], &limits) {
            pos += *used;
            w.keep();
        }
        // The incomplete last line is not kept.
        assert_eq!(w.len(), 3);
        let used: Vec<usize> = (0..3).map(|i| w.get(i).1).collect();
        assert_eq!(used, [7, 8, 12]);
        assert!(matches!(w.get(0).0.cmd, Command::Get { .. }));
        assert!(matches!(w.get(2).0.cmd, Command::Delete { key: b"ccc" }));
        // Hashes are recorded per request and start absent.
        w.set_hash(1, Some(7));
        let hashes: Vec<Option<u64>> = (0..3).map(|i| w.get(i).2).collect();
        assert_eq!(hashes, [None, Some(7), None]);
    }
}
