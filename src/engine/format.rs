//! The text protocol's `VALUE` line, written in place with one reservation, and the short
//! copies it is made of.

use crate::num::{decimal_len, write_decimal_raw};

/// Values up to this size are written with their `VALUE` line in one reservation
/// ([`push_value`]); larger ones go through [`super::ReplySink::value`], which may send them in
/// place.
pub const SHORT_VALUE: usize = 256;

/// Copies `src` to `dst` without a call for the short lengths of keys, small values and
/// reply lines: two overlapping loads and stores cover any length from 4 to 64 bytes, three
/// single bytes any length from 1 to 3.
///
/// # Safety
/// `dst` is valid for writes of `src.len()` bytes and does not overlap `src`.
#[inline(always)]
pub(crate) unsafe fn copy_short(dst: *mut u8, src: &[u8]) {
    /// Copies `n` bytes (`W <= n <= 2W`) as two `W`-byte halves, at 0 and at `n - W`.
    #[inline(always)]
    unsafe fn halves<const W: usize>(dst: *mut u8, s: *const u8, n: usize) {
        // SAFETY: the caller's contract; both halves lie inside the `n` bytes.
        unsafe {
            let (a, b) = (
                s.cast::<[u8; W]>().read_unaligned(),
                s.add(n - W).cast::<[u8; W]>().read_unaligned(),
            );
            dst.cast::<[u8; W]>().write_unaligned(a);
            dst.add(n - W).cast::<[u8; W]>().write_unaligned(b);
        }
    }
    let (n, s) = (src.len(), src.as_ptr());
    // SAFETY: `src` holds `n` bytes and `dst` has room for them (the caller's contract);
    // each size class passes `halves` a width with W <= n <= 2W.
    unsafe {
        match n {
            33..=64 => halves::<32>(dst, s, n),
            16..=32 => halves::<16>(dst, s, n),
            8..=15 => halves::<8>(dst, s, n),
            4..=7 => halves::<4>(dst, s, n),
            1..=3 => {
                *dst = *s;
                *dst.add(n / 2) = *s.add(n / 2);
                *dst.add(n - 1) = *s.add(n - 1);
            }
            0 => {}
            _ => std::ptr::copy_nonoverlapping(s, dst, n),
        }
    }
}

/// Writes `VALUE <key> <flags> <bytes>[ <cas>]\r\n`, the line before a get's value, with one
/// reservation and the numbers written in place.
pub fn push_value_line(out: &mut Vec<u8>, key: &[u8], flags: u32, len: usize, cas: Option<u64>) {
    push_value_with(out, key, flags, len, cas, None);
}

/// [`push_value_line`] followed by a short value (at most [`SHORT_VALUE`] bytes) and its
/// `\r\n`, all in one reservation.
#[inline(always)]
pub fn push_value(out: &mut Vec<u8>, key: &[u8], flags: u32, value: &[u8], cas: Option<u64>) {
    debug_assert!(value.len() <= SHORT_VALUE);
    push_value_with(out, key, flags, value.len(), cas, Some(value));
}

