//! The meta commands, fed through the text parser like a connection feeds them: the input's
//! first byte picks the server limits, the second seeds where the reads are cut, and every
//! line of the rest is given a meta command word (`mg ms md ma me mn`, chosen by its first
//! byte) so that libFuzzer spends its time on meta flags, keys and data blocks. Asserts every
//! invariant of `harness::drive` — for meta requests also that the raw bytes are exactly the
//! bytes used and parse again to the same request (what forwarding to the owner shard relies
//! on) — and that reading whole or in pieces gives the same requests.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod harness;

fuzz_target!(|data: &[u8]| {
    let [config, seed, rest @ ..] = data else {
        return;
    };
    let mut stream = Vec::with_capacity(rest.len() + rest.len() / 4 + 8);
    for line in rest.split_inclusive(|&b| b == b'\n') {
        let (pick, body) = line.split_first().map_or((0, line), |(p, b)| (*p, b));
        let word: &[u8] = [&b"mg "[..], b"ms ", b"md ", b"ma ", b"me ", b"mn"][usize::from(pick % 6)];
        stream.extend_from_slice(word);
        stream.extend_from_slice(body);
    }
    let (limits, cuts) = harness::fuzz_setup(*config, *seed, stream.len());
    harness::check_fragmentation(&stream, &cuts, &limits);
});
