//! Reading a journal file front to back for warm-up: its chunks in order, with the next
//! ones already being read while the caller loads the current one, and the frames a
//! chunk's end cuts in two put back together.
//!
//! Reading a whole file before loading any of it left the disk idle while the CPU loaded,
//! and the CPU idle while the disk read; and a file's worth of fresh buffer is memory the
//! kernel faults in and zeroes page by page. Here a few chunks are in flight at once, each
//! a buffer of its own that goes back to the allocator (and is reused) once loaded.

use std::collections::VecDeque;
use std::io;
use std::path::Path;
use std::rc::Rc;

use glommio::io::{DmaFile, ReadResult};

use super::record::{frame_len, Stop, FRAME_HEADER, MAX_PAYLOAD};

/// Bytes read from a file per request.
pub const CHUNK: usize = 2 << 20;

/// Requests kept ahead of the chunk being loaded. A request queued while the shard loads
/// reaches the kernel only at the executor's next pass through its ring (its preempt
/// timer, 5 ms), so the read-ahead covers a few of those at the rate chunks are loaded.
pub const AHEAD: usize = 8;

/// A file's chunks in order, [`AHEAD`] of them requested before they are asked for.
struct Chunks {
    file: Rc<DmaFile>,
    size: u64,
    /// Bytes per request (a multiple of 4 KiB).
    chunk: usize,
    /// The offset of the next chunk to request.
    next: u64,
    /// Requested chunks, in file order: (offset, bytes wanted, the read).
    pending: VecDeque<(u64, usize, glommio::Task<io::Result<ReadResult>>)>,
}

impl Chunks {
    async fn open(path: &Path, chunk: usize) -> io::Result<Chunks> {
        let file = DmaFile::open(path).await?;
        let size = file.file_size().await?;
        let mut c = Chunks {
            file: Rc::new(file),
            size,
            chunk,
            next: 0,
            pending: VecDeque::new(),
        };
        c.fill();
        Ok(c)
    }

    /// Requests chunks until [`AHEAD`] are pending or the file is all requested.
    fn fill(&mut self) {
        while self.pending.len() < AHEAD && self.next < self.size {
            let pos = self.next;
            let want = self.chunk.min((self.size - pos) as usize);
            let file = self.file.clone();
            let read = glommio::spawn_local(async move {
                // O_DIRECT reads whole blocks: the last chunk is rounded up.
                Ok(file
                    .read_at_aligned(pos, want.div_ceil(4096) * 4096)
                    .await?)
            });
            self.pending.push_back((pos, want, read));
            self.next += want as u64;
        }
    }

