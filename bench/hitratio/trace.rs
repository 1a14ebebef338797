//! The deterministic request trace: a seeded generator, a Zipf sampler (rejection
//! inversion), the scan-mix interleaving, and per-key value sizes.

/// SplitMix64: a small, fast, seedable generator; plenty for building a trace.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// SplitMix64's finalizer: a bijective 64-bit mix, used to hash key ids.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Zipf over ranks 1..=n with P(k) proportional to k^-s, sampled by Hörmann and
/// Derflinger's rejection inversion: O(1) memory and expected O(1) time per sample,
/// exact for every exponent s > 0 (including s = 1).
///
/// The method inverts H, an integral of h(x) = x^-s, over the continuous interval
/// [1.5, n + 0.5] (plus a point mass for rank 1), rounds the inverse to the nearest rank k
/// and accepts k when the uniform draw falls under the part of H's increment that h(k)
/// accounts for; a cheap bound (`accept_below`) accepts most draws without evaluating H.
#[derive(Clone, Debug)]
pub struct Zipf {
    n: f64,
    s: f64,
    h_x1: f64,
    h_n: f64,
    accept_below: f64,
}

impl Zipf {
    pub fn new(n: u64, s: f64) -> Zipf {
        assert!(n >= 1 && s > 0.0 && s.is_finite());
        let nf = n as f64;
        let mut z = Zipf {
            n: nf,
            s,
            h_x1: 0.0,
            h_n: 0.0,
            accept_below: 0.0,
        };
        z.h_x1 = z.big_h(1.5) - 1.0;
        z.h_n = z.big_h(nf + 0.5);
        z.accept_below = 2.0 - z.big_h_inv(z.big_h(2.5) - z.h(2.0));
        z
    }

    /// h(x) = x^-s.
    fn h(&self, x: f64) -> f64 {
        (-self.s * x.ln()).exp()
    }

    /// H(x) = (x^(1-s) - 1) / (1 - s), continuous at s = 1 where it is ln x.
    fn big_h(&self, x: f64) -> f64 {
        let lx = x.ln();
        expm1_over((1.0 - self.s) * lx) * lx
    }

    /// The inverse of H.
    fn big_h_inv(&self, y: f64) -> f64 {
        let mut t = y * (1.0 - self.s);
        if t < -1.0 {
            // Only reachable through rounding at the bottom of the range.
            t = -1.0;
        }
        (log1p_over(t) * y).exp()
    }

    /// A rank in 1..=n; rank 1 is the most popular.
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        loop {
            let u = self.h_n + rng.next_f64() * (self.h_x1 - self.h_n);
            let x = self.big_h_inv(u);
            let mut k = (x + 0.5).floor();
            if k < 1.0 {
                k = 1.0;
            } else if k > self.n {
                k = self.n;
            }
            if k - x <= self.accept_below || u >= self.big_h(k + 0.5) - self.h(k) {
                return k as u64;
            }
        }
    }
}

/// (e^t - 1) / t, accurate near t = 0 (and 1 at t = 0).
fn expm1_over(t: f64) -> f64 {
    if t.abs() > 1e-8 {
        t.exp_m1() / t
    } else {
        1.0 + t * 0.5 * (1.0 + t / 3.0 * (1.0 + t * 0.25))
    }
}

/// ln(1 + t) / t, accurate near t = 0 (and 1 at t = 0).
fn log1p_over(t: f64) -> f64 {
    if t.abs() > 1e-8 {
        t.ln_1p() / t
    } else {
        1.0 - t * (0.5 - t * (1.0 / 3.0 - t * 0.25))
    }
}

/// Which distribution the trace follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Dist {
    /// Every request draws a key from Zipf(keys, zipf-exp).
    Zipf,
    /// Zipf traffic interleaved with bursts of a sequential scan over keys that are
    /// never requested again (one-hit wonders that pollute the cache).
    ScanMix,
}

/// One request of the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A key of the Zipf key space, by id in 0..keys.
    Hot(u64),
    /// The n-th key of the scan, each used once.
    Scan(u64),
}

/// Generates the trace request by request; identical for a given set of parameters.
pub struct Trace {
    rng: Rng,
    zipf: Zipf,
    keys: u64,
    /// Scan-mix period: `period - burst` Zipf requests then `burst` scan requests.
    period: u64,
    burst: u64,
    pos: u64,
    scan_next: u64,
    /// Multiplier of the rank-to-id bijection (coprime to `keys`).
    mult: u64,
}

