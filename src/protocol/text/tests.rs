//! Parser tables. Every case is parsed whole and then replayed cut into fragments of every
//! size from 1 byte up, as a connection would receive it; both must give the same requests.

use super::*;

const LIMITS: Limits = Limits {
    item_size_max: 1024,
    use_cas: true,
};

/// One line per outcome, so tables stay readable.
fn summary(req: &Request<'_>) -> String {
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let body = match &req.cmd {
        Command::Get {
            kind,
            exptime,
            keys,
            bad_key,
        } => {
            let keys: Vec<String> = keys.iter().map(s).collect();
            format!(
                "{kind:?} exp={exptime} keys=[{}] bad={bad_key}",
                keys.join(",")
            )
        }
        Command::Store {
            mode,
            key,
            flags,
            exptime,
            cas,
            data,
        } => format!(
            "{mode:?} {} flags={flags} exp={exptime} cas={cas} data={}",
            s(key),
            s(data)
        ),
        Command::TooLarge { mode, key, swallow } => {
            format!("TooLarge {mode:?} {} swallow={swallow}", s(key))
        }
        Command::Delete { key } => format!("Delete {}", s(key)),
        Command::Arith { incr, key, delta } => format!("Arith incr={incr} {} {delta}", s(key)),
        Command::Touch { key, exptime } => format!("Touch {} {exptime}", s(key)),
        Command::FlushAll { delay } => format!("FlushAll {delay}"),
        Command::Version => "Version".into(),
        Command::Verbosity { level } => format!("Verbosity {level}"),
        Command::Stats { args } => format!("Stats [{}]", s(args)),
        Command::Shutdown { args } => format!("Shutdown [{}]", s(args)),
        Command::Quit => "Quit".into(),
        Command::RefreshCerts => "RefreshCerts".into(),
        Command::LruCrawler(c) => format!("LruCrawler {c:?}"),
        Command::CacheMemlimit { mb } => format!("CacheMemlimit mb={mb}"),
        Command::Tune(t) => format!("Tune {t:?}"),
        Command::Watch { streams } => format!("Watch {streams:?}"),
        Command::MetaNoop => "MetaNoop".into(),
        Command::Meta(m) => format!("Meta {m:?}"),
        Command::Error(e) => format!("Error {e}"),
        Command::ErrorSwallow { msg, swallow } => format!("Error {msg} swallow={swallow}"),
    };
    if req.noreply {
        format!("{body} noreply")
    } else {
        body
    }
}

/// Feeds `input` `chunk` bytes at a time, parsing after each feed as a connection does
/// (swallowing after a too-large value), and returns every outcome.
fn drive(input: &[u8], chunk: usize) -> Vec<String> {
    drive_with(input, chunk, &LIMITS, summary)
}

/// Feeds `input` `chunk` bytes at a time, parsing after each feed as a connection does
/// (swallowing what a too-large value or an error says), and returns every outcome as
/// `summary` writes it. A meta request's raw bytes must be what it used and parse again
/// to the same request. The meta parser's tables use it too.
pub(crate) fn drive_with(
    input: &[u8],
    chunk: usize,
    limits: &Limits,
    summary: fn(&Request<'_>) -> String,
) -> Vec<String> {
    let mut got = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut swallow = 0usize;
    let mut fed = 0;
    'feed: while fed < input.len() {
        let n = chunk.min(input.len() - fed);
        buf.extend_from_slice(&input[fed..fed + n]);
        fed += n;
        loop {
            let k = swallow.min(buf.len());
            buf.drain(..k);
            swallow -= k;
            if swallow > 0 || buf.is_empty() {
                continue 'feed;
            }
            match parse(&buf, limits) {
                Parse::Incomplete { need } => {
                    if let Some(need) = need {
                        assert!(need > buf.len(), "need {need} with {} buffered", buf.len());
                    }
                    continue 'feed;
                }
                Parse::Close => {
                    got.push("Close".to_string());
                    break 'feed;
                }
                Parse::Done(req, used) => {
                    assert!(
                        used > 0 && used <= buf.len(),
                        "consumed {used} of {}",
                        buf.len()
                    );
                    got.push(summary(&req));
                    match &req.cmd {
                        Command::TooLarge { swallow: s, .. }
                        | Command::ErrorSwallow { swallow: s, .. } => swallow = *s,
                        Command::Meta(m) => {
                            assert_eq!(m.raw, &buf[..used], "raw is the whole request");
                            let again = super::super::meta::reparse(m.raw, limits);
                            assert_eq!(&again, m, "reparse gives the same request");
                            swallow = m.swallow();
                        }
                        _ => {}
                    }
                    buf.drain(..used);
                }
            }
        }
    }
    got
}

