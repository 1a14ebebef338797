//! What the engine runs and where it writes: one key's operation ([`KeyOp`]) and the sink
//! its reply goes to ([`ReplySink`]). Apart from `engine/mod.rs` so that the files that run,
//! encode and format ops import it without importing the module that calls them.

use crate::protocol::binary::BinRequest;
use crate::protocol::{GetKind, KeyBuf, MetaRequest, StoreMode};
use crate::store::StoreValue;

/// One operation on one key (or, for `Flush`, on a whole shard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOp<'a> {
    /// A meta command (`mg ms md ma me`), run by [`super::meta::execute`]. Forwarded as its raw
    /// bytes, which the owner parses again.
    Meta(&'a MetaRequest<'a>),
    /// A binary-protocol packet for one key, run by [`super::binary::execute`]. Forwarded as its
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
