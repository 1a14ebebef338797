//! The meta commands run against a store, with memcached 1.6.18's meta reply formats
//! (`process_mget_command`, `process_mset_command` with `_finalize_mset`,
//! `process_mdelete_command`, `process_marithmetic_command`, `process_meta_command`).
//!
//! Replies are built in request flag order. Quiet mode (`q`) drops what memcached drops:
//! `EN` of `mg`, `HD` of `ms` and `md`, every success of `ma` (but not an autovivified
//! one); errors are never dropped. An over-long opaque is found only while the reply is
//! built, as in memcached: changes made before it (a TTL set by an earlier `T`, an
//! autovivified item) stay, and the reply is the error alone.

use super::op::ReplySink;
use crate::num::push_u64;
use crate::protocol::base64::base64_encode;
use crate::protocol::meta::{MAX_OPAQUE, OPAQUE_TOO_LONG};
use crate::protocol::{MetaCmd, MetaRequest, BAD_CHUNK, TOO_LARGE};
use crate::stats::{Counters, Stat};
use crate::store::{Delta, MetaArith, MetaDelete, MetaInfo, Mode, Store, StoreResult};

/// Runs one meta command at unix time `now` and appends its reply (nothing when quiet mode
/// suppresses it) to `sink`.
pub fn execute<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    req: &MetaRequest<'_>,
    now: u32,
    sink: &mut R,
) {
    let mut decoded = None;
    let key = req.key(&mut decoded);
    let cx = Ctx {
        store,
        counters,
        now,
    };
    match req.cmd {
        MetaCmd::Get => get(cx, req, key, sink),
        MetaCmd::Set => set(cx, req, key, sink.bytes()),
        MetaCmd::Delete => delete(cx, req, key, sink.bytes()),
        MetaCmd::Arith => arith(cx, req, key, sink.bytes()),
        MetaCmd::Debug => debug(cx, key, sink.bytes()),
    }
}

/// What a meta command runs against: the shard's store and counters, at unix time `now`.
struct Ctx<'s> {
    store: &'s mut Store,
    counters: &'s Counters,
    now: u32,
}

