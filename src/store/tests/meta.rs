//! The meta commands' item operations: find, bump, exptime fields, stale and win
//! flags, delete and invalidate, arithmetic, vivify.

use super::*;

fn meta_info(s: &mut Store, key: &[u8], now: u32) -> Option<MetaInfo> {
    let it = s.meta_find(key, now)?;
    Some(s.meta_info(&it))
}

#[test]
fn meta_find_does_not_bump_and_bump_sets_fetched_then_access_time() {
    let mut s = big();
    s.store(Mode::Set, b"k", 0, 0, 0, b"v", NOW);
    let info = meta_info(&mut s, b"k", NOW + 5).unwrap();
    assert!(!info.fetched);
    assert_eq!((info.atime, info.idle(NOW + 5)), (NOW & 0x7fff_ffff, 5));
    // The first read only marks the item fetched (memcached's segmented LRU bump).
    let it = s.meta_find(b"k", NOW + 5).unwrap();
    s.meta_bump(&it);
    let info = meta_info(&mut s, b"k", NOW + 6).unwrap();
    assert!(info.fetched);
    assert_eq!(info.idle(NOW + 6), 6);
    // Later reads also set the access time.
    assert!(s.get(b"k", NOW + 7).is_some());
    assert_eq!(meta_info(&mut s, b"k", NOW + 9).unwrap().idle(NOW + 9), 2);
    s.check_invariants();
}

#[test]
fn meta_exptime_field_is_added_by_relocation_and_kept_in_place() {
    let mut s = big();
    s.store(Mode::Set, b"k", 7, 0, 0, b"value", NOW);
    let cas = meta_info(&mut s, b"k", NOW).unwrap().cas;
    let bytes = s.live_bytes();
    assert!(s.touch(b"k", NOW + 100, NOW));
    // The copy has a 4-byte exptime field; unique, flags and value are kept.
    assert_eq!(s.live_bytes(), bytes + 4);
    let info = meta_info(&mut s, b"k", NOW).unwrap();
    assert_eq!((info.exptime, info.cas, info.flags), (NOW + 100, cas, 7));
    assert_eq!(value(&mut s, b"k", NOW).unwrap(), b"value");
    assert_eq!(
        s.counters().get(Stat::TotalItems),
        1,
        "a relocation is no new item"
    );
    // Back to no expiry: in place.
    assert!(s.touch(b"k", 0, NOW));
    assert_eq!(s.live_bytes(), bytes + 4);
    assert!(value(&mut s, b"k", NOW + 1000).is_some());
    s.check_invariants();
}

#[test]
fn meta_exptime_without_memory_for_a_copy_lives_in_the_atime_field() {
    let index = Index::with_capacity(64).bytes();
    let mut s = Store::builder()
        .segment_size(4096)
        .capacity(64)
        .started(NOW - 100)
        .evict(false)
        .mem_limit(4096 + index)
        .build();
    let mut n = 0;
    while s.store(
        Mode::Set,
        format!("k{n}").as_bytes(),
        0,
        0,
        0,
        &[b'x'; 100],
        NOW,
    ) == StoreResult::Stored
    {
        n += 1;
    }
    assert!(n > 10);
    let bytes = s.live_bytes();
    assert!(s.touch(b"k0", NOW + 10, NOW));
    assert_eq!(s.live_bytes(), bytes, "no copy was made");
    assert_eq!(meta_info(&mut s, b"k0", NOW).unwrap().exptime, NOW + 10);
    assert!(s.get(b"k0", NOW + 9).is_some());
    assert!(s.get(b"k0", NOW + 10).is_none());
    assert!(s.touch(b"k1", NOW + 10, NOW));
    assert!(s.touch(b"k1", 0, NOW));
    assert!(s.get(b"k1", NOW + 1000).is_some());
    s.check_invariants();
}

