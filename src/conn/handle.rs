//! One parsed request handled ([`Conn::handle`]): a request for a key routed to the shard
//! that owns it, whatever its command; the commands the connection answers itself; the
//! multi-key get, which may stop for a write in the middle of its keys. The one-key `get`,
//! the most common request, has its own inlined path ([`Conn::get_one`]), called from the
//! pass's loop in `conn.rs`, which parses, prefetches and orders the requests.

use std::mem;

use super::{dump, AfterPass, Conn};
use crate::engine::KeyOp;
use crate::protocol::{Command, Request};
use crate::shard::Shard;
use crate::stats::Stat;
use crate::store::key_hash;

impl Conn {
    /// [`Conn::handle`] for the most common request, a `get` of one key (`key`), apart from
    /// the general handler, whose frame keeps more state across its arms than a get needs,
    /// and inlined in the pass's loop. Its `END` follows at once: a reply that fills the
    /// connection's share ends the pass after the request (the caller checks), where a
    /// multi-key get drains before its next key.
    #[inline(always)]
    pub(super) fn get_one(
        &mut self,
        shard: &Shard,
        req: &Request<'_>,
        raw: &[u8],
        key: &[u8],
        hash: Option<u64>,
        now: u32,
    ) {
        let h = hash.unwrap_or_else(|| key_hash(key));
        self.route_get(shard, req, raw, key, h, now);
        self.out.extend_from_slice(b"END\r\n");
    }

    /// One key of a retrieval command, `h` its hash, to the shard that owns it.
    #[inline(always)]
    fn route_get(
        &mut self,
        shard: &Shard,
        req: &Request<'_>,
        raw: &[u8],
        key: &[u8],
        h: u64,
        now: u32,
    ) {
        let op = KeyOp::Text {
            req,
            raw,
            key,
            hash: Some(h),
        };
        self.route(shard, shard.owner_of_hash(h), op, now);
    }

    /// Handles one request, `raw` its bytes; returns how the pass must end, if it must.
    /// `hash` is the hash of the request's one key, when prefetching computed it.
    ///
    /// A request for a key goes to the engine on the key's shard whatever its command; the
    /// arms here are the commands the connection answers itself, and the multi-key get.
    pub(super) fn handle(
        &mut self,
        shard: &Shard,
        req: &Request<'_>,
        raw: &[u8],
        hash: Option<u64>,
        now: u32,
    ) -> Option<AfterPass> {
        let noreply = req.noreply;
        match &req.cmd {
            Command::Get { keys, bad_key, .. } => {
                // memcached drops the values it has gathered when a later key is too long
                // and answers the error alone.
                if *bad_key {
                    self.out
                        .extend_from_slice(b"CLIENT_ERROR bad command line format\r\n");
                    return None;
                }
                let skip = mem::take(&mut self.get_resume);
                for (i, key) in keys.iter().enumerate().skip(skip) {
                    // One hash per key routes it, and finds it on its shard (it travels
                    // with a forwarded get).
                    let h = match hash {
                        Some(h) if keys.is_single() => h,
                        _ => key_hash(key),
                    };
                    self.route_get(shard, req, raw, key, h, now);
                    if self.out_full(shard) {
                        self.get_resume = i + 1;
                        return Some(AfterPass::Drain);
                    }
                }
                self.out.extend_from_slice(b"END\r\n");
            }
            Command::FlushAll { .. } => {
                shard.counters.incr(Stat::CmdFlush);
                if !shard.settings.flush_enabled {
                    self.line(noreply, "CLIENT_ERROR flush_all not allowed");
                } else {
                    let op = KeyOp::Text {
                        req,
                        raw,
                        key: b"",
                        hash: None,
                    };
                    self.flush_every_shard(shard, op, now);
                    self.line(noreply, "OK");
                }
            }
            Command::Version => {
                self.line(
                    false,
                    // The protocol's version (crate::config::PROTOCOL_VERSION), which clients
                    // read features from.
                    "VERSION 1.6.18",
                );
            }
            Command::Verbosity { level } => {
                // memcached's `verbosity` sets the process's log level; so does this.
                crate::verbosity::set(*level);
                self.line(noreply, "OK");
            }
            Command::Stats { args } if dump::is_cachedump(args) => {
                return self.cachedump(shard, args)
            }
            Command::Stats { args } => self.stats(shard, args, now),
            Command::Shutdown { args } => return self.shutdown(shard, args),
            Command::RefreshCerts => {
                // memcached's lines: `OK`, or why the files could not be loaded.
                let reply = match &shard.settings.tls {
                    None => "Error TLS not enabled".to_string(),
                    Some(tls) => match tls.refresh() {
                        Ok(()) => "OK".to_string(),
                        Err(e) => format!("Error loading the certificates: {e}"),
                    },
                };
                self.out.extend_from_slice(reply.as_bytes());
                self.out.extend_from_slice(b"\r\n");
            }
            Command::LruCrawler(c) => return self.lru_crawler(shard, c),
            Command::CacheMemlimit { mb } => self.cache_memlimit(shard, *mb, noreply),
            Command::Tune(t) => self.tune(shard, *t, noreply),
            Command::Watch { streams } => return self.watch(shard, *streams, noreply),
            Command::Quit => return Some(AfterPass::Close),
            Command::MetaNoop => self.out.extend_from_slice(b"MN\r\n"),
            Command::Meta(m) => {
                let owner = shard.owner(m.key(&mut None));
                self.route(shard, owner, KeyOp::Meta(m), now);
                self.swallow = m.swallow();
            }
            Command::Error(e) => self.line(noreply, e),
            Command::ErrorSwallow { msg, swallow } => {
                self.line(false, msg);
                self.swallow = *swallow;
            }
            cmd => {
                let Some(key) = cmd.key() else {
                    unreachable!("a command for no key is answered above: {cmd:?}")
                };
                let (owner, hash) = match hash {
                    Some(h) => (shard.owner_of_hash(h), Some(h)),
                    None => shard.owner_hashed(key),
                };
                let op = KeyOp::Text {
                    req,
                    raw,
                    key,
                    hash,
                };
                self.route(shard, owner, op, now);
                self.swallow = cmd.swallow();
            }
        }
        None
    }
}
