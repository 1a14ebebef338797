//! Store tables, eviction and expiry behaviour, and an accounting property test over random
//! operation sequences on tiny stores.

use super::*;

mod meta;

/// `ma`, with a compare-CAS (`cas` 0 compares nothing).
fn meta_arith(s: &mut Store, key: &[u8], incr: bool, delta: u64, cas: u64, now: u32) -> MetaArith {
    let d = Delta {
        incr,
        delta,
        cas,
        meta: true,
    };
    s.add_delta(key, d, now)
}

const NOW: u32 = 1_800_000_000;

/// A tiny store: 4 KiB segments, `segs` of them plus a small index.
fn tiny(segs: usize) -> Store {
    let b = Store::builder()
        .segment_size(4096)
        .capacity(64)
        .started(NOW - 100);
    let index = Index::with_capacity(64).bytes();
    b.mem_limit(segs * 4096 + index).build()
}

fn big() -> Store {
    Store::builder().started(NOW - 100).build()
}

fn value(s: &mut Store, key: &[u8], now: u32) -> Option<Vec<u8>> {
    s.get(key, now).map(|it| it.value.to_vec())
}

#[test]
fn storage_modes() {
    let mut s = big();
    assert_eq!(
        s.store(Mode::Add, b"k", 1, 0, 0, b"a", NOW),
        StoreResult::Stored
    );
    assert_eq!(
        s.store(Mode::Add, b"k", 1, 0, 0, b"b", NOW),
        StoreResult::NotStored
    );
    assert_eq!(
        s.store(Mode::Replace, b"x", 1, 0, 0, b"b", NOW),
        StoreResult::NotStored
    );
    assert_eq!(
        s.store(Mode::Replace, b"k", 2, 0, 0, b"b", NOW),
        StoreResult::Stored
    );
    assert_eq!(
        s.store(Mode::Append, b"k", 9, 0, 0, b"c", NOW),
        StoreResult::Stored
    );
    assert_eq!(
        s.store(Mode::Prepend, b"k", 9, 0, 0, b"a", NOW),
        StoreResult::Stored
    );
    let it = s.get(b"k", NOW).unwrap();
    assert_eq!(
        (it.value, it.flags),
        (&b"abc"[..], 2),
        "append keeps the old flags"
    );
    assert_eq!(
        s.store(Mode::Append, b"x", 0, 0, 0, b"c", NOW),
        StoreResult::NotStored
    );
    assert!(s.delete(b"k", NOW));
    assert!(!s.delete(b"k", NOW));
    s.check_invariants();
}

/// An overwrite repoints its key's index entry: no tombstone, no second entry, whatever
/// the storage command, and the item is what a get then finds.
#[test]
fn overwrites_repoint_the_index_entry() {
    let mut s = big();
    for i in 0..200u32 {
        let v = i.to_string().into_bytes();
        let mode = [Mode::Set, Mode::Replace, Mode::Append, Mode::Prepend][i as usize % 4];
        let r = s.store(mode, b"k", 0, 0, 0, &v, NOW);
        assert_eq!(r, StoreResult::Stored, "step {i}");
        if i % 4 == 0 {
            assert_eq!(value(&mut s, b"k", NOW), Some(v), "step {i}");
        }
        let cas = s.get(b"k", NOW).unwrap().cas;
        assert_eq!(
            s.store(Mode::Cas, b"k", 0, 0, cas, b"c", NOW),
            StoreResult::Stored
        );
    }
    assert_eq!((s.index.len(), s.index.tombs()), (1, 0));
    assert_eq!(value(&mut s, b"k", NOW), Some(b"c".to_vec()));
    s.check_invariants();
    // A delete still leaves its tombstone; the next set of the key is a new entry.
    assert!(s.delete(b"k", NOW));
    assert_eq!((s.index.len(), s.index.tombs()), (0, 1));
    assert_eq!(
        s.store(Mode::Set, b"k", 0, 0, 0, b"n", NOW),
        StoreResult::Stored
    );
    assert_eq!(s.index.len(), 1);
    s.check_invariants();
}

