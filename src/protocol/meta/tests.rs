//! Meta parser tables. Every case is parsed whole and then replayed cut into fragments of
//! every size from 1 byte up, as a connection would receive it; both must give the same
//! outcomes. Forwarded requests are parsed again with `reparse` and must come out equal.

use super::*;

const LIMITS: Limits = Limits {
    item_size_max: 1024,
    use_cas: true,
};

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One line per outcome.
fn summary(req: &Request<'_>) -> String {
    assert!(!req.noreply, "meta requests never carry noreply");
    match &req.cmd {
        Command::Meta(m) => {
            let mut out = format!("{:?} key={}", m.cmd, s(m.key(&mut None)));
            if m.key_binary {
                out.push_str(" b");
            }
            let f = &m.f;
            let d = MetaFlags {
                delta: 1,
                ..MetaFlags::default()
            };
            if f.quiet {
                out.push_str(" q");
            }
            if f.value {
                out.push_str(" v");
            }
            if f.no_update {
                out.push_str(" u");
            }
            if f.invalidate {
                out.push_str(" I");
            }
            if f.has_cas {
                out.push_str(&format!(" C{}", f.cas));
            }
            if f.client_flags != d.client_flags {
                out.push_str(&format!(" F{}", f.client_flags));
            }
            if f.mode != 0 {
                out.push_str(&format!(" M{}", f.mode as char));
            }
            for (name, v) in [("T", f.ttl), ("N", f.vivify), ("R", f.recache)] {
                if let Some(v) = v {
                    out.push_str(&format!(" {name}{v}"));
                }
            }
            if f.delta != 1 {
                out.push_str(&format!(" D{}", f.delta));
            }
            if f.initial != 0 {
                out.push_str(&format!(" J{}", f.initial));
            }
            let flags: Vec<String> = m.flags().map(s).collect();
            out.push_str(&format!(" [{}]", flags.join(",")));
            if m.cmd == MetaCmd::Set {
                if m.data.len() > 16 {
                    out.push_str(&format!(" data=<{} bytes>", m.data.len()));
                } else {
                    out.push_str(&format!(" data={}", s(m.data)));
                }
            }
            if m.too_large {
                out.push_str(&format!(" too_large swallow={}", m.swallow()));
            }
            if m.bad_chunk {
                out.push_str(" bad_chunk");
            }
            out
        }
        Command::MetaNoop => "MetaNoop".into(),
        Command::Error(e) => format!("Error {e}"),
        Command::ErrorSwallow { msg, swallow } => format!("Error {msg} swallow={swallow}"),
        other => format!("Other {other:?}"),
    }
}

/// Feeds `input` `chunk` bytes at a time, as a connection does (the text parser's table
/// driver: swallows, and every meta request's raw bytes re-parsed), and returns every outcome.
fn drive(input: &[u8], chunk: usize) -> Vec<String> {
    crate::protocol::text::tests::drive_with(input, chunk, &LIMITS, summary)
}

fn check(cases: &[(&[u8], &[&str])]) {
    for (input, want) in cases {
        let whole = drive(input, input.len().max(1));
        assert_eq!(whole, *want, "input {:?}", s(input));
        for chunk in 1..=input.len().min(64) {
            assert_eq!(
                drive(input, chunk),
                whole,
                "input {:?} in {chunk}-byte fragments",
                s(input)
            );
        }
    }
}

#[test]
fn get_flags() {
    check(&[
        (b"mg foo\r\n", &["Get key=foo []"]),
        (b"mg foo v\r\n", &["Get key=foo v [v]"]),
        (
            b"mg foo k v f s t c h l O123 q u\r\n",
            &["Get key=foo q v u [k,v,f,s,t,c,h,l,O123,q,u]"],
        ),
        (
            b"mg foo T30 N-1 R5\r\n",
            &["Get key=foo T30 N-1 R5 [T30,N-1,R5]"],
        ),
        (b"mg foo P L O\r\n", &["Get key=foo [P,L,O]"]),
        (b"mg  foo   v  \n", &["Get key=foo v [v]"]),
        (b"mg foo\0 v\r\n", &["Get key=foo []"]),
        // Only the first byte of a flag counts.
        (b"mg foo vx kk\r\n", &["Get key=foo v [vx,kk]"]),
    ]);
}

