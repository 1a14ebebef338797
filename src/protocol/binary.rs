//! memcached's binary protocol (memcached 1.6 `proto_bin.c`, `protocol_binary.h`). Pure.
//!
//! A request is a 24-byte header (magic, opcode, key length, extras length, data type,
//! reserved, total body length, opaque, CAS) and a body of extras, key and value. Like
//! memcached, a packet is looked at once its header, extras and key are buffered: the
//! header's lengths are checked for the opcode, and only a storage command's (or SASL's)
//! value is read into the buffer; any other body bytes, and a value too large to store, are
//! discarded as they arrive (memcached's `conn_swallow`), never buffered.

use super::{memcached_item_size, Limits};

/// A request packet's magic byte; a connection whose first byte is this speaks binary.
pub const REQ_MAGIC: u8 = 0x80;
/// A response packet's magic byte.
pub const RES_MAGIC: u8 = 0x81;
/// The fixed header of every packet.
pub const HEADER_LEN: usize = 24;
/// The longest key memcached stores (binary keys may be 64 KiB long on the wire).
pub const KEY_MAX: usize = super::KEY_MAX;
/// memcached's `MAX_SASL_MECH_LEN`.
pub const SASL_MECH_MAX: usize = 32;

// Opcodes.
pub const GET: u8 = 0x00;
pub const SET: u8 = 0x01;
pub const ADD: u8 = 0x02;
pub const REPLACE: u8 = 0x03;
pub const DELETE: u8 = 0x04;
pub const INCREMENT: u8 = 0x05;
pub const DECREMENT: u8 = 0x06;
pub const QUIT: u8 = 0x07;
pub const FLUSH: u8 = 0x08;
pub const GETQ: u8 = 0x09;
pub const NOOP: u8 = 0x0a;
pub const VERSION: u8 = 0x0b;
pub const GETK: u8 = 0x0c;
pub const GETKQ: u8 = 0x0d;
pub const APPEND: u8 = 0x0e;
pub const PREPEND: u8 = 0x0f;
pub const STAT: u8 = 0x10;
pub const SETQ: u8 = 0x11;
pub const ADDQ: u8 = 0x12;
pub const REPLACEQ: u8 = 0x13;
pub const DELETEQ: u8 = 0x14;
pub const INCREMENTQ: u8 = 0x15;
pub const DECREMENTQ: u8 = 0x16;
pub const QUITQ: u8 = 0x17;
pub const FLUSHQ: u8 = 0x18;
pub const APPENDQ: u8 = 0x19;
pub const PREPENDQ: u8 = 0x1a;
pub const VERBOSITY: u8 = 0x1b;
pub const TOUCH: u8 = 0x1c;
pub const GAT: u8 = 0x1d;
pub const GATQ: u8 = 0x1e;
pub const SASL_LIST_MECHS: u8 = 0x20;
pub const SASL_AUTH: u8 = 0x21;
pub const SASL_STEP: u8 = 0x22;
pub const GATK: u8 = 0x23;
pub const GATKQ: u8 = 0x24;

// Response status codes.
pub const SUCCESS: u16 = 0x00;
pub const KEY_ENOENT: u16 = 0x01;
pub const KEY_EEXISTS: u16 = 0x02;
pub const E2BIG: u16 = 0x03;
pub const EINVAL: u16 = 0x04;
pub const NOT_STORED: u16 = 0x05;
pub const DELTA_BADVAL: u16 = 0x06;
pub const AUTH_ERROR: u16 = 0x20;
pub const AUTH_CONTINUE: u16 = 0x21;
pub const UNKNOWN_COMMAND: u16 = 0x81;
pub const ENOMEM: u16 = 0x82;

/// memcached's generic message body for an error status (`write_bin_error`).
pub fn status_message(status: u16) -> &'static str {
    match status {
        ENOMEM => "Out of memory",
        UNKNOWN_COMMAND => "Unknown command",
        KEY_ENOENT => "Not found",
        EINVAL => "Invalid arguments",
        KEY_EEXISTS => "Data exists for key.",
        E2BIG => "Too large.",
        DELTA_BADVAL => "Non-numeric server-side value for incr or decr",
        NOT_STORED => "Not stored.",
        AUTH_ERROR => "Auth failure.",
        _ => "UNHANDLED ERROR",
    }
}

