//! Key dumps from every shard: `lru_crawler metadump` and `stats cachedump`.
//!
//! ```text
//!   conn (any shard) ── Job posted on every shard's desk ──► each shard's dump task
//!        ▲                                                   (low-priority engine task)
//!        │ takes a chunk, sends it, wakes the producer  ◄──  walks its store from a cursor,
//!        └── until every shard's part is done, then END      one chunk of lines at a time
//! ```
//!
//! A [`Job`] has one part per shard. The shard's [`DumpTask`] fills its part with one chunk
//! of lines (bounded steps of [`crate::store::Store::walk_step`]) and waits; the asking
//! connection takes the chunk, hands it to its socket once the previous one has gone, and
//! wakes the producer for the next. So a dump never holds more than one chunk per shard,
//! a client that reads slowly slows only its own dump, and requests always run first (the
//! task runs in a low-priority queue, a bounded step at a time).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::admin::Admin;
use crate::config::Settings;
use crate::num::push_u64;
use crate::protocol::admin::Classes;
use crate::protocol::memcached_item_size;
use crate::store::classes::Classes as SlabClasses;
use crate::store::{Store, WalkCursor, WalkItem};
use crate::tasks::{Next, Queue, Task};

/// Bytes of lines a shard produces before it hands them over.
pub const CHUNK: usize = 32 << 10;
/// Index buckets one walk step covers (about 450 items).
const STEP_BUCKETS: usize = 64;
/// Walk steps one run of the dump task makes at most for one job.
const STEPS_PER_RUN: usize = 16;
/// memcached's `item_cachedump` buffer, 2 MB, less the `END\r\n` and NUL it keeps room for.
const CACHEDUMP_BYTES: u64 = 2 * 1024 * 1024 - 6;

/// What a dump lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `lru_crawler metadump`: items of these classes, one `key=… exp=… …` line each.
    Metadump(Classes),
    /// `stats cachedump <class> <limit>`: `ITEM <key> [<bytes> b; <exptime> s]` lines.
    Cachedump { class: u32 },
}

/// A part's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// The producer owes the next chunk.
    Wanted,
    /// A chunk waits for the connection; `last` if the part ends with it.
    Ready { last: bool },
    /// Everything is handed over.
    Done,
}

#[derive(Debug)]
struct Part {
    state: State,
    chunk: Vec<u8>,
    cursor: WalkCursor,
}

