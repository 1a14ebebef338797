//! The text protocol's ops: what one shard does for a `get`, a storage command, `delete`,
//! `incr`/`decr`, `touch` or `flush_all` on one key, and the reply line it writes. A new
//! text command for a key is an arm of `execute` (see `engine/op.rs`).

use super::format::{push_value, push_value_line, SHORT_VALUE};
use super::op::ReplySink;
use crate::num::push_u64;
use crate::protocol::{Command, GetKind, Request, StoreMode, TOO_LARGE};
use crate::stats::{Counters, Stat};
use crate::store::{Delta, MetaArith, Store, StoreResult};

fn line(out: &mut Vec<u8>, noreply: bool, s: &[u8]) {
    if !noreply {
        out.extend_from_slice(s);
        out.extend_from_slice(b"\r\n");
    }
}

/// [`super::apply`] for a `get`, `gets`, `gat` or `gats` of one key.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn get<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    kind: GetKind,
    exptime: i32,
    key: &[u8],
    hash: Option<u64>,
    now: u32,
    sink: &mut R,
) {
    let hit = if kind.touches() {
        counters.incr(Stat::CmdTouch);
        let exp = store.abs_exptime(exptime, now);
        store.get_and_touch(key, exp, now)
    } else {
        // memcached counts gat/gats as touches only, not as gets.
        counters.incr(Stat::CmdGet);
        store.get_hashed(key, hash, now)
    };
    let (hit_stat, miss_stat) = if kind.touches() {
        (Stat::TouchHits, Stat::TouchMisses)
    } else {
        (Stat::GetHits, Stat::GetMisses)
    };
    match hit {
        Some(it) => {
            counters.incr(hit_stat);
            let cas = kind.returns_cas().then_some(it.cas);
            if it.value.len() <= SHORT_VALUE {
                push_value(sink.bytes(), key, it.flags, it.value, cas);
            } else {
                push_value_line(sink.bytes(), key, it.flags, it.value.len(), cas);
                sink.value(it.stored());
                sink.bytes().extend_from_slice(b"\r\n");
            }
        }
        None => counters.incr(miss_stat),
    }
}

/// [`super::apply`] for a text request other than a get, for `key` (its one key).
#[inline(always)]
pub(super) fn execute<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    req: &Request<'_>,
    key: &[u8],
    now: u32,
    sink: &mut R,
) {
    let noreply = req.noreply;
    match req.cmd {
        Command::Store {
            mode: m,
            flags,
            exptime,
            cas,
            data,
            ..
        } => {
            counters.incr(Stat::CmdSet);
            let exp = store.abs_exptime(exptime, now);
            let reply: &[u8] = match store.store(m, key, flags, exp, cas, data, now) {
                StoreResult::Stored => b"STORED",
                StoreResult::NotStored => b"NOT_STORED",
                StoreResult::Exists => b"EXISTS",
                StoreResult::NotFound => b"NOT_FOUND",
                StoreResult::NoMemory => b"SERVER_ERROR out of memory storing object",
            };
            line(sink.bytes(), noreply, reply);
        }
        Command::TooLarge { mode: m, .. } => {
            counters.incr(Stat::StoreTooLarge);
            if m == StoreMode::Set {
                store.remove(key, now);
            }
            line(sink.bytes(), noreply, TOO_LARGE.as_bytes());
        }
        Command::Delete { .. } => {
            if store.delete(key, now) {
                counters.incr(Stat::DeleteHits);
                line(sink.bytes(), noreply, b"DELETED");
            } else {
                counters.incr(Stat::DeleteMisses);
                line(sink.bytes(), noreply, b"NOT_FOUND");
            }
        }
        Command::Arith { incr, delta, .. } => {
            match store.add_delta(key, Delta::incr_decr(incr, delta), now) {
                MetaArith::Done { value: v, .. } => {
                    counters.incr(if incr { Stat::IncrHits } else { Stat::DecrHits });
                    if !noreply {
                        let out = sink.bytes();
                        push_u64(out, v);
                        out.extend_from_slice(b"\r\n");
                    }
                }
                MetaArith::NotFound => {
                    counters.incr(if incr {
                        Stat::IncrMisses
                    } else {
                        Stat::DecrMisses
                    });
                    line(sink.bytes(), noreply, b"NOT_FOUND");
                }
                MetaArith::NonNumeric => line(
                    sink.bytes(),
                    noreply,
                    b"CLIENT_ERROR cannot increment or decrement non-numeric value",
                ),
                MetaArith::NoMemory => line(sink.bytes(), noreply, b"SERVER_ERROR out of memory"),
                MetaArith::CasMismatch => unreachable!("incr and decr compare no CAS"),
            }
        }
        Command::Touch { exptime, .. } => {
            counters.incr(Stat::CmdTouch);
            let exp = store.abs_exptime(exptime, now);
            if store.touch(key, exp, now) {
                counters.incr(Stat::TouchHits);
                line(sink.bytes(), noreply, b"TOUCHED");
            } else {
                counters.incr(Stat::TouchMisses);
                line(sink.bytes(), noreply, b"NOT_FOUND");
            }
        }
        // Sent to every shard; writes nothing (the connection answers `OK`).
        Command::FlushAll { delay } => flush(store, delay, now),
        Command::Get { .. } => unreachable!("apply runs gets itself"),
        Command::Version
        | Command::Verbosity { .. }
        | Command::Stats { .. }
        | Command::Quit
        | Command::MetaNoop
        | Command::Meta(_)
        | Command::Shutdown { .. }
        | Command::RefreshCerts
        | Command::LruCrawler(_)
        | Command::CacheMemlimit { .. }
        | Command::Tune(_)
        | Command::Watch { .. }
        | Command::Error(_)
        | Command::ErrorSwallow { .. } => {
            unreachable!("the connection answers {:?} itself", req.cmd)
        }
    }
}

/// `flush_all` (text or binary) on this shard's store.
pub(super) fn flush(store: &mut Store, delay: i32, now: u32) {
    // memcached: a positive delay is an exptime; zero or negative flushes now.
    let at = if delay > 0 {
        store.abs_exptime(delay, now)
    } else {
        0
    };
    store.flush_all(at, now);
}
