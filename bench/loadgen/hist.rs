//! A log-linear latency histogram in the spirit of HdrHistogram.
//!
//! Values are nanoseconds. Below 128 ns every value has its own bucket; above
//! that every power-of-two range is split into 128 equal sub-buckets, so a
//! bucket is never wider than 1/128 (< 0.8 %) of the values it holds. Values
//! above [`MAX_VALUE_NS`] (60 s) land in the last bucket. Recording is a
//! leading-zero count, a shift and an increment; merging adds bucket counts.

/// Sub-buckets per power of two (and the size of the linear part).
const SUB: u64 = 128;
const SUB_BITS: u32 = 7;
/// The largest value tracked with full precision: 60 s.
pub const MAX_VALUE_NS: u64 = 60_000_000_000;

#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    total: u64,
    sum_ns: u128,
    min_ns: u64,
    max_ns: u64,
}

fn index_of(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros(); // >= SUB_BITS
    let shift = msb - SUB_BITS;
    // (v >> shift) is in [SUB, 2*SUB); the first power-of-two range above the
    // linear part starts right after it, at index SUB.
    (SUB as usize) * (msb - SUB_BITS + 1) as usize + ((v >> shift) - SUB) as usize
}

/// The lowest value and the width of the bucket at `idx`.
fn bucket_bounds(idx: usize) -> (u64, u64) {
    let idx = idx as u64;
    if idx < SUB {
        return (idx, 1);
    }
    let range = idx / SUB; // >= 1
    let sub = idx % SUB + SUB;
    let shift = range - 1;
    (sub << shift, 1 << shift)
}

fn bucket_count() -> usize {
    index_of(MAX_VALUE_NS) + 1
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub fn new() -> Self {
        Histogram {
            counts: vec![0u64; bucket_count()].into_boxed_slice(),
            total: 0,
            sum_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }

    #[inline]
    pub fn record(&mut self, ns: u64) {
        let v = ns.min(MAX_VALUE_NS);
        self.counts[index_of(v)] += 1;
        self.total += 1;
        self.sum_ns += ns as u128;
        if ns < self.min_ns {
            self.min_ns = ns;
        }
        if ns > self.max_ns {
            self.max_ns = ns;
        }
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += *b;
        }
        self.total += other.total;
        self.sum_ns += other.sum_ns;
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// Exact mean of the recorded values, in nanoseconds.
    pub fn mean_ns(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum_ns as f64 / self.total as f64
        }
    }

    pub fn min_ns(&self) -> u64 {
        if self.total == 0 {
            0
        } else {
            self.min_ns
        }
    }

    pub fn max_ns(&self) -> u64 {
        self.max_ns
    }

    /// The highest value equivalent (same bucket) to the value at
    /// percentile `p` (0..=100), clamped to the exact maximum seen.
    pub fn value_at_percentile(&self, p: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let rank = rank.min(self.total);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, w) = bucket_bounds(i);
                return (lo + w - 1).min(self.max_ns);
            }
        }
        self.max_ns
    }

    /// Non-empty buckets as (highest equivalent value ns, cumulative percent).
    pub fn cumulative(&self) -> Vec<(u64, f64)> {
        let mut out = Vec::new();
        if self.total == 0 {
            return out;
        }
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            seen += c;
            let (lo, w) = bucket_bounds(i);
            out.push((
                (lo + w - 1).min(self.max_ns),
                seen as f64 * 100.0 / self.total as f64,
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_precise() {
        let mut prev_end = 0u64;
        for i in 0..bucket_count() {
            let (lo, w) = bucket_bounds(i);
            assert_eq!(lo, prev_end, "bucket {i}");
            assert_eq!(index_of(lo), i);
            assert_eq!(index_of(lo + w - 1), i);
            if lo >= SUB {
                assert!(w * SUB <= lo, "bucket {i} too wide");
            }
            prev_end = lo + w;
        }
        assert!(prev_end > MAX_VALUE_NS);
    }

    #[test]
    fn percentiles_and_merge() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        for v in 1..=1000u64 {
            a.record(v * 1000);
        }
        for v in 1001..=2000u64 {
            b.record(v * 1000);
        }
        a.merge(&b);
        assert_eq!(a.count(), 2000);
        let p50 = a.value_at_percentile(50.0) as f64;
        assert!((p50 - 1_000_000.0).abs() / 1_000_000.0 < 0.01, "{p50}");
        let p99 = a.value_at_percentile(99.0) as f64;
        assert!((p99 - 1_980_000.0).abs() / 1_980_000.0 < 0.01, "{p99}");
        assert_eq!(a.value_at_percentile(100.0), 2_000_000);
        assert!((a.mean_ns() - 1_000_500.0).abs() < 1.0);
        a.record(u64::MAX / 2);
        assert_eq!(a.max_ns(), u64::MAX / 2);
    }
}
