//! Reading a journal file front to back for warm-up: its chunks in order, with the next
//! ones already being read while the caller loads the current one, and the frames a
//! chunk's end cuts in two put back together.
//!
//! Reading a whole file before loading any of it left the disk idle while the CPU loaded,
//! and the CPU idle while the disk read; and a file's worth of fresh buffer is memory the
//! kernel faults in and zeroes page by page. Here a few chunks are in flight at once, read
//! into buffers the shard keeps for its whole warm-up ([`super::reader`]), or, where it
//! has no ring of its own, into a buffer of glommio's per read.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::path::Path;
use std::rc::Rc;

use glommio::io::{DmaFile, ReadResult};

use super::reader::Ring;
use super::record::{frame_len, Stop, FRAME_HEADER, MAX_PAYLOAD};

/// Bytes read from a file per request.
pub const CHUNK: usize = 2 << 20;

/// Requests kept ahead of the chunk being loaded.
pub const AHEAD: usize = 8;

/// How a shard reads its files during warm-up: `chunk` bytes (a multiple of 4 KiB) per
/// request, through its own ring and buffers where it could make them.
pub struct Reader {
    chunk: usize,
    ring: Option<Ring>,
}

impl Reader {
    /// A reader with its own ring and [`AHEAD`] + 1 buffers (one is loaded while the
    /// others are read into) when `own_ring` (start-up found room for it under
    /// `ulimit -l`: [`crate::memlock::warmup_ring_fits`]); glommio's reads if not, or if
    /// the kernel gives no ring.
    pub fn new(chunk: usize, own_ring: bool) -> Reader {
        if !own_ring {
            log::info!("warm-up: reading through glommio's io_uring (ulimit -l leaves no room for a ring of its own)");
            return Reader::glommio(chunk);
        }
        let ring = match Ring::new(AHEAD + 1, chunk) {
            Ok(ring) => Some(ring),
            Err(e) => {
                log::warn!("warm-up: no io_uring of its own ({e}); reading through glommio's, each read into a new buffer");
                None
            }
        };
        Reader { chunk, ring }
    }

    /// A reader through glommio's reads only.
    pub fn glommio(chunk: usize) -> Reader {
        Reader { chunk, ring: None }
    }
}

/// A file's chunks in order, [`AHEAD`] of them requested before they are asked for.
enum Chunks<'r> {
    Ring(RingChunks<'r>),
    Glommio(GlommioChunks),
}

/// A chunk the caller loads: a buffer of the ring (its slot and length) or glommio's read.
enum Held {
    Slot(usize, usize),
    Read(ReadResult),
}

impl Chunks<'_> {
    /// The next chunk: its offset, its bytes, and whether it is the last (the file ends
    /// with it, or it came back short).
    async fn next(&mut self) -> Option<io::Result<(u64, Held, bool)>> {
        match self {
            Chunks::Ring(c) => c.next(),
            Chunks::Glommio(c) => c.next().await,
        }
    }

    fn bytes<'a>(&'a self, held: &'a Held) -> &'a [u8] {
        match (self, held) {
            (Chunks::Ring(c), Held::Slot(slot, n)) => c.ring.bytes(*slot, *n),
            (_, Held::Read(r)) => r,
            (Chunks::Glommio(_), Held::Slot(..)) => unreachable!("a slot from glommio"),
        }
    }

    /// Gives back a chunk once loaded.
    fn release(&mut self, held: Held) {
        if let (Chunks::Ring(c), Held::Slot(slot, _)) = (self, held) {
            c.ring.release(slot);
        }
    }

    async fn close(self) {
        match self {
            Chunks::Ring(c) => c.ring.drain(),
            Chunks::Glommio(c) => c.close().await,
        }
    }
}

/// A file's chunks read through a shard's own [`Ring`].
struct RingChunks<'r> {
    ring: &'r mut Ring,
    file: File,
    size: u64,
    /// The offset of the next chunk to request.
    next: u64,
    /// Requested chunks, in file order: (buffer, offset, bytes wanted).
    pending: VecDeque<(usize, u64, usize)>,
}

