//! memcached's meta commands (`mg ms md ma me`; `mn` is in [`super::text`]), memcached 1.6.18
//! `proto_text.c` and `doc/protocol.txt` "Meta Commands". Pure and allocation-free.
//!
//! ```text
//! mg <key> <flag>*\r\n
//! ms <key> <datalen> <flag>*\r\n<data>\r\n
//! md <key> <flag>*\r\n
//! ma <key> <flag>*\r\n
//! me <key> [b]\r\n
//! ```
//!
//! A flag is one token whose first byte names it; `N T R C F M J D O` take the rest of the
//! token as their argument. Everything memcached validates before it touches an item is
//! validated here, in memcached's order and with its messages (the first error found in its
//! flag pre-parse, duplicate and unknown flags ending it at once); what memcached only finds
//! while building a reply (an over-long opaque for `mg` and `ma`) is left to the executor,
//! since the item changes made before it stay.

use super::num::{strtol, strtoul, strtoull};
use super::text::{Command, Limits, Parse, Request, BAD_FORMAT, ERROR, KEY_MAX};

/// memcached's `MFLAG_MAX_OPT_LENGTH`: more tokens than this (its count includes the
/// terminal token) is an error.
const MAX_OPT_TOKENS: usize = 20;
/// memcached's `MFLAG_MAX_OPAQUE_LENGTH`, the `O` token included.
pub const MAX_OPAQUE: usize = 32;

pub const OPAQUE_TOO_LONG: &str = "CLIENT_ERROR opaque token too long";
const FLAGS_TOO_LONG: &str = "CLIENT_ERROR options flags too long";
const MG_FLAGS_TOO_LONG: &str = "CLIENT_ERROR options flags are too long";
const BAD_TOKEN: &str = "CLIENT_ERROR bad token in command line format";
const INVALID_OR_DUP: &str = "CLIENT_ERROR invalid or duplicate flag";

/// Which meta command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaCmd {
    Get,
    Set,
    Delete,
    Arith,
    Debug,
}

/// What the flags of a request ask for (memcached's `struct _meta_flags`). The reply
/// flags (`k v f s t c h l O`) are read again, in order, from [`MetaRequest::flags`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetaFlags {
    /// `q`: quiet mode.
    pub quiet: bool,
    /// `v`: return the value.
    pub value: bool,
    /// `u`: no LRU bump.
    pub no_update: bool,
    /// `I`: invalidate (mark stale).
    pub invalidate: bool,
    /// A `C<cas>` flag was given (even `C0`, which `ms` and `md` still compare).
    pub has_cas: bool,
    /// `C<cas>`: the unique to compare.
    pub cas: u64,
    /// `F<flags>`: client flags for `ms`.
    pub client_flags: u32,
    /// `M<mode>`: the mode byte, 0 when absent.
    pub mode: u8,
    /// `T<ttl>`: new TTL (a memcached exptime).
    pub ttl: Option<i32>,
    /// `N<ttl>`: vivify on miss with this TTL.
    pub vivify: Option<i32>,
    /// `R<ttl>`: recache when the TTL left is below this.
    pub recache: Option<i32>,
    /// `D<delta>` for `ma` (default 1).
    pub delta: u64,
    /// `J<initial>` for `ma` (default 0).
    pub initial: u64,
}

/// Room for a base64-decoded key: `None` until [`MetaRequest::key`] decodes one, so a
/// plain key costs no buffer.
pub type KeyBuf = Option<[u8; KEY_MAX]>;

/// A parsed meta request. Everything the owner shard needs to run it and format its reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaRequest<'a> {
    /// The whole request as received: the line and, for `ms`, its data block. Forwarding
    /// sends these bytes and the owner parses them again with [`reparse`].
    pub raw: &'a [u8],
    pub cmd: MetaCmd,
    /// The key as sent (base64 with `b`).
    key_token: &'a [u8],
    /// The decoded key's length, with `b` (the key is decoded again where it is used:
    /// carrying it here made every request, text ones included, 250 bytes larger).
    key_len: u8,
    /// `b`: the key was base64-encoded (replies show it encoded again).
    pub key_binary: bool,
    /// The flag tokens, space separated, in request order.
    flags: &'a [u8],
    pub f: MetaFlags,
    /// `ms`: the data block, CRLF excluded.
    pub data: &'a [u8],
    /// `ms`: the value is over `-I`; the data block is swallowed, not in `raw`.
    pub too_large: bool,
    /// `ms`: the data block did not end in CRLF (memcached counts the set, then refuses).
    pub bad_chunk: bool,
    /// Bytes of data block to discard after `raw` (an `ms` whose value is too large).
    swallow: usize,
}

