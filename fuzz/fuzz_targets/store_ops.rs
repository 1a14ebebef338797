//! The store under a sequence of operations decoded from the input, on a tiny store (a few
//! 4 KiB segments): `check_invariants()` after every operation, and every answer checked
//! against a model (`harness::StoreCheck`: exact when the store may not evict, otherwise
//! items may vanish but never appear or change behind the model's back).
//!
//! Input: two bytes of configuration (segments, keys, CAS on/off, `-I`, CAS stride,
//! eviction on/off), then operations, each an opcode byte and its fields; missing bytes
//! read as 0.

#![no_main]

use corecached::store::Mode;
use libfuzzer_sys::fuzz_target;

mod harness;

use harness::{CasPick, Data, Exp, Op, StoreCheck, StoreConfig, NUMERIC};

/// The input as a stream of fields.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | u64::from(self.u32()) << 32
    }

    fn exp(&mut self) -> Exp {
        let b = self.u8();
        match b & 7 {
            0 | 1 => Exp::Never,
            2 => Exp::In(u32::from(b >> 3)),
            3 => Exp::Negative,
            4 => Exp::AbsPast,
            5 => Exp::AbsAhead(u32::from(b >> 3)),
            _ => Exp::In(1 + u32::from(b >> 6)),
        }
    }

    fn op(&mut self) -> Op {
        let code = self.u8();
        let key = usize::from(self.u8());
        match code % 16 {
            0..=3 => {
                let m = self.u8();
                let mode = [
                    Mode::Set,
                    Mode::Add,
                    Mode::Replace,
                    Mode::Append,
                    Mode::Prepend,
                    Mode::Cas,
                ][usize::from(m % 6)];
                let flags = if m & 0x80 != 0 { self.u32() } else { 0 };
                let exp = if m & 0x40 != 0 {
                    self.exp()
                } else {
                    Exp::Never
                };
                let cas = match (m >> 3) & 3 {
                    0 | 1 => CasPick::Known,
                    2 => CasPick::Zero,
                    _ => CasPick::Other(self.u64()),
                };
                let d = self.u8();
                let data = if d & 0x80 != 0 {
                    Data::Numeric(usize::from(d) % NUMERIC.len())
                } else {
                    let len = if d & 0x40 != 0 {
                        usize::from(self.u16()) % 4300
                    } else {
                        usize::from(d & 0x3f) * 3
                    };
                    Data::Bytes { len, seed: d }
                };
                Op::Store {
                    mode,
                    key,
                    flags,
                    exp,
                    cas,
                    data,
                }
            }
            4 | 14 | 15 => Op::Get { key },
            5 => Op::Gat {
                key,
                exp: self.exp(),
            },
            6 => Op::Touch {
                key,
                exp: self.exp(),
            },
            7 => Op::Delete { key },
            8 => Op::Remove { key },
            9 => Op::Arith {
                key,
                incr: code & 0x10 != 0,
                delta: match code >> 5 {
                    0 => u64::MAX,
                    1..=3 => u64::from(self.u8()),
                    _ => self.u64(),
                },
            },
            10 => Op::Flush {
                delay: (key & 1 == 1).then_some((key >> 1) as u32 & 7),
            },
            11 => Op::Pager { budget: key + 1 },
            12 => Op::Advance {
                secs: (key % 8) as u32 * if key >= 128 { 50 } else { 1 },
            },
            _ => Op::Headroom,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut f = Fields(data);
    let (a, b) = (f.u8(), f.u8());
    let mut cfg = StoreConfig::tiny(2 + usize::from(a % 9), 4 + usize::from(b % 60));
    cfg.use_cas = a & 0x10 == 0;
    if a & 0x20 != 0 {
        cfg.item_size_max = 200 + 16 * usize::from(b >> 2);
    }
    if a & 0x40 != 0 {
        cfg.cas_offset = 1;
        cfg.cas_stride = 3;
    }
    cfg.evict = a & 0x80 == 0;
    let mut c = StoreCheck::new(cfg);
    let mut n = 0;
    while !f.0.is_empty() && n < 4096 {
        let op = f.op();
        c.apply(&op);
        n += 1;
    }
    c.finish();
});
