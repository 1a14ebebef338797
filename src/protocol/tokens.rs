//! memcached's `tokenize_command`, shared by the text and meta parsers: a line split on
//! single spaces into at most 23 tokens and the unprocessed rest.

/// memcached's `MAX_TOKENS`: 23 tokens, then the unprocessed rest of the line.
pub const MAX_TOKENS: usize = 24;
/// memcached's `tokenize_command`: split on single spaces, at most 23 tokens, then the
/// unprocessed rest. `n` counts memcached's terminal token too, so it is memcached's
/// `ntokens`. memcached reads the line as a C string: `len` is where it ends, at the first
/// NUL.
pub struct Tokens<'a> {
    /// Tokens `..n - 1` are written; the rest are not (initialising all 24 was a visible
    /// share of a get's parse).
    tok: [std::mem::MaybeUninit<&'a [u8]>; MAX_TOKENS],
    pub(super) n: usize,
    pub(super) rest: Option<&'a [u8]>,
    pub(super) len: usize,
}

pub(super) const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);
const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);

/// The top bit of each zero byte of `x`, exactly (no borrow runs between bytes).
pub(super) fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// Eight bytes of `b` from `at`, little-endian, padded past the end with 0xff (neither a
/// space nor a NUL).
pub(super) fn word(b: &[u8], at: usize) -> u64 {
    match b.get(at..at + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().unwrap()),
        None => {
            let mut w = [0xff; 8];
            w[..b.len() - at].copy_from_slice(&b[at..]);
            u64::from_le_bytes(w)
        }
    }
}

impl<'a> Tokens<'a> {
    /// Splits eight bytes at a time: a word's spaces and NULs are found with bit tricks,
    /// not byte by byte.
    #[cfg(test)]
    pub fn new(line: &'a [u8]) -> Self {
        let mut t = Tokens::empty(line);
        t.split(line);
        t
    }

    /// No tokens yet: [`Tokens::split`] fills them in place. (Returning a filled `Tokens`
    /// by value cost a copy of it per request.)
    #[inline(always)]
    pub fn empty(line: &'a [u8]) -> Self {
        Tokens {
            // SAFETY: an array of `MaybeUninit` needs no initialisation. (The array
            // expression `[MaybeUninit::uninit(); N]` is compiled to a memset of the array.)
            tok: unsafe {
                std::mem::MaybeUninit::<[std::mem::MaybeUninit<&'a [u8]>; MAX_TOKENS]>::uninit()
                    .assume_init()
            },
            n: 0,
            rest: None,
            len: line.len(),
        }
    }

    /// Splits `line` into `self`, which [`Tokens::empty`] made for it.
    #[inline(always)]
    pub fn split(&mut self, line: &'a [u8]) {
        let t = self;
        let mut n = 0;
        let mut start = 0;
        let mut at = 0;
        while at < t.len {
            let w = word(line, at);
            let mut spaces = zero_bytes(w ^ SPACES);
            let nul = zero_bytes(w);
            if nul != 0 {
                t.len = at + (nul.trailing_zeros() / 8) as usize;
                spaces &= (1u64 << nul.trailing_zeros()) - 1;
            }
            while spaces != 0 {
                let i = at + (spaces.trailing_zeros() / 8) as usize;
                spaces &= spaces - 1;
                if start != i {
                    t.tok[n].write(&line[start..i]);
                    n += 1;
                    if n == MAX_TOKENS - 1 {
                        if t.len == line.len() {
                            t.len = i + memchr::memchr(0, &line[i..]).unwrap_or(line.len() - i);
                        }
                        if i + 1 < t.len {
                            t.rest = Some(&line[i + 1..t.len]);
                        }
                        t.n = n + 1;
                        return;
                    }
                }
                start = i + 1;
            }
            at += 8;
        }
        if start < t.len {
            t.tok[n].write(&line[start..t.len]);
            n += 1;
        }
        t.n = n + 1;
    }

    /// The tokens (memcached's terminal token not included).
    pub fn toks(&self) -> &[&'a [u8]] {
        let written = &self.tok[..self.n - 1];
        // SAFETY: `split` writes tokens `..n - 1` before it sets `n`; MaybeUninit<T> has
        // T's layout.
        unsafe { &*(written as *const [std::mem::MaybeUninit<&'a [u8]>] as *const [&'a [u8]]) }
    }

    /// Token `i`, or empty past the end (memcached's terminal token has length 0).
    pub fn get(&self, i: usize) -> &'a [u8] {
        if i < self.n - 1 {
            self.toks()[i]
        } else {
            &[]
        }
    }

    /// memcached's `set_noreply_maybe`: the last real token is `noreply`.
    pub fn noreply(&self) -> bool {
        self.n >= 2 && self.get(self.n - 2) == b"noreply"
    }

    /// The line from token `i` to its end (the meta commands' flags).
    pub fn rest_from(&self, line: &'a [u8], i: usize) -> &'a [u8] {
        if i + 1 >= self.n {
            return &[];
        }
        let start = self.get(i).as_ptr() as usize - line.as_ptr() as usize;
        &line[start..]
    }
}

/// The line that ends with the newline at `nl`. memcached strips a '\r' before the '\n' only
/// when the line has another byte before it. (It then reads the line as a C string, to its
/// first NUL: [`Tokens::split`] finds where.)
#[inline(always)]
pub fn line_before(buf: &[u8], nl: usize) -> &[u8] {
    if nl > 1 && buf[nl - 1] == b'\r' {
        &buf[..nl - 1]
    } else {
        &buf[..nl]
    }
}
