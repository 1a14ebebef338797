//! The binary protocol's key commands run against a store, with memcached's response packets
//! (memcached 1.6 `proto_bin.c`): get/getk/gat/gatk/touch and their quiet forms, the storage
//! commands, delete, incr/decr with an initial value, and the quiet rules (a quiet command's
//! success is not answered, nor a quiet get's miss; errors always are).
//!
//! The connection has checked the packet's lengths for its opcode before it gets here.

use super::op::ReplySink;
use crate::protocol::binary::{self as bin, BinRequest};
use crate::stats::{Counters, Stat};
use crate::store::{Delta, MetaArith, Mode, Store, StoreResult};

/// An exptime from the wire: memcached reads it into a `time_t`, so it is never negative.
fn exptime(v: u32) -> i32 {
    v.min(i32::MAX as u32) as i32
}

fn error<R: ReplySink>(sink: &mut R, req: &BinRequest<'_>, status: u16) {
    bin::write_error(sink.bytes(), req.opcode, req.opaque, status);
}

fn enomem<R: ReplySink>(sink: &mut R, req: &BinRequest<'_>, msg: &str) {
    bin::write_simple(
        sink.bytes(),
        req.opcode,
        bin::ENOMEM,
        req.opaque,
        0,
        msg.as_bytes(),
    );
}

/// A success with `body` as its value, unless the command is quiet.
fn success<R: ReplySink>(sink: &mut R, req: &BinRequest<'_>, cas: u64, body: &[u8]) {
    if !bin::is_quiet(req.opcode) {
        bin::write_simple(
            sink.bytes(),
            req.opcode,
            bin::SUCCESS,
            req.opaque,
            cas,
            body,
        );
    }
}

/// Runs one binary key command, or a flush, at unix time `now` and appends its response
/// packet (nothing when a quiet command's rules suppress it, nor for a flush) to `sink`.
pub fn execute<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    req: &BinRequest<'_>,
    now: u32,
    sink: &mut R,
) {
    match bin::loud(req.opcode) {
        bin::GET | bin::GETK | bin::TOUCH | bin::GAT | bin::GATK => {
            get_or_touch(store, counters, req, now, sink)
        }
        op @ (bin::SET | bin::ADD | bin::REPLACE) => {
            if req.truncated() {
                too_large(store, counters, req, op == bin::SET, now, sink);
                return;
            }
            counters.incr(Stat::CmdSet);
            let flags = req.ext_u32(0);
            let exp = store.abs_exptime(exptime(req.ext_u32(4)), now);
            // With CAS off (`-C`) memcached's items have no CAS to set: the request's is
            // ignored by the storage commands.
            let cas = if store.cas_enabled() { req.cas } else { 0 };
            let mode = match op {
                _ if cas != 0 => Mode::Cas,
                bin::SET => Mode::Set,
                bin::ADD => Mode::Add,
                _ => Mode::Replace,
            };
            match store.store(mode, req.key, flags, exp, cas, req.value, now) {
                StoreResult::Stored => success(sink, req, store.last_cas(), b""),
                StoreResult::Exists => error(sink, req, bin::KEY_EEXISTS),
                StoreResult::NotFound => error(sink, req, bin::KEY_ENOENT),
                StoreResult::NotStored => error(
                    sink,
                    req,
                    match op {
                        bin::ADD => bin::KEY_EEXISTS,
                        bin::REPLACE => bin::KEY_ENOENT,
                        _ => bin::NOT_STORED,
                    },
                ),
                // memcached fails the allocation (the store removes a failed set's key).
                StoreResult::NoMemory => enomem(sink, req, "Out of memory allocating item"),
            }
        }
        op @ (bin::APPEND | bin::PREPEND) => {
            if req.truncated() {
                too_large(store, counters, req, false, now, sink);
                return;
            }
            counters.incr(Stat::CmdSet);
            if req.cas != 0 && store.cas_enabled() {
                if let Some(it) = store.get(req.key, now) {
                    if it.cas != req.cas {
                        error(sink, req, bin::KEY_EEXISTS);
                        return;
                    }
                }
            }
            let mode = if op == bin::APPEND {
                Mode::Append
            } else {
                Mode::Prepend
            };
            match store.store(mode, req.key, 0, 0, 0, req.value, now) {
                StoreResult::Stored => success(sink, req, store.last_cas(), b""),
                StoreResult::Exists => error(sink, req, bin::KEY_EEXISTS),
                // memcached cannot allocate the combined item: "Not stored." too.
                StoreResult::NotStored | StoreResult::NotFound | StoreResult::NoMemory => {
                    error(sink, req, bin::NOT_STORED)
                }
            }
        }
        bin::DELETE => {
            if req.cas != 0 {
                if let Some(it) = store.get(req.key, now) {
                    if it.cas != req.cas {
                        error(sink, req, bin::KEY_EEXISTS);
                        return;
                    }
                }
            }
            if store.delete(req.key, now) {
                counters.incr(Stat::DeleteHits);
                success(sink, req, 0, b"");
            } else {
                counters.incr(Stat::DeleteMisses);
                error(sink, req, bin::KEY_ENOENT);
            }
        }
        op @ (bin::INCREMENT | bin::DECREMENT) => {
            arith(store, counters, req, op == bin::INCREMENT, now, sink)
        }
        // Sent to every shard; writes nothing (the connection answers).
        bin::FLUSH => {
            let delay = if req.extras.len() == 4 {
                exptime(req.ext_u32(0))
            } else {
                0
            };
            super::text::flush(store, delay, now);
        }
        _ => error(sink, req, bin::UNKNOWN_COMMAND),
    }
}

