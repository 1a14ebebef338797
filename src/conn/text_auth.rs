//! The text protocol's authentication (`-Y/--auth-file`), as memcached 1.6.18 does it.
//!
//! Until a text client has authenticated, each line is checked for the shape
//! `set <key> <flags> <exptime> <len>`: anything else (any other command, `quit` included)
//! is answered `CLIENT_ERROR unauthenticated` and the connection stays open. For a `set`,
//! `<len>` bytes and `\r\n` follow, holding `user password` (key, flags and exptime are
//! ignored, `noreply` too):
//!
//! | value                         | reply                                           | counts                  |
//! |-------------------------------|-------------------------------------------------|-------------------------|
//! | a user and password of the file | `STORED`; the connection is authenticated     | auth_cmds               |
//! | two tokens, no such pair      | `CLIENT_ERROR authentication failure`           | auth_cmds, auth_errors  |
//! | fewer than two tokens         | `CLIENT_ERROR bad authentication token format`  | none                    |
//! | not ended by `\r\n`           | `CLIENT_ERROR bad command line termination`     | none                    |
//!
//! Both kinds of failure are logged, rate-limited, with the peer and (for a wrong pair)
//! the user, never the password ([`Conn::log_auth_failure`]).
//!
//! A line longer than 2048 bytes without a newline, or a `<len>` that cannot fit memcached's
//! 16 KiB read buffer (over 16382), closes the connection. After `STORED` the connection is
//! an ordinary one, and what the client pipelined after the value is served normally.
//!
//! One difference: memcached answers only the last of several unauthenticated commands
//! read at once (each reply overwrites the previous one); corecached answers each.

use super::{AfterPass, Conn};
use crate::auth::AuthError;
use crate::ratelog::RateLog;
use crate::shard::Shard;
use crate::stats::Stat;

/// A line without a newline longer than this closes an unauthenticated connection.
const LINE_MAX: usize = 2048;
/// The largest `<len>` memcached can take: the value and `\r\n` fill its 16 KiB buffer.
const VALUE_MAX: u32 = 16384 - 2;

impl Conn {
    /// Handles buffered input of a text connection that has not authenticated. `None`
    /// once it has (the rest of the buffer is for the normal path); otherwise how the
    /// pass ends.
    pub(super) fn text_auth(&mut self, shard: &Shard, rbuf: &[u8]) -> Option<AfterPass> {
        let auth = shard
            .auth
            .as_ref()
            .expect("connections start unauthenticated only with a password file");
        let mut handled = 0;
        while !self.authed {
            if handled >= shard.settings.reqs_per_event {
                return Some(AfterPass::Yield);
            }
            let buf = &rbuf[self.start..self.end];
            if buf.len() < 2 {
                return Some(AfterPass::Read);
            }
            let Some(nl) = memchr::memchr(b'\n', buf) else {
                return Some(if buf.len() > LINE_MAX {
                    AfterPass::Close
                } else {
                    AfterPass::Read
                });
            };
            handled += 1;
            let Some(len) = auth_header(&buf[..nl]) else {
                self.out
                    .extend_from_slice(b"CLIENT_ERROR unauthenticated\r\n");
                self.start += nl + 1;
                continue;
            };
            if len > VALUE_MAX {
                return Some(AfterPass::Close);
            }
            let len = len as usize;
            let Some(data) = buf.get(nl + 1..nl + 1 + len + 2) else {
                return Some(AfterPass::Read);
            };
            self.start += nl + 1 + len + 2;
            if &data[len..] != b"\r\n" {
                self.out
                    .extend_from_slice(b"CLIENT_ERROR bad command line termination\r\n");
                continue;
            }
            match auth.check_text(&data[..len]) {
                Ok(user) => {
                    shard.counters.incr(Stat::AuthCmds);
                    log::debug!(
                        "text client authenticated as {}",
                        String::from_utf8_lossy(user)
                    );
                    self.out.extend_from_slice(b"STORED\r\n");
                    self.authed = true;
                }
                Err(AuthError::Rejected) => {
                    shard.counters.incr(Stat::AuthCmds);
                    shard.counters.incr(Stat::AuthErrors);
                    let user = crate::auth::split_text(&data[..len]).ok().map(|(u, _)| u);
                    self.log_auth_failure("text", user, "wrong user or password");
                    self.out
                        .extend_from_slice(b"CLIENT_ERROR authentication failure\r\n");
                }
                Err(AuthError::Malformed) => {
                    self.log_auth_failure("text", None, "not `user password`");
                    self.out
                        .extend_from_slice(b"CLIENT_ERROR bad authentication token format\r\n");
                }
            }
        }
        None
    }

