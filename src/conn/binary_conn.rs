//! A connection speaking memcached's binary protocol: the packet loop, the commands that are
//! not for one key (noop, version, quit, flush, stat, SASL), header checks and the errors
//! that close the connection, as memcached's `try_read_command_binary` and
//! `dispatch_bin_command`. Key commands go to their owner shard (`engine::binary`).

use super::stats_cmd::{reset_stats, stat_pairs};
use super::{AfterPass, Conn, WINDOW};
use crate::engine::KeyOp;
use crate::protocol::binary::{self as bin, BinRequest, Kind, Packet, Parse};
use crate::shard::Shard;
use crate::stats::Stat;

/// The version a binary client is told (the text protocol's, without `VERSION `).
const VERSION: &str = crate::config::PROTOCOL_VERSION;

impl Conn {
    /// Handles the buffered complete packets (at most `-R` per pass), as `process_in` does
    /// for text.
    pub(super) fn process_binary(&mut self, shard: &Shard, rbuf: &[u8], now: u32) -> AfterPass {
        let mut handled = 0;
        loop {
            if self.swallow > 0 {
                let k = self.swallow.min(self.end - self.start);
                self.start += k;
                self.swallow -= k;
                if self.swallow > 0 {
                    return AfterPass::Read;
                }
            }
            if self.start == self.end {
                return AfterPass::Read;
            }
            if handled >= shard.settings.reqs_per_event {
                return AfterPass::Yield;
            }
            if handled % WINDOW as u32 == 0 {
                self.prefetch_binary(shard, &rbuf[self.start..self.end]);
            }
            let p = match bin::parse(&rbuf[self.start..self.end], &self.limits) {
                Parse::Incomplete { .. } => return AfterPass::Read,
                Parse::Close => return AfterPass::Close,
                Parse::Packet(p) => p,
            };
            // `stat` sees the effects of every earlier command.
            if p.req.opcode == bin::STAT && p.kind == Kind::Valid && !self.splices.is_empty() {
                return AfterPass::Settle;
            }
            self.start += p.used;
            self.swallow = p.swallow;
            if shard.latency.is_some() {
                self.tally
                    .note(crate::latency::Kind::of_opcode(p.req.opcode));
            }
            handled += 1;
            self.turn_reqs += 1;
            if let Some(next) = self.handle_packet(shard, &p, now) {
                return next;
            }
            if self.out_full(shard) {
                return AfterPass::Yield;
            }
        }
    }

    /// Starts loading the index buckets, then the items, of the local keys of the next
    /// complete packets (as the text path does for a window of requests).
    fn prefetch_binary(&self, shard: &Shard, buf: &[u8]) {
        let store = shard.store.borrow();
        let mut prefetch = None;
        let mut first = None;
        let mut pos = 0;
        for i in 0..WINDOW {
            let Parse::Packet(p) = bin::parse(&buf[pos..], &self.limits) else {
                break;
            };
            // One packet alone has nothing to overlap with.
            if i == 1 {
                let p = prefetch.insert(store.prefetcher());
                if let Some(key) = first {
                    p.key(key);
                }
            }
            if p.kind == Kind::Valid
                && bin::is_key_op(p.req.opcode)
                && shard.owner(p.req.key) == shard.id
            {
                match prefetch.as_mut() {
                    Some(prefetch) => {
                        prefetch.key(p.req.key);
                    }
                    None => first = Some(p.req.key),
                }
            }
            if p.swallow > 0 || p.kind != Kind::Valid {
                break;
            }
            pos += p.used;
        }
    }

    fn bin_error(&mut self, req: &BinRequest<'_>, status: u16) {
        bin::write_error(&mut self.out, req.opcode, req.opaque, status);
    }

    /// A success with `body`, unless the command is quiet.
    fn bin_ok(&mut self, req: &BinRequest<'_>, body: &[u8]) {
        if !bin::is_quiet(req.opcode) {
            bin::write_simple(&mut self.out, req.opcode, bin::SUCCESS, req.opaque, 0, body);
        }
    }

