//! The journal's record format: one record per mutation, holding the item's state after
//! it. Pure: bytes in, records out; no I/O.
//!
//! ```text
//!  frame:   mark u32 | len u32 | crc u32 | payload (len bytes)    crc: CRC32C of the payload
//!  payload: kind u8 | time u32 | ...
//!    set    1 | time | flags u32 | exptime u32 | cas u64 | bits u8 | klen u16 | key | value
//!    delete 2 | time | key
//!    flush  3 | time | at u32                              at 0: at once
//! ```
//!
//! Little-endian throughout. `time` is the unix second the mutation was made in (a delayed
//! `flush_all` invalidates what was written before its time). Zeros where a frame would
//! begin are padding: files are written in whole blocks, and the last block's tail is
//! zeros.
//!
//! `mark` is [`MARK`], the same in every frame: after a frame that is cut short or whose
//! checksum or layout is wrong, decoding finds the next frame by looking for the mark and
//! taking the first candidate whose checksum and layout hold, and goes on from there
//! ([`Decoder::skipped`] says what it passed over). Where no good frame follows, decoding
//! stops and says at which offset and why ([`Stop`]): a torn tail (the write of the last
//! batch was interrupted) or a corrupt one.
//!
//! Files written before the mark (version 1) hold frames without it, `len | crc |
//! payload`; they are still read, frame by frame (a frame without the mark cannot begin
//! with it: as a length it is over [`MAX_PAYLOAD`]), and there decoding stops at the first
//! bad frame, as version 1 did, unless a marked frame happens to follow.

/// How many frames `buf` holds, by their lengths alone (no checksum, no parse): about as
/// many as its records, for sizing what they are loaded into.
pub fn frames(buf: &[u8]) -> usize {
    let (mut pos, mut n) = (0, 0);
    while let Some((header, len)) = buf.get(pos..).and_then(frame_len) {
        if len == 0 || len > MAX_PAYLOAD {
            break;
        }
        pos += header + len;
        n += 1;
    }
    n
}

/// The header's size and the payload's length of the frame `rest` begins with, marked or
/// not; None when `rest` is too short to say.
pub fn frame_len(rest: &[u8]) -> Option<(usize, usize)> {
    if rest.starts_with(&MARK) {
        let head = rest.get(..FRAME_HEADER)?;
        Some((FRAME_HEADER, u32_at(head, 4) as usize))
    } else {
        let head = rest.get(..FRAME_HEADER_V1)?;
        Some((FRAME_HEADER_V1, u32_at(head, 0) as usize))
    }
}

/// A record, borrowing its key and value from the decoded bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// The item's full state after a set, add, replace, append, prepend, cas, incr, decr,
    /// touch or meta change.
    Set {
        time: u32,
        flags: u32,
        /// Absolute unix time; 0 never.
        exptime: u32,
        cas: u64,
        /// Item bits kept across a restart ([`BIT_KEY_BINARY`]).
        bits: u8,
        key: &'a [u8],
        value: &'a [u8],
    },
    /// The key was deleted.
    Delete { time: u32, key: &'a [u8] },
    /// `flush_all`: at once when `at` is 0, else at unix time `at`.
    Flush { time: u32, at: u32 },
}

/// [`Record::Set`]'s bit: the key was given base64-encoded (meta's `b` flag).
pub const BIT_KEY_BINARY: u8 = 1;

const KIND_SET: u8 = 1;
const KIND_DELETE: u8 = 2;
const KIND_FLUSH: u8 = 3;

/// The first bytes of every frame (version 2), for finding the next frame after a bad one:
/// read as a version 1 length (0xD59E6AC3) it is over [`MAX_PAYLOAD`], so no version 1
/// frame begins with it.
pub const MARK: [u8; 4] = [0xC3, 0x6A, 0x9E, 0xD5];
/// Bytes before a frame's payload.
pub const FRAME_HEADER: usize = 12;
/// Bytes before a version 1 frame's payload (no mark).
const FRAME_HEADER_V1: usize = 8;
/// Bytes of a set's payload before its key.
const SET_FIXED: usize = 1 + 4 + 4 + 4 + 8 + 1 + 2;
/// No payload is longer: the largest item memcached allows (`-I 1024m`) and its header.
pub const MAX_PAYLOAD: usize = (1 << 30) + 4096;

