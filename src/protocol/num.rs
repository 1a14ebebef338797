//! memcached's number parsing, reproduced exactly.
//!
//! memcached parses numbers with `strtol`/`strtoul`/`strtoull` wrapped in its `safe_strto*`
//! helpers (util.c). Their quirks are visible on the wire, so they are reproduced here:
//! leading whitespace and a sign are accepted, the digits must be followed by whitespace or the
//! end of the token, out-of-range values are rejected, a negative number is rejected by the
//! unsigned parsers only when it wraps to a "negative" value, and the 32-bit results are
//! silently truncated from the 64-bit parse (so a length of `4294967297` reads as `1`).

/// C's `isspace` in the "C" locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Result of C's `strtoull`/`strtoll` core: the magnitude, whether a '-' sign was read,
/// whether the value overflowed, and where parsing stopped.
struct Scan {
    magnitude: u64,
    negative: bool,
    overflow: bool,
    digits: bool,
    end: usize,
}

fn scan(s: &[u8]) -> Scan {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    while i < s.len() && s[i].is_ascii_digit() {
        let d = u64::from(s[i] - b'0');
        match magnitude.checked_mul(10).and_then(|m| m.checked_add(d)) {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
        i += 1;
    }
    let digits = i > start;
    Scan {
        magnitude,
        negative,
        overflow,
        digits,
        end: if digits { i } else { 0 },
    }
}

/// What must follow the digits: whitespace, or the end of the token.
fn tail_ok(s: &[u8], sc: &Scan) -> bool {
    sc.digits && (sc.end == s.len() || is_c_space(s[sc.end]))
}

/// memcached's `safe_strtoull`.
pub fn strtoull(s: &[u8]) -> Option<u64> {
    let sc = scan(s);
    if sc.overflow || !tail_ok(s, &sc) {
        return None;
    }
    let v = if sc.negative {
        sc.magnitude.wrapping_neg()
    } else {
        sc.magnitude
    };
    // Only a value that looks negative as a signed number is checked for a '-' sign.
    if (v as i64) < 0 && memchr::memchr(b'-', s).is_some() {
        return None;
    }
    Some(v)
}

/// memcached's `safe_strtoul`: a 64-bit `strtoul`, then truncated to 32 bits.
pub fn strtoul(s: &[u8]) -> Option<u32> {
    strtoull(s).map(|v| v as u32)
}

/// memcached's `safe_strtoll`.
pub fn strtoll(s: &[u8]) -> Option<i64> {
    let sc = scan(s);
    if !tail_ok(s, &sc) {
        return None;
    }
    let limit = if sc.negative {
        1u64 << 63
    } else {
        i64::MAX as u64
    };
    if sc.overflow || sc.magnitude > limit {
        return None;
    }
    Some(if sc.negative {
        (sc.magnitude as i64).wrapping_neg()
    } else {
        sc.magnitude as i64
    })
}

/// memcached's `safe_strtol`: a 64-bit `strtol`, then truncated to 32 bits.
pub fn strtol(s: &[u8]) -> Option<i32> {
    strtoll(s).map(|v| v as i32)
}

/// Writes `v` in decimal.
pub fn push_u64(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_table() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"0", Some(0)),
            (b"42", Some(42)),
            (b"+42", Some(42)),
            (b" \t42", Some(42)),
            (b"42 junk", Some(42)),
            (b"42\r\n", Some(42)),
            (b"42x", None),
            (b"", None),
            (b"-", None),
            (b"x", None),
            (b"-1", None),
            (b"-0", Some(0)),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b"9223372036854775808", Some(1 << 63)),
        ];
        for (s, want) in cases {
            assert_eq!(strtoull(s), *want, "{:?}", String::from_utf8_lossy(s));
        }
        assert_eq!(strtoul(b"4294967296"), Some(0));
        assert_eq!(strtoul(b"4294967295"), Some(u32::MAX));
        assert_eq!(strtoul(b"-1"), None);
    }

    #[test]
    fn signed_table() {
        let cases: &[(&[u8], Option<i64>)] = &[
            (b"0", Some(0)),
            (b"-1", Some(-1)),
            (b"+7", Some(7)),
            (b"9223372036854775807", Some(i64::MAX)),
            (b"9223372036854775808", None),
            (b"-9223372036854775808", Some(i64::MIN)),
            (b"-9223372036854775809", None),
            (b"1.5", None),
            (b"", None),
        ];
        for (s, want) in cases {
            assert_eq!(strtoll(s), *want, "{:?}", String::from_utf8_lossy(s));
        }
        assert_eq!(strtol(b"4294967297"), Some(1));
        assert_eq!(strtol(b"2147483648"), Some(i32::MIN));
    }

    #[test]
    fn decimal_writer() {
        for v in [0u64, 7, 10, 12345, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, v);
            assert_eq!(out, v.to_string().into_bytes());
        }
    }
}