fn line(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn is_long_opaque(tok: &[u8]) -> bool {
    tok[0] == b'O' && tok.len() > MAX_OPAQUE
}

/// memcached's `META_KEY`: ` k<key>`, or ` k<base64 key> b` for a binary key.
fn push_key(out: &mut Vec<u8>, key: &[u8], binary: bool) {
    out.extend_from_slice(b" k");
    if binary {
        base64_encode(key, out);
        out.extend_from_slice(b" b");
    } else {
        out.extend_from_slice(key);
    }
}

fn push_flag(out: &mut Vec<u8>, flag: u8, v: u64) {
    out.push(b' ');
    out.push(flag);
    push_u64(out, v);
}

/// ` t<seconds left>`, ` t-1` for no expiry (memcached's unsigned difference).
fn push_ttl(out: &mut Vec<u8>, exptime: u32, now: u32) {
    if exptime == 0 {
        out.extend_from_slice(b" t-1");
    } else {
        push_flag(out, b't', u64::from(exptime.wrapping_sub(now)));
    }
}

/// The flags that are answered whatever the outcome: ` O<opaque>` and the key.
/// False on an over-long opaque.
fn push_opaque_and_key(out: &mut Vec<u8>, req: &MetaRequest<'_>, key: &[u8]) -> bool {
    for tok in req.flags() {
        match tok[0] {
            b'O' if tok.len() > MAX_OPAQUE => return false,
            b'O' => {
                out.push(b' ');
                out.extend_from_slice(tok);
            }
            b'k' => push_key(out, key, req.key_binary),
            _ => {}
        }
    }
    true
}

/// The exptime a request's `T` and (for a created item) `N` flags leave, taken in order
/// up to the first over-long opaque; `start` before any. Also whether there was one.
fn final_exptime(
    store: &Store,
    req: &MetaRequest<'_>,
    created: bool,
    start: u32,
    now: u32,
) -> (u32, bool) {
    let mut exp = start;
    for tok in req.flags() {
        match tok[0] {
            _ if is_long_opaque(tok) => return (exp, true),
            b'T' => exp = store.abs_exptime(req.f.ttl.unwrap_or(0), now),
            b'N' if created => exp = store.abs_exptime(req.f.vivify.unwrap_or(0), now),
            _ => {}
        }
    }
    (exp, false)
}

fn get<R: ReplySink>(cx: Ctx<'_>, req: &MetaRequest<'_>, key: &[u8], sink: &mut R) {
    let (store, counters, now) = (cx.store, cx.counters, cx.now);
    let f = &req.f;
    let mut found = store.meta_find(key, now);
    let mut created = false;
    if found.is_none() && f.vivify.is_some() {
        let (exp, bad_opaque) = final_exptime(store, req, true, 0, now);
        found = store.meta_vivify(key, exp, !bad_opaque, now);
        created = found.is_some();
    }
    let Some(mut it) = found else {
        counters.incr(Stat::CmdGet);
        counters.incr(Stat::GetMisses);
        let out = sink.bytes();
        let start = out.len();
        out.extend_from_slice(b"EN");
        if !push_opaque_and_key(out, req, key) {
            out.truncate(start);
            line(out, OPAQUE_TOO_LONG);
        } else if f.quiet {
            out.truncate(start);
        } else {
            out.extend_from_slice(b"\r\n");
        }
        return;
    };
    // The item as it was before this command (a created one: as memcached allocated it).
    let mut info: MetaInfo = store.meta_info(&it);
    if created {
        info.exptime = 0;
        info.win_sent = false;
    }
    let out = sink.bytes();
    let start = out.len();
    if f.value {
        out.extend_from_slice(b"VA ");
        push_u64(out, info.vlen as u64);
    } else {
        out.extend_from_slice(b"HD");
    }
    let mut exp = info.exptime;
    let mut ttl_set = false;
    let mut won = false;
    let mut bad_opaque = false;
    for tok in req.flags() {
        match tok[0] {
            b'T' => {
                ttl_set = true;
                exp = store.abs_exptime(f.ttl.unwrap_or(0), now);
            }
            b'N' if created => {
                exp = store.abs_exptime(f.vivify.unwrap_or(0), now);
                won = true;
            }
            b'R' => {
                let recache = store.abs_exptime(f.recache.unwrap_or(0), now);
                if !info.win_sent && !created && exp != 0 && exp < recache {
                    won = true;
                }
            }
            b's' => push_flag(out, b's', info.vlen as u64),
            b't' => push_ttl(out, exp, now),
            b'c' => push_flag(out, b'c', info.cas),
            b'f' => push_flag(out, b'f', u64::from(info.flags)),
            b'l' => push_flag(out, b'l', u64::from(info.idle(now))),
            b'h' => push_flag(out, b'h', u64::from(info.fetched)),
            b'O' if tok.len() > MAX_OPAQUE => {
                bad_opaque = true;
                break;
            }
            b'O' => {
                out.push(b' ');
                out.extend_from_slice(tok);
            }
            b'k' => push_key(out, key, info.key_binary),
            _ => {}
        }
    }
    if ttl_set && !created {
        store.meta_set_exptime(&mut it, exp);
    }
    if bad_opaque {
        let out = sink.bytes();
        out.truncate(start);
        line(out, OPAQUE_TOO_LONG);
        return;
    }
    if info.win_sent {
        out.extend_from_slice(b" Z");
    }
    if info.stale {
        out.extend_from_slice(b" X");
        if !info.win_sent {
            won = true;
        }
    }
    if won {
        out.extend_from_slice(b" W");
    }
    out.extend_from_slice(b"\r\n");
    if won && !created {
        store.meta_set_win_sent(&mut it);
    }
    if !f.no_update {
        store.meta_bump(&it);
    }
    if ttl_set {
        counters.incr(Stat::CmdTouch);
        counters.incr(Stat::TouchHits);
    } else {
        counters.incr(Stat::CmdGet);
        counters.incr(Stat::GetHits);
    }
    if f.value {
        sink.value(store.meta_stored(&it));
        sink.bytes().extend_from_slice(b"\r\n");
    }
}

fn set(cx: Ctx<'_>, req: &MetaRequest<'_>, key: &[u8], out: &mut Vec<u8>) {
    let (store, counters, now) = (cx.store, cx.counters, cx.now);
    let f = &req.f;
    if req.too_large {
        // memcached could not allocate the item: the old one goes, so no stale value stays.
        counters.incr(Stat::StoreTooLarge);
        store.remove(key, now);
        line(out, TOO_LARGE);
        return;
    }
    counters.incr(Stat::CmdSet);
    if req.bad_chunk {
        line(out, BAD_CHUNK);
        return;
    }
    let mode = ms_mode(f);
    let exptime = store.abs_exptime(f.ttl.unwrap_or(0), now);
    let cas = if f.has_cas { f.cas } else { 0 };
    let result = store.meta_store(
        mode,
        key,
        f.client_flags,
        exptime,
        cas,
        f.invalidate,
        req.key_binary,
        req.data,
        now,
    );
    let code: &[u8] = match result {
        StoreResult::Stored if f.quiet => return,
        StoreResult::Stored => b"HD",
        StoreResult::NotStored => b"NS",
        StoreResult::Exists => b"EX",
        StoreResult::NotFound => b"NF",
        StoreResult::NoMemory => {
            line(out, "SERVER_ERROR out of memory storing object");
            return;
        }
    };
    let new_cas = if result == StoreResult::Stored {
        store.last_cas()
    } else {
        0
    };
    out.extend_from_slice(code);
    for tok in req.flags() {
        match tok[0] {
            b'O' => {
                out.push(b' ');
                out.extend_from_slice(tok);
            }
            b'k' => push_key(out, key, req.key_binary),
            b'c' => push_flag(out, b'c', new_cas),
            _ => {}
        }
    }
    out.extend_from_slice(b"\r\n");
}

fn delete(cx: Ctx<'_>, req: &MetaRequest<'_>, key: &[u8], out: &mut Vec<u8>) {
    let (store, counters, now) = (cx.store, cx.counters, cx.now);
    let f = &req.f;
    let exptime = f.ttl.map(|t| store.abs_exptime(t, now));
    let cas = f.has_cas.then_some(f.cas);
    let code: &[u8] = match store.meta_delete(key, cas, f.invalidate, exptime, now) {
        MetaDelete::Deleted => {
            counters.incr(Stat::DeleteHits);
            b"HD"
        }
        MetaDelete::Invalidated => b"HD",
        MetaDelete::Exists => {
            counters.incr(Stat::DeleteMisses);
            b"EX"
        }
        MetaDelete::NotFound => {
            counters.incr(Stat::DeleteMisses);
            b"NF"
        }
    };
    if f.quiet && code == b"HD" {
        return;
    }
    out.extend_from_slice(code);
    // The parser refused over-long opaques already.
    push_opaque_and_key(out, req, key);
    out.extend_from_slice(b"\r\n");
}

fn arith(cx: Ctx<'_>, req: &MetaRequest<'_>, key: &[u8], out: &mut Vec<u8>) {
    let (store, counters, now) = (cx.store, cx.counters, cx.now);
    let f = &req.f;
    let incr = !matches!(f.mode, b'D' | b'-');
    let start = out.len();
    let delta = Delta {
        incr,
        delta: f.delta,
        cas: f.cas,
        meta: true,
    };
    // The live item when its TTL can still change, the number, its unique and exptime.
    let (mut live, value, cas, exptime, created) = match store.add_delta(key, delta, now) {
        MetaArith::Done {
            value,
            cas,
            exptime,
            item,
        } => {
            counters.incr(if incr { Stat::IncrHits } else { Stat::DecrHits });
            (item, value, cas, exptime, false)
        }
        MetaArith::NonNumeric => {
            line(
                out,
                "CLIENT_ERROR cannot increment or decrement non-numeric value",
            );
            return;
        }
        MetaArith::NoMemory => {
            line(out, "SERVER_ERROR out of memory");
            return;
        }
        MetaArith::CasMismatch => return no_item(out, req, key, b"EX"),
        MetaArith::NotFound if f.vivify.is_none() => {
            counters.incr(if incr {
                Stat::IncrMisses
            } else {
                Stat::DecrMisses
            });
            return no_item(out, req, key, b"NF");
        }
        MetaArith::NotFound => {
            let (exp, _) = final_exptime(store, req, true, 0, now);
            match store.meta_arith_vivify(key, f.initial, exp, now) {
                Some(it) => {
                    let cas = store.meta_info(&it).cas;
                    (Some(it), f.initial, cas, 0, true)
                }
                None => {
                    line(out, "SERVER_ERROR Out of memory allocating new item");
                    return;
                }
            }
        }
    };
    let mut digits = Vec::with_capacity(20);
    push_u64(&mut digits, value);
    if f.value {
        out.extend_from_slice(b"VA ");
        push_u64(out, digits.len() as u64);
    } else {
        out.extend_from_slice(b"HD");
    }
    let mut exp = exptime;
    let mut ttl_set = false;
    let mut bad_opaque = false;
    for tok in req.flags() {
        match tok[0] {
            b'c' => push_flag(out, b'c', cas),
            b't' => push_ttl(out, exp, now),
            b'T' => {
                exp = store.abs_exptime(f.ttl.unwrap_or(0), now);
                ttl_set = true;
            }
            b'N' if created => exp = store.abs_exptime(f.vivify.unwrap_or(0), now),
            b'O' if tok.len() > MAX_OPAQUE => {
                bad_opaque = true;
                break;
            }
            b'O' => {
                out.push(b' ');
                out.extend_from_slice(tok);
            }
            b'k' => push_key(out, key, req.key_binary),
            _ => {}
        }
    }
    if ttl_set && !created {
        if let Some(it) = live.as_mut() {
            store.meta_set_exptime(it, exp);
        }
    }
    if bad_opaque {
        out.truncate(start);
        line(out, OPAQUE_TOO_LONG);
        return;
    }
    if f.value {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&digits);
    }
    out.extend_from_slice(b"\r\n");
    // memcached drops a quiet success, but not an autovivification.
    if f.quiet && !created {
        out.truncate(start);
    }
}

