//! memcached's text protocol parser (memcached 1.6 `proto_text.c`), pure and allocation-free.
//!
//! [`parse`] takes the unread bytes of a connection and returns one [`Parse`]: a complete
//! [`Request`] and the number of bytes it used, a request for more input, or memcached's silent
//! close. Every quirk memcached shows on the wire is reproduced here, next to a comment naming
//! it: the 24-token tokenizer, `noreply` taken from the last token, the order in which
//! arguments are validated, the 2048-byte line limit that only `get`/`gets` may exceed, and the
//! data block that is swallowed after a too-large value.

#[cfg(test)]
use super::tokens::MAX_TOKENS;
use super::tokens::{line_before, Tokens};
#[cfg(any(test, not(target_arch = "x86_64")))]
use super::tokens::{word, zero_bytes, SPACES};
use super::{
    Command, GetKind, Keys, Parse, Request, StoreMode, BAD_CHUNK, BAD_DELETE, BAD_DELTA,
    BAD_EXPTIME, BAD_FORMAT, ERROR, KEY_MAX,
};
use crate::num::{strtol, strtoul, strtoull};

// The parser's settings are the protocol's; tests and tools name them from here.
pub use super::Limits;

/// Unterminated input beyond this closes the connection unless it is a `get`/`gets` line.
pub const LINE_LIMIT: usize = 2048;
/// Bound on an unterminated `get`/`gets` line (memcached grows its buffer without a limit).
pub const GET_LINE_LIMIT: usize = 1 << 20;
/// memcached's read buffer (`READ_BUFFER_SIZE`): the most it reads at once.
const READ_CHUNK: usize = 16 << 10;

fn done(cmd: Command<'_>, noreply: bool, used: usize) -> Parse<'_> {
    Parse::Done(Request { cmd, noreply }, used)
}

/// Parses the next request at the start of `buf`.
pub fn parse<'a>(buf: &'a [u8], limits: &Limits) -> Parse<'a> {
    if let Some(p) = single_get(buf) {
        return p;
    }
    match single_set(buf, limits) {
        Some(p) => p,
        None => parse_line(buf, limits),
    }
}

/// [`parse`] written into `slot`: each path writes its outcome there itself, where a
/// returned [`Parse`] would be built aside and copied in.
#[inline(always)]
pub fn parse_into<'a, 's>(
    buf: &'a [u8],
    limits: &Limits,
    slot: &'s mut std::mem::MaybeUninit<Parse<'a>>,
) -> &'s Parse<'a> {
    if let Some(p) = single_get(buf) {
        return slot.write(p);
    }
    match single_set(buf, limits) {
        Some(p) => slot.write(p),
        None => slot.write(parse_line(buf, limits)),
    }
}

/// [`parse`] for every request: the line split into memcached's tokens.
#[inline(never)]
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
    let line = line_before(buf, nl);
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
        return super::meta::parse(buf, line, &t, used, limits);
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
        b"shutdown" => done(
            Command::Shutdown {
                args: keys_from(&t, 1),
            },
            false,
            used,
        ),
        b"refresh_certs" => done(Command::RefreshCerts, false, used),
        b"lru_crawler" => done(super::admin::lru_crawler(&t), false, used),
        b"cache_memlimit" => {
            let (cmd, noreply) = super::admin::cache_memlimit(&t);
            done(cmd, noreply, used)
        }
        b"slabs" => {
            let (cmd, noreply) = super::admin::slabs(&t);
            done(cmd, noreply, used)
        }
        b"lru" => {
            let (cmd, noreply) = super::admin::lru(&t);
            done(cmd, noreply, used)
        }
        b"watch" => {
            let (cmd, noreply) = super::admin::watch(&t);
            done(cmd, noreply, used)
        }
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

/// Appends the request for one key of a retrieval command: `get|gets <key>\r\n` or
/// `gat|gats <exptime> <key>\r\n`, which [`parse`] reads back as a get of that key alone
/// (one key of a multi-key get, sent to the shard that owns it).
pub fn push_get_line(out: &mut Vec<u8>, kind: GetKind, exptime: i32, key: &[u8]) {
    out.extend_from_slice(match kind {
        GetKind::Get => b"get ",
        GetKind::Gets => b"gets ",
        GetKind::Gat => b"gat ",
        GetKind::Gats => b"gats ",
    });
    if kind.touches() {
        if exptime < 0 {
            out.push(b'-');
        }
        crate::num::push_u64(out, u64::from(exptime.unsigned_abs()));
        out.push(b' ');
    }
    out.extend_from_slice(key);
    out.extend_from_slice(b"\r\n");
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
    let n = key_end(buf, at)?;
    let rest = &buf[at..];
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

/// Where the first space, NUL, CR or LF is among the first `KEY_MAX + 1` bytes of
/// `buf[from..]`, counted from `from`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn key_end(buf: &[u8], from: usize) -> Option<usize> {
    use std::arch::x86_64::*;
    let b = &buf[from..];
    let mut at = 0;
    while at <= KEY_MAX && at < b.len() {
        let left = b.len() - at;
        // Fewer than 16 bytes left (the end of a short `get` line): the last 16 bytes of
        // `buf`, which bytes before `from` complete, shifted so bit 0 is `b[at]`; a copy
        // to a padded buffer would cost a call.
        let (p, shift) = if left >= 16 {
            (b[at..].as_ptr(), 0)
        } else if buf.len() >= 16 {
            (buf[buf.len() - 16..].as_ptr(), 16 - left)
        } else {
            return key_end_short(&b[at..]).map(|i| at + i);
        };
        // SAFETY: SSE2 is part of x86_64; `p` has 16 readable bytes of `buf`.
        let m = unsafe {
            let v = _mm_loadu_si128(p as *const __m128i);
            let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            let hit = _mm_or_si128(
                _mm_or_si128(eq(b' '), eq(0)),
                _mm_or_si128(eq(b'\r'), eq(b'\n')),
            );
            _mm_movemask_epi8(hit) as u32 >> shift
        };
        if m != 0 {
            let i = at + m.trailing_zeros() as usize;
            return (i <= KEY_MAX).then_some(i);
        }
        at += 16;
    }
    None
}

