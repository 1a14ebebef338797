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

/// memcached's `safe_strtod`: C's `strtod` over the whole token. Rust's parser takes what
/// `strtod` takes for decimal numbers, `inf` and `nan`; a hexadecimal float (`0x1p3`), which
/// `strtod` also reads, is refused.
pub fn strtod(s: &[u8]) -> Option<f64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Two-digit pairs "00" to "99", for writing numbers two digits at a time.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Most decimal digits of a u64.
pub const U64_DIGITS: usize = 20;

/// Decimal digits of `v`.
pub fn decimal_len(v: u64) -> usize {
    let mut n = 1;
    let mut x = v;
    while x >= 100 {
        x /= 100;
        n += 2;
    }
    n + (x >= 10) as usize
}

/// Writes `v` in decimal into `dst`, which is exactly [`decimal_len`]`(v)` bytes.
pub fn write_decimal(dst: &mut [u8], v: u64) {
    assert_eq!(dst.len(), decimal_len(v));
    // SAFETY: `dst` is exactly the digits' length, checked above.
    unsafe { write_decimal_raw(dst.as_mut_ptr(), dst.len(), v) }
}

/// [`write_decimal`] to a raw pointer.
///
/// # Safety
/// `dst` is valid for writes of `len` bytes, and `len` is [`decimal_len`]`(v)`.
pub unsafe fn write_decimal_raw(dst: *mut u8, len: usize, v: u64) {
    let mut i = len;
    let mut v = v;
    // SAFETY: pairs are read inside PAIRS (v < 100 each time); digits are written at
    // `dst .. dst + len`, from the end, one per digit of `v`, which the caller sized.
    unsafe {
        while v >= 100 {
            i -= 2;
            std::ptr::copy_nonoverlapping(
                PAIRS.as_ptr().add((v % 100) as usize * 2),
                dst.add(i),
                2,
            );
            v /= 100;
        }
        if v >= 10 {
            std::ptr::copy_nonoverlapping(PAIRS.as_ptr().add(v as usize * 2), dst.add(i - 2), 2);
        } else {
            *dst.add(i - 1) = b'0' + v as u8;
        }
    }
}

/// Writes `v` in decimal.
pub fn push_u64(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; U64_DIGITS];
    let n = decimal_len(v);
    write_decimal(&mut buf[..n], v);
    out.extend_from_slice(&buf[..n]);
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
        let mut cases = vec![0u64, 7, 9, 10, 99, 100, 101, 999, 1000, 12345, u64::MAX];
        cases.extend((0..20).map(|p| 10u64.pow(p)));
        cases.extend((1..20).map(|p| 10u64.pow(p) - 1));
        for v in cases {
            let mut out = Vec::new();
            push_u64(&mut out, v);
            assert_eq!(out, v.to_string().into_bytes());
            assert_eq!(decimal_len(v), out.len(), "{v}");
        }
    }
}
