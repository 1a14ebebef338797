//! A window of requests parsed ahead of running them, so the store can prefetch their
//! index buckets and items while the rest are parsed.

use std::mem;

use crate::protocol::{Command, Request};
use crate::shard::Shard;
use crate::store::{key_hash, Prefetch};

/// Requests parsed ahead of execution, for prefetching (see `process_in`).
pub(super) const WINDOW: usize = 32;

/// The requests parsed ahead of execution, in order, without initialising the slots a
/// window does not fill: a request is about 400 bytes, and writing 32 empty `Option`s
/// would cost more than parsing one request. Requests are run in place, by reference, so
/// each is written once.
pub(super) struct Window<'a> {
    slots: [mem::MaybeUninit<Parsed<'a>>; WINDOW],
    /// Slots `..len` hold requests.
    len: usize,
}

/// A request in a window: the bytes it used, and its one key's hash when prefetching
/// computed it, so neither routing nor the lookup hashes the key again.
pub(super) struct Parsed<'a> {
    pub(super) req: Request<'a>,
    pub(super) used: usize,
    pub(super) hash: Option<u64>,
}

// A request borrows everything it holds: a window drops nothing.
const _: () = assert!(!mem::needs_drop::<Request<'static>>());

impl<'a> Window<'a> {
    pub(super) fn new() -> Self {
        Window {
            slots: [const { mem::MaybeUninit::uninit() }; WINDOW],
            len: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Panics when full (the caller stops at `WINDOW`).
    pub(super) fn push(&mut self, req: Request<'a>, used: usize) {
        self.slots[self.len].write(Parsed {
            req,
            used,
            hash: None,
        });
        self.len += 1;
    }

    /// The requests, with the bytes each used.
    pub(super) fn parsed(&self) -> &[Parsed<'a>] {
        let live = &self.slots[..self.len];
        // SAFETY: slots ..len were written by `push`; MaybeUninit<T> has T's layout.
        unsafe { &*(live as *const [mem::MaybeUninit<Parsed<'a>>] as *const [Parsed<'a>]) }
    }

    /// Records the key hash of request `i`.
    pub(super) fn set_hash(&mut self, i: usize, hash: Option<u64>) {
        assert!(i < self.len);
        // SAFETY: slot `i` was written by `push` (checked above).
        unsafe { self.slots[i].assume_init_mut().hash = hash };
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
pub(super) fn has_many_keys(p: &Parsed<'_>) -> bool {
    matches!(&p.req.cmd, Command::Get { keys, .. } if !keys.is_single())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{text, Limits, Parse};

    fn parsed<'a>(bytes: &'a [u8], limits: &Limits) -> (Request<'a>, usize) {
        match text::parse(bytes, limits) {
            Parse::Done(req, used) => (req, used),
            _ => panic!("not a complete request: {bytes:?}"),
        }
    }

    #[test]
    fn window_keeps_order() {
        let limits = Limits {
            item_size_max: 1 << 20,
            use_cas: true,
        };
        let input = b"get a\r\nget bb\r\ndelete ccc\r\n";
        let mut w = Window::new();
        assert!(w.parsed().is_empty());
        let mut pos = 0;
        while pos < input.len() {
            let (req, used) = parsed(&input[pos..], &limits);
            w.push(req, used);
            pos += used;
        }
        assert_eq!(w.len(), 3);
        let used: Vec<usize> = w.parsed().iter().map(|p| p.used).collect();
        assert_eq!(used, [7, 8, 12]);
        assert!(matches!(w.parsed()[0].req.cmd, Command::Get { .. }));
        assert!(matches!(
            w.parsed()[2].req.cmd,
            Command::Delete { key: b"ccc" }
        ));
        // Hashes are recorded per request and start absent.
        w.set_hash(1, Some(7));
        let hashes: Vec<Option<u64>> = w.parsed().iter().map(|p| p.hash).collect();
        assert_eq!(hashes, [None, Some(7), None]);
    }
}
