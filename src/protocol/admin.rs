//! memcached's `lru_crawler`, `cache_memlimit`, `slabs`, `lru` and `watch` lines
//! (`proto_text.c` `process_lru_crawler_command`, `process_memlimit_command`,
//! `process_slabs_command`, `process_lru_command`, `process_watch_command`), parsed with the same token counts and number rules, so the same
//! bad lines get the same errors. Pure: what the commands do is `crate::conn`'s,
//! `crate::dump`'s, `crate::admin`'s and `crate::watch`'s.

use super::tokens::Tokens;
use super::{Command, BAD_FORMAT, ERROR};
use crate::num::{strtod, strtol, strtoul};

/// An `lru_crawler` subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crawler<'a> {
    /// ```text
    /// lru_crawler crawl <classes>\r\n
    /// ```
    /// Reclaim expired items of the classes (`all`, or ids separated by commas).
    Crawl(&'a [u8]),
    /// ```text
    /// lru_crawler metadump <all|hash|classes>\r\n
    /// ```
    /// One line per live item, then `END`.
    Metadump(&'a [u8]),
    /// ```text
    /// lru_crawler tocrawl <n>\r\n
    /// ```
    Tocrawl(u32),
    /// ```text
    /// lru_crawler sleep <microseconds>\r\n
    /// ```
    Sleep(u32),
    /// ```text
    /// lru_crawler enable|disable\r\n
    /// ```
    Enable,
    Disable,
}

/// A number read by memcached's `safe_strtod`, compared by its bits (so a request, `NaN`
/// included, equals itself).
#[derive(Clone, Copy, Debug)]
pub struct Double(pub f64);

impl PartialEq for Double {
    fn eq(&self, other: &Double) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Double {}

/// A `slabs` or `lru` line that passed memcached's checks: the tuning it asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tune {
    /// ```text
    /// slabs reassign <source class> <destination class>\r\n
    /// ```
    /// Class -1 as the source means any class with a page to spare.
    SlabsReassign { src: i32, dst: i32 },
    /// ```text
    /// slabs automove <0|1|2> [noreply]\r\n
    /// ```
    SlabsAutomove(u8),
    /// ```text
    /// slabs automove ratio <ratio> [noreply]\r\n
    /// ```
    SlabsAutomoveRatio(Double),
    /// ```text
    /// lru tune <hot pct> <warm pct> <hot max factor> <warm max factor> [noreply]\r\n
    /// ```
    LruTune {
        hot_pct: u32,
        warm_pct: u32,
        hot_factor: Double,
        warm_factor: Double,
    },
    /// ```text
    /// lru mode <flat|segmented> [noreply]\r\n
    /// ```
    LruSegmented(bool),
    /// ```text
    /// lru temp_ttl <seconds> [noreply]\r\n
    /// ```
    /// A negative ttl turns the temporary LRU off.
    LruTempTtl(i32),
}

/// `slabs …`. Only `automove` reads `noreply` (memcached's `set_noreply_maybe`).
pub(super) fn slabs<'a>(t: &Tokens<'a>) -> (Command<'a>, bool) {
    match t.get(1) {
        b"reassign" if t.n == 5 => match (strtol(t.get(2)), strtol(t.get(3))) {
            (Some(src), Some(dst)) => (Command::Tune(Tune::SlabsReassign { src, dst }), false),
            _ => (Command::Error(BAD_FORMAT), false),
        },
        b"automove" if t.n >= 4 => {
            let noreply = t.noreply();
            let cmd = if t.get(2) == b"ratio" {
                match strtod(t.get(3)) {
                    Some(r) if t.n >= 5 => Command::Tune(Tune::SlabsAutomoveRatio(Double(r))),
                    _ => Command::Error(ERROR),
                }
            } else {
                match strtoul(t.get(2)) {
                    Some(level @ 0..=2) => Command::Tune(Tune::SlabsAutomove(level as u8)),
                    Some(_) => Command::Error(ERROR),
                    None => Command::Error(BAD_FORMAT),
                }
            };
            (cmd, noreply)
        }
        _ => (Command::Error(ERROR), false),
    }
}