/// Bytes [`encode_set`] appends for a key and value of these lengths.
pub fn set_len(klen: usize, vlen: usize) -> usize {
    FRAME_HEADER + SET_FIXED + klen + vlen
}

/// Appends a set record.
#[allow(clippy::too_many_arguments)]
pub fn encode_set(
    out: &mut Vec<u8>,
    time: u32,
    flags: u32,
    exptime: u32,
    cas: u64,
    bits: u8,
    key: &[u8],
    value: &[u8],
) {
    let start = begin(out, SET_FIXED + key.len() + value.len());
    out.push(KIND_SET);
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&exptime.to_le_bytes());
    out.extend_from_slice(&cas.to_le_bytes());
    out.push(bits);
    out.extend_from_slice(&(key.len() as u16).to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(value);
    finish(out, start);
}

/// Appends a delete record.
pub fn encode_delete(out: &mut Vec<u8>, time: u32, key: &[u8]) {
    let start = begin(out, 5 + key.len());
    out.push(KIND_DELETE);
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(key);
    finish(out, start);
}

/// Appends a flush record.
pub fn encode_flush(out: &mut Vec<u8>, time: u32, at: u32) {
    let start = begin(out, 9);
    out.push(KIND_FLUSH);
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    finish(out, start);
}

/// Appends `rec`, whatever its kind.
pub fn encode(out: &mut Vec<u8>, rec: &Record<'_>) {
    match *rec {
        Record::Set {
            time,
            flags,
            exptime,
            cas,
            bits,
            key,
            value,
        } => encode_set(out, time, flags, exptime, cas, bits, key, value),
        Record::Delete { time, key } => encode_delete(out, time, key),
        Record::Flush { time, at } => encode_flush(out, time, at),
    }
}

fn begin(out: &mut Vec<u8>, payload: usize) -> usize {
    out.reserve(FRAME_HEADER + payload);
    let start = out.len();
    out.extend_from_slice(&MARK);
    out.extend_from_slice(&(payload as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    start
}

fn finish(out: &mut [u8], start: usize) {
    let crc = crc32c(&out[start + FRAME_HEADER..]);
    out[start + 8..start + 12].copy_from_slice(&crc.to_le_bytes());
}

/// Why decoding stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The end of the data, or padding (zeros) to it.
    Clean,
    /// A frame runs past the end of the data: the last write was cut short.
    Torn,
    /// A checksum that does not match, or a payload that cannot be a record (or bytes
    /// other than zeros after padding began), and no good frame after it.
    Corrupt,
}

/// What the bytes at a frame's place hold.
enum Frame<'a> {
    /// A good record, and the frame's size.
    Good(Record<'a>, usize),
    /// Zeros to the end.
    End,
    /// Not a good frame, and how: [`Stop::Torn`] or [`Stop::Corrupt`].
    Bad(Stop),
}

/// Reads the frame `rest` begins with.
fn frame(rest: &[u8]) -> Frame<'_> {
    let Some((header, len)) = frame_len(rest) else {
        return if rest.iter().all(|&b| b == 0) {
            Frame::End
        } else {
            Frame::Bad(Stop::Torn)
        };
    };
    if len == 0 {
        return if rest.iter().all(|&b| b == 0) {
            Frame::End
        } else {
            Frame::Bad(Stop::Corrupt)
        };
    }
    if len > MAX_PAYLOAD {
        return Frame::Bad(Stop::Corrupt);
    }
    if rest.len() - header < len {
        return Frame::Bad(Stop::Torn);
    }
    let crc = u32_at(rest, header - 4);
    let payload = &rest[header..header + len];
    if crc32c(payload) != crc {
        return Frame::Bad(Stop::Corrupt);
    }
    match parse(payload) {
        Some(rec) => Frame::Good(rec, header + len),
        None => Frame::Bad(Stop::Corrupt),
    }
}

