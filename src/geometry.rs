//! How `-m` is split: how many shards serve, and the segment size of each shard's store.
//!
//! A store keeps items in segments and an item never spans two, so every segment holds the
//! largest item `-I` allows, and a shard's share of `-m` pays for its segments and its index
//! alike ([`crate::store`]). Segments are 1 MiB, or the largest item's size when that is
//! larger, and shrink by halves (never below the largest item) until a share holds
//! [`PREFERRED_SEGMENTS`], so that evicting one segment drops a small part of a shard.
//!
//! When a share cannot hold [`MIN_SEGMENTS`] segments, fewer shards serve than asked, with
//! a warning that says how many and why: a shard's keys must all fit in its own share, and
//! a share too small for two largest items would turn every eviction into a flush. When
//! even one shard with all of `-m` cannot hold [`MIN_SEGMENTS`], that one shard runs with
//! the segments that fit. Only when `-m` cannot hold one segment and the index does the
//! start fail: memcached refuses sooner (`-I` over half of `-m`), so every `-m` memcached
//! accepts starts here, with any shard count.

/// Segments a shard's share holds at least when shards can be reduced to make room:
/// S3-FIFO's small and main queues, one each.
pub const MIN_SEGMENTS: usize = 2;

/// Segments shrink (never below the largest item) until a share holds this many.
pub const PREFERRED_SEGMENTS: usize = 8;

/// The largest segment chosen when the largest item is smaller.
pub const SEGMENT_SIZE: usize = crate::store::SEGMENT_SIZE;

/// Items a shard's index holds before it first grows, without `-o hashpower`.
pub const INDEX_ITEMS: usize = 1024;

/// How `-m` is split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    /// Shards that serve: as many as asked, or fewer when their shares would be too small.
    pub shards: usize,
    /// Bytes per segment in every shard's store.
    pub segment_size: usize,
    /// Set when fewer shards serve than asked: says how many, why and what to change.
    pub warning: Option<String>,
}

/// Bytes of a store index built for `items` entries (`Index::with_capacity`, with the
/// builder's floor of 8 items): what a shard's share pays for its index before any item.
pub fn index_bytes(items: usize) -> usize {
    let items = items.max(8);
    (items.saturating_mul(8) / 7).div_ceil(8).max(1) * 64
}

/// The segment that holds an item of `item_size_max` bytes as `-I` counts them (memcached's
/// 48-byte header and more): the store's own header is smaller, so the size rounded up to
/// whole pages holds it.
pub fn smallest_segment(item_size_max: usize) -> usize {
    item_size_max.next_multiple_of(4096)
}