impl<'a> MetaRequest<'a> {
    /// The key the command is for (base64-decoded with the `b` flag, into `decoded`): it
    /// picks the shard.
    pub fn key<'s>(&'s self, decoded: &'s mut KeyBuf) -> &'s [u8] {
        if self.key_binary {
            let buf = decoded.insert([0; KEY_MAX]);
            let n = base64_decode(self.key_token, buf);
            debug_assert_eq!(n, self.key_len as usize);
            &buf[..n]
        } else {
            self.key_token
        }
    }

    /// The length of [`MetaRequest::key`].
    pub fn key_len(&self) -> usize {
        if self.key_binary {
            self.key_len as usize
        } else {
            self.key_token.len()
        }
    }

    /// The key as the request spelled it (base64 with `b`).
    pub fn key_token(&self) -> &'a [u8] {
        self.key_token
    }

    /// Bytes of data block the connection discards after this request.
    pub fn swallow(&self) -> usize {
        self.swallow
    }

    /// The flag tokens, in request order.
    pub fn flags(&self) -> impl Iterator<Item = &'a [u8]> {
        self.flags.split(|&b| b == b' ').filter(|t| !t.is_empty())
    }
}

/// Parses again a request that [`super::text::parse`] accepted as a meta command
/// (a forwarded one, on its owner shard).
pub fn reparse<'a>(raw: &'a [u8], limits: &Limits) -> MetaRequest<'a> {
    match super::text::parse(raw, limits) {
        Parse::Done(
            Request {
                cmd: Command::Meta(req),
                ..
            },
            _,
        ) => req,
        other => unreachable!("a forwarded meta request parses again: {other:?}"),
    }
}

/// memcached's tokens of a line: split on spaces, at most 23, then the rest as one.
struct Tokens<'a> {
    tok: [&'a [u8]; 24],
    /// memcached's `ntokens`: the tokens plus the terminal one.
    n: usize,
}

impl<'a> Tokens<'a> {
    fn new(line: &'a [u8]) -> Self {
        let mut tok: [&[u8]; 24] = [&[]; 24];
        let mut count = 0;
        for t in line.split(|&b| b == b' ').filter(|t| !t.is_empty()) {
            if count < 24 {
                tok[count] = t;
            }
            count += 1;
            if count > 23 {
                break;
            }
        }
        Tokens {
            tok,
            n: count.min(23) + 1,
        }
    }

    fn get(&self, i: usize) -> &'a [u8] {
        if i + 1 < self.n {
            self.tok[i]
        } else {
            &[]
        }
    }

    /// The line from token `i` to its end.
    fn rest_from(&self, line: &'a [u8], i: usize) -> &'a [u8] {
        if i + 1 >= self.n {
            return &[];
        }
        let start = self.tok[i].as_ptr() as usize - line.as_ptr() as usize;
        &line[start..]
    }
}

fn done<'a>(cmd: Command<'a>, used: usize) -> Parse<'a> {
    Parse::Done(
        Request {
            cmd,
            noreply: false,
        },
        used,
    )
}

