//! A connection speaking memcached's binary protocol: the packet loop, the commands that are
//! not for one key (noop, version, quit, flush, stat, verbosity, SASL), and quiet rules.
//!
//! SKELETON: being written.

use super::{Conn, Next};
use crate::shard::Shard;

impl Conn {
    /// Handles the buffered complete packets, as `process_in` does for text.
    pub(super) fn process_binary(&mut self, _shard: &Shard, _rbuf: &[u8], _now: u32) -> Next {
        Next::Close
    }
}
