//! What the engine runs and where it writes: one request for one key ([`KeyOp`]) and the
//! sink its reply goes to ([`ReplySink`]). Apart from `engine/mod.rs` so that the files that
//! run, encode and format ops import it without importing the module that calls them.
//!
//! An op is the parsed request itself, as the protocol's parser gave it, not a copy of its
//! fields: the connection routes it, [`super::apply`] runs it, and a forwarded one travels
//! as its bytes ([`super::wire`]) and is parsed again on its owner. So a new text command
//! touches three places:
//!
//! 1. `protocol/`: its [`crate::protocol::Command`] variant, with its key in
//!    [`crate::protocol::Command::key`] (an exhaustive match), and its parser in
//!    `protocol/text.rs`;
//! 2. `engine/text.rs`: its arm in `execute`, which runs it against the store;
//! 3. the same arm writes its reply, with the formatters of `engine/format.rs`.
//!
//! The connection routes any command for one key without knowing which it is, and
//! forwarding carries its bytes whatever they say. The compiler points at the first two
//! places: both matches are exhaustive. A command the connection answers itself
//! (`version`, `stats`, …) has no key and is an arm of `conn/handle.rs`'s `handle` instead
//! (and one of the commands `engine/text.rs` never sees).

use crate::protocol::binary::BinRequest;
use crate::protocol::{Command, KeyBuf, MetaRequest, Request};
use crate::store::StoreValue;

/// One request for one key (or, for `flush_all`, for a whole shard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOp<'a> {
    /// A text-protocol request, run by [`super::text`].
    Text {
        req: &'a Request<'a>,
        /// The request's bytes as received: its line and, for a storage command, its data
        /// block (not a too-large value's, which the connection discards). A forwarded op
        /// travels as these, except one key of a multi-key get, which travels as a get of
        /// that key alone.
        raw: &'a [u8],
        /// The key this op is for: the command's one key, or the one key of a multi-key
        /// get; empty for `flush_all`.
        key: &'a [u8],
        /// The store's hash of `key`, when the connection computed it (to route it, or to
        /// prefetch): a get looks its key up with it, and it travels with a forwarded op.
        hash: Option<u64>,
    },
    /// A meta command (`mg ms md ma me`), run by [`super::meta::execute`].
    Meta(&'a MetaRequest<'a>),
    /// A binary-protocol packet for one key, or a flush, run by [`super::binary::execute`].
    Bin(&'a BinRequest<'a>),
}

impl<'a> KeyOp<'a> {
    /// The key this op is for (`None` for a flush); a meta request's base64 key is decoded
    /// into `decoded`.
    pub fn key<'s>(&'s self, decoded: &'s mut KeyBuf) -> Option<&'s [u8]> {
        match *self {
            KeyOp::Text { key, .. } => (!key.is_empty()).then_some(key),
            KeyOp::Meta(req) => Some(req.key(decoded)),
            KeyOp::Bin(req) => (!req.key.is_empty()).then_some(req.key),
        }
    }

    /// Whether this is one key of a `get`, `gets`, `gat` or `gats`.
    #[inline(always)]
    pub fn is_get(&self) -> bool {
        matches!(
            self,
            KeyOp::Text {
                req: Request {
                    cmd: Command::Get { .. },
                    ..
                },
                ..
            }
        )
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
