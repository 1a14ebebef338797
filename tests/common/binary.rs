//! Helpers for binary-protocol tests: building packets, exchanging them with a server
//! (a `noop` with a recognizable opaque marks the end of the replies), splitting replies
//! into packets and normalizing CAS values so that two servers can be compared.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use super::{show_short, READ_TIMEOUT};

pub use corecached::protocol::binary::request;

/// The opaque of the sentinel `noop` sent after every exchange.
pub const SENTINEL_OPAQUE: u32 = 0x5e47_1e00;

pub fn sentinel() -> Vec<u8> {
    request(0x0a, SENTINEL_OPAQUE, 0, b"", b"", b"")
}

pub fn sentinel_reply() -> Vec<u8> {
    let mut r = vec![0x81, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    r.extend_from_slice(&SENTINEL_OPAQUE.to_be_bytes());
    r.extend_from_slice(&[0; 8]);
    r
}

/// Extras of set/add/replace.
pub fn set_ext(flags: u32, exptime: u32) -> Vec<u8> {
    let mut e = flags.to_be_bytes().to_vec();
    e.extend_from_slice(&exptime.to_be_bytes());
    e
}

/// Extras of incr/decr.
pub fn incr_ext(delta: u64, initial: u64, expiration: u32) -> Vec<u8> {
    let mut e = delta.to_be_bytes().to_vec();
    e.extend_from_slice(&initial.to_be_bytes());
    e.extend_from_slice(&expiration.to_be_bytes());
    e
}

pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex string {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// What a server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinReply {
    /// The packets before the sentinel's reply (or before the close); a trailing partial
    /// packet (or text) is kept as the last element.
    pub packets: Vec<Vec<u8>>,
    pub closed: bool,
}

/// Splits a reply into packets.
pub fn split(mut buf: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while buf.len() >= 24 && buf[0] == 0x81 {
        let n = 24 + u32::from_be_bytes(buf[8..12].try_into().unwrap()) as usize;
        if buf.len() < n {
            break;
        }
        out.push(buf[..n].to_vec());
        buf = &buf[n..];
    }
    if !buf.is_empty() {
        out.push(buf.to_vec());
    }
    out
}

fn read_until_sentinel(stream: &mut TcpStream, what: &str) -> BinReply {
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    let end = sentinel_reply();
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if buf.ends_with(&end) {
            buf.truncate(buf.len() - end.len());
            return BinReply {
                packets: split(&buf),
                closed: false,
            };
        }
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!(
                    "timed out waiting for the reply to {what}; received so far: \"{}\"",
                    show_short(&buf, 2000)
                )
            }
            Err(_) => break,
        }
    }
    BinReply {
        packets: split(&buf),
        closed: true,
    }
}

/// Sends `chunks` (each its own write, from a writer thread) and the sentinel on a fresh
/// connection; returns the packets answered before the sentinel's reply.
pub fn bin_exchange_chunks(addr: SocketAddr, chunks: Vec<Vec<u8>>) -> BinReply {
    let mut stream = TcpStream::connect_timeout(&addr, READ_TIMEOUT).expect("connect");
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let what = format!(
        "a {}-byte binary request starting \"{}\"",
        chunks.iter().map(Vec::len).sum::<usize>(),
        show_short(chunks.first().map(Vec::as_slice).unwrap_or(b""), 60)
    );
    let handle = thread::spawn(move || {
        for c in chunks.iter().chain(std::iter::once(&sentinel())) {
            if writer.write_all(c).is_err() {
                return;
            }
            if c.len() < 64 {
                // Let small fragments arrive as separate reads.
                thread::sleep(Duration::from_micros(200));
            }
        }
    });
    let reply = read_until_sentinel(&mut stream, &what);
    let _ = stream.shutdown(Shutdown::Both);
    let _ = handle.join();
    reply
}

pub fn bin_exchange(addr: SocketAddr, req: &[u8]) -> BinReply {
    bin_exchange_chunks(addr, vec![req.to_vec()])
}

/// One connection for several exchanges.
pub struct BinConn {
    stream: TcpStream,
}