    /// Handles one packet; returns how the pass must end, if it must.
    fn handle_packet(&mut self, shard: &Shard, p: &Packet<'_>, now: u32) -> Option<AfterPass> {
        let req = &p.req;
        if p.kind == Kind::Inconsistent {
            self.bin_error(req, bin::UNKNOWN_COMMAND);
            return Some(AfterPass::Close);
        }
        // SASL on: an unauthenticated client may only authenticate or ask the version.
        let sasl = shard.settings.sasl;
        if sasl
            && !self.authed
            && !matches!(
                req.opcode,
                bin::SASL_LIST_MECHS | bin::SASL_AUTH | bin::SASL_STEP | bin::VERSION
            )
        {
            self.bin_error(req, bin::AUTH_ERROR);
            return Some(AfterPass::Close);
        }
        match p.kind {
            Kind::KeyTooLong | Kind::Invalid => {
                log::info!(
                    "binary protocol error (opcode {:02x}), closing the connection",
                    req.opcode
                );
                self.bin_error(req, bin::EINVAL);
                return Some(AfterPass::Close);
            }
            Kind::Unknown => {
                self.bin_error(req, bin::UNKNOWN_COMMAND);
                return None;
            }
            Kind::Inconsistent | Kind::Valid | Kind::TooLarge => {}
        }
        if bin::is_key_op(req.opcode) {
            self.route(shard, shard.owner(req.key), KeyOp::Bin(req), now);
            return None;
        }
        match bin::loud(req.opcode) {
            bin::NOOP => self.bin_ok(req, b""),
            bin::VERSION => self.bin_ok(req, VERSION.as_bytes()),
            bin::QUIT => {
                self.bin_ok(req, b"");
                return Some(AfterPass::Close);
            }
            bin::FLUSH => self.bin_flush(shard, req, now),
            bin::STAT => self.bin_stat(shard, req, now),
            bin::SASL_LIST_MECHS | bin::SASL_AUTH | bin::SASL_STEP if !sasl => {
                self.bin_error(req, bin::UNKNOWN_COMMAND);
            }
            bin::SASL_LIST_MECHS => self.bin_ok(req, b"PLAIN"),
            bin::SASL_AUTH | bin::SASL_STEP => self.sasl_auth(shard, p),
            _ => self.bin_error(req, bin::UNKNOWN_COMMAND),
        }
        None
    }

    fn bin_flush(&mut self, shard: &Shard, req: &BinRequest<'_>, now: u32) {
        if !shard.settings.flush_enabled {
            // memcached answers a disabled flush with an authentication error.
            self.bin_error(req, bin::AUTH_ERROR);
            return;
        }
        self.flush_every_shard(shard, KeyOp::Bin(req), now);
        shard.counters.incr(Stat::CmdFlush);
        self.bin_ok(req, b"");
    }

    /// `stat`: one packet per statistic, then an empty one.
    fn bin_stat(&mut self, shard: &Shard, req: &BinRequest<'_>, now: u32) {
        let group = req.key;
        let opaque = req.opaque;
        if group.starts_with(b"reset") {
            reset_stats(shard);
        } else if let Some(sub) = group.strip_prefix(b"detail") {
            if sub.starts_with(b" dump") {
                bin::write_stat(&mut self.out, opaque, b"detailed", b"END\r\n");
            } else if !(sub.starts_with(b" on") || sub.starts_with(b" off")) {
                self.bin_error(req, bin::KEY_ENOENT);
                return;
            }
        } else {
            let group: &[u8] = if group.starts_with(b"settings") {
                b"settings"
            } else {
                group
            };
            match stat_pairs(shard, group, now) {
                Some(pairs) => {
                    for (name, value) in pairs {
                        bin::write_stat(&mut self.out, opaque, name.as_bytes(), value.as_bytes());
                    }
                }
                None => {
                    self.bin_error(req, bin::KEY_ENOENT);
                    return;
                }
            }
        }
        bin::write_stat(&mut self.out, opaque, b"", b"");
    }

    /// SASL auth and step: PLAIN, in one step.
    fn sasl_auth(&mut self, shard: &Shard, p: &Packet<'_>) {
        let req = &p.req;
        if p.kind == Kind::TooLarge {
            bin::write_simple(
                &mut self.out,
                req.opcode,
                bin::ENOMEM,
                req.opaque,
                0,
                b"Out of memory",
            );
            return;
        }
        if req.key.len() > bin::SASL_MECH_MAX {
            self.bin_error(req, bin::EINVAL);
            return;
        }
        shard.counters.incr(Stat::AuthCmds);
        let auth = shard.auth.as_ref().expect("SASL is on");
        let plain = req.opcode == bin::SASL_AUTH && req.key == b"PLAIN";
        let result = if plain {
            auth.check_plain(req.value).map(|_| ())
        } else {
            // PLAIN has no second step, and no other mechanism is offered.
            Err(crate::auth::AuthError::Rejected)
        };
        match result {
            Ok(()) => {
                self.authed = true;
                self.bin_ok(req, b"Authenticated");
            }
            Err(_) => {
                // memcached: a failed authentication ends an earlier session.
                self.authed = false;
                shard.counters.incr(Stat::AuthErrors);
                // The authentication identity of a well-formed PLAIN message only: the
                // bytes of any other may hold the password anywhere.
                let (user, why) = match crate::auth::split_plain(req.value) {
                    Ok((_, user, _)) if plain => (Some(user), "wrong user or password"),
                    _ if !plain => (None, "not SASL PLAIN's one step"),
                    _ => (None, "malformed PLAIN message"),
                };
                self.log_auth_failure("binary SASL", user, why);
                self.bin_error(req, bin::AUTH_ERROR);
            }
        }
    }
}
