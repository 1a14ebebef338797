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

use super::base64::base64_decode;
#[cfg(test)]
use super::base64::base64_encode;
use super::tokens::{line_before, Tokens};
use super::{
    Command, Limits, MetaCmd, MetaFlags, MetaRequest, Parse, Request, BAD_FORMAT, ERROR, KEY_MAX,
};
use crate::num::{strtol, strtoul, strtoull};

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

/// Parses again a request that [`super::text::parse`] accepted as a meta command
/// (a forwarded one, on its owner shard).
pub fn reparse<'a>(raw: &'a [u8], limits: &Limits) -> MetaRequest<'a> {
    let nl = memchr::memchr(b'\n', raw).expect("a forwarded meta request is a whole line");
    let line = line_before(raw, nl);
    let mut t = Tokens::empty(line);
    t.split(line);
    match parse(raw, &line[..t.len], &t, nl + 1, limits) {
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

/// Parses a meta command whose (NUL- and CRLF-trimmed) line is `line`, split into `t`,
/// `used` bytes of `buf` with its end of line.
pub fn parse<'a>(
    buf: &'a [u8],
    line: &'a [u8],
    t: &Tokens<'a>,
    used: usize,
    limits: &Limits,
) -> Parse<'a> {
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
        MetaCmd::Set => set(buf, t, line, used, limits, req),
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
    if super::memcached_item_size(req.key_len(), req.f.client_flags, vlen, limits.use_cas)
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

#[cfg(test)]
mod tests;
