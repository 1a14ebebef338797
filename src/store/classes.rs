//! memcached's slab classes, as a reporting scale. corecached stores items in segments with
//! no size classes, but operators read memory by memcached's classes (`stats items`,
//! `stats slabs`, `cls=` in key dumps, memcached-tool's `display`). This table is the one
//! memcached builds in `slabs_init` for the same `-f` and `-n`, so an item is counted in the
//! class memcached would have stored it in.

/// memcached's `sizeof(item)` on 64-bit Linux: the first class is this plus `-n`.
const ITEM_HEADER: u32 = 48;
/// memcached's `CHUNK_ALIGN_BYTES`.
const ALIGN: u32 = 8;
/// memcached's `MAX_NUMBER_OF_SLAB_CLASSES` (class 0 is unused there).
const MAX_CLASSES: usize = 63;
/// memcached's `slab_chunk_max` default: half of the 1 MiB slab page. Items past it are
/// chunked there; here they count in the largest class, as memcached's headers do.
pub const SLAB_CHUNK_MAX: u32 = 512 * 1024;
/// memcached's `-f` default.
pub const DEFAULT_FACTOR: f64 = 1.25;
/// memcached's `-n` default.
pub const DEFAULT_MIN_CHUNK: u32 = 48;

/// Item sizes below this find their class in a table rather than by a search: the
/// store asks for the class of every item it writes, reads or drops.
const TABLE_LIMIT: usize = 16 * 1024;

/// Chunk sizes of classes 1..=len, ascending.
#[derive(Clone, Debug, PartialEq)]
pub struct Classes {
    sizes: Vec<u32>,
    /// The class of item sizes `8i-7..=8i` at `[i]`, below [`TABLE_LIMIT`]: chunk sizes
    /// are multiples of 8, so every size in such a run has the same class.
    by_eighth: Vec<u8>,
    /// The `-f` and `-n` the table was built for (`stats settings` shows them).
    factor: f64,
    min_chunk: u32,
}

impl Classes {
    /// The table memcached builds for `-f factor -n min_chunk`.
    pub fn new(factor: f64, min_chunk: u32) -> Classes {
        let mut sizes = Vec::new();
        let mut size = ITEM_HEADER + min_chunk;
        // memcached multiplies an unsigned int by a double and truncates, then aligns.
        while sizes.len() < MAX_CLASSES - 2 && (size as f64) < SLAB_CHUNK_MAX as f64 / factor {
            if !size.is_multiple_of(ALIGN) {
                size += ALIGN - size % ALIGN;
            }
            sizes.push(size);
            size = (size as f64 * factor) as u32;
        }
        sizes.push(SLAB_CHUNK_MAX);
        let search = |size: usize| {
            let i = sizes.partition_point(|&s| (s as usize) < size);
            (i.min(sizes.len() - 1) + 1) as u8
        };
        let by_eighth = (0..TABLE_LIMIT / ALIGN as usize)
            .map(|i| search(i * ALIGN as usize))
            .collect();
        Classes {
            sizes,
            by_eighth,
            factor,
            min_chunk,
        }
    }

    /// `-f`: the growth factor between classes.
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// `-n`: the minimum space for key, value and flags.
    pub fn min_chunk(&self) -> u32 {
        self.min_chunk
    }

    /// Number of classes; they are numbered from 1.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// The class memcached would store an item of `item_size` bytes in
    /// ([`crate::protocol::memcached_item_size`]): the smallest whose chunk holds it, the
    /// largest for anything bigger.
    #[inline]
    pub fn class_of(&self, item_size: usize) -> u8 {
        if let Some(&c) = self.by_eighth.get(item_size.div_ceil(ALIGN as usize)) {
            return c;
        }
        let i = self.sizes.partition_point(|&s| (s as usize) < item_size);
        (i.min(self.sizes.len() - 1) + 1) as u8
    }

    /// Chunk size of class `class` (1-based).
    pub fn chunk_size(&self, class: u8) -> u32 {
        self.sizes[class as usize - 1]
    }

    /// memcached's `perslab`: chunks in one 1 MiB page.
    pub fn per_page(&self, class: u8) -> u32 {
        (1024 * 1024) / self.chunk_size(class)
    }
}

impl Default for Classes {
    fn default() -> Classes {
        Classes::new(DEFAULT_FACTOR, DEFAULT_MIN_CHUNK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `memcached -vv` (1.6.18) prints these for the defaults: class, chunk size, perslab.
    #[test]
    fn default_table_is_memcacheds() {
        let want: &[(u8, u32, u32)] = &[
            (1, 96, 10922),
            (2, 120, 8738),
            (3, 152, 6898),
            (4, 192, 5461),
            (9, 600, 1747),
            (12, 1184, 885),
            (18, 4544, 230),
            (21, 8880, 118),
            (27, 33904, 30),
            (32, 103496, 10),
            (38, 394840, 2),
            (39, 524288, 2),
        ];
        let c = Classes::default();
        assert_eq!(c.len(), 39);
        for &(class, size, perslab) in want {
            assert_eq!(
                (c.chunk_size(class), c.per_page(class)),
                (size, perslab),
                "class {class}"
            );
        }
    }

    /// `memcached -vv -f 2 -n 100`: 12 classes, the 11th 155648 bytes.
    #[test]
    fn other_factors_follow_memcached() {
        let c = Classes::new(2.0, 100);
        assert_eq!(c.len(), 12);
        assert_eq!(
            (c.chunk_size(1), c.chunk_size(11), c.chunk_size(12)),
            (152, 155648, 524288)
        );
    }

    #[test]
    fn an_item_goes_to_the_smallest_class_that_holds_it() {
        let c = Classes::default();
        let cases: &[(usize, u8)] = &[
            (1, 1),
            (96, 1),
            (97, 2),
            (120, 2),
            (121, 3),
            (524288, 39),
            (524289, 39),
            (2 << 20, 39),
        ];
        for &(size, class) in cases {
            assert_eq!(c.class_of(size), class, "size {size}");
        }
    }

    /// The table the store uses for small sizes gives what the search gives.
    #[test]
    fn table_agrees_with_search() {
        for c in [
            Classes::default(),
            Classes::new(2.0, 100),
            Classes::new(1.05, 5),
        ] {
            for size in 1..TABLE_LIMIT + 64 {
                let i = c.sizes.partition_point(|&s| (s as usize) < size);
                let want = (i.min(c.sizes.len() - 1) + 1) as u8;
                assert_eq!(c.class_of(size), want, "size {size}");
            }
        }
    }
}