/// A value over `-I`: "Too large." (the connection discards the value); a failed set
/// removes the key's old value, as memcached does.
fn too_large<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    req: &BinRequest<'_>,
    set: bool,
    now: u32,
    sink: &mut R,
) {
    counters.incr(Stat::StoreTooLarge);
    if set {
        store.remove(req.key, now);
    }
    error(sink, req, bin::E2BIG);
}

fn get_or_touch<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    req: &BinRequest<'_>,
    now: u32,
    sink: &mut R,
) {
    let op = bin::loud(req.opcode);
    let touch = matches!(op, bin::TOUCH | bin::GAT | bin::GATK);
    let return_key = matches!(op, bin::GETK | bin::GATK);
    let return_value = op != bin::TOUCH;
    let hit = if touch {
        let exp = store.abs_exptime(exptime(req.ext_u32(0)), now);
        store.get_and_touch(req.key, exp, now)
    } else {
        store.get(req.key, now)
    };
    let (cmd, hits, misses) = if touch {
        (Stat::CmdTouch, Stat::TouchHits, Stat::TouchMisses)
    } else {
        (Stat::CmdGet, Stat::GetHits, Stat::GetMisses)
    };
    counters.incr(cmd);
    match hit {
        Some(it) => {
            counters.incr(hits);
            let klen = if return_key { req.key.len() } else { 0 };
            let vlen = if return_value { it.value.len() } else { 0 };
            let out = sink.bytes();
            bin::write_header(
                out,
                req.opcode,
                bin::SUCCESS,
                4,
                klen as u16,
                (4 + klen + vlen) as u32,
                req.opaque,
                it.cas,
            );
            out.extend_from_slice(&it.flags.to_be_bytes());
            out.extend_from_slice(&req.key[..klen]);
            if return_value {
                sink.value(it.stored());
            }
        }
        None => {
            counters.incr(misses);
            if bin::is_quiet(req.opcode) {
            } else if return_key {
                let out = sink.bytes();
                let n = req.key.len();
                bin::write_header(
                    out,
                    req.opcode,
                    bin::KEY_ENOENT,
                    0,
                    n as u16,
                    n as u32,
                    req.opaque,
                    0,
                );
                out.extend_from_slice(req.key);
            } else {
                error(sink, req, bin::KEY_ENOENT);
            }
        }
    }
}