/// `lru …`, every form reading `noreply`.
pub(super) fn lru<'a>(t: &Tokens<'a>) -> (Command<'a>, bool) {
    let noreply = t.noreply();
    let cmd = match t.get(1) {
        b"tune" if t.n >= 7 => {
            let nums = (
                strtoul(t.get(2)),
                strtoul(t.get(3)),
                strtod(t.get(4)),
                strtod(t.get(5)),
            );
            match nums {
                (Some(hot_pct), Some(warm_pct), Some(hot_factor), Some(warm_factor)) => {
                    // memcached adds the two as 32-bit unsigned numbers.
                    if hot_pct.wrapping_add(warm_pct) > 80 {
                        Command::Error("ERROR hot and warm pcts must not exceed 80")
                    } else if warm_factor <= 0.0 || hot_factor <= 0.0 {
                        Command::Error("ERROR hot/warm age factors must be greater than 0")
                    } else {
                        Command::Tune(Tune::LruTune {
                            hot_pct,
                            warm_pct,
                            hot_factor: Double(hot_factor),
                            warm_factor: Double(warm_factor),
                        })
                    }
                }
                _ => Command::Error(ERROR),
            }
        }
        b"mode" if t.n >= 4 => match t.get(2) {
            b"flat" => Command::Tune(Tune::LruSegmented(false)),
            b"segmented" => Command::Tune(Tune::LruSegmented(true)),
            _ => Command::Error(ERROR),
        },
        b"temp_ttl" if t.n >= 4 => match strtol(t.get(2)) {
            Some(ttl) => Command::Tune(Tune::LruTempTtl(ttl)),
            None => Command::Error(ERROR),
        },
        _ => Command::Error(ERROR),
    };
    (cmd, noreply)
}

/// The classes an `lru_crawler` argument names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classes {
    /// `all`: every class.
    All,
    /// `hash`: every item, walked in hash-table order (metadump only).
    Hash,
    /// Class ids 1..=63, one bit each.
    Ids(u64),
}

/// Why an `lru_crawler` class argument names nothing to crawl.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadClasses {
    /// An id that is not a number or not in 1..=63.
    BadClass,
    /// No id at all (`,`).
    Empty,
}

/// memcached's `MAX_NUMBER_OF_SLAB_CLASSES`: class ids are below it.
pub const MAX_CLASS_IDS: u32 = 64;

impl Classes {
    /// Parses `all`, `hash` or comma-separated ids (empty pieces skipped, as `strtok_r`).
    pub fn parse(arg: &[u8]) -> Result<Classes, BadClasses> {
        match arg {
            b"all" => return Ok(Classes::All),
            b"hash" => return Ok(Classes::Hash),
            _ => {}
        }
        let mut ids = 0u64;
        for p in arg.split(|&b| b == b',').filter(|p| !p.is_empty()) {
            match strtoul(p) {
                Some(id) if (1..MAX_CLASS_IDS).contains(&id) => ids |= 1 << id,
                _ => return Err(BadClasses::BadClass),
            }
        }
        if ids == 0 {
            return Err(BadClasses::Empty);
        }
        Ok(Classes::Ids(ids))
    }

    /// Whether items of class `class` are included.
    pub fn has(&self, class: u8) -> bool {
        match self {
            Classes::All | Classes::Hash => true,
            Classes::Ids(ids) => class < 64 && ids & (1 << class) != 0,
        }
    }
}

/// `lru_crawler …`: `t` holds the line's tokens, memcached's count (the terminal one
/// included) in `t.n`.
pub(super) fn lru_crawler<'a>(t: &Tokens<'a>) -> Command<'a> {
    let sub = t.get(1);
    let arg = t.get(2);
    match (t.n, sub) {
        (4, b"crawl") => Command::LruCrawler(Crawler::Crawl(arg)),
        (4, b"metadump") => Command::LruCrawler(Crawler::Metadump(arg)),
        (4, b"tocrawl") => match strtoul(arg) {
            Some(n) => Command::LruCrawler(Crawler::Tocrawl(n)),
            None => Command::Error(BAD_FORMAT),
        },
        (4, b"sleep") => match strtoul(arg) {
            Some(us) if us > 1_000_000 => {
                Command::Error("CLIENT_ERROR sleep must be one second or less")
            }
            Some(us) => Command::LruCrawler(Crawler::Sleep(us)),
            None => Command::Error(BAD_FORMAT),
        },
        (3, b"enable") => Command::LruCrawler(Crawler::Enable),
        (3, b"disable") => Command::LruCrawler(Crawler::Disable),
        _ => Command::Error(ERROR),
    }
}

