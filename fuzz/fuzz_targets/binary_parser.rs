//! The binary protocol parser fed like a connection: the input's first byte picks the server
//! limits, the second seeds where the reads are cut, the rest is the byte stream. Asserts
//! every invariant of `harness::drive_binary` (a packet uses at least its header and at most
//! the input, its raw bytes are what it used and re-parse to the same request, used plus
//! swallowed is exactly the packet, `need` agrees with the parse, parsing is pure) and that
//! reading the stream whole or in pieces gives the same packets.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod harness;

fuzz_target!(|data: &[u8]| {
    let [config, seed, stream @ ..] = data else {
        return;
    };
    let (limits, cuts) = harness::fuzz_setup(*config, *seed, stream.len());
    harness::check_binary_fragmentation(stream, &cuts, &limits);
});