#[test]
fn cas_rules() {
    let mut s = big();
    assert_eq!(
        s.store(Mode::Cas, b"k", 0, 0, 1, b"a", NOW),
        StoreResult::NotFound
    );
    s.store(Mode::Set, b"k", 0, 0, 0, b"a", NOW);
    let cas = s.get(b"k", NOW).unwrap().cas;
    assert_eq!(
        s.store(Mode::Cas, b"k", 0, 0, cas + 1, b"b", NOW),
        StoreResult::Exists
    );
    assert_eq!(
        s.store(Mode::Cas, b"k", 0, 0, 0, b"b", NOW),
        StoreResult::Exists
    );
    assert_eq!(
        s.store(Mode::Cas, b"k", 0, 0, cas, b"b", NOW),
        StoreResult::Stored
    );
    assert!(s.get(b"k", NOW).unwrap().cas > cas);
    let c = s.counters();
    assert_eq!(
        (
            c.get(Stat::CasMisses),
            c.get(Stat::CasBadval),
            c.get(Stat::CasHits)
        ),
        (1, 2, 1)
    );
    let mut off = Store::builder().use_cas(false).build();
    off.store(Mode::Set, b"k", 0, 0, 0, b"a", NOW);
    assert_eq!(off.get(b"k", NOW).unwrap().cas, 0);
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
    let mut s = big();
    assert_eq!(s.abs_exptime(0, NOW), 0);
    assert_eq!(s.abs_exptime(10, NOW), NOW + 10);
    assert_eq!(s.abs_exptime(-1, NOW), 1);
    assert_eq!(s.abs_exptime((NOW + 50) as i32, NOW), NOW + 50);
    assert_eq!(
        s.abs_exptime((NOW - 200) as i32, NOW),
        1,
        "before start: already past"
    );
    s.store(Mode::Set, b"k", 0, NOW + 2, 0, b"v", NOW);
    assert!(s.get(b"k", NOW + 1).is_some());
    assert!(s.get(b"k", NOW + 2).is_none(), "expires at its exptime");
    assert_eq!(s.counters().get(Stat::GetExpired), 1);
    assert_eq!(s.len(), 0);
    s.store(Mode::Set, b"t", 0, NOW + 2, 0, b"v", NOW);
    assert!(s.touch(b"t", 0, NOW + 1));
    assert!(
        s.get(b"t", NOW + 1000).is_some(),
        "touch to 0 removes the expiry"
    );
    s.check_invariants();
}

#[test]
fn arith_matches_memcached() {
    let mut s = big();
    assert_eq!(s.arith(b"n", true, 1, NOW), ArithResult::NotFound);
    s.store(Mode::Set, b"n", 0, 0, 0, b"100", NOW);
    let cas = s.get(b"n", NOW).unwrap().cas;
    assert_eq!(s.arith(b"n", false, 91, NOW), ArithResult::Value(9));
    assert_eq!(
        value(&mut s, b"n", NOW).unwrap(),
        b"9  ",
        "in place, space padded"
    );
    assert!(s.get(b"n", NOW).unwrap().cas > cas, "a new unique");
    assert_eq!(s.arith(b"n", false, 100, NOW), ArithResult::Value(0));
    s.store(Mode::Set, b"n", 3, 0, 0, b"99", NOW);
    assert_eq!(s.arith(b"n", true, 1, NOW), ArithResult::Value(100));
    assert_eq!(value(&mut s, b"n", NOW).unwrap(), b"100");
    assert_eq!(s.get(b"n", NOW).unwrap().flags, 3);
    s.store(Mode::Set, b"n", 0, 0, 0, b"18446744073709551615", NOW);
    assert_eq!(
        s.arith(b"n", true, 2, NOW),
        ArithResult::Value(1),
        "incr wraps"
    );
    s.store(Mode::Set, b"n", 0, 0, 0, b"12 abc", NOW);
    assert_eq!(s.arith(b"n", true, 1, NOW), ArithResult::Value(13));
    for bad in [&b"abc"[..], b"", b"-5", b"1x"] {
        s.store(Mode::Set, b"n", 0, 0, 0, bad, NOW);
        assert_eq!(
            s.arith(b"n", true, 1, NOW),
            ArithResult::NonNumeric,
            "{bad:?}"
        );
    }
    s.check_invariants();
}