/// The offset of the first good marked frame in `buf` at or after `from`.
fn next_good(buf: &[u8], mut from: usize) -> Option<usize> {
    while let Some(i) = memchr::memmem::find(&buf[from..], &MARK) {
        let at = from + i;
        if let Frame::Good(..) = frame(&buf[at..]) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Decodes records from a file's bytes, in order, passing over bad frames that a good one
/// follows; [`Decoder::stopped`] says where and why it stopped once the iterator has
/// ended, and [`Decoder::skipped`] what it passed over.
#[derive(Debug)]
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    stop: Option<(usize, Stop)>,
    skipped: Vec<(usize, usize)>,
}

impl<'a> Decoder<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Decoder {
            buf,
            pos: 0,
            stop: None,
            skipped: Vec::new(),
        }
    }

    /// The offset decoding stopped at (the end of the last good record) and why; None
    /// until the iterator has returned None.
    pub fn stopped(&self) -> Option<(usize, Stop)> {
        self.stop
    }

    /// The bad stretches passed over, in order: the offset of each bad frame and of the
    /// good frame after it.
    pub fn skipped(&self) -> &[(usize, usize)] {
        &self.skipped
    }

    /// Offset of the next frame.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Decoder<'a> {
    /// The record and the offset of its frame.
    type Item = (usize, Record<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.stop.is_some() {
                return None;
            }
            let rest = &self.buf[self.pos..];
            if rest.is_empty() {
                self.stop = Some((self.pos, Stop::Clean));
                return None;
            }
            match frame(rest) {
                Frame::Good(rec, size) => {
                    let at = self.pos;
                    self.pos += size;
                    return Some((at, rec));
                }
                Frame::End => self.stop = Some((self.pos, Stop::Clean)),
                Frame::Bad(why) => match next_good(self.buf, self.pos + 1) {
                    Some(next) => {
                        self.skipped.push((self.pos, next));
                        self.pos = next;
                    }
                    None => self.stop = Some((self.pos, why)),
                },
            }
        }
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// A payload whose checksum matched, as a record; None if its layout is wrong.
fn parse(p: &[u8]) -> Option<Record<'_>> {
    if p.len() < 5 {
        return None;
    }
    let time = u32_at(p, 1);
    match p[0] {
        KIND_SET if p.len() >= SET_FIXED => {
            let klen = u16::from_le_bytes([p[22], p[23]]) as usize;
            if klen == 0 || SET_FIXED + klen > p.len() {
                return None;
            }
            Some(Record::Set {
                time,
                flags: u32_at(p, 5),
                exptime: u32_at(p, 9),
                cas: u64::from_le_bytes(p[13..21].try_into().expect("8 bytes")),
                bits: p[21],
                key: &p[SET_FIXED..SET_FIXED + klen],
                value: &p[SET_FIXED + klen..],
            })
        }
        KIND_DELETE if p.len() > 5 => Some(Record::Delete { time, key: &p[5..] }),
        KIND_FLUSH if p.len() == 9 => Some(Record::Flush {
            time,
            at: u32_at(p, 5),
        }),
        _ => None,
    }
}

/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), eight bytes a step.
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c_append(0, data)
}

/// Continues a CRC32C over more bytes: `crc32c_append(crc32c(a), b) == crc32c(a ++ b)`.
pub fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("sse4.2") {
        // SAFETY: the CPU has SSE4.2, checked just above.
        return unsafe { crc32c_sse42(crc, data) };
    }
    crc32c_table(crc, data)
}

/// CRC32C with SSE4.2's `crc32` instruction, eight bytes at a time: warm-up checks every
/// record it reads, at several times the table's speed.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
unsafe fn crc32c_sse42(crc: u32, data: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};
    let mut c = u64::from(!crc);
    let mut chunks = data.chunks_exact(8);
    for ch in &mut chunks {
        c = _mm_crc32_u64(c, u64::from_le_bytes(ch.try_into().expect("8 bytes")));
    }
    let mut c = c as u32;
    for &b in chunks.remainder() {
        c = _mm_crc32_u8(c, b);
    }
    !c
}

/// CRC32C from tables, eight bytes at a time (slicing-by-8).
fn crc32c_table(crc: u32, data: &[u8]) -> u32 {
    let t = &CRC_TABLES;
    let mut c = !crc;
    let mut chunks = data.chunks_exact(8);
    for ch in &mut chunks {
        let lo = u32::from_le_bytes([ch[0], ch[1], ch[2], ch[3]]) ^ c;
        let hi = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]);
        c = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xff) as usize]
            ^ t[2][((hi >> 8) & 0xff) as usize]
            ^ t[1][((hi >> 16) & 0xff) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        c = t[0][((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// Slicing-by-8 tables: `[0]` is the byte-wise table, `[k]` advances `k` more zero bytes.
static CRC_TABLES: [[u32; 256]; 8] = crc_tables();

const fn crc_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut k = 1;
        while k < 8 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            k += 1;
        }
        i += 1;
    }
    t
}

#[cfg(test)]
mod tests;