#[test]
fn meta_store_cas_stale_and_binary_keys() {
    let mut s = big();
    assert_eq!(
        s.meta_store(Mode::Set, b"k", 0, NOW + 50, 0, false, true, b"a", NOW),
        StoreResult::Stored
    );
    let first = meta_info(&mut s, b"k", NOW).unwrap();
    assert!(first.key_binary);
    assert_eq!(s.last_cas(), first.cas);
    // A matching cas stores; a stale one stores only with invalidate, as a stale item
    // keeping the old exptime.
    assert_eq!(
        s.meta_store(Mode::Cas, b"k", 0, 0, first.cas, false, false, b"b", NOW),
        StoreResult::Stored
    );
    let second = meta_info(&mut s, b"k", NOW).unwrap();
    assert!(!second.key_binary && !second.stale && second.exptime == 0);
    let mut it = s.meta_find(b"k", NOW).unwrap();
    s.meta_set_exptime(&mut it, NOW + 30);
    s.meta_set_win_sent(&mut it);
    assert_eq!(
        s.meta_store(Mode::Cas, b"k", 0, 0, first.cas, false, false, b"c", NOW),
        StoreResult::Exists
    );
    assert_eq!(
        s.meta_store(Mode::Cas, b"k", 9, 0, first.cas, true, false, b"c", NOW),
        StoreResult::Stored
    );
    let third = meta_info(&mut s, b"k", NOW).unwrap();
    assert!(third.stale && third.win_sent);
    assert_eq!((third.exptime, third.flags), (NOW + 30, 9));
    // Append/prepend compare too, and produce an item without the binary bit.
    assert_eq!(
        s.meta_store(Mode::Append, b"k", 0, 0, 1, false, true, b"d", NOW),
        StoreResult::Exists
    );
    assert_eq!(
        s.meta_store(Mode::Append, b"k", 0, 0, third.cas, false, true, b"d", NOW),
        StoreResult::Stored
    );
    assert_eq!(value(&mut s, b"k", NOW).unwrap(), b"cd");
    assert!(!meta_info(&mut s, b"k", NOW).unwrap().key_binary);
    assert_eq!(
        s.meta_store(Mode::Cas, b"absent", 0, 0, 5, false, false, b"x", NOW),
        StoreResult::NotFound
    );
    assert_eq!(
        s.meta_store(Mode::Add, b"absent", 0, 0, 5, false, false, b"x", NOW),
        StoreResult::Stored
    );
    s.check_invariants();
}

#[test]
fn meta_delete_and_invalidate() {
    let mut s = big();
    assert_eq!(
        s.meta_delete(b"k", None, false, None, NOW),
        MetaDelete::NotFound
    );
    s.store(Mode::Set, b"k", 0, NOW + 100, 0, b"v", NOW);
    let cas = meta_info(&mut s, b"k", NOW).unwrap().cas;
    assert_eq!(
        s.meta_delete(b"k", Some(cas + 1), false, None, NOW),
        MetaDelete::Exists
    );
    let mut it = s.meta_find(b"k", NOW).unwrap();
    s.meta_set_win_sent(&mut it);
    assert_eq!(
        s.meta_delete(b"k", Some(cas), true, Some(NOW + 10), NOW),
        MetaDelete::Invalidated
    );
    let info = meta_info(&mut s, b"k", NOW).unwrap();
    assert!(info.stale && !info.win_sent && info.cas > cas);
    assert_eq!(info.exptime, NOW + 10);
    assert_eq!(
        s.meta_delete(b"k", None, false, None, NOW),
        MetaDelete::Deleted
    );
    assert!(s.meta_find(b"k", NOW).is_none());
    s.check_invariants();
}

#[test]
fn meta_arith_in_place_grown_and_vivified() {
    let mut s = big();
    assert_eq!(
        meta_arith(&mut s, b"n", true, 1, 0, NOW),
        MetaArith::NotFound
    );
    let it = s.meta_arith_vivify(b"n", 98, NOW + 5, NOW).unwrap();
    let info = s.meta_info(&it);
    assert_eq!((info.vlen, info.exptime), (2, NOW + 5));
    match meta_arith(&mut s, b"n", true, 1, 0, NOW) {
        MetaArith::Done {
            value: 99,
            item: Some(_),
            exptime,
            ..
        } => assert_eq!(exptime, NOW + 5),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        meta_arith(&mut s, b"n", true, 1, 12345, NOW),
        MetaArith::CasMismatch
    );
    // 100 does not fit in two bytes: a new item (memcached's TTL update is then lost).
    match meta_arith(&mut s, b"n", true, 1, 0, NOW) {
        MetaArith::Done {
            value: 100,
            item: None,
            cas,
            ..
        } => assert_eq!(cas, s.last_cas()),
        other => panic!("{other:?}"),
    }
    assert_eq!(value(&mut s, b"n", NOW).unwrap(), b"100");
    assert!(matches!(
        meta_arith(&mut s, b"n", false, 1000, 0, NOW),
        MetaArith::Done { value: 0, .. }
    ));
    assert_eq!(value(&mut s, b"n", NOW).unwrap(), b"0  ");
    s.store(Mode::Set, b"e", 0, 0, 0, b"", NOW);
    assert_eq!(
        meta_arith(&mut s, b"e", true, 1, 0, NOW),
        MetaArith::NonNumeric
    );
    s.store(Mode::Set, b"x", 0, 0, 0, b"1x", NOW);
    assert_eq!(
        meta_arith(&mut s, b"x", true, 1, 0, NOW),
        MetaArith::NonNumeric
    );
    s.check_invariants();
}

#[test]
fn meta_vivify_returns_the_item_even_if_already_expired() {
    let mut s = big();
    let it = s.meta_vivify(b"v", 1, true, NOW).unwrap();
    let info = s.meta_info(&it);
    assert!(info.win_sent && info.vlen == 0 && info.exptime == 1);
    assert!(s.meta_find(b"v", NOW).is_none());
    s.check_invariants();
}
