//! The lines of a `watch` stream, as memcached 1.6.18's logger renders them
//! (`logger.c`, `_logger_parse_*`): `key=value` fields, the key uriencoded, each line
//! ended by `\n` alone. The `ts=… gid=…` every line starts with is written by
//! [`super::Tap::log`] and the fan-out; these write the rest.

use crate::dump::uriencode;
use crate::num::push_u64;

/// memcached's `was_found` of a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    NotFound,
    Found,
    Flushed,
    Expired,
}

/// memcached's `store_item_type`, as the `status=` of an `item_store` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    NotStored,
    Stored,
    Exists,
    NotFound,
    TooLarge,
    NoMemory,
}

/// The store command of an `item_store` line (memcached's `cmd=` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreCmd {
    Add,
    Set,
    Replace,
    Append,
    Prepend,
    Cas,
}

fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

/// `type=item_get key=<k> status=<found> clsid=<class> cfd=<fd> size=<bytes>`
pub fn item_get(out: &mut Vec<u8>, key: &[u8], found: Found, class: u8, cfd: i32, size: usize) {
    out.extend_from_slice(b"type=item_get key=");
    uriencode(key, out);
    out.extend_from_slice(match found {
        Found::NotFound => b" status=not_found clsid=".as_slice(),
        Found::Found => b" status=found clsid=",
        Found::Flushed => b" status=flushed clsid=",
        Found::Expired => b" status=expired clsid=",
    });
    push_u64(out, u64::from(class));
    out.extend_from_slice(b" cfd=");
    push_i64(out, i64::from(cfd));
    out.extend_from_slice(b" size=");
    push_u64(out, size as u64);
    out.push(b'\n');
}

/// `type=item_store key=<k> status=<s> cmd=<c> ttl=<secs left> clsid=<class> cfd=<fd> size=<bytes>`
#[allow(clippy::too_many_arguments)]
pub fn item_store(
    out: &mut Vec<u8>,
    key: &[u8],
    status: Stored,
    cmd: StoreCmd,
    ttl: u32,
    class: u8,
    cfd: i32,
    size: usize,
) {
    out.extend_from_slice(b"type=item_store key=");
    uriencode(key, out);
    out.extend_from_slice(match status {
        Stored::NotStored => b" status=not_stored cmd=".as_slice(),
        Stored::Stored => b" status=stored cmd=",
        Stored::Exists => b" status=exists cmd=",
        Stored::NotFound => b" status=not_found cmd=",
        Stored::TooLarge => b" status=too_large cmd=",
        Stored::NoMemory => b" status=no_memory cmd=",
    });
    out.extend_from_slice(match cmd {
        StoreCmd::Add => b"add".as_slice(),
        StoreCmd::Set => b"set",
        StoreCmd::Replace => b"replace",
        StoreCmd::Append => b"append",
        StoreCmd::Prepend => b"prepend",
        StoreCmd::Cas => b"cas",
    });
    out.extend_from_slice(b" ttl=");
    push_u64(out, u64::from(ttl));
    out.extend_from_slice(b" clsid=");
    push_u64(out, u64::from(class));
    out.extend_from_slice(b" cfd=");
    push_i64(out, i64::from(cfd));
    out.extend_from_slice(b" size=");
    push_u64(out, size as u64);
    out.push(b'\n');
}

/// `type=eviction key=<k> fetch=<yes|no> ttl=<secs left, -1 never> la=<idle secs> clsid=<class> size=<bytes>`
pub fn eviction(
    out: &mut Vec<u8>,
    key: &[u8],
    fetched: bool,
    ttl: i64,
    idle: u32,
    class: u8,
    size: usize,
) {
    out.extend_from_slice(b"type=eviction key=");
    uriencode(key, out);
    out.extend_from_slice(if fetched {
        b" fetch=yes ttl="
    } else {
        b" fetch=no ttl="
    });
    push_i64(out, ttl);
    out.extend_from_slice(b" la=");
    push_u64(out, u64::from(idle));
    out.extend_from_slice(b" clsid=");
    push_u64(out, u64::from(class));
    out.extend_from_slice(b" size=");
    push_u64(out, size as u64);
    out.push(b'\n');
}

