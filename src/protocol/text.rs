//! memcached's text protocol parser (memcached 1.6 `proto_text.c`), pure and allocation-free.
//!
//! [`parse`] takes the unread bytes of a connection and returns one [`Parse`]: a complete
//! [`Request`] and the number of bytes it used, a request for more input, or memcached's silent
//! close. Every quirk memcached shows on the wire is reproduced here, next to a comment naming
//! it: the 24-token tokenizer, `noreply` taken from the last token, the order in which
//! arguments are validated, the 2048-byte line limit that only `get`/`gets` may exceed, and the
//! data block that is swallowed after a too-large value.

use std::mem;

use super::num::{strtol, strtoul, strtoull};

/// Longest key memcached accepts (`KEY_MAX_LENGTH`).
pub const KEY_MAX: usize = 250;
/// memcached's `MAX_TOKENS`: 23 tokens, then the unprocessed rest of the line.
const MAX_TOKENS: usize = 24;
/// Unterminated input beyond this closes the connection unless it is a `get`/`gets` line.
pub const LINE_LIMIT: usize = 2048;
/// Bound on an unterminated `get`/`gets` line (memcached grows its buffer without a limit).
pub const GET_LINE_LIMIT: usize = 1 << 20;
/// memcached's read buffer (`READ_BUFFER_SIZE`): the most it reads at once.
const READ_CHUNK: usize = 16 << 10;

/// Server settings the parser needs.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `-I`: the largest item, header included, as memcached counts it.
    pub item_size_max: usize,
    /// `-C` clears this: items then carry no CAS and memcached's item header is 8 bytes smaller.
    pub use_cas: bool,
}

/// One step of parsing.
// A meta request carries its decoded key inline (the parser allocates nothing), which makes
// `Done` large; it is returned by value once per request, never stored.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq, Eq)]
pub enum Parse<'a> {
    /// A complete request and the bytes it used.
    Done(Request<'a>, usize),
    /// More input is needed; `need` is the total length required when it is known
    /// (a storage command whose line is complete but whose data block is not).
    Incomplete { need: Option<usize> },
    /// memcached closes the connection without a reply (over-long line, HTTP request).
    Close,
}

/// The storage commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreMode {
    Set,
    Add,
    Replace,
    Append,
    Prepend,
    Cas,
}

/// The retrieval commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetKind {
    Get,
    Gets,
    Gat,
    Gats,
}

impl GetKind {
    pub fn returns_cas(self) -> bool {
        matches!(self, GetKind::Gets | GetKind::Gats)
    }
    pub fn touches(self) -> bool {
        matches!(self, GetKind::Gat | GetKind::Gats)
    }
}

/// A parsed request. `noreply` is memcached's: taken from the last token, it suppresses the
/// reply, errors included, of the commands that honour it.
#[derive(Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub cmd: Command<'a>,
    pub noreply: bool,
}