impl<'r> RingChunks<'r> {
    fn open(ring: &'r mut Ring, path: &Path) -> io::Result<RingChunks<'r>> {
        let file = Ring::open(path)?;
        let size = file.metadata()?.len();
        let mut c = RingChunks {
            ring,
            file,
            size,
            next: 0,
            pending: VecDeque::new(),
        };
        c.fill()?;
        Ok(c)
    }

    /// Requests chunks into the free buffers, up to [`AHEAD`] pending, until the file is
    /// all requested.
    fn fill(&mut self) -> io::Result<()> {
        let mut queued = false;
        while self.pending.len() < AHEAD && self.next < self.size {
            let Some(slot) = self.ring.free_slot() else {
                break;
            };
            let pos = self.next;
            let want = self.ring.chunk().min((self.size - pos) as usize);
            self.ring.queue(&self.file, slot, pos, want)?;
            self.pending.push_back((slot, pos, want));
            self.next += want as u64;
            queued = true;
        }
        if queued {
            self.ring.submit()?;
        }
        Ok(())
    }

    fn next(&mut self) -> Option<io::Result<(u64, Held, bool)>> {
        let (slot, pos, want) = self.pending.pop_front()?;
        let r = self.fill().and_then(|()| self.ring.take(slot));
        let n = match r {
            Ok(n) => n.min(want),
            Err(e) => return Some(Err(e)),
        };
        let last = pos + n as u64 >= self.size || n < want;
        if last {
            // Reads still in flight past a short one are waited for at close.
            self.pending.clear();
            self.next = self.size;
        }
        Some(Ok((pos, Held::Slot(slot, n), last)))
    }
}

/// A file's chunks read through glommio, each into a buffer of its own.
struct GlommioChunks {
    file: Rc<DmaFile>,
    size: u64,
    /// Bytes per request (a multiple of 4 KiB).
    chunk: usize,
    /// The offset of the next chunk to request.
    next: u64,
    /// Requested chunks, in file order: (offset, bytes wanted, the read).
    pending: VecDeque<(u64, usize, glommio::Task<io::Result<ReadResult>>)>,
}

impl GlommioChunks {
    async fn open(path: &Path, chunk: usize) -> io::Result<GlommioChunks> {
        let file = DmaFile::open(path).await?;
        let size = file.file_size().await?;
        let mut c = GlommioChunks {
            file: Rc::new(file),
            size,
            chunk,
            next: 0,
            pending: VecDeque::new(),
        };
        c.fill();
        Ok(c)
    }

    /// Requests chunks until [`AHEAD`] are pending or the file is all requested. A request
    /// queued while the shard loads reaches the kernel only at the executor's next pass
    /// through its ring (its preempt timer, 5 ms).
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

    async fn next(&mut self) -> Option<io::Result<(u64, Held, bool)>> {
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
                .map(|b| (pos, Held::Read(b), last))
                .ok_or_else(|| io::Error::other("a read came back longer than asked")),
        )
    }

    async fn close(self) {
        drop(self.pending);
        let _ = self.file.close_rc().await;
    }
}

/// Feeds a file's bytes to `load` in windows of whole frames, in order (read a chunk at
/// a time by `reader`), and returns where and why decoding stopped (as
/// [`super::record::Decoder::stopped`] would over the whole file).
///
/// `load(window, at)` decodes and loads `window` (which begins at file offset `at`) and
/// returns where its decoding stopped in it and why. A stop that is not final (a frame cut
/// short, zeros that may be padding, or a bad frame with no good one after it yet, while
/// more of the file follows) is kept in `carry` (a buffer reused from file to file) and
/// decoded again with what the next chunk adds. Between chunks the task yields when its
/// time slice is over.
pub async fn read_frames(
    reader: &mut Reader,
    path: &Path,
    carry: &mut Vec<u8>,
    mut load: impl FnMut(&[u8], u64) -> (usize, Stop),
) -> io::Result<(u64, Stop)> {
    let mut chunks = match &mut reader.ring {
        Some(ring) => match RingChunks::open(ring, path) {
            Ok(c) => Chunks::Ring(c),
            Err(e) => {
                // Reads queued before the failure would keep their buffers from the
                // next file (warm-up goes on with it).
                ring.drain();
                return Err(e);
            }
        },
        None => Chunks::Glommio(GlommioChunks::open(path, reader.chunk).await?),
    };
    let r = frames(&mut chunks, carry, &mut load).await;
    chunks.close().await;
    r
}

