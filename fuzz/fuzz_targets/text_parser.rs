//! The text parser fed like a connection: the input's first byte picks the server limits, the
//! second seeds where the reads are cut, the rest is the byte stream. Asserts every invariant
//! of `harness::drive` (a `Done` uses at least its line and at most the input, borrows only
//! what it used, keys of at most 250 bytes; `Incomplete { need }` above the input; parsing is
//! pure) and that reading the stream whole or in pieces gives the same requests (except
//! where memcached's 2048-byte unterminated-line rule depends on read sizes).

#![no_main]

use libfuzzer_sys::fuzz_target;

mod harness;

fuzz_target!(|data: &[u8]| {
    let [config, seed, stream @ ..] = data else {
        return;
    };
    let (limits, cuts) = harness::fuzz_setup(*config, *seed, stream.len());
    harness::check_fragmentation(stream, &cuts, &limits);
});