/// A status without an item: the code, then the opaque and key flags.
fn no_item(out: &mut Vec<u8>, req: &MetaRequest<'_>, key: &[u8], code: &[u8]) {
    let start = out.len();
    out.extend_from_slice(code);
    if push_opaque_and_key(out, req, key) {
        out.extend_from_slice(b"\r\n");
    } else {
        out.truncate(start);
        line(out, OPAQUE_TOO_LONG);
    }
}

fn debug(cx: Ctx<'_>, key: &[u8], out: &mut Vec<u8>) {
    let (store, counters, now) = (cx.store, cx.counters, cx.now);
    counters.incr(Stat::CmdMeta);
    let Some(it) = store.meta_find(key, now) else {
        line(out, "EN");
        return;
    };
    let info = store.meta_info(&it);
    out.extend_from_slice(b"ME ");
    if info.key_binary {
        base64_encode(store.meta_key(&it), out);
    } else {
        out.extend_from_slice(store.meta_key(&it));
    }
    out.extend_from_slice(b" exp=");
    if info.exptime == 0 {
        out.extend_from_slice(b"-1");
    } else {
        // memcached 1.6.18 prints now - exptime: negative for a future expiry.
        let d = now.wrapping_sub(info.exptime) as i32;
        if d < 0 {
            out.push(b'-');
        }
        push_u64(out, u64::from(d.unsigned_abs()));
    }
    out.extend_from_slice(b" la=");
    push_u64(out, u64::from(info.idle(now)));
    out.extend_from_slice(b" cas=");
    push_u64(out, info.cas);
    out.extend_from_slice(if info.fetched {
        b" fetch=yes cls="
    } else {
        b" fetch=no cls="
    });
    let size = store.meta_item_size(&it);
    push_u64(out, u64::from(slab_class(size)));
    out.extend_from_slice(b" size=");
    push_u64(out, size as u64);
    out.extend_from_slice(b"\r\n");
}