/// The commands, with their arguments borrowed from the input.
#[allow(clippy::large_enum_variant)] // `Meta`: see `Parse`.
#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// ```text
    /// get|gets <key>*\r\n
    /// gat|gats <exptime> <key>*\r\n
    /// ```
    /// `keys` holds the space-separated keys. When a key is over 250 bytes, `keys` stops
    /// before it and `bad_key` is set: memcached has answered the keys before it, then answers
    /// `CLIENT_ERROR bad command line format` instead of `END`.
    Get {
        kind: GetKind,
        exptime: i32,
        keys: Keys<'a>,
        bad_key: bool,
    },
    /// ```text
    /// set|add|replace|append|prepend <key> <flags> <exptime> <bytes> [noreply]\r\n<data>\r\n
    /// cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]\r\n<data>\r\n
    /// ```
    Store {
        mode: StoreMode,
        key: &'a [u8],
        flags: u32,
        exptime: i32,
        cas: u64,
        data: &'a [u8],
    },
    /// A storage command whose value is over `-I`. memcached answers
    /// `SERVER_ERROR object too large for cache`, swallows the next `swallow` bytes (the data
    /// block, whenever it arrives), and, for `set`, deletes the key so no stale value stays.
    TooLarge {
        mode: StoreMode,
        key: &'a [u8],
        swallow: usize,
    },
    /// ```text
    /// delete <key> [0] [noreply]\r\n
    /// ```
    Delete { key: &'a [u8] },
    /// ```text
    /// incr|decr <key> <delta> [noreply]\r\n
    /// ```
    Arith {
        incr: bool,
        key: &'a [u8],
        delta: u64,
    },
    /// ```text
    /// touch <key> <exptime> [noreply]\r\n
    /// ```
    Touch { key: &'a [u8], exptime: i32 },
    /// ```text
    /// flush_all [delay] [noreply]\r\n
    /// ```
    FlushAll { delay: i32 },
    /// ```text
    /// version\r\n
    /// ```
    Version,
    /// ```text
    /// verbosity <level> [noreply]\r\n
    /// ```
    Verbosity { level: u32 },
    /// ```text
    /// stats [<group> [args]]\r\n
    /// ```
    /// `args` is the rest of the line after `stats`, trimmed of spaces.
    Stats { args: &'a [u8] },
    /// ```text
    /// quit\r\n
    /// ```
    Quit,
    /// ```text
    /// mn\r\n
    /// ```
    /// The meta no-op: answers `MN`.
    MetaNoop,
    /// A meta command (`mg ms md ma me`), parsed by [`super::meta`].
    Meta(super::meta::MetaRequest<'a>),
    /// A complete line answered with a fixed line (`ERROR`, `CLIENT_ERROR …`), CRLF excluded.
    Error(&'static str),
    /// An error line, after which the next `swallow` bytes (a data block the error refused)
    /// are discarded whenever they arrive, as memcached's `conn_swallow`.
    ErrorSwallow { msg: &'static str, swallow: usize },
}

pub const ERROR: &str = "ERROR";
pub const BAD_FORMAT: &str = "CLIENT_ERROR bad command line format";
pub const BAD_EXPTIME: &str = "CLIENT_ERROR invalid exptime argument";
pub const BAD_DELTA: &str = "CLIENT_ERROR invalid numeric delta argument";
pub const BAD_DELETE: &str = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]";
pub const BAD_CHUNK: &str = "CLIENT_ERROR bad data chunk";
pub const TOO_LARGE: &str = "SERVER_ERROR object too large for cache";

/// The keys of a retrieval command: space-separated, none longer than [`KEY_MAX`]. The
/// flag is set when the bytes are exactly one key (the common `get <key>`), which the
/// tokenizer already found, so they are not split again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keys<'a>(pub &'a [u8], bool);

impl<'a> Keys<'a> {
    /// Exactly one key (then it is `self.0`).
    pub fn is_single(&self) -> bool {
        self.1
    }

    pub fn iter(&self) -> KeyIter<'a> {
        KeyIter {
            rest: self.0,
            single: self.1,
        }
    }
}

/// The keys of [`Keys`], in order.
#[derive(Clone, Debug)]
pub struct KeyIter<'a> {
    rest: &'a [u8],
    /// `rest` is one key.
    single: bool,
}

impl<'a> Iterator for KeyIter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.single {
            self.single = false;
            return Some(mem::take(&mut self.rest));
        }
        let start = self.rest.iter().position(|&b| b != b' ')?;
        let r = &self.rest[start..];
        let end = memchr::memchr(b' ', r).unwrap_or(r.len());
        self.rest = &r[end..];
        Some(&r[..end])
    }
}

/// memcached's `tokenize_command`: split on single spaces, at most 23 tokens, then the
/// unprocessed rest. `n` counts memcached's terminal token too, so it is memcached's
/// `ntokens`. memcached reads the line as a C string: `len` is where it ends, at the first
/// NUL.
struct Tokens<'a> {
    /// Tokens `..n - 1` are written; the rest are not (initialising all 24 cost a sixth of
    /// a get's parse, measured with callgrind).
    tok: [std::mem::MaybeUninit<&'a [u8]>; MAX_TOKENS],
    n: usize,
    rest: Option<&'a [u8]>,
    len: usize,
}

