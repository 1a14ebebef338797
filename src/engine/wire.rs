//! The forwarding encoding of [`KeyOp`]s: how a batch of ops for one peer shard travels as
//! one buffer, and how the owner reads and runs it.
//!
//! An op travels as the request's own bytes, which the owner parses again with the same
//! pure parser: nothing here knows one command from another, so a new command needs
//! nothing here. One key of a multi-key get travels as a get of that key alone
//! ([`crate::protocol::text::push_get_line`]). Each entry is a fixed head (a tag naming the
//! protocol, the bytes' length, the key's hash when the op carries it, so the owner neither
//! parses to prefetch nor hashes the key again) and then the bytes. Only ever read back in
//! the same process, by a shard with the same settings.

use super::apply;
use super::op::{KeyOp, ReplySink};
use crate::protocol::{binary, meta, text, Command, Limits, Parse};
use crate::stats::Counters;
use crate::store::Store;

const T_TEXT: u8 = 1;
const T_META: u8 = 2;
const T_BIN: u8 = 3;
/// Set in the tag when the head's hash is the key's.
const HASHED: u8 = 0x80;
/// An entry's head: tag, length of the bytes (u32), hash (u64), little-endian.
const HEAD: usize = 13;

#[inline(always)]
fn put_head(buf: &mut Vec<u8>, tag: u8, hash: Option<u64>, len: usize) {
    let mut head = [0u8; HEAD];
    head[0] = tag | if hash.is_some() { HASHED } else { 0 };
    head[1..5].copy_from_slice(&(len as u32).to_le_bytes());
    head[5..13].copy_from_slice(&hash.unwrap_or(0).to_le_bytes());
    buf.extend_from_slice(&head);
}

#[inline(always)]
fn put(buf: &mut Vec<u8>, tag: u8, hash: Option<u64>, raw: &[u8]) {
    buf.reserve(HEAD + raw.len());
    put_head(buf, tag, hash, raw.len());
    buf.extend_from_slice(raw);
}

/// One entry as read: its tag without [`HASHED`], its key's hash if it carries it, the
/// request's bytes, and the bytes the entry uses.
struct Entry<'a> {
    tag: u8,
    hash: Option<u64>,
    raw: &'a [u8],
    used: usize,
}

#[inline(always)]
fn entry(buf: &[u8]) -> Entry<'_> {
    let tag = buf[0];
    let len = u32::from_le_bytes(buf[1..5].try_into().unwrap()) as usize;
    let hash = (tag & HASHED != 0).then(|| u64::from_le_bytes(buf[5..13].try_into().unwrap()));
    Entry {
        tag: tag & !HASHED,
        hash,
        raw: &buf[HEAD..HEAD + len],
        used: HEAD + len,
    }
}

impl KeyOp<'_> {
    /// Appends this op's encoding to `buf`.
    #[inline(always)]
    pub fn encode(&self, buf: &mut Vec<u8>) {
        match *self {
            KeyOp::Text {
                req,
                raw,
                key,
                hash,
            } => {
                if let Command::Get {
                    kind,
                    exptime,
                    keys,
                    ..
                } = req.cmd
                {
                    if !keys.is_single() {
                        let at = buf.len();
                        put_head(buf, T_TEXT, hash, 0);
                        text::push_get_line(buf, kind, exptime, key);
                        let len = (buf.len() - at - HEAD) as u32;
                        buf[at + 1..at + 5].copy_from_slice(&len.to_le_bytes());
                        return;
                    }
                }
                put(buf, T_TEXT, hash, raw);
            }
            KeyOp::Meta(req) => put(buf, T_META, None, req.raw),
            KeyOp::Bin(req) => put(buf, T_BIN, None, req.raw),
        }
    }
}

/// The key's hash ([`crate::store::key_hash`]) of the encoded op at the start of `buf`, for
/// prefetching, when the op carries it, and the bytes the op uses. Read in place: nothing
/// is parsed. Forwarded meta and binary requests carry none.
#[inline(always)]
pub fn encoded_hash(buf: &[u8]) -> (Option<u64>, usize) {
    let e = entry(buf);
    (e.hash, e.used)
}

/// Parses the encoded op at the start of `buf` again, as its owner does, and hands it to
/// `f`; returns what `f` returns and the bytes the op used. `limits` must be the sender's
/// (every shard has the same).
#[inline(always)]
pub fn decode<T>(buf: &[u8], limits: &Limits, f: impl FnOnce(&KeyOp<'_>) -> T) -> (T, usize) {
    let e = entry(buf);
    let t = match e.tag {
        T_TEXT => {
            let req = match text::parse(e.raw, limits) {
                Parse::Done(req, _) => req,
                other => unreachable!("a forwarded text request parses again: {other:?}"),
            };
            f(&KeyOp::Text {
                req: &req,
                raw: e.raw,
                key: req.cmd.key().unwrap_or_default(),
                hash: e.hash,
            })
        }
        T_META => f(&KeyOp::Meta(&meta::reparse(e.raw, limits))),
        T_BIN => f(&KeyOp::Bin(&binary::reparse(e.raw))),
        t => unreachable!("corrupt forwarded op tag {t}"),
    };
    (t, e.used)
}

/// Runs the encoded op at the start of `buf` (a forwarded one) like [`apply`] and returns
/// the bytes it used. `check` sees the op first (fault injection).
pub fn apply_encoded<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    buf: &[u8],
    limits: &Limits,
    now: u32,
    sink: &mut R,
    check: impl FnOnce(&KeyOp<'_>),
) -> usize {
    let ((), used) = decode(buf, limits, |op| {
        check(op);
        apply(store, counters, op, now, sink);
    });
    used
}

#[cfg(test)]
mod tests;
