//! Reply bytes that hold large values in place.
//!
//! A [`Reply`] is the bytes of replies with the values of at least `pin_from` bytes left
//! in the store and pinned ([`crate::store::PinnedValue`]) rather than copied: a reply of
//! sixty 1 MB values holds sixty pins, not 60 MB. The pins keep the values as they were
//! read whatever the store does next, so a reply can wait for a slow client or for a peer
//! shard's replies. A connection writes a reply as its pieces ([`Reply::pieces_from`]); a
//! peer's batch carries one back and the connection splices it in.

use super::op::ReplySink;
use crate::store::{PinnedValue, StoreValue};

/// Values at least this large are held in place by default (memcached sends items from
/// their own memory too).
pub const PIN_FROM: usize = 8 << 10;
/// Most values one reply holds pinned; further ones are copied.
pub const MAX_HELD: usize = 512;

/// A pinned value that belongs at byte `at` of a reply's bytes.
#[derive(Debug)]
pub struct Held {
    pub at: usize,
    pub value: PinnedValue,
}

/// Reply bytes with large values held in place.
#[derive(Debug)]
pub struct Reply {
    pub buf: Vec<u8>,
    /// In order of `at`, which never decreases.
    pub held: Vec<Held>,
    /// Values of at least this many bytes are pinned, when the store allows.
    pub pin_from: usize,
    /// Copies are over their budget: values are pinned even past the store's limit.
    pub no_copies: bool,
}

impl Default for Reply {
    fn default() -> Self {
        Reply {
            buf: Vec::new(),
            held: Vec::new(),
            pin_from: PIN_FROM,
            no_copies: false,
        }
    }
}

impl ReplySink for Reply {
    fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    fn value(&mut self, v: StoreValue<'_>) {
        if v.len() >= self.pin_from && self.held.len() < MAX_HELD {
            let pinned = match v.pin() {
                None if self.no_copies => Some(v.pin_past_limit()),
                p => p,
            };
            if let Some(value) = pinned {
                self.held.push(Held {
                    at: self.buf.len(),
                    value,
                });
                return;
            }
        }
        self.buf.extend_from_slice(v.bytes());
    }
}

impl Reply {
    /// Sets how values are held for the next replies: from [`PIN_FROM`] bytes while the
    /// shard's copies are within budget; every value, past the store's pin limit if need
    /// be, once they are not.
    pub fn set_over_budget(&mut self, over: bool) {
        self.pin_from = if over { 1 } else { PIN_FROM };
        self.no_copies = over;
    }

    /// Bytes of the whole reply, held values included.
    pub fn total_len(&self) -> usize {
        self.buf.len() + self.held.iter().map(|h| h.value.len()).sum::<usize>()
    }

    /// Bytes of held values.
    pub fn held_len(&self) -> usize {
        self.held.iter().map(|h| h.value.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty() && self.held.is_empty()
    }

    /// Empties the reply, dropping its pins.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.held.clear();
    }

    /// Calls `f` with each non-empty piece of the reply from byte `from` of the whole, in
    /// order: runs of `buf` and held values.
    pub fn pieces_from(&self, from: usize, mut f: impl FnMut(&[u8])) {
        let mut pos = 0;
        let mut prev = 0;
        let mut piece = |s: &[u8], pos: &mut usize| {
            let end = *pos + s.len();
            if end > from && !s.is_empty() {
                f(&s[from.saturating_sub(*pos)..]);
            }
            *pos = end;
        };
        for h in &self.held {
            piece(&self.buf[prev..h.at], &mut pos);
            piece(h.value.bytes(), &mut pos);
            prev = h.at;
        }
        piece(&self.buf[prev..], &mut pos);
    }

    /// Copies the whole reply from byte `from` into `out`.
    pub fn copy_from(&self, from: usize, out: &mut Vec<u8>) {
        self.pieces_from(from, |s| out.extend_from_slice(s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Mode, Store};

    /// A store with `values` set under keys `k0..`, each value `i` repeated.
    fn store_with(values: &[usize]) -> Store {
        let mut s = Store::builder().mem_limit(16 << 20).build();
        for (i, &len) in values.iter().enumerate() {
            let key = format!("k{i}");
            let v = vec![b'a' + i as u8; len];
            s.store(Mode::Set, key.as_bytes(), 0, 0, 0, &v, 1);
        }
        s
    }

    #[test]
    fn large_values_are_held_small_ones_copied_and_pieces_give_the_whole() {
        let mut s = store_with(&[PIN_FROM, 10]);
        let mut r = Reply::default();
        r.buf.extend_from_slice(b"<");
        let it = s.get(b"k0", 1).unwrap();
        r.value(it.stored());
        r.buf.extend_from_slice(b">");
        let it = s.get(b"k1", 1).unwrap();
        r.value(it.stored());
        assert_eq!(r.held.len(), 1);
        assert_eq!(r.held[0].at, 1);
        assert_eq!(s.pinned_segments(), 1);
        let mut whole = Vec::new();
        r.copy_from(0, &mut whole);
        let mut want = b"<".to_vec();
        want.extend(vec![b'a'; PIN_FROM]);
        want.extend_from_slice(b">");
        want.extend(vec![b'b'; 10]);
        assert_eq!(whole, want);
        assert_eq!(r.total_len(), want.len());
        for from in [0, 1, 2, PIN_FROM, PIN_FROM + 1, PIN_FROM + 2, want.len()] {
            let mut part = Vec::new();
            r.copy_from(from, &mut part);
            assert_eq!(part, want[from..], "from {from}");
        }
        r.clear();
        assert_eq!(s.pinned_segments(), 0, "a cleared reply holds no pin");
    }
}
