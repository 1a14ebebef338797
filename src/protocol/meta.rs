//! memcached's meta commands (`mg ms md ma me`; `mn` is in [`super::text`]), memcached 1.6
//! `proto_text.c` and `doc/protocol.txt` "Meta Commands". Pure and allocation-free.
//!
//! SKELETON: the parser is being written; only the types the connection and the forwarding
//! path rely on are fixed here.

/// Which meta command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaCmd {
    Get,
    Set,
    Delete,
    Arith,
    Debug,
}

/// A parsed meta request. Everything the owner shard needs to run it and format its reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaRequest<'a> {
    /// The whole request as received: the line and, for `ms`, its data block. Forwarding
    /// sends these bytes and the owner parses them again with [`reparse`].
    pub raw: &'a [u8],
    pub cmd: MetaCmd,
    key: &'a [u8],
    /// Bytes of data block to discard after `raw` (an `ms` whose value is too large).
    swallow: usize,
}

impl<'a> MetaRequest<'a> {
    /// The key the command is for (base64-decoded with the `b` flag): it picks the shard.
    pub fn key(&self) -> &[u8] {
        self.key
    }

    /// Bytes of data block the connection discards after this request.
    pub fn swallow(&self) -> usize {
        self.swallow
    }
}

/// Parses again a request that [`super::text::parse`] accepted as a meta command
/// (a forwarded one, on its owner shard).
pub fn reparse<'a>(raw: &'a [u8], _limits: &super::text::Limits) -> MetaRequest<'a> {
    MetaRequest {
        raw,
        cmd: MetaCmd::Get,
        key: raw,
        swallow: 0,
    }
}