/// `type=conn_new rip=<ip> rport=<port> transport=<tcp|local> cfd=<fd>`, or `conn_close`
/// with `reason=<normal|error|idle_timeout|shutdown>` before `cfd`.
pub fn conn_event(out: &mut Vec<u8>, peer: &Peer, close: Option<&str>, cfd: i32) {
    out.extend_from_slice(if close.is_some() {
        b"type=conn_close rip=".as_slice()
    } else {
        b"type=conn_new rip="
    });
    out.extend_from_slice(peer.ip.as_bytes());
    out.extend_from_slice(b" rport=");
    push_u64(out, u64::from(peer.port));
    out.extend_from_slice(b" transport=");
    out.extend_from_slice(peer.transport.as_bytes());
    if let Some(reason) = close {
        out.extend_from_slice(b" reason=");
        out.extend_from_slice(reason.as_bytes());
    }
    out.extend_from_slice(b" cfd=");
    push_i64(out, i64::from(cfd));
    out.push(b'\n');
}

/// A connection's peer as memcached names it: `unix` and port 0 on a unix socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub ip: String,
    pub port: u16,
    pub transport: &'static str,
}

/// `ts=<secs>.<usecs> `: memcached prints the microseconds without leading zeros.
pub fn timestamp(out: &mut Vec<u8>, micros: u64) {
    out.extend_from_slice(b"ts=");
    push_u64(out, micros / 1_000_000);
    out.push(b'.');
    push_u64(out, micros % 1_000_000);
    out.push(b' ');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines memcached 1.6.18 wrote to `watch fetchers mutations evictions connevents`
    /// (ts and gid cut off): `set a 5 0 3`, `get b`, `cas a 0 100 1 999`, an eviction,
    /// a connection.
    #[test]
    fn lines_are_memcacheds() {
        let mut out = Vec::new();
        item_get(&mut out, b"a", Found::NotFound, 0, 17, 0);
        item_store(&mut out, b"a", Stored::Stored, StoreCmd::Set, 0, 1, 17, 3);
        item_get(&mut out, b"b c", Found::Found, 1, 17, 5);
        item_store(&mut out, b"a", Stored::Exists, StoreCmd::Cas, 100, 1, 17, 1);
        eviction(&mut out, b"k1", false, -1, 3, 12, 1000);
        let peer = Peer {
            ip: "127.0.0.1".into(),
            port: 56440,
            transport: "tcp",
        };
        conn_event(&mut out, &peer, None, 17);
        conn_event(&mut out, &peer, Some("normal"), 17);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "type=item_get key=a status=not_found clsid=0 cfd=17 size=0\n\
             type=item_store key=a status=stored cmd=set ttl=0 clsid=1 cfd=17 size=3\n\
             type=item_get key=b%20c status=found clsid=1 cfd=17 size=5\n\
             type=item_store key=a status=exists cmd=cas ttl=100 clsid=1 cfd=17 size=1\n\
             type=eviction key=k1 fetch=no ttl=-1 la=3 clsid=12 size=1000\n\
             type=conn_new rip=127.0.0.1 rport=56440 transport=tcp cfd=17\n\
             type=conn_close rip=127.0.0.1 rport=56440 transport=tcp reason=normal cfd=17\n"
        );
    }

    #[test]
    fn microseconds_have_no_leading_zeros() {
        let mut out = Vec::new();
        timestamp(&mut out, 1_796_620_186_082_074);
        timestamp(&mut out, 1_796_620_186_000_000);
        assert_eq!(out, b"ts=1796620186.82074 ts=1796620186.0 ".to_vec());
    }
}
