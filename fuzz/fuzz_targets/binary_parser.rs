//! The binary protocol parser fed like a connection: the input's first byte picks the server
//! limits, the second seeds where the reads are cut, the rest is the byte stream. Asserts
//! every invariant of `harness::drive_binary` (a packet uses at least its header and at most
//! the input, its raw bytes are what it used and re-parse to the same request, used plus
//! swallowed is exactly the packet, `need` agrees with the parse, parsing is pure) and that
//! reading the stream whole or in pieces gives the same packets.

#![no_main]

use corecached::protocol::text::Limits;
use libfuzzer_sys::fuzz_target;

mod harness;

fuzz_target!(|data: &[u8]| {
    let [config, seed, stream @ ..] = data else {
        return;
    };
    let limits = Limits {
        item_size_max: [100, 1024, 2048, 1 << 20][usize::from(config & 3)],
        use_cas: config & 4 == 0,
    };
    let seed = u64::from(*seed).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ stream.len() as u64;
    let cuts = harness::cuts_from_seed(stream.len(), seed);
    harness::check_binary_fragmentation(stream, &cuts, &limits);
});