fn check(cases: &[(&[u8], &[&str])]) {
    for (input, want) in cases {
        let whole = drive(input, input.len().max(1));
        assert_eq!(whole, *want, "input {:?}", String::from_utf8_lossy(input));
        for chunk in 1..=input.len().min(64) {
            assert_eq!(
                drive(input, chunk),
                whole,
                "input {:?} in {chunk}-byte fragments",
                String::from_utf8_lossy(input)
            );
        }
    }
}

#[test]
fn retrieval() {
    check(&[
        (b"get a\r\n", &["Get exp=0 keys=[a] bad=false"]),
        (b"get a b  c\r\n", &["Get exp=0 keys=[a,b,c] bad=false"]),
        (b"gets a\n", &["Gets exp=0 keys=[a] bad=false"]),
        (b"gat 10 a b\r\n", &["Gat exp=10 keys=[a,b] bad=false"]),
        (b"gats -1 a\r\n", &["Gats exp=-1 keys=[a] bad=false"]),
        (
            b"gat x a\r\n",
            &["Error CLIENT_ERROR invalid exptime argument"],
        ),
        (b"gat 10\r\n", &["Gat exp=10 keys=[] bad=false"]),
        (b"get\r\n", &["Error ERROR"]),
        (b"get noreply\r\n", &["Get exp=0 keys=[noreply] bad=false"]),
        (b"bget a\r\n", &["Get exp=0 keys=[a] bad=false"]),
        (b"  get   a \r\n", &["Get exp=0 keys=[a] bad=false"]),
        (b"get a\0b\r\n", &["Get exp=0 keys=[a] bad=false"]),
    ]);
}

#[test]
fn many_keys_and_long_keys() {
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    let line = format!("get {}\r\n", keys.join(" "));
    let want = format!("Get exp=0 keys=[{}] bad=false", keys.join(","));
    check(&[(line.as_bytes(), &[want.as_str()])]);

    let k250 = "k".repeat(250);
    let k251 = "k".repeat(251);
    let ok = format!("get {k250}\r\n");
    let ok_want = format!("Get exp=0 keys=[{k250}] bad=false");
    let bad = format!("get a {k251} b\r\n");
    check(&[
        (ok.as_bytes(), &[ok_want.as_str()]),
        (bad.as_bytes(), &["Get exp=0 keys=[a] bad=true"]),
    ]);
    let set = format!("set {k251} 0 0 1\r\nx\r\n");
    // The line is rejected; its data block is then parsed as a command of its own.
    check(&[(
        set.as_bytes(),
        &["Error CLIENT_ERROR bad command line format", "Error ERROR"],
    )]);
}

