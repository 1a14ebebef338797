//! Wire protocols the generator can speak. Only memcached's text protocol
//! exists today; the binary and meta protocols would be further
//! implementations of [`Protocol`].

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