/// A parsed binary request: header fields and the body's parts, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinRequest<'a> {
    /// The whole packet (header and body). Forwarding sends these bytes and the owner
    /// parses them again with [`reparse`]. For a value too large to store it is the header,
    /// extras and key only (see [`BinRequest::truncated`]).
    pub raw: &'a [u8],
    pub opcode: u8,
    pub opaque: u32,
    pub cas: u64,
    pub extras: &'a [u8],
    pub key: &'a [u8],
    pub value: &'a [u8],
}

impl BinRequest<'_> {
    /// The header's total body length.
    pub fn body_len(&self) -> usize {
        body_len(self.raw)
    }

    /// The value was too large to store and was not read (it is being discarded): the
    /// request answers "Too large.".
    pub fn truncated(&self) -> bool {
        self.raw.len() < HEADER_LEN + self.body_len()
    }

    /// The extras' big-endian u32 at byte `at`.
    pub fn ext_u32(&self, at: usize) -> u32 {
        u32::from_be_bytes(self.extras[at..at + 4].try_into().unwrap())
    }

    /// The extras' big-endian u64 at byte `at`.
    pub fn ext_u64(&self, at: usize) -> u64 {
        u64::from_be_bytes(self.extras[at..at + 8].try_into().unwrap())
    }
}

fn key_len(h: &[u8]) -> usize {
    u16::from_be_bytes([h[2], h[3]]) as usize
}

fn body_len(h: &[u8]) -> usize {
    u32::from_be_bytes(h[8..12].try_into().unwrap()) as usize
}

/// Parses again a packet that the connection accepted (a forwarded one, on its owner).
pub fn reparse(raw: &[u8]) -> BinRequest<'_> {
    let klen = key_len(raw);
    let elen = raw[4] as usize;
    let body = &raw[HEADER_LEN..];
    BinRequest {
        raw,
        opcode: raw[1],
        opaque: u32::from_be_bytes(raw[12..16].try_into().unwrap()),
        cas: u64::from_be_bytes(raw[16..24].try_into().unwrap()),
        extras: &body[..elen],
        key: &body[elen..elen + klen],
        value: &body[elen + klen..],
    }
}

/// Whether an opcode is a quiet one (its success is not answered; a get's miss neither).
pub fn is_quiet(opcode: u8) -> bool {
    matches!(
        opcode,
        GETQ | GETKQ
            | SETQ
            | ADDQ
            | REPLACEQ
            | DELETEQ
            | INCREMENTQ
            | DECREMENTQ
            | QUITQ
            | FLUSHQ
            | APPENDQ
            | PREPENDQ
            | GATQ
            | GATKQ
    )
}

/// The loud form of an opcode (memcached handles a quiet command as its loud form with
/// `noreply` set; responses still carry the opcode the client sent).
pub fn loud(opcode: u8) -> u8 {
    match opcode {
        GETQ => GET,
        GETKQ => GETK,
        SETQ => SET,
        ADDQ => ADD,
        REPLACEQ => REPLACE,
        DELETEQ => DELETE,
        INCREMENTQ => INCREMENT,
        DECREMENTQ => DECREMENT,
        QUITQ => QUIT,
        FLUSHQ => FLUSH,
        APPENDQ => APPEND,
        PREPENDQ => PREPEND,
        GATQ => GAT,
        GATKQ => GATK,
        op => op,
    }
}

/// Whether an opcode (loud form) is a command on one key, run by the key's owner.
pub fn is_key_op(opcode: u8) -> bool {
    matches!(
        loud(opcode),
        GET | GETK
            | SET
            | ADD
            | REPLACE
            | DELETE
            | INCREMENT
            | DECREMENT
            | APPEND
            | PREPEND
            | TOUCH
            | GAT
            | GATK
    )
}

/// What to do with a packet whose header, extras and key are buffered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Well formed for its opcode.
    Valid,
    /// Extras and key are longer than the body: "Unknown command", then close.
    Inconsistent,
    /// A key over 250 bytes: "Invalid arguments", then close.
    KeyTooLong,
    /// Lengths not allowed for the opcode: "Invalid arguments", then close.
    Invalid,
    /// No such opcode: "Unknown command"; the body is discarded.
    Unknown,
    /// The value is too large to store: it is discarded and not in the request.
    TooLarge,
}

