//! [`super::apply`] while someone watches ([`crate::watch`]): the op runs as it always
//! does, and the lines memcached 1.6.18 logs for it are added to the shard's tap.
//!
//! memcached logs an `item_get` for every lookup of a key (`do_item_get`): gets, but also
//! the lookup a storage command, `delete`, `incr`, `touch` and the meta commands make; and
//! an `item_store` for every storage command (`do_store_item`) with its outcome. Here the
//! key is looked at before the op ([`Store::peek`]) and, for a storage command, after it:
//! a stored item is one whose unique changed. The binary protocol's commands log as the
//! text ones do; its incr or decr that creates the key logs the `add` memcached makes for
//! it.

use super::op::{KeyOp, ReplySink};
use crate::protocol::binary::{self as bin, BinRequest};
use crate::protocol::{Command, MetaCmd, StoreMode};
use crate::stats::Counters;
use crate::store::{Peek, Store};
use crate::watch::lines::{self, Found, StoreCmd, Stored};
use crate::watch::streams::{FETCHERS, MUTATIONS};

/// What memcached logs for an op.
enum Logs {
    /// Nothing (`flush_all`).
    None,
    /// A lookup: `item_get`.
    Lookup,
    /// A storage command: `item_get`, then `item_store`. `exptime` is a memcached exptime.
    /// `cas`: a binary append or prepend that names a CAS (memcached compares it in the
    /// store and says `exists`).
    Store {
        mode: StoreMode,
        flags: u32,
        exptime: i32,
        vlen: usize,
        cas: bool,
    },
    /// A binary incr or decr: `item_get`, and where it creates the key (`creates`: its
    /// expiration is not 0xffffffff), memcached's `add` of the initial value: `item_get`,
    /// then `item_store`.
    Arith { creates: bool },
    /// A storage command whose value is over `-I`: `item_store` with `too_large`, then for
    /// `set` the lookup that removes the old value.
    TooLarge { mode: StoreMode },
}

fn logs_of(op: &KeyOp<'_>) -> Logs {
    match *op {
        KeyOp::Text { req, .. } => match req.cmd {
            Command::Store {
                mode,
                flags,
                exptime,
                data,
                ..
            } => Logs::Store {
                mode,
                flags,
                exptime,
                vlen: data.len(),
                cas: false,
            },
            Command::TooLarge { mode, .. } => Logs::TooLarge { mode },
            Command::FlushAll { .. } => Logs::None,
            _ => Logs::Lookup,
        },
        KeyOp::Meta(m) => match m.cmd {
            MetaCmd::Set if m.too_large || m.bad_chunk => Logs::None,
            MetaCmd::Set => Logs::Store {
                mode: super::meta::ms_mode(&m.f),
                flags: m.f.client_flags,
                exptime: m.f.ttl.unwrap_or(0),
                vlen: m.data.len(),
                cas: false,
            },
            MetaCmd::Get | MetaCmd::Delete | MetaCmd::Arith | MetaCmd::Debug => Logs::Lookup,
        },
        KeyOp::Bin(req) => bin_logs(req),
    }
}

/// What memcached logs for a binary request. A CAS makes its set, add or replace a `cas`
/// (memcached turns the command into one); its append and prepend stay themselves.
fn bin_logs(req: &BinRequest<'_>) -> Logs {
    let op = bin::loud(req.opcode);
    let mode = match op {
        bin::SET => StoreMode::Set,
        bin::ADD => StoreMode::Add,
        bin::REPLACE => StoreMode::Replace,
        bin::APPEND => StoreMode::Append,
        bin::PREPEND => StoreMode::Prepend,
        bin::INCREMENT | bin::DECREMENT if req.extras.len() == 20 => {
            return Logs::Arith {
                creates: req.ext_u32(16) != u32::MAX,
            }
        }
        _ => return Logs::Lookup,
    };
    if req.truncated() {
        return Logs::TooLarge { mode };
    }
    let (flags, exptime) = if req.extras.len() == 8 {
        (req.ext_u32(0), req.ext_u32(4) as i32)
    } else {
        (0, 0)
    };
    let appends = matches!(mode, StoreMode::Append | StoreMode::Prepend);
    Logs::Store {
        mode: if req.cas != 0 && !appends {
            StoreMode::Cas
        } else {
            mode
        },
        flags,
        exptime,
        vlen: req.value.len(),
        cas: req.cas != 0 && appends,
    }
}

