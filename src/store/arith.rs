//! Arithmetic on a stored value: `incr`/`decr` (text and binary) and meta `ma`, one
//! implementation of memcached's `do_add_delta` and the engine's one entry point for all
//! three ([`Store::add_delta`]).

use super::segment;
use super::{push_u64, strtoull, MetaItem, Store, StoreResult};
use crate::stats::ClassStat;

/// An arithmetic command, for [`Store::add_delta`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delta {
    /// `incr` (wraps at 2^64), else `decr` (stops at 0).
    pub incr: bool,
    pub delta: u64,
    /// The unique the item must have (`ma C`); 0 compares nothing.
    pub cas: u64,
    /// As `ma` runs it: a miss on an expired or flushed item counts as one in `stats`, a
    /// result written in place sets the item's access time, and the outcome carries the
    /// item for the rest of the command. `incr`/`decr` do none of these.
    pub meta: bool,
}

impl Delta {
    /// `incr`/`decr` (text and binary): no CAS to compare.
    pub fn incr_decr(incr: bool, delta: u64) -> Delta {
        Delta {
            incr,
            delta,
            cas: 0,
            meta: false,
        }
    }
}

/// Outcome of `incr`/`decr` alone ([`Store::arith`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithResult {
    Value(u64),
    NotFound,
    NonNumeric,
    NoMemory,
}

/// Outcome of [`Store::add_delta`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaArith {
    /// The new value; `item` is the live item, or None when the new number did not fit
    /// in the old value and a new item was written (memcached then changes the old,
    /// unlinked item for the rest of the command, so a TTL update is lost). Always None
    /// unless [`Delta::meta`].
    Done {
        value: u64,
        cas: u64,
        exptime: u32,
        item: Option<MetaItem>,
    },
    NotFound,
    NonNumeric,
    CasMismatch,
    NoMemory,
}

impl Store {
    /// `incr`/`decr` and `ma`, as memcached's `do_add_delta`: the value must parse as an
    /// unsigned decimal (`strtoull`, trailing whitespace allowed); incr wraps at 2^64, decr
    /// stops at 0. A result no longer than the old value is written in place, padded with
    /// spaces, unless a reply holds the value (memcached: `refcount == 2`); else it is a new
    /// item of the number's length.
    pub fn add_delta(&mut self, key: &[u8], d: Delta, now: u32) -> MetaArith {
        let found = if d.meta {
            self.meta_find(key, now).map(|it| it.at())
        } else {
            self.lookup(key, now).ok().map(|(_, loc, hdr)| (loc, hdr))
        };
        let Some((loc, hdr)) = found else {
            return MetaArith::NotFound;
        };
        if hdr.vlen == 0 {
            return MetaArith::NonNumeric;
        }
        let item_cas = if self.use_cas { hdr.cas } else { 0 };
        if d.cas != 0 && item_cas != d.cas {
            return MetaArith::CasMismatch;
        }
        let src = self.item(loc);
        let Some(current) = parse_number(&src[hdr.value_at()..hdr.value_at() + hdr.vlen]) else {
            return MetaArith::NonNumeric;
        };
        self.class_incr(
            &hdr,
            if d.incr {
                ClassStat::IncrHits
            } else {
                ClassStat::DecrHits
            },
        );
        let value = if d.incr {
            current.wrapping_add(d.delta)
        } else {
            current.saturating_sub(d.delta)
        };
        let mut digits = Vec::with_capacity(20);
        push_u64(&mut digits, value);
        let n = digits.len();
        if n <= hdr.vlen && !self.pinned(loc.seg) {
            let new_cas = self.new_cas();
            let now = self.now;
            let at = hdr.value_at();
            let dst = self.item_mut(loc);
            dst[at..at + n].copy_from_slice(&digits[..n]);
            dst[at + n..at + hdr.vlen].fill(b' ');
            segment::set_cas(dst, new_cas);
            if d.meta {
                segment::set_atime(dst, now);
            }
            self.journal_at(loc);
            let item = if d.meta {
                Some(self.just_written(key, now).expect("just written"))
            } else {
                None
            };
            MetaArith::Done {
                value,
                cas: if self.use_cas { new_cas } else { 0 },
                exptime: hdr.exptime,
                item,
            }
        } else if self.write(key, hdr.flags, hdr.exptime, &[&digits[..n]]) == StoreResult::Stored {
            MetaArith::Done {
                value,
                cas: self.last_cas(),
                exptime: hdr.exptime,
                item: None,
            }
        } else {
            MetaArith::NoMemory
        }
    }

    /// `incr`/`decr`'s outcome alone: [`Store::add_delta`] with no compare-CAS. The engine
    /// calls `add_delta` itself for every protocol; this is for tests and the fuzz harness.
    pub fn arith(&mut self, key: &[u8], incr: bool, delta: u64, now: u32) -> ArithResult {
        match self.add_delta(key, Delta::incr_decr(incr, delta), now) {
            MetaArith::Done { value, .. } => ArithResult::Value(value),
            MetaArith::NotFound => ArithResult::NotFound,
            MetaArith::NonNumeric => ArithResult::NonNumeric,
            MetaArith::NoMemory => ArithResult::NoMemory,
            MetaArith::CasMismatch => unreachable!("no CAS to compare"),
        }
    }

    /// `ma N` on a miss: adds the number `initial` (flags 0) expiring at `exptime`.
    pub fn meta_arith_vivify(
        &mut self,
        key: &[u8],
        initial: u64,
        exptime: u32,
        now: u32,
    ) -> Option<MetaItem> {
        let mut digits = Vec::with_capacity(20);
        push_u64(&mut digits, initial);
        if self.write(key, 0, exptime, &[&digits]) != StoreResult::Stored {
            return None;
        }
        self.just_written(key, now)
    }
}

/// memcached parses the value in place, where its CRLF follows it.
fn parse_number(value: &[u8]) -> Option<u64> {
    let mut probe = [0u8; 32];
    if value.len() + 2 <= probe.len() {
        probe[..value.len()].copy_from_slice(value);
        probe[value.len()..value.len() + 2].copy_from_slice(b"\r\n");
        strtoull(&probe[..value.len() + 2])
    } else {
        let mut v = value.to_vec();
        v.extend_from_slice(b"\r\n");
        strtoull(&v)
    }
}