const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);
const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);

/// The top bit of each zero byte of `x`, exactly (no borrow runs between bytes).
fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// Eight bytes of `b` from `at`, little-endian, padded past the end with 0xff (neither a
/// space nor a NUL).
fn word(b: &[u8], at: usize) -> u64 {
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
    fn new(line: &'a [u8]) -> Self {
        let mut t = Tokens::empty(line);
        t.split(line);
        t
    }

    /// No tokens yet: [`Tokens::split`] fills them in place. (Returning a filled `Tokens`
    /// by value, 416 bytes, cost a copy per request.)
    #[inline(always)]
    fn empty(line: &'a [u8]) -> Self {
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
    fn split(&mut self, line: &'a [u8]) {
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
    fn toks(&self) -> &[&'a [u8]] {
        let written = &self.tok[..self.n - 1];
        // SAFETY: `split` writes tokens `..n - 1` before it sets `n`; MaybeUninit<T> has
        // T's layout.
        unsafe { &*(written as *const [std::mem::MaybeUninit<&'a [u8]>] as *const [&'a [u8]]) }
    }

    /// Token `i`, or empty past the end (memcached's terminal token has length 0).
    fn get(&self, i: usize) -> &'a [u8] {
        if i < self.n - 1 {
            self.toks()[i]
        } else {
            &[]
        }
    }

    /// memcached's `set_noreply_maybe`: the last real token is `noreply`.
    fn noreply(&self) -> bool {
        self.n >= 2 && self.get(self.n - 2) == b"noreply"
    }
}

fn done(cmd: Command<'_>, noreply: bool, used: usize) -> Parse<'_> {
    Parse::Done(Request { cmd, noreply }, used)
}

/// Parses the next request at the start of `buf`.
pub fn parse<'a>(buf: &'a [u8], limits: &Limits) -> Parse<'a> {
    match single_get(buf) {
        Some(p) => p,
        None => parse_line(buf, limits),
    }
}

/// [`parse`] for every request: the line split into memcached's tokens.
fn parse_line<'a>(buf: &'a [u8], limits: &Limits) -> Parse<'a> {
    let Some(nl) = memchr::memchr(b'\n', buf) else {
        return unterminated(buf);
    };
    // memcached reads at most READ_CHUNK bytes at a time and judges a line it holds without
    // its newline, so a line whose newline comes later is judged on its first READ_CHUNK
    // bytes however much of it has arrived here.
    if nl >= READ_CHUNK {
        if let Parse::Close = unterminated(&buf[..READ_CHUNK]) {
            return Parse::Close;
        }
    }
    let used = nl + 1;
    // memcached strips a '\r' before the '\n' only when the line has another byte before it,
    // and reads the line as a C string, so it ends at the first NUL.
    let line = if nl > 1 && buf[nl - 1] == b'\r' {
        &buf[..nl - 1]
    } else {
        &buf[..nl]
    };
    let mut t = Tokens::empty(line);
    t.split(line);
    let line = &line[..t.len];
    let cmd = t.get(0);
    // Every command has at least two tokens (memcached counts the terminal one) and no
    // command is shorter than two bytes.
    if t.n < 2 || cmd.len() < 2 {
        return done(Command::Error(ERROR), false, used);
    }
    // memcached dispatches every two-byte command starting with `m` to the meta commands.
    if cmd.len() == 2 && cmd[0] == b'm' {
        if cmd[1] == b'n' {
            return done(Command::MetaNoop, false, used);
        }
        return super::meta::parse(buf, line, used, limits);
    }
    match cmd {
        b"get" | b"bget" => get(&t, GetKind::Get, used),
        b"gets" => get(&t, GetKind::Gets, used),
        b"gat" => get(&t, GetKind::Gat, used),
        b"gats" => get(&t, GetKind::Gats, used),
        b"set" => store(buf, &t, StoreMode::Set, used, limits),
        b"add" => store(buf, &t, StoreMode::Add, used, limits),
        b"replace" => store(buf, &t, StoreMode::Replace, used, limits),
        b"append" => store(buf, &t, StoreMode::Append, used, limits),
        b"prepend" => store(buf, &t, StoreMode::Prepend, used, limits),
        b"cas" => store(buf, &t, StoreMode::Cas, used, limits),
        b"delete" => delete(&t, used),
        b"incr" => arith(&t, true, used),
        b"decr" => arith(&t, false, used),
        b"touch" => touch(&t, used),
        b"flush_all" => flush_all(&t, used),
        b"version" => done(Command::Version, false, used),
        b"quit" => done(Command::Quit, false, used),
        b"verbosity" => verbosity(&t, used),
        b"stats" => done(
            Command::Stats {
                args: keys_from(&t, 1),
            },
            false,
            used,
        ),
        _ => {
            // memcached drops a connection that sends an HTTP request line.
            if t.get(t.n - 2).starts_with(b"HTTP/") {
                Parse::Close
            } else {
                done(Command::Error(ERROR), false, used)
            }
        }
    }
}

