//! The binary protocol's key commands run against a store, with memcached's response packets.
//!
//! SKELETON: being written.

use super::ReplySink;
use crate::protocol::binary::BinRequest;
use crate::stats::Counters;
use crate::store::Store;

/// Runs one binary key command at unix time `now` and appends its response packet (nothing
/// when a quiet command's rules suppress it) to `sink`.
pub fn execute<R: ReplySink>(
    _store: &mut Store,
    _counters: &Counters,
    _req: &BinRequest<'_>,
    _now: u32,
    _sink: &mut R,
) {
}
