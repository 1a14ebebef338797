//! Store tables and an accounting property test over random operation sequences.

use super::*;

const NOW: u32 = 1_800_000_000;

fn tiny(limit: usize) -> Store {
    Store::builder().mem_limit(limit).started(NOW - 100).build()
}

#[test]
fn storage_modes() {
    let mut s = tiny(1 << 20);
    assert_eq!(s.store(Mode::Add, b"k", 1, 0, 0, b"a", NOW), StoreResult::Stored);
    assert_eq!(s.store(Mode::Add, b"k", 1, 0, 0, b"b", NOW), StoreResult::NotStored);
    assert_eq!(s.store(Mode::Replace, b"x", 1, 0, 0, b"b", NOW), StoreResult::NotStored);
    assert_eq!(s.store(Mode::Replace, b"k", 2, 0, 0, b"b", NOW), StoreResult::Stored);
    assert_eq!(s.store(Mode::Append, b"k", 9, 0, 0, b"c", NOW), StoreResult::Stored);
    assert_eq!(s.store(Mode::Prepend, b"k", 9, 0, 0, b"a", NOW), StoreResult::Stored);
    let it = s.get(b"k", NOW).unwrap();
    assert_eq!((&*it.value, it.flags), (&b"abc"[..], 2), "append keeps the old flags");
    assert_eq!(s.store(Mode::Append, b"x", 0, 0, 0, b"c", NOW), StoreResult::NotStored);
}

#[test]
fn cas_rules() {
    let mut s = tiny(1 << 20);
    assert_eq!(s.store(Mode::Cas, b"k", 0, 0, 1, b"a", NOW), StoreResult::NotFound);
    s.store(Mode::Set, b"k", 0, 0, 0, b"a", NOW);
    let cas = s.get(b"k", NOW).unwrap().cas;
    assert_eq!(s.store(Mode::Cas, b"k", 0, 0, cas + 1, b"b", NOW), StoreResult::Exists);
    assert_eq!(s.store(Mode::Cas, b"k", 0, 0, 0, b"b", NOW), StoreResult::Exists);
    assert_eq!(s.store(Mode::Cas, b"k", 0, 0, cas, b"b", NOW), StoreResult::Stored);
    assert!(s.get(b"k", NOW).unwrap().cas > cas);
    let c = s.counters();
    assert_eq!((c.get(Stat::CasMisses), c.get(Stat::CasBadval), c.get(Stat::CasHits)), (1, 2, 1));
}

#[test]
fn cas_sequences_are_disjoint_across_shards() {
    let mut a = Store::builder().cas_sequence(0, 2).build();
    let mut b = Store::builder().cas_sequence(1, 2).build();
    let mut seen = std::collections::HashSet::new();
    for i in 0..100u32 {
        let k = i.to_string();
        a.store(Mode::Set, k.as_bytes(), 0, 0, 0, b"v", NOW);
        b.store(Mode::Set, k.as_bytes(), 0, 0, 0, b"v", NOW);
        assert!(seen.insert(a.get(k.as_bytes(), NOW).unwrap().cas));
        assert!(seen.insert(b.get(k.as_bytes(), NOW).unwrap().cas));
    }
}

#[test]
fn expiry() {
    let mut s = tiny(1 << 20);
    assert_eq!(s.abs_exptime(0, NOW), 0);
    assert_eq!(s.abs_exptime(10, NOW), NOW + 10);
    assert_eq!(s.abs_exptime(-1, NOW), 1);
    assert_eq!(s.abs_exptime((NOW + 50) as i32, NOW), NOW + 50);
    assert_eq!(s.abs_exptime((NOW - 200) as i32, NOW), 1, "before start: already past");
    s.store(Mode::Set, b"k", 0, NOW + 2, 0, b"v", NOW);
    assert!(s.get(b"k", NOW + 1).is_some());
    assert!(s.get(b"k", NOW + 2).is_none(), "expires at its exptime");
    assert_eq!(s.len(), 0);
    assert_eq!(s.mem_used(), 0);
    s.store(Mode::Set, b"t", 0, NOW + 2, 0, b"v", NOW);
    assert!(s.touch(b"t", 0, NOW + 1));
    assert!(s.get(b"t", NOW + 1000).is_some(), "touch to 0 removes the expiry");
}

