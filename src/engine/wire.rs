//! The forwarding encoding of [`KeyOp`]s: how a batch of ops for one peer shard travels as
//! one buffer, and how the owner reads and runs it.
//!
//! A tag byte, fixed-width little-endian fields, then the key and data with u32 lengths.
//! Only ever read back in the same process. Meta and binary requests travel as their raw
//! bytes, which the owner parses again.

use super::apply;
use super::op::{KeyOp, ReplySink};
use crate::protocol::{GetKind, Limits, StoreMode};
use crate::stats::Counters;
use crate::store::Store;

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
}