    /// The next chunk: its offset, its bytes, and whether it is the last (the file ends
    /// with it, or it came back short).
    async fn next(&mut self) -> Option<io::Result<(u64, ReadResult, bool)>> {
        let (pos, want, read) = self.pending.pop_front()?;
        self.fill();
        let r = match read.await {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        let n = r.len().min(want);
        let last = pos + n as u64 >= self.size || n < want;
        if last {
            self.pending.clear();
            self.next = self.size;
        }
        Some(
            ReadResult::slice(&r, 0, n)
                .map(|b| (pos, b, last))
                .ok_or_else(|| io::Error::other("a read came back longer than asked")),
        )
    }

    async fn close(self) {
        drop(self.pending);
        let _ = self.file.close_rc().await;
    }
}

/// Feeds a file's bytes to `load` in windows of whole frames, in order (read `chunk` bytes,
/// a multiple of 4 KiB, at a time: [`CHUNK`] but in tests), and returns where
/// and why decoding stopped (as [`super::record::Decoder::stopped`] would over the whole
/// file).
///
/// `load(window, at)` decodes and loads `window` (which begins at file offset `at`) and
/// returns where its decoding stopped in it and why. A stop that is not final (a frame cut
/// short, zeros that may be padding, or a bad frame with no good one after it yet, while
/// more of the file follows) is kept in `carry` (a buffer reused from file to file) and
/// decoded again with what the next chunk adds. Between chunks the task yields when its
/// time slice is over, so that the requests ahead reach the kernel.
pub async fn read_frames(
    path: &Path,
    chunk: usize,
    carry: &mut Vec<u8>,
    mut load: impl FnMut(&[u8], u64) -> (usize, Stop),
) -> io::Result<(u64, Stop)> {
    let mut chunks = Chunks::open(path, chunk).await?;
    let r = frames(&mut chunks, carry, &mut load).await;
    chunks.close().await;
    r
}

async fn frames(
    chunks: &mut Chunks,
    carry: &mut Vec<u8>,
    load: &mut impl FnMut(&[u8], u64) -> (usize, Stop),
) -> io::Result<(u64, Stop)> {
    carry.clear();
    // The file offset of carry's first byte.
    let mut carry_at = 0u64;
    while let Some(chunk) = chunks.next().await {
        let (pos, chunk, last) = chunk?;
        let mut from = 0;
        if !carry.is_empty() {
            from = to_complete(carry, &chunk);
            carry.extend_from_slice(&chunk[..from]);
            let (mut at, mut why) = load(carry, carry_at);
            if at < carry.len() && from < chunk.len() {
                // The carry held its frame whole and decoding still stopped in it: a bad
                // frame with no good one after it in the carry. The rest of the chunk may
                // hold one: decode again with it.
                carry.drain(..at);
                carry_at += at as u64;
                carry.extend_from_slice(&chunk[from..]);
                from = chunk.len();
                (at, why) = load(carry, carry_at);
            }
            carry.drain(..at);
            carry_at += at as u64;
            if from == chunk.len() {
                if last {
                    return Ok((carry_at, why));
                }
                continue;
            }
            // The carry was decoded whole; the chunk's rest is a window of its own.
            debug_assert!(carry.is_empty());
        }
        let window = &chunk[from..];
        let (at, why) = load(window, pos + from as u64);
        let at_file = pos + (from + at) as u64;
        if last {
            return Ok((at_file, why));
        }
        carry.extend_from_slice(&window[at..]);
        carry_at = at_file;
        drop(chunk);
        glommio::yield_if_needed().await;
    }
    // An empty file.
    Ok((carry_at, Stop::Clean))
}

/// How many of `next`'s first bytes complete the frame `carry` begins (all of them when it
/// needs more, or when it is padding or cannot be a frame: then decoding decides once the
/// file has been read to its end, as it would over the whole file).
fn to_complete(carry: &[u8], next: &[u8]) -> usize {
    let mut head = [0u8; FRAME_HEADER];
    if carry.len() < FRAME_HEADER {
        let more = FRAME_HEADER - carry.len();
        if next.len() < more {
            return next.len();
        }
        head[..carry.len()].copy_from_slice(carry);
        head[carry.len()..].copy_from_slice(&next[..more]);
    } else {
        head.copy_from_slice(&carry[..FRAME_HEADER]);
    }
    let Some((header, len)) = frame_len(&head) else {
        return next.len();
    };
    if len == 0 || len > MAX_PAYLOAD {
        return next.len();
    }
    (header + len).saturating_sub(carry.len()).min(next.len())
}

#[cfg(test)]
mod tests {
    use super::super::record::{self, Decoder, Record};
    use super::*;

    /// Records of every size from a few bytes to several chunks, as the flusher writes
    /// them: padded with zeros to a whole block.
    fn journal() -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..400u32 {
            let key = format!("key-{i}");
            let value =
                vec![i as u8; (i as usize * 37) % 1500 + if i % 97 == 5 { 9000 } else { 0 }];
            record::encode_set(&mut out, i, i, 0, u64::from(i), 0, key.as_bytes(), &value);
            if i % 50 == 7 {
                record::encode_delete(&mut out, i, key.as_bytes());
            }
        }
        out.resize(out.len().next_multiple_of(4096), 0);
        out
    }

    /// What decoding `bytes` gives: every record (as a debug string), the stretches
    /// skipped (file offsets), and where and why it stopped.
    type Decoded = (Vec<String>, Vec<(u64, u64)>, (u64, Stop));

    /// What decoding the whole of `bytes` gives.
    fn whole(bytes: &[u8]) -> Decoded {
        let mut d = Decoder::new(bytes);
        let recs = d.by_ref().map(|(_, r)| format!("{r:?}")).collect();
        let skipped = d
            .skipped()
            .iter()
            .map(|&(a, b)| (a as u64, b as u64))
            .collect();
        let (at, why) = d.stopped().expect("ended");
        (recs, skipped, (at as u64, why))
    }