/// `cache_memlimit <megabytes> [noreply]`: the errors memcached gives before it tries the
/// new limit, or the limit to try; and `noreply`, read from the last token once the token
/// count is right.
pub(super) fn cache_memlimit<'a>(t: &Tokens<'a>) -> (Command<'a>, bool) {
    if t.n != 3 && t.n != 4 {
        return (Command::Error(ERROR), false);
    }
    let cmd = match strtoul(t.get(1)) {
        None => Command::Error(ERROR),
        Some(mb) if mb < 8 => {
            Command::Error("MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m")
        }
        Some(mb) if mb > 1_000_000_000 => {
            Command::Error("MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes")
        }
        Some(mb) => Command::CacheMemlimit { mb },
    };
    (cmd, t.noreply())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{text, Limits, Parse, Request};

    fn parse(line: &str) -> (Command<'_>, bool) {
        let limits = Limits {
            item_size_max: 1 << 20,
            use_cas: true,
        };
        match text::parse(line.as_bytes(), &limits) {
            Parse::Done(Request { cmd, noreply }, used) => {
                assert_eq!(used, line.len());
                (cmd, noreply)
            }
            other => panic!("{line:?}: {other:?}"),
        }
    }

    /// Each line's outcome, checked against memcached 1.6.18 by hand.
    #[test]
    fn lines_parse_as_memcached_reads_them() {
        let e = |s: &'static str| (Command::Error(s), false);
        let c = |x: Crawler<'static>| (Command::LruCrawler(x), false);
        let cases: &[(&str, (Command<'_>, bool))] = &[
            ("lru_crawler metadump all\r\n", c(Crawler::Metadump(b"all"))),
            ("lru_crawler metadump 1,2\r\n", c(Crawler::Metadump(b"1,2"))),
            ("lru_crawler crawl all\r\n", c(Crawler::Crawl(b"all"))),
            ("lru_crawler metadump\r\n", e(ERROR)),
            ("lru_crawler metadump all extra\r\n", e(ERROR)),
            ("lru_crawler\r\n", e(ERROR)),
            ("lru_crawler foo\r\n", e(ERROR)),
            ("lru_crawler mgdump all\r\n", e(ERROR)),
            ("lru_crawler tocrawl 5\r\n", c(Crawler::Tocrawl(5))),
            ("lru_crawler tocrawl x\r\n", e(BAD_FORMAT)),
            ("lru_crawler sleep 100\r\n", c(Crawler::Sleep(100))),
            (
                "lru_crawler sleep 1000001\r\n",
                e("CLIENT_ERROR sleep must be one second or less"),
            ),
            ("lru_crawler sleep -1\r\n", e(BAD_FORMAT)),
            ("lru_crawler enable\r\n", c(Crawler::Enable)),
            ("lru_crawler disable\r\n", c(Crawler::Disable)),
            ("lru_crawler enable noreply\r\n", e(ERROR)),
            (
                "cache_memlimit 100\r\n",
                (Command::CacheMemlimit { mb: 100 }, false),
            ),
            (
                "cache_memlimit 64 noreply\r\n",
                (Command::CacheMemlimit { mb: 64 }, true),
            ),
            (
                "cache_memlimit 64 x\r\n",
                (Command::CacheMemlimit { mb: 64 }, false),
            ),
            ("cache_memlimit 64 x y\r\n", e(ERROR)),
            ("cache_memlimit 64 x noreply\r\n", e(ERROR)),
            ("cache_memlimit\r\n", e(ERROR)),
            ("cache_memlimit x\r\n", e(ERROR)),
            ("cache_memlimit -1\r\n", e(ERROR)),
            (
                "cache_memlimit 7\r\n",
                e("MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m"),
            ),
            (
                "cache_memlimit 4294967296\r\n",
                e("MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m"),
            ),
            (
                "cache_memlimit 1000000001\r\n",
                e("MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes"),
            ),
            (
                "cache_memlimit 1000000000\r\n",
                (Command::CacheMemlimit { mb: 1_000_000_000 }, false),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(&parse(line), want, "{line:?}");
        }
    }

    /// `slabs` and `lru` lines, checked against memcached 1.6.18 (tests/tunings.rs compares
    /// the replies).
    #[test]
    fn tuning_lines_parse_as_memcached_reads_them() {
        let e = |s: &'static str, noreply: bool| (Command::Error(s), noreply);
        let t = |x: Tune, noreply: bool| (Command::Tune(x), noreply);
        let lru = |hot_pct, warm_pct, hot: f64, warm: f64| Tune::LruTune {
            hot_pct,
            warm_pct,
            hot_factor: Double(hot),
            warm_factor: Double(warm),
        };
        let cases: &[(&str, (Command<'_>, bool))] = &[
            ("slabs\r\n", e(ERROR, false)),
            ("slabs automove\r\n", e(ERROR, false)),
            ("slabs automove 2\r\n", t(Tune::SlabsAutomove(2), false)),
            (
                "slabs automove 0 noreply\r\n",
                t(Tune::SlabsAutomove(0), true),
            ),
            ("slabs automove 3\r\n", e(ERROR, false)),
            ("slabs automove 3 noreply\r\n", e(ERROR, true)),
            ("slabs automove x\r\n", e(BAD_FORMAT, false)),
            ("slabs automove ratio\r\n", e(ERROR, false)),
            (
                "slabs automove ratio 0.5\r\n",
                t(Tune::SlabsAutomoveRatio(Double(0.5)), false),
            ),
            ("slabs automove ratio x\r\n", e(ERROR, false)),
            (
                "slabs reassign 3 -1\r\n",
                t(Tune::SlabsReassign { src: 3, dst: -1 }, false),
            ),
            ("slabs reassign 1 x\r\n", e(BAD_FORMAT, false)),
            ("slabs reassign 1 2 noreply\r\n", e(ERROR, false)),
            ("lru\r\n", e(ERROR, false)),
            ("lru mode flat\r\n", t(Tune::LruSegmented(false), false)),
            (
                "lru mode segmented noreply\r\n",
                t(Tune::LruSegmented(true), true),
            ),
            ("lru mode x\r\n", e(ERROR, false)),
            ("lru tune 10 20\r\n", e(ERROR, false)),
            (
                "lru tune 10 30 0.15 1.5\r\n",
                t(lru(10, 30, 0.15, 1.5), false),
            ),
            (
                "lru tune 50 40 0.1 2.0\r\n",
                e("ERROR hot and warm pcts must not exceed 80", false),
            ),
            (
                "lru tune 4294967295 1 0.1 2.0\r\n",
                t(lru(u32::MAX, 1, 0.1, 2.0), false),
            ),
            (
                "lru tune 10 20 0 2.0\r\n",
                e("ERROR hot/warm age factors must be greater than 0", false),
            ),
            ("lru tune 10 20 0.1 x noreply\r\n", e(ERROR, true)),
            ("lru temp_ttl -1\r\n", t(Tune::LruTempTtl(-1), false)),
            ("lru temp_ttl x\r\n", e(ERROR, false)),
        ];
        for (line, want) in cases {
            assert_eq!(&parse(line), want, "{line:?}");
        }
    }

    #[test]
    fn class_lists_follow_strtok_and_safe_strtoul() {
        let ok = |s: &str, ids: &[u32]| {
            let mask = ids.iter().fold(0u64, |m, &i| m | 1 << i);
            assert_eq!(Classes::parse(s.as_bytes()), Ok(Classes::Ids(mask)), "{s}");
        };
        ok("1", &[1]);
        ok("1,2", &[1, 2]);
        ok("1,,2", &[1, 2]);
        ok("01", &[1]);
        ok("+1", &[1]);
        ok("63", &[63]);
        assert_eq!(Classes::parse(b"all"), Ok(Classes::All));
        assert_eq!(Classes::parse(b"hash"), Ok(Classes::Hash));
        for bad in ["0", "64", "x", "1,x", "ALL", "-1"] {
            assert_eq!(
                Classes::parse(bad.as_bytes()),
                Err(BadClasses::BadClass),
                "{bad}"
            );
        }
        assert_eq!(Classes::parse(b","), Err(BadClasses::Empty));
        assert!(Classes::Ids(1 << 5).has(5));
        assert!(!Classes::Ids(1 << 5).has(6));
        assert!(Classes::All.has(39));
    }
}

/// The log streams `watch` can ask for: memcached's `LOG_*` bits, so a watcher's set of
/// streams is one `u16`.
pub mod streams {
    pub const SYSEVENTS: u16 = 1 << 1;
    pub const FETCHERS: u16 = 1 << 2;
    pub const MUTATIONS: u16 = 1 << 3;
    pub const CONNEVENTS: u16 = 1 << 5;
    pub const EVICTIONS: u16 = 1 << 6;
    pub const RAWCMDS: u16 = 1 << 9;
    pub const PROXYREQS: u16 = 1 << 10;
    pub const PROXYEVENTS: u16 = 1 << 11;
    pub const PROXYUSER: u16 = 1 << 12;
}

/// ```text
/// watch [fetchers|mutations|evictions|connevents|sysevents|rawcmds|proxyreqs|proxyevents|proxyuser]…\r\n
/// ```
/// The streams named, fetchers alone when none is; `None` when a word names none
/// (memcached 1.6.18 answers `ERROR`; `deletions` came later). As memcached's loop does,
/// `noreply` is read as a word too (so it is an error, and unanswered), and words past
/// the tokenizer's 23 tokens are not read.
pub fn watch(t: &Tokens<'_>) -> (Command<'static>, bool) {
    let noreply = t.noreply();
    if t.n <= 2 {
        return (
            Command::Watch {
                streams: Some(streams::FETCHERS),
            },
            noreply,
        );
    }
    let mut f = 0;
    for &word in &t.toks()[1..] {
        f |= match word {
            b"rawcmds" => streams::RAWCMDS,
            b"evictions" => streams::EVICTIONS,
            b"fetchers" => streams::FETCHERS,
            b"mutations" => streams::MUTATIONS,
            b"sysevents" => streams::SYSEVENTS,
            b"connevents" => streams::CONNEVENTS,
            b"proxyreqs" => streams::PROXYREQS,
            b"proxyevents" => streams::PROXYEVENTS,
            b"proxyuser" => streams::PROXYUSER,
            _ => return (Command::Watch { streams: None }, noreply),
        };
    }
    (Command::Watch { streams: Some(f) }, noreply)
}