#[test]
fn errors_in_memcached_order() {
    let k251 = [b"mg ", &[b'k'; 251][..], b" v\r\n"].concat();
    let k250 = [b"mg ", &[b'k'; 250][..], b" v\r\n"].concat();
    let cases: &[(&[u8], &[&str])] = &[
        (b"mg\r\n", &["Error ERROR"]),
        (b"ma\r\n", &["Error ERROR"]),
        (b"md\r\n", &["Error ERROR"]),
        (b"ms\r\n", &["Error ERROR"]),
        (b"mx foo\r\n", &["Error ERROR"]),
        (b"mq foo HTTP/1.1\r\n", &["Error ERROR"]),
        (b"mn anything\r\n", &["MetaNoop"]),
        (&k251, &["Error CLIENT_ERROR bad command line format"]),
        (&k250, &[&format!("Get key={} v [v]", "k".repeat(250))]),
        (b"mg foo zz\r\n", &["Error CLIENT_ERROR invalid flag"]),
        (b"mg foo S\r\n", &["Error CLIENT_ERROR invalid flag"]),
        (b"mg foo E\r\n", &["Error CLIENT_ERROR invalid flag"]),
        (b"mg foo v v\r\n", &["Error CLIENT_ERROR duplicate flag"]),
        (b"mg foo \xc3\r\n", &["Error CLIENT_ERROR duplicate flag"]),
        (b"mg foo \x7f\r\n", &["Error CLIENT_ERROR duplicate flag"]),
        (
            b"mg foo Tx\r\n",
            &["Error CLIENT_ERROR bad token in command line format"],
        ),
        (
            b"mg foo T\r\n",
            &["Error CLIENT_ERROR bad token in command line format"],
        ),
        (
            b"mg foo Fx\r\n",
            &["Error CLIENT_ERROR bad command line format"],
        ),
        // The last message set wins; a bad F sets none.
        (
            b"mg foo Tx Fx\r\n",
            &["Error CLIENT_ERROR bad token in command line format"],
        ),
        (
            b"mg foo Jx Tx\r\n",
            &["Error CLIENT_ERROR bad token in command line format"],
        ),
        (
            b"mg foo Tx Jx\r\n",
            &["Error CLIENT_ERROR invalid numeric initial value"],
        ),
        (b"mg foo Tx zz\r\n", &["Error CLIENT_ERROR invalid flag"]),
        (
            b"mg foo Dx\r\n",
            &["Error CLIENT_ERROR invalid numeric delta value"],
        ),
        (
            b"mg foo MII\r\n",
            &["Error CLIENT_ERROR incorrect length for M token"],
        ),
        (
            b"mg a b c d e f g h i j k l m n o p q r s\r\n",
            &["Error CLIENT_ERROR options flags are too long"],
        ),
        (
            b"ma a b c d e f g h i j k l m n o p q r s\r\n",
            &["Error CLIENT_ERROR options flags too long"],
        ),
        (
            b"mg a b c d e f g h i j k l m n o p q r\r\n",
            &["Error CLIENT_ERROR invalid flag"],
        ),
        // md and ma report any pre-parse error alike.
        (
            b"md foo zz\r\n",
            &["Error CLIENT_ERROR invalid or duplicate flag"],
        ),
        (
            b"ma foo Tx\r\n",
            &["Error CLIENT_ERROR invalid or duplicate flag"],
        ),
        (
            b"ma foo Md\r\n",
            &["Error CLIENT_ERROR invalid mode for ma M token"],
        ),
        (
            b"md foo O123456789012345678901234567890123\r\n",
            &["Error CLIENT_ERROR opaque token too long"],
        ),
        // mg and ma find a long opaque while replying (the executor's job).
        (
            b"mg foo O123456789012345678901234567890123\r\n",
            &["Get key=foo [O123456789012345678901234567890123]"],
        ),
        (b"me\r\n", &["Error CLIENT_ERROR bad command line format"]),
        (
            b"me foo b\r\n",
            &["Error CLIENT_ERROR bad command line format"],
        ),
    ];
    check(cases);
}