/// `get <key>\r\n` or `gets <key>\r\n`, the most common requests, parsed without the
/// tokenizer: the key is every byte up to the CR LF when none of them is a space, NUL, CR
/// or LF and there are at most [`KEY_MAX`]. The general path gives the same request for
/// such a line (test `single_get_matches_the_general_parser`); any other line takes it.
#[inline(always)]
fn single_get(buf: &[u8]) -> Option<Parse<'_>> {
    let (kind, at) = match buf.get(..5)? {
        [b'g', b'e', b't', b' ', _] => (GetKind::Get, 4),
        b"gets " => (GetKind::Gets, 5),
        _ => return None,
    };
    let rest = &buf[at..];
    let n = key_end(rest)?;
    if n == 0 || rest.get(n..n + 2) != Some(b"\r\n") {
        return None;
    }
    let cmd = Command::Get {
        kind,
        exptime: 0,
        keys: Keys(&rest[..n], true),
        bad_key: false,
    };
    Some(done(cmd, false, at + n + 2))
}

/// Where the first space, NUL, CR or LF is among the first `KEY_MAX + 1` bytes of `b`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn key_end(b: &[u8]) -> Option<usize> {
    use std::arch::x86_64::*;
    let mut at = 0;
    while at <= KEY_MAX && at < b.len() {
        let mut tail = [0xffu8; 16];
        let p = if b.len() - at >= 16 {
            b[at..].as_ptr()
        } else {
            tail[..b.len() - at].copy_from_slice(&b[at..]);
            tail.as_ptr()
        };
        // SAFETY: SSE2 is part of x86_64; `p` has 16 readable bytes (of `b`, or of `tail`).
        let m = unsafe {
            let v = _mm_loadu_si128(p as *const __m128i);
            let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            let hit = _mm_or_si128(
                _mm_or_si128(eq(b' '), eq(0)),
                _mm_or_si128(eq(b'\r'), eq(b'\n')),
            );
            _mm_movemask_epi8(hit) as u32
        };
        if m != 0 {
            let i = at + m.trailing_zeros() as usize;
            return (i <= KEY_MAX).then_some(i);
        }
        at += 16;
    }
    None
}

/// [`key_end`] eight bytes at a time, without SIMD.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn key_end_swar(b: &[u8]) -> Option<usize> {
    const CRS: u64 = u64::from_ne_bytes([b'\r'; 8]);
    const LFS: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let mut at = 0;
    while at <= KEY_MAX && at < b.len() {
        let w = word(b, at);
        let m = zero_bytes(w ^ SPACES) | zero_bytes(w) | zero_bytes(w ^ CRS) | zero_bytes(w ^ LFS);
        if m != 0 {
            let i = at + (m.trailing_zeros() / 8) as usize;
            return (i <= KEY_MAX).then_some(i);
        }
        at += 8;
    }
    None
}

#[cfg(not(target_arch = "x86_64"))]
use key_end_swar as key_end;