#[test]
fn storage() {
    check(&[
        (
            b"set k 1 2 3\r\nabc\r\n",
            &["Set k flags=1 exp=2 cas=0 data=abc"],
        ),
        (b"set k 0 0 0\r\n\r\n", &["Set k flags=0 exp=0 cas=0 data="]),
        (
            b"add k 0 0 1 noreply\r\nx\r\n",
            &["Add k flags=0 exp=0 cas=0 data=x noreply"],
        ),
        (
            b"replace k 0 0 1\r\nx\r\n",
            &["Replace k flags=0 exp=0 cas=0 data=x"],
        ),
        (
            b"append k 0 0 1\r\nx\r\n",
            &["Append k flags=0 exp=0 cas=0 data=x"],
        ),
        (
            b"prepend k 0 0 1\r\nx\r\n",
            &["Prepend k flags=0 exp=0 cas=0 data=x"],
        ),
        (
            b"cas k 0 0 1 99\r\nx\r\n",
            &["Cas k flags=0 exp=0 cas=99 data=x"],
        ),
        (
            b"set k 0 0 2\r\n\r\n\r\n",
            &["Set k flags=0 exp=0 cas=0 data=\r\n"],
        ),
        (
            b"set k 4294967295 0 1\r\nx\r\n",
            &["Set k flags=4294967295 exp=0 cas=0 data=x"],
        ),
        (
            b"set k 0 -1 1\r\nx\r\n",
            &["Set k flags=0 exp=-1 cas=0 data=x"],
        ),
        // memcached truncates a 64-bit parse to 32 bits: 4294967297 bytes reads as 1.
        (
            b"set k 0 0 4294967297\r\nx\r\n",
            &["Set k flags=0 exp=0 cas=0 data=x"],
        ),
        (
            b"set k 0 0 -1\r\n",
            &["Error CLIENT_ERROR bad command line format"],
        ),
        (
            b"set k x 0 1\r\nx\r\n",
            &["Error CLIENT_ERROR bad command line format", "Error ERROR"],
        ),
        (
            b"set k -1 0 1\r\n",
            &["Error CLIENT_ERROR bad command line format"],
        ),
        (
            b"set k 0 0 1 noreply\r\nxy\r\n",
            &["Error CLIENT_ERROR bad data chunk noreply", "Error ERROR"],
        ),
        (
            b"set k 0 0 3\r\nabcde\r\n",
            &["Error CLIENT_ERROR bad data chunk", "Error ERROR"],
        ),
        (b"set k 0 0\r\n", &["Error ERROR"]),
        (b"set k 0 0 1 noreply extra\r\n", &["Error ERROR"]),
        (b"cas k 0 0 1\r\nx\r\n", &["Error ERROR", "Error ERROR"]),
        (
            b"cas k 0 0 1 -1\r\n",
            &["Error CLIENT_ERROR bad command line format"],
        ),
    ]);
}

#[test]
fn too_large_values_are_swallowed() {
    // 48 + 8 + 2 (key and NUL) + 2 (CRLF) = 60 bytes of header: 964 value bytes fit in 1024.
    let fits = format!("set k 0 0 964\r\n{}\r\n", "v".repeat(964));
    let big = format!("set k 0 0 965\r\n{}\r\nget k\r\n", "v".repeat(965));
    let want_fits = format!("Set k flags=0 exp=0 cas=0 data={}", "v".repeat(964));
    check(&[
        (fits.as_bytes(), &[want_fits.as_str()]),
        (
            big.as_bytes(),
            &["TooLarge Set k swallow=967", "Get exp=0 keys=[k] bad=false"],
        ),
    ]);
}

