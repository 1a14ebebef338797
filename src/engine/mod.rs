//! Key operations: what one shard does for one key, and the reply bytes it writes.
//!
//! The text protocol's ops are here; the meta commands' are in [`meta`] and the binary
//! protocol's in [`binary`]. The owner of a key formats its reply in the protocol of the
//! connection that asked, so forwarded replies splice in as bytes whatever the protocol.
//!
//! The connection splits every request into single-key [`KeyOp`]s (a multi-key `get` becomes
//! one op per key), runs the ops for local keys at once with [`apply`], and forwards the others
//! to their owners as a compact byte encoding ([`KeyOp::encode`] / [`KeyOp::decode`]), so that a
//! whole batch for one peer travels as one buffer and the owner runs the same [`apply`]. This
//! module knows the store and memcached's reply formats; it knows nothing of sockets or cores.

pub mod binary;
pub mod meta;
pub mod reply;

use crate::num::{decimal_len, push_u64, write_decimal_raw};
use crate::protocol::binary::BinRequest;
use crate::protocol::{GetKind, KeyBuf, Limits, MetaRequest, StoreMode, TOO_LARGE};
use crate::stats::{Counters, Stat};
use crate::store::{ArithResult, Mode, Store, StoreResult, StoreValue};

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

fn mode(m: StoreMode) -> Mode {
    match m {
        StoreMode::Set => Mode::Set,
        StoreMode::Add => Mode::Add,
        StoreMode::Replace => Mode::Replace,
        StoreMode::Append => Mode::Append,
        StoreMode::Prepend => Mode::Prepend,
        StoreMode::Cas => Mode::Cas,
    }
}