/// incr/decr: extras are the delta, the initial value and an expiration; a miss creates
/// the key with the initial value unless the expiration is 0xffffffff.
fn arith<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    req: &BinRequest<'_>,
    incr: bool,
    now: u32,
    sink: &mut R,
) {
    let delta = req.ext_u64(0);
    let initial = req.ext_u64(8);
    let expiration = req.ext_u32(16);
    if req.cas != 0 {
        // memcached's order: an empty value is non-numeric before the CAS is compared.
        if let Some(it) = store.get(req.key, now) {
            if !it.value.is_empty() && it.cas != req.cas {
                error(sink, req, bin::KEY_EEXISTS);
                return;
            }
        }
    }
    match store.add_delta(req.key, Delta::incr_decr(incr, delta), now) {
        MetaArith::Done { value: v, .. } => {
            counters.incr(if incr { Stat::IncrHits } else { Stat::DecrHits });
            success(sink, req, store.last_cas(), &v.to_be_bytes());
        }
        MetaArith::NonNumeric => error(sink, req, bin::DELTA_BADVAL),
        MetaArith::NoMemory => enomem(sink, req, "Out of memory incrementing value"),
        MetaArith::CasMismatch => unreachable!("incr and decr compare no CAS"),
        MetaArith::NotFound if expiration != u32::MAX => {
            let exp = store.abs_exptime(exptime(expiration), now);
            let digits = initial.to_string();
            match store.store(Mode::Add, req.key, 0, exp, 0, digits.as_bytes(), now) {
                StoreResult::Stored => success(sink, req, store.last_cas(), &initial.to_be_bytes()),
                StoreResult::NoMemory => enomem(sink, req, "Out of memory allocating new item"),
                _ => error(sink, req, bin::NOT_STORED),
            }
        }
        MetaArith::NotFound => {
            counters.incr(if incr {
                Stat::IncrMisses
            } else {
                Stat::DecrMisses
            });
            error(sink, req, bin::KEY_ENOENT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::binary::{reparse, request};

    const NOW: u32 = 1_000_000;

    fn apply_packet(store: &mut Store, packet: &[u8]) -> Vec<u8> {
        let counters = store.counters().clone();
        let mut out = Vec::new();
        execute(store, &counters, &reparse(packet), NOW, &mut out);
        out
    }

    fn set_ext(flags: u32, exp: u32) -> Vec<u8> {
        let mut e = flags.to_be_bytes().to_vec();
        e.extend_from_slice(&exp.to_be_bytes());
        e
    }

    fn incr_ext(delta: u64, initial: u64, exp: u32) -> Vec<u8> {
        let mut e = delta.to_be_bytes().to_vec();
        e.extend_from_slice(&initial.to_be_bytes());
        e.extend_from_slice(&exp.to_be_bytes());
        e
    }

    fn status(p: &[u8]) -> u16 {
        u16::from_be_bytes([p[6], p[7]])
    }

    fn cas(p: &[u8]) -> u64 {
        u64::from_be_bytes(p[16..24].try_into().unwrap())
    }

    #[test]
    fn get_forms() {
        let mut s = Store::builder().build();
        let set = apply_packet(
            &mut s,
            &request(bin::SET, 1, 0, &set_ext(7, 0), b"k", b"val"),
        );
        assert_eq!((status(&set), set.len()), (0, 24));
        let c = cas(&set);
        assert_ne!(c, 0);
        let mut want = vec![0x81, bin::GETK, 0, 1, 4, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 2];
        want.extend_from_slice(&c.to_be_bytes());
        want.extend_from_slice(&[0, 0, 0, 7, b'k', b'v', b'a', b'l']);
        assert_eq!(
            apply_packet(&mut s, &request(bin::GETK, 2, 0, b"", b"k", b"")),
            want
        );
        // touch: flags, no value
        let t = apply_packet(&mut s, &request(bin::TOUCH, 3, 0, &[0, 0, 0, 9], b"k", b""));
        assert_eq!(&t[24..], &[0, 0, 0, 7]);
        // quiet misses say nothing; loud ones say why
        for op in [bin::GETQ, bin::GETKQ, bin::GATQ, bin::GATKQ] {
            let ext: &[u8] = if matches!(op, bin::GATQ | bin::GATKQ) {
                &[0; 4]
            } else {
                b""
            };
            assert!(apply_packet(&mut s, &request(op, 4, 0, ext, b"nope", b"")).is_empty());
        }
        let miss = apply_packet(&mut s, &request(bin::GETK, 5, 0, b"", b"nope", b""));
        assert_eq!(
            (status(&miss), &miss[24..]),
            (bin::KEY_ENOENT, &b"nope"[..])
        );
        let miss = apply_packet(&mut s, &request(bin::GET, 5, 0, b"", b"nope", b""));
        assert_eq!(&miss[24..], b"Not found");
    }

    #[test]
    fn quiet_successes_are_silent_and_errors_are_not() {
        let mut s = Store::builder().build();
        assert!(apply_packet(
            &mut s,
            &request(bin::SETQ, 1, 0, &set_ext(0, 0), b"k", b"1")
        )
        .is_empty());
        assert!(apply_packet(&mut s, &request(bin::APPENDQ, 1, 0, b"", b"k", b"0")).is_empty());
        assert!(apply_packet(
            &mut s,
            &request(bin::INCREMENTQ, 1, 0, &incr_ext(1, 0, 0), b"k", b"")
        )
        .is_empty());
        let add = apply_packet(
            &mut s,
            &request(bin::ADDQ, 1, 0, &set_ext(0, 0), b"k", b"x"),
        );
        assert_eq!(status(&add), bin::KEY_EEXISTS);
        let get = apply_packet(&mut s, &request(bin::GET, 1, 0, b"", b"k", b""));
        assert_eq!(&get[28..], b"11");
        assert!(apply_packet(&mut s, &request(bin::DELETEQ, 1, 0, b"", b"k", b"")).is_empty());
        let del = apply_packet(&mut s, &request(bin::DELETEQ, 1, 0, b"", b"k", b""));
        assert_eq!(status(&del), bin::KEY_ENOENT);
    }

    #[test]
    fn incr_creates_unless_told_not_to() {
        let mut s = Store::builder().build();
        let r = apply_packet(
            &mut s,
            &request(bin::INCREMENT, 1, 0, &incr_ext(5, 42, u32::MAX), b"n", b""),
        );
        assert_eq!(status(&r), bin::KEY_ENOENT);
        let r = apply_packet(
            &mut s,
            &request(bin::INCREMENT, 1, 0, &incr_ext(5, 42, 0), b"n", b""),
        );
        assert_eq!((status(&r), &r[24..]), (0, &42u64.to_be_bytes()[..]));
        let r = apply_packet(
            &mut s,
            &request(bin::DECREMENT, 1, 0, &incr_ext(50, 0, 0), b"n", b""),
        );
        assert_eq!(&r[24..], &0u64.to_be_bytes());
        assert_eq!(cas(&r), s.last_cas());
        apply_packet(
            &mut s,
            &request(bin::SET, 1, 0, &set_ext(0, 0), b"t", b"text"),
        );
        let r = apply_packet(
            &mut s,
            &request(bin::INCREMENT, 1, 0, &incr_ext(1, 0, 0), b"t", b""),
        );
        assert_eq!(status(&r), bin::DELTA_BADVAL);
    }

    #[test]
    fn too_large_set_removes_the_old_value() {
        let mut s = Store::builder().build();
        apply_packet(
            &mut s,
            &request(bin::SET, 1, 0, &set_ext(0, 0), b"k", b"old"),
        );
        // What the connection forwards for a value it discards: header, extras and key.
        let full = request(bin::SET, 2, 0, &set_ext(0, 0), b"k", &[b'v'; 100]);
        let r = apply_packet(&mut s, &full[..24 + 8 + 1]);
        assert_eq!((status(&r), &r[24..]), (bin::E2BIG, &b"Too large."[..]));
        let r = apply_packet(&mut s, &request(bin::GET, 1, 0, b"", b"k", b""));
        assert_eq!(status(&r), bin::KEY_ENOENT);
        // append leaves the old value alone
        apply_packet(
            &mut s,
            &request(bin::SET, 1, 0, &set_ext(0, 0), b"k", b"old"),
        );
        let full = request(bin::APPEND, 2, 0, b"", b"k", &[b'v'; 100]);
        assert_eq!(status(&apply_packet(&mut s, &full[..25])), bin::E2BIG);
        let r = apply_packet(&mut s, &request(bin::GET, 1, 0, b"", b"k", b""));
        assert_eq!(&r[28..], b"old");
    }

    #[test]
    fn cas_rules() {
        let mut s = Store::builder().build();
        let r = apply_packet(&mut s, &request(bin::SET, 1, 0, &set_ext(0, 0), b"k", b"1"));
        let c = cas(&r);
        for op in [bin::SET, bin::ADD, bin::REPLACE] {
            let r = apply_packet(&mut s, &request(op, 1, c + 1, &set_ext(0, 0), b"k", b"2"));
            assert_eq!(status(&r), bin::KEY_EEXISTS, "op {op}");
            let r = apply_packet(
                &mut s,
                &request(op, 1, c + 1, &set_ext(0, 0), b"absent", b"2"),
            );
            assert_eq!(status(&r), bin::KEY_ENOENT, "op {op}");
        }
        for (op, ext) in [
            (bin::DELETE, Vec::new()),
            (bin::INCREMENT, incr_ext(1, 0, 0)),
            (bin::APPEND, Vec::new()),
        ] {
            let value: &[u8] = if op == bin::APPEND { b"x" } else { b"" };
            let r = apply_packet(&mut s, &request(op, 1, c + 1, &ext, b"k", value));
            assert_eq!(status(&r), bin::KEY_EEXISTS, "op {op}");
        }
        let r = apply_packet(
            &mut s,
            &request(bin::INCREMENT, 1, c, &incr_ext(1, 0, 0), b"k", b""),
        );
        assert_eq!(&r[24..], &2u64.to_be_bytes());
        let r = apply_packet(&mut s, &request(bin::DELETE, 1, cas(&r), b"", b"k", b""));
        assert_eq!((status(&r), cas(&r)), (0, 0));
    }
    #[test]
    fn cas_off() {
        // memcached -C: items have CAS 0; storage commands ignore a request's CAS, delete
        // and incr compare it with 0.
        let mut s = Store::builder().use_cas(false).build();
        let r = apply_packet(
            &mut s,
            &request(bin::SET, 1, 77, &set_ext(0, 0), b"k", b"1"),
        );
        assert_eq!((status(&r), cas(&r)), (0, 0));
        let r = apply_packet(&mut s, &request(bin::APPEND, 1, 77, b"", b"k", b"2"));
        assert_eq!(status(&r), 0);
        let r = apply_packet(
            &mut s,
            &request(bin::INCREMENT, 1, 77, &incr_ext(1, 0, 0), b"k", b""),
        );
        assert_eq!(status(&r), bin::KEY_EEXISTS);
        let r = apply_packet(&mut s, &request(bin::DELETE, 1, 77, b"", b"k", b""));
        assert_eq!(status(&r), bin::KEY_EEXISTS);
        let r = apply_packet(&mut s, &request(bin::GET, 1, 0, b"", b"k", b""));
        assert_eq!((cas(&r), &r[28..]), (0, &b"12"[..]));
    }
}