#[test]
fn other_commands() {
    check(&[
        (b"delete k\r\n", &["Delete k"]),
        (b"delete k noreply\r\n", &["Delete k noreply"]),
        (b"delete k 0\r\n", &["Delete k"]),
        (b"delete k 0 noreply\r\n", &["Delete k noreply"]),
        (
            b"delete k 1\r\n",
            &["Error CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"],
        ),
        (b"delete\r\n", &["Error ERROR"]),
        (b"incr k 5\r\n", &["Arith incr=true k 5"]),
        (
            b"decr k 18446744073709551615 noreply\r\n",
            &["Arith incr=false k 18446744073709551615 noreply"],
        ),
        (
            b"incr k -1\r\n",
            &["Error CLIENT_ERROR invalid numeric delta argument"],
        ),
        (
            b"incr k x noreply\r\n",
            &["Error CLIENT_ERROR invalid numeric delta argument noreply"],
        ),
        (b"touch k 10\r\n", &["Touch k 10"]),
        (
            b"touch k noreply\r\n",
            &["Error CLIENT_ERROR invalid exptime argument noreply"],
        ),
        (b"flush_all\r\n", &["FlushAll 0"]),
        (b"flush_all 10\r\n", &["FlushAll 10"]),
        (b"flush_all noreply\r\n", &["FlushAll 0 noreply"]),
        (b"flush_all 5 noreply\r\n", &["FlushAll 5 noreply"]),
        (
            b"flush_all x\r\n",
            &["Error CLIENT_ERROR invalid exptime argument"],
        ),
        (b"version\r\n", &["Version"]),
        (b"refresh_certs\r\n", &["RefreshCerts"]),
        (b"refresh_certs noreply\r\n", &["RefreshCerts"]),
        (b"verbosity 1\r\n", &["Verbosity 1"]),
        (b"verbosity\r\n", &["Error ERROR"]),
        // memcached 1.6.18's `watch`: fetchers when no stream is named; `deletions` came
        // later; `noreply` is read as a stream (an error, unanswered).
        (b"watch\r\n", &["Watch Some(4)"]),
        (b"watch  fetchers mutations\r\n", &["Watch Some(12)"]),
        (
            b"watch evictions connevents sysevents rawcmds\r\n",
            &["Watch Some(610)"],
        ),
        (
            b"watch proxyreqs proxyevents proxyuser\r\n",
            &["Watch Some(7168)"],
        ),
        (b"watch deletions\r\n", &["Watch None"]),
        (b"watch fetchers bogus\r\n", &["Watch None"]),
        (b"watch fetchers noreply\r\n", &["Watch None noreply"]),
        (b"WATCH\r\n", &["Error ERROR"]),
        (b"stats\r\n", &["Stats []"]),
        (b"shutdown\r\n", &["Shutdown []"]),
        (b"shutdown graceful\r\n", &["Shutdown [graceful]"]),
        (b"stats  settings\r\n", &["Stats [settings]"]),
        (b"quit\r\n", &["Quit"]),
        (b"mn\r\n", &["MetaNoop"]),
        (b"\r\n", &["Error ERROR"]),
        (b"   \r\n", &["Error ERROR"]),
        (b"x\r\n", &["Error ERROR"]),
        (b"GET a\r\n", &["Error ERROR"]),
        (b"GET / HTTP/1.1\r\n", &["Close"]),
    ]);
}

#[test]
fn pipelines() {
    check(&[(
        b"set a 0 0 1\r\n1\r\nget a b\r\ndelete a\r\nincr n 1\r\n",
        &[
            "Set a flags=0 exp=0 cas=0 data=1",
            "Get exp=0 keys=[a,b] bad=false",
            "Delete a",
            "Arith incr=true n 1",
        ],
    )]);
}

#[test]
fn long_lines() {
    // Over 2048 bytes without a newline: memcached closes, unless a multi-get is coming.
    let junk = vec![b'x'; LINE_LIMIT + 1];
    assert_eq!(parse(&junk, &LIMITS), Parse::Close);
    assert_eq!(
        parse(&junk[..LINE_LIMIT], &LIMITS),
        Parse::Incomplete { need: None }
    );
    let mut get = b"get ".to_vec();
    get.resize(LINE_LIMIT + 10, b'k');
    assert_eq!(parse(&get, &LIMITS), Parse::Incomplete { need: None });
    get.resize(GET_LINE_LIMIT + 1, b'k');
    assert_eq!(parse(&get, &LIMITS), Parse::Close);

    // memcached judges a line on the first 16 KiB it reads: a newline that comes later does
    // not save a line that is not a multi-get, whatever arrived at once.
    let mut set = b"set ".to_vec();
    set.resize(70_000, b'a');
    set.extend_from_slice(b"mn\r\n");
    assert_eq!(parse(&set, &LIMITS), Parse::Close);
    let mut short = b"set ".to_vec();
    short.resize(3000, b'a');
    short.extend_from_slice(b"\r\n");
    assert!(matches!(parse(&short, &LIMITS), Parse::Done(..)));
    let mut get = b"get ".to_vec();
    for i in 0..3000 {
        get.extend_from_slice(format!("k{i} ").as_bytes());
    }
    get.extend_from_slice(b"\r\n");
    assert!(get.len() > 16 << 10);
    assert!(matches!(parse(&get, &LIMITS), Parse::Done(..)));
}