    fn streamed(path: &Path, bytes: &[u8], chunk: usize) -> Decoded {
        std::fs::write(path, bytes).expect("write the file");
        let path = path.to_path_buf();
        glommio::LocalExecutorBuilder::default()
            .spawn(move || async move {
                let mut recs = Vec::new();
                let mut skipped = Vec::new();
                let mut carry = Vec::new();
                let stop = read_frames(&path, chunk, &mut carry, |window, base| {
                    let mut d = Decoder::new(window);
                    recs.extend(
                        d.by_ref()
                            .map(|(_, r): (usize, Record<'_>)| format!("{r:?}")),
                    );
                    skipped.extend(
                        d.skipped()
                            .iter()
                            .map(|&(a, b)| (base + a as u64, base + b as u64)),
                    );
                    d.stopped().expect("ended")
                })
                .await
                .expect("read the file");
                (recs, skipped, stop)
            })
            .expect("an executor")
            .join()
            .expect("the executor ran")
    }

    #[test]
    fn chunked_reading_loads_and_stops_as_reading_the_whole_file() {
        let dir = std::env::temp_dir().join(format!("corecached-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory");
        let path = dir.join("j.log");
        let good = journal();
        let frame_at: Vec<usize> = Decoder::new(&good).map(|(at, _)| at).collect();
        let mut cases: Vec<(&str, Vec<u8>)> = vec![("clean", good.clone()), ("empty", vec![])];
        // Torn: cut inside a record's header, inside its payload, and after a whole one.
        let big = frame_at[frame_at.len() / 2];
        for (name, at) in [
            ("torn header", big + 3),
            ("torn payload", big + 700),
            ("cut", big),
        ] {
            cases.push((name, good[..at].to_vec()));
        }
        // A bad checksum in the middle; zeros in the middle with records after them
        // (corrupt); padding followed by a stray byte at the file's end.
        let mut bad = good.clone();
        bad[big + 40] ^= 1;
        cases.push(("corrupt", bad));
        let mut hole = good.clone();
        hole[big..big + 5000].fill(0);
        cases.push(("zeros", hole));
        // Bad checksums in two records close together, and in the last record (nothing
        // good after it: cut).
        let mut two = good.clone();
        two[frame_at[10] + 20] ^= 1;
        two[frame_at[12] + 13] ^= 1;
        cases.push(("two corrupt", two));
        let mut tail = good.clone();
        tail[frame_at[frame_at.len() - 1] + 15] ^= 1;
        cases.push(("corrupt last", tail));
        let mut stray = good.clone();
        let last = stray.len() - 1;
        stray[last] = 1;
        cases.push(("stray", stray));
        for (name, bytes) in &cases {
            let want = whole(bytes);
            for chunk in [4096, 8192, 3 * 4096, 1 << 20] {
                assert_eq!(
                    streamed(&path, bytes, chunk),
                    want,
                    "{name}, chunks of {chunk}"
                );
            }
        }
        std::fs::remove_dir_all(&dir).expect("remove the directory");
    }

    #[test]
    fn to_complete_takes_what_the_cut_frame_lacks() {
        // A frame of a 100-byte payload: mark, length, checksum (12 bytes), payload.
        let mut frame = record::MARK.to_vec();
        frame.extend_from_slice(&100u32.to_le_bytes());
        frame.extend_from_slice(&[7; 4 + 100]);
        // Header whole in carry.
        assert_eq!(to_complete(&frame[..30], &[1; 500]), 82);
        assert_eq!(to_complete(&frame[..30], &[1; 50]), 50);
        // Header cut, in its mark: its rest comes from the next chunk.
        assert_eq!(to_complete(&frame[..3], &frame[3..]), 109);
        assert_eq!(to_complete(&frame[..3], &frame[3..6]), 3);
        // A version 1 frame (no mark, an 8-byte header).
        let mut v1 = 100u32.to_le_bytes().to_vec();
        v1.extend_from_slice(&[7; 4 + 100]);
        assert_eq!(to_complete(&v1[..30], &[1; 500]), 78);
        // Padding or a length no frame has: everything, decided at the file's end.
        assert_eq!(to_complete(&[0; 5], &[0; 300]), 300);
        let huge = ((MAX_PAYLOAD + 1) as u32).to_le_bytes();
        assert_eq!(to_complete(&huge, &[0; 300]), 300);
    }
}