#[test]
fn base64_keys() {
    check(&[
        (b"mg Zm9v b k\r\n", &["Get key=foo b [b,k]"]),
        (b"mg YQ== b\r\n", &["Get key=a b [b]"]),
        (b"mg YW== b\r\n", &["Get key=a b [b]"]),
        // Bytes outside the alphabet are skipped, as memcached's decoder does.
        (b"mg Y!Q== b\r\n", &["Get key=a b [b]"]),
        (b"mg ==== b\r\n", &["Error CLIENT_ERROR error decoding key"]),
        (b"mg A=== b\r\n", &["Error CLIENT_ERROR error decoding key"]),
        (b"mg Zm9 b\r\n", &["Error CLIENT_ERROR error decoding key"]),
        (b"me Zm9v b\r\n", &["Debug key=foo b []"]),
        (b"me Zm9v b extra\r\n", &["Debug key=foo b []"]),
        (b"me Zm9v\r\n", &["Debug key=Zm9v []"]),
        (
            b"me Zm9 b\r\n",
            &["Error CLIENT_ERROR bad command line format"],
        ),
        (b"ms Zm9v 2 b\r\nhi\r\n", &["Set key=foo b [b] data=hi"]),
        (
            b"ms Zm9 2 b\r\nhi\r\n",
            &["Error CLIENT_ERROR error decoding key swallow=4"],
        ),
    ]);
    let mut out = Vec::new();
    for src in [&b""[..], b"a", b"ab", b"abc", b"abcd", b"\x00\xff\x10"] {
        out.clear();
        base64_encode(src, &mut out);
        let mut back = [0u8; 16];
        let n = base64_decode(&out, &mut back);
        if src.is_empty() {
            assert_eq!(n, 0);
        } else {
            assert_eq!(&back[..n], src);
        }
    }
    out.clear();
    base64_encode(b"foo", &mut out);
    assert_eq!(out, b"Zm9v");
}

#[test]
fn set() {
    check(&[
        (b"ms foo 2\r\nhi\r\n", &["Set key=foo [] data=hi"]),
        (
            b"ms foo 2 T10 F5 C7 I MA q k c O1\r\nhi\r\n",
            &["Set key=foo q I C7 F5 MA T10 [T10,F5,C7,I,MA,q,k,c,O1] data=hi"],
        ),
        (b"ms foo 0\r\n\r\n", &["Set key=foo [] data="]),
        (
            b"ms foo 2\r\nhi\r\nmn\r\n",
            &["Set key=foo [] data=hi", "MetaNoop"],
        ),
        // The data block is checked for its CRLF, then handed on (memcached counts the set).
        (
            b"ms foo 2\r\nhix\r\n",
            &["Set key=foo [] data=hi bad_chunk", "Error ERROR"],
        ),
        (
            b"ms foo\r\n",
            &["Error CLIENT_ERROR bad command line format"],
        ),
        (
            b"ms foo bar\r\n",
            &["Error CLIENT_ERROR bad command line format"],
        ),
        (
            b"ms foo -1\r\n",
            &["Error CLIENT_ERROR bad command line format"],
        ),
        (
            b"ms foo 2147483646\r\n",
            &["Error CLIENT_ERROR bad command line format"],
        ),
        // Errors after the length swallow the data block.
        (
            b"ms foo 2 zz\r\nhi\r\nmn\r\n",
            &["Error CLIENT_ERROR invalid flag swallow=4", "MetaNoop"],
        ),
        (
            b"ms foo 2 Ms\r\nhi\r\n",
            &["Error CLIENT_ERROR invalid mode for ms M token swallow=4"],
        ),
        (
            b"ms foo 2 O123456789012345678901234567890123 Mx\r\nhi\r\n",
            &["Error CLIENT_ERROR invalid mode for ms M token swallow=4"],
        ),
        (
            b"ms foo 2 O123456789012345678901234567890123\r\nhi\r\n",
            &["Error CLIENT_ERROR opaque token too long swallow=4"],
        ),
        (
            b"ms foo 2 a b c d e f g h i j k l m n o p q\r\nhi\r\n",
            &["Error CLIENT_ERROR options flags too long", "Error ERROR"],
        ),
        // Over -I (1024 here, memcached's count: 48 + 8 + key + 1 + data + 2).
        (
            &[&b"ms foo 962\r\n"[..], &[b'x'; 962], b"\r\nmn\r\n"].concat(),
            &["Set key=foo [] data=<962 bytes>", "MetaNoop"],
        ),
        (
            &[&b"ms foo 963\r\n"[..], &[b'x'; 963], b"\r\nmn\r\n"].concat(),
            &["Set key=foo [] data= too_large swallow=965", "MetaNoop"],
        ),
        (
            &[&b"ms foo 959 F1 T5\r\n"[..], &[b'x'; 959], b"\r\nmn\r\n"].concat(),
            &[
                "Set key=foo F1 T5 [F1,T5] data= too_large swallow=961",
                "MetaNoop",
            ],
        ),
    ]);
}