impl Trace {
    pub fn new(
        dist: Dist,
        keys: u64,
        zipf_exp: f64,
        seed: u64,
        scan_fraction: f64,
        scan_burst: u64,
    ) -> Trace {
        let (period, burst) = match dist {
            Dist::Zipf => (1, 0),
            Dist::ScanMix => {
                let burst = scan_burst.max(1);
                let f = scan_fraction.clamp(1e-6, 1.0);
                let period = ((burst as f64 / f).round() as u64).max(burst);
                (period, burst)
            }
        };
        Trace {
            rng: Rng::new(seed),
            zipf: Zipf::new(keys, zipf_exp),
            keys,
            period,
            burst,
            pos: 0,
            scan_next: 0,
            mult: multiplier(keys),
        }
    }

    pub fn next_key(&mut self) -> Key {
        let phase = self.pos % self.period;
        self.pos += 1;
        if phase >= self.period - self.burst {
            let n = self.scan_next;
            self.scan_next += 1;
            Key::Scan(n)
        } else {
            let rank = self.zipf.sample(&mut self.rng);
            // Spread popularity over the id space so that hot keys are not neighbours.
            Key::Hot(((rank - 1) as u128 * self.mult as u128 % self.keys as u128) as u64)
        }
    }
}

/// A multiplier m coprime to n, so that x -> x * m mod n is a bijection on 0..n.
fn multiplier(n: u64) -> u64 {
    if n <= 1 {
        return 1;
    }
    let mut m: u64 = 0x9E37_79B9 % n;
    while m == 0 || gcd(m, n) != 1 {
        m += 1;
    }
    m
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// How long a key's value is: fixed, or drawn from [min, max] by a hash of the key, so a
/// key always has the same size.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub min: usize,
    pub max: usize,
    pub seed: u64,
}

impl Sizes {
    /// Sizes are log-uniform over the range, so small and large values are both common
    /// (a uniform draw over 50..5000 would make almost every value large).
    pub fn size_of(&self, key: Key) -> usize {
        if self.min >= self.max {
            return self.min;
        }
        let id = match key {
            Key::Hot(i) => i,
            Key::Scan(i) => i ^ (1 << 63),
        };
        let h = mix64(id ^ self.seed.rotate_left(17) ^ 0x5A17_5A17);
        let u = (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let (lo, hi) = (self.min as f64, (self.max + 1) as f64);
        let v = (lo.ln() + u * (hi.ln() - lo.ln())).exp() as usize;
        v.clamp(self.min, self.max)
    }

    /// Where a key's value starts in the shared pattern buffer (so values differ by key).
    pub fn offset_of(&self, key: Key) -> usize {
        let id = match key {
            Key::Hot(i) => i,
            Key::Scan(i) => i ^ (1 << 63),
        };
        (mix64(id ^ 0xC0FFEE) % PATTERN_PERIOD as u64) as usize
    }
}

/// Values are windows of a repeating pattern of this period.
pub const PATTERN_PERIOD: usize = 61;

/// A buffer of `len + PATTERN_PERIOD` bytes from which every value is a slice.
pub fn pattern(len: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
    (0..len + PATTERN_PERIOD)
        .map(|i| ALPHABET[i % PATTERN_PERIOD])
        .collect()
}

/// Compares the sampler's frequencies for the first ranks with the exact Zipf
/// probabilities; returns the largest relative error among ranks with enough samples.
pub fn check_sampler(n: u64, s: f64, samples: u64, seed: u64) -> (f64, Vec<(u64, f64, f64)>) {
    let z = Zipf::new(n, s);
    let mut rng = Rng::new(seed);
    let top = 10u64.min(n);
    let mut counts = vec![0u64; top as usize + 1];
    for _ in 0..samples {
        let k = z.sample(&mut rng);
        assert!((1..=n).contains(&k), "rank {k} outside 1..={n}");
        if k <= top {
            counts[k as usize] += 1;
        }
    }
    let norm: f64 = (1..=n).map(|k| (k as f64).powf(-s)).sum();
    let mut worst: f64 = 0.0;
    let mut rows = Vec::new();
    for k in 1..=top {
        let expected = (k as f64).powf(-s) / norm;
        let got = counts[k as usize] as f64 / samples as f64;
        if expected * samples as f64 >= 10_000.0 {
            worst = worst.max((got - expected).abs() / expected);
        }
        rows.push((k, expected, got));
    }
    (worst, rows)
}
