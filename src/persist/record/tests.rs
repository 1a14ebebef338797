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

/// Each record and its exact bytes (checked against an independent CRC32C): the mark, then
/// the version 1 frame.
fn table() -> Vec<(Record<'static>, Vec<u8>)> {
    table_v1()
        .into_iter()
        .map(|(rec, v1)| {
            let mut b = hex("c36a9ed5");
            b.extend_from_slice(&v1);
            (rec, b)
        })
        .collect()
}

/// Each record and its exact bytes as version 1 wrote them (no mark).
fn table_v1() -> Vec<(Record<'static>, Vec<u8>)> {
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

/// Counting frames for sizing stops at the end of the data, wherever the last frame says
/// it ends (a torn one says past it).
#[test]
fn frames_counts_to_the_end_of_whole_or_torn_data() {
    let mut file = Vec::new();
    encode_set(&mut file, 1, 0, 0, 1, 0, b"a", b"one");
    encode_delete(&mut file, 2, b"a");
    for cut in 0..=file.len() {
        let n = frames(&file[..cut]);
        assert!(n <= 2, "cut at {cut}: {n}");
    }
    assert_eq!(frames(&file), 2);
    let mut v1 = Vec::new();
    for (_, bytes) in table_v1() {
        v1.extend_from_slice(&bytes);
    }
    for cut in 0..=v1.len() {
        assert!(frames(&v1[..cut]) <= 3);
    }
    assert_eq!(frames(&v1), 3);
}

/// Files written before the mark still load, record for record; there a bad frame ends
/// decoding, as it did (no mark to find the next frame by).
#[test]
fn version_1_frames_still_decode() {
    let mut file = Vec::new();
    let mut ends = vec![0];
    for (_, bytes) in table_v1() {
        file.extend_from_slice(&bytes);
        ends.push(file.len());
    }
    let mut padded = file.clone();
    padded.resize(4096, 0);
    let mut d = Decoder::new(&padded);
    let got: Vec<_> = d.by_ref().collect();
    let want: Vec<_> = table_v1()
        .into_iter()
        .zip(&ends)
        .map(|((r, _), &at)| (at, r))
        .collect();
    assert_eq!(got, want);
    assert_eq!(d.stopped(), Some((file.len(), Stop::Clean)));
    // A flipped byte in the second record's payload: the first is read, then it stops.
    let mut bad = file.clone();
    bad[ends[1] + 10] ^= 0x40;
    let mut d = Decoder::new(&bad);
    assert_eq!(d.by_ref().count(), 1);
    assert_eq!(d.stopped(), Some((ends[1], Stop::Corrupt)));
    assert!(d.skipped().is_empty());
    // Version 1 records followed by marked ones (not written so, but read so).
    let mut mixed = file.clone();
    for (_, bytes) in table() {
        mixed.extend_from_slice(&bytes);
    }
    assert_eq!(Decoder::new(&mixed).count(), 6);
}

/// Where a corrupt byte lands, and what decoding then reads: each record but the one hit,
/// and the tail cut only when no good record follows the damage.
#[test]
fn a_corrupt_record_is_skipped_and_the_next_one_read() {
    // Five sets, k0..k4, and their frames' offsets.
    let mut file = Vec::new();
    let mut at = Vec::new();
    for i in 0..5u32 {
        at.push(file.len());
        let value = vec![b'a' + i as u8; 20 + 10 * i as usize];
        encode_set(&mut file, i, i, 0, 1, 0, format!("k{i}").as_bytes(), &value);
    }
    let end = file.len();
    at.push(end);
    let payload = FRAME_HEADER + 3; // a byte of the payload's fixed part
                                    // (what, byte offset, the keys read, the bad stretches skipped, where and why it stops)
    type Case = (
        &'static str,
        usize,
        &'static [u32],
        Vec<(usize, usize)>,
        (usize, Stop),
    );
    let cases: Vec<Case> = vec![
        (
            "first record's payload",
            at[0] + payload,
            &[1, 2, 3, 4],
            vec![(0, at[1])],
            (end, Stop::Clean),
        ),
        (
            "a middle record's payload",
            at[2] + payload,
            &[0, 1, 3, 4],
            vec![(at[2], at[3])],
            (end, Stop::Clean),
        ),
        (
            "a middle record's checksum",
            at[2] + 9,
            &[0, 1, 3, 4],
            vec![(at[2], at[3])],
            (end, Stop::Clean),
        ),
        (
            "a middle record's value",
            at[3] - 1,
            &[0, 1, 3, 4],
            vec![(at[2], at[3])],
            (end, Stop::Clean),
        ),
        (
            "a length field, longer",
            at[1] + 5,
            &[0, 2, 3, 4],
            vec![(at[1], at[2])],
            (end, Stop::Clean),
        ),
        (
            "a length field, shorter",
            at[1] + 4,
            &[0, 2, 3, 4],
            vec![(at[1], at[2])],
            (end, Stop::Clean),
        ),
        (
            "a mark",
            at[2],
            &[0, 1, 3, 4],
            vec![(at[2], at[3])],
            (end, Stop::Clean),
        ),
        (
            "the first record's mark",
            at[0] + 3,
            &[1, 2, 3, 4],
            vec![(0, at[1])],
            (end, Stop::Clean),
        ),
        (
            "the last record's payload",
            at[4] + payload,
            &[0, 1, 2, 3],
            vec![],
            (at[4], Stop::Corrupt),
        ),
        (
            "the last record's mark",
            at[4] + 1,
            &[0, 1, 2, 3],
            vec![],
            (at[4], Stop::Corrupt),
        ),
        (
            "the last record's length, longer",
            at[4] + 6,
            &[0, 1, 2, 3],
            vec![],
            (at[4], Stop::Torn),
        ),
    ];
    for (what, byte, keys, skipped, stop) in cases {
        for padding in [0, 4096] {
            let mut f = file.clone();
            f[byte] ^= 0x24;
            f.resize(end + padding, 0);
            let mut d = Decoder::new(&f);
            let got: Vec<(usize, u32)> = d
                .by_ref()
                .map(|(off, r)| match r {
                    Record::Set { time, .. } => (off, time),
                    other => panic!("{what}: {other:?}"),
                })
                .collect();
            let want: Vec<(usize, u32)> = keys.iter().map(|&k| (at[k as usize], k)).collect();
            assert_eq!(got, want, "{what}, padding {padding}");
            assert_eq!(d.skipped(), &skipped[..], "{what}, padding {padding}");
            assert_eq!(d.stopped(), Some(stop), "{what}, padding {padding}");
        }
    }
    // Zeros over a middle record (a block never written): skipped like any damage.
    let mut f = file.clone();
    f[at[1]..at[3]].fill(0);
    let mut d = Decoder::new(&f);
    assert_eq!(d.by_ref().count(), 3);
    assert_eq!(d.skipped(), &[(at[1], at[3])]);
    // The mark inside a value does not start a frame: its checksum does not hold.
    let mut f = Vec::new();
    let mut value = b"xx".to_vec();
    value.extend_from_slice(&MARK);
    value.extend_from_slice(&[0x10, 0, 0, 0, 1, 2, 3, 4]);
    value.resize(40, b'y');
    encode_set(&mut f, 0, 0, 0, 1, 0, b"v", &value);
    let second = f.len();
    encode_set(&mut f, 1, 0, 0, 1, 0, b"w", b"next");
    f[FRAME_HEADER] ^= 0xff;
    let mut d = Decoder::new(&f);
    assert_eq!(d.by_ref().count(), 1);
    assert_eq!(d.skipped(), &[(0, second)]);
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
fn a_flipped_bit_anywhere_in_a_record_skips_that_record_alone() {
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
            let got: Vec<usize> = d.by_ref().map(|(at, _)| at).collect();
            assert_eq!(got, vec![0, second], "byte {byte} bit {bit}");
            assert_eq!(d.skipped(), &[(first, second)], "byte {byte} bit {bit}");
            assert_eq!(d.stopped(), Some((file.len(), Stop::Clean)));
            // The same record last: nothing good after it, so decoding stops there.
            let mut d = Decoder::new(&f[..second]);
            assert_eq!(d.by_ref().count(), 1, "byte {byte} bit {bit}, last");
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
        let mut f = MARK.to_vec();
        f.extend_from_slice(&(payload.len() as u32).to_le_bytes());
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