/// One dump: a part per shard, and the connection waiting for their chunks.
#[derive(Debug)]
pub struct Job {
    kind: Kind,
    parts: Vec<Mutex<Part>>,
    consumer: Mutex<Option<Waker>>,
    /// The connection went away: producers drop the job.
    cancelled: AtomicBool,
    /// `stats cachedump`'s limits, over all shards: lines, and bytes of reply.
    lines_left: AtomicU64,
    bytes_left: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Job {
    /// A dump over `shards` shards; `limit` lines at most (0: as many as fit memcached's
    /// 2 MB `stats cachedump` reply; a metadump has no limit).
    pub fn new(kind: Kind, shards: usize, limit: u32) -> Arc<Job> {
        let (lines, bytes) = match kind {
            Kind::Metadump(_) => (u64::MAX, u64::MAX),
            Kind::Cachedump { .. } if limit == 0 => (u64::MAX, CACHEDUMP_BYTES),
            Kind::Cachedump { .. } => (u64::from(limit), CACHEDUMP_BYTES),
        };
        Arc::new(Job {
            kind,
            parts: (0..shards)
                .map(|_| {
                    Mutex::new(Part {
                        state: State::Wanted,
                        chunk: Vec::new(),
                        cursor: WalkCursor::default(),
                    })
                })
                .collect(),
            consumer: Mutex::new(None),
            cancelled: AtomicBool::new(false),
            lines_left: AtomicU64::new(lines),
            bytes_left: AtomicU64::new(bytes),
        })
    }

    /// The connection's side: appends the next chunk any shard has ready to `out`
    /// (`Ready(true)`), and calls `wake(shard)` so that shard makes the next; `Ready(false)`
    /// once every part is done.
    pub fn poll_chunk(
        &self,
        cx: &mut Context<'_>,
        out: &mut Vec<u8>,
        wake: impl Fn(usize),
    ) -> Poll<bool> {
        // The waker first: a producer that readies a part after the scan below finds it.
        *lock(&self.consumer) = Some(cx.waker().clone());
        let mut all_done = true;
        for (shard, part) in self.parts.iter().enumerate() {
            let mut p = lock(part);
            match p.state {
                State::Done => continue,
                State::Wanted => all_done = false,
                State::Ready { last } => {
                    out.extend_from_slice(&p.chunk);
                    p.chunk.clear();
                    p.state = if last { State::Done } else { State::Wanted };
                    drop(p);
                    if !last {
                        wake(shard);
                    }
                    return Poll::Ready(true);
                }
            }
        }
        if all_done {
            Poll::Ready(false)
        } else {
            Poll::Pending
        }
    }

    /// Ends shard `shard`'s part where it is (the shard stopped): the dump ends without
    /// the rest of its items.
    pub fn end_part(&self, shard: usize) {
        let mut p = lock(&self.parts[shard]);
        if p.state == State::Wanted {
            p.state = State::Ready { last: true };
        }
        drop(p);
        self.wake_consumer();
    }

    /// The connection gives up the dump (it closed, or the server stops).
    pub fn cancel(&self) {
        self.cancelled.store(true, SeqCst);
    }

    fn wake_consumer(&self) {
        if let Some(w) = lock(&self.consumer).take() {
            w.wake();
        }
    }

    /// Whether shard `shard` has nothing more to make for this job.
    fn finished_on(&self, shard: usize) -> bool {
        self.cancelled.load(SeqCst)
            || matches!(
                lock(&self.parts[shard]).state,
                State::Done | State::Ready { last: true }
            )
    }

    /// Takes one line's worth of `stats cachedump`'s limits; false once they are spent.
    fn admit(&self, len: usize) -> bool {
        let take = |c: &AtomicU64, n: u64| {
            c.fetch_update(SeqCst, SeqCst, |left| left.checked_sub(n))
                .is_ok()
        };
        if !take(&self.lines_left, 1) {
            return false;
        }
        if !take(&self.bytes_left, len as u64) {
            // memcached stops at the first line that does not fit: so does every shard.
            self.lines_left.store(0, SeqCst);
            return false;
        }
        true
    }

    fn spent(&self) -> bool {
        self.lines_left.load(SeqCst) == 0
    }
}

/// memcached's `uriencode`: every byte but letters, digits and `-._~` as `%XX`.
pub fn uriencode(key: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in key {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// How an item is shown: the slab classes and whether CAS is on (memcached counts 8
/// bytes of CAS in an item's size).
#[derive(Clone, Debug)]
pub struct Format {
    pub classes: SlabClasses,
    pub use_cas: bool,
}

impl Format {
    /// memcached's size of the item, and its slab class.
    pub fn size_and_class(&self, it: &WalkItem<'_>) -> (usize, u8) {
        let size = memcached_item_size(it.key.len(), it.flags, it.vlen, self.use_cas);
        (size, self.classes.class_of(size))
    }

    /// memcached's `crawler_metadump_eval` line, `\n`-terminated as memcached's is.
    pub fn metadump_line(&self, it: &WalkItem<'_>, out: &mut Vec<u8>) {
        let (size, class) = self.size_and_class(it);
        out.extend_from_slice(b"key=");
        uriencode(it.key, out);
        out.extend_from_slice(b" exp=");
        if it.exptime == 0 {
            out.extend_from_slice(b"-1");
        } else {
            push_u64(out, u64::from(it.exptime));
        }
        out.extend_from_slice(b" la=");
        push_u64(out, u64::from(it.last_access));
        out.extend_from_slice(b" cas=");
        push_u64(out, it.cas);
        out.extend_from_slice(if it.fetched {
            b" fetch=yes cls="
        } else {
            b" fetch=no cls="
        });
        push_u64(out, u64::from(class));
        out.extend_from_slice(b" size=");
        push_u64(out, size as u64);
        out.push(b'\n');
    }

    /// memcached's `item_cachedump` line.
    pub fn cachedump_line(it: &WalkItem<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"ITEM ");
        out.extend_from_slice(it.key);
        out.extend_from_slice(b" [");
        push_u64(out, it.vlen as u64);
        out.extend_from_slice(b" b; ");
        push_u64(out, u64::from(it.exptime));
        out.extend_from_slice(b" s]\r\n");
    }
}

/// A shard's dump task: makes the next chunk of every dump whose connection has taken the
/// last one. Sleeps until a dump is posted or a chunk taken.
pub struct DumpTask {
    shard: usize,
    store: Rc<RefCell<Store>>,
    admin: Arc<Admin>,
    format: Format,
    active: Vec<Arc<Job>>,
    line: Vec<u8>,
}

impl DumpTask {
    pub fn new(
        shard: usize,
        store: Rc<RefCell<Store>>,
        admin: Arc<Admin>,
        settings: &Settings,
    ) -> Self {
        DumpTask {
            shard,
            store,
            admin,
            format: Format {
                classes: settings.slab_classes.clone(),
                use_cas: settings.use_cas,
            },
            active: Vec::new(),
            line: Vec::new(),
        }
    }

    /// Fills this shard's part of `job` with its next chunk. The part's lock is held only
    /// to take and give back its cursor and buffer, never during the walk: the connection
    /// that looks at the part runs on another shard's thread.
    fn produce(&mut self, job: &Job, now: u32) {
        let (mut chunk, mut cursor) = {
            let mut part = lock(&job.parts[self.shard]);
            if part.state != State::Wanted {
                return;
            }
            (std::mem::take(&mut part.chunk), part.cursor)
        };
        let mut store = self.store.borrow_mut();
        let format = &self.format;
        let line = &mut self.line;
        let mut steps = 0;
        while chunk.len() < CHUNK && steps < STEPS_PER_RUN && !cursor.done() && !job.spent() {
            store.walk_step(&mut cursor, now, STEP_BUCKETS, |it| match job.kind {
                Kind::Metadump(classes) => {
                    if classes.has(format.size_and_class(it).1) {
                        format.metadump_line(it, &mut chunk);
                    }
                }
                Kind::Cachedump { class } => {
                    // memcached leaves binary keys out of cachedump.
                    if it.key_binary || u32::from(format.size_and_class(it).1) != class {
                        return;
                    }
                    line.clear();
                    Format::cachedump_line(it, line);
                    if job.admit(line.len()) {
                        chunk.extend_from_slice(line);
                    }
                }
            });
            steps += 1;
        }
        drop(store);
        let last = cursor.done() || job.spent();
        let ready = !chunk.is_empty() || last;
        {
            let mut part = lock(&job.parts[self.shard]);
            part.chunk = chunk;
            part.cursor = cursor;
            if ready {
                part.state = State::Ready { last };
            }
        }
        if ready {
            job.wake_consumer();
        }
    }
}

impl Drop for DumpTask {
    /// The shard stops: connections on other shards waiting for its parts get their end.
    fn drop(&mut self) {
        if let Some(desk) = self.admin.desk(self.shard) {
            desk.close(&mut self.active);
        }
        for job in &self.active {
            job.end_part(self.shard);
        }
    }
}

impl Task for DumpTask {
    fn name(&self) -> &'static str {
        "key_dump"
    }
    fn description(&self) -> &'static str {
        "walks the store for lru_crawler metadump and stats cachedump, a chunk at a time"
    }
    fn queue(&self) -> Queue {
        Queue::AuxIo
    }
    fn priority(&self) -> u8 {
        7
    }
    fn run(&mut self, now: u32) -> Next {
        if let Some(desk) = self.admin.desk(self.shard) {
            desk.take_posted(&mut self.active);
        }
        let shard = self.shard;
        self.active.retain(|j| !j.finished_on(shard));
        let jobs = self.active.clone();
        let mut more = false;
        for job in &jobs {
            self.produce(job, now);
            // A run that walked its bounded steps without filling a chunk goes on.
            more |= lock(&job.parts[shard]).state == State::Wanted;
        }
        if more {
            Next::Again
        } else {
            Next::Sleep
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item<'a>(key: &'a [u8], exptime: u32, flags: u32, vlen: usize) -> WalkItem<'a> {
        WalkItem {
            key,
            key_binary: false,
            exptime,
            last_access: 1796589831,
            cas: 2,
            fetched: false,
            flags,
            vlen,
            value: b"",
        }
    }