#[test]
fn flush_all_is_immediate_and_the_pager_reclaims() {
    let mut s = tiny(16);
    for i in 0..100 {
        s.store(
            Mode::Set,
            format!("k{i}").as_bytes(),
            0,
            0,
            0,
            &[b'v'; 100],
            NOW,
        );
    }
    let before = s.mem_used();
    s.flush_all(0, NOW);
    assert!(s.get(b"k1", NOW).is_none());
    assert_eq!(s.counters().get(Stat::GetFlushed), 1);
    s.store(Mode::Set, b"new", 0, 0, 0, b"v", NOW);
    while !s.pager_step(NOW, 10).pass_done {}
    assert_eq!(s.len(), 1, "only the item stored after the flush");
    assert!(s.get(b"new", NOW).is_some());
    assert!(s.mem_used() < before, "segments given back");
    s.check_invariants();

    s.flush_all(NOW + 5, NOW);
    assert!(s.get(b"new", NOW + 4).is_some());
    assert!(s.get(b"new", NOW + 5).is_none());
}

#[test]
fn pager_reclaims_expired_items_and_frees_segments() {
    let mut s = tiny(64);
    let empty = s.mem_used();
    for i in 0..1000 {
        s.store(
            Mode::Set,
            format!("k{i}").as_bytes(),
            0,
            NOW + 2,
            0,
            &[b'v'; 100],
            NOW,
        );
    }
    assert!(s.len() > 500);
    let step = s.pager_step(NOW + 1, usize::MAX);
    assert!(step.pass_done && step.reclaimed == 0 && step.next_expiry == NOW + 2);
    let mut reclaimed = 0;
    loop {
        let step = s.pager_step(NOW + 3, 100);
        reclaimed += step.reclaimed;
        if step.pass_done {
            break;
        }
    }
    assert_eq!(s.len(), 0);
    assert_eq!(s.live_bytes(), 0);
    assert!(reclaimed > 500);
    assert!(
        s.mem_used() <= empty + 2 * 4096,
        "only emptied heads may stay mapped"
    );
    assert_eq!(s.counters().get(Stat::ExpiredUnfetched) as usize, reclaimed);
    s.check_invariants();
}

#[test]
fn full_store_without_eviction_refuses() {
    let mut s = Store::builder()
        .segment_size(4096)
        .capacity(64)
        .evict(false)
        .mem_limit(2 * 4096 + Index::with_capacity(64).bytes())
        .build();
    let mut stored = 0;
    while s.store(
        Mode::Set,
        format!("k{stored}").as_bytes(),
        0,
        0,
        0,
        &[1; 500],
        NOW,
    ) == StoreResult::Stored
    {
        stored += 1;
        assert!(stored < 100);
    }
    assert!(stored >= 10);
    assert_eq!(s.counters().get(Stat::Evictions), 0);
    // A failed set removes the old value, as memcached does.
    assert_eq!(
        s.store(Mode::Set, b"k0", 0, 0, 0, &[1; 600], NOW),
        StoreResult::NoMemory
    );
    assert!(s.get(b"k0", NOW).is_none());
    s.check_invariants();
}

#[test]
fn eviction_keeps_memory_bounded_and_the_hot_set() {
    let mut s = tiny(40);
    // A hot set read often, then a long scan of one-time keys.
    for round in 0..20 {
        for h in 0..30 {
            let k = format!("hot{h}");
            if s.get(k.as_bytes(), NOW).is_none() {
                s.store(Mode::Set, k.as_bytes(), 0, 0, 0, &[b'h'; 100], NOW);
            }
        }
        for i in 0..200 {
            let k = format!("scan{round}-{i}");
            s.store(Mode::Set, k.as_bytes(), 0, 0, 0, &[b's'; 100], NOW);
        }
        assert!(s.mem_used() <= s.mem_limit());
    }
    let hot = (0..30)
        .filter(|h| s.get(format!("hot{h}").as_bytes(), NOW).is_some())
        .count();
    assert!(hot >= 27, "the hot set survives the scan: {hot}/30");
    assert!(s.counters().get(Stat::Evictions) > 1000);
    assert!(s.counters().get(Stat::EvictedUnfetched) > 1000);
    s.check_invariants();
}