#[test]
fn tokenizer_keeps_the_rest_after_23_tokens() {
    let mut line = b"set".to_vec();
    for i in 0..30 {
        line.extend_from_slice(format!(" t{i}").as_bytes());
    }
    line.extend_from_slice(b"\r\n");
    assert_eq!(drive(&line, line.len()), vec!["Error ERROR".to_string()]);
    let t = Tokens::new(b"a b c");
    assert_eq!(
        (t.n, t.get(0), t.get(2), t.get(3)),
        (4, &b"a"[..], &b"c"[..], &b""[..])
    );
}

/// memcached's `tokenize_command` byte by byte, on a line already cut at its first NUL:
/// the reference the word-at-a-time [`Tokens`] must match.
fn reference_tokens(line: &[u8]) -> (Vec<&[u8]>, Option<&[u8]>, usize) {
    let line = &line[..memchr::memchr(0, line).unwrap_or(line.len())];
    let mut tok = Vec::new();
    let mut start = 0;
    for i in 0..line.len() {
        if line[i] == b' ' {
            if start != i {
                tok.push(&line[start..i]);
                if tok.len() == MAX_TOKENS - 1 {
                    let rest = (i + 1 < line.len()).then(|| &line[i + 1..]);
                    return (tok, rest, line.len());
                }
            }
            start = i + 1;
        }
    }
    if start < line.len() {
        tok.push(&line[start..]);
    }
    (tok, None, line.len())
}

#[test]
fn tokens_match_the_byte_by_byte_tokenizer() {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    let fixed: [&[u8]; 8] = [
        b"",
        b" ",
        b"get a",
        b"  get  a  b ",
        b"get a\0b c",
        b"\0get",
        b"a b c d e f g h i j k l m n o p q r s t u v w x y z",
        b"a b c d e f g h i j k l m n o p q r s t u v w\0x y z",
    ];
    let mut lines: Vec<Vec<u8>> = fixed.iter().map(|l| l.to_vec()).collect();
    // Random lines over an alphabet heavy in spaces and NULs, crossing word boundaries
    // at every alignment.
    for _ in 0..20_000 {
        let len = (next() % 80) as usize;
        let line = (0..len)
            .map(|_| match next() % 10 {
                0..=3 => b' ',
                4 => 0,
                _ => b'a' + (next() % 3) as u8,
            })
            .collect();
        lines.push(line);
    }
    for line in &lines {
        let t = Tokens::new(line);
        let (tok, rest, len) = reference_tokens(line);
        assert_eq!(
            (t.toks(), t.rest, t.len),
            (&tok[..], rest, len),
            "line {line:?}"
        );
    }
}

#[test]
fn requests_stay_small() {
    // Every request is moved from the parser into the connection's window: a large one
    // (a decoded meta key carried inline made them 416 bytes) costs a memcpy each.
    let size = std::mem::size_of::<Request<'static>>();
    println!("Request: {size} bytes");
    assert!(size <= 192, "Request is {size} bytes");
}

/// A seeded xorshift generator for the randomised tables below.
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