fn store_cmd(m: StoreMode) -> StoreCmd {
    match m {
        StoreMode::Set => StoreCmd::Set,
        StoreMode::Add => StoreCmd::Add,
        StoreMode::Replace => StoreCmd::Replace,
        StoreMode::Append => StoreCmd::Append,
        StoreMode::Prepend => StoreCmd::Prepend,
        StoreMode::Cas => StoreCmd::Cas,
    }
}

/// memcached's `ttl=`: seconds left (as an unsigned 32-bit number), 0 for none.
fn ttl(exptime: u32, now: u32) -> u32 {
    if exptime == 0 {
        0
    } else {
        exptime.wrapping_sub(now)
    }
}

fn log_get(counters: &Counters, key: &[u8], seen: Peek) {
    let tap = &counters.watch;
    if !tap.wants(FETCHERS) {
        return;
    }
    let (found, class, size) = match seen {
        Peek::Absent => (Found::NotFound, 0, 0),
        Peek::Expired => (Found::Expired, 0, 0),
        Peek::Flushed => (Found::Flushed, 0, 0),
        Peek::Found { vlen, class, .. } => (Found::Found, class, vlen),
    };
    let cfd = tap.cfd();
    tap.log(FETCHERS, |out| {
        lines::item_get(out, key, found, class, cfd, size)
    });
}

/// [`super::apply`] with the op's lines logged.
#[inline(never)]
pub(super) fn apply_watched<R: ReplySink>(
    store: &mut Store,
    counters: &Counters,
    op: &KeyOp<'_>,
    now: u32,
    sink: &mut R,
) {
    let logs = logs_of(op);
    let mut decoded = None;
    let key = match (&logs, op.key(&mut decoded)) {
        (Logs::None, _) | (_, None) => {
            return super::apply_unwatched(store, counters, op, now, sink);
        }
        (_, Some(key)) => key,
    };
    let tap = &counters.watch;
    if let Logs::TooLarge { mode } = logs {
        if tap.wants(MUTATIONS) {
            // memcached passes the connection's socket where the class goes, and no socket.
            let cfd = tap.cfd();
            tap.log(MUTATIONS, |out| {
                lines::item_store(
                    out,
                    key,
                    Stored::TooLarge,
                    store_cmd(mode),
                    0,
                    cfd as u8,
                    cfd,
                    0,
                )
            });
        }
        if mode == StoreMode::Set {
            log_get(counters, key, store.peek(key, now));
        }
        return super::apply_unwatched(store, counters, op, now, sink);
    }
    let before = store.peek(key, now);
    log_get(counters, key, before);
    super::apply_unwatched(store, counters, op, now, sink);
    let (mode, flags, exptime, vlen, cas) = match logs {
        Logs::Store {
            mode,
            flags,
            exptime,
            vlen,
            cas,
        } => (mode, flags, exptime, vlen, cas),
        Logs::Arith { creates: true } if !matches!(before, Peek::Found { .. }) => {
            return log_created(store, counters, key, now);
        }
        _ => return,
    };
    if !tap.wants(MUTATIONS) {
        return;
    }
    let after = store.peek(key, now);
    let stored = match (before, after) {
        (Peek::Found { unique: was, .. }, Peek::Found { unique, .. }) => unique != was,
        (_, Peek::Found { .. }) => true,
        _ => false,
    };
    let (status, exp, class, size) = match after {
        Peek::Found {
            vlen,
            class,
            exptime,
            ..
        } if stored => (Stored::Stored, exptime, class, vlen),
        _ => {
            let status = match mode {
                StoreMode::Append | StoreMode::Prepend
                    if cas && matches!(before, Peek::Found { .. }) =>
                {
                    Stored::Exists
                }
                StoreMode::Add | StoreMode::Replace | StoreMode::Append | StoreMode::Prepend => {
                    Stored::NotStored
                }
                StoreMode::Cas if matches!(before, Peek::Found { .. }) => Stored::Exists,
                StoreMode::Cas => Stored::NotFound,
                StoreMode::Set => Stored::NoMemory,
            };
            let exp = store.abs_exptime(exptime, now);
            (status, exp, store.class_for(key.len(), flags, vlen), vlen)
        }
    };
    let cfd = tap.cfd();
    let ttl = ttl(exp, now);
    tap.log(MUTATIONS, |out| {
        lines::item_store(out, key, status, store_cmd(mode), ttl, class, cfd, size)
    });
}

