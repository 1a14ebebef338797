//! Key operations: what one shard does for one key, and the reply bytes it writes.
//!
//! [`KeyOp`] and [`apply`] are here; the text protocol's ops run in [`text`], the meta
//! commands' in [`meta`] and the binary protocol's in [`binary`]. The owner of a key formats its reply in the protocol of the
//! connection that asked, so forwarded replies splice in as bytes whatever the protocol.
//!
//! The connection splits every request into single-key [`KeyOp`]s (a multi-key `get` becomes
//! one op per key), runs the ops for local keys at once with [`apply`], and forwards the others
//! to their owners as a compact byte encoding ([`wire`]: [`KeyOp::encode`] / [`KeyOp::decode`]), so that a
//! whole batch for one peer travels as one buffer and the owner runs the same [`apply`]. This
//! module knows the store and memcached's reply formats; it knows nothing of sockets or cores.

pub mod binary;
pub mod format;
pub mod meta;
pub mod reply;
pub mod text;
pub mod wire;

use crate::protocol::binary::BinRequest;
use crate::protocol::{GetKind, KeyBuf, MetaRequest, StoreMode};
use crate::stats::Counters;
use crate::store::{Store, StoreValue};

/// One operation on one key (or, for `Flush`, on a whole shard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOp<'a> {
    /// A meta command (`mg ms md ma me`), run by [`meta::execute`]. Forwarded as its raw
    /// bytes, which the owner parses again.
    Meta(&'a MetaRequest<'a>),
    /// A binary-protocol packet for one key, run by [`binary::execute`]. Forwarded as its
    /// raw bytes, which the owner parses again.
    Bin(&'a BinRequest<'a>),
    /// One key of `get`/`gets`/`gat`/`gats`: writes its `VALUE` block on a hit, nothing on a
    /// miss (the connection writes `END`).
    Get {
        kind: GetKind,
        exptime: i32,
        key: &'a [u8],
        /// The store's hash of `key`, when the connection computed it already (to
        /// prefetch); never forwarded.
        hash: Option<u64>,
    },
    Store {
        mode: StoreMode,
        key: &'a [u8],
        flags: u32,
        exptime: i32,
        cas: u64,
        data: &'a [u8],
        noreply: bool,
    },
    /// A value over `-I`: the reply is an error, and `set` removes the key.
    TooLarge {
        mode: StoreMode,
        key: &'a [u8],
        noreply: bool,
    },
    Delete {
        key: &'a [u8],
        noreply: bool,
    },
    Arith {
        incr: bool,
        key: &'a [u8],
        delta: u64,
        noreply: bool,
    },
    Touch {
        key: &'a [u8],
        exptime: i32,
        noreply: bool,
    },
    /// `flush_all`, sent to every shard; writes nothing (the connection answers `OK`).
    Flush {
        delay: i32,
    },
}

impl<'a> KeyOp<'a> {
    /// The key this op is for (`None` for a flush); a meta request's base64 key is decoded
    /// into `decoded`.
    pub fn key<'s>(&'s self, decoded: &'s mut KeyBuf) -> Option<&'s [u8]> {
        match self {
            KeyOp::Meta(req) => Some(req.key(decoded)),
            _ => self.plain_key(),
        }
    }

    /// The key of an op that is not a meta request (`None` for a flush and a meta request).
    pub fn plain_key(&self) -> Option<&'a [u8]> {
        match *self {
            KeyOp::Meta(_) => None,
            KeyOp::Bin(req) => Some(req.key),
            KeyOp::Get { key, .. }
            | KeyOp::Store { key, .. }
            | KeyOp::TooLarge { key, .. }
            | KeyOp::Delete { key, .. }
            | KeyOp::Arith { key, .. }
            | KeyOp::Touch { key, .. } => Some(key),
            KeyOp::Flush { .. } => None,
        }
    }
}

/// Where replies are written. A value may be held in place rather than copied, by a sink
/// that pins it ([`StoreValue::pin`]: the store then leaves it as it is until the pin
/// drops); the default copies.
pub trait ReplySink {
    fn bytes(&mut self) -> &mut Vec<u8>;
    fn value(&mut self, v: StoreValue<'_>) {
        self.bytes().extend_from_slice(v.bytes());
    }
}

impl ReplySink for Vec<u8> {
    fn bytes(&mut self) -> &mut Vec<u8> {
        self
    }
}

/// Runs `op` against `store` at unix time `now` and appends its reply to `sink`, counting
/// into `counters` (the shard's, which the store also reports into).
///
/// A get, the common request, runs inline where this is called (a connection's own ops, a
/// peer's batch), without a call through the dispatch below. Every other op goes through
/// `apply_other`.
#[inline(always)]
pub fn apply<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    op: &KeyOp<'_>,
    now: u32,
    sink: &mut R,
) {
    match *op {
        KeyOp::Get {
            kind,
            exptime,
            key,
            hash,
        } => text::get(store, counters, kind, exptime, key, hash, now, sink),
        _ => apply_other(store, counters, op, now, sink),
    }
}

/// [`apply`] for every op but a get.
fn apply_other<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    op: &KeyOp<'_>,
    now: u32,
    sink: &mut R,
) {
    match *op {
        KeyOp::Get { .. } => unreachable!("apply runs gets itself"),
        KeyOp::Meta(req) => meta::execute(store, counters, req, now, sink),
        KeyOp::Bin(req) => binary::execute(store, counters, req, now, sink),
        _ => text::execute(store, counters, op, now, sink),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_reply_formats() {
        let mut s = Store::builder().build();
        let mut out = Vec::new();
        let set = KeyOp::Store {
            mode: StoreMode::Set,
            key: b"k",
            flags: 5,
            exptime: 0,
            cas: 0,
            data: b"hello",
            noreply: false,
        };
        let c = s.counters().clone();
        apply(&mut s, &c, &set, 1000, &mut out);
        for kind in [GetKind::Get, GetKind::Gets] {
            apply(
                &mut s,
                &c,
                &KeyOp::Get {
                    kind,
                    exptime: 0,
                    key: b"k",
                    hash: None,
                },
                1000,
                &mut out,
            );
        }
        assert_eq!(
            out,
            b"STORED\r\nVALUE k 5 5\r\nhello\r\nVALUE k 5 5 1\r\nhello\r\n".to_vec()
        );
    }
}