/// [`key_end`] of fewer than 16 bytes, in a buffer shorter than 16 (a short line alone).
#[cfg(target_arch = "x86_64")]
fn key_end_short(b: &[u8]) -> Option<usize> {
    b.iter()
        .position(|&c| matches!(c, b' ' | 0 | b'\r' | b'\n'))
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
fn key_end(buf: &[u8], from: usize) -> Option<usize> {
    key_end_swar(&buf[from..])
}

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
    let args = StoreArgs {
        key: t.get(1),
        flags: strtoul(t.get(2)),
        exptime: strtol(t.get(3)),
        bytes: strtol(t.get(4)),
        cas: if mode == StoreMode::Cas {
            strtoull(t.get(5))
        } else {
            None
        },
        noreply: t.noreply(),
    };
    store_args(buf, mode, args, used, limits)
}

/// The arguments of a storage command's line: the key and the numbers as parsed,
/// not yet checked.
struct StoreArgs<'a> {
    key: &'a [u8],
    flags: Option<u32>,
    exptime: Option<i32>,
    bytes: Option<i32>,
    /// `cas` only.
    cas: Option<u64>,
    noreply: bool,
}

/// [`store`] from its tokens, checked in memcached's order (`process_update_command`).
#[inline(always)]
fn store_args<'a>(
    buf: &'a [u8],
    mode: StoreMode,
    a: StoreArgs<'a>,
    used: usize,
    limits: &Limits,
) -> Parse<'a> {
    let (key, noreply) = (a.key, a.noreply);
    if key.len() > KEY_MAX {
        return done(Command::Error(BAD_FORMAT), noreply, used);
    }
    let (Some(flags), Some(exptime), Some(vlen)) = (a.flags, a.exptime, a.bytes) else {
        return done(Command::Error(BAD_FORMAT), noreply, used);
    };
    let mut cas = 0;
    if mode == StoreMode::Cas {
        match a.cas {
            Some(c) => cas = c,
            None => return done(Command::Error(BAD_FORMAT), noreply, used),
        }
    }
    if !(0..=i32::MAX - 2).contains(&vlen) {
        return done(Command::Error(BAD_FORMAT), noreply, used);
    }
    let vlen = vlen as usize;
    if super::memcached_item_size(key.len(), flags, vlen, limits.use_cas) > limits.item_size_max {
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

/// `set <key> <flags> <exptime> <bytes>\r\n`, the common storage line, split without the
/// tokenizer: a key of 1..=[`KEY_MAX`] bytes, none a space, NUL, CR or LF, then three runs
/// of one to nine decimal digits (read as they are found: no such number overflows what
/// `strtoul` or `strtol` would give), single spaces between, CR LF. The general path gives the same
/// outcome for such a line (test `single_set_matches_the_general_parser`); any other
/// line takes it.
#[inline(always)]
fn single_set<'a>(buf: &'a [u8], limits: &Limits) -> Option<Parse<'a>> {
    if buf.get(..4)? != b"set " {
        return None;
    }
    let n = key_end(buf, 4)?;
    if n == 0 || buf.get(4 + n) != Some(&b' ') {
        return None;
    }
    let key = &buf[4..4 + n];
    let (flags, at) = digits(buf, 5 + n, b' ')?;
    let (exptime, at) = digits(buf, at, b' ')?;
    let (bytes, at) = digits(buf, at, b'\r')?;
    let (flags, exptime, bytes) = (Some(flags), Some(exptime as i32), Some(bytes as i32));
    // A line of READ_CHUNK bytes or more is judged unterminated first (`parse_line`).
    if buf.get(at) != Some(&b'\n') || at >= READ_CHUNK {
        return None;
    }
    let args = StoreArgs {
        key,
        flags,
        exptime,
        bytes,
        cas: None,
        noreply: false,
    };
    Some(store_args(buf, StoreMode::Set, args, at + 1, limits))
}

/// The number in the run of one to nine decimal digits at `at` in `buf`, when `end`
/// follows it; and where after `end` the next token starts.
#[inline(always)]
fn digits(buf: &[u8], at: usize, end: u8) -> Option<(u32, usize)> {
    let mut i = at;
    let mut v = 0u32;
    loop {
        let d = buf.get(i)?.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v * 10 + u32::from(d);
        i += 1;
        if i - at > 9 {
            return None;
        }
    }
    (i > at && buf[i] == end).then_some((v, i + 1))
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