/// A binary incr or decr missed and made the key from its initial value: memcached's
/// `add` of it looks the key up again, then stores.
fn log_created(store: &Store, counters: &Counters, key: &[u8], now: u32) {
    let Peek::Found {
        vlen,
        class,
        exptime,
        ..
    } = store.peek(key, now)
    else {
        return;
    };
    log_get(counters, key, Peek::Absent);
    let tap = &counters.watch;
    if tap.wants(MUTATIONS) {
        let cfd = tap.cfd();
        let ttl = ttl(exptime, now);
        tap.log(MUTATIONS, |out| {
            lines::item_store(
                out,
                key,
                Stored::Stored,
                StoreCmd::Add,
                ttl,
                class,
                cfd,
                vlen,
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{text, Limits, Parse};
    use crate::watch::streams;

    /// The lines memcached 1.6.18 logged for these requests (ts, gid and cfd aside).
    #[test]
    fn lines_for_each_command_are_memcacheds() {
        let mut s = Store::builder().build();
        let c = s.counters().clone();
        crate::watch::tests_set_mask(&c, streams::FETCHERS | streams::MUTATIONS);
        let limits = Limits {
            item_size_max: 1 << 20,
            use_cas: true,
        };
        let input: &[u8] = b"set a 5 0 3\r\nabc\r\nget b\r\nadd a 0 0 1\r\nx\r\n\
            replace zz 0 0 1\r\nx\r\nappend a 0 0 1\r\nx\r\ncas a 0 100 1 999\r\nz\r\n\
            cas q 0 0 1 1\r\nz\r\nincr a 1\r\ndelete a\r\nflush_all\r\n";
        let mut pos = 0;
        let mut out = Vec::new();
        while pos < input.len() {
            let Parse::Done(req, used) = text::parse(&input[pos..], &limits) else {
                panic!("not a whole request at {pos}");
            };
            let key = req.cmd.key().unwrap_or(b"");
            let op = KeyOp::Text {
                req: &req,
                raw: &input[pos..pos + used],
                key,
                hash: None,
            };
            super::super::apply(&mut s, &c, &op, 1000, &mut out);
            pos += used;
        }
        assert_eq!(
            crate::watch::tests_lines(&c),
            "type=item_get key=a status=not_found clsid=0 cfd=0 size=0\n\
             type=item_store key=a status=stored cmd=set ttl=0 clsid=1 cfd=0 size=3\n\
             type=item_get key=b status=not_found clsid=0 cfd=0 size=0\n\
             type=item_get key=a status=found clsid=1 cfd=0 size=3\n\
             type=item_store key=a status=not_stored cmd=add ttl=0 clsid=1 cfd=0 size=1\n\
             type=item_get key=zz status=not_found clsid=0 cfd=0 size=0\n\
             type=item_store key=zz status=not_stored cmd=replace ttl=0 clsid=1 cfd=0 size=1\n\
             type=item_get key=a status=found clsid=1 cfd=0 size=3\n\
             type=item_store key=a status=stored cmd=append ttl=0 clsid=1 cfd=0 size=4\n\
             type=item_get key=a status=found clsid=1 cfd=0 size=4\n\
             type=item_store key=a status=exists cmd=cas ttl=100 clsid=1 cfd=0 size=1\n\
             type=item_get key=q status=not_found clsid=0 cfd=0 size=0\n\
             type=item_store key=q status=not_found cmd=cas ttl=0 clsid=1 cfd=0 size=1\n\
             type=item_get key=a status=found clsid=1 cfd=0 size=4\n\
             type=item_get key=a status=found clsid=1 cfd=0 size=4\n"
        );
    }
}
