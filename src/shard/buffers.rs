//! A shard's spare connection buffers, lent to connections and to its network ring.

use std::rc::Rc;

/// A connection's read buffer, and the size of the small ones the pool keeps.
pub const READ_BUF: usize = 16 << 10;

/// Small buffers of each kind a shard keeps for its connections to borrow, at least: more
/// when its memory allows ([`BufferPool::new`]).
const POOL_MIN: usize = 64;
/// Bytes of small buffers of each kind a shard keeps at most.
const POOL_BYTES_MAX: usize = 16 << 20;

/// A shard's spare connection buffers. A connection that parks (or, with parking off,
/// waits for input with nothing buffered) lends its read and reply buffers here and
/// borrows them back when bytes arrive, so 10,000 idle connections hold no buffers, and a
/// waking connection borrows without allocating. A waiting connection gives back at once
/// only buffers grown past the small size.
///
/// Buffers grown by large values (a `set` of 100 KiB read whole, a reply the socket did
/// not take at once) are kept too, up to [`BufferPool::new`]'s budget: a fresh one costs a
/// page fault per 4 KiB touched, which with 100 KiB values was about a tenth of the
/// server's CPU (perf, `scripts/ab.py --data-size 102400`).
#[derive(Debug)]
pub struct BufferPool {
    read: std::cell::RefCell<Vec<Vec<u8>>>,
    out: std::cell::RefCell<Vec<Vec<u8>>>,
    /// Grown read buffers, every byte initialized (`len` is their size).
    big_read: std::cell::RefCell<Vec<Vec<u8>>>,
    /// Grown reply buffers, empty.
    big_out: std::cell::RefCell<Vec<Vec<u8>>>,
    /// Capacity held in the two big lists.
    big_bytes: std::cell::Cell<usize>,
    /// Most capacity the big lists may hold.
    big_budget: usize,
    /// Most buffers each small list may hold.
    small_max: usize,
    /// The shortest each small list has been since the last [`BufferPool::trim`]: that
    /// many buffers were not needed in that time.
    read_low: std::cell::Cell<usize>,
    out_low: std::cell::Cell<usize>,
    /// Copied reply bytes that connections whose sockets are full still hold.
    reply_waiting: std::cell::Cell<usize>,
    /// Past this many, replies hold values in place instead of copying them
    /// ([`BufferPool::replies_over_budget`]).
    reply_budget: usize,
    /// KiB that read buffers grown past [`READ_BUF`] may hold, all connections together.
    read_budget: Rc<glommio::sync::Semaphore>,
    read_budget_kib: u64,
}

/// Most bytes of grown buffers a shard keeps for reuse.
const BIG_POOL_BYTES: usize = 8 << 20;
/// The largest buffer kept for reuse.
const BIG_MAX: usize = 2 << 20;

impl BufferPool {
    /// A shard's pool. Grown buffers it keeps are bounded by a sixteenth of the shard's
    /// memory limit (`-m` over the shards) and by `BIG_POOL_BYTES`, so with a small `-m`
    /// the process stays near its limit (tests/store.rs holds it to 4 MiB over).
    ///
    /// Small buffers: as many as that sixteenth holds (at most `POOL_BYTES_MAX`), at
    /// least `POOL_MIN`, of each kind. A shard whose busy connections outnumber what it
    /// keeps frees buffers as connections go idle and allocates them again, zeroed, as
    /// they wake: with 200 connections at pipeline 16, 2 shards, `memset` and `malloc`
    /// took about 25 ns per request (perf) when it kept 64. memcached's read buffer cache
    /// keeps what its connections have used (`-o read_buf_mem_limit`, unlimited by default).
    pub fn new(shard_mem: usize) -> BufferPool {
        BufferPool {
            read: Default::default(),
            out: Default::default(),
            big_read: Default::default(),
            big_out: Default::default(),
            big_bytes: Default::default(),
            big_budget: (shard_mem / 16).min(BIG_POOL_BYTES),
            small_max: ((shard_mem / 16).min(POOL_BYTES_MAX) / READ_BUF).max(POOL_MIN),
            read_low: Default::default(),
            out_low: Default::default(),
            reply_waiting: Default::default(),
            reply_budget: Self::budget(shard_mem),
            read_budget: Rc::new(glommio::sync::Semaphore::new(
                (Self::budget(shard_mem) >> 10) as u64,
            )),
            read_budget_kib: (Self::budget(shard_mem) >> 10) as u64,
        }
    }

    /// Each of the two per-shard budgets for memory outside the store: an eighth of the
    /// shard's `-m`, at least 1 MiB (a largest default item).
    pub fn budget(shard_mem: usize) -> usize {
        (shard_mem / 8).max(1 << 20)
    }

    /// Whether the copied replies waiting on full sockets use the shard's budget up: then
    /// passes stop early and values are held, not copied.
    pub fn replies_over_budget(&self) -> bool {
        self.reply_waiting.get() >= self.reply_budget
    }