/// "0" to "99", each left-aligned in two bytes: a number under 10 is its digit and a byte
/// that the next write covers.
const LEFT2: [[u8; 2]; 100] = {
    let mut t = [[b' '; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = if i < 10 {
            [b'0' + i as u8, b' ']
        } else {
            [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8]
        };
        i += 1;
    }
    t
};

/// Writes `v`, `len` (its [`decimal_len`]) digits, at `p`. Under 100, as two bytes at once
/// from [`LEFT2`]: the common flags and short lengths, without a digit loop.
///
/// # Safety
/// `p` is valid for writes of `len` bytes and, when `v < 10`, of one more, which the piece
/// written after the number then covers.
#[inline(always)]
unsafe fn write_number(p: *mut u8, len: usize, v: u64) {
    // SAFETY: as the caller guarantees.
    unsafe {
        if v < 100 {
            p.cast::<[u8; 2]>().write_unaligned(LEFT2[v as usize]);
        } else {
            write_decimal_raw(p, len, v);
        }
    }
}

/// [`decimal_len`], without its loop for the numbers under 100 that most lines hold.
#[inline(always)]
fn digits(v: u64) -> usize {
    if v < 100 {
        1 + (v >= 10) as usize
    } else {
        decimal_len(v)
    }
}

#[inline(always)]
fn push_value_with(
    out: &mut Vec<u8>,
    key: &[u8],
    flags: u32,
    len: usize,
    cas: Option<u64>,
    value: Option<&[u8]>,
) {
    let (fl, ll) = (digits(u64::from(flags)), digits(len as u64));
    let cl = cas.map_or(0, decimal_len);
    let line = 6 + key.len() + 1 + fl + 1 + ll + (cl > 0) as usize + cl + 2;
    let n = line + value.map_or(0, |v| v.len() + 2);
    out.reserve(n);
    // SAFETY: `reserve` made room for `n` more bytes; each is written below (the pieces
    // add up to `n`, each number's length its `decimal_len`) before the length takes them
    // in. A one-digit flags or length writes one byte more, where the space or CR LF after
    // it is then written.
    unsafe {
        let mut p = out.as_mut_ptr().add(out.len());
        p.cast::<[u8; 6]>().write_unaligned(*b"VALUE ");
        p = p.add(6);
        copy_short(p, key);
        p = p.add(key.len());
        *p = b' ';
        write_number(p.add(1), fl, u64::from(flags));
        p = p.add(1 + fl);
        *p = b' ';
        write_number(p.add(1), ll, len as u64);
        p = p.add(1 + ll);
        if let Some(c) = cas {
            *p = b' ';
            write_decimal_raw(p.add(1), cl, c);
            p = p.add(1 + cl);
        }
        p.cast::<[u8; 2]>().write_unaligned(*b"\r\n");
        if let Some(v) = value {
            p = p.add(2);
            copy_short(p, v);
            p.add(v.len()).cast::<[u8; 2]>().write_unaligned(*b"\r\n");
        }
        out.set_len(out.len() + n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_lines_match_format() {
        // Every key and value length a short copy treats differently (0-3, 4-7, 8-15,
        // 16-32, longer), after existing output, with and without a CAS.
        let bytes: Vec<u8> = (0..300u32).map(|i| b'!' + (i * 7 % 90) as u8).collect();
        for klen in [1, 3, 4, 7, 8, 13, 15, 16, 31, 32, 33, 250] {
            for vlen in (0..=40).chain([63, 64, 99, 100, 101, 255, 256]) {
                for (flags, cas) in [
                    (0, None),
                    (9, None),
                    (10, None),
                    (99, None),
                    (100, None),
                    (4_294_967_295, Some(u64::MAX)),
                    (7, Some(0)),
                ] {
                    let (key, value) = (&bytes[..klen], &bytes[40..40 + vlen]);
                    let mut want = b"prefix".to_vec();
                    want.extend_from_slice(b"VALUE ");
                    want.extend_from_slice(key);
                    want.extend_from_slice(format!(" {flags} {vlen}").as_bytes());
                    if let Some(c) = cas {
                        want.extend_from_slice(format!(" {c}").as_bytes());
                    }
                    want.extend_from_slice(b"\r\n");
                    let mut line = b"prefix".to_vec();
                    push_value_line(&mut line, key, flags, vlen, cas);
                    assert_eq!(line, want, "line, key {klen}, value {vlen}");
                    want.extend_from_slice(value);
                    want.extend_from_slice(b"\r\n");
                    let mut out = b"prefix".to_vec();
                    push_value(&mut out, key, flags, value, cas);
                    assert_eq!(out, want, "value, key {klen}, value {vlen}");
                }
            }
        }
    }
}
