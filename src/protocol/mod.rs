//! Wire protocols. Pure: bytes in, requests out; nothing here touches a socket or a store,
//! and nothing under `protocol` imports the engine, the store, a connection or a shard.
//!
//! This file holds the vocabulary the parsers share: the [`Request`] a text or meta line parses
//! into, the [`Parse`] step that carries it, the server [`Limits`] they check, memcached's key
//! bound and error lines, and memcached's item size.
//!
//! - [`text`]: memcached's text protocol, the connection's default; it hands meta command
//!   lines to [`meta`].
//! - [`meta`]: the meta commands (`mg ms md ma me`).
//! - [`tokens`]: memcached's `tokenize_command`, shared by [`text`] and [`meta`].
//! - [`binary`]: the binary protocol, chosen per connection by its first byte.
//! - [`base64`]: memcached's base64, for meta keys sent with `b`.
//!
//! memcached's number parsing, which the store shares, is [`crate::num`].

pub mod admin;
pub mod base64;
pub mod binary;
pub mod meta;
pub mod text;
pub mod tokens;

use std::mem;

use base64::base64_decode;

/// Longest key memcached accepts (`KEY_MAX_LENGTH`).
pub const KEY_MAX: usize = 250;
/// Server settings the parser needs.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `-I`: the largest item, header included, as memcached counts it.
    pub item_size_max: usize,
    /// `-C` clears this: items then carry no CAS and memcached's item header is 8 bytes smaller.
    pub use_cas: bool,
}

/// memcached's size of an item (`item_size_ok`): a 48-byte header, 8 bytes of CAS, the key
/// and its NUL, 4 bytes of flags when they are not 0, and the data with its CRLF. `-I` limits
/// this, not the value alone.
pub fn memcached_item_size(nkey: usize, flags: u32, vlen: usize, use_cas: bool) -> usize {
    48 + if use_cas { 8 } else { 0 } + nkey + 1 + if flags != 0 { 4 } else { 0 } + vlen + 2
}

/// One step of parsing.
// A meta request carries its decoded key inline (the parser allocates nothing), which makes
// `Done` large; it is returned by value once per request, never stored.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq, Eq)]
pub enum Parse<'a> {
    /// A complete request and the bytes it used.
    Done(Request<'a>, usize),
    /// More input is needed; `need` is the total length required when it is known
    /// (a storage command whose line is complete but whose data block is not).
    Incomplete { need: Option<usize> },
    /// memcached closes the connection without a reply (over-long line, HTTP request).
    Close,
}

/// The storage commands, and the store's modes (`store::Mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreMode {
    Set,
    Add,
    Replace,
    Append,
    Prepend,
    Cas,
}

/// The retrieval commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetKind {
    Get,
    Gets,
    Gat,
    Gats,
}

impl GetKind {
    pub fn returns_cas(self) -> bool {
        matches!(self, GetKind::Gets | GetKind::Gats)
    }
    pub fn touches(self) -> bool {
        matches!(self, GetKind::Gat | GetKind::Gats)
    }
}

/// A parsed request. `noreply` is memcached's: taken from the last token, it suppresses the
/// reply, errors included, of the commands that honour it.
#[derive(Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub cmd: Command<'a>,
    pub noreply: bool,
}