#[test]
fn key_end_finds_the_first_delimiter() {
    let reference = |b: &[u8]| {
        b.iter()
            .take(KEY_MAX + 1)
            .position(|c| matches!(c, b' ' | 0 | b'\r' | b'\n'))
    };
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    let mut cases: Vec<Vec<u8>> = vec![vec![], vec![b'a'; 250], vec![b'a'; 251], vec![b'a'; 300]];
    for n in [0, 1, 15, 16, 17, 249, 250, 251, 255, 256] {
        let mut v = vec![b'k'; 300];
        v[n] = b'\r';
        cases.push(v);
    }
    for _ in 0..20_000 {
        let len = (next() % 300) as usize;
        // Delimiters are rare, so they fall at every distance, up to past `KEY_MAX`.
        let odds = 1 + next() % 300;
        cases.push(
            (0..len)
                .map(|_| match next() % odds {
                    0 => [b' ', 0, b'\r', b'\n'][(next() % 4) as usize],
                    _ => [b'a', b'\t', 0xff, 0x80, b'~'][(next() % 5) as usize],
                })
                .collect(),
        );
    }
    for b in &cases {
        assert_eq!(key_end(b, 0), reference(b), "{b:?}");
        assert_eq!(key_end_swar(b), reference(b), "{b:?}");
        // With bytes before the key, as in a `get` line, which a short tail reads.
        for pre in [1, 4, 5, 20] {
            let mut line = vec![b'x'; pre];
            line.extend_from_slice(b);
            assert_eq!(key_end(&line, pre), reference(b), "{pre} {b:?}");
        }
    }
}

/// A key for the fast paths' tests: one in eight of 245..=254 bytes (around `KEY_MAX`),
/// the rest shorter than `short`; letters, with delimiters at a random rate.
fn random_key(next: &mut impl FnMut() -> u64, short: u64) -> Vec<u8> {
    let len = match next() % 8 {
        0 => 245 + next() % 10,
        _ => next() % short,
    };
    let odds = 1 + next() % 1000;
    (0..len)
        .map(|_| match next() % odds {
            0 => [b' ', 0, b'\r', b'\n', b'\t'][(next() % 5) as usize],
            _ => b'a' + (next() % 26) as u8,
        })
        .collect()
}

#[test]
fn single_get_matches_the_general_parser() {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    let (mut fast, mut simple) = (0, 0);
    for i in 0..50_000 {
        let prefix: &[u8] = [&b"gets "[..], b"get  ", b"get ", b"get "][(next() % 4) as usize];
        let key = random_key(&mut next, 40);
        let end: &[u8] = [&b"\n"[..], b"", b"\r\n", b"\r\n"][(next() % 4) as usize];
        let mut buf = [prefix, &key, end].concat();
        if i % 2 == 0 {
            buf.extend_from_slice(b"get next\r\n");
        }
        // What the fast path is for: one key of 1..=250 bytes, none a delimiter, CR LF.
        let at = prefix.len();
        let n = buf[at..]
            .iter()
            .position(|c| matches!(c, b' ' | 0 | b'\r' | b'\n'));
        simple += (prefix != b"get  "
            && n.is_some_and(|n| (1..=KEY_MAX).contains(&n) && buf[at + n..].starts_with(b"\r\n")))
            as usize;
        let general = parse_line(&buf, &LIMITS);
        if let Some(p) = single_get(&buf) {
            fast += 1;
            assert_eq!(p, general, "{:?}", String::from_utf8_lossy(&buf));
        }
        assert_eq!(parse(&buf, &LIMITS), general, "{buf:?}");
    }
    assert!(simple > 10_000, "only {simple} simple gets generated");
    assert_eq!(
        fast, simple,
        "the fast path took {fast} of {simple} simple gets"
    );
}