#[test]
fn mixed_sizes_do_not_starve_each_other() {
    let mut s = tiny(32);
    for i in 0..2000u32 {
        let small = format!("s{i}");
        let large = format!("l{i}");
        assert_eq!(
            s.store(Mode::Set, small.as_bytes(), 0, 0, 0, &[1; 10], NOW),
            StoreResult::Stored
        );
        assert_eq!(
            s.store(Mode::Set, large.as_bytes(), 0, 0, 0, &[2; 3000], NOW),
            StoreResult::Stored
        );
        // Both sizes stay storable and readable after each other.
        assert!(s.get(small.as_bytes(), NOW).is_some());
        assert!(s.get(large.as_bytes(), NOW).is_some());
    }
    s.check_invariants();
}

/// A small deterministic generator, so failures replay.
pub(super) struct Rng(pub(super) u64);
impl Rng {
    pub(super) fn next(&mut self) -> u64 {
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
    for seed in 1..=12u64 {
        let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut s = tiny(3 + r.below(8) as usize);
        let mut now = NOW;
        let mut model: std::collections::HashMap<Vec<u8>, Vec<u8>> = Default::default();
        for step in 0..4_000 {
            let key = format!("k{}", r.below(60)).into_bytes();
            let len = match r.below(10) {
                0 => r.below(2000) as usize,
                _ => r.below(120) as usize,
            };
            let data = vec![b'0' + (step % 10) as u8; len];
            let exp = match r.below(5) {
                0 => now + 1 + r.below(3) as u32,
                _ => 0,
            };
            match r.below(10) {
                0 | 1 => {
                    if s.store(Mode::Set, &key, 0, exp, 0, &data, now) == StoreResult::Stored
                        && exp == 0
                    {
                        model.insert(key.clone(), data.clone());
                    }
                }
                2 => drop(s.store(Mode::Add, &key, 0, exp, 0, &data, now)),
                3 => drop(s.store(Mode::Append, &key, 0, exp, 0, &data[..len.min(50)], now)),
                4 => drop(s.store(Mode::Prepend, &key, 0, exp, 0, &data[..len.min(50)], now)),
                5 => drop(s.delete(&key, now)),
                6 => drop(s.arith(&key, r.below(2) == 0, r.below(1000), now)),
                7 => drop(s.touch(&key, exp, now)),
                8 => {
                    now += r.below(2) as u32;
                    if r.below(20) == 0 {
                        s.pager_step(now, 50);
                    }
                }
                _ => {
                    if r.below(100) == 0 {
                        s.flush_all(if r.below(2) == 0 { 0 } else { now + 1 }, now);
                    } else if let Some(v) = value(&mut s, &key, now) {
                        // Whatever is returned was written for this key at some point.
                        assert!(
                            v.iter().all(|b| b.is_ascii_digit() || *b == b' '),
                            "seed {seed} step {step}"
                        );
                    }
                }
            }
            if step % 7 == 0 {
                s.check_invariants();
            }
        }
        s.check_invariants();
        let _ = model;
    }
}

/// Regression: compaction and eviction used to judge expiry by the wall clock rather than
/// by the time operations bring, so a store driven by a clock behind the wall clock lost
/// live items whenever a segment was rewritten.
#[test]
fn segment_rewrites_judge_expiry_by_operation_time() {
    const PAST: u32 = 1_000_000_000; // 2001: far behind the wall clock
    let mut s = Store::builder()
        .segment_size(4096)
        .capacity(64)
        .started(PAST - 100)
        .mem_limit(64 * 4096 + Index::with_capacity(64).bytes())
        .build();
    let v = vec![b'k'; 200];
    // Each live item sits among overwritten ones: its segment is mostly dead, so the
    // allocator compacts it and judges the live item on the way. The overwrites change
    // size, so each appends a new version (a same-size one is written over the old).
    for k in 0..20 {
        let r = s.store(
            Mode::Set,
            format!("k{k}").as_bytes(),
            0,
            PAST + 1000,
            0,
            &v,
            PAST,
        );
        assert_eq!(r, StoreResult::Stored);
        for i in 0..5 {
            let churn = format!("c{}", k % 3);
            let r = s.store(Mode::Set, churn.as_bytes(), 0, 0, 0, &v[i % 2..], PAST);
            assert_eq!(r, StoreResult::Stored);
        }
    }
    for i in 0..400 {
        let r = s.store(Mode::Set, b"c0", 0, 0, 0, &v[i % 2..], PAST);
        assert_eq!(r, StoreResult::Stored);
    }
    assert!(
        s.counters().get(Stat::SegmentsCompacted) > 0,
        "compaction ran"
    );
    for k in 0..20 {
        assert!(
            s.get(format!("k{k}").as_bytes(), PAST).is_some(),
            "k{k} was live"
        );
    }
    assert_eq!(s.counters().get(Stat::Reclaimed), 0);
    s.check_invariants();
}

/// A pinned value stays exactly as it was read through every kind of write, eviction,
/// compaction, in-place arithmetic and same-size sets, touch relocation and pager pass, and a store with pins
/// keeps its accounting; once the pins drop, their segments are evictable again.
#[test]
fn pinned_values_never_change_under_random_operations() {
    for seed in 1..=12u64 {
        let mut r = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut s = tiny(8 + r.below(8) as usize);
        let mut now = NOW;
        let mut held: Vec<(PinnedValue, Vec<u8>)> = Vec::new();
        for step in 0..4_000 {
            let key = format!("k{}", r.below(40)).into_bytes();
            let len = match r.below(4) {
                0 => 1 + r.below(2000) as usize,
                _ => 1 + r.below(200) as usize,
            };
            // Numbers padded with spaces, so `incr` can rewrite them in place.
            let mut data = format!("{}", step).into_bytes();
            data.resize(len.max(data.len()), b' ');
            match r.below(8) {
                0 => drop(s.store(Mode::Set, &key, 0, 0, 0, &data, now)),
                1 => {
                    // The current value's size, so the set may go over it in place.
                    if let Some(n) = s.get(&key, now).map(|it| it.value.len()) {
                        data.resize(n, b' ');
                    }
                    let _ = s.store(Mode::Set, &key, 0, 0, 0, &data, now);
                }
                2 => drop(s.store(Mode::Append, &key, 0, 0, 0, &data[..len.min(40)], now)),
                3 => drop(s.arith(&key, r.below(2) == 0, r.below(1000), now)),
                4 => drop(s.get_and_touch(&key, now + 100, now)),
                5 => drop(s.delete(&key, now)),
                6 => {
                    now += r.below(2) as u32;
                    s.pager_step(now, 50);
                }
                _ => {
                    if let Some(it) = s.get(&key, now) {
                        let copy = it.value.to_vec();
                        if let Some(p) = it.stored().pin() {
                            held.push((p, copy));
                        }
                    }
                }
            }
            if r.below(6) == 0 && !held.is_empty() {
                let i = r.below(held.len() as u64) as usize;
                held.swap_remove(i);
            }
            for (p, copy) in &held {
                assert_eq!(p.bytes(), copy.as_slice(), "seed {seed} step {step}");
            }
            assert!(s.pinned_segments() <= s.segs.len() / 4 + 1);
            if step % 11 == 0 {
                s.check_invariants();
            }
        }
        held.clear();
        assert_eq!(s.pinned_segments(), 0);
        s.check_invariants();
    }
}

/// With every closed segment pinned but one, eviction takes that one; with all of them
/// pinned a write is refused rather than overwrite a held value.
#[test]
fn eviction_passes_over_pinned_segments() {
    let mut s = tiny(8);
    let v = vec![b'v'; 3000];
    let mut pins = Vec::new();
    for i in 0..40 {
        let key = format!("k{i}");
        s.store(Mode::Set, key.as_bytes(), 0, 0, 0, &v, NOW);
        if let Some(p) = s.get(key.as_bytes(), NOW).and_then(|it| it.stored().pin()) {
            pins.push((key, p));
        }
    }
    // A quarter of the segments may be pinned.
    assert_eq!(s.pinned_segments(), s.segs.len() / 4);
    assert!(s.pinned_segments() >= 2);
    for (_, p) in &pins {
        assert_eq!(p.bytes(), v.as_slice());
    }
    // Writes go on evicting the unpinned segments.
    for i in 40..200 {
        let key = format!("k{i}");
        assert_eq!(
            s.store(Mode::Set, key.as_bytes(), 0, 0, 0, &v, NOW),
            StoreResult::Stored
        );
    }
    for (_, p) in &pins {
        assert_eq!(p.bytes(), v.as_slice());
    }
    s.check_invariants();
}

/// A set, replace or cas that takes exactly the old item's bytes is written over it: memory
/// does not grow however often a key is rewritten, and the item is new in every field a
/// client reads. Where a reply holds the old value, the write goes elsewhere and the held
/// bytes stay as they were.
#[test]
fn same_size_writes_go_over_the_old_item() {
    let mut s = tiny(8);
    let value = |i: usize| format!("{i:0>200}").into_bytes();
    assert_eq!(
        s.store(Mode::Set, b"k", 0, 0, 0, &value(0), NOW),
        StoreResult::Stored
    );
    let (mem, live) = (s.mem_used(), s.live_bytes());
    let mut last_cas = s.get(b"k", NOW).unwrap().cas;
    for i in 1..2_000 {
        let (mode, cas) = match i % 3 {
            0 => (Mode::Set, 0),
            1 => (Mode::Replace, 0),
            _ => (Mode::Cas, last_cas),
        };
        assert_eq!(
            s.store(mode, b"k", 0, 0, cas, &value(i), NOW),
            StoreResult::Stored
        );
        let it = s.get(b"k", NOW).unwrap();
        assert_eq!((it.value, it.flags, it.exptime), (&value(i)[..], 0, 0));
        assert!(it.cas > last_cas, "write {i} has a new unique");
        last_cas = it.cas;
    }
    assert_eq!((s.mem_used(), s.live_bytes(), s.len()), (mem, live, 1));
    // Same length, other fields: flags in place of an exptime.
    assert_eq!(
        s.store(Mode::Set, b"k", 0, NOW + 50, 0, &value(1), NOW),
        StoreResult::Stored
    );
    assert_eq!(
        s.store(Mode::Set, b"k", 9, 0, 0, &value(2), NOW),
        StoreResult::Stored
    );
    let it = s.get(b"k", NOW).unwrap();
    assert_eq!((it.value, it.flags, it.exptime), (&value(2)[..], 9, 0));
    // A held value is not written over.
    let held = s.get(b"k", NOW).and_then(|it| it.stored().pin()).unwrap();
    assert_eq!(
        s.store(Mode::Set, b"k", 9, 0, 0, &value(3), NOW),
        StoreResult::Stored
    );
    assert_eq!(held.bytes(), &value(2)[..]);
    assert_eq!(s.get(b"k", NOW).unwrap().value, &value(3)[..]);
    drop(held);
    s.check_invariants();
}

/// Per-class eviction, reclaim and request counts add up to the general counters, each in
/// the class memcached would use (the invariant checker checks items and bytes).
#[test]
fn class_counters_add_up_to_the_general_ones() {
    use crate::stats::{ClassStat, CLASS_SLOTS};
    let mut s = tiny(4);
    let classes = classes::Classes::default();
    let total = |s: &Store, st: ClassStat| -> u64 {
        (0..CLASS_SLOTS as u8)
            .map(|c| s.counters().class_get(c, st))
            .sum()
    };
    for i in 0..400u32 {
        let key = format!("key{i}");
        let len = [10, 100, 700][i as usize % 3];
        let exp = if i % 5 == 0 { NOW + 1 } else { 0 };
        s.store(Mode::Set, key.as_bytes(), 0, exp, 0, &vec![b'x'; len], NOW);
        s.get(key.as_bytes(), NOW);
    }
    s.check_invariants();
    let c = s.counters().clone();
    assert!(c.get(Stat::Evictions) > 100);
    assert_eq!(total(&s, ClassStat::Evicted), c.get(Stat::Evictions));
    assert_eq!(
        total(&s, ClassStat::EvictedUnfetched),
        c.get(Stat::EvictedUnfetched)
    );
    assert_eq!(total(&s, ClassStat::CmdSet), 400);
    assert_eq!(total(&s, ClassStat::GetHits), 400);
    // A 700-byte value is in memcached's class for its item size, and only there.
    let big_class = classes.class_of(memcached_item_size(6, 0, 700, true));
    assert_eq!(s.counters().class_get(big_class, ClassStat::CmdSet), 133);
    while s.pager_step(NOW + 2, 1000).reclaimed > 0 {}
    s.check_invariants();
    assert!(c.get(Stat::Reclaimed) > 0);
    assert_eq!(total(&s, ClassStat::Reclaimed), c.get(Stat::Reclaimed));
}

/// An index reserved for what is coming takes it without a rebuild; one that is not grows
/// in steps on the way.
#[test]
fn a_reserved_index_takes_its_items_without_growing() {
    let fill = |s: &mut Store| {
        let before = s.counters().get(Stat::HashBytes);
        for i in 0..20_000u32 {
            let key = format!("key{i}");
            assert_eq!(
                s.store(Mode::Set, key.as_bytes(), 0, 0, 0, b"v", NOW),
                StoreResult::Stored
            );
        }
        (before, s.counters().get(Stat::HashBytes))
    };
    let mut reserved = big();
    reserved.reserve_items(20_000, 64);
    let (before, after) = fill(&mut reserved);
    assert_eq!(before, after, "the reserved index did not grow");
    let mut plain = big();
    let (before, after) = fill(&mut plain);
    assert!(after > before, "an index that was not reserved grows");
}

/// An index reserved for more items than the limit holds is sized for those that fit:
/// an index for all of them would take the memory the items need.
#[test]
fn a_reserved_index_stays_inside_what_the_limit_holds() {
    const LIMIT: usize = 64 << 20;
    let mut s = Store::builder()
        .started(NOW - 100)
        .capacity(1024)
        .mem_limit(LIMIT)
        .build();
    let before = s.counters().get(Stat::HashBytes) as usize;
    // 2M items of 200 bytes: 400 MB, where about 64 MiB / 210 bytes fit.
    s.reserve_items(2_000_000, 200);
    let after = s.counters().get(Stat::HashBytes) as usize;
    assert!(after > before, "the index was not reserved at all");
    let fit = LIMIT / 200;
    assert!(
        after <= Index::bytes_for(fit + fit / 8),
        "an index of {after} bytes for a limit holding {fit} items"
    );
}

/// Kilobytes of `/proc/self/smaps`'s `field` for the mapping that holds `addr`.
fn smaps_kb(addr: usize, field: &str) -> Option<usize> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let mut inside = false;
    for line in smaps.lines() {
        let head = line.split_whitespace().next().unwrap_or("");
        if let Some((lo, hi)) = head.split_once('-') {
            if let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = (lo..hi).contains(&addr);
                continue;
            }
        }
        if inside {
            if let Some(rest) = line.strip_prefix(field) {
                let kb = rest.trim_start_matches(':').split_whitespace().next()?;
                return kb.parse().ok();
            }
        }
    }
    None
}

