//! Key operations: what one shard does for one key, and the reply bytes it writes.
//!
//! [`KeyOp`] and [`ReplySink`] are in `engine/op.rs` (with the places a new command
//! touches), [`apply`] here; the text protocol's ops run in [`text`], the meta commands' in
//! [`meta`] and the binary protocol's in [`binary`]. The owner of a key formats its reply in
//! the protocol of the connection that asked, so forwarded replies splice in as bytes
//! whatever the protocol.
//!
//! The connection makes a [`KeyOp`] of every request for a key, one per key of a multi-key
//! `get`: the parsed request itself, with the key. It runs the ops for local keys at once
//! with [`apply`], and forwards the others to their owners as their bytes ([`wire`]), so
//! that a whole batch for one peer travels as one buffer and the owner parses each again
//! and runs the same [`apply`]. This module knows the store and memcached's reply formats;
//! it knows nothing of sockets or cores.

pub mod binary;
pub mod format;
pub mod meta;
mod op;
pub mod reply;
pub mod text;
mod watch;
pub mod wire;

pub use op::{KeyOp, ReplySink};

use crate::protocol::{Command, Request};
use crate::stats::{Counters, PrefixOp, Stat};
use crate::store::Store;

/// Runs `op` against `store` at unix time `now` and appends its reply to `sink`, counting
/// into `counters` (the shard's, which the store also reports into).
///
/// A get, the common request, runs inline where this is called (a connection's own ops, a
/// peer's batch), without a call through the dispatch below. Every other op goes through
/// `apply_other`. While someone watches (`watch`), ops go through `watch::apply_watched`,
/// which logs their lines around this.
#[inline(always)]
pub fn apply<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    op: &KeyOp<'_>,
    now: u32,
    sink: &mut R,
) {
    if counters.watch.on() {
        return watch::apply_watched(store, counters, op, now, sink);
    }
    apply_unwatched(store, counters, op, now, sink)
}

/// [`apply`] without the watchers' lines.
#[inline(always)]
fn apply_unwatched<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    op: &KeyOp<'_>,
    now: u32,
    sink: &mut R,
) {
    if counters.detail.is_on() {
        return apply_counting_prefixes(store, counters, op, now, sink);
    }
    if let KeyOp::Text {
        req: Request {
            cmd: Command::Get { kind, exptime, .. },
            ..
        },
        key,
        hash,
        ..
    } = *op
    {
        text::get(store, counters, *kind, *exptime, key, hash, now, sink)
    } else {
        apply_other(store, counters, op, now, sink)
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
        KeyOp::Text {
            req:
                Request {
                    cmd: Command::Get { kind, exptime, .. },
                    ..
                },
            key,
            hash,
            ..
        } => {
            text::get(store, counters, *kind, *exptime, key, hash, now, sink);
            let hit = hits() != before;
            counters.detail.count(key, PrefixOp::Get { hit });
        }
        _ => {
            apply_other(store, counters, op, now, sink);
            if let KeyOp::Text { req, key, .. } = *op {
                match req.cmd {
                    Command::Store { .. } => counters.detail.count(key, PrefixOp::Set),
                    Command::Delete { .. } => counters.detail.count(key, PrefixOp::Delete),
                    _ => {}
                }
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
        KeyOp::Text { req, key, .. } => text::execute(store, counters, req, key, now, sink),
        KeyOp::Meta(req) => meta::execute(store, counters, req, now, sink),
        KeyOp::Bin(req) => binary::execute(store, counters, req, now, sink),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{text, Limits, Parse};

    /// Runs each request of `input` for its one key, as a connection runs a local one.
    fn run(s: &mut Store, input: &[u8], out: &mut Vec<u8>) {
        let limits = Limits {
            item_size_max: 1 << 20,
            use_cas: true,
        };
        let c = s.counters().clone();
        let mut pos = 0;
        while pos < input.len() {
            let Parse::Done(req, used) = text::parse(&input[pos..], &limits) else {
                panic!("not a whole request at {pos}");
            };
            let key = req.cmd.key().expect("a request for one key");
            let op = KeyOp::Text {
                req: &req,
                raw: &input[pos..pos + used],
                key,
                hash: None,
            };
            apply(s, &c, &op, 1000, out);
            pos += used;
        }
    }

    #[test]
    fn get_reply_formats() {
        let mut s = Store::builder().build();
        let mut out = Vec::new();
        run(
            &mut s,
            b"set k 5 0 5\r\nhello\r\nget k\r\ngets k\r\n",
            &mut out,
        );
        assert_eq!(
            out,
            b"STORED\r\nVALUE k 5 5\r\nhello\r\nVALUE k 5 5 1\r\nhello\r\n".to_vec()
        );
    }
}