    /// Lines memcached 1.6.18 printed for `set foo 0 0 3` (read once) and
    /// `set b%20x 5 100 2`.
    #[test]
    fn lines_are_memcacheds() {
        let f = Format {
            classes: SlabClasses::default(),
            use_cas: true,
        };
        let mut out = Vec::new();
        let mut foo = item(b"foo", 0, 0, 3);
        foo.fetched = true;
        foo.cas = 1;
        f.metadump_line(&foo, &mut out);
        f.metadump_line(&item(b"b%20x", 1796589931, 5, 2), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "key=foo exp=-1 la=1796589831 cas=1 fetch=yes cls=1 size=65\n\
             key=b%2520x exp=1796589931 la=1796589831 cas=2 fetch=no cls=1 size=70\n"
        );
        let mut out = Vec::new();
        Format::cachedump_line(&item(b"b%20x", 1796589931, 5, 2), &mut out);
        Format::cachedump_line(&item(b"foo", 0, 0, 3), &mut out);
        assert_eq!(
            out,
            b"ITEM b%20x [2 b; 1796589931 s]\r\nITEM foo [3 b; 0 s]\r\n".to_vec()
        );
    }

    #[test]
    fn uriencode_keeps_only_unreserved_bytes() {
        let mut out = Vec::new();
        uriencode(b"aZ09-._~ /%\x00\xff", &mut out);
        assert_eq!(out, b"aZ09-._~%20%2F%25%00%FF".to_vec());
    }

    #[test]
    fn cachedump_limits_lines_and_bytes_over_all_parts() {
        let j = Job::new(Kind::Cachedump { class: 1 }, 2, 3);
        assert!(j.admit(10) && j.admit(10) && j.admit(10));
        assert!(!j.admit(10) && j.spent());
        let j = Job::new(Kind::Cachedump { class: 1 }, 2, 0);
        assert!(j.admit(CACHEDUMP_BYTES as usize - 5));
        assert!(
            !j.admit(6),
            "the first line that does not fit ends the dump"
        );
        assert!(j.spent());
    }
}
