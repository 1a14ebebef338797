//! Wire protocols the generator can speak: memcached's text protocol
//! ([`Text`]), its binary protocol ([`Binary`]) and its meta protocol
//! ([`Meta`]). Encoding appends to a reused buffer and parsing works in place
//! on the read buffer, so neither allocates.

use crate::keys::push_u64;
use memchr::memchr;

/// What one reply said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A retrieval that returned at least one value.
    Hit,
    /// A retrieval that returned no value.
    Miss,
    /// A storage command that stored.
    Stored,
    /// A storage command that did not store (NOT_STORED, EXISTS, NOT_FOUND).
    NotStored,
    /// ERROR, CLIENT_ERROR, SERVER_ERROR or a line we do not understand.
    Error,
    /// Bytes that cannot be framed (a binary reply without the response
    /// magic, or one answering another request): the stream is out of step
    /// and the run stops.
    Garbage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub kind: Kind,
    pub keys_hit: u32,
    pub keys_miss: u32,
}

/// Encodes requests and parses replies for one connection. One instance per
/// connection, so a protocol whose replies span several frames (binary
/// multi-get: GETKQ... NOOP) can keep state between calls.
pub trait Protocol {
    /// Appends a storage request for key `prefix` + `key` to `out`.
    fn encode_set(
        &mut self,
        out: &mut Vec<u8>,
        prefix: &[u8],
        key: u64,
        value: &[u8],
        exptime: u32,
    );

    /// Appends one retrieval request for keys `prefix` + `keys[i]` to `out`.
    fn encode_get(&mut self, out: &mut Vec<u8>, prefix: &[u8], keys: &[u64]);

    /// Parses the reply at the start of `buf`. `keys` is how many keys the
    /// request it answers asked for (1 for a set), so misses in a multi-key
    /// reply can be counted. Returns the bytes consumed and the outcome, or
    /// `None` when `buf` does not hold a whole reply yet.
    fn parse_reply(&mut self, buf: &[u8], keys: u32) -> Option<(usize, Outcome)>;
}

/// memcached's text protocol: `set` and `get`.
#[derive(Default)]
pub struct Text;

#[inline]
fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    memchr(b'\n', &buf[from..]).map(|i| from + i + 1)
}