fn line(out: &mut Vec<u8>, noreply: bool, s: &[u8]) {
    if !noreply {
        out.extend_from_slice(s);
        out.extend_from_slice(b"\r\n");
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

/// Values up to this size are written with their `VALUE` line in one reservation
/// ([`push_value`]); larger ones go through [`ReplySink::value`], which may send them in
/// place.
pub const SHORT_VALUE: usize = 256;

/// Copies `src` to `dst` without a call for the short lengths of keys, small values and
/// reply lines: two overlapping loads and stores cover any length from 4 to 64 bytes, three
/// single bytes any length from 1 to 3.
///
/// # Safety
/// `dst` is valid for writes of `src.len()` bytes and does not overlap `src`.
#[inline(always)]
pub(crate) unsafe fn copy_short(dst: *mut u8, src: &[u8]) {
    /// Copies `n` bytes (`W <= n <= 2W`) as two `W`-byte halves, at 0 and at `n - W`.
    #[inline(always)]
    unsafe fn halves<const W: usize>(dst: *mut u8, s: *const u8, n: usize) {
        // SAFETY: the caller's contract; both halves lie inside the `n` bytes.
        unsafe {
            let (a, b) = (
                s.cast::<[u8; W]>().read_unaligned(),
                s.add(n - W).cast::<[u8; W]>().read_unaligned(),
            );
            dst.cast::<[u8; W]>().write_unaligned(a);
            dst.add(n - W).cast::<[u8; W]>().write_unaligned(b);
        }
    }
    let (n, s) = (src.len(), src.as_ptr());
    // SAFETY: `src` holds `n` bytes and `dst` has room for them (the caller's contract);
    // each size class passes `halves` a width with W <= n <= 2W.
    unsafe {
        match n {
            33..=64 => halves::<32>(dst, s, n),
            16..=32 => halves::<16>(dst, s, n),
            8..=15 => halves::<8>(dst, s, n),
            4..=7 => halves::<4>(dst, s, n),
            1..=3 => {
                *dst = *s;
                *dst.add(n / 2) = *s.add(n / 2);
                *dst.add(n - 1) = *s.add(n - 1);
            }
            0 => {}
            _ => std::ptr::copy_nonoverlapping(s, dst, n),
        }
    }
}

/// Writes `VALUE <key> <flags> <bytes>[ <cas>]\r\n`, the line before a get's value, with one
/// reservation and the numbers written in place.
pub fn push_value_line(out: &mut Vec<u8>, key: &[u8], flags: u32, len: usize, cas: Option<u64>) {
    push_value_with(out, key, flags, len, cas, None);
}

/// [`push_value_line`] followed by a short value (at most [`SHORT_VALUE`] bytes) and its
/// `\r\n`, all in one reservation.
#[inline(always)]
pub fn push_value(out: &mut Vec<u8>, key: &[u8], flags: u32, value: &[u8], cas: Option<u64>) {
    debug_assert!(value.len() <= SHORT_VALUE);
    push_value_with(out, key, flags, value.len(), cas, Some(value));
}

#[inline(always)]
fn push_value_with(
    out: &mut Vec<u8>,
    key: &[u8],
    flags: u32,
    len: usize,
    cas: Option<u64>,
    value: Option<&[u8]>,
) {
    let (fl, ll) = (decimal_len(u64::from(flags)), decimal_len(len as u64));
    let cl = cas.map_or(0, decimal_len);
    let line = 6 + key.len() + 1 + fl + 1 + ll + (cl > 0) as usize + cl + 2;
    let n = line + value.map_or(0, |v| v.len() + 2);
    out.reserve(n);
    // SAFETY: `reserve` made room for `n` more bytes; each is written below (the pieces
    // add up to `n`) before the length takes them in, and each number's length is its
    // `decimal_len`.
    unsafe {
        let mut p = out.as_mut_ptr().add(out.len());
        p.cast::<[u8; 6]>().write_unaligned(*b"VALUE ");
        p = p.add(6);
        copy_short(p, key);
        p = p.add(key.len());
        *p = b' ';
        write_decimal_raw(p.add(1), fl, u64::from(flags));
        p = p.add(1 + fl);
        *p = b' ';
        write_decimal_raw(p.add(1), ll, len as u64);
        p = p.add(1 + ll);
        if let Some(c) = cas {
            *p = b' ';
            write_decimal_raw(p.add(1), cl, c);
            p = p.add(1 + cl);
        }
        p.cast::<[u8; 2]>().write_unaligned(*b"\r\n");
        if let Some(v) = value {
            p = p.add(2);
            copy_short(p, v);
            p.add(v.len()).cast::<[u8; 2]>().write_unaligned(*b"\r\n");
        }
        out.set_len(out.len() + n);
    }
}

/// [`apply`] for a `get`, `gets`, `gat` or `gats` of one key.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn get<R: ReplySink>(
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

/// Runs `op` against `store` at unix time `now` and appends its reply to `sink`, counting
/// into `counters` (the shard's, which the store also reports into).
///
/// A get, the common request, runs inline where this is called (a connection's own ops, a
/// peer's batch): a call through the dispatch below cost about 10 of a get's 1,050
/// instructions (callgrind). Every other op goes through `apply_other`.
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
        } => get(store, counters, kind, exptime, key, hash, now, sink),
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
        KeyOp::Store {
            mode: m,
            key,
            flags,
            exptime,
            cas,
            data,
            noreply,
        } => {
            counters.incr(Stat::CmdSet);
            let exp = store.abs_exptime(exptime, now);
            let reply: &[u8] = match store.store(mode(m), key, flags, exp, cas, data, now) {
                StoreResult::Stored => b"STORED",
                StoreResult::NotStored => b"NOT_STORED",
                StoreResult::Exists => b"EXISTS",
                StoreResult::NotFound => b"NOT_FOUND",
                StoreResult::NoMemory => b"SERVER_ERROR out of memory storing object",
            };
            line(sink.bytes(), noreply, reply);
        }
        KeyOp::TooLarge {
            mode: m,
            key,
            noreply,
        } => {
            counters.incr(Stat::StoreTooLarge);
            if m == StoreMode::Set {
                store.remove(key, now);
            }
            line(sink.bytes(), noreply, TOO_LARGE.as_bytes());
        }
        KeyOp::Delete { key, noreply } => {
            if store.delete(key, now) {
                counters.incr(Stat::DeleteHits);
                line(sink.bytes(), noreply, b"DELETED");
            } else {
                counters.incr(Stat::DeleteMisses);
                line(sink.bytes(), noreply, b"NOT_FOUND");
            }
        }
        KeyOp::Arith {
            incr,
            key,
            delta,
            noreply,
        } => match store.arith(key, incr, delta, now) {
            ArithResult::Value(v) => {
                counters.incr(if incr { Stat::IncrHits } else { Stat::DecrHits });
                if !noreply {
                    let out = sink.bytes();
                    push_u64(out, v);
                    out.extend_from_slice(b"\r\n");
                }
            }
            ArithResult::NotFound => {
                counters.incr(if incr {
                    Stat::IncrMisses
                } else {
                    Stat::DecrMisses
                });
                line(sink.bytes(), noreply, b"NOT_FOUND");
            }
            ArithResult::NonNumeric => line(
                sink.bytes(),
                noreply,
                b"CLIENT_ERROR cannot increment or decrement non-numeric value",
            ),
            ArithResult::NoMemory => line(sink.bytes(), noreply, b"SERVER_ERROR out of memory"),
        },
        KeyOp::Touch {
            key,
            exptime,
            noreply,
        } => {
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
        KeyOp::Flush { delay } => {
            // memcached: a positive delay is an exptime; zero or negative flushes now.
            let at = if delay > 0 {
                store.abs_exptime(delay, now)
            } else {
                0
            };
            store.flush_all(at, now);
        }
    }
}