#[test]
fn arith_matches_memcached() {
    let mut s = tiny(1 << 20);
    assert_eq!(s.arith(b"n", true, 1, NOW), ArithResult::NotFound);
    s.store(Mode::Set, b"n", 0, 0, 0, b"100", NOW);
    assert_eq!(s.arith(b"n", false, 91, NOW), ArithResult::Value(9));
    assert_eq!(&*s.get(b"n", NOW).unwrap().value, b"9  ", "in place, space padded");
    assert_eq!(s.arith(b"n", false, 100, NOW), ArithResult::Value(0));
    s.store(Mode::Set, b"n", 0, 0, 0, b"99", NOW);
    assert_eq!(s.arith(b"n", true, 1, NOW), ArithResult::Value(100));
    assert_eq!(&*s.get(b"n", NOW).unwrap().value, b"100");
    s.store(Mode::Set, b"n", 0, 0, 0, b"18446744073709551615", NOW);
    assert_eq!(s.arith(b"n", true, 2, NOW), ArithResult::Value(1), "incr wraps");
    s.store(Mode::Set, b"n", 0, 0, 0, b"12 abc", NOW);
    assert_eq!(s.arith(b"n", true, 1, NOW), ArithResult::Value(13));
    for bad in [&b"abc"[..], b"", b"-5", b"1x"] {
        s.store(Mode::Set, b"n", 0, 0, 0, bad, NOW);
        assert_eq!(s.arith(b"n", true, 1, NOW), ArithResult::NonNumeric, "{bad:?}");
    }
}

#[test]
fn flush_all_now_and_later() {
    let mut s = tiny(1 << 20);
    s.store(Mode::Set, b"a", 0, 0, 0, b"v", NOW);
    s.flush_all(0, NOW);
    assert!(s.get(b"a", NOW).is_none());
    s.store(Mode::Set, b"b", 0, 0, 0, b"v", NOW);
    s.flush_all(NOW + 5, NOW);
    assert!(s.get(b"b", NOW + 4).is_some());
    assert!(s.get(b"b", NOW + 5).is_none());
    assert_eq!(s.mem_used(), 0);
}

#[test]
fn full_store_refuses_and_set_failure_removes_old_value() {
    let mut s = tiny(3 * (ITEM_OVERHEAD + 11));
    for k in [b"k1", b"k2", b"k3"] {
        assert_eq!(s.store(Mode::Set, k, 0, 0, 0, b"123456789", NOW), StoreResult::Stored);
    }
    assert_eq!(s.store(Mode::Set, b"k4", 0, 0, 0, b"123456789", NOW), StoreResult::NoMemory);
    assert_eq!(s.store(Mode::Set, b"k1", 0, 0, 0, b"1234567890", NOW), StoreResult::NoMemory);
    assert!(s.get(b"k1", NOW).is_none(), "memcached unlinks the old value");
    assert!(s.mem_used() <= s.mem_limit());
}

/// A small deterministic generator, so failures replay.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn accounting_is_exact_under_random_operations() {
    for seed in 1..=20u64 {
        let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let limit = 2_000 + r.below(4_000) as usize;
        let mut s = tiny(limit);
        let mut now = NOW;
        for step in 0..3_000 {
            let key = format!("k{}", r.below(40));
            let key = key.as_bytes();
            let len = r.below(120) as usize;
            let data = vec![b'0' + (step % 10) as u8; len];
            let exp = match r.below(4) {
                0 => now + 1 + r.below(3) as u32,
                _ => 0,
            };
            match r.below(9) {
                0 => drop(s.store(Mode::Set, key, 0, exp, 0, &data, now)),
                1 => drop(s.store(Mode::Add, key, 0, exp, 0, &data, now)),
                2 => drop(s.store(Mode::Append, key, 0, exp, 0, &data, now)),
                3 => drop(s.store(Mode::Prepend, key, 0, exp, 0, &data, now)),
                4 => drop(s.delete(key, now)),
                5 => drop(s.arith(key, r.below(2) == 0, r.below(1000), now)),
                6 => drop(s.touch(key, exp, now)),
                7 => now += r.below(2) as u32,
                _ => {
                    if r.below(50) == 0 {
                        s.flush_all(if r.below(2) == 0 { 0 } else { now + 1 }, now);
                    } else {
                        drop(s.get(key, now));
                    }
                }
            }
            let sum: usize = s
                .map
                .iter()
                .map(|(k, it)| k.len() + it.value.len() + ITEM_OVERHEAD)
                .sum();
            assert_eq!(s.mem_used(), sum, "seed {seed} step {step}");
            assert!(s.mem_used() <= limit, "seed {seed} step {step}: over budget");
            let c = s.counters();
            assert_eq!(c.get(Stat::Bytes) as usize, sum, "seed {seed} step {step}");
            assert_eq!(c.get(Stat::CurrItems) as usize, s.len(), "seed {seed} step {step}");
        }
    }
}