async fn frames(
    chunks: &mut Chunks<'_>,
    carry: &mut Vec<u8>,
    load: &mut impl FnMut(&[u8], u64) -> (usize, Stop),
) -> io::Result<(u64, Stop)> {
    carry.clear();
    // The file offset of carry's first byte.
    let mut carry_at = 0u64;
    while let Some(chunk) = chunks.next().await {
        let (pos, held, last) = chunk?;
        let ended = step(chunks.bytes(&held), pos, last, carry, &mut carry_at, load);
        chunks.release(held);
        if let Some(stop) = ended {
            return Ok(stop);
        }
        glommio::yield_if_needed().await;
    }
    // An empty file.
    Ok((carry_at, Stop::Clean))
}

/// Loads `chunk` (at file offset `pos`), after what `carry` (at `carry_at`) holds of a
/// frame the previous chunk cut; keeps in `carry` what decoding could not yet decide.
/// Where and why decoding stopped, once the file ends with this chunk (`last`).
fn step(
    chunk: &[u8],
    pos: u64,
    last: bool,
    carry: &mut Vec<u8>,
    carry_at: &mut u64,
    load: &mut impl FnMut(&[u8], u64) -> (usize, Stop),
) -> Option<(u64, Stop)> {
    let mut from = 0;
    if !carry.is_empty() {
        from = to_complete(carry, chunk);
        carry.extend_from_slice(&chunk[..from]);
        let (mut at, mut why) = load(carry, *carry_at);
        if at < carry.len() && from < chunk.len() {
            // The carry held its frame whole and decoding still stopped in it: a bad
            // frame with no good one after it in the carry. The rest of the chunk may
            // hold one: decode again with it.
            carry.drain(..at);
            *carry_at += at as u64;
            carry.extend_from_slice(&chunk[from..]);
            from = chunk.len();
            (at, why) = load(carry, *carry_at);
        }
        carry.drain(..at);
        *carry_at += at as u64;
        if from == chunk.len() {
            return last.then_some((*carry_at, why));
        }
        // The carry was decoded whole; the chunk's rest is a window of its own.
        debug_assert!(carry.is_empty());
    }
    let window = &chunk[from..];
    let (at, why) = load(window, pos + from as u64);
    let at_file = pos + (from + at) as u64;
    if last {
        return Some((at_file, why));
    }
    carry.extend_from_slice(&window[at..]);
    *carry_at = at_file;
    None
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

    /// Each file of `paths` read in turn by one reader with chunks of `chunk` bytes, its
    /// own ring's (`ring`) or glommio's: what decoding gave for each.
    fn streamed(paths: &[std::path::PathBuf], chunk: usize, ring: bool) -> Vec<Decoded> {
        let paths = paths.to_vec();
        glommio::LocalExecutorBuilder::default()
            .spawn(move || async move {
                let mut reader = if ring {
                    let r = Reader::new(chunk, true);
                    assert!(r.ring.is_some(), "the test's reader has a ring");
                    r
                } else {
                    Reader::glommio(chunk)
                };
                let mut carry = Vec::new();
                let mut out = Vec::new();
                for path in &paths {
                    let mut recs = Vec::new();
                    let mut skipped = Vec::new();
                    let stop = read_frames(&mut reader, path, &mut carry, |window, base| {
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
                    out.push((recs, skipped, stop));
                }
                out
            })
            .expect("an executor")
            .join()
            .expect("the executor ran")
    }

    #[test]
    fn chunked_reading_loads_and_stops_as_reading_the_whole_file() {
        let dir = std::env::temp_dir().join(format!("corecached-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory");
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
        let paths: Vec<_> = cases
            .iter()
            .enumerate()
            .map(|(i, (_, bytes))| {
                let path = dir.join(format!("j-{i}.log"));
                std::fs::write(&path, bytes).expect("write the file");
                path
            })
            .collect();
        // One reader for every file, as warm-up reads a shard's files: its buffers are
        // reused from chunk to chunk and file to file.
        for ring in [true, false] {
            for chunk in [4096, 8192, 3 * 4096, 1 << 20] {
                let got = streamed(&paths, chunk, ring);
                for ((name, bytes), got) in cases.iter().zip(got) {
                    assert_eq!(
                        got,
                        whole(bytes),
                        "{name}, chunks of {chunk}, own ring: {ring}"
                    );
                }
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
