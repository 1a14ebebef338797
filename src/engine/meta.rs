//! The meta commands run against a store, with memcached's meta reply formats.
//!
//! SKELETON: being written.

use super::ReplySink;
use crate::protocol::meta::MetaRequest;
use crate::stats::Counters;
use crate::store::Store;

/// Runs one meta command at unix time `now` and appends its reply (nothing when quiet mode
/// suppresses it) to `sink`.
pub fn execute<R: ReplySink>(
    _store: &mut Store,
    _counters: &Counters,
    _req: &MetaRequest<'_>,
    _now: u32,
    sink: &mut R,
) {
    sink.bytes()
        .extend_from_slice(b"SERVER_ERROR unimplemented\r\n");
}