/// Splits `mem_limit` bytes over `requested` shards for items of up to `item_size_max`
/// bytes, each shard's index starting with room for `index_items` entries. An error is one
/// sentence naming the flags and the fix.
pub fn plan(
    mem_limit: usize,
    item_size_max: usize,
    requested: usize,
    index_items: usize,
) -> Result<Geometry, String> {
    let requested = requested.max(1);
    let smallest = smallest_segment(item_size_max);
    let index = index_bytes(index_items);
    let mb = |bytes: usize| bytes.div_ceil(1 << 20);
    if mem_limit < smallest.saturating_add(index) {
        let index_note = if index_items > INDEX_ITEMS {
            ", -o hashpower"
        } else {
            ""
        };
        return Err(format!(
            "-m/--memory-limit {} MB cannot hold an item of {} bytes (-I/--max-item-size) beside the store's index: that takes a {} KiB segment and a {} KiB index; raise -m to {} or lower -I{index_note}",
            mem_limit >> 20,
            item_size_max,
            smallest >> 10,
            index.div_ceil(1 << 10),
            mb(smallest.saturating_add(index))
        ));
    }
    let per_shard = MIN_SEGMENTS * smallest + index;
    let shards = if mem_limit / requested >= per_shard {
        requested
    } else {
        (mem_limit / per_shard).clamp(1, requested)
    };
    let warning = (shards < requested).then(|| {
        format!(
            "-m/--memory-limit {} MB is too little for {requested} shards with items of up to {} bytes (-I/--max-item-size): each shard needs {MIN_SEGMENTS} segments of {} KiB and a {} KiB index, so {shards} {}; raise -m to {}, lower -I, or set -t/--threads {shards}",
            mem_limit >> 20,
            item_size_max,
            smallest >> 10,
            index.div_ceil(1 << 10),
            if shards == 1 { "shard serves" } else { "shards serve" },
            mb(requested.saturating_mul(per_shard)),
        )
    });
    let share = mem_limit / shards;
    let fits = |segment: usize| share >= PREFERRED_SEGMENTS * segment + index;
    let mut segment = SEGMENT_SIZE.max(smallest);
    while !fits(segment) && segment / 2 >= smallest {
        segment /= 2;
    }
    if !fits(segment) {
        segment = smallest;
    }
    Ok(Geometry {
        shards,
        segment_size: segment,
        warning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::index::Index;

    const MB: usize = 1 << 20;
    const KB: usize = 1 << 10;

    #[test]
    fn index_bytes_is_what_the_store_maps() {
        for items in [0, 1, 8, 63, 64, 1000, 1024, 4096, 65_536] {
            assert_eq!(
                index_bytes(items),
                Index::with_capacity(items.max(8)).bytes(),
                "{items} items"
            );
        }
    }

    /// (-m MB, -I, shards asked) → (shards, segment KiB, warned).
    #[test]
    fn table() {
        for (m, item, asked, shards, segment_kib, warned) in [
            // Defaults on 1 to 256 CPUs: 31 shards of 1 MiB segments fit 64 MB.
            (64, MB, 1, 1, 1024, false),
            (64, MB, 2, 2, 1024, false),
            (64, MB, 16, 16, 1024, false),
            (64, MB, 17, 17, 1024, false),
            (64, MB, 31, 31, 1024, false),
            (64, MB, 32, 31, 1024, true),
            (64, MB, 64, 31, 1024, true),
            (64, MB, 256, 31, 1024, true),
            // memcached's smallest -m for each -I: one shard, one segment.
            (2, MB, 2, 1, 1024, true),
            (2, MB, 256, 1, 1024, true),
            (1, 512 * KB, 64, 1, 512, true),
            // Smaller items: more shards keep their share, segments shrink to fit 8.
            (64, 256 * KB, 64, 64, 256, false),
            (64, 64 * KB, 64, 64, 64, false),
            (2, 1024, 2, 2, 64, false),
            // Tiny items, tiny -m: shares still hold two segments and the index.
            (2, 1024, 256, 119, 4, true),
            (1, 1024, 256, 59, 4, true),
            // A largest item that is not a power of two: segments of its size.
            (4, 600 * KB, 1, 1, 600, false),
            (64, 2 * MB, 4, 4, 2048, false),
            (1024, MB, 64, 64, 1024, false),
        ] {
            let g = plan(m * MB, item, asked, INDEX_ITEMS).unwrap();
            let got = (g.shards, g.segment_size / KB, g.warning.is_some());
            assert_eq!(
                got,
                (shards, segment_kib, warned),
                "-m {m} -I {item} -t {asked}: {g:?}"
            );
            // Every shard's share holds its index and at least one largest item.
            assert!(m * MB / g.shards >= g.segment_size + index_bytes(INDEX_ITEMS));
            assert!(g.segment_size >= smallest_segment(item));
        }
    }

    #[test]
    fn every_m_that_memcached_accepts_starts_with_any_shard_count() {
        // memcached refuses -I over half of -m.
        for item in [1024, 4096, 100 * KB, 512 * KB, MB, 2 * MB, 64 * MB] {
            let m = (2 * item).div_ceil(MB);
            for asked in [1, 2, 3, 17, 64, 255, 256] {
                let g = plan(m * MB, item, asked, INDEX_ITEMS)
                    .unwrap_or_else(|e| panic!("-m {m} -I {item} -t {asked}: {e}"));
                assert!(g.shards >= 1 && g.shards <= asked);
                assert_eq!(g.warning.is_some(), g.shards < asked);
            }
        }
    }

    #[test]
    fn refusals_and_warnings_name_the_flags_and_the_fix() {
        let err = plan(MB, MB, 1, INDEX_ITEMS).unwrap_err();
        assert!(
            err.contains("-I/--max-item-size") && err.contains("raise -m to 2"),
            "{err}"
        );
        let err = plan(64 * MB, MB, 1, 1 << 24).unwrap_err();
        assert!(err.contains("-o hashpower"), "{err}");
        let g = plan(64 * MB, MB, 64, INDEX_ITEMS).unwrap();
        let w = g.warning.unwrap();
        assert!(
            w.contains("64 shards")
                && w.contains("so 31 shards serve")
                && w.contains("raise -m to 129"),
            "{w}"
        );
    }
}