impl BinConn {
    pub fn open(addr: SocketAddr) -> BinConn {
        let stream = TcpStream::connect_timeout(&addr, READ_TIMEOUT).expect("connect");
        stream.set_nodelay(true).unwrap();
        BinConn { stream }
    }

    pub fn exchange(&mut self, req: &[u8]) -> BinReply {
        let mut all = req.to_vec();
        all.extend_from_slice(&sentinel());
        self.stream.write_all(&all).expect("write");
        read_until_sentinel(&mut self.stream, &show_short(req, 60))
    }
}

/// A response's fields.
pub fn status(p: &[u8]) -> u16 {
    u16::from_be_bytes([p[6], p[7]])
}

pub fn cas(p: &[u8]) -> u64 {
    u64::from_be_bytes(p[16..24].try_into().unwrap())
}

pub fn opaque(p: &[u8]) -> u32 {
    u32::from_be_bytes(p[12..16].try_into().unwrap())
}

/// The key and value of a response.
pub fn key_value(p: &[u8]) -> (&[u8], &[u8]) {
    let klen = u16::from_be_bytes([p[2], p[3]]) as usize;
    let elen = p[4] as usize;
    (&p[24 + elen..24 + elen + klen], &p[24 + elen + klen..])
}

/// Replaces each distinct non-zero CAS by its rank of first appearance (1, 2, ...), so
/// servers with different CAS sequences compare equal when the same responses carry the
/// same item versions.
pub fn normalize_cas(packets: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut seen: HashMap<u64, u64> = HashMap::new();
    packets
        .iter()
        .map(|p| {
            let mut p = p.clone();
            if p.len() >= 24 && p[0] == 0x81 {
                let c = cas(&p);
                if c != 0 {
                    let n = seen.len() as u64 + 1;
                    let r = *seen.entry(c).or_insert(n);
                    p[16..24].copy_from_slice(&r.to_be_bytes());
                }
            }
            p
        })
        .collect()
}

/// Renders packets for assertion messages.
pub fn show_packets(packets: &[Vec<u8>]) -> String {
    packets
        .iter()
        .map(|p| {
            if p.len() >= 24 && p[0] == 0x81 {
                let (k, v) = key_value(p);
                format!(
                    "\n    op={:02x} status={:#x} extlen={} opaque={} cas={} key=\"{}\" value=\"{}\"",
                    p[1],
                    status(p),
                    p[4],
                    opaque(p),
                    cas(p),
                    show_short(k, 60),
                    show_short(v, 120)
                )
            } else {
                format!("\n    raw \"{}\"", show_short(p, 120))
            }
        })
        .collect()
}

/// `stat <group>` as (name, value) pairs; checks the packets' structure on the way: every
/// one is a successful `stat` response with the request's opaque, and the last is the
/// empty terminator.
pub fn bin_stats(addr: SocketAddr, group: &str) -> Vec<(String, String)> {
    let r = bin_exchange(addr, &request(0x10, 0x1234, 0, b"", group.as_bytes(), b""));
    assert!(!r.closed, "stat {group} closed the connection");
    let (last, stats) = r.packets.split_last().expect("a terminator");
    assert_eq!(
        last,
        &unhex("811000000000000000000000000012340000000000000000"),
        "stat {group} terminator"
    );
    stats
        .iter()
        .map(|p| {
            assert_eq!((p[0], p[1], status(p), opaque(p)), (0x81, 0x10, 0, 0x1234));
            assert_eq!(p[4], 0, "no extras");
            let (k, v) = key_value(p);
            assert!(!k.is_empty(), "a stat without a name");
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

/// Replaces the body of successful `version` responses by memcached's "1.6.18": corecached
/// tells which corecached it is after that (an intended difference).
pub fn normalize_version(packets: &[Vec<u8>]) -> Vec<Vec<u8>> {
    packets
        .iter()
        .map(|p| {
            if p.len() >= 24 && p[0] == 0x81 && p[1] == 0x0b && status(p) == 0 {
                let (_, v) = key_value(p);
                if v.starts_with(b"1.6.18") {
                    let mut q = p[..24].to_vec();
                    q[8..12].copy_from_slice(&6u32.to_be_bytes());
                    q.extend_from_slice(b"1.6.18");
                    return q;
                }
            }
            p.clone()
        })
        .collect()
}