/// The commands, with their arguments borrowed from the input.
#[allow(clippy::large_enum_variant)] // `Meta`: see `Parse`.
#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// ```text
    /// get|gets <key>*\r\n
    /// gat|gats <exptime> <key>*\r\n
    /// ```
    /// `keys` holds the space-separated keys. When a key is over 250 bytes, `keys` stops
    /// before it and `bad_key` is set: memcached has answered the keys before it, then answers
    /// `CLIENT_ERROR bad command line format` instead of `END`.
    Get {
        kind: GetKind,
        exptime: i32,
        keys: Keys<'a>,
        bad_key: bool,
    },
    /// ```text
    /// set|add|replace|append|prepend <key> <flags> <exptime> <bytes> [noreply]\r\n<data>\r\n
    /// cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]\r\n<data>\r\n
    /// ```
    Store {
        mode: StoreMode,
        key: &'a [u8],
        flags: u32,
        exptime: i32,
        cas: u64,
        data: &'a [u8],
    },
    /// A storage command whose value is over `-I`. memcached answers
    /// `SERVER_ERROR object too large for cache`, swallows the next `swallow` bytes (the data
    /// block, whenever it arrives), and, for `set`, deletes the key so no stale value stays.
    TooLarge {
        mode: StoreMode,
        key: &'a [u8],
        swallow: usize,
    },
    /// ```text
    /// delete <key> [0] [noreply]\r\n
    /// ```
    Delete { key: &'a [u8] },
    /// ```text
    /// incr|decr <key> <delta> [noreply]\r\n
    /// ```
    Arith {
        incr: bool,
        key: &'a [u8],
        delta: u64,
    },
    /// ```text
    /// touch <key> <exptime> [noreply]\r\n
    /// ```
    Touch { key: &'a [u8], exptime: i32 },
    /// ```text
    /// flush_all [delay] [noreply]\r\n
    /// ```
    FlushAll { delay: i32 },
    /// ```text
    /// version\r\n
    /// ```
    Version,
    /// ```text
    /// verbosity <level> [noreply]\r\n
    /// ```
    Verbosity { level: u32 },
    /// ```text
    /// stats [<group> [args]]\r\n
    /// ```
    /// `args` is the rest of the line after `stats`, trimmed of spaces.
    Stats { args: &'a [u8] },
    /// ```text
    /// shutdown [graceful]\r\n
    /// ```
    /// `args` is the rest of the line, as for `stats`: whether `-A` allows the command
    /// decides which error a bad mode gets.
    Shutdown { args: &'a [u8] },
    /// ```text
    /// quit\r\n
    /// ```
    Quit,
    /// ```text
    /// refresh_certs [anything]\r\n
    /// ```
    /// TLS (`-Z`): the certificate files are loaded again. memcached ignores any argument
    /// and `noreply`.
    RefreshCerts,
    /// `lru_crawler …`, parsed by [`admin`].
    LruCrawler(admin::Crawler<'a>),
    /// ```text
    /// cache_memlimit <megabytes> [noreply]\r\n
    /// ```
    /// Sets `-m` live; the errors memcached gives before trying are `Error`s.
    CacheMemlimit { mb: u32 },
    /// `slabs …` and `lru …`, parsed by [`admin`]: memcached's tuning of its slabs and
    /// LRUs.
    Tune(admin::Tune),
    /// `watch [streams…]`, parsed by [`admin::watch`]: the connection becomes a log
    /// stream of the streams named (`None`: a word named none).
    Watch { streams: Option<u16> },
    /// ```text
    /// mn\r\n
    /// ```
    /// The meta no-op: answers `MN`.
    MetaNoop,
    /// A meta command (`mg ms md ma me`), parsed by [`meta`].
    Meta(MetaRequest<'a>),
    /// A complete line answered with a fixed line (`ERROR`, `CLIENT_ERROR …`), CRLF excluded.
    Error(&'static str),
    /// An error line, after which the next `swallow` bytes (a data block the error refused)
    /// are discarded whenever they arrive, as memcached's `conn_swallow`.
    ErrorSwallow { msg: &'static str, swallow: usize },
}

impl<'a> Command<'a> {
    /// The key of a command for one key, which picks the shard that runs it. `None` for a
    /// get of several keys (each key is routed alone), for a meta command (its key may need
    /// decoding: [`MetaRequest::key`]), and for the commands the connection answers itself.
    /// Exhaustive on purpose: a new command says here whether it is for a key.
    pub fn key(&self) -> Option<&'a [u8]> {
        match *self {
            Command::Get { keys, .. } => keys.is_single().then_some(keys.0),
            Command::Store { key, .. }
            | Command::TooLarge { key, .. }
            | Command::Delete { key }
            | Command::Arith { key, .. }
            | Command::Touch { key, .. } => Some(key),
            Command::FlushAll { .. }
            | Command::Version
            | Command::Verbosity { .. }
            | Command::Stats { .. }
            | Command::Quit
            | Command::MetaNoop
            | Command::Meta(_)
            | Command::Shutdown { .. }
            | Command::RefreshCerts
            | Command::LruCrawler(_)
            | Command::CacheMemlimit { .. }
            | Command::Tune(_)
            | Command::Watch { .. }
            | Command::Error(_)
            | Command::ErrorSwallow { .. } => None,
        }
    }

    /// Bytes of data block the connection discards after this request (a value it refused).
    pub fn swallow(&self) -> usize {
        match self {
            Command::TooLarge { swallow, .. } | Command::ErrorSwallow { swallow, .. } => *swallow,
            Command::Meta(m) => m.swallow(),
            _ => 0,
        }
    }
}

pub const ERROR: &str = "ERROR";
pub const BAD_FORMAT: &str = "CLIENT_ERROR bad command line format";
pub const BAD_EXPTIME: &str = "CLIENT_ERROR invalid exptime argument";
pub const BAD_DELTA: &str = "CLIENT_ERROR invalid numeric delta argument";
pub const BAD_DELETE: &str = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]";
pub const BAD_CHUNK: &str = "CLIENT_ERROR bad data chunk";
pub const TOO_LARGE: &str = "SERVER_ERROR object too large for cache";

/// The keys of a retrieval command: space-separated, none longer than [`KEY_MAX`]. The
/// flag is set when the bytes are exactly one key (the common `get <key>`), which the
/// tokenizer already found, so they are not split again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keys<'a>(pub &'a [u8], bool);

impl<'a> Keys<'a> {
    /// Exactly one key (then it is `self.0`).
    pub fn is_single(&self) -> bool {
        self.1
    }

    pub fn iter(&self) -> KeyIter<'a> {
        KeyIter {
            rest: self.0,
            single: self.1,
        }
    }
}

/// The keys of [`Keys`], in order.
#[derive(Clone, Debug)]
pub struct KeyIter<'a> {
    rest: &'a [u8],
    /// `rest` is one key.
    single: bool,
}

impl<'a> Iterator for KeyIter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.single {
            self.single = false;
            return Some(mem::take(&mut self.rest));
        }
        let start = self.rest.iter().position(|&b| b != b' ')?;
        let r = &self.rest[start..];
        let end = memchr::memchr(b' ', r).unwrap_or(r.len());
        self.rest = &r[end..];
        Some(&r[..end])
    }
}