/// No newline yet. memcached waits for more, except that more than 2048 bytes without a
/// newline close the connection unless they begin (after at most 100 spaces) a multi-get.
fn unterminated(buf: &[u8]) -> Parse<'_> {
    if buf.len() <= LINE_LIMIT {
        return Parse::Incomplete { need: None };
    }
    let spaces = buf.iter().take_while(|&&b| b == b' ').count();
    let rest = &buf[spaces..];
    if spaces > 100 || !(rest.starts_with(b"get ") || rest.starts_with(b"gets ")) {
        return Parse::Close;
    }
    if buf.len() > GET_LINE_LIMIT {
        return Parse::Close;
    }
    Parse::Incomplete { need: None }
}

/// `ntokens` bounds as memcached's `WANT_TOKENS` macros check them: outside, `ERROR`.
fn want(t: &Tokens<'_>, min: usize, max: usize) -> bool {
    t.n >= min && t.n <= max
}

fn get<'a>(t: &Tokens<'a>, kind: GetKind, used: usize) -> Parse<'a> {
    if t.n < 3 {
        return done(Command::Error(ERROR), false, used);
    }
    let mut first = 1;
    let mut exptime = 0;
    if kind.touches() {
        match strtol(t.get(1)) {
            Some(e) => exptime = e,
            None => return done(Command::Error(BAD_EXPTIME), false, used),
        }
        first = 2;
    }
    // The keys run from the first key token to the end of the line (memcached re-tokenizes
    // the rest of a long line in chunks of 23; the effect is the same).
    let keys = keys_from(t, first);
    let offset = |k: &[u8]| k.as_ptr() as usize - keys.as_ptr() as usize;
    // The first key over `KEY_MAX`, if any: among the tokens, else in the unsplit rest.
    let long = t.toks()[first.min(t.n - 1)..]
        .iter()
        .copied()
        .chain(t.rest.into_iter().flat_map(|r| r.split(|&b| b == b' ')))
        .find(|k| k.len() > KEY_MAX);
    let bad_key = long.is_some();
    let good_len = long.map_or(keys.len(), offset);
    // One key token and nothing unsplit: `keys` is that token.
    let single = !bad_key && t.n == first + 2 && t.rest.is_none();
    done(
        Command::Get {
            kind,
            exptime,
            keys: Keys(&keys[..good_len.min(keys.len())], single),
            bad_key,
        },
        false,
        used,
    )
}

/// The bytes of the line from token `first` to its end.
fn keys_from<'a>(t: &Tokens<'a>, first: usize) -> &'a [u8] {
    if first >= t.n - 1 {
        return &[];
    }
    let start = t.toks()[first].as_ptr();
    let end = match t.rest {
        Some(r) => r.as_ptr_range().end,
        None => t.toks()[t.n - 2].as_ptr_range().end,
    };
    // SAFETY: `start` and `end` point into the same line slice, `start <= end`.
    unsafe { std::slice::from_raw_parts(start, end.offset_from(start) as usize) }
}