fn error(msg: &'static str, used: usize) -> Parse<'static> {
    done(Command::Error(msg), used)
}

/// Parses a meta command whose (NUL- and CRLF-trimmed) line is `line`, `used` bytes of
/// `buf` with its end of line. `cmd` is the command's second byte.
pub fn parse<'a>(buf: &'a [u8], line: &'a [u8], used: usize, limits: &Limits) -> Parse<'a> {
    let t = Tokens::new(line);
    let cmd = match t.get(0) {
        b"mg" => MetaCmd::Get,
        b"ms" => MetaCmd::Set,
        b"md" => MetaCmd::Delete,
        b"ma" => MetaCmd::Arith,
        b"me" => MetaCmd::Debug,
        _ => return error(ERROR, used),
    };
    let key = t.get(1);
    let mut req = MetaRequest {
        raw: &buf[..used],
        cmd,
        key_token: key,
        key_len: 0,
        key_binary: false,
        flags: &[],
        f: MetaFlags {
            delta: 1,
            ..MetaFlags::default()
        },
        data: &[],
        too_large: false,
        bad_chunk: false,
        swallow: 0,
    };
    if cmd == MetaCmd::Debug {
        if t.n < 3 || key.len() > KEY_MAX {
            return error(BAD_FORMAT, used);
        }
        if t.n >= 4 && t.get(2) == b"b" {
            match base64_decode(key, &mut [0; KEY_MAX]) {
                0 => return error(BAD_FORMAT, used),
                n => {
                    req.key_len = n as u8;
                    req.key_binary = true;
                }
            }
        }
        return done(Command::Meta(req), used);
    }
    if t.n < 3 {
        return error(ERROR, used);
    }
    if key.len() > KEY_MAX {
        return error(BAD_FORMAT, used);
    }
    let first_flag = if cmd == MetaCmd::Set { 3 } else { 2 };
    match cmd {
        MetaCmd::Get => {
            if t.n > MAX_OPT_TOKENS {
                return error(MG_FLAGS_TOO_LONG, used);
            }
            req.flags = t.rest_from(line, first_flag);
            if let Err(e) = preparse(&mut req) {
                return error(e, used);
            }
            done(Command::Meta(req), used)
        }
        MetaCmd::Delete | MetaCmd::Arith => {
            if t.n > MAX_OPT_TOKENS {
                return error(FLAGS_TOO_LONG, used);
            }
            req.flags = t.rest_from(line, first_flag);
            if preparse(&mut req).is_err() {
                return error(INVALID_OR_DUP, used);
            }
            if cmd == MetaCmd::Delete {
                if req.flags().any(|f| f[0] == b'O' && f.len() > MAX_OPAQUE) {
                    return error(OPAQUE_TOO_LONG, used);
                }
            } else if !matches!(req.f.mode, 0 | b'I' | b'+' | b'D' | b'-') {
                return error("CLIENT_ERROR invalid mode for ma M token", used);
            }
            done(Command::Meta(req), used)
        }
        MetaCmd::Set => set(buf, &t, line, used, limits, req),
        MetaCmd::Debug => unreachable!(),
    }
}

fn set<'a>(
    buf: &'a [u8],
    t: &Tokens<'a>,
    line: &'a [u8],
    used: usize,
    limits: &Limits,
    mut req: MetaRequest<'a>,
) -> Parse<'a> {
    if t.n == 3 {
        return error(BAD_FORMAT, used);
    }
    if t.n > MAX_OPT_TOKENS {
        return error(FLAGS_TOO_LONG, used);
    }
    let vlen = match strtol(t.get(2)) {
        Some(v) if (0..=i32::MAX - 2).contains(&v) => v as usize,
        _ => return error(BAD_FORMAT, used),
    };
    // From here on an error swallows the data block, as memcached's conn_swallow.
    let swallow = |msg| {
        done(
            Command::ErrorSwallow {
                msg,
                swallow: vlen + 2,
            },
            used,
        )
    };
    req.flags = t.rest_from(line, 3);
    if let Err(e) = preparse(&mut req) {
        return swallow(e);
    }
    let long_opaque = req.flags().any(|f| f[0] == b'O' && f.len() > MAX_OPAQUE);
    if !matches!(req.f.mode, 0 | b'E' | b'A' | b'P' | b'R' | b'S') {
        return swallow("CLIENT_ERROR invalid mode for ms M token");
    }
    if long_opaque {
        return swallow(OPAQUE_TOO_LONG);
    }
    if crate::store::memcached_item_size(req.key_len(), req.f.client_flags, vlen, limits.use_cas)
        > limits.item_size_max
    {
        req.too_large = true;
        req.swallow = vlen + 2;
        return done(Command::Meta(req), used);
    }
    let need = used + vlen + 2;
    if buf.len() < need {
        return Parse::Incomplete { need: Some(need) };
    }
    // memcached reads exactly `datalen + 2` bytes and then checks that they end in CRLF.
    req.bad_chunk = &buf[used + vlen..need] != b"\r\n";
    req.data = &buf[used..used + vlen];
    req.raw = &buf[..need];
    done(Command::Meta(req), need)
}