#[test]
fn delete_arith_debug() {
    check(&[
        (b"md foo\r\n", &["Delete key=foo []"]),
        (
            b"md foo q I T30 C5 k O1\r\n",
            &["Delete key=foo q I C5 T30 [q,I,T30,C5,k,O1]"],
        ),
        (b"ma foo\r\n", &["Arith key=foo []"]),
        (
            b"ma foo N0 J10 D5 MD v t c\r\n",
            &["Arith key=foo v MD N0 D5 J10 [N0,J10,D5,MD,v,t,c]"],
        ),
        (
            b"ma foo D18446744073709551615\r\n",
            &["Arith key=foo D18446744073709551615 [D18446744073709551615]"],
        ),
        (
            b"ma foo D18446744073709551616\r\n",
            &["Error CLIENT_ERROR invalid or duplicate flag"],
        ),
        (b"ma foo M+\r\n", &["Arith key=foo M+ [M+]"]),
        (b"me foo\r\n", &["Debug key=foo []"]),
        (b"me foo bar baz\r\n", &["Debug key=foo []"]),
    ]);
}

#[test]
fn pipelines_of_meta_commands() {
    check(&[(
        b"ms a 1 q\r\nx\r\nmg a v q\r\nmd a q\r\nmn\r\nma b N0\r\nme a\r\n",
        &[
            "Set key=a q [q] data=x",
            "Get key=a q v [v,q]",
            "Delete key=a q [q]",
            "MetaNoop",
            "Arith key=b N0 [N0]",
            "Debug key=a []",
        ],
    )]);
}

/// Random streams of meta commands (valid and damaged pieces) give the same outcomes
/// whole and cut into random fragments, and every request re-parses to itself.
#[test]
fn random_streams_are_fragmentation_independent() {
    const PIECES: &[&[u8]] = &[
        b"mg",
        b"ms",
        b"md",
        b"ma",
        b"me",
        b"mn",
        b"mx",
        b" ",
        b"  ",
        b"key",
        b"Zm9v",
        b"YQ==",
        b"b",
        b"v",
        b"k",
        b"q",
        b"O1",
        b"T30",
        b"T-1",
        b"N0",
        b"R5",
        b"C7",
        b"C",
        b"F5",
        b"ME",
        b"MA",
        b"Mz",
        b"MII",
        b"J3",
        b"D9",
        b"I",
        b"u",
        b"h",
        b"l",
        b"t",
        b"c",
        b"f",
        b"s",
        b"zz",
        b"2",
        b"0",
        b"-1",
        b"963",
        b"\r\n",
        b"\n",
        b"ab",
        b"\r\nab\r\n",
        b"\0",
        b"\xff",
        b"O123456789012345678901234567890123",
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for _ in 0..3000 {
        let mut input = Vec::new();
        for _ in 0..1 + next(30) {
            input.extend_from_slice(PIECES[next(PIECES.len() as u64) as usize]);
        }
        input.extend_from_slice(b"\r\n");
        let whole = drive(&input, input.len());
        let chunk = 1 + next(9) as usize;
        assert_eq!(
            drive(&input, chunk),
            whole,
            "input {:?} in {chunk}-byte fragments",
            s(&input)
        );
    }
}
