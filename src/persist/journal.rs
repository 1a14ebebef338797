//! A shard's journal: the records of the store's mutations not yet handed to the flusher.
//! Plain memory, owned by the store (which appends) and emptied by the flusher (which swaps
//! it for an empty one); no I/O.

use super::record;

/// Records waiting to be written, in the order the mutations were made.
#[derive(Debug, Default)]
pub struct Journal {
    /// The encoded records.
    pub buf: Vec<u8>,
    /// How many records `buf` holds.
    pub records: u64,
    /// Offsets in `buf` where a flush record starts: the flusher begins a new file at each,
    /// so that warm-up can start from the newest flush without reading what it cleared.
    pub flush_marks: Vec<usize>,
}

impl Journal {
    /// The item's state after a write.
    #[allow(clippy::too_many_arguments)]
    pub fn set(
        &mut self,
        time: u32,
        flags: u32,
        exptime: u32,
        cas: u64,
        bits: u8,
        key: &[u8],
        value: &[u8],
    ) {
        record::encode_set(&mut self.buf, time, flags, exptime, cas, bits, key, value);
        self.records += 1;
    }

    pub fn delete(&mut self, time: u32, key: &[u8]) {
        record::encode_delete(&mut self.buf, time, key);
        self.records += 1;
    }

    /// `flush_all`: `at` 0 at once.
    pub fn flush(&mut self, time: u32, at: u32) {
        self.flush_marks.push(self.buf.len());
        record::encode_flush(&mut self.buf, time, at);
        self.records += 1;
    }

    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Moves the records into `into` (emptied first), leaving this journal empty with
    /// `into`'s old buffers, so neither side allocates in steady state.
    pub fn take_into(&mut self, into: &mut Journal) {
        into.buf.clear();
        into.records = 0;
        into.flush_marks.clear();
        std::mem::swap(self, into);
    }
}