/// memcached's `_meta_flag_preparse`: reads every flag; a duplicate or unknown flag ends
/// it at once, other errors are remembered (the last message wins) and reading goes on.
fn preparse(req: &mut MetaRequest<'_>) -> Result<(), &'static str> {
    let mut seen = [false; 128];
    let mut err: Option<&'static str> = None;
    let mut msg = BAD_FORMAT;
    let flags = req.flags;
    for tok in flags.split(|&b| b == b' ').filter(|t| !t.is_empty()) {
        let o = tok[0];
        if o >= 127 || seen[o as usize] {
            return Err("CLIENT_ERROR duplicate flag");
        }
        seen[o as usize] = true;
        let arg = &tok[1..];
        let f = &mut req.f;
        match o {
            b'b' => {
                let n = base64_decode(req.key_token, &mut [0; KEY_MAX]);
                req.key_len = n as u8;
                req.key_binary = true;
                if n == 0 {
                    msg = "CLIENT_ERROR error decoding key";
                    err = Some(msg);
                }
            }
            b'N' | b'T' | b'R' => match strtol(arg) {
                Some(v) => match o {
                    b'N' => f.vivify = Some(v),
                    b'T' => f.ttl = Some(v),
                    _ => f.recache = Some(v),
                },
                None => {
                    msg = BAD_TOKEN;
                    err = Some(msg);
                }
            },
            b'l' | b'O' | b'P' | b'L' | b'k' | b's' | b't' | b'c' | b'f' | b'h' => {}
            b'v' => f.value = true,
            b'u' => f.no_update = true,
            b'q' => f.quiet = true,
            b'F' => match strtoul(arg) {
                Some(v) => f.client_flags = v,
                None => err = Some(msg),
            },
            b'C' => match strtoull(arg) {
                Some(v) => {
                    f.cas = v;
                    f.has_cas = true;
                }
                None => {
                    msg = BAD_TOKEN;
                    err = Some(msg);
                }
            },
            b'M' => {
                if tok.len() != 2 {
                    msg = "CLIENT_ERROR incorrect length for M token";
                    err = Some(msg);
                } else {
                    f.mode = tok[1];
                }
            }
            b'J' => match strtoull(arg) {
                Some(v) => f.initial = v,
                None => {
                    msg = "CLIENT_ERROR invalid numeric initial value";
                    err = Some(msg);
                }
            },
            b'D' => match strtoull(arg) {
                Some(v) => f.delta = v,
                None => {
                    msg = "CLIENT_ERROR invalid numeric delta value";
                    err = Some(msg);
                }
            },
            b'I' => f.invalidate = true,
            _ => return Err("CLIENT_ERROR invalid flag"),
        }
    }
    match err {
        // The message is the last one set, which may be an earlier error's.
        Some(_) => Err(msg),
        None => Ok(()),
    }
}

/// The value of a base64 character; 0x80 for bytes outside the alphabet (skipped).
/// `=` counts as a character of value 0, as in memcached's table.
fn b64_value(c: u8) -> u8 {
    match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        b'=' => 0,
        _ => 0x80,
    }
}

/// memcached's `base64_decode` into `out`: the decoded length, 0 when it fails (no
/// characters, a count not a multiple of 4, more than two `=` in the last block). Bytes
/// outside the alphabet are skipped; decoding stops after the first block with padding.
pub fn base64_decode(src: &[u8], out: &mut [u8]) -> usize {
    let count = src.iter().filter(|&&c| b64_value(c) != 0x80).count();
    if count == 0 || count % 4 != 0 || count / 4 * 3 > out.len() {
        return 0;
    }
    let mut pos = 0;
    let mut block = [0u8; 4];
    let mut n = 0;
    let mut pad = 0;
    for &c in src {
        let v = b64_value(c);
        if v == 0x80 {
            continue;
        }
        if c == b'=' {
            pad += 1;
        }
        block[n] = v;
        n += 1;
        if n == 4 {
            out[pos] = (block[0] << 2) | (block[1] >> 4);
            out[pos + 1] = (block[1] << 4) | (block[2] >> 2);
            out[pos + 2] = (block[2] << 6) | block[3];
            pos += 3;
            n = 0;
            if pad > 0 {
                match pad {
                    1 => pos -= 1,
                    2 => pos -= 2,
                    _ => return 0,
                }
                break;
            }
        }
    }
    pos
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends the base64 encoding of `src` (memcached's `base64_encode`, with padding).
pub fn base64_encode(src: &[u8], out: &mut Vec<u8>) {
    let mut chunks = src.chunks_exact(3);
    for c in &mut chunks {
        out.extend_from_slice(&[
            B64[(c[0] >> 2) as usize],
            B64[(((c[0] & 3) << 4) | (c[1] >> 4)) as usize],
            B64[(((c[1] & 0x0f) << 2) | (c[2] >> 6)) as usize],
            B64[(c[2] & 0x3f) as usize],
        ]);
    }
    match *chunks.remainder() {
        [a] => out.extend_from_slice(&[
            B64[(a >> 2) as usize],
            B64[((a & 3) << 4) as usize],
            b'=',
            b'=',
        ]),
        [a, b] => out.extend_from_slice(&[
            B64[(a >> 2) as usize],
            B64[(((a & 3) << 4) | (b >> 4)) as usize],
            B64[((b & 0x0f) << 2) as usize],
            b'=',
        ]),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