    /// Logs a failed authentication (text or binary) at warn, so it shows at the default
    /// level: the peer and the user, never the password (nor, from a malformed attempt,
    /// any of its bytes, which may be one). At most [`AUTH_LOG_PER_SECOND`] lines a second
    /// per shard, since any client can fail as often as it likes.
    pub(super) fn log_auth_failure(&self, proto: &str, user: Option<&[u8]>, why: &str) {
        thread_local! {
            static FAILURES: RateLog = const { RateLog::new(AUTH_LOG_PER_SECOND) };
        }
        let Some(note) = FAILURES.with(RateLog::admit) else {
            return;
        };
        let peer = crate::listen::peer_name(self.fd);
        match user {
            Some(u) => {
                let shown = &u[..u.len().min(USER_SHOWN)];
                let cut = if u.len() > USER_SHOWN { "..." } else { "" };
                log::warn!(
                    "authentication failed: {proto} client {peer}, user \"{}{cut}\": {why}{note}",
                    shown.escape_ascii()
                );
            }
            None => log::warn!("authentication failed: {proto} client {peer}: {why}{note}"),
        }
    }
}

/// Failed authentications logged per second and shard.
const AUTH_LOG_PER_SECOND: u32 = 5;
/// Bytes of a user name the log shows (the file's lines hold at most 255 bytes).
const USER_SHOWN: usize = 64;

/// The `<len>` of a `set <key> <flags> <exptime> <len>` line (before its `\n`), by
/// memcached's rules: the line ends at a NUL, tokens are split on spaces, the first must be
/// exactly `set`, and the fifth a number as `strtoul` reads it (leading whitespace, `+`,
/// digits, then the end or whitespace such as the `\r`).
pub(crate) fn auth_header(line: &[u8]) -> Option<u32> {
    let line = match memchr::memchr(0, line) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let mut tokens = line.split(|&b| b == b' ').filter(|t| !t.is_empty());
    if tokens.next()? != b"set" {
        return None;
    }
    parse_strtoul(tokens.nth(3)?)
}

/// memcached's `safe_strtoul` on a 64-bit machine: `strtoul` (leading whitespace, a sign,
/// digits, out of range above 2^64 - 1, a minus negating modulo 2^64), refused if it ends
/// on other than whitespace or a negative number results, then cut to 32 bits.
fn parse_strtoul(t: &[u8]) -> Option<u32> {
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let skip = t.iter().take_while(|&&b| space(b)).count();
    let t = &t[skip..];
    let (minus, t) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = t.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || t.get(digits).is_some_and(|&b| !space(b)) {
        return None;
    }
    let mut n: u64 = std::str::from_utf8(&t[..digits]).ok()?.parse().ok()?;
    if minus {
        n = n.wrapping_neg();
        if (n as i64) < 0 {
            return None;
        }
    }
    Some(n as u32)
}

#[cfg(test)]
mod tests {
    use super::auth_header;

    #[test]
    fn headers_as_memcached_reads_them() {
        for (line, len) in [
            (&b"set a 0 0 7\r"[..], Some(7)),
            (b"set a 0 0 7", Some(7)),
            (b"set  a 0 0 7 noreply\r", Some(7)),
            (b"set a b c 007\r", Some(7)),
            (b"set a 0 0 +7\r", Some(7)),
            (b"set a 0 0 4294967295\r", Some(u32::MAX)),
            (b"set a 0 0 4294967297\r", Some(1)),
            (b"set a 0 0 18446744073709551615\r", Some(u32::MAX)),
            (b"set a 0 0 18446744073709551616\r", None),
            (b"set a 0 0 -1\r", None),
            (b"set a 0 0 -0\r", Some(0)),
            (b"set a 0 0 7x\r", None),
            (b"set a 0 0\r", None),
            (b"SET a 0 0 7\r", None),
            (b"add a 0 0 7\r", None),
            (b"get a\r", None),
            (b"\r", None),
            (b"", None),
            (b"set a 0\x00 0 7\r", None),
        ] {
            assert_eq!(
                auth_header(line),
                len,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