/// Which meta command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaCmd {
    Get,
    Set,
    Delete,
    Arith,
    Debug,
}

/// What the flags of a request ask for (memcached's `struct _meta_flags`). The reply
/// flags (`k v f s t c h l O`) are read again, in order, from [`MetaRequest::flags`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetaFlags {
    /// `q`: quiet mode.
    pub quiet: bool,
    /// `v`: return the value.
    pub value: bool,
    /// `u`: no LRU bump.
    pub no_update: bool,
    /// `I`: invalidate (mark stale).
    pub invalidate: bool,
    /// A `C<cas>` flag was given (even `C0`, which `ms` and `md` still compare).
    pub has_cas: bool,
    /// `C<cas>`: the unique to compare.
    pub cas: u64,
    /// `F<flags>`: client flags for `ms`.
    pub client_flags: u32,
    /// `M<mode>`: the mode byte, 0 when absent.
    pub mode: u8,
    /// `T<ttl>`: new TTL (a memcached exptime).
    pub ttl: Option<i32>,
    /// `N<ttl>`: vivify on miss with this TTL.
    pub vivify: Option<i32>,
    /// `R<ttl>`: recache when the TTL left is below this.
    pub recache: Option<i32>,
    /// `D<delta>` for `ma` (default 1).
    pub delta: u64,
    /// `J<initial>` for `ma` (default 0).
    pub initial: u64,
}

/// Room for a base64-decoded key: `None` until [`MetaRequest::key`] decodes one, so a
/// plain key costs no buffer.
pub type KeyBuf = Option<[u8; KEY_MAX]>;

/// A parsed meta request. Everything the owner shard needs to run it and format its reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaRequest<'a> {
    /// The whole request as received: the line and, for `ms`, its data block. Forwarding
    /// sends these bytes and the owner parses them again with [`meta::reparse`].
    pub raw: &'a [u8],
    pub cmd: MetaCmd,
    /// The key as sent (base64 with `b`).
    key_token: &'a [u8],
    /// The decoded key's length, with `b` (the key is decoded again where it is used:
    /// carrying it here made every request, text ones included, 250 bytes larger).
    key_len: u8,
    /// `b`: the key was base64-encoded (replies show it encoded again).
    pub key_binary: bool,
    /// The flag tokens, space separated, in request order.
    flags: &'a [u8],
    pub f: MetaFlags,
    /// `ms`: the data block, CRLF excluded.
    pub data: &'a [u8],
    /// `ms`: the value is over `-I`; the data block is swallowed, not in `raw`.
    pub too_large: bool,
    /// `ms`: the data block did not end in CRLF (memcached counts the set, then refuses).
    pub bad_chunk: bool,
    /// Bytes of data block to discard after `raw` (an `ms` whose value is too large).
    swallow: usize,
}

impl<'a> MetaRequest<'a> {
    /// The key the command is for (base64-decoded with the `b` flag, into `decoded`): it
    /// picks the shard.
    pub fn key<'s>(&'s self, decoded: &'s mut KeyBuf) -> &'s [u8] {
        if self.key_binary {
            let buf = decoded.insert([0; KEY_MAX]);
            let n = base64_decode(self.key_token, buf);
            debug_assert_eq!(n, self.key_len as usize);
            &buf[..n]
        } else {
            self.key_token
        }
    }

    /// The length of [`MetaRequest::key`].
    pub fn key_len(&self) -> usize {
        if self.key_binary {
            self.key_len as usize
        } else {
            self.key_token.len()
        }
    }

    /// The key as the request spelled it (base64 with `b`).
    pub fn key_token(&self) -> &'a [u8] {
        self.key_token
    }

    /// Bytes of data block the connection discards after this request.
    pub fn swallow(&self) -> usize {
        self.swallow
    }

    /// The flag tokens, in request order.
    pub fn flags(&self) -> impl Iterator<Item = &'a [u8]> {
        self.flags.split(|&b| b == b' ').filter(|t| !t.is_empty())
    }
}