/// A packet ready to be handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    pub req: BinRequest<'a>,
    pub kind: Kind,
    /// Bytes of the input it used.
    pub used: usize,
    /// Bytes after them to discard (the part of the body that is not read).
    pub swallow: usize,
}

/// One step of parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parse<'a> {
    Packet(Packet<'a>),
    /// More input is needed; `need` is the total length required once the header is in.
    Incomplete {
        need: Option<usize>,
    },
    /// Not a request packet (wrong magic): memcached closes without a reply.
    Close,
}

/// Whether the lengths are allowed for the opcode (memcached's `dispatch_bin_command`);
/// `None` for an unknown opcode.
fn valid(opcode: u8, elen: usize, klen: usize, blen: usize) -> Option<bool> {
    let none = elen == 0 && klen == 0 && blen == 0;
    Some(match loud(opcode) {
        VERSION | NOOP | QUIT | SASL_LIST_MECHS => none,
        FLUSH => klen == 0 && blen == elen && (elen == 0 || elen == 4),
        SET | ADD | REPLACE => elen == 8 && klen != 0 && blen >= klen + 8,
        GET | GETK => elen == 0 && blen == klen && klen > 0,
        DELETE => klen > 0 && elen == 0 && blen == klen,
        INCREMENT | DECREMENT => klen > 0 && elen == 20 && blen == klen + elen,
        APPEND | PREPEND => klen > 0 && elen == 0,
        STAT => elen == 0,
        SASL_AUTH | SASL_STEP => elen == 0 && klen != 0,
        TOUCH | GAT | GATK => elen == 4 && klen != 0,
        _ => return None,
    })
}

/// Whether a valid packet's value is read into the buffer (storage commands and SASL).
fn reads_value(opcode: u8) -> bool {
    matches!(
        loud(opcode),
        SET | ADD | REPLACE | APPEND | PREPEND | SASL_AUTH | SASL_STEP
    )
}

/// Parses the packet at the start of `buf`.
pub fn parse<'a>(buf: &'a [u8], limits: &Limits) -> Parse<'a> {
    if buf.len() < HEADER_LEN {
        return Parse::Incomplete { need: None };
    }
    if buf[0] != REQ_MAGIC {
        return Parse::Close;
    }
    let opcode = buf[1];
    let klen = key_len(buf);
    let elen = buf[4] as usize;
    let blen = body_len(buf);
    let head = HEADER_LEN + elen + klen;
    let mut kind = if klen + elen > blen {
        Kind::Inconsistent
    } else if klen > KEY_MAX {
        Kind::KeyTooLong
    } else {
        match valid(opcode, elen, klen, blen) {
            None => Kind::Unknown,
            Some(false) => Kind::Invalid,
            Some(true) => Kind::Valid,
        }
    };
    let vlen = blen.saturating_sub(elen + klen);
    let mut end = head;
    if kind == Kind::Valid && reads_value(opcode) {
        // The flags count in the item's size; until they are in, the value is assumed to
        // fit, and the packet is then found too large with at most 4 bytes read too many.
        let flags = if elen == 8 && buf.len() >= HEADER_LEN + 4 {
            u32::from_be_bytes(buf[HEADER_LEN..HEADER_LEN + 4].try_into().unwrap())
        } else {
            0
        };
        if memcached_item_size(klen, flags, vlen, limits.use_cas) > limits.item_size_max {
            kind = Kind::TooLarge;
        } else {
            end = head + vlen;
        }
    }
    if buf.len() < end {
        return Parse::Incomplete { need: Some(end) };
    }
    let raw = &buf[..end];
    let body = &raw[HEADER_LEN..];
    Parse::Packet(Packet {
        req: BinRequest {
            raw,
            opcode,
            opaque: u32::from_be_bytes(buf[12..16].try_into().unwrap()),
            cas: u64::from_be_bytes(buf[16..24].try_into().unwrap()),
            extras: &body[..elen],
            key: &body[elen..elen + klen],
            value: &body[elen + klen..],
        },
        kind,
        used: end,
        swallow: HEADER_LEN + blen.max(elen + klen) - end,
    })
}