/// The slab class memcached 1.6.18 would put an item of `ntotal` bytes in, with its
/// default settings (`-n 48 -f 1.25`, 1 MiB pages, 512 KiB largest chunk). corecached has
/// no slab classes; `me` shows this so its replies read like memcached's.
fn slab_class(ntotal: usize) -> u32 {
    const CHUNK_MAX: f64 = (512 * 1024) as f64;
    let mut size: u32 = 48 + 48;
    let mut id = 1;
    loop {
        if f64::from(size) >= CHUNK_MAX / 1.25 {
            return id;
        }
        if !size.is_multiple_of(8) {
            size += 8 - size % 8;
        }
        if ntotal <= size as usize {
            return id;
        }
        size = (f64::from(size) * 1.25) as u32;
        id += 1;
    }
}

/// The store mode of an `ms` with flags `f`.
pub(super) fn ms_mode(f: &crate::protocol::MetaFlags) -> Mode {
    let mode = match f.mode {
        b'E' => Mode::Add,
        b'A' => Mode::Append,
        b'P' => Mode::Prepend,
        b'R' => Mode::Replace,
        _ => Mode::Set,
    };
    // A compare-CAS turns set and replace into cas.
    if f.has_cas && matches!(mode, Mode::Set | Mode::Replace) {
        Mode::Cas
    } else {
        mode
    }
}

#[cfg(test)]
mod tests {
    use super::slab_class;

    #[test]
    fn slab_classes_match_memcached_defaults() {
        // memcached -vv: class 1 chunk 96, 2 120, 3 152, 4 192, 5 240, ..., 39 524288.
        assert_eq!(slab_class(60), 1);
        assert_eq!(slab_class(96), 1);
        assert_eq!(slab_class(97), 2);
        assert_eq!(slab_class(152), 3);
        assert_eq!(slab_class(153), 4);
        assert_eq!(slab_class(500 * 1024), 39);
    }
}