    /// Moves a reply's count of copied bytes waiting to be sent from `*counted` to `bytes`.
    pub fn count_reply(&self, counted: &mut usize, bytes: usize) {
        let w = &self.reply_waiting;
        w.set(w.get() - *counted + bytes);
        *counted = bytes;
    }

    /// A sent reply's copied bytes no longer wait.
    pub fn uncount_reply(&self, bytes: usize) {
        self.reply_waiting.set(self.reply_waiting.get() - bytes);
    }

    /// Holds the share of the read budget that `kib` KiB of grown read buffer need,
    /// waiting until other connections give theirs back (a request larger than the whole
    /// budget waits for all of it). None once the server stops.
    pub async fn reserve_read(&self, kib: u64) -> Option<(glommio::sync::StaticPermit, u64)> {
        let kib = kib.min(self.read_budget_kib);
        let p = self.read_budget.acquire_static_permit(kib).await.ok()?;
        Some((p, kib))
    }

    /// Copied reply bytes waiting on full sockets (`stats`).
    pub fn reply_bytes_waiting(&self) -> usize {
        self.reply_waiting.get()
    }

    /// KiB of grown read buffers held now (`stats`).
    pub fn read_kib_held(&self) -> u64 {
        self.read_budget_kib - self.read_budget.available()
    }

    /// Frees the small buffers that have sat unused since the last call (down to
    /// `POOL_MIN` of each kind) and returns how many. The shard calls it about once a
    /// second: a burst of connections can fill the pool (each keeps its buffers until the
    /// others have had a turn), and the steady load keeps what it uses.
    pub fn trim(&self) -> usize {
        let mut freed = 0;
        for (list, low) in [(&self.read, &self.read_low), (&self.out, &self.out_low)] {
            let mut list = list.borrow_mut();
            let surplus = low.get().min(list.len().saturating_sub(POOL_MIN));
            let keep = list.len() - surplus;
            list.truncate(keep);
            list.shrink_to_fit();
            freed += surplus;
            low.set(list.len());
        }
        freed
    }

    /// A read buffer: `READ_BUF` initialized bytes.
    pub fn take_read(&self) -> Vec<u8> {
        Self::pop_small(&self.read, &self.read_low).unwrap_or_else(|| vec![0; READ_BUF])
    }

    /// An empty reply buffer with room for `READ_BUF` bytes.
    pub fn take_out(&self) -> Vec<u8> {
        Self::pop_small(&self.out, &self.out_low).unwrap_or_else(|| Vec::with_capacity(READ_BUF))
    }

    /// A spare small buffer, if any, noting how low the list went (for [`BufferPool::trim`]).
    fn pop_small(
        list: &std::cell::RefCell<Vec<Vec<u8>>>,
        low: &std::cell::Cell<usize>,
    ) -> Option<Vec<u8>> {
        let mut list = list.borrow_mut();
        let b = list.pop();
        low.set(low.get().min(list.len()));
        b
    }

    /// A read buffer of at least `len` initialized bytes.
    pub fn take_big_read(&self, len: usize) -> Vec<u8> {
        let mut v = self
            .take_big(&self.big_read, len, |v| v.len())
            .unwrap_or_default();
        if v.len() < len {
            v.resize(len, 0);
        }
        v
    }

    /// An empty reply buffer with room for at least `len` bytes: a small one, or a grown
    /// one kept from earlier (or, failing that, a new one of the next power of two).
    pub fn take_out_for(&self, len: usize) -> Vec<u8> {
        let mut out = if len <= 4 * READ_BUF {
            self.take_out()
        } else {
            self.take_big(&self.big_out, len, |v| v.capacity())
                .unwrap_or_else(|| {
                    Vec::with_capacity(len.next_power_of_two().min(BIG_MAX).max(len))
                })
        };
        out.reserve(len);
        out
    }

    fn take_big(
        &self,
        list: &std::cell::RefCell<Vec<Vec<u8>>>,
        len: usize,
        size: impl Fn(&Vec<u8>) -> usize,
    ) -> Option<Vec<u8>> {
        let mut list = list.borrow_mut();
        let i = list.iter().position(|v| size(v) >= len)?;
        let v = list.swap_remove(i);
        self.big_bytes.set(self.big_bytes.get() - v.capacity());
        Some(v)
    }

    fn put_big(&self, list: &std::cell::RefCell<Vec<Vec<u8>>>, v: Vec<u8>) {
        let cap = v.capacity();
        if cap <= BIG_MAX && self.big_bytes.get() + cap <= self.big_budget {
            self.big_bytes.set(self.big_bytes.get() + cap);
            list.borrow_mut().push(v);
        }
    }

    /// Takes back a read and a reply buffer.
    pub fn put(&self, rbuf: Vec<u8>, out: Vec<u8>) {
        self.put_read(rbuf);
        self.put_out(out);
    }