// Encoding of forwarded ops: a tag byte, fixed-width little-endian fields, then the key and
// data with u32 lengths. Only ever read back by `decode` in the same process.
const T_GET: u8 = 1;
const T_STORE: u8 = 2;
const T_TOO_LARGE: u8 = 3;
const T_DELETE: u8 = 4;
const T_ARITH: u8 = 5;
const T_TOUCH: u8 = 6;
const T_FLUSH: u8 = 7;
const T_META: u8 = 8;
const T_BIN: u8 = 9;
/// A get that carries its key's hash, so the owner does not hash the key again.
const T_GET_HASHED: u8 = 10;
/// Bytes before a hashed get's key: tag, kind, exptime, hash, key length.
const GET_HASHED_HEAD: usize = 18;

/// A forwarded op's key, with its hash ([`crate::store::key_hash`]) when the op carries it.
pub type EncodedKey<'a> = (&'a [u8], Option<u64>);

/// The key of the encoded op at the start of `buf`, for prefetching, with its hash when the
/// op carries it, and the bytes the op uses. Forwarded meta and binary requests give no
/// key: finding it means parsing them again.
pub fn encoded_key(buf: &[u8]) -> (Option<EncodedKey<'_>>, usize) {
    if buf[0] == T_GET_HASHED {
        // Read in place: no op is built.
        let hash = u64::from_le_bytes(buf[6..14].try_into().unwrap());
        let n = u32::from_le_bytes(buf[14..18].try_into().unwrap()) as usize;
        let end = GET_HASHED_HEAD + n;
        return (Some((&buf[GET_HASHED_HEAD..end], Some(hash))), end);
    }
    match buf[0] {
        T_META | T_BIN => {
            let mut r = Reader { buf, pos: 1 };
            r.bytes();
            (None, r.pos)
        }
        _ => {
            let (op, used) = KeyOp::decode(buf);
            let hash = match op {
                KeyOp::Get { hash, .. } => hash,
                _ => None,
            };
            (op.plain_key().map(|k| (k, hash)), used)
        }
    }
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
    match buf[0] {
        T_META => {
            let mut r = Reader { buf, pos: 1 };
            let req = crate::protocol::meta::reparse(r.bytes(), limits);
            let op = KeyOp::Meta(&req);
            check(&op);
            apply(store, counters, &op, now, sink);
            r.pos
        }
        T_BIN => {
            let mut r = Reader { buf, pos: 1 };
            let req = crate::protocol::binary::reparse(r.bytes());
            let op = KeyOp::Bin(&req);
            check(&op);
            apply(store, counters, &op, now, sink);
            r.pos
        }
        _ => {
            let (op, used) = KeyOp::decode(buf);
            check(&op);
            apply(store, counters, &op, now, sink);
            used
        }
    }
}

fn get_kind_code(k: GetKind) -> u8 {
    match k {
        GetKind::Get => 0,
        GetKind::Gets => 1,
        GetKind::Gat => 2,
        GetKind::Gats => 3,
    }
}

fn get_kind_from(c: u8) -> GetKind {
    match c {
        0 => GetKind::Get,
        1 => GetKind::Gets,
        2 => GetKind::Gat,
        _ => GetKind::Gats,
    }
}

fn mode_code(m: StoreMode) -> u8 {
    match m {
        StoreMode::Set => 0,
        StoreMode::Add => 1,
        StoreMode::Replace => 2,
        StoreMode::Append => 3,
        StoreMode::Prepend => 4,
        StoreMode::Cas => 5,
    }
}

