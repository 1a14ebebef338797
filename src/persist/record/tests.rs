use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Reference CRC32C, a bit at a time: what the tables must agree with.
fn crc_bitwise(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[test]
fn crc32c_known_values() {
    for (data, want) in [
        (&b""[..], 0u32),
        (b"123456789", 0xE306_9283),
        (&[0u8; 32], 0x8A91_36AA),
    ] {
        assert_eq!(crc32c(data), want, "{data:?}");
    }
    // Every length and alignment through the eight-byte loop and its remainder.
    let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
    for start in 0..9 {
        for end in start..data.len() {
            assert_eq!(crc32c(&data[start..end]), crc_bitwise(&data[start..end]));
        }
    }
    let (a, b) = data.split_at(117);
    assert_eq!(crc32c_append(crc32c(a), b), crc32c(&data));
}

/// Each record and its exact bytes (checked against an independent CRC32C).
fn table() -> Vec<(Record<'static>, Vec<u8>)> {
    vec![
        (
            Record::Set {
                time: 1_700_000_000,
                flags: 5,
                exptime: 0,
                cas: 42,
                bits: 0,
                key: b"foo",
                value: b"bar",
            },
            hex("1e00000043d245450100f1536505000000000000002a00000000000000000300666f6f626172"),
        ),
        (
            Record::Delete {
                time: 1_700_000_001,
                key: b"foo",
            },
            hex("0800000052a3934b0201f15365666f6f"),
        ),
        (
            Record::Flush {
                time: 1_700_000_002,
                at: 0,
            },
            hex("09000000736cf1780302f1536500000000"),
        ),
    ]
}

#[test]
fn records_encode_to_exact_bytes_and_decode_back() {
    let mut all = Vec::new();
    for (rec, bytes) in table() {
        let mut out = Vec::new();
        encode(&mut out, &rec);
        assert_eq!(out, bytes, "{rec:?}");
        let mut d = Decoder::new(&out);
        assert_eq!(d.next(), Some((0, rec)));
        assert_eq!(d.next(), None);
        assert_eq!(d.stopped(), Some((out.len(), Stop::Clean)));
        all.extend_from_slice(&out);
    }
    let set_len_bytes = table()[0].1.len();
    assert_eq!(set_len(3, 3), set_len_bytes);
    // All three in a row, then block padding: a clean end where the padding starts.
    let end = all.len();
    all.resize(4096, 0);
    let mut d = Decoder::new(&all);
    let got: Vec<_> = d.by_ref().map(|(_, r)| r).collect();
    let want: Vec<_> = table().into_iter().map(|(r, _)| r).collect();
    assert_eq!(got, want);
    assert_eq!(d.stopped(), Some((end, Stop::Clean)));
}

#[test]
fn a_torn_tail_is_detected_at_every_byte_offset() {
    let mut file = Vec::new();
    let mut ends = vec![0];
    for i in 0..20u32 {
        let value = vec![b'a' + (i % 26) as u8; (i as usize * 37) % 300];
        encode_set(
            &mut file,
            i,
            i,
            0,
            u64::from(i),
            0,
            format!("key{i}").as_bytes(),
            &value,
        );
        ends.push(file.len());
        if i % 7 == 3 {
            encode_delete(&mut file, i, b"key1");
            ends.push(file.len());
        }
    }
    for cut in 0..=file.len() {
        let mut d = Decoder::new(&file[..cut]);
        let n = d.by_ref().count();
        // The last whole record before the cut.
        let good = ends.iter().rposition(|&e| e <= cut).expect("0 is an end");
        assert_eq!(n, good, "cut at {cut}");
        let want = if cut == ends[good] {
            Stop::Clean
        } else {
            Stop::Torn
        };
        assert_eq!(d.stopped(), Some((ends[good], want)), "cut at {cut}");
        // The same cut followed by zeros (a block that was never written): torn too,
        // unless the cut fell between frames or inside a frame's header.
        let mut padded = file[..cut].to_vec();
        padded.resize(cut + 4096, 0);
        let mut d = Decoder::new(&padded);
        assert_eq!(d.by_ref().count(), good, "cut at {cut}, padded");
        let (at, why) = d.stopped().expect("stopped");
        assert_eq!(at, ends[good], "cut at {cut}, padded");
        if cut == ends[good] {
            assert_eq!(why, Stop::Clean);
        } else {
            assert_ne!(why, Stop::Clean, "cut at {cut}, padded");
        }
    }
}

#[test]
fn a_flipped_bit_is_corrupt_and_nothing_after_it_is_read() {
    let mut file = Vec::new();
    encode_set(&mut file, 1, 0, 0, 1, 0, b"a", b"one");
    let first = file.len();
    encode_set(&mut file, 2, 0, 0, 2, 0, b"b", b"two");
    let second = file.len();
    encode_delete(&mut file, 3, b"a");
    for byte in first..second {
        for bit in 0..8 {
            let mut f = file.clone();
            f[byte] ^= 1 << bit;
            let mut d = Decoder::new(&f);
            assert_eq!(d.by_ref().count(), 1, "byte {byte} bit {bit}");
            let (at, why) = d.stopped().expect("stopped");
            assert_eq!(at, first);
            // A longer length runs past the end; any other change fails the checksum.
            assert!(matches!(why, Stop::Corrupt | Stop::Torn), "{why:?}");
        }
    }
}

#[test]
fn well_checksummed_payloads_that_are_not_records_are_corrupt() {
    for payload in [
        &b"\x09\0\0\0\0"[..],                                      // unknown kind
        b"\x02\0\0\0\0",                                           // delete without a key
        b"\x03\0\0\0\0\0\0\0",                                     // flush too short
        b"\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x05\0ab", // key past the end
        b"\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",     // empty key
    ] {
        let mut f = (payload.len() as u32).to_le_bytes().to_vec();
        f.extend_from_slice(&crc32c(payload).to_le_bytes());
        f.extend_from_slice(payload);
        let mut d = Decoder::new(&f);
        assert_eq!(d.next(), None);
        assert_eq!(d.stopped(), Some((0, Stop::Corrupt)), "{payload:?}");
    }
}

/// The table and the SSE4.2 instruction give the same CRC on every length and offset, so
/// files written on one machine are read on another.
#[test]
fn table_and_instruction_agree() {
    let data: Vec<u8> = (0..300u32).map(|i| (i * 131 + 7) as u8).collect();
    for start in 0..9 {
        for end in start..data.len() {
            let d = &data[start..end];
            let table = super::crc32c_table(0, d);
            assert_eq!(table, crc_bitwise(d));
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("sse4.2") {
                // SAFETY: the CPU has SSE4.2.
                assert_eq!(
                    unsafe { super::crc32c_sse42(0, d) },
                    table,
                    "{start}..{end}"
                );
            }
        }
    }
}
