//! Key choice (memtier's key patterns), a small PRNG, and allocation-free
//! key formatting.

/// wyrand: tiny, fast, good enough for load generation.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut r = Rng(seed ^ 0x9e37_79b9_7f4a_7c15);
        r.next_u64();
        r
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xa076_1d64_78bd_642f);
        let t = (self.0 as u128).wrapping_mul((self.0 ^ 0xe703_7ed1_a0b4_28db) as u128);
        ((t >> 64) ^ t) as u64
    }

    /// Uniform in `0..n` (n > 0), by multiply-shift (bias is negligible here).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below(hi - lo + 1)
        }
    }

    /// Uniform in [0, 1).
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal variate (Box-Muller; one of the pair is dropped).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Zipf over ranks 1..=n with exponent s > 0, by rejection-inversion
/// (Hörmann & Derflinger, 1996): O(1) per sample, no tables.
#[derive(Clone)]
pub struct Zipf {
    n: f64,
    s: f64,
    h_x1: f64,
    h_n: f64,
    cut: f64,
}

impl Zipf {
    pub fn new(n: u64, s: f64) -> Self {
        let n = n.max(1) as f64;
        let mut z = Zipf {
            n,
            s,
            h_x1: 0.0,
            h_n: 0.0,
            cut: 0.0,
        };
        z.h_x1 = z.big_h(1.5) - 1.0;
        z.h_n = z.big_h(n + 0.5);
        z.cut = 2.0 - z.big_h_inv(z.big_h(2.5) - z.h(2.0));
        z
    }

    fn h(&self, x: f64) -> f64 {
        (-self.s * x.ln()).exp()
    }

    /// Integral of h: ((x^(1-s)) - 1) / (1 - s), or ln x when s == 1,
    /// written to stay accurate near s == 1.
    fn big_h(&self, x: f64) -> f64 {
        let lx = x.ln();
        expm1_over_x((1.0 - self.s) * lx) * lx
    }

    fn big_h_inv(&self, y: f64) -> f64 {
        let t = (y * (1.0 - self.s)).max(-1.0);
        (ln1p_over_x(t) * y).exp()
    }

    /// A rank in 1..=n; rank 1 is the most frequent.
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        // Bounded: the acceptance probability is high for every s > 0.
        for _ in 0..1000 {
            let u = self.h_n + rng.unit() * (self.h_x1 - self.h_n);
            let x = self.big_h_inv(u);
            let k = x.round().clamp(1.0, self.n);
            if k - x <= self.cut || u >= self.big_h(k + 0.5) - self.h(k) {
                return k as u64;
            }
        }
        1
    }
}

fn expm1_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.exp_m1() / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + x * 0.25))
    }
}

fn ln1p_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.ln_1p() / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - x * 0.25))
    }
}

/// One letter of `--key-pattern`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    Random,
    Sequential,
    Gaussian,
    Zipf,
    Parallel,
}

impl Pattern {
    pub fn from_letter(c: char) -> Option<Self> {
        Some(match c.to_ascii_uppercase() {
            'R' => Pattern::Random,
            'S' => Pattern::Sequential,
            'G' => Pattern::Gaussian,
            'Z' => Pattern::Zipf,
            'P' => Pattern::Parallel,
            _ => return None,
        })
    }

    pub fn letter(self) -> char {
        match self {
            Pattern::Random => 'R',
            Pattern::Sequential => 'S',
            Pattern::Gaussian => 'G',
            Pattern::Zipf => 'Z',
            Pattern::Parallel => 'P',
        }
    }
}

/// Shape of the key space shared by all clients.
#[derive(Clone, Debug)]
pub struct KeySpace {
    pub min: u64,
    pub max: u64,
    pub zipf_exp: f64,
    pub gauss_median: f64,
    pub gauss_stddev: f64,
}

/// Picks key numbers for one client and one command type.
#[derive(Clone)]
pub struct KeyGen {
    pattern: Pattern,
    min: u64,
    max: u64,
    /// Next key for S and P.
    next: u64,
    /// P: this client's slice [lo, hi].
    lo: u64,
    hi: u64,
    zipf: Option<Zipf>,
    median: f64,
    stddev: f64,
}

impl KeyGen {
    /// `client` is this client's index among `clients` clients in all threads.
    pub fn new(pattern: Pattern, ks: &KeySpace, client: u64, clients: u64) -> Self {
        let span = ks.max - ks.min + 1;
        let (lo, hi) = slice(ks.min, span, client, clients);
        KeyGen {
            pattern,
            min: ks.min,
            max: ks.max,
            next: if pattern == Pattern::Parallel {
                lo
            } else {
                ks.min
            },
            lo,
            hi,
            zipf: (pattern == Pattern::Zipf).then(|| Zipf::new(span, ks.zipf_exp)),
            median: ks.gauss_median,
            stddev: ks.gauss_stddev,
        }
    }

    #[inline]
    pub fn next_key(&mut self, rng: &mut Rng) -> u64 {
        match self.pattern {
            Pattern::Random => rng.range_inclusive(self.min, self.max),
            Pattern::Sequential => {
                let k = self.next;
                self.next = if k >= self.max { self.min } else { k + 1 };
                k
            }
            Pattern::Parallel => {
                let k = self.next;
                self.next = if k >= self.hi { self.lo } else { k + 1 };
                k
            }
            Pattern::Gaussian => {
                let v = self.median + rng.normal() * self.stddev;
                let v = v.round().clamp(self.min as f64, self.max as f64);
                v as u64
            }
            Pattern::Zipf => {
                let z = self.zipf.as_ref().expect("zipf set up");
                self.min + z.sample(rng) - 1
            }
        }
    }
}

/// The slice [lo, hi] of `span` keys starting at `min` owned by `client` of
/// `clients`. Slices differ in size by at most one; when there are more
/// clients than keys, a client with an empty share gets one shared key.
pub fn slice(min: u64, span: u64, client: u64, clients: u64) -> (u64, u64) {
    let clients = clients.max(1);
    let a = (span as u128 * client as u128 / clients as u128) as u64;
    let b = (span as u128 * (client + 1) as u128 / clients as u128) as u64;
    if b > a {
        (min + a, min + b - 1)
    } else {
        let k = min + client % span;
        (k, k)
    }
}

/// Appends the decimal form of `v` without allocating.
#[inline]
pub fn push_u64(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut x = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        for v in [0u64, 9, 10, 12345, u64::MAX] {
            let mut o = Vec::new();
            push_u64(&mut o, v);
            assert_eq!(o, v.to_string().into_bytes());
        }
    }

    #[test]
    fn slices_cover_range() {
        let mut next = 10;
        for c in 0..7 {
            let (lo, hi) = slice(10, 100, c, 7);
            assert_eq!(lo, next);
            next = hi + 1;
        }
        assert_eq!(next, 110);
    }

    #[test]
    fn zipf_is_skewed_and_in_range() {
        let mut rng = Rng::new(1);
        for s in [0.5, 1.0, 1.5] {
            let z = Zipf::new(1000, s);
            let mut ones = 0;
            for _ in 0..100_000 {
                let k = z.sample(&mut rng);
                assert!((1..=1000).contains(&k));
                ones += (k == 1) as u32;
            }
            // P(1) for s=1, n=1000 is 1/H(1000) ~ 13 %.
            if s == 1.0 {
                assert!((12_000..15_000).contains(&ones), "{ones}");
            }
        }
    }
}
