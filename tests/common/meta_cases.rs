//! The meta-command corpus: scripts of requests, each run on one connection, with the exact
//! reply bytes memcached 1.6.18 gave for every step.
//!
//! Recorded by replaying each step to a fresh `memcached -U 0 -t 1` (plus `-I 1k -o
//! slab_chunk_max=1024` for [`META_SMALL_ITEM_SCRIPTS`]), scripts in table order on one
//! server, each step followed by the sentinel `mn\r\n` whose `MN\r\n` is stripped. Never
//! edit a reply by hand: `tests/meta.rs` replays the tables against memcached too.
//!
//! `$CAS` in a request stands for the latest CAS unique the same connection was shown (a
//! `c<unique>` flag or an `me` line's `cas=`), so the scripts work on any server.
//!
//! What legitimately differs from the recording, and how [`compare_replies`] allows it:
//! - CAS uniques: memcached counts one sequence per server, corecached one per shard
//!   (`--threads 2` interleaves them). Uniques are compared by order of first appearance
//!   within a script (equal stays equal, different stays different).
//! - Times: `t<secs>`, `l<secs>`, `exp=` and `la=` may differ by a clock tick or two
//!   (the servers' clocks tick at different instants): compared within 2 seconds.
//!
//! Intended differences in behaviour (no case depends on them; see [`META_INTENDED`]).
//! Of the counters in [`META_SCRIPTS_STATS`], `get_expired` is not compared: corecached's
//! expiry pager reclaims an item as soon as it expires (a `T-1` expires it at once), while
//! memcached finds it expired on the next read.
//!
//! memcached 1.6.18 knows no `E` (explicit new CAS) or `S` flag and no lowercase modes:
//! they are errors there, and the corpus records them as such.

/// One script: steps sent in order on one connection.
pub struct Script {
    pub name: &'static str,
    /// (request, memcached's reply) per step.
    pub steps: &'static [(&'static [u8], &'static [u8])],
}

/// Differences from memcached that are intended, with their reasons.
pub const META_INTENDED: &[(&str, &str)] = &[
    (
        "me cls",
        "corecached has no slab classes: `me` shows the class memcached 1.6.18 would use \
         with its default -n 48 -f 1.25 and 512 KiB chunks, whatever -I is",
    ),
    (
        "la / l after repeated reads",
        "memcached's segmented LRU stops updating an item's access time while it is ACTIVE \
         until its LRU maintainer moves it; corecached updates it on every read after the \
         first (the first only marks it fetched, as memcached)",
    ),
];

/// Status words that begin a meta reply line whose flags are normalized.
fn is_status(tok: &[u8]) -> bool {
    matches!(tok, b"HD" | b"VA" | b"EN" | b"NF" | b"NS" | b"EX" | b"ME")
}

#[derive(Debug, PartialEq, Eq)]
enum Tok {
    Exact(Vec<u8>),
    /// A CAS unique, by its label (order of first appearance).
    Cas(Vec<u8>, usize),
    /// A time in seconds, compared within a tolerance.
    Time(Vec<u8>, i64),
}

/// Labels CAS uniques per script: the first unique seen is 0, the next new one 1, ...
#[derive(Default)]
pub struct CasLabels(Vec<u64>);

impl CasLabels {
    fn label(&mut self, v: u64) -> usize {
        match self.0.iter().position(|&x| x == v) {
            Some(i) => i,
            None => {
                self.0.push(v);
                self.0.len() - 1
            }
        }
    }
}

fn number(b: &[u8]) -> Option<i64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

/// The tokens of a reply with CAS uniques labelled and times marked.
fn tokens(reply: &[u8], labels: &mut CasLabels) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut rest = reply;
    while !rest.is_empty() {
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            out.push(Tok::Exact(rest.to_vec()));
            break;
        };
        let line = &rest[..=nl];
        rest = &rest[nl + 1..];
        let text = line.strip_suffix(b"\r\n").unwrap_or(line);
        let toks: Vec<&[u8]> = text.split(|&b| b == b' ').collect();
        if !is_status(toks[0]) {
            out.push(Tok::Exact(line.to_vec()));
            continue;
        }
        let me = toks[0] == b"ME";
        for (i, t) in toks.iter().enumerate() {
            let tok = if i == 0 || (me && i == 1) {
                Tok::Exact(t.to_vec())
            } else if me {
                let (name, value) = match t.iter().position(|&b| b == b'=') {
                    Some(p) => (&t[..=p], &t[p + 1..]),
                    None => (&t[..], &b""[..]),
                };
                match name {
                    b"cas=" if digits(value) => {
                        Tok::Cas(name.to_vec(), labels.label(number(value).unwrap() as u64))
                    }
                    b"exp=" | b"la=" if number(value).is_some_and(|n| n != -1) => {
                        Tok::Time(name.to_vec(), number(value).unwrap())
                    }
                    _ => Tok::Exact(t.to_vec()),
                }
            } else if t.len() > 1 && t[0] == b'c' && digits(&t[1..]) {
                Tok::Cas(b"c".to_vec(), labels.label(number(&t[1..]).unwrap() as u64))
            } else if t.len() > 1 && (t[0] == b't' || t[0] == b'l') && digits(&t[1..]) {
                Tok::Time(t[..1].to_vec(), number(&t[1..]).unwrap())
            } else {
                Tok::Exact(t.to_vec())
            };
            out.push(tok);
        }
        out.push(Tok::Exact(b"\r\n".to_vec()));
        if toks[0] == b"VA" {
            if let Some(n) = toks.get(1).and_then(|t| number(t)) {
                let take = (n as usize + 2).min(rest.len());
                out.push(Tok::Exact(rest[..take].to_vec()));
                rest = &rest[take..];
            }
        }
    }
    out
}

/// Whether `actual` matches `expected` up to CAS labels and times within 2 seconds.
/// Each side keeps its own labels for the whole script.
pub fn compare_replies(
    expected: &[u8],
    actual: &[u8],
    expected_labels: &mut CasLabels,
    actual_labels: &mut CasLabels,
) -> bool {
    let e = tokens(expected, expected_labels);
    let a = tokens(actual, actual_labels);
    e.len() == a.len()
        && e.iter().zip(&a).all(|(x, y)| match (x, y) {
            (Tok::Time(p, u), Tok::Time(q, v)) => p == q && (u - v).abs() <= 2,
            _ => x == y,
        })
}

/// The CAS unique a reply last showed (`c<unique>` or `cas=<unique>`), if any.
pub fn last_cas(reply: &[u8]) -> Option<u64> {
    let mut found = None;
    for line in reply.split(|&b| b == b'\n') {
        let text = line.strip_suffix(b"\r").unwrap_or(line);
        let toks: Vec<&[u8]> = text.split(|&b| b == b' ').collect();
        if !is_status(toks[0]) {
            continue;
        }
        for t in &toks[1..] {
            if t.len() > 1 && t[0] == b'c' && digits(&t[1..]) {
                found = number(&t[1..]).map(|n| n as u64);
            } else if let Some(v) = t.strip_prefix(b"cas=") {
                if digits(v) {
                    found = number(v).map(|n| n as u64);
                }
            }
        }
    }
    found
}