    pub fn put_read(&self, rbuf: Vec<u8>) {
        if rbuf.len() > READ_BUF {
            return self.put_big(&self.big_read, rbuf);
        }
        let mut read = self.read.borrow_mut();
        if rbuf.len() == READ_BUF && read.len() < self.small_max {
            read.push(rbuf);
        }
    }

    pub fn put_out(&self, mut out: Vec<u8>) {
        out.clear();
        if out.capacity() > 4 * READ_BUF {
            return self.put_big(&self.big_out, out);
        }
        let mut pool = self.out.borrow_mut();
        if out.capacity() >= READ_BUF && pool.len() < self.small_max {
            pool.push(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_pool_reuses_grown_buffers_within_its_budget() {
        // 16 MiB of -m for the shard: a budget of 1 MiB.
        let pool = BufferPool::new(16 << 20);
        assert_eq!(pool.big_budget, 1 << 20);
        let mut grown = pool.take_big_read(200 << 10);
        assert!(grown.len() >= 200 << 10, "read buffers come initialized");
        grown[0] = 7;
        let ptr = grown.as_ptr();
        pool.put_read(grown);
        // A smaller request is served by the kept buffer: same memory, nothing allocated.
        let again = pool.take_big_read(150 << 10);
        assert_eq!(again.as_ptr(), ptr);
        assert_eq!(again[0], 7);
        pool.put_read(again);
        // A reply buffer comes back empty with room for what was asked.
        let mut out = pool.take_out_for(300 << 10);
        assert!(out.is_empty() && out.capacity() >= 300 << 10);
        out.extend_from_slice(b"VALUE");
        let cap = out.capacity();
        pool.put_out(out);
        assert_eq!(pool.big_bytes.get(), (200 << 10) + cap);
        // Past the budget, or past BIG_MAX, a buffer is dropped, not kept.
        pool.put_read(vec![0; 400 << 10]);
        pool.put_out(Vec::with_capacity(BIG_MAX + 1));
        assert_eq!(pool.big_bytes.get(), (200 << 10) + cap);
        assert!(pool.take_out_for(4 * READ_BUF + 1).is_empty());
        assert_eq!(pool.big_bytes.get(), 200 << 10);
        // Small buffers keep their own lists.
        pool.put(vec![0; READ_BUF], Vec::with_capacity(READ_BUF));
        assert_eq!(pool.read.borrow().len(), 1);
        assert_eq!(pool.out.borrow().len(), 1);
        assert_eq!(pool.big_bytes.get(), 200 << 10);
    }

    #[test]
    fn buffer_pool_frees_what_went_unused_since_the_last_trim() {
        let pool = BufferPool::new(64 << 20); // keeps up to 256 of each
        for _ in 0..200 {
            pool.put(vec![0; READ_BUF], Vec::with_capacity(READ_BUF));
        }
        // Nothing was watched before the first call: it frees nothing.
        assert_eq!(pool.trim(), 0);
        // Busy: 150 of each lent at once and given back, so 50 of each sat unused.
        let r: Vec<_> = (0..150).map(|_| pool.take_read()).collect();
        let o: Vec<_> = (0..150).map(|_| pool.take_out()).collect();
        for (r, o) in r.into_iter().zip(o) {
            pool.put(r, o);
        }
        assert_eq!(pool.trim(), 2 * 50);
        assert_eq!(pool.read.borrow().len(), 150);
        assert_eq!(pool.out.borrow().len(), 150);
        // Idle: all of them unused, freed down to POOL_MIN.
        assert_eq!(pool.trim(), 2 * (150 - POOL_MIN));
        assert_eq!(pool.read.borrow().len(), POOL_MIN);
        assert_eq!(pool.out.borrow().len(), POOL_MIN);
        assert_eq!(pool.trim(), 0);
    }

    #[test]
    fn buffer_pool_keeps_as_many_small_buffers_as_its_memory_allows() {
        // (-m for the shard, small buffers of each kind kept): a sixteenth of -m, at least
        // POOL_MIN, at most POOL_BYTES_MAX.
        for (mem, kept) in [(8 << 20, POOL_MIN), (64 << 20, 256), (1 << 30, 1024)] {
            let pool = BufferPool::new(mem);
            for _ in 0..kept + 10 {
                pool.put(vec![0; READ_BUF], Vec::with_capacity(READ_BUF));
            }
            assert_eq!(pool.read.borrow().len(), kept, "-m {mem}");
            assert_eq!(pool.out.borrow().len(), kept, "-m {mem}");
            // Every one is lent again without allocating a new one.
            let ptrs: Vec<_> = pool.read.borrow().iter().map(|v| v.as_ptr()).collect();
            for _ in 0..kept {
                let b = pool.take_read();
                assert!(ptrs.contains(&b.as_ptr()));
                assert_eq!(b.len(), READ_BUF);
            }
        }
    }
}
