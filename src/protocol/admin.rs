//! memcached's `lru_crawler` and `cache_memlimit` lines (`proto_text.c`
//! `process_lru_crawler_command`, `process_memlimit_command`), parsed with the same token
//! counts and number rules, so the same bad lines get the same errors. Pure: what the
//! commands do is `crate::conn`'s and `crate::dump`'s.

use super::tokens::Tokens;
use super::{Command, BAD_FORMAT, ERROR};
use crate::num::strtoul;

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