/// Parses the `<bytes>` field of `VALUE <key> <flags> <bytes> [<cas>]\r\n`.
fn value_len(line: &[u8]) -> Option<usize> {
    let mut fields = line
        .split(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .filter(|f| !f.is_empty());
    fields.next()?; // VALUE
    fields.next()?; // key
    fields.next()?; // flags
    let n = fields.next()?;
    if n.is_empty() || n.len() > 19 {
        return None;
    }
    let mut v = 0usize;
    for &d in n {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (d - b'0') as usize;
    }
    Some(v)
}

impl Protocol for Text {
    #[inline]
    fn encode_set(
        &mut self,
        out: &mut Vec<u8>,
        prefix: &[u8],
        key: u64,
        value: &[u8],
        exptime: u32,
    ) {
        out.extend_from_slice(b"set ");
        out.extend_from_slice(prefix);
        push_u64(out, key);
        out.extend_from_slice(b" 0 ");
        push_u64(out, exptime as u64);
        out.push(b' ');
        push_u64(out, value.len() as u64);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }

    #[inline]
    fn encode_get(&mut self, out: &mut Vec<u8>, prefix: &[u8], keys: &[u64]) {
        out.extend_from_slice(b"get");
        for &k in keys {
            out.push(b' ');
            out.extend_from_slice(prefix);
            push_u64(out, k);
        }
        out.extend_from_slice(b"\r\n");
    }

    #[inline]
    fn parse_reply(&mut self, buf: &[u8], keys: u32) -> Option<(usize, Outcome)> {
        let first = line_end(buf, 0)?;
        let simple = |kind| {
            Some((
                first,
                Outcome {
                    kind,
                    keys_hit: 0,
                    keys_miss: 0,
                },
            ))
        };
        match buf[0] {
            b'S' if buf.starts_with(b"STORED\r\n") => return simple(Kind::Stored),
            b'E' if buf.starts_with(b"END\r\n") => {
                return Some((
                    first,
                    Outcome {
                        kind: Kind::Miss,
                        keys_hit: 0,
                        keys_miss: keys,
                    },
                ))
            }
            b'V' if buf.starts_with(b"VALUE ") => {}
            _ => {
                let line = &buf[..first];
                return if line.starts_with(b"NOT_STORED")
                    || line.starts_with(b"EXISTS")
                    || line.starts_with(b"NOT_FOUND")
                {
                    simple(Kind::NotStored)
                } else {
                    simple(Kind::Error)
                };
            }
        }
        // VALUE blocks until END.
        let mut pos = 0usize;
        let mut hits = 0u32;
        loop {
            let end = line_end(buf, pos)?;
            let line = &buf[pos..end];
            if line.starts_with(b"VALUE ") {
                let Some(n) = value_len(line) else {
                    return Some((
                        end,
                        Outcome {
                            kind: Kind::Error,
                            keys_hit: hits,
                            keys_miss: 0,
                        },
                    ));
                };
                let next = end + n + 2;
                if buf.len() < next {
                    return None;
                }
                hits += 1;
                pos = next;
            } else if line.starts_with(b"END\r\n") {
                return Some((
                    end,
                    Outcome {
                        kind: if hits > 0 { Kind::Hit } else { Kind::Miss },
                        keys_hit: hits,
                        keys_miss: keys.saturating_sub(hits),
                    },
                ));
            } else {
                // An error line in the middle of a retrieval reply.
                return Some((
                    end,
                    Outcome {
                        kind: Kind::Error,
                        keys_hit: hits,
                        keys_miss: 0,
                    },
                ));
            }
        }
    }
}

/// Parses the decimal number at the start of `s` (up to 19 digits), ending at
/// a space, `\r` or the end of `s`.
#[inline]
fn leading_number(s: &[u8]) -> Option<usize> {
    let mut v = 0usize;
    let mut n = 0usize;
    for &d in s {
        if d == b' ' || d == b'\r' {
            break;
        }
        if !d.is_ascii_digit() || n == 19 {
            return None;
        }
        v = v * 10 + (d - b'0') as usize;
        n += 1;
    }
    (n > 0).then_some(v)
}

#[inline]
fn outcome(kind: Kind, keys_hit: u32, keys_miss: u32) -> Outcome {
    Outcome {
        kind,
        keys_hit,
        keys_miss,
    }
}

/// The end of a multi-key reply: hits and misses, or an error when any part
/// of it was one.
#[inline]
fn multi_outcome(hits: u32, keys: u32, errors: bool) -> Outcome {
    if errors {
        outcome(Kind::Error, hits, 0)
    } else if hits > 0 {
        outcome(Kind::Hit, hits, keys.saturating_sub(hits))
    } else {
        outcome(Kind::Miss, 0, keys)
    }
}

/// memcached's binary protocol.
///
/// * set: SET (0x01) with 8 bytes of extras (flags 0, expiry);
/// * single-key get: GET (0x00); status 0 is a hit, status 1 (Key not found)
///   a miss;
/// * multi-key get: one GETKQ (0x0d) per key, then a NOOP (0x0a). Only hits
///   are answered (GETKQ is quiet on a miss), and the NOOP's reply ends the
///   batch, so misses = keys asked - GETKQ replies.
///
/// Every request carries an opaque, counted per connection; a reply whose
/// opaque is not the one of the oldest outstanding request means the stream
/// is out of step, and is reported as [`Kind::Garbage`].
#[derive(Default)]
pub struct Binary {
    /// Opaque of the next request to encode.
    sent: u32,
    /// Opaque of the request the next reply answers.
    answered: u32,
}

pub const BIN_REQ: u8 = 0x80;
pub const BIN_RES: u8 = 0x81;
pub const BIN_GET: u8 = 0x00;
pub const BIN_SET: u8 = 0x01;
pub const BIN_NOOP: u8 = 0x0a;
pub const BIN_GETKQ: u8 = 0x0d;
const BIN_HEADER: usize = 24;

/// Appends one binary request whose key is `prefix` + `key`: the header with
/// zero key and body lengths, the extras, the key, the value; then patches
/// the lengths once the key's length is known.
#[inline]
fn bin_request(
    out: &mut Vec<u8>,
    opcode: u8,
    opaque: u32,
    extras: &[u8],
    key: Option<(&[u8], u64)>,
    value: &[u8],
) {
    let start = out.len();
    let o = opaque.to_be_bytes();
    #[rustfmt::skip]
    out.extend_from_slice(&[
        BIN_REQ, opcode, 0, 0, // magic, opcode, key length
        extras.len() as u8, 0, 0, 0, // extras length, data type, vbucket
        0, 0, 0, 0, // total body length
        o[0], o[1], o[2], o[3], // opaque
        0, 0, 0, 0, 0, 0, 0, 0, // cas
    ]);
    out.extend_from_slice(extras);
    let key_start = out.len();
    if let Some((prefix, k)) = key {
        out.extend_from_slice(prefix);
        push_u64(out, k);
    }
    let key_len = out.len() - key_start;
    out.extend_from_slice(value);
    let body = (out.len() - start - BIN_HEADER) as u32;
    out[start + 2..start + 4].copy_from_slice(&(key_len as u16).to_be_bytes());
    out[start + 8..start + 12].copy_from_slice(&body.to_be_bytes());
}

/// One binary reply frame's header fields.
struct Frame {
    end: usize,
    opcode: u8,
    status: u16,
    opaque: u32,
}

/// Frames the reply starting at `at`: `Ok(None)` when it is not all there
/// yet, `Err(())` when it does not start with the response magic.
#[inline]
fn bin_frame(buf: &[u8], at: usize) -> Result<Option<Frame>, ()> {
    let Some(h) = buf.get(at..at + BIN_HEADER) else {
        return if buf.len() > at && buf[at] != BIN_RES {
            Err(())
        } else {
            Ok(None)
        };
    };
    if h[0] != BIN_RES {
        return Err(());
    }
    let body = u32::from_be_bytes([h[8], h[9], h[10], h[11]]) as usize;
    let end = at + BIN_HEADER + body;
    if buf.len() < end {
        return Ok(None);
    }
    Ok(Some(Frame {
        end,
        opcode: h[1],
        status: u16::from_be_bytes([h[6], h[7]]),
        opaque: u32::from_be_bytes([h[12], h[13], h[14], h[15]]),
    }))
}

impl Protocol for Binary {
    #[inline]
    fn encode_set(
        &mut self,
        out: &mut Vec<u8>,
        prefix: &[u8],
        key: u64,
        value: &[u8],
        exptime: u32,
    ) {
        let e = exptime.to_be_bytes();
        let extras = [0, 0, 0, 0, e[0], e[1], e[2], e[3]];
        bin_request(out, BIN_SET, self.sent, &extras, Some((prefix, key)), value);
        self.sent = self.sent.wrapping_add(1);
    }

    #[inline]
    fn encode_get(&mut self, out: &mut Vec<u8>, prefix: &[u8], keys: &[u64]) {
        if let [k] = keys {
            bin_request(out, BIN_GET, self.sent, &[], Some((prefix, *k)), &[]);
        } else {
            for &k in keys {
                bin_request(out, BIN_GETKQ, self.sent, &[], Some((prefix, k)), &[]);
            }
            bin_request(out, BIN_NOOP, self.sent, &[], None, &[]);
        }
        self.sent = self.sent.wrapping_add(1);
    }

    #[inline]
    fn parse_reply(&mut self, buf: &[u8], keys: u32) -> Option<(usize, Outcome)> {
        let garbage = Some((0, outcome(Kind::Garbage, 0, 0)));
        let f = match bin_frame(buf, 0) {
            Err(()) => return garbage,
            Ok(f) => f?,
        };
        if f.opaque != self.answered {
            return garbage;
        }
        if keys <= 1 {
            let out = match (f.opcode, f.status) {
                (BIN_GET, 0) => outcome(Kind::Hit, 1, 0),
                (BIN_GET, 1) => outcome(Kind::Miss, 0, 1),
                (BIN_SET, 0) => outcome(Kind::Stored, 0, 0),
                // Key not found, key exists, not stored.
                (BIN_SET, 1 | 2 | 5) => outcome(Kind::NotStored, 0, 0),
                _ => outcome(Kind::Error, 0, 0),
            };
            self.answered = self.answered.wrapping_add(1);
            return Some((f.end, out));
        }
        // GETKQ hits (and any errors), then the NOOP. Each of the keys + 1
        // requests gets at most one reply, so a batch without a NOOP reply
        // among them ends after keys + 1 frames, as an error.
        let (mut hits, mut errors) = (0u32, false);
        let mut f = f;
        let mut frames = 1u32;
        loop {
            match (f.opcode, f.status) {
                (BIN_NOOP, 0) => {
                    self.answered = self.answered.wrapping_add(1);
                    return Some((f.end, multi_outcome(hits, keys, errors)));
                }
                (BIN_GETKQ, 0) => hits += 1,
                (BIN_GETKQ, 1) => {}
                _ => errors = true,
            }
            if frames > keys {
                self.answered = self.answered.wrapping_add(1);
                return Some((f.end, outcome(Kind::Error, hits, 0)));
            }
            let next = match bin_frame(buf, f.end) {
                Err(()) => return garbage,
                Ok(n) => n?,
            };
            if next.opaque != self.answered {
                return garbage;
            }
            f = next;
            frames += 1;
        }
    }
}

/// memcached's meta protocol.
///
/// * set: `ms <key> <len> F0 T<exptime>`; `HD` is stored, `NS`/`EX`/`NF` not
///   stored;
/// * single-key get: `mg <key> v f`; `VA <len> f<flags>` + data is a hit,
///   `EN` a miss;
/// * multi-key get: `mg <key> q k v` per key, then `mn`. Quiet mode drops the
///   `EN` of a miss, so the reply is one `VA` block per hit and `MN`, and
///   misses = keys asked - `VA` blocks.
#[derive(Default)]
pub struct Meta;

/// What one meta reply line is.
#[derive(PartialEq, Eq)]
enum MetaLine {
    /// `VA <len> ...`: a value of this many bytes follows.
    Value(usize),
    Stored,
    NotStored,
    Miss,
    End,
    Error,
}

#[inline]
fn meta_line(line: &[u8]) -> MetaLine {
    let code = |c: &[u8]| line.starts_with(c) && matches!(line.get(2), Some(b' ' | b'\r' | b'\n'));
    match line.first() {
        Some(b'V') if line.starts_with(b"VA ") => match leading_number(&line[3..]) {
            Some(n) => MetaLine::Value(n),
            None => MetaLine::Error,
        },
        Some(b'H') if code(b"HD") => MetaLine::Stored,
        Some(b'E') if code(b"EN") => MetaLine::Miss,
        Some(b'M') if code(b"MN") => MetaLine::End,
        _ if code(b"NS") || code(b"EX") || code(b"NF") => MetaLine::NotStored,
        _ => MetaLine::Error,
    }
}

impl Protocol for Meta {
    #[inline]
    fn encode_set(
        &mut self,
        out: &mut Vec<u8>,
        prefix: &[u8],
        key: u64,
        value: &[u8],
        exptime: u32,
    ) {
        out.extend_from_slice(b"ms ");
        out.extend_from_slice(prefix);
        push_u64(out, key);
        out.push(b' ');
        push_u64(out, value.len() as u64);
        out.extend_from_slice(b" F0 T");
        push_u64(out, exptime as u64);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }

    #[inline]
    fn encode_get(&mut self, out: &mut Vec<u8>, prefix: &[u8], keys: &[u64]) {
        if let [k] = keys {
            out.extend_from_slice(b"mg ");
            out.extend_from_slice(prefix);
            push_u64(out, *k);
            out.extend_from_slice(b" v f\r\n");
        } else {
            for &k in keys {
                out.extend_from_slice(b"mg ");
                out.extend_from_slice(prefix);
                push_u64(out, k);
                out.extend_from_slice(b" q k v\r\n");
            }
            out.extend_from_slice(b"mn\r\n");
        }
    }

    #[inline]
    fn parse_reply(&mut self, buf: &[u8], keys: u32) -> Option<(usize, Outcome)> {
        let first = line_end(buf, 0)?;
        if keys <= 1 {
            let out = match meta_line(&buf[..first]) {
                MetaLine::Value(n) => {
                    let end = first + n + 2;
                    if buf.len() < end {
                        return None;
                    }
                    return Some((end, outcome(Kind::Hit, 1, 0)));
                }
                MetaLine::Stored => outcome(Kind::Stored, 0, 0),
                MetaLine::NotStored => outcome(Kind::NotStored, 0, 0),
                MetaLine::Miss => outcome(Kind::Miss, 0, keys),
                MetaLine::End | MetaLine::Error => outcome(Kind::Error, 0, 0),
            };
            return Some((first, out));
        }
        // VA blocks (and any errors), then MN; at most keys + 1 replies.
        let (mut pos, mut hits, mut errors, mut replies) = (0usize, 0u32, false, 0u32);
        loop {
            let end = line_end(buf, pos)?;
            replies += 1;
            match meta_line(&buf[pos..end]) {
                MetaLine::End => return Some((end, multi_outcome(hits, keys, errors))),
                MetaLine::Value(n) => {
                    let next = end + n + 2;
                    if buf.len() < next {
                        return None;
                    }
                    hits += 1;
                    pos = next;
                }
                MetaLine::Miss => pos = end,
                MetaLine::Stored | MetaLine::NotStored | MetaLine::Error => {
                    errors = true;
                    pos = end;
                }
            }
            if replies > keys {
                return Some((pos, outcome(Kind::Error, hits, 0)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes() {
        let mut p = Text;
        let mut o = Vec::new();
        p.encode_set(&mut o, b"k-", 42, b"abc", 7);
        p.encode_get(&mut o, b"k-", &[1, 2]);
        assert_eq!(o, b"set k-42 0 7 3\r\nabc\r\nget k-1 k-2\r\n");
    }

    #[test]
    fn parses() {
        let mut p = Text;
        let r = b"VALUE k-1 0 3\r\nabc\r\nEND\r\nSTORED\r\nEND\r\nSERVER_ERROR x\r\n";
        let (n, o) = p.parse_reply(r, 2).unwrap();
        assert_eq!(o.kind, Kind::Hit);
        assert_eq!((o.keys_hit, o.keys_miss), (1, 1));
        let (m, o) = p.parse_reply(&r[n..], 1).unwrap();
        assert_eq!(o.kind, Kind::Stored);
        let (k, o) = p.parse_reply(&r[n + m..], 1).unwrap();
        assert_eq!(o.kind, Kind::Miss);
        let (_, o) = p.parse_reply(&r[n + m + k..], 1).unwrap();
        assert_eq!(o.kind, Kind::Error);
        for cut in 0..n {
            assert!(p.parse_reply(&r[..cut], 2).is_none(), "cut {cut}");
        }
    }
}

#[cfg(test)]
mod binary_tests {
    use super::*;

    /// A response header: magic, opcode, key length, extras length, status,
    /// body length, opaque; cas 0.
    fn res(opcode: u8, keylen: u16, extlen: u8, status: u16, body: &[u8], opaque: u32) -> Vec<u8> {
        let mut v = vec![BIN_RES, opcode];
        v.extend_from_slice(&keylen.to_be_bytes());
        v.push(extlen);
        v.push(0);
        v.extend_from_slice(&status.to_be_bytes());
        v.extend_from_slice(&(body.len() as u32).to_be_bytes());
        v.extend_from_slice(&opaque.to_be_bytes());
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn encodes_set_and_get() {
        let mut p = Binary::default();
        let mut o = Vec::new();
        p.encode_set(&mut o, b"k-", 42, b"abc", 7);
        #[rustfmt::skip]
        let set: &[u8] = &[
            0x80, 0x01, 0x00, 0x04, // magic, SET, key length 4
            0x08, 0x00, 0x00, 0x00, // extras 8, raw bytes, vbucket 0
            0x00, 0x00, 0x00, 0x0f, // body 8 + 4 + 3
            0x00, 0x00, 0x00, 0x00, // opaque 0
            0, 0, 0, 0, 0, 0, 0, 0, // cas
            0, 0, 0, 0, 0, 0, 0, 7, // flags 0, expiry 7
            b'k', b'-', b'4', b'2', b'a', b'b', b'c',
        ];
        assert_eq!(o, set);
        o.clear();
        p.encode_get(&mut o, b"k-", &[1]);
        #[rustfmt::skip]
        let get: &[u8] = &[
            0x80, 0x00, 0x00, 0x03, // magic, GET, key length 3
            0, 0, 0, 0,
            0x00, 0x00, 0x00, 0x03, // body: the key
            0x00, 0x00, 0x00, 0x01, // opaque 1
            0, 0, 0, 0, 0, 0, 0, 0,
            b'k', b'-', b'1',
        ];
        assert_eq!(o, get);
    }

    #[test]
    fn encodes_multi_get() {
        let mut p = Binary::default();
        let mut o = Vec::new();
        p.encode_get(&mut o, b"k", &[5, 10]);
        #[rustfmt::skip]
        let want: &[u8] = &[
            0x80, 0x0d, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            b'k', b'5',
            0x80, 0x0d, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            b'k', b'1', b'0',
            0x80, 0x0a, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(o, want);
    }

    #[test]
    fn parses_single() {
        let mut p = Binary::default();
        let mut r = res(BIN_SET, 0, 0, 0, b"", 0);
        r.extend(res(BIN_GET, 0, 4, 0, b"\0\0\0\0abc", 1));
        r.extend(res(BIN_GET, 0, 0, 1, b"Not found", 2));
        r.extend(res(BIN_SET, 0, 0, 5, b"Not stored", 3));
        r.extend(res(BIN_GET, 0, 0, 0x81, b"Unknown command", 4));
        let want = [
            (Kind::Stored, 0, 0),
            (Kind::Hit, 1, 0),
            (Kind::Miss, 0, 1),
            (Kind::NotStored, 0, 0),
            (Kind::Error, 0, 0),
        ];
        let mut pos = 0;
        for (i, w) in want.into_iter().enumerate() {
            for cut in pos..pos + 24 {
                assert!(p.parse_reply(&r[pos..cut], 1).is_none(), "{i} cut {cut}");
            }
            let (n, o) = p.parse_reply(&r[pos..], 1).unwrap();
            assert_eq!((o.kind, o.keys_hit, o.keys_miss), w, "reply {i}");
            pos += n;
        }
        assert_eq!(pos, r.len());
    }

    #[test]
    fn parses_multi_get() {
        let mut p = Binary::default();
        // Two of three keys hit, then the NOOP; then a batch of all misses.
        let mut r = res(BIN_GETKQ, 2, 4, 0, b"\0\0\0\0k1abc", 0);
        r.extend(res(BIN_GETKQ, 2, 4, 0, b"\0\0\0\0k3xy", 0));
        r.extend(res(BIN_NOOP, 0, 0, 0, b"", 0));
        let first = r.len();
        r.extend(res(BIN_NOOP, 0, 0, 0, b"", 1));
        for cut in 0..first {
            assert!(p.parse_reply(&r[..cut], 3).is_none(), "cut {cut}");
        }
        let (n, o) = p.parse_reply(&r, 3).unwrap();
        assert_eq!(
            (n, o.kind, o.keys_hit, o.keys_miss),
            (first, Kind::Hit, 2, 1)
        );
        let (m, o) = p.parse_reply(&r[n..], 3).unwrap();
        assert_eq!((o.kind, o.keys_hit, o.keys_miss), (Kind::Miss, 0, 3));
        assert_eq!(n + m, r.len());
    }

    #[test]
    fn multi_get_without_noop_reply_ends_as_an_error() {
        let mut p = Binary::default();
        let mut r = Vec::new();
        for _ in 0..3 {
            r.extend(res(BIN_GETKQ, 0, 0, 0x81, b"Unknown command", 0));
        }
        let (n, o) = p.parse_reply(&r, 2).unwrap();
        assert_eq!((n, o.kind), (r.len(), Kind::Error));
    }

    #[test]
    fn out_of_step_replies_are_garbage() {
        let mut p = Binary::default();
        assert_eq!(
            p.parse_reply(b"ERROR\r\n", 1).unwrap().1.kind,
            Kind::Garbage
        );
        assert_eq!(p.parse_reply(b"E", 1).unwrap().1.kind, Kind::Garbage);
        // Opaque 1 while the reply to request 0 is due.
        let r = res(BIN_GET, 0, 0, 1, b"", 1);
        assert_eq!(
            p.parse_reply(&r, 1).unwrap(),
            (0, outcome(Kind::Garbage, 0, 0))
        );
    }
}

#[cfg(test)]
mod meta_tests {
    use super::*;

    #[test]
    fn encodes() {
        let mut p = Meta;
        let mut o = Vec::new();
        p.encode_set(&mut o, b"k-", 42, b"abc", 7);
        p.encode_get(&mut o, b"k-", &[1]);
        p.encode_get(&mut o, b"k-", &[1, 22]);
        assert_eq!(
            o,
            b"ms k-42 3 F0 T7\r\nabc\r\nmg k-1 v f\r\nmg k-1 q k v\r\nmg k-22 q k v\r\nmn\r\n"
        );
    }

    #[test]
    fn parses_single() {
        let mut p = Meta;
        let r = b"HD\r\nVA 3 f0\r\nabc\r\nEN\r\nNS\r\nEX\r\nNF\r\nCLIENT_ERROR bad\r\nERROR\r\n";
        let want = [
            (Kind::Stored, 0, 0),
            (Kind::Hit, 1, 0),
            (Kind::Miss, 0, 1),
            (Kind::NotStored, 0, 0),
            (Kind::NotStored, 0, 0),
            (Kind::NotStored, 0, 0),
            (Kind::Error, 0, 0),
            (Kind::Error, 0, 0),
        ];
        let mut pos = 0;
        for (i, w) in want.into_iter().enumerate() {
            let (n, o) = p.parse_reply(&r[pos..], 1).unwrap();
            for cut in pos..pos + n {
                assert!(p.parse_reply(&r[pos..cut], 1).is_none(), "{i} cut {cut}");
            }
            assert_eq!((o.kind, o.keys_hit, o.keys_miss), w, "reply {i}");
            pos += n;
        }
        assert_eq!(pos, r.len());
    }

    #[test]
    fn parses_multi_get() {
        let mut p = Meta;
        let r = b"VA 3 kk-1\r\nabc\r\nVA 0 kk-3\r\n\r\nMN\r\nMN\r\n";
        let first = r.len() - 4;
        for cut in 0..first {
            assert!(p.parse_reply(&r[..cut], 3).is_none(), "cut {cut}");
        }
        let (n, o) = p.parse_reply(r, 3).unwrap();
        assert_eq!(
            (n, o.kind, o.keys_hit, o.keys_miss),
            (first, Kind::Hit, 2, 1)
        );
        let (_, o) = p.parse_reply(&r[n..], 3).unwrap();
        assert_eq!((o.kind, o.keys_hit, o.keys_miss), (Kind::Miss, 0, 3));
    }

    #[test]
    fn multi_get_to_a_server_without_meta_ends_as_an_error() {
        let mut p = Meta;
        let r = b"ERROR\r\nERROR\r\nERROR\r\nEND\r\n";
        let (n, o) = p.parse_reply(r, 2).unwrap();
        assert_eq!((n, o.kind), (r.len() - 5, Kind::Error));
    }
}