fn mode_from(c: u8) -> StoreMode {
    match c {
        0 => StoreMode::Set,
        1 => StoreMode::Add,
        2 => StoreMode::Replace,
        3 => StoreMode::Append,
        4 => StoreMode::Prepend,
        _ => StoreMode::Cas,
    }
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    buf.extend_from_slice(&(b.len() as u32).to_le_bytes());
    buf.extend_from_slice(b);
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> u8 {
        let v = self.buf[self.pos];
        self.pos += 1;
        v
    }
    fn u32(&mut self) -> u32 {
        let v = u32::from_le_bytes(self.buf[self.pos..self.pos + 4].try_into().unwrap());
        self.pos += 4;
        v
    }
    fn u64(&mut self) -> u64 {
        let v = u64::from_le_bytes(self.buf[self.pos..self.pos + 8].try_into().unwrap());
        self.pos += 8;
        v
    }
    fn bytes(&mut self) -> &'a [u8] {
        let n = self.u32() as usize;
        let v = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        v
    }
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

    /// Appends this op's encoding to `buf`.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        match *self {
            KeyOp::Meta(req) => {
                buf.push(T_META);
                put_bytes(buf, req.raw);
            }
            KeyOp::Bin(req) => {
                buf.push(T_BIN);
                put_bytes(buf, req.raw);
            }
            KeyOp::Get {
                kind,
                exptime,
                key,
                hash: Some(h),
            } => {
                // The common forwarded op, its fixed part written in one piece.
                let mut head = [0u8; GET_HASHED_HEAD];
                head[0] = T_GET_HASHED;
                head[1] = get_kind_code(kind);
                head[2..6].copy_from_slice(&exptime.to_le_bytes());
                head[6..14].copy_from_slice(&h.to_le_bytes());
                head[14..18].copy_from_slice(&(key.len() as u32).to_le_bytes());
                buf.reserve(GET_HASHED_HEAD + key.len());
                buf.extend_from_slice(&head);
                buf.extend_from_slice(key);
            }
            KeyOp::Get {
                kind,
                exptime,
                key,
                hash: None,
            } => {
                buf.push(T_GET);
                buf.push(get_kind_code(kind));
                buf.extend_from_slice(&exptime.to_le_bytes());
                put_bytes(buf, key);
            }
            KeyOp::Store {
                mode,
                key,
                flags,
                exptime,
                cas,
                data,
                noreply,
            } => {
                buf.push(T_STORE);
                buf.push(mode_code(mode));
                buf.push(noreply as u8);
                buf.extend_from_slice(&flags.to_le_bytes());
                buf.extend_from_slice(&exptime.to_le_bytes());
                buf.extend_from_slice(&cas.to_le_bytes());
                put_bytes(buf, key);
                put_bytes(buf, data);
            }
            KeyOp::TooLarge { mode, key, noreply } => {
                buf.push(T_TOO_LARGE);
                buf.push(mode_code(mode));
                buf.push(noreply as u8);
                put_bytes(buf, key);
            }
            KeyOp::Delete { key, noreply } => {
                buf.push(T_DELETE);
                buf.push(noreply as u8);
                put_bytes(buf, key);
            }
            KeyOp::Arith {
                incr,
                key,
                delta,
                noreply,
            } => {
                buf.push(T_ARITH);
                buf.push(incr as u8);
                buf.push(noreply as u8);
                buf.extend_from_slice(&delta.to_le_bytes());
                put_bytes(buf, key);
            }
            KeyOp::Touch {
                key,
                exptime,
                noreply,
            } => {
                buf.push(T_TOUCH);
                buf.push(noreply as u8);
                buf.extend_from_slice(&exptime.to_le_bytes());
                put_bytes(buf, key);
            }
            KeyOp::Flush { delay } => {
                buf.push(T_FLUSH);
                buf.extend_from_slice(&delay.to_le_bytes());
            }
        }
    }

    /// Reads one op from the start of `buf`, returning it and the bytes it used.
    /// `buf` must hold what [`KeyOp::encode`] wrote for a text-protocol op (meta and
    /// binary ops are read by [`apply_encoded`]).
    #[inline(always)]
    pub fn decode(buf: &'a [u8]) -> (KeyOp<'a>, usize) {
        let mut r = Reader { buf, pos: 0 };
        let op = match r.u8() {
            tag @ (T_GET | T_GET_HASHED) => {
                let kind = get_kind_from(r.u8());
                let exptime = r.u32() as i32;
                let hash = (tag == T_GET_HASHED).then(|| r.u64());
                KeyOp::Get {
                    kind,
                    exptime,
                    key: r.bytes(),
                    hash,
                }
            }
            T_STORE => {
                let mode = mode_from(r.u8());
                let noreply = r.u8() != 0;
                let flags = r.u32();
                let exptime = r.u32() as i32;
                let cas = r.u64();
                let key = r.bytes();
                let data = r.bytes();
                KeyOp::Store {
                    mode,
                    key,
                    flags,
                    exptime,
                    cas,
                    data,
                    noreply,
                }
            }
            T_TOO_LARGE => {
                let mode = mode_from(r.u8());
                let noreply = r.u8() != 0;
                KeyOp::TooLarge {
                    mode,
                    noreply,
                    key: r.bytes(),
                }
            }
            T_DELETE => {
                let noreply = r.u8() != 0;
                KeyOp::Delete {
                    noreply,
                    key: r.bytes(),
                }
            }
            T_ARITH => {
                let incr = r.u8() != 0;
                let noreply = r.u8() != 0;
                let delta = r.u64();
                KeyOp::Arith {
                    incr,
                    noreply,
                    delta,
                    key: r.bytes(),
                }
            }
            T_TOUCH => {
                let noreply = r.u8() != 0;
                let exptime = r.u32() as i32;
                KeyOp::Touch {
                    noreply,
                    exptime,
                    key: r.bytes(),
                }
            }
            T_FLUSH => KeyOp::Flush {
                delay: r.u32() as i32,
            },
            t => unreachable!("corrupt forwarded op tag {t}"),
        };
        (op, r.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_lines_match_format() {
        // Every key and value length a short copy treats differently (0-3, 4-7, 8-15,
        // 16-32, longer), after existing output, with and without a CAS.
        let bytes: Vec<u8> = (0..300u32).map(|i| b'!' + (i * 7 % 90) as u8).collect();
        for klen in [1, 3, 4, 7, 8, 13, 15, 16, 31, 32, 33, 250] {
            for vlen in (0..=40).chain([63, 64, 255, 256]) {
                for (flags, cas) in [(0, None), (4_294_967_295, Some(u64::MAX)), (7, Some(0))] {
                    let (key, value) = (&bytes[..klen], &bytes[40..40 + vlen]);
                    let mut want = b"prefix".to_vec();
                    want.extend_from_slice(b"VALUE ");
                    want.extend_from_slice(key);
                    want.extend_from_slice(format!(" {flags} {vlen}").as_bytes());
                    if let Some(c) = cas {
                        want.extend_from_slice(format!(" {c}").as_bytes());
                    }
                    want.extend_from_slice(b"\r\n");
                    let mut line = b"prefix".to_vec();
                    push_value_line(&mut line, key, flags, vlen, cas);
                    assert_eq!(line, want, "line, key {klen}, value {vlen}");
                    want.extend_from_slice(value);
                    want.extend_from_slice(b"\r\n");
                    let mut out = b"prefix".to_vec();
                    push_value(&mut out, key, flags, value, cas);
                    assert_eq!(out, want, "value, key {klen}, value {vlen}");
                }
            }
        }
    }

    #[test]
    fn encoding_round_trips() {
        let ops = [
            KeyOp::Get {
                kind: GetKind::Gats,
                exptime: -5,
                key: b"k1",
                hash: None,
            },
            KeyOp::Get {
                kind: GetKind::Get,
                exptime: 0,
                key: b"hashed",
                hash: Some(crate::store::key_hash(b"hashed")),
            },
            KeyOp::Store {
                mode: StoreMode::Cas,
                key: b"key",
                flags: u32::MAX,
                exptime: 100,
                cas: 1 << 40,
                data: b"va\r\nlue",
                noreply: true,
            },
            KeyOp::TooLarge {
                mode: StoreMode::Set,
                key: b"big",
                noreply: false,
            },
            KeyOp::Delete {
                key: b"d",
                noreply: true,
            },
            KeyOp::Arith {
                incr: false,
                key: b"n",
                delta: u64::MAX,
                noreply: false,
            },
            KeyOp::Touch {
                key: b"t",
                exptime: 7,
                noreply: false,
            },
            KeyOp::Flush { delay: 3 },
        ];
        let mut buf = Vec::new();
        for op in &ops {
            op.encode(&mut buf);
        }
        let mut pos = 0;
        for op in &ops {
            let (got, used) = KeyOp::decode(&buf[pos..]);
            assert_eq!(&got, op);
            // What a prefetch pass over a forwarded batch reads.
            let hash = match op {
                KeyOp::Get { hash, .. } => *hash,
                _ => None,
            };
            assert_eq!(
                encoded_key(&buf[pos..]),
                (op.plain_key().map(|k| (k, hash)), used)
            );
            pos += used;
        }
        assert_eq!(pos, buf.len());
    }

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