/// `req` with `$CAS` replaced by `cas`.
pub fn with_cas(req: &[u8], cas: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(req.len() + 16);
    let mut i = 0;
    while i < req.len() {
        if req[i..].starts_with(b"$CAS") {
            out.extend_from_slice(cas.to_string().as_bytes());
            i += 4;
        } else {
            out.push(req[i]);
            i += 1;
        }
    }
    out
}

pub const META_SCRIPTS: &[Script] = &[
    Script {
        name: "mg_basic",
        steps: &[
            (b"mg mgb\r\n", b"EN\r\n"),
            (b"mg mgb v\r\n", b"EN\r\n"),
            (b"mg mgb q\r\n", b""),
            (b"mg mgb k O123 q v\r\n", b""),
            (b"mg mgb k O123 v s f t c\r\n", b"EN kmgb O123\r\n"),
            (b"ms mgb 3\r\nbar\r\n", b"HD\r\n"),
            (b"mg mgb\r\n", b"HD\r\n"),
            (b"mg mgb q\r\n", b"HD\r\n"),
            (b"mg mgb v\r\n", b"VA 3\r\nbar\r\n"),
            (b"mg mgb s v f t k Oop h l c\r\n", b"VA 3 s3 f0 t-1 kmgb Oop h1 l0 c1\r\nbar\r\n"),
            (b"mg mgb v q k\r\n", b"VA 3 kmgb\r\nbar\r\n"),
            (b"mg mgb u h\r\n", b"HD h1\r\n"),
            (b"mg mgb P L O1\r\n", b"HD O1\r\n"),
            (b"mg  mgb   v   \r\n", b"VA 3\r\nbar\r\n"),
            (b"mg mgb v\n", b"VA 3\r\nbar\r\n"),
            (b"mg mgb\x00 v\r\n", b"HD\r\n"),
        ],
    },
    Script {
        name: "mg_flags_ttl",
        steps: &[
            (b"ms mgt 3 T100 F77\r\nval\r\n", b"HD\r\n"),
            (b"mg mgt t f s v\r\n", b"VA 3 t100 f77 s3\r\nval\r\n"),
            (b"mg mgt T300 t\r\n", b"HD t300\r\n"),
            (b"mg mgt t v\r\n", b"VA 3 t300\r\nval\r\n"),
            (b"mg mgt t T0 t\r\n", b"CLIENT_ERROR duplicate flag\r\n"),
            (b"mg mgt t\r\n", b"HD t300\r\n"),
            (b"mg mgt T-1\r\n", b"HD\r\n"),
            (b"mg mgt\r\n", b"EN\r\n"),
            (b"mg mgt T30 t v\r\n", b"EN\r\n"),
        ],
    },
    Script {
        name: "mg_hit_fetched",
        steps: &[
            (b"ms mgh 1\r\nx\r\n", b"HD\r\n"),
            (b"mg mgh h l\r\n", b"HD h0 l0\r\n"),
            (b"mg mgh h l\r\n", b"HD h1 l0\r\n"),
            (b"ms mgh 1\r\ny\r\n", b"HD\r\n"),
            (b"mg mgh u h\r\n", b"HD h0\r\n"),
            (b"mg mgh u h\r\n", b"HD h0\r\n"),
            (b"mg mgh h\r\n", b"HD h0\r\n"),
            (b"mg mgh h\r\n", b"HD h1\r\n"),
        ],
    },
    Script {
        name: "bumps",
        steps: &[
            (b"ms bpa 1\r\na\r\n", b"HD\r\n"),
            (b"ms bpa 1 ME\r\nb\r\n", b"NS\r\n"),
            (b"mg bpa h l\r\n", b"HD h0 l0\r\n"),
            (b"set bpt 0 0 1\r\na\r\n", b"STORED\r\n"),
            (b"add bpt 0 0 1\r\nb\r\n", b"NOT_STORED\r\n"),
            (b"mg bpt h l\r\n", b"HD h0 l0\r\n"),
            (b"ms bpu 1\r\na\r\n", b"HD\r\n"),
            (b"touch bpu 100\r\n", b"TOUCHED\r\n"),
            (b"mg bpu h t\r\n", b"HD h1 t100\r\n"),
            (b"ms bpi 1\r\n5\r\n", b"HD\r\n"),
            (b"incr bpi 1\r\n", b"6\r\n"),
            (b"mg bpi h\r\n", b"HD h0\r\n"),
            (b"ma bpi\r\n", b"HD\r\n"),
            (b"mg bpi h\r\n", b"HD h1\r\n"),
            (b"get bpi\r\n", b"VALUE bpi 0 1\r\n7\r\nEND\r\n"),
            (b"mg bpi h\r\n", b"HD h1\r\n"),
            (b"ms bpm 1\r\n1\r\n", b"HD\r\n"),
            (b"ma bpm\r\n", b"HD\r\n"),
            (b"mg bpm h\r\n", b"HD h0\r\n"),
            (b"md bpm I\r\n", b"HD\r\n"),
            (b"mg bpm h\r\n", b"HD h1 X W\r\n"),
            (b"me bpm\r\n", b"ME bpm exp=-1 la=0 cas=13 fetch=yes cls=1 size=63\r\n"),
            (b"mg bpm h\r\n", b"HD h1 Z X\r\n"),
        ],
    },
    Script {
        name: "mg_vivify",
        steps: &[
            (b"mg mgv N30 t v c s f k\r\n", b"VA 0 t30 c14 s0 f0 kmgv W\r\n\r\n"),
            (b"mg mgv N30 t v c\r\n", b"VA 0 t30 c14 Z\r\n\r\n"),
            (b"mg mgv N30 t v\r\n", b"VA 0 t30 Z\r\n\r\n"),
            (b"mg mgv2 t N30 t\r\n", b"CLIENT_ERROR duplicate flag\r\n"),
            (b"mg mgv3 N30 s f k q\r\n", b"HD s0 f0 kmgv3 W\r\n"),
            (b"mg mgv3 q\r\n", b"HD Z\r\n"),
            (b"mg mgv4 N30 O123456789012345678901234567890123\r\n", b"CLIENT_ERROR opaque token too long\r\n"),
            (b"mg mgv4 t v\r\n", b"VA 0 t30\r\n\r\n"),
            (b"mg mgv5 T60 N30 t\r\n", b"HD t30 W\r\n"),
            (b"mg mgv6 N30 T60 t\r\n", b"HD t60 W\r\n"),
            (b"mg mgv6 t\r\n", b"HD t60 Z\r\n"),
            (b"mg mgv7 N0 t\r\n", b"HD t-1 W\r\n"),
            (b"mg mgv7 t\r\n", b"HD t-1 Z\r\n"),
            (b"mg mgv8 N-1 v\r\n", b"VA 0 W\r\n\r\n"),
            (b"mg mgv8 v\r\n", b"EN\r\n"),
        ],
    },
    Script {
        name: "mg_recache",
        steps: &[
            (b"ms mgr 3 T30\r\nnew\r\n", b"HD\r\n"),
            (b"mg mgr R20 t v\r\n", b"VA 3 t30\r\nnew\r\n"),
            (b"mg mgr R40 t v\r\n", b"VA 3 t30 W\r\nnew\r\n"),
            (b"mg mgr R40 t v\r\n", b"VA 3 t30 Z\r\nnew\r\n"),
            (b"mg mgr R40 t v\r\n", b"VA 3 t30 Z\r\nnew\r\n"),
            (b"ms mgr 5 T30\r\nnewer\r\n", b"HD\r\n"),
            (b"mg mgr R40 t\r\n", b"HD t30 W\r\n"),
            (b"ms mgr2 1\r\nn\r\n", b"HD\r\n"),
            (b"mg mgr2 R40 t\r\n", b"HD t-1\r\n"),
            (b"mg mgr2 R0 t\r\n", b"HD t-1\r\n"),
            (b"ms mgr3 1 T30\r\nn\r\n", b"HD\r\n"),
            (b"mg mgr3 T50 R40 t\r\n", b"HD t50\r\n"),
            (b"mg mgr3 R40 T10 t\r\n", b"HD t10\r\n"),
        ],
    },
    Script {
        name: "stale_md",
        steps: &[
            (b"ms st 2 T60\r\nv1\r\n", b"HD\r\n"),
            (b"md st I T30\r\n", b"HD\r\n"),
            (b"mg st t v c\r\n", b"VA 2 t30 c26 X W\r\nv1\r\n"),
            (b"mg st t v\r\n", b"VA 2 t30 Z X\r\nv1\r\n"),
            (b"mg st t v\r\n", b"VA 2 t30 Z X\r\nv1\r\n"),
            (b"ms st 2 C$CAS I\r\nv2\r\n", b"HD\r\n"),
            (b"mg st t v c\r\n", b"VA 2 t-1 c27\r\nv2\r\n"),
            (b"md st q I\r\n", b""),
            (b"mg st t v\r\n", b"VA 2 t-1 X W\r\nv2\r\n"),
            (b"md st I\r\n", b"HD\r\n"),
            (b"mg st v\r\n", b"VA 2 X W\r\nv2\r\n"),
            (b"ms st 2\r\nv3\r\n", b"HD\r\n"),
            (b"mg st v c\r\n", b"VA 2 c30\r\nv3\r\n"),
            (b"md st I T0 k O5\r\n", b"HD kst O5\r\n"),
            (b"mg st t v\r\n", b"VA 2 t-1 X W\r\nv3\r\n"),
            (b"md st\r\n", b"HD\r\n"),
            (b"mg st\r\n", b"EN\r\n"),
            (b"md st I\r\n", b"NF\r\n"),
        ],
    },
    Script {
        name: "stale_ms",
        steps: &[
            (b"ms sm 3\r\none\r\n", b"HD\r\n"),
            (b"mg sm c\r\n", b"HD c32\r\n"),
            (b"ms sm 3\r\ntwo\r\n", b"HD\r\n"),
            (b"ms sm 5 C1 I\r\nthree\r\n", b"HD\r\n"),
            (b"ms sm 4 C$CAS I\r\nfour\r\n", b"HD\r\n"),
            (b"mg sm v c\r\n", b"VA 4 c35 X W\r\nfour\r\n"),
            (b"ms sm2 1 T100\r\na\r\n", b"HD\r\n"),
            (b"mg sm2 c\r\n", b"HD c36\r\n"),
            (b"md sm2 I\r\n", b"HD\r\n"),
            (b"mg sm2 c t\r\n", b"HD c37 t100 X W\r\n"),
            (b"ms sm2 1 C$CAS\r\nb\r\n", b"HD\r\n"),
            (b"mg sm2 c t v\r\n", b"VA 1 c38 t-1\r\nb\r\n"),
            (b"ms sm2 1 C1 I T5\r\nc\r\n", b"HD\r\n"),
            (b"mg sm2 t v\r\n", b"VA 1 t-1 X W\r\nc\r\n"),
            (b"ms sm2 1 I\r\nd\r\n", b"HD\r\n"),
            (b"mg sm2 t v\r\n", b"VA 1 t-1\r\nd\r\n"),
        ],
    },
    Script {
        name: "ms_modes",
        steps: &[
            (b"ms mm 2 MS\r\nab\r\n", b"HD\r\n"),
            (b"ms mm 2 ME\r\ncd\r\n", b"NS\r\n"),
            (b"ms mm2 2 ME\r\ncd\r\n", b"HD\r\n"),
            (b"ms mm 2 MA\r\nef\r\n", b"HD\r\n"),
            (b"ms mm 2 MP\r\ngh\r\n", b"HD\r\n"),
            (b"mg mm v\r\n", b"VA 6\r\nghabef\r\n"),
            (b"ms mm 2 MR\r\nij\r\n", b"HD\r\n"),
            (b"mg mm v\r\n", b"VA 2\r\nij\r\n"),
            (b"ms mm3 1 MR\r\nx\r\n", b"NS\r\n"),
            (b"ms mm3 1 MA\r\nx\r\n", b"NS\r\n"),
            (b"ms mm3 1 MP\r\nx\r\n", b"NS\r\n"),
            (b"ms mm 1 Ms\r\nx\r\n", b"CLIENT_ERROR invalid mode for ms M token\r\n"),
            (b"ms mm 1 Me\r\nx\r\n", b"CLIENT_ERROR invalid mode for ms M token\r\n"),
            (b"ms mm 1 Ma\r\nx\r\n", b"CLIENT_ERROR invalid mode for ms M token\r\n"),
            (b"ms mm 1 Mp\r\nx\r\n", b"CLIENT_ERROR invalid mode for ms M token\r\n"),
            (b"ms mm 1 Mr\r\nx\r\n", b"CLIENT_ERROR invalid mode for ms M token\r\n"),
            (b"ms mm 1 MX\r\nx\r\n", b"CLIENT_ERROR invalid mode for ms M token\r\n"),
            (b"ms mm 1 M\r\nx\r\n", b"CLIENT_ERROR incorrect length for M token\r\n"),
            (b"ms mm 1 MSS\r\nx\r\n", b"CLIENT_ERROR incorrect length for M token\r\n"),
            (b"mg mm v\r\n", b"VA 2\r\nij\r\n"),
            (b"ms mm4 2 ME q\r\nq1\r\n", b""),
            (b"ms mm4 2 ME q\r\nq2\r\n", b"NS\r\n"),
            (b"ms mm5 2 MR q\r\nq1\r\n", b"NS\r\n"),
            (b"ms mm5 2 MA q\r\nq1\r\n", b"NS\r\n"),
        ],
    },
    Script {
        name: "ms_cas",
        steps: &[
            (b"ms mc 2 C0\r\nab\r\n", b"NF\r\n"),
            (b"ms mc 2\r\nab\r\n", b"HD\r\n"),
            (b"ms mc 2 C0\r\nab\r\n", b"EX\r\n"),
            (b"mg mc c\r\n", b"HD c47\r\n"),
            (b"ms mc 2 C$CAS c k O9\r\ncd\r\n", b"HD c48 kmc O9\r\n"),
            (b"ms mc 2 C$CAS c\r\nef\r\n", b"HD c49\r\n"),
            (b"ms mc 2 C99999 c\r\ngh\r\n", b"EX c0\r\n"),
            (b"ms mc 2 MA C0\r\nij\r\n", b"HD\r\n"),
            (b"ms mc 2 MA C5\r\nij\r\n", b"EX\r\n"),
            (b"ms mc 2 MP C5 q\r\nij\r\n", b"EX\r\n"),
            (b"ms mc 2 MR C5 q\r\nij\r\n", b"EX\r\n"),
            (b"ms mc 2 ME C5 q\r\nij\r\n", b"NS\r\n"),
            (b"mg mc c v\r\n", b"VA 4 c50\r\nefij\r\n"),
            (b"ms mc 2 MR C$CAS\r\nkl\r\n", b"HD\r\n"),
            (b"mg mc c v\r\n", b"VA 2 c51\r\nkl\r\n"),
            (b"ms mc 2 MA C$CAS\r\nmn\r\n", b"HD\r\n"),
            (b"mg mc v\r\n", b"VA 4\r\nklmn\r\n"),
            (b"ms mc2 1 C5 q\r\nx\r\n", b"NF\r\n"),
            (b"ms mc2 1 MA C5\r\nx\r\n", b"NS\r\n"),
            (b"ms mc2 1 ME C5 c\r\nx\r\n", b"HD c53\r\n"),
        ],
    },
    Script {
        name: "ms_flags",
        steps: &[
            (b"ms mf 1 F5 T100 c k O1\r\nv\r\n", b"HD c54 kmf O1\r\n"),
            (b"mg mf f t v\r\n", b"VA 1 f5 t100\r\nv\r\n"),
            (b"ms mf 1 F4294967295\r\nv\r\n", b"HD\r\n"),
            (b"mg mf f\r\n", b"HD f4294967295\r\n"),
            (b"ms mf 1 F4294967296\r\nv\r\n", b"HD\r\n"),
            (b"mg mf f\r\n", b"HD f0\r\n"),
            (b"ms mf 1 F-1\r\nv\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"ms mf 1 Fx\r\nv\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"ms mf 1 Fx Tx\r\nv\r\n", b"CLIENT_ERROR bad token in command line format\r\n"),
            (b"ms mf 1 Tx Fx\r\nv\r\n", b"CLIENT_ERROR bad token in command line format\r\n"),
            (b"ms mf 1 Tx Fx zz\r\nv\r\n", b"CLIENT_ERROR invalid flag\r\n"),
            (b"ms mf 1 T\r\nv\r\n", b"CLIENT_ERROR bad token in command line format\r\n"),
            (b"ms mf 1 C\r\nv\r\n", b"CLIENT_ERROR bad token in command line format\r\n"),
            (b"ms mf 1 Cx\r\nv\r\n", b"CLIENT_ERROR bad token in command line format\r\n"),
            (b"ms mf 1 T-1\r\nv\r\n", b"HD\r\n"),
            (b"mg mf v\r\n", b"EN\r\n"),
            (b"ms mf 1 q\r\nv\r\n", b""),
            (b"ms mf 1 q k O1 c\r\nv\r\n", b""),
            (b"ms mf 0\r\n\r\n", b"HD\r\n"),
            (b"mg mf v s\r\n", b"VA 0 s0\r\n\r\n"),
            (b"ms mf 1 I\r\nv\r\n", b"HD\r\n"),
            (b"ms mf 1 u h l t f s v\r\nv\r\n", b"HD\r\n"),
            (b"ms mf 1 N5 R5 J5 D5\r\nv\r\n", b"HD\r\n"),
            (b"mg mf t\r\n", b"HD t-1\r\n"),
        ],
    },
    Script {
        name: "ms_errors",
        steps: &[
            (b"ms mse\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"ms mse bar\r\nxx\r\n", b"CLIENT_ERROR bad command line format\r\nERROR\r\n"),
            (b"ms mse -1\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"ms mse 2 Z\r\nxx\r\n", b"CLIENT_ERROR invalid flag\r\n"),
            (b"ms mse 2 E\r\nxx\r\n", b"CLIENT_ERROR invalid flag\r\n"),
            (b"ms mse 2 S2\r\nxx\r\n", b"CLIENT_ERROR invalid flag\r\n"),
            (b"ms mse 2 v v\r\nxx\r\n", b"CLIENT_ERROR duplicate flag\r\n"),
            (b"ms mse 2 O12345678901234567890123456789012345 k\r\nab\r\n", b"CLIENT_ERROR opaque token too long\r\n"),
            (b"ms mse 2 O12345678901234567890123456789012345 Mx\r\nab\r\n", b"CLIENT_ERROR invalid mode for ms M token\r\n"),
            (b"ms mse 2 bq\r\nab\r\n", b"CLIENT_ERROR error decoding key\r\n"),
            (b"ms mse 2 q\r\nabc\r\n", b"CLIENT_ERROR bad data chunk\r\nERROR\r\n"),
            (b"ms mse 2 q\r\nabcd\r\n", b"CLIENT_ERROR bad data chunk\r\nERROR\r\n"),
            (b"ms mse 1 a b c d e f g h i j k l m n o p q\r\nx\r\n", b"CLIENT_ERROR options flags too long\r\nERROR\r\n"),
            (b"ms mse 1 c d e f g h i j k l m n o p q\r\nx\r\n", b"CLIENT_ERROR invalid flag\r\n"),
            (b"ms kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk 2\r\nab\r\n", b"CLIENT_ERROR bad command line format\r\nERROR\r\n"),
            (b"ms kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk 2 k\r\nab\r\n", b"HD kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\r\n"),
            (b"ms\r\n", b"ERROR\r\n"),
            (b"mg mse v\r\n", b"EN\r\n"),
            (b"ms mse 2 \x80\r\nab\r\n", b"CLIENT_ERROR duplicate flag\r\n"),
            (b"ms mse 2147483646\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"ms mse 2147483647\r\n", b"CLIENT_ERROR bad command line format\r\n"),
        ],
    },
    Script {
        name: "md_all",
        steps: &[
            (b"ms mdk 1\r\nv\r\n", b"HD\r\n"),
            (b"md mdk\r\n", b"HD\r\n"),
            (b"md mdk\r\n", b"NF\r\n"),
            (b"md mdk q\r\n", b"NF\r\n"),
            (b"md mdk O1 k\r\n", b"NF O1 kmdk\r\n"),
            (b"ms mdk 1\r\nv\r\n", b"HD\r\n"),
            (b"md mdk q\r\n", b""),
            (b"mg mdk\r\n", b"EN\r\n"),
            (b"ms mdk 1\r\nv\r\n", b"HD\r\n"),
            (b"md mdk C1\r\n", b"EX\r\n"),
            (b"md mdk C0\r\n", b"EX\r\n"),
            (b"mg mdk c\r\n", b"HD c67\r\n"),
            (b"md mdk C$CAS O2 k\r\n", b"HD O2 kmdk\r\n"),
            (b"mg mdk\r\n", b"EN\r\n"),
            (b"md mdk O12345678901234567890123456789012345 k\r\n", b"CLIENT_ERROR opaque token too long\r\n"),
            (b"md mdk zz\r\n", b"CLIENT_ERROR invalid or duplicate flag\r\n"),
            (b"md mdk q q\r\n", b"CLIENT_ERROR invalid or duplicate flag\r\n"),
            (b"md mdk Tx\r\n", b"CLIENT_ERROR invalid or duplicate flag\r\n"),
            (b"md mdk T10\r\n", b"NF\r\n"),
            (b"md mdk C\r\n", b"CLIENT_ERROR invalid or duplicate flag\r\n"),
            (b"md kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk q\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"md\r\n", b"ERROR\r\n"),
            (b"md mdk a b c d e f g h i j k l m n o p q r s\r\n", b"CLIENT_ERROR options flags too long\r\n"),
            (b"md mdk v s t f\r\n", b"NF\r\n"),
            (b"ms mdk 1 T100\r\nv\r\n", b"HD\r\n"),
            (b"md mdk T10\r\n", b"HD\r\n"),
            (b"mg mdk t\r\n", b"EN\r\n"),
            (b"md mdk q C1\r\n", b"NF\r\n"),
        ],
    },
    Script {
        name: "ma_all",
        steps: &[
            (b"ma man\r\n", b"NF\r\n"),
            (b"ma man q\r\n", b"NF\r\n"),
            (b"ma man N0 J10 v\r\n", b"VA 2\r\n10\r\n"),
            (b"ma man v t\r\n", b"VA 2 t-1\r\n11\r\n"),
            (b"ma man q v\r\n", b""),
            (b"ma man N0 q v\r\n", b""),
            (b"mg man v\r\n", b"VA 2\r\n13\r\n"),
            (b"ma man MD D100 v\r\n", b"VA 1\r\n0\r\n"),
            (b"ma man Md v\r\n", b"CLIENT_ERROR invalid mode for ma M token\r\n"),
            (b"ma man Mx v\r\n", b"CLIENT_ERROR invalid mode for ma M token\r\n"),
            (b"ma man M- v D3\r\n", b"VA 1\r\n0\r\n"),
            (b"ma man M+ v D3\r\n", b"VA 1\r\n3\r\n"),
            (b"ma man MI v\r\n", b"VA 1\r\n4\r\n"),
            (b"ma man Mi v\r\n", b"CLIENT_ERROR invalid mode for ma M token\r\n"),
            (b"ma man D18446744073709551615 v\r\n", b"VA 1\r\n3\r\n"),
            (b"ma man v\r\n", b"VA 1\r\n4\r\n"),
            (b"ma man v D18446744073709551616\r\n", b"CLIENT_ERROR invalid or duplicate flag\r\n"),
            (b"ma man Jx\r\n", b"CLIENT_ERROR invalid or duplicate flag\r\n"),
            (b"ma man Dx\r\n", b"CLIENT_ERROR invalid or duplicate flag\r\n"),
            (b"ma man MII\r\n", b"CLIENT_ERROR invalid or duplicate flag\r\n"),
            (b"ma man c v k O7\r\n", b"VA 1 c79 kman O7\r\n5\r\n"),
            (b"ma man C1 v\r\n", b"EX\r\n"),
            (b"ma man C0 v\r\n", b"VA 1\r\n6\r\n"),
            (b"mg man c\r\n", b"HD c80\r\n"),
            (b"ma man C$CAS v c\r\n", b"VA 1 c81\r\n7\r\n"),
            (b"ma man2 MD\r\n", b"NF\r\n"),
            (b"ma man2 MD q\r\n", b"NF\r\n"),
            (b"ma man2 N0 MD J3 v\r\n", b"VA 1\r\n3\r\n"),
            (b"ma man3 N100 J5 t v\r\n", b"VA 1 t100\r\n5\r\n"),
            (b"ma man3 t v T200\r\n", b"VA 1 t100\r\n6\r\n"),
            (b"mg man3 t v\r\n", b"VA 1 t200\r\n6\r\n"),
            (b"ma man4 q N100 J5 t v\r\n", b"VA 1 t100\r\n5\r\n"),
            (b"ma man4 C1 v\r\n", b"EX\r\n"),
            (b"ma man4 C1 q v\r\n", b"EX\r\n"),
            (b"ma kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk q\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"ma\r\n", b"ERROR\r\n"),
            (b"ma man a b c d e f g h i j k l m n o p q r s\r\n", b"CLIENT_ERROR options flags too long\r\n"),
            (b"ma man q q\r\n", b"CLIENT_ERROR invalid or duplicate flag\r\n"),
            (b"ma man s f h l u\r\n", b"HD\r\n"),
        ],
    },
    Script {
        name: "ma_ttl_grow",
        steps: &[
            (b"ms mag 2\r\n99\r\n", b"HD\r\n"),
            (b"ma mag T100 t v c\r\n", b"VA 3 t100 c88\r\n100\r\n"),
            (b"mg mag t v\r\n", b"VA 3 t-1\r\n100\r\n"),
            (b"ms mag2 2 T50\r\n99\r\n", b"HD\r\n"),
            (b"ma mag2 t T100 v\r\n", b"VA 3 t50\r\n100\r\n"),
            (b"mg mag2 t v\r\n", b"VA 3 t50\r\n100\r\n"),
            (b"ms mag3 2 T50\r\n10\r\n", b"HD\r\n"),
            (b"ma mag3 T100 t v\r\n", b"VA 2 t100\r\n11\r\n"),
            (b"mg mag3 t v\r\n", b"VA 2 t100\r\n11\r\n"),
            (b"ms mag4 2\r\n5 \r\n", b"HD\r\n"),
            (b"ma mag4 v\r\n", b"VA 1\r\n6\r\n"),
            (b"mg mag4 v s\r\n", b"VA 2 s2\r\n6 \r\n"),
            (b"ms mag5 3\r\n007\r\n", b"HD\r\n"),
            (b"ma mag5 v\r\n", b"VA 1\r\n8\r\n"),
            (b"mg mag5 v s\r\n", b"VA 3 s3\r\n8  \r\n"),
        ],
    },
    Script {
        name: "ma_errors",
        steps: &[
            (b"ms mae 0\r\n\r\n", b"HD\r\n"),
            (b"ma mae\r\n", b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
            (b"ms mae 2\r\nab\r\n", b"HD\r\n"),
            (b"ma mae\r\n", b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
            (b"ma mae q\r\n", b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
            (b"ma mae O12345678901234567890123456789012345 k\r\n", b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
            (b"ma maenokey O12345678901234567890123456789012345 k\r\n", b"CLIENT_ERROR opaque token too long\r\n"),
            (b"ma maenokey2 O12345678901234567890123456789012345 N0\r\n", b"CLIENT_ERROR opaque token too long\r\n"),
            (b"mg maenokey2 v\r\n", b"VA 1\r\n0\r\n"),
            (b"ms mae 20\r\n18446744073709551615\r\n", b"HD\r\n"),
            (b"ma mae v\r\n", b"VA 1\r\n0\r\n"),
            (b"ms mae 2\r\n-1\r\n", b"HD\r\n"),
            (b"ma mae v\r\n", b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
            (b"ms mae 5\r\n12abc\r\n", b"HD\r\n"),
            (b"ma mae v\r\n", b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
            (b"ms mae 3\r\n 12\r\n", b"HD\r\n"),
            (b"ma mae v\r\n", b"VA 2\r\n13\r\n"),
            (b"ms mae 3\r\n12 \r\n", b"HD\r\n"),
            (b"ma mae v\r\n", b"VA 2\r\n13\r\n"),
        ],
    },
    Script {
        name: "me_all",
        steps: &[
            (b"ms mek 3 T100\r\nval\r\n", b"HD\r\n"),
            (b"me mek\r\n", b"ME mek exp=-100 la=0 cas=108 fetch=no cls=1 size=65\r\n"),
            (b"mg mek v\r\n", b"VA 3\r\nval\r\n"),
            (b"me mek\r\n", b"ME mek exp=-100 la=0 cas=108 fetch=yes cls=1 size=65\r\n"),
            (b"me meknokey\r\n", b"EN\r\n"),
            (b"me\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"me kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"me mek b\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"me bWVr b\r\n", b"ME mek exp=-100 la=0 cas=108 fetch=yes cls=1 size=65\r\n"),
            (b"me bWVr b x\r\n", b"ME mek exp=-100 la=0 cas=108 fetch=yes cls=1 size=65\r\n"),
            (b"me bWV b\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"me mek extra tokens here\r\n", b"ME mek exp=-100 la=0 cas=108 fetch=yes cls=1 size=65\r\n"),
            (b"ms mek2 0 F1\r\n\r\n", b"HD\r\n"),
            (b"me mek2\r\n", b"ME mek2 exp=-1 la=0 cas=109 fetch=no cls=1 size=67\r\n"),
            (b"ms mek3 50\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"HD\r\n"),
            (b"me mek3\r\n", b"ME mek3 exp=-1 la=0 cas=110 fetch=no cls=2 size=113\r\n"),
            (b"ms mek4 100 F9\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"HD\r\n"),
            (b"me mek4\r\n", b"ME mek4 exp=-1 la=0 cas=111 fetch=no cls=4 size=167\r\n"),
            (b"ms mek5 1000\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"HD\r\n"),
            (b"me mek5\r\n", b"ME mek5 exp=-1 la=0 cas=112 fetch=no cls=12 size=1063\r\n"),
            (b"ms bWVrNg== 1 b\r\nz\r\n", b"HD\r\n"),
            (b"me mek6\r\n", b"ME bWVrNg== exp=-1 la=0 cas=113 fetch=no cls=1 size=64\r\n"),
            (b"me bWVrNg== b\r\n", b"ME bWVrNg== exp=-1 la=0 cas=113 fetch=no cls=1 size=64\r\n"),
        ],
    },
    Script {
        name: "base64",
        steps: &[
            (b"ms YmFzZQ== 1 b\r\nx\r\n", b"HD\r\n"),
            (b"mg base k v\r\n", b"VA 1 kYmFzZQ== b\r\nx\r\n"),
            (b"mg YmFzZQ== b k v\r\n", b"VA 1 kYmFzZQ== b\r\nx\r\n"),
            (b"mg YmFzZQ b k v\r\n", b"CLIENT_ERROR error decoding key\r\n"),
            (b"mg YmF!zZQ== b k v\r\n", b"VA 1 kYmFzZQ== b\r\nx\r\n"),
            (b"ms YW=Jj 1 b k\r\nx\r\n", b"CLIENT_ERROR error decoding key\r\n"),
            (b"mg YQ== b k\r\n", b"EN kYQ== b\r\n"),
            (b"mg YW== b k v\r\n", b"EN kYQ== b\r\n"),
            (b"mg Y!Q== b k v\r\n", b"EN kYQ== b\r\n"),
            (b"mg ==== b k v\r\n", b"CLIENT_ERROR error decoding key\r\n"),
            (b"mg A=== b\r\n", b"CLIENT_ERROR error decoding key\r\n"),
            (b"mg ABC b\r\n", b"CLIENT_ERROR error decoding key\r\n"),
            (b"mg ! b\r\n", b"CLIENT_ERROR error decoding key\r\n"),
            (b"ms YmFzZTI= 1 b MA\r\nx\r\n", b"NS\r\n"),
            (b"ms base2 1\r\nx\r\n", b"HD\r\n"),
            (b"ms YmFzZTI= 1 b MA k\r\ny\r\n", b"HD kYmFzZTI= b\r\n"),
            (b"mg base2 k v\r\n", b"VA 2 kbase2\r\nxy\r\n"),
            (b"mg YmFzZTM= b k N30\r\n", b"HD kbase3 W\r\n"),
            (b"mg YmFzZTM= b k\r\n", b"HD kbase3 Z\r\n"),
            (b"ma YmFzZTQ= b k N30 v\r\n", b"VA 1 kYmFzZTQ= b\r\n0\r\n"),
            (b"mg YmFzZTQ= b k v\r\n", b"VA 1 kbase4\r\n0\r\n"),
            (b"md YmFzZTQ= b k q\r\n", b""),
            (b"md YmFzZTQ= b k q\r\n", b"NF kYmFzZTQ= b\r\n"),
            (b"md YmFzZTQ= b k\r\n", b"NF kYmFzZTQ= b\r\n"),
            (b"ma YmFzZTQ= b k\r\n", b"NF kYmFzZTQ= b\r\n"),
            (b"ms YmFzZTU= 1 b\r\nx\r\n", b"HD\r\n"),
            (b"mg base5 k\r\n", b"HD kYmFzZTU= b\r\n"),
            (b"md base5 k\r\n", b"HD kbase5\r\n"),
            (b"mg YmFzZTU= b k\r\n", b"EN kYmFzZTU= b\r\n"),
            (b"mg bad%3D b\r\n", b"CLIENT_ERROR error decoding key\r\n"),
        ],
    },
    Script {
        name: "errors",
        steps: &[
            (b"mx foo\r\n", b"ERROR\r\n"),
            (b"mg\r\n", b"ERROR\r\n"),
            (b"mg \r\n", b"ERROR\r\n"),
            (b"mg err zz\r\n", b"CLIENT_ERROR invalid flag\r\n"),
            (b"mg err v v\r\n", b"CLIENT_ERROR duplicate flag\r\n"),
            (b"mg err \xc3\r\n", b"CLIENT_ERROR duplicate flag\r\n"),
            (b"mg err \x7f\r\n", b"CLIENT_ERROR duplicate flag\r\n"),
            (b"mg err S\r\n", b"CLIENT_ERROR invalid flag\r\n"),
            (b"mg err E\r\n", b"CLIENT_ERROR invalid flag\r\n"),
            (b"mg err Tx Fx\r\n", b"CLIENT_ERROR bad token in command line format\r\n"),
            (b"mg err Fx\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"mg err Nx\r\n", b"CLIENT_ERROR bad token in command line format\r\n"),
            (b"mg err Rx\r\n", b"CLIENT_ERROR bad token in command line format\r\n"),
            (b"mg err Cx\r\n", b"CLIENT_ERROR bad token in command line format\r\n"),
            (b"mg err M\r\n", b"CLIENT_ERROR incorrect length for M token\r\n"),
            (b"mg err Jx\r\n", b"CLIENT_ERROR invalid numeric initial value\r\n"),
            (b"mg err Dx\r\n", b"CLIENT_ERROR invalid numeric delta value\r\n"),
            (b"mg err HTTP/1.1\r\n", b"CLIENT_ERROR invalid flag\r\n"),
            (b"mq err HTTP/1.1\r\n", b"ERROR\r\n"),
            (b"ms kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk 2\r\nab\r\n", b"HD\r\n"),
            (b"mg kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk k\r\n", b"HD kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\r\n"),
            (b"mg kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk k\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"mg a b c d e f g h i j k l m n o p q r s\r\n", b"CLIENT_ERROR options flags are too long\r\n"),
            (b"mg a c d e f g h i j k l m n o p q r s t u v w x y z\r\n", b"CLIENT_ERROR options flags are too long\r\n"),
            (b"mg a b c d e f g h i j k l m n o p q r\r\n", b"CLIENT_ERROR invalid flag\r\n"),
            (b"mg err O123456789012345678901234567890123\r\n", b"CLIENT_ERROR opaque token too long\r\n"),
            (b"mg err O12345678901234567890123456789012\r\n", b"CLIENT_ERROR opaque token too long\r\n"),
            (b"mg err O1234567890123456789012345678901 k\r\n", b"EN O1234567890123456789012345678901 kerr\r\n"),
            (b"mg errnokey O123456789012345678901234567890123 q\r\n", b"CLIENT_ERROR opaque token too long\r\n"),
            (b"ms err 1\r\nx\r\n", b"HD\r\n"),
            (b"mg err O1234567890123456789012345678901 T30 t\r\n", b"HD O1234567890123456789012345678901 t30\r\n"),
            (b"mg err t\r\n", b"HD t30\r\n"),
            (b"mg err T60 O123456789012345678901234567890123 t\r\n", b"CLIENT_ERROR opaque token too long\r\n"),
            (b"mg err t h\r\n", b"HD t60 h1\r\n"),
            (b"MG err\r\n", b"ERROR\r\n"),
            (b"mgg err\r\n", b"ERROR\r\n"),
            (b"m err\r\n", b"ERROR\r\n"),
        ],
    },
    Script {
        name: "quiet_pipeline",
        steps: &[
            (b"ms qp0 2 q\r\nv0\r\nms qp1 2 q\r\nv1\r\nms qp2 2 q\r\nv2\r\nms qp3 2 q\r\nv3\r\nms qp4 2 q\r\nv4\r\nms qp5 2 q\r\nv5\r\nms qp6 2 q\r\nv6\r\nms qp7 2 q\r\nv7\r\nms qp8 2 q\r\nv8\r\nms qp9 2 q\r\nv9\r\nms qp10 3 q\r\nv10\r\nms qp11 3 q\r\nv11\r\nmg qp0 q k v O0\r\nmg qp1 q k v O1\r\nmg qp2 q k v O2\r\nmg qp3 q k v O3\r\nmg qp4 q k v O4\r\nmg qp5 q k v O5\r\nmg qp6 q k v O6\r\nmg qp7 q k v O7\r\nmg qp8 q k v O8\r\nmg qp9 q k v O9\r\nmg qp10 q k v O10\r\nmg qp11 q k v O11\r\nmg qp12 q k v O12\r\nmg qp13 q k v O13\r\nmg qp14 q k v O14\r\nmg qp15 q k v O15\r\nmd qp0 q O0\r\nmd qp2 q O2\r\nmd qp4 q O4\r\nmd qp6 q O6\r\nmd qp8 q O8\r\nmd qp10 q O10\r\nmd qp12 q O12\r\nmd qp14 q O14\r\nma qp12 q N0 J12 O12\r\nma qp13 q N0 J13 O13\r\nma qp14 q N0 J14 O14\r\nma qp15 q N0 J15 O15\r\nmg qp0 q k v\r\nmg qp1 q k v\r\nmg qp2 q k v\r\nmg qp3 q k v\r\nmg qp4 q k v\r\nmg qp5 q k v\r\nmg qp6 q k v\r\nmg qp7 q k v\r\nmg qp8 q k v\r\nmg qp9 q k v\r\nmg qp10 q k v\r\nmg qp11 q k v\r\nmg qp12 q k v\r\nmg qp13 q k v\r\nmg qp14 q k v\r\nmg qp15 q k v\r\nms qp0 1 q MR O0\r\nz\r\nms qp1 1 q MR O1\r\nz\r\nms qp2 1 q MR O2\r\nz\r\nms qp3 1 q MR O3\r\nz\r\nms qp4 1 q MR O4\r\nz\r\nms qp5 1 q MR O5\r\nz\r\nms qp6 1 q MR O6\r\nz\r\nms qp7 1 q MR O7\r\nz\r\nms qp8 1 q MR O8\r\nz\r\nms qp9 1 q MR O9\r\nz\r\nms qp10 1 q MR O10\r\nz\r\nms qp11 1 q MR O11\r\nz\r\nms qp12 1 q MR O12\r\nz\r\nms qp13 1 q MR O13\r\nz\r\nms qp14 1 q MR O14\r\nz\r\nms qp15 1 q MR O15\r\nz\r\nmg qp0 k v\r\nmg qp1 k v\r\nmg qp2 k v\r\nmg qp3 k v\r\nmg qp4 k v\r\nmg qp5 k v\r\nmg qp6 k v\r\nmg qp7 k v\r\nmg qp8 k v\r\nmg qp9 k v\r\nmg qp10 k v\r\nmg qp11 k v\r\nmg qp12 k v\r\nmg qp13 k v\r\nmg qp14 k v\r\nmg qp15 k v\r\n", b"VA 2 kqp0 O0\r\nv0\r\nVA 2 kqp1 O1\r\nv1\r\nVA 2 kqp2 O2\r\nv2\r\nVA 2 kqp3 O3\r\nv3\r\nVA 2 kqp4 O4\r\nv4\r\nVA 2 kqp5 O5\r\nv5\r\nVA 2 kqp6 O6\r\nv6\r\nVA 2 kqp7 O7\r\nv7\r\nVA 2 kqp8 O8\r\nv8\r\nVA 2 kqp9 O9\r\nv9\r\nVA 3 kqp10 O10\r\nv10\r\nVA 3 kqp11 O11\r\nv11\r\nNF O12\r\nNF O14\r\nHD O12\r\nHD O13\r\nHD O14\r\nHD O15\r\nVA 2 kqp1\r\nv1\r\nVA 2 kqp3\r\nv3\r\nVA 2 kqp5\r\nv5\r\nVA 2 kqp7\r\nv7\r\nVA 2 kqp9\r\nv9\r\nVA 3 kqp11\r\nv11\r\nVA 2 kqp12\r\n12\r\nVA 2 kqp13\r\n13\r\nVA 2 kqp14\r\n14\r\nVA 2 kqp15\r\n15\r\nNS O0\r\nNS O2\r\nNS O4\r\nNS O6\r\nNS O8\r\nNS O10\r\nEN kqp0\r\nVA 1 kqp1\r\nz\r\nEN kqp2\r\nVA 1 kqp3\r\nz\r\nEN kqp4\r\nVA 1 kqp5\r\nz\r\nEN kqp6\r\nVA 1 kqp7\r\nz\r\nEN kqp8\r\nVA 1 kqp9\r\nz\r\nEN kqp10\r\nVA 1 kqp11\r\nz\r\nVA 1 kqp12\r\nz\r\nVA 1 kqp13\r\nz\r\nVA 1 kqp14\r\nz\r\nVA 1 kqp15\r\nz\r\n"),
        ],
    },
    Script {
        name: "pipeline_mixed",
        steps: &[
            (b"ms pm0 2 T100 F0\r\nv0\r\nmg pm0 k f v s O0\r\nma pm0c N0 J0 v\r\nmd pm0 q\r\nmg pm0 q k\r\nms pm1 2 T100 F1\r\nv1\r\nmg pm1 k f v s O1\r\nma pm1c N0 J1 v\r\nmd pm1 q\r\nmg pm1 q k\r\nms pm2 2 T100 F2\r\nv2\r\nmg pm2 k f v s O2\r\nma pm2c N0 J2 v\r\nmd pm2 q\r\nmg pm2 q k\r\nms pm3 2 T100 F3\r\nv3\r\nmg pm3 k f v s O3\r\nma pm3c N0 J3 v\r\nmd pm3 q\r\nmg pm3 q k\r\nms pm4 2 T100 F4\r\nv4\r\nmg pm4 k f v s O4\r\nma pm4c N0 J4 v\r\nmd pm4 q\r\nmg pm4 q k\r\nms pm5 2 T100 F5\r\nv5\r\nmg pm5 k f v s O5\r\nma pm5c N0 J5 v\r\nmd pm5 q\r\nmg pm5 q k\r\nms pm6 2 T100 F6\r\nv6\r\nmg pm6 k f v s O6\r\nma pm6c N0 J6 v\r\nmd pm6 q\r\nmg pm6 q k\r\nms pm7 2 T100 F7\r\nv7\r\nmg pm7 k f v s O7\r\nma pm7c N0 J7 v\r\nmd pm7 q\r\nmg pm7 q k\r\nms pm8 2 T100 F8\r\nv8\r\nmg pm8 k f v s O8\r\nma pm8c N0 J8 v\r\nmd pm8 q\r\nmg pm8 q k\r\nms pm9 2 T100 F9\r\nv9\r\nmg pm9 k f v s O9\r\nma pm9c N0 J9 v\r\nmd pm9 q\r\nmg pm9 q k\r\n", b"HD\r\nVA 2 kpm0 f0 s2 O0\r\nv0\r\nVA 1\r\n0\r\nHD\r\nVA 2 kpm1 f1 s2 O1\r\nv1\r\nVA 1\r\n1\r\nHD\r\nVA 2 kpm2 f2 s2 O2\r\nv2\r\nVA 1\r\n2\r\nHD\r\nVA 2 kpm3 f3 s2 O3\r\nv3\r\nVA 1\r\n3\r\nHD\r\nVA 2 kpm4 f4 s2 O4\r\nv4\r\nVA 1\r\n4\r\nHD\r\nVA 2 kpm5 f5 s2 O5\r\nv5\r\nVA 1\r\n5\r\nHD\r\nVA 2 kpm6 f6 s2 O6\r\nv6\r\nVA 1\r\n6\r\nHD\r\nVA 2 kpm7 f7 s2 O7\r\nv7\r\nVA 1\r\n7\r\nHD\r\nVA 2 kpm8 f8 s2 O8\r\nv8\r\nVA 1\r\n8\r\nHD\r\nVA 2 kpm9 f9 s2 O9\r\nv9\r\nVA 1\r\n9\r\n"),
        ],
    },
];

pub const META_SMALL_ITEM_SCRIPTS: &[Script] = &[
    Script {
        name: "too_large",
        steps: &[
            (b"ms tl 5\r\nsmall\r\n", b"HD\r\n"),
            (b"mg tl v\r\n", b"VA 5\r\nsmall\r\n"),
            (b"ms tl 2000\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"SERVER_ERROR object too large for cache\r\n"),
            (b"mg tl v\r\n", b"EN\r\n"),
            (b"ms tl 5\r\nsmall\r\n", b"HD\r\n"),
            (b"ms tl 2000 q\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"SERVER_ERROR object too large for cache\r\n"),
            (b"mg tl v\r\n", b"EN\r\n"),
            (b"ms tl 5\r\nsmall\r\n", b"HD\r\n"),
            (b"ms tl 2000 ME k O1 c\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"SERVER_ERROR object too large for cache\r\n"),
            (b"mg tl v\r\n", b"EN\r\n"),
            (b"ms tl 960\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"HD\r\n"),
            (b"ms tl 961\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"HD\r\n"),
            (b"ms tl 956 F1\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"HD\r\n"),
            (b"ms tl 957 F1\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"HD\r\n"),
            (b"mg tl s\r\n", b"HD s957\r\n"),
            (b"ms dGwy 963 b\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"SERVER_ERROR object too large for cache\r\n"),
            (b"ms dGwy 962 b\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"HD\r\n"),
            (b"mg tl2 s k\r\n", b"HD s962 kdGwy b\r\n"),
            (b"ms tl3 900\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"HD\r\n"),
            (b"ms tl3 100 MA\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"NS\r\n"),
            (b"mg tl3 s\r\n", b"HD s900\r\n"),
            (b"ms tl3 100 MP q\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"NS\r\n"),
            (b"ms tl4 2000 zz\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"CLIENT_ERROR invalid flag\r\n"),
            (b"ms tl4 2000 Mx\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"CLIENT_ERROR invalid mode for ms M token\r\n"),
            (b"ms tl4 2000 T1\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", b"SERVER_ERROR object too large for cache\r\n"),
            (b"mg tl4\r\n", b"EN\r\n"),
        ],
    },
];

/// memcached 1.6.18's counters after [`META_SCRIPTS`] ran, in order, on a fresh server.
pub const META_SCRIPTS_STATS: &[(&str, u64)] = &[
    ("cmd_get", 185),
    ("cmd_set", 135),
    ("cmd_touch", 8),
    ("cmd_meta", 13),
    ("get_hits", 137),
    ("get_misses", 48),
    ("get_expired", 3),
    ("get_flushed", 0),
    ("delete_misses", 13),
    ("delete_hits", 23),
    ("incr_misses", 4),
    ("incr_hits", 23),
    ("decr_misses", 2),
    ("decr_hits", 2),
    ("cas_misses", 2),
    ("cas_hits", 8),
    ("cas_badval", 3),
    ("touch_hits", 8),
    ("touch_misses", 0),
    ("store_too_large", 0),
    ("curr_items", 66),
    ("total_items", 138),
];