/// With huge pages off, the segments written fault in as 4 KiB pages; with them on
/// again, later segments may be huge pages, and the items written either way read back.
#[test]
fn huge_pages_off_faults_the_segments_in_4k_pages() {
    let thp =
        std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
    if thp.contains("[never]") || thp.is_empty() {
        eprintln!("skipped: transparent huge pages are off on this system");
        return;
    }
    const MB: usize = 1 << 20;
    let mut s = Store::builder()
        .segment_size(MB)
        .started(NOW - 100)
        .mem_limit(64 * MB)
        .build();
    let base = s.arena.base().as_ptr() as usize;
    let v = vec![b'v'; 2000];
    let fill = |s: &mut Store, from: u32, to: u32| {
        for i in from..to {
            let key = format!("key{i}");
            assert_eq!(
                s.store(Mode::Set, key.as_bytes(), i, 0, 0, &v, NOW),
                StoreResult::Stored
            );
        }
    };
    s.huge_pages(false);
    // About 16 MB of items.
    fill(&mut s, 0, 8000);
    assert_eq!(
        smaps_kb(base, "AnonHugePages"),
        Some(0),
        "huge pages while off"
    );
    assert!(smaps_kb(base, "Rss").unwrap_or(0) >= 8 * 1024);
    s.huge_pages(true);
    fill(&mut s, 8000, 16_000);
    s.check_invariants();
    for i in (0..16_000u32).step_by(101) {
        let key = format!("key{i}");
        assert_eq!(value(&mut s, key.as_bytes(), NOW).as_deref(), Some(&v[..]));
    }
    assert!(
        smaps_kb(base, "AnonHugePages").unwrap_or(0) > 0,
        "no huge pages once on again"
    );
}

#[test]
fn key_hash_is_ahash_hash_one() {
    // Keys' shards and index buckets depend on this hash: spelling it out must not
    // change it.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for len in 0..300 {
        let key: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert_eq!(key_hash(&key), KEY_HASH.hash_one(&key[..]), "{len}");
    }
}
