//! Key operations: what one shard does for one key, and the reply bytes it writes.
//!
//! [`KeyOp`] and [`ReplySink`] are in `engine/op.rs`, [`apply`] here; the text protocol's ops run in [`text`], the meta
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
mod op;
pub mod reply;
pub mod text;
pub mod wire;

pub use op::{KeyOp, ReplySink};

use crate::stats::{Counters, PrefixOp, Stat};
use crate::store::Store;

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
    if counters.detail.is_on() {
        return apply_counting_prefixes(store, counters, op, now, sink);
    }
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

/// [`apply`] while `stats detail` is on: the text protocol's gets, storage commands and
/// deletes also count under their key's prefix, as memcached counts them.
#[inline(never)]
fn apply_counting_prefixes<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    op: &KeyOp<'_>,
    now: u32,
    sink: &mut R,
) {
    let hits = || counters.get(Stat::GetHits) + counters.get(Stat::TouchHits);
    let before = hits();
    match *op {
        KeyOp::Get {
            kind,
            exptime,
            key,
            hash,
        } => {
            text::get(store, counters, kind, exptime, key, hash, now, sink);
            let hit = hits() != before;
            counters.detail.count(key, PrefixOp::Get { hit });
        }
        _ => {
            apply_other(store, counters, op, now, sink);
            match *op {
                KeyOp::Store { key, .. } => counters.detail.count(key, PrefixOp::Set),
                KeyOp::Delete { key, .. } => counters.detail.count(key, PrefixOp::Delete),
                _ => {}
            }
        }
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
    use crate::protocol::{GetKind, StoreMode};

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