fn store<'a>(
    buf: &'a [u8],
    t: &Tokens<'a>,
    mode: StoreMode,
    used: usize,
    limits: &Limits,
) -> Parse<'a> {
    let (min, max) = if mode == StoreMode::Cas {
        (7, 8)
    } else {
        (6, 7)
    };
    if !want(t, min, max) {
        return done(Command::Error(ERROR), false, used);
    }
    let noreply = t.noreply();
    let key = t.get(1);
    if key.len() > KEY_MAX {
        return done(Command::Error(BAD_FORMAT), noreply, used);
    }
    let (Some(flags), Some(exptime), Some(vlen)) =
        (strtoul(t.get(2)), strtol(t.get(3)), strtol(t.get(4)))
    else {
        return done(Command::Error(BAD_FORMAT), noreply, used);
    };
    let mut cas = 0;
    if mode == StoreMode::Cas {
        match strtoull(t.get(5)) {
            Some(c) => cas = c,
            None => return done(Command::Error(BAD_FORMAT), noreply, used),
        }
    }
    if !(0..=i32::MAX - 2).contains(&vlen) {
        return done(Command::Error(BAD_FORMAT), noreply, used);
    }
    let vlen = vlen as usize;
    if crate::store::memcached_item_size(key.len(), flags, vlen, limits.use_cas)
        > limits.item_size_max
    {
        return done(
            Command::TooLarge {
                mode,
                key,
                swallow: vlen + 2,
            },
            noreply,
            used,
        );
    }
    let need = used + vlen + 2;
    if buf.len() < need {
        return Parse::Incomplete { need: Some(need) };
    }
    // memcached reads exactly `bytes + 2` bytes and then checks that they end in CRLF.
    if &buf[used + vlen..need] != b"\r\n" {
        return done(Command::Error(BAD_CHUNK), noreply, need);
    }
    let data = &buf[used..used + vlen];
    done(
        Command::Store {
            mode,
            key,
            flags,
            exptime,
            cas,
            data,
        },
        noreply,
        need,
    )
}

fn delete<'a>(t: &Tokens<'a>, used: usize) -> Parse<'a> {
    if !want(t, 3, 5) {
        return done(Command::Error(ERROR), false, used);
    }
    let mut noreply = false;
    // The legacy `delete <key> 0` form is accepted; any other extra argument is not.
    if t.n > 3 {
        let hold_is_zero = t.get(2) == b"0";
        noreply = t.noreply();
        let valid =
            (t.n == 4 && (hold_is_zero || noreply)) || (t.n == 5 && hold_is_zero && noreply);
        if !valid {
            return done(Command::Error(BAD_DELETE), noreply, used);
        }
    }
    let key = t.get(1);
    if key.len() > KEY_MAX {
        return done(Command::Error(BAD_FORMAT), noreply, used);
    }
    done(Command::Delete { key }, noreply, used)
}

fn arith<'a>(t: &Tokens<'a>, incr: bool, used: usize) -> Parse<'a> {
    if !want(t, 4, 5) {
        return done(Command::Error(ERROR), false, used);
    }
    let noreply = t.noreply();
    let key = t.get(1);
    if key.len() > KEY_MAX {
        return done(Command::Error(BAD_FORMAT), noreply, used);
    }
    match strtoull(t.get(2)) {
        Some(delta) => done(Command::Arith { incr, key, delta }, noreply, used),
        None => done(Command::Error(BAD_DELTA), noreply, used),
    }
}

fn touch<'a>(t: &Tokens<'a>, used: usize) -> Parse<'a> {
    if !want(t, 4, 5) {
        return done(Command::Error(ERROR), false, used);
    }
    let noreply = t.noreply();
    let key = t.get(1);
    if key.len() > KEY_MAX {
        return done(Command::Error(BAD_FORMAT), noreply, used);
    }
    match strtol(t.get(2)) {
        Some(exptime) => done(Command::Touch { key, exptime }, noreply, used),
        None => done(Command::Error(BAD_EXPTIME), noreply, used),
    }
}

fn flush_all<'a>(t: &Tokens<'a>, used: usize) -> Parse<'a> {
    if !want(t, 2, 4) {
        return done(Command::Error(ERROR), false, used);
    }
    let noreply = t.noreply();
    let mut delay = 0;
    if t.n != if noreply { 3 } else { 2 } {
        match strtol(t.get(1)) {
            Some(d) => delay = d,
            None => return done(Command::Error(BAD_EXPTIME), noreply, used),
        }
    }
    done(Command::FlushAll { delay }, noreply, used)
}

fn verbosity<'a>(t: &Tokens<'a>, used: usize) -> Parse<'a> {
    if !want(t, 3, 4) {
        return done(Command::Error(ERROR), false, used);
    }
    let noreply = t.noreply();
    match strtoul(t.get(1)) {
        Some(level) => done(Command::Verbosity { level }, noreply, used),
        None => done(Command::Error(BAD_FORMAT), noreply, used),
    }
}

#[cfg(test)]
pub(crate) mod tests;