#[test]
fn single_set_matches_the_general_parser() {
    let mut next = xorshift(0x2f1e_8c3b_77a5_d041);
    let (mut fast, mut simple) = (0, 0);
    let pick = |next: &mut dyn FnMut() -> u64, xs: &[&'static [u8]]| {
        xs[(next() % xs.len() as u64) as usize]
    };
    for i in 0..50_000 {
        let prefix = pick(&mut next, &[b"set ", b"set ", b"set ", b"set  ", b"sets "]);
        let key = random_key(&mut next, 30);
        let number = |next: &mut dyn FnMut() -> u64| -> Vec<u8> {
            match next() % 12 {
                1 if next().is_multiple_of(50) => vec![b'7'; 17_000],
                0 => pick(
                    next,
                    &[
                        b"",
                        b"-1",
                        b"+5",
                        b"1x",
                        b" 7",
                        b"99999999999",
                        b"4294967296",
                        b"2147483647",
                        b"18446744073709551616",
                    ],
                )
                .to_vec(),
                _ => (next() % 300).to_string().into_bytes(),
            }
        };
        let (flags, exptime, bytes) = (number(&mut next), number(&mut next), number(&mut next));
        let tail = pick(
            &mut next,
            &[
                b"\r\n",
                b"\r\n",
                b"\r\n",
                b"\n",
                b" noreply\r\n",
                b" \r\n",
                b"",
            ],
        );
        let line = [
            prefix, &key, b" ", &flags, b" ", &exptime, b" ", &bytes, tail,
        ]
        .concat();
        let mut buf = line.clone();
        // The data block: often whole, sometimes short or missing its CR LF.
        let vlen = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|b| b.parse::<usize>().ok())
            .unwrap_or(3)
            .min(400);
        match next() % 6 {
            0 => buf.extend(std::iter::repeat_n(b'v', vlen / 2)),
            1 => buf.extend(std::iter::repeat_n(b'v', vlen + 2)),
            _ => {
                buf.extend(std::iter::repeat_n(b'v', vlen));
                buf.extend_from_slice(b"\r\n");
            }
        }
        if i % 2 == 0 {
            buf.extend_from_slice(b"get next\r\n");
        }
        let plain = |t: &[u8]| (1..=9).contains(&t.len()) && t.iter().all(u8::is_ascii_digit);
        let key_ok = (1..=KEY_MAX).contains(&key.len())
            && !key.iter().any(|c| matches!(c, b' ' | 0 | b'\r' | b'\n'));
        simple += (prefix == b"set "
            && key_ok
            && plain(&flags)
            && plain(&exptime)
            && plain(&bytes)
            && tail == b"\r\n"
            && line.len() <= READ_CHUNK) as usize;
        let general = parse_line(&buf, &LIMITS);
        if let Some(p) = single_set(&buf, &LIMITS) {
            fast += 1;
            assert_eq!(p, general, "{:?}", String::from_utf8_lossy(&buf));
        }
        assert_eq!(parse(&buf, &LIMITS), general, "{buf:?}");
    }
    assert!(simple > 5_000, "only {simple} simple sets generated");
    // At least: an empty tail before a data block of `\r\n` also makes a simple line.
    assert!(
        fast >= simple,
        "the fast path took {fast} of {simple} simple sets"
    );
}

#[test]
fn keys_split_on_spaces() {
    let mut next = xorshift(0x1234_5678_9abc_def1);
    for _ in 0..10_000 {
        let len = (next() % 40) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| match next() % 3 {
                0 => b' ',
                _ => b'a' + (next() % 3) as u8,
            })
            .collect();
        let want: Vec<&[u8]> = bytes
            .split(|&b| b == b' ')
            .filter(|k| !k.is_empty())
            .collect();
        let got: Vec<&[u8]> = Keys(&bytes, false).iter().collect();
        assert_eq!(got, want, "{bytes:?}");
    }
    // One key, as the tokenizer found it, is yielded once and whole.
    let got: Vec<&[u8]> = Keys(b"key", true).iter().collect();
    assert_eq!(got, [b"key"]);
}