/// The buffered length the connection must reach before the packet at the start of `buf`
/// can be handled, when the header says so (`None`: the header is incomplete). A value that
/// is too large, or a body that is discarded, is never counted: only the header, extras
/// and key are.
pub fn need(buf: &[u8], limits: &Limits) -> Option<usize> {
    match parse(buf, limits) {
        Parse::Incomplete { need } => need,
        Parse::Packet(p) => Some(p.used),
        Parse::Close => Some(HEADER_LEN),
    }
}

/// Appends a response header.
#[allow(clippy::too_many_arguments)]
pub fn write_header(
    out: &mut Vec<u8>,
    opcode: u8,
    status: u16,
    extlen: u8,
    keylen: u16,
    bodylen: u32,
    opaque: u32,
    cas: u64,
) {
    out.push(RES_MAGIC);
    out.push(opcode);
    out.extend_from_slice(&keylen.to_be_bytes());
    out.push(extlen);
    out.push(0);
    out.extend_from_slice(&status.to_be_bytes());
    out.extend_from_slice(&bodylen.to_be_bytes());
    out.extend_from_slice(&opaque.to_be_bytes());
    out.extend_from_slice(&cas.to_be_bytes());
}

/// Appends a response with no extras or key and `body` as its value.
pub fn write_simple(
    out: &mut Vec<u8>,
    opcode: u8,
    status: u16,
    opaque: u32,
    cas: u64,
    body: &[u8],
) {
    write_header(out, opcode, status, 0, 0, body.len() as u32, opaque, cas);
    out.extend_from_slice(body);
}

/// Appends an error response with memcached's message for `status`.
pub fn write_error(out: &mut Vec<u8>, opcode: u8, opaque: u32, status: u16) {
    write_simple(
        out,
        opcode,
        status,
        opaque,
        0,
        status_message(status).as_bytes(),
    );
}

/// Appends one `stat` response packet (`key` and `value` both empty: the terminator).
pub fn write_stat(out: &mut Vec<u8>, opaque: u32, key: &[u8], value: &[u8]) {
    write_header(
        out,
        STAT,
        SUCCESS,
        0,
        key.len() as u16,
        (key.len() + value.len()) as u32,
        opaque,
        0,
    );
    out.extend_from_slice(key);
    out.extend_from_slice(value);
}

