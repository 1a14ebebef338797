//! Every value a reply carries is the value as it was when its request was served, whatever
//! runs between reading it and sending it: writes that evict or compact, `gat`/`touch` that
//! relocate items, in-place `incr`, peers' forwarded work, a slow reader.
//!
//! Regression (issue 20, item 1): `get k0 … k199` followed by `gat 100 k0 … k199` in one
//! write returned other keys' bytes and item headers for values of 64 KiB: the `get`
//! replies pointed into store memory that the `gat`s' relocations compacted.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::binary::{request, set_ext};
use common::{CorecachedServer, Rng};

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Reads until `buf` ends with `end`, at most 30 s.
fn read_until(s: &mut TcpStream, buf: &mut Vec<u8>, done: impl Fn(&[u8]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut chunk = vec![0u8; 1 << 16];
    while !done(buf) {
        assert!(Instant::now() < deadline, "no complete reply in 30 s");
        let n = match s.read(&mut chunk) {
            Ok(n) => n,
            Err(e) => panic!(
                "{e} after {} bytes, ending {:?}",
                buf.len(),
                String::from_utf8_lossy(&buf[buf.len().saturating_sub(300)..])
            ),
        };
        assert!(n > 0, "server closed after {} bytes", buf.len());
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A value of `len` bytes that names its key and version on every 16 bytes.
fn value(key: &str, version: u64, len: usize) -> Vec<u8> {
    let tag = format!("{key}.{version}.");
    tag.bytes().cycle().take(len).collect()
}

/// The reproduction: 200 values of 64 KiB (`%05d` of i repeated), then
/// `get k0 … k199` and `gat 100 k0 … k199` in one write. Every hit of both must carry its
/// own key's bytes.
fn get_then_gat_in_one_write(args: &[&str]) {
    let server = CorecachedServer::start(args);
    let mut s = connect(server.addr());
    let n = 200;
    let len = 64 << 10;
    let val = |i: usize| -> Vec<u8> {
        format!("{i:05}").into_bytes().repeat(len / 5 + 1)[..len].to_vec()
    };
    for i in 0..n {
        let mut req = format!("set k{i} 0 0 {len}\r\n").into_bytes();
        req.extend_from_slice(&val(i));
        req.extend_from_slice(b"\r\n");
        s.write_all(&req).unwrap();
        let mut reply = Vec::new();
        read_until(&mut s, &mut reply, |b| b.ends_with(b"\r\n"));
        assert_eq!(reply, b"STORED\r\n", "set k{i}");
    }
    let keys: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
    let line = keys.join(" ");
    s.write_all(format!("get {line}\r\ngat 100 {line}\r\n").as_bytes())
        .unwrap();
    let mut reply = Vec::new();
    read_until(&mut s, &mut reply, |b| {
        b.windows(5).filter(|w| *w == b"END\r\n").count() >= 2
    });
    let mut pos = 0;
    let mut hits = [0usize; 2];
    for (round, hit) in hits.iter_mut().enumerate() {
        loop {
            let nl = pos + reply[pos..].windows(2).position(|w| w == b"\r\n").unwrap();
            let line = std::str::from_utf8(&reply[pos..nl]).unwrap().to_string();
            pos = nl + 2;
            if line == "END" {
                break;
            }
            let parts: Vec<&str> = line.split(' ').collect();
            assert_eq!(parts.len(), 4, "round {round}: {line}");
            let i: usize = parts[1][1..].parse().unwrap();
            let vlen: usize = parts[3].parse().unwrap();
            let got = &reply[pos..pos + vlen];
            assert!(
                got == val(i).as_slice(),
                "round {round}: {} carries other bytes (first 20: {:?})",
                parts[1],
                String::from_utf8_lossy(&got[..20])
            );
            pos += vlen + 2;
            *hit += 1;
        }
    }
    assert_eq!(pos, reply.len());
    // -m leaves room for some of them: both rounds must have had hits to check.
    assert!(hits[0] > 0 && hits[1] > 0, "hits {hits:?}");
}

#[test]
fn gat_after_get_in_one_write_keeps_each_keys_own_bytes_one_shard() {
    get_then_gat_in_one_write(&["-t", "1", "-m", "8"]);
}

#[test]
fn gat_after_get_in_one_write_keeps_each_keys_own_bytes_two_shards() {
    get_then_gat_in_one_write(&["-t", "2", "-m", "16"]);
}

/// A value held by a `get` reply is not rewritten by an `incr` behind it in the same
/// write: memcached rewrites in place only when no connection holds the item.
#[test]
fn incr_behind_a_get_of_the_same_value_does_not_change_the_get_reply() {
    let server = CorecachedServer::start(&["-t", "1", "-m", "8"]);
    let mut s = connect(server.addr());
    let mut v = b"123".to_vec();
    v.resize(9000, b' ');
    let mut req = format!("set n 0 0 {}\r\n", v.len()).into_bytes();
    req.extend_from_slice(&v);
    req.extend_from_slice(b"\r\nget n\r\nincr n 1\r\nget n\r\n");
    s.write_all(&req).unwrap();
    let mut reply = Vec::new();
    read_until(&mut s, &mut reply, |b| {
        b.windows(5).filter(|w| *w == b"END\r\n").count() >= 2
    });
    let mut want = b"STORED\r\nVALUE n 0 9000\r\n".to_vec();
    want.extend_from_slice(&v);
    want.extend_from_slice(b"\r\nEND\r\n124\r\n");
    assert!(
        reply.starts_with(&want),
        "{:?}",
        String::from_utf8_lossy(&reply[..60])
    );
    // The second get sees the new number (in place or not, as memcached).
    let rest = std::str::from_utf8(&reply[want.len()..]).unwrap();
    assert!(rest.starts_with("VALUE n 0 "), "{rest:.40}");
    let body = rest.split("\r\n").nth(1).unwrap();
    assert_eq!(body.trim_end(), "124");
}

/// What a client expects back for each request it sent.
enum Expect {
    /// A storage reply; on `STORED`/`HD` the key holds `value`.
    Store {
        key: String,
        value: Vec<u8>,
    },
    /// `get`-family reply for these keys, ending in `END`.
    Get {
        keys: Vec<String>,
    },
    /// Meta `mg <key> v`: `VA <len> ...` + data, or `EN`.
    MetaGet {
        key: String,
    },
    Delete {
        key: String,
    },
    /// `touch`: TOUCHED or NOT_FOUND, consistent with the model.
    Touch {
        key: String,
    },
    /// Binary GET/GAT (opcode) with `opaque`.
    BinGet {
        key: String,
    },
    /// Binary SET; on success the key holds `value`.
    BinSet {
        key: String,
        value: Vec<u8>,
    },
}

/// The model: what each key of one client holds (`None`: nothing, or evicted).
type Model = HashMap<String, Option<Vec<u8>>>;

fn check_value(model: &mut Model, key: &str, got: Option<&[u8]>, what: &str) {
    let want = model.get(key).cloned().flatten();
    match (got, want) {
        (Some(g), Some(w)) => assert!(
            g == w.as_slice(),
            "{what} {key}: {} bytes that are not its value ({} bytes; starts {:?})",
            g.len(),
            w.len(),
            String::from_utf8_lossy(&g[..g.len().min(24)])
        ),
        (Some(g), None) => panic!(
            "{what} {key}: a value nobody stored ({} bytes, starts {:?})",
            g.len(),
            String::from_utf8_lossy(&g[..g.len().min(24)])
        ),
        // A miss: evicted (memory pressure), or absent.
        (None, _) => {
            model.insert(key.to_string(), None);
        }
    }
}

/// Consumes one CRLF-terminated line at `pos`.
fn line<'a>(b: &'a [u8], pos: &mut usize) -> &'a str {
    let nl = *pos
        + b[*pos..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a line");
    let l = std::str::from_utf8(&b[*pos..nl]).expect("ascii line");
    *pos = nl + 2;
    l
}

/// Checks a text/meta pipeline's replies against the model, request by request.
fn check_text(reply: &[u8], expects: &[Expect], model: &mut Model) -> usize {
    let mut pos = 0;
    for e in expects {
        match e {
            Expect::Store { key, value } => match line(reply, &mut pos) {
                "STORED" | "HD" => {
                    model.insert(key.clone(), Some(value.clone()));
                }
                // Out of memory: the old value is gone or kept; a later miss or the old
                // value are both right, so the model stays.
                l if l.starts_with("SERVER_ERROR") => {}
                l => panic!("store {key}: {l}"),
            },
            Expect::Get { keys } => {
                let mut seen = Vec::new();
                loop {
                    let l = line(reply, &mut pos).to_string();
                    if l == "END" {
                        break;
                    }
                    let parts: Vec<&str> = l.split(' ').collect();
                    assert_eq!(parts[0], "VALUE", "{l}");
                    let key = parts[1].to_string();
                    let vlen: usize = parts[3].parse().unwrap();
                    let got = &reply[pos..pos + vlen];
                    pos += vlen + 2;
                    check_value(model, &key, Some(got), "get");
                    seen.push(key);
                }
                for k in keys {
                    if !seen.contains(k) {
                        check_value(model, k, None, "get");
                    }
                }
            }
            Expect::MetaGet { key } => {
                let l = line(reply, &mut pos).to_string();
                if l == "EN" || l.starts_with("EN ") {
                    check_value(model, key, None, "mg");
                } else {
                    let vlen: usize = l
                        .strip_prefix("VA ")
                        .and_then(|r| r.split(' ').next())
                        .unwrap_or_else(|| panic!("mg {key}: {l}"))
                        .parse()
                        .unwrap();
                    let got = reply[pos..pos + vlen].to_vec();
                    pos += vlen + 2;
                    check_value(model, key, Some(&got), "mg");
                }
            }
            Expect::Delete { key } => match line(reply, &mut pos) {
                "DELETED" | "HD" => {
                    assert!(
                        model.get(key).cloned().flatten().is_some(),
                        "delete {key}: deleted a key that held nothing"
                    );
                    model.insert(key.clone(), None);
                }
                "NOT_FOUND" | "NF" => {
                    model.insert(key.clone(), None);
                }
                l => panic!("delete {key}: {l}"),
            },
            Expect::Touch { key } => match line(reply, &mut pos) {
                "TOUCHED" => assert!(
                    model.get(key).cloned().flatten().is_some(),
                    "touch {key}: touched a key that held nothing"
                ),
                "NOT_FOUND" => {
                    model.insert(key.clone(), None);
                }
                l => panic!("touch {key}: {l}"),
            },
            Expect::BinGet { .. } | Expect::BinSet { .. } => unreachable!(),
        }
    }
    pos
}

/// Checks a binary pipeline's replies (one packet per request, in order).
fn check_binary(reply: &[u8], expects: &[Expect], model: &mut Model) -> usize {
    let mut pos = 0;
    for e in expects {
        let h = &reply[pos..pos + 24];
        assert_eq!(h[0], 0x81, "binary reply magic");
        let status = u16::from_be_bytes([h[6], h[7]]);
        let body = u32::from_be_bytes([h[8], h[9], h[10], h[11]]) as usize;
        let extlen = h[4] as usize;
        let klen = u16::from_be_bytes([h[2], h[3]]) as usize;
        let data = &reply[pos + 24 + extlen + klen..pos + 24 + body];
        pos += 24 + body;
        match e {
            Expect::BinGet { key } => match status {
                0 => check_value(model, key, Some(data), "binary get"),
                1 => check_value(model, key, None, "binary get"),
                s => panic!("binary get {key}: status {s:#x}"),
            },
            Expect::BinSet { key, value } => match status {
                0 => {
                    model.insert(key.clone(), Some(value.clone()));
                }
                0x82 => {}
                s => panic!("binary set {key}: status {s:#x}"),
            },
            _ => unreachable!(),
        }
    }
    pos
}

fn value_len(rng: &mut Rng) -> usize {
    match rng.below(4) {
        0 => 1 + rng.below(200) as usize,
        1 => 1 + rng.below(8 << 10) as usize,
        _ => (8 << 10) + rng.below(120 << 10) as usize,
    }
}

/// One text+meta client: `rounds` pipelines of 1..24 random requests in one write each.
fn text_client(addr: SocketAddr, seed: u64, prefix: &str, rounds: usize) {
    let mut rng = Rng(seed);
    let mut s = connect(addr);
    let mut model = Model::new();
    let mut version = 0u64;
    let key = |rng: &mut Rng| format!("{prefix}{}", rng.below(48));
    for _ in 0..rounds {
        let mut req = Vec::new();
        let mut expects = Vec::new();
        for _ in 0..1 + rng.below(24) {
            match rng.below(20) {
                0..=6 => {
                    let k = key(&mut rng);
                    version += 1;
                    let v = value(&k, version, value_len(&mut rng));
                    if rng.below(2) == 0 {
                        req.extend_from_slice(format!("set {k} 0 0 {}\r\n", v.len()).as_bytes());
                    } else {
                        req.extend_from_slice(format!("ms {k} {} T0\r\n", v.len()).as_bytes());
                    }
                    req.extend_from_slice(&v);
                    req.extend_from_slice(b"\r\n");
                    expects.push(Expect::Store { key: k, value: v });
                }
                7..=15 => {
                    // Touching reads relocate items stored without an expiry: the writes
                    // that most often moved memory under an earlier read's reply.
                    let keys: Vec<String> = (0..1 + rng.below(8)).map(|_| key(&mut rng)).collect();
                    let cmd =
                        ["get", "gets", "gat 100", "gats 100", "gat 0"][rng.below(5) as usize];
                    req.extend_from_slice(format!("{cmd} {}\r\n", keys.join(" ")).as_bytes());
                    let mut uniq = keys.clone();
                    uniq.dedup();
                    expects.push(Expect::Get { keys: uniq });
                }
                16 | 17 => {
                    let k = key(&mut rng);
                    let flags = ["v", "v T60", "v s t", "v k c"][rng.below(4) as usize];
                    req.extend_from_slice(format!("mg {k} {flags}\r\n").as_bytes());
                    expects.push(Expect::MetaGet { key: k });
                }
                18 => {
                    let k = key(&mut rng);
                    if rng.below(2) == 0 {
                        req.extend_from_slice(format!("delete {k}\r\n").as_bytes());
                    } else {
                        req.extend_from_slice(format!("md {k}\r\n").as_bytes());
                    }
                    expects.push(Expect::Delete { key: k });
                }
                _ => {
                    let k = key(&mut rng);
                    req.extend_from_slice(
                        format!("touch {k} {}\r\n", rng.below(2) * 100).as_bytes(),
                    );
                    expects.push(Expect::Touch { key: k });
                }
            }
        }
        // `mn` marks the end of the pipeline's replies.
        req.extend_from_slice(b"mn\r\n");
        s.write_all(&req).unwrap();
        let mut reply = Vec::new();
        read_until(&mut s, &mut reply, |b| {
            b.ends_with(b"MN\r\n") && complete_text(b, &expects)
        });
        let used = check_text(&reply, &expects, &mut model);
        assert_eq!(
            &reply[used..],
            b"MN\r\n",
            "nothing between the replies and MN"
        );
    }
}

/// Whether `b` holds every reply of `expects` and then `MN` (a value may contain `MN\r\n`).
fn complete_text(b: &[u8], expects: &[Expect]) -> bool {
    let mut pos = 0;
    for e in expects {
        match frame_len(&b[pos..], e) {
            Some(n) => pos += n,
            None => return false,
        }
    }
    b.len() >= pos + 4
}

/// Bytes of the reply to one request at the start of `b`, if all there.
fn frame_len(b: &[u8], e: &Expect) -> Option<usize> {
    let next_line = |pos: usize| -> Option<(usize, &[u8])> {
        let nl = pos + b.get(pos..)?.windows(2).position(|w| w == b"\r\n")?;
        Some((nl + 2, &b[pos..nl]))
    };
    match e {
        Expect::Get { .. } => {
            let mut pos = 0;
            loop {
                let (after, l) = next_line(pos)?;
                if l == b"END" {
                    return Some(after);
                }
                let vlen: usize = std::str::from_utf8(l)
                    .ok()?
                    .split(' ')
                    .nth(3)?
                    .parse()
                    .ok()?;
                pos = after + vlen + 2;
                if pos > b.len() {
                    return None;
                }
            }
        }
        Expect::MetaGet { .. } => {
            let (after, l) = next_line(0)?;
            if l.starts_with(b"EN") {
                return Some(after);
            }
            let vlen: usize = std::str::from_utf8(l)
                .ok()?
                .split(' ')
                .nth(1)?
                .parse()
                .ok()?;
            (after + vlen + 2 <= b.len()).then_some(after + vlen + 2)
        }
        _ => next_line(0).map(|(after, _)| after),
    }
}

/// One binary client: pipelines of SET, GET and GAT (and quiet NOOP at the end).
fn binary_client(addr: SocketAddr, seed: u64, prefix: &str, rounds: usize) {
    let mut rng = Rng(seed);
    let mut s = connect(addr);
    let mut model = Model::new();
    let mut version = 0u64;
    for _ in 0..rounds {
        let mut req = Vec::new();
        let mut expects = Vec::new();
        for i in 0..1 + rng.below(24) {
            let k = format!("{prefix}{}", rng.below(48));
            match rng.below(3) {
                0 => {
                    version += 1;
                    let v = value(&k, version, value_len(&mut rng));
                    req.extend(request(0x01, i as u32, 0, &set_ext(0, 0), k.as_bytes(), &v));
                    expects.push(Expect::BinSet { key: k, value: v });
                }
                1 => {
                    req.extend(request(0x00, i as u32, 0, b"", k.as_bytes(), b""));
                    expects.push(Expect::BinGet { key: k });
                }
                _ => {
                    // GAT with an expiry of 100 s.
                    req.extend(request(
                        0x1d,
                        i as u32,
                        0,
                        &100u32.to_be_bytes(),
                        k.as_bytes(),
                        b"",
                    ));
                    expects.push(Expect::BinGet { key: k });
                }
            }
        }
        req.extend(common::binary::sentinel());
        s.write_all(&req).unwrap();
        let sentinel = common::binary::sentinel_reply();
        let mut reply = Vec::new();
        read_until(&mut s, &mut reply, |b| {
            binary_frames(b).is_some_and(|n| n == expects.len() + 1) && b.ends_with(&sentinel)
        });
        let used = check_binary(&reply, &expects, &mut model);
        assert_eq!(&reply[used..], sentinel.as_slice());
    }
}

/// Whole binary packets at the start of `b`, if `b` is exactly packets.
fn binary_frames(b: &[u8]) -> Option<usize> {
    let mut pos = 0;
    let mut n = 0;
    while pos + 24 <= b.len() {
        let body = u32::from_be_bytes([b[pos + 8], b[pos + 9], b[pos + 10], b[pos + 11]]) as usize;
        pos += 24 + body;
        n += 1;
    }
    (pos == b.len()).then_some(n)
}

/// Random reads of every kind (touching ones too), writes and deletes, pipelined, on the
/// text, meta and binary protocols at once, over two shards (so both local and forwarded
/// ops) with a small `-m` (so writes evict and compact all the time): every value that
/// comes back is exactly what its client last stored under that key.
#[test]
fn random_pipelines_on_every_protocol_under_memory_pressure_return_only_exact_values() {
    let server = CorecachedServer::start(&["-t", "2", "-m", "8"]);
    let addr = server.addr();
    let seed = std::env::var("REPLY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234_u64);
    let mut clients = Vec::new();
    for c in 0..4u64 {
        let prefix = format!("c{c}k");
        clients.push(std::thread::spawn(move || {
            if c == 3 {
                binary_client(addr, seed ^ ((c + 1) * 0x9e37_79b9), &prefix, 400)
            } else {
                text_client(addr, seed ^ ((c + 1) * 0x9e37_79b9), &prefix, 400)
            }
        }));
    }
    for c in clients {
        c.join()
            .expect("a client found a wrong value (see its panic)");
    }
}