/// Builds a request packet (for tests and tools).
pub fn request(
    opcode: u8,
    opaque: u32,
    cas: u64,
    extras: &[u8],
    key: &[u8],
    value: &[u8],
) -> Vec<u8> {
    let mut p = Vec::with_capacity(HEADER_LEN + extras.len() + key.len() + value.len());
    p.push(REQ_MAGIC);
    p.push(opcode);
    p.extend_from_slice(&(key.len() as u16).to_be_bytes());
    p.push(extras.len() as u8);
    p.push(0);
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&((extras.len() + key.len() + value.len()) as u32).to_be_bytes());
    p.extend_from_slice(&opaque.to_be_bytes());
    p.extend_from_slice(&cas.to_be_bytes());
    p.extend_from_slice(extras);
    p.extend_from_slice(key);
    p.extend_from_slice(value);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        item_size_max: 1024,
        use_cas: true,
    };

    fn set_ext(flags: u32, exp: u32) -> Vec<u8> {
        let mut e = flags.to_be_bytes().to_vec();
        e.extend_from_slice(&exp.to_be_bytes());
        e
    }

    /// A packet with its header's lengths overridden.
    fn forged(op: u8, elen: u8, klen: u16, blen: u32, body: &[u8]) -> Vec<u8> {
        let mut p = request(op, 7, 0, b"", b"", b"");
        p[2..4].copy_from_slice(&klen.to_be_bytes());
        p[4] = elen;
        p[8..12].copy_from_slice(&blen.to_be_bytes());
        p.extend_from_slice(body);
        p
    }

    fn packet(buf: &[u8]) -> Packet<'_> {
        match parse(buf, &LIMITS) {
            Parse::Packet(p) => p,
            other => panic!("expected a packet, got {other:?}"),
        }
    }

    #[test]
    fn parses_every_fragment_size() {
        let packets = [
            request(GET, 1, 0, b"", b"key", b""),
            request(SET, 2, 99, &set_ext(5, 10), b"k", b"value"),
            request(INCREMENT, 3, 0, &[0; 20], b"n", b""),
            request(NOOP, 4, 0, b"", b"", b""),
            request(APPENDQ, 5, 0, b"", b"k", b""),
            request(STAT, 6, 0, b"", b"settings", b""),
        ];
        for pkt in &packets {
            let mut ext = pkt.clone();
            ext.extend_from_slice(&request(NOOP, 9, 0, b"", b"", b""));
            for cut in 0..pkt.len() {
                match parse(&ext[..cut], &LIMITS) {
                    Parse::Incomplete { need } => {
                        assert_eq!(need, (cut >= HEADER_LEN).then_some(pkt.len()), "cut {cut}");
                        assert_eq!(super::need(&ext[..cut], &LIMITS), need);
                    }
                    other => panic!("cut {cut} of {pkt:?}: {other:?}"),
                }
            }
            for end in [pkt.len(), ext.len()] {
                let p = packet(&ext[..end]);
                assert_eq!(p.kind, Kind::Valid);
                assert_eq!((p.used, p.swallow), (pkt.len(), 0));
                assert_eq!(p.req.raw, &pkt[..]);
                assert_eq!(reparse(p.req.raw), p.req);
                assert!(!p.req.truncated());
            }
        }
    }

    #[test]
    fn fields() {
        let pkt = request(SETQ, 0xdead_beef, 42, &set_ext(5, 10), b"key", b"val");
        let p = packet(&pkt);
        assert_eq!(p.req.opcode, SETQ);
        assert_eq!(p.req.opaque, 0xdead_beef);
        assert_eq!(p.req.cas, 42);
        assert_eq!((p.req.ext_u32(0), p.req.ext_u32(4)), (5, 10));
        assert_eq!((p.req.key, p.req.value), (&b"key"[..], &b"val"[..]));
        assert!(is_quiet(SETQ) && loud(SETQ) == SET && is_key_op(SETQ));
        assert!(!is_key_op(STAT) && !is_key_op(FLUSHQ) && !is_quiet(GETK));
    }

    #[test]
    fn malformed_headers() {
        // (packet, kind, used, swallow)
        let cases: Vec<(Vec<u8>, Kind, usize, usize)> = vec![
            // extras and key longer than the body
            (forged(GET, 0, 3, 1, b"abc"), Kind::Inconsistent, 27, 0),
            (forged(SET, 8, 1, 4, &[0; 9]), Kind::Inconsistent, 33, 0),
            // a key over 250 bytes, even for an unknown opcode
            (
                forged(GET, 0, 251, 251, &[b'k'; 251]),
                Kind::KeyTooLong,
                275,
                0,
            ),
            (
                forged(0x50, 0, 251, 251, &[b'k'; 251]),
                Kind::KeyTooLong,
                275,
                0,
            ),
            // lengths the opcode does not allow
            (forged(GET, 2, 1, 3, b"eek"), Kind::Invalid, 27, 0),
            (forged(GET, 0, 0, 0, b""), Kind::Invalid, 24, 0),
            (forged(GET, 0, 1, 3, b"k"), Kind::Invalid, 25, 2),
            (forged(NOOP, 0, 1, 1, b"k"), Kind::Invalid, 25, 0),
            (forged(VERSION, 0, 0, 1, b""), Kind::Invalid, 24, 1),
            (forged(FLUSH, 2, 0, 2, b"\0\0"), Kind::Invalid, 26, 0),
            (forged(SET, 4, 1, 5, b"\0\0\0\0k"), Kind::Invalid, 29, 0),
            (forged(SET, 8, 0, 8, &[0; 8]), Kind::Invalid, 32, 0),
            (forged(INCREMENT, 20, 1, 22, &[0; 21]), Kind::Invalid, 45, 1),
            (forged(DELETE, 0, 1, 2, b"k"), Kind::Invalid, 25, 1),
            (forged(TOUCH, 0, 1, 1, b"k"), Kind::Invalid, 25, 0),
            (forged(STAT, 4, 0, 4, &[0; 4]), Kind::Invalid, 28, 0),
            (forged(SASL_AUTH, 0, 0, 2, b""), Kind::Invalid, 24, 2),
            (forged(APPEND, 0, 0, 1, b""), Kind::Invalid, 24, 1),
            // unknown opcodes: the whole body is discarded, never more
            (forged(0x50, 0, 0, 0, b""), Kind::Unknown, 24, 0),
            (forged(VERBOSITY, 4, 0, 4, &[0; 4]), Kind::Unknown, 28, 0),
            (forged(0x50, 2, 3, 100, b"eekey"), Kind::Unknown, 29, 95),
            // body bytes a valid command does not read are discarded
            (forged(STAT, 0, 0, 3, b""), Kind::Valid, 24, 3),
            (
                forged(TOUCH, 4, 1, 7, &[0, 0, 0, 0, b'k']),
                Kind::Valid,
                29,
                2,
            ),
        ];
        for (i, (pkt, kind, used, swallow)) in cases.iter().enumerate() {
            let p = packet(pkt);
            assert_eq!(
                (p.kind, p.used, p.swallow),
                (*kind, *used, *swallow),
                "case {i}"
            );
        }
    }

    #[test]
    fn wrong_magic_closes() {
        let mut pkt = request(GET, 0, 0, b"", b"k", b"");
        pkt[0] = RES_MAGIC;
        assert_eq!(parse(&pkt, &LIMITS), Parse::Close);
        assert_eq!(
            parse(b"get k\r\nget k\r\nget k\r\nget k\r\n", &LIMITS),
            Parse::Close
        );
    }

    #[test]
    fn header_extras_and_key_are_awaited_first() {
        // memcached checks nothing before the extras and key are in.
        let pkt = forged(GET, 0, 5, 0, b"ab");
        assert_eq!(parse(&pkt, &LIMITS), Parse::Incomplete { need: Some(29) });
    }

    #[test]
    fn too_large_values_are_not_buffered() {
        let value = vec![b'v'; 2000];
        let pkt = request(SET, 1, 0, &set_ext(0, 0), b"key", &value);
        let head = HEADER_LEN + 8 + 3;
        // Only the header, extras and key are ever needed.
        assert_eq!(need(&pkt[..HEADER_LEN], &LIMITS), Some(head));
        assert_eq!(need(&pkt[..head], &LIMITS), Some(head));
        let p = packet(&pkt[..head]);
        assert_eq!(p.kind, Kind::TooLarge);
        assert_eq!((p.used, p.swallow), (head, 2000));
        assert!(p.req.truncated());
        assert!(reparse(p.req.raw).truncated());
        assert_eq!(reparse(p.req.raw).key, b"key");
        // The limit counts memcached's item size: this one just fits.
        let fits = 1024 - memcached_item_size(3, 0, 0, true);
        let pkt = request(SET, 1, 0, &set_ext(0, 0), b"key", &vec![b'v'; fits]);
        assert_eq!(need(&pkt[..HEADER_LEN], &LIMITS), Some(pkt.len()));
        assert_eq!(packet(&pkt).kind, Kind::Valid);
        let pkt = request(APPEND, 1, 0, b"", b"key", &vec![b'v'; fits + 1]);
        assert_eq!(packet(&pkt).kind, Kind::TooLarge);
        // Unknown opcodes with huge bodies are discarded as they come.
        let pkt = forged(0x60, 0, 0, u32::MAX, b"");
        assert_eq!(need(&pkt, &LIMITS), Some(HEADER_LEN));
        assert_eq!(packet(&pkt).swallow, u32::MAX as usize);
    }

    #[test]
    fn responses() {
        let mut out = Vec::new();
        write_error(&mut out, GETQ, 0x0102_0304, KEY_ENOENT);
        let mut want = vec![0x81, 0x09, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, 1, 2, 3, 4];
        want.extend_from_slice(&[0; 8]);
        want.extend_from_slice(b"Not found");
        assert_eq!(out, want);
        out.clear();
        write_stat(&mut out, 5, b"pid", b"12");
        let mut want = vec![0x81, 0x10, 0, 3, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 5];
        want.extend_from_slice(&[0; 8]);
        want.extend_from_slice(b"pid12");
        assert_eq!(out, want);
        for (status, msg) in [
            (KEY_EEXISTS, "Data exists for key."),
            (E2BIG, "Too large."),
            (EINVAL, "Invalid arguments"),
            (NOT_STORED, "Not stored."),
            (
                DELTA_BADVAL,
                "Non-numeric server-side value for incr or decr",
            ),
            (AUTH_ERROR, "Auth failure."),
            (UNKNOWN_COMMAND, "Unknown command"),
            (ENOMEM, "Out of memory"),
        ] {
            assert_eq!(status_message(status), msg);
        }
    }
}
