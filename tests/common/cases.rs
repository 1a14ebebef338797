//! The text-protocol corpus: exact request bytes and the exact reply bytes that
//! memcached 1.6.18 gives for them.
//!
//! Every `reply` here was recorded by replaying `req` to a real memcached 1.6.18
//! (`memcached -U 0 -t 1`, plus `-I 1k -o slab_chunk_max=1024` for
//! [`SMALL_ITEM_CASES`]) on a fresh connection, followed by the sentinel `mn\r\n`
//! (meta no-op, answered with `MN\r\n`, which is stripped). Never edit a reply by
//! hand: `tests/differential.rs` checks that memcached still answers exactly this.
//!
//! Each case uses its own key names (prefixed with the case name) and sets up its
//! own state, except `get_multi_key_251_*`, which rely on `get_multi_key_251_setup`
//! having run before them (cases run in table order). The only intended
//! differences from memcached are listed in [`INTENDED_DIFFERENCES`].

/// One request/reply pair.
pub struct Case {
    pub name: &'static str,
    /// Bytes written to a fresh connection (the harness appends `mn\r\n`).
    pub req: &'static [u8],
    /// Bytes memcached answered before the sentinel's `MN\r\n` (or before closing).
    pub reply: &'static [u8],
    /// Whether memcached closed the connection instead of answering the sentinel.
    pub closes: bool,
}

/// A piece of a long byte string, for [`build!`].
pub enum Part {
    /// These bytes, once.
    Lit(&'static [u8]),
    /// This pattern, repeated this many times.
    Rep(&'static [u8], usize),
}
use Part::{Lit, Rep};

pub const fn total_len(parts: &[Part]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < parts.len() {
        n += match parts[i] {
            Part::Lit(b) => b.len(),
            Part::Rep(p, count) => p.len() * count,
        };
        i += 1;
    }
    n
}

pub const fn build<const N: usize>(parts: &[Part]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut o = 0;
    let mut i = 0;
    while i < parts.len() {
        let (pat, count) = match parts[i] {
            Part::Lit(b) => (b, 1),
            Part::Rep(p, count) => (p, count),
        };
        let mut k = 0;
        while k < count {
            let mut j = 0;
            while j < pat.len() {
                out[o] = pat[j];
                o += 1;
                j += 1;
            }
            k += 1;
        }
        i += 1;
    }
    assert!(o == N);
    out
}

/// Builds a `&'static [u8]` at compile time from [`Part`]s, so that long keys and
/// values stay readable: `build![Lit(b"set "), Rep(b"k", 251), Lit(b" 0 0 1\r\n")]`.
macro_rules! build {
    ($($part:expr),* $(,)?) => {{
        const PARTS: &[Part] = &[$($part),*];
        const LEN: usize = total_len(PARTS);
        const OUT: [u8; LEN] = build::<LEN>(PARTS);
        &OUT
    }};
}

/// Extra corecached arguments for [`SMALL_ITEM_CASES`].
pub const SMALL_ITEM_ARGS: &[&str] = &["-I", "1k"];
/// The same limit for memcached: below 512k it also needs a smaller slab chunk
/// (`slab_chunk_max` is in bytes in 1.6.18, despite its help text).
pub const MEMCACHED_SMALL_ITEM_ARGS: &[&str] = &["-I", "1k", "-o", "slab_chunk_max=1024"];

/// Every text command and error path; each case runs on a fresh connection to a
/// server shared by all cases of the table, in table order.
pub const TEXT_CASES: &[Case] = &[
    Case {
        name: "set_basic",
        req: b"set set_basic 0 0 5\r\nhello\r\nget set_basic\r\n",
        reply: b"STORED\r\nVALUE set_basic 0 5\r\nhello\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_flags",
        req: b"set set_flags 123 0 3\r\nabc\r\nget set_flags\r\n",
        reply: b"STORED\r\nVALUE set_flags 123 3\r\nabc\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_flags_max",
        req: b"set set_flags_max 4294967295 0 1\r\nx\r\nget set_flags_max\r\n",
        reply: b"STORED\r\nVALUE set_flags_max 4294967295 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_flags_overflow",
        req: b"set set_flags_overflow 4294967296 0 1\r\nx\r\nget set_flags_overflow\r\n",
        reply: b"STORED\r\nVALUE set_flags_overflow 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_flags_negative",
        req: b"set set_flags_negative -1 0 1\r\nx\r\nget set_flags_negative\r\n",
        reply: b"CLIENT_ERROR bad command line format\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_flags_nonnumeric",
        req: b"set set_flags_nonnumeric abc 0 1\r\nx\r\nget set_flags_nonnumeric\r\n",
        reply: b"CLIENT_ERROR bad command line format\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_flags_trailing_garbage",
        req: b"set set_flags_trailing_garbage 12x 0 1\r\nx\r\nget set_flags_trailing_garbage\r\n",
        reply: b"CLIENT_ERROR bad command line format\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_flags_plus_sign",
        req: b"set set_flags_plus_sign +5 0 1\r\nx\r\nget set_flags_plus_sign\r\n",
        reply: b"STORED\r\nVALUE set_flags_plus_sign 5 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_flags_leading_zeros",
        req: b"set set_flags_leading_zeros 007 0 1\r\nx\r\nget set_flags_leading_zeros\r\n",
        reply: b"STORED\r\nVALUE set_flags_leading_zeros 7 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_exptime_future",
        req: b"set set_exptime_future 0 3600 1\r\nx\r\nget set_exptime_future\r\n",
        reply: b"STORED\r\nVALUE set_exptime_future 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_exptime_negative",
        req: b"set set_exptime_negative 0 -1 1\r\nx\r\nget set_exptime_negative\r\n",
        reply: b"STORED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_exptime_nonnumeric",
        req: b"set set_exptime_nonnumeric 0 abc 1\r\nx\r\nget set_exptime_nonnumeric\r\n",
        reply: b"CLIENT_ERROR bad command line format\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_exptime_absolute_past",
        req: b"set set_exptime_absolute_past 0 2592001 1\r\nx\r\nget set_exptime_absolute_past\r\n",
        reply: b"STORED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_exptime_max_relative",
        req: b"set set_exptime_max_relative 0 2592000 1\r\nx\r\nget set_exptime_max_relative\r\n",
        reply: b"STORED\r\nVALUE set_exptime_max_relative 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_exptime_overflow",
        req: b"set set_exptime_overflow 0 99999999999 1\r\nx\r\nget set_exptime_overflow\r\n",
        reply: b"STORED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_zero_length",
        req: b"set set_zero_length 0 0 0\r\n\r\nget set_zero_length\r\n",
        reply: b"STORED\r\nVALUE set_zero_length 0 0\r\n\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_length_negative",
        req: b"set set_length_negative 0 0 -1\r\nx\r\nget set_length_negative\r\n",
        reply: b"CLIENT_ERROR bad command line format\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_length_nonnumeric",
        req: b"set set_length_nonnumeric 0 0 abc\r\nx\r\nget set_length_nonnumeric\r\n",
        reply: b"CLIENT_ERROR bad command line format\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_length_leading_zero",
        req: b"set set_length_leading_zero 0 0 01\r\nx\r\nget set_length_leading_zero\r\n",
        reply: b"STORED\r\nVALUE set_length_leading_zero 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_length_overflow",
        req: b"set set_length_overflow 0 0 4294967297\r\nx\r\nget set_length_overflow\r\n",
        reply: b"STORED\r\nVALUE set_length_overflow 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_data_too_long",
        req: b"set set_data_too_long 0 0 1\r\nxx\r\nget set_data_too_long\r\n",
        reply: b"CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_data_much_too_long",
        req: b"set set_data_much_too_long 0 0 2\r\nabcdef\r\nget set_data_much_too_long\r\n",
        reply: b"CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_data_too_short",
        req: b"set set_data_too_short 0 0 3\r\nx\r\nget set_data_too_short\r\n",
        reply: b"CLIENT_ERROR bad data chunk\r\nERROR\r\n",
        closes: false,
    },
    Case {
        name: "set_data_lf_only",
        req: b"set set_data_lf_only 0 0 1\r\nx\nget set_data_lf_only\r\n",
        reply: b"CLIENT_ERROR bad data chunk\r\nERROR\r\n",
        closes: false,
    },
    Case {
        name: "set_data_contains_crlf",
        req: b"set set_data_contains_crlf 0 0 4\r\na\r\nb\r\nget set_data_contains_crlf\r\n",
        reply: b"STORED\r\nVALUE set_data_contains_crlf 0 4\r\na\r\nb\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_bad_data_chunk_then_command",
        req: b"set set_bad_data_chunk_then_command 0 0 1\r\nxYZget set_bad_data_chunk_then_command\r\n",
        reply: b"CLIENT_ERROR bad data chunk\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_data_binary",
        req: b"set set_data_binary 0 0 4\r\n\0\xff\x01\x80\r\nget set_data_binary\r\n",
        reply: b"STORED\r\nVALUE set_data_binary 0 4\r\n\0\xff\x01\x80\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_overwrite",
        req: b"set set_overwrite 1 0 1\r\na\r\nset set_overwrite 2 0 2\r\nbb\r\nget set_overwrite\r\n",
        reply: b"STORED\r\nSTORED\r\nVALUE set_overwrite 2 2\r\nbb\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_noreply",
        req: b"set set_noreply 0 0 1 noreply\r\nx\r\nget set_noreply\r\n",
        reply: b"VALUE set_noreply 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_noreply_bad_data_chunk",
        req: b"set set_noreply_bad_data_chunk 0 0 1 noreply\r\nxx\r\nget set_noreply_bad_data_chunk\r\n",
        reply: b"ERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_noreply_bad_flags",
        req: b"set set_noreply_bad_flags abc 0 1 noreply\r\nx\r\nget set_noreply_bad_flags\r\n",
        reply: b"ERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_noreply_misspelled",
        req: b"set set_noreply_misspelled 0 0 1 norepl\r\nx\r\nget set_noreply_misspelled\r\n",
        reply: b"STORED\r\nVALUE set_noreply_misspelled 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_too_few_tokens",
        req: b"set set_too_few_tokens 0 0\r\nget set_too_few_tokens\r\n",
        reply: b"ERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_no_key",
        req: b"set\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "set_too_many_tokens",
        req: b"set set_too_many_tokens 0 0 1 noreply extra\r\nx\r\nget set_too_many_tokens\r\n",
        reply: b"ERROR\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_key_250",
        req: build![Lit(b"set "), Rep(b"k", 250), Lit(b" 0 0 1\r\nx\r\nget "), Rep(b"k", 250), Lit(b"\r\ndelete "), Rep(b"k", 250), Lit(b"\r\n")],
        reply: build![Lit(b"STORED\r\nVALUE "), Rep(b"k", 250), Lit(b" 0 1\r\nx\r\nEND\r\nDELETED\r\n")],
        closes: false,
    },
    Case {
        name: "set_key_251",
        req: build![Lit(b"set "), Rep(b"k", 251), Lit(b" 0 0 1\r\nx\r\nget set_key_251\r\n")],
        reply: b"CLIENT_ERROR bad command line format\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_key_251_noreply",
        req: build![Lit(b"set "), Rep(b"k", 251), Lit(b" 0 0 1 noreply\r\nx\r\n")],
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "set_key_control_chars",
        req: b"set set_key\x01ctl\x7f 0 0 1\r\nx\r\nget set_key\x01ctl\x7f\r\n",
        reply: b"STORED\r\nVALUE set_key\x01ctl\x7f 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_key_utf8",
        req: b"set set_key_\xc3\xa9t\xc3\xa9 0 0 1\r\nx\r\nget set_key_\xc3\xa9t\xc3\xa9\r\n",
        reply: b"STORED\r\nVALUE set_key_\xc3\xa9t\xc3\xa9 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_multiple_spaces",
        req: b"set   set_multiple_spaces  5   0    2\r\nab\r\nget   set_multiple_spaces   \r\n",
        reply: b"STORED\r\nVALUE set_multiple_spaces 5 2\r\nab\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_leading_space",
        req: b" set set_leading_space 0 0 1\r\nx\r\n get set_leading_space\r\n",
        reply: b"STORED\r\nVALUE set_leading_space 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_lf_line_endings",
        req: b"set set_lf_line_endings 0 0 1\nx\r\nget set_lf_line_endings\n",
        reply: b"STORED\r\nVALUE set_lf_line_endings 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_tab_separator",
        req: b"set\tset_tab_separator 0 0 1\r\nx\r\n",
        reply: b"ERROR\r\nERROR\r\n",
        closes: false,
    },
    Case {
        name: "set_uppercase",
        req: b"SET set_uppercase 0 0 1\r\nx\r\nget set_uppercase\r\n",
        reply: b"ERROR\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "set_then_delete_then_get",
        req: b"set set_then_delete_then_get 0 0 1\r\nx\r\ndelete set_then_delete_then_get\r\nget set_then_delete_then_get\r\n",
        reply: b"STORED\r\nDELETED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "add_miss",
        req: b"add add_miss 3 0 2\r\nhi\r\nget add_miss\r\n",
        reply: b"STORED\r\nVALUE add_miss 3 2\r\nhi\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "add_hit",
        req: b"set add_hit 0 0 1\r\na\r\nadd add_hit 5 0 1\r\nb\r\nget add_hit\r\n",
        reply: b"STORED\r\nNOT_STORED\r\nVALUE add_hit 0 1\r\na\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "add_noreply_miss",
        req: b"add add_noreply_miss 0 0 1 noreply\r\nx\r\nget add_noreply_miss\r\n",
        reply: b"VALUE add_noreply_miss 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "add_noreply_hit",
        req: b"set add_noreply_hit 0 0 1\r\na\r\nadd add_noreply_hit 0 0 1 noreply\r\nb\r\nget add_noreply_hit\r\n",
        reply: b"STORED\r\nVALUE add_noreply_hit 0 1\r\na\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "add_too_few_tokens",
        req: b"add add_too_few_tokens 0 0\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "add_bad_data_chunk",
        req: b"add add_bad_data_chunk 0 0 2\r\nabc\r\nget add_bad_data_chunk\r\n",
        reply: b"CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "add_expired",
        req: b"set add_expired 0 -1 1\r\na\r\nadd add_expired 0 0 1\r\nb\r\nget add_expired\r\n",
        reply: b"STORED\r\nSTORED\r\nVALUE add_expired 0 1\r\nb\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "replace_miss",
        req: b"replace replace_miss 0 0 1\r\nx\r\nget replace_miss\r\n",
        reply: b"NOT_STORED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "replace_hit",
        req: b"set replace_hit 1 0 1\r\na\r\nreplace replace_hit 2 0 3\r\nbcd\r\nget replace_hit\r\n",
        reply: b"STORED\r\nSTORED\r\nVALUE replace_hit 2 3\r\nbcd\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "replace_noreply",
        req: b"set replace_noreply 0 0 1\r\na\r\nreplace replace_noreply 0 0 1 noreply\r\nb\r\nreplace replace_noreply_missing 0 0 1 noreply\r\nc\r\nget replace_noreply replace_noreply_missing\r\n",
        reply: b"STORED\r\nVALUE replace_noreply 0 1\r\nb\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "replace_bad_length",
        req: b"replace replace_bad_length 0 0 x\r\n",
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "append_hit",
        req: b"set append_hit 7 0 3\r\nabc\r\nappend append_hit 9 0 3\r\ndef\r\nget append_hit\r\n",
        reply: b"STORED\r\nSTORED\r\nVALUE append_hit 7 6\r\nabcdef\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "append_miss",
        req: b"append append_miss 0 0 1\r\nx\r\nget append_miss\r\n",
        reply: b"NOT_STORED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "append_noreply",
        req: b"set append_noreply 0 0 1\r\na\r\nappend append_noreply 0 0 1 noreply\r\nb\r\nappend append_noreply_missing 0 0 1 noreply\r\nc\r\nget append_noreply\r\n",
        reply: b"STORED\r\nVALUE append_noreply 0 2\r\nab\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "append_empty",
        req: b"set append_empty 0 0 0\r\n\r\nappend append_empty 0 0 2\r\nxy\r\nappend append_empty 0 0 0\r\n\r\nget append_empty\r\n",
        reply: b"STORED\r\nSTORED\r\nSTORED\r\nVALUE append_empty 0 2\r\nxy\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "append_bad_flags_ignored",
        req: b"set append_bad_flags_ignored 0 0 1\r\na\r\nappend append_bad_flags_ignored abc 0 1\r\nb\r\nget append_bad_flags_ignored\r\n",
        reply: b"STORED\r\nCLIENT_ERROR bad command line format\r\nERROR\r\nVALUE append_bad_flags_ignored 0 1\r\na\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "append_bad_data_chunk",
        req: b"set append_bad_data_chunk 0 0 1\r\na\r\nappend append_bad_data_chunk 0 0 1\r\nbc\r\nget append_bad_data_chunk\r\n",
        reply: b"STORED\r\nCLIENT_ERROR bad data chunk\r\nERROR\r\nVALUE append_bad_data_chunk 0 1\r\na\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "prepend_hit",
        req: b"set prepend_hit 4 0 3\r\nabc\r\nprepend prepend_hit 0 0 3\r\nxyz\r\nget prepend_hit\r\n",
        reply: b"STORED\r\nSTORED\r\nVALUE prepend_hit 4 6\r\nxyzabc\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "prepend_miss",
        req: b"prepend prepend_miss 0 0 1\r\nx\r\nget prepend_miss\r\n",
        reply: b"NOT_STORED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "prepend_noreply",
        req: b"set prepend_noreply 0 0 1\r\na\r\nprepend prepend_noreply 0 0 1 noreply\r\nb\r\nget prepend_noreply\r\n",
        reply: b"STORED\r\nVALUE prepend_noreply 0 2\r\nba\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "append_then_incr",
        req: b"set append_then_incr 0 0 1\r\n1\r\nappend append_then_incr 0 0 1\r\n2\r\nincr append_then_incr 1\r\nget append_then_incr\r\n",
        reply: b"STORED\r\nSTORED\r\n13\r\nVALUE append_then_incr 0 2\r\n13\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "cas_miss",
        req: b"cas cas_miss 0 0 1 1\r\nx\r\nget cas_miss\r\n",
        reply: b"NOT_FOUND\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "cas_exists",
        req: b"set cas_exists 0 0 1\r\na\r\ncas cas_exists 0 0 1 999999999\r\nb\r\nget cas_exists\r\n",
        reply: b"STORED\r\nEXISTS\r\nVALUE cas_exists 0 1\r\na\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "cas_zero_unique",
        req: b"set cas_zero_unique 0 0 1\r\na\r\ncas cas_zero_unique 0 0 1 0\r\nb\r\nget cas_zero_unique\r\n",
        reply: b"STORED\r\nEXISTS\r\nVALUE cas_zero_unique 0 1\r\na\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "cas_noreply_miss",
        req: b"cas cas_noreply_miss 0 0 1 1 noreply\r\nx\r\nget cas_noreply_miss\r\n",
        reply: b"END\r\n",
        closes: false,
    },
    Case {
        name: "cas_noreply_exists",
        req: b"set cas_noreply_exists 0 0 1\r\na\r\ncas cas_noreply_exists 0 0 1 999999999 noreply\r\nb\r\nget cas_noreply_exists\r\n",
        reply: b"STORED\r\nVALUE cas_noreply_exists 0 1\r\na\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "cas_bad_unique",
        req: b"set cas_bad_unique 0 0 1\r\na\r\ncas cas_bad_unique 0 0 1 abc\r\nb\r\nget cas_bad_unique\r\n",
        reply: b"STORED\r\nCLIENT_ERROR bad command line format\r\nERROR\r\nVALUE cas_bad_unique 0 1\r\na\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "cas_negative_unique",
        req: b"cas cas_negative_unique 0 0 1 -1\r\nb\r\n",
        reply: b"CLIENT_ERROR bad command line format\r\nERROR\r\n",
        closes: false,
    },
    Case {
        name: "cas_unique_overflow",
        req: b"cas cas_unique_overflow 0 0 1 18446744073709551616\r\nb\r\n",
        reply: b"CLIENT_ERROR bad command line format\r\nERROR\r\n",
        closes: false,
    },
    Case {
        name: "cas_too_few_tokens",
        req: b"cas cas_too_few_tokens 0 0 1\r\nx\r\n",
        reply: b"ERROR\r\nERROR\r\n",
        closes: false,
    },
    Case {
        name: "cas_too_many_tokens",
        req: b"cas cas_too_many_tokens 0 0 1 1 noreply extra\r\nx\r\n",
        reply: b"ERROR\r\nERROR\r\n",
        closes: false,
    },
    Case {
        name: "cas_after_delete",
        req: b"set cas_after_delete 0 0 1\r\na\r\ndelete cas_after_delete\r\ncas cas_after_delete 0 0 1 1\r\nb\r\n",
        reply: b"STORED\r\nDELETED\r\nNOT_FOUND\r\n",
        closes: false,
    },
    Case {
        name: "cas_bad_data_chunk",
        req: b"cas cas_bad_data_chunk 0 0 1 1\r\nxy\r\n",
        reply: b"CLIENT_ERROR bad data chunk\r\nERROR\r\n",
        closes: false,
    },
    Case {
        name: "get_miss",
        req: b"get get_miss\r\n",
        reply: b"END\r\n",
        closes: false,
    },
    Case {
        name: "get_multi_all_hits",
        req: b"set get_multi_all_hits_a 1 0 1\r\na\r\nset get_multi_all_hits_b 2 0 2\r\nbb\r\nget get_multi_all_hits_a get_multi_all_hits_b\r\n",
        reply: b"STORED\r\nSTORED\r\nVALUE get_multi_all_hits_a 1 1\r\na\r\nVALUE get_multi_all_hits_b 2 2\r\nbb\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "get_multi_mixed",
        req: b"set get_multi_mixed_a 0 0 1\r\na\r\nset get_multi_mixed_c 0 0 1\r\nc\r\nget get_multi_mixed_x get_multi_mixed_a get_multi_mixed_b get_multi_mixed_c get_multi_mixed_y\r\n",
        reply: b"STORED\r\nSTORED\r\nVALUE get_multi_mixed_a 0 1\r\na\r\nVALUE get_multi_mixed_c 0 1\r\nc\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "get_multi_all_misses",
        req: b"get get_multi_all_misses_a get_multi_all_misses_b get_multi_all_misses_c\r\n",
        reply: b"END\r\n",
        closes: false,
    },
    Case {
        name: "get_duplicate_keys",
        req: b"set get_duplicate_keys 0 0 1\r\nx\r\nget get_duplicate_keys get_duplicate_keys get_duplicate_keys\r\n",
        reply: b"STORED\r\nVALUE get_duplicate_keys 0 1\r\nx\r\nVALUE get_duplicate_keys 0 1\r\nx\r\nVALUE get_duplicate_keys 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "get_many_keys",
        req: b"set get_many_keys_0 0 0 1\r\n0\r\nset get_many_keys_3 0 0 1\r\n3\r\nset get_many_keys_6 0 0 1\r\n6\r\nset get_many_keys_9 0 0 1\r\n9\r\nset get_many_keys_12 0 0 2\r\n12\r\nset get_many_keys_15 0 0 2\r\n15\r\nset get_many_keys_18 0 0 2\r\n18\r\nset get_many_keys_21 0 0 2\r\n21\r\nset get_many_keys_24 0 0 2\r\n24\r\nset get_many_keys_27 0 0 2\r\n27\r\nset get_many_keys_30 0 0 2\r\n30\r\nset get_many_keys_33 0 0 2\r\n33\r\nset get_many_keys_36 0 0 2\r\n36\r\nset get_many_keys_39 0 0 2\r\n39\r\nget get_many_keys_0 get_many_keys_1 get_many_keys_2 get_many_keys_3 get_many_keys_4 get_many_keys_5 get_many_keys_6 get_many_keys_7 get_many_keys_8 get_many_keys_9 get_many_keys_10 get_many_keys_11 get_many_keys_12 get_many_keys_13 get_many_keys_14 get_many_keys_15 get_many_keys_16 get_many_keys_17 get_many_keys_18 get_many_keys_19 get_many_keys_20 get_many_keys_21 get_many_keys_22 get_many_keys_23 get_many_keys_24 get_many_keys_25 get_many_keys_26 get_many_keys_27 get_many_keys_28 get_many_keys_29 get_many_keys_30 get_many_keys_31 get_many_keys_32 get_many_keys_33 get_many_keys_34 get_many_keys_35 get_many_keys_36 get_many_keys_37 get_many_keys_38 get_many_keys_39\r\n",
        reply: b"STORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nVALUE get_many_keys_0 0 1\r\n0\r\nVALUE get_many_keys_3 0 1\r\n3\r\nVALUE get_many_keys_6 0 1\r\n6\r\nVALUE get_many_keys_9 0 1\r\n9\r\nVALUE get_many_keys_12 0 2\r\n12\r\nVALUE get_many_keys_15 0 2\r\n15\r\nVALUE get_many_keys_18 0 2\r\n18\r\nVALUE get_many_keys_21 0 2\r\n21\r\nVALUE get_many_keys_24 0 2\r\n24\r\nVALUE get_many_keys_27 0 2\r\n27\r\nVALUE get_many_keys_30 0 2\r\n30\r\nVALUE get_many_keys_33 0 2\r\n33\r\nVALUE get_many_keys_36 0 2\r\n36\r\nVALUE get_many_keys_39 0 2\r\n39\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "get_no_key",
        req: b"get\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "get_no_key_trailing_space",
        req: b"get \r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "get_key_250",
        req: build![Lit(b"get "), Rep(b"k", 250), Lit(b"\r\n")],
        reply: b"END\r\n",
        closes: false,
    },
    Case {
        name: "get_key_251",
        req: build![Lit(b"get "), Rep(b"k", 251), Lit(b"\r\n")],
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "get_multi_key_251_setup",
        req: b"set get_multi_key_251 0 0 1\r\nx\r\n",
        reply: b"STORED\r\n",
        closes: false,
    },
    Case {
        name: "get_multi_key_251_in_middle",
        req: build![Lit(b"get get_multi_key_251 "), Rep(b"k", 251), Lit(b" get_multi_key_251\r\n")],
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "get_multi_key_251_last",
        req: build![Lit(b"get get_multi_key_251 get_multi_key_251_missing "), Rep(b"k", 251), Lit(b"\r\n")],
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "get_multi_key_251_after_check",
        req: b"get get_multi_key_251\r\n",
        reply: b"VALUE get_multi_key_251 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "get_multi_key_251_after_many",
        req: build![Lit(b"get get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 get_multi_key_251 "), Rep(b"k", 251), Lit(b" get_multi_key_251\r\n")],
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "gat_multi_key_251",
        req: build![Lit(b"gat 0 get_multi_key_251 "), Rep(b"k", 251), Lit(b"\r\n")],
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "get_noreply_is_a_key",
        req: b"set get_noreply_is_a_key 0 0 1\r\nx\r\nget get_noreply_is_a_key noreply\r\n",
        reply: b"STORED\r\nVALUE get_noreply_is_a_key 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "get_uppercase",
        req: b"GET get_uppercase\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "get_cr_in_key",
        req: b"set get_cr_in_key 0 0 1\r\nx\r\nget get_cr_in_key\r\r\n",
        reply: b"STORED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "get_tab_separator",
        req: b"get\tget_tab_separator\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "gets_miss",
        req: b"gets gets_miss\r\n",
        reply: b"END\r\n",
        closes: false,
    },
    Case {
        name: "gets_multi_miss",
        req: b"gets gets_multi_miss_a gets_multi_miss_b\r\n",
        reply: b"END\r\n",
        closes: false,
    },
    Case {
        name: "gets_no_key",
        req: b"gets\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "gets_hit",
        req: b"set gets_hit 5 0 3\r\nabc\r\ngets gets_hit\r\n",
        reply: b"STORED\r\nVALUE gets_hit 5 3 81\r\nabc\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "gets_multi_mixed",
        req: b"set gets_multi_mixed_a 0 0 1\r\na\r\nset gets_multi_mixed_b 0 0 1\r\nb\r\ngets gets_multi_mixed_a gets_multi_mixed_x gets_multi_mixed_b\r\n",
        reply: b"STORED\r\nSTORED\r\nVALUE gets_multi_mixed_a 0 1 82\r\na\r\nVALUE gets_multi_mixed_b 0 1 83\r\nb\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "gets_key_251",
        req: build![Lit(b"gets "), Rep(b"k", 251), Lit(b"\r\n")],
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "gat_hit",
        req: b"set gat_hit 3 0 2\r\nhi\r\ngat 100 gat_hit\r\nget gat_hit\r\n",
        reply: b"STORED\r\nVALUE gat_hit 3 2\r\nhi\r\nEND\r\nVALUE gat_hit 3 2\r\nhi\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "gat_miss",
        req: b"gat 100 gat_miss\r\n",
        reply: b"END\r\n",
        closes: false,
    },
    Case {
        name: "gat_multi_mixed",
        req: b"set gat_multi_mixed_a 0 0 1\r\na\r\nset gat_multi_mixed_b 0 0 1\r\nb\r\ngat 0 gat_multi_mixed_a gat_multi_mixed_x gat_multi_mixed_b\r\n",
        reply: b"STORED\r\nSTORED\r\nVALUE gat_multi_mixed_a 0 1\r\na\r\nVALUE gat_multi_mixed_b 0 1\r\nb\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "gat_negative_expires",
        req: b"set gat_negative_expires 0 0 1\r\nx\r\ngat -1 gat_negative_expires\r\nget gat_negative_expires\r\n",
        reply: b"STORED\r\nVALUE gat_negative_expires 0 1\r\nx\r\nEND\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "gat_bad_exptime",
        req: b"set gat_bad_exptime 0 0 1\r\nx\r\ngat abc gat_bad_exptime\r\nget gat_bad_exptime\r\n",
        reply: b"STORED\r\nCLIENT_ERROR invalid exptime argument\r\nVALUE gat_bad_exptime 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "gat_no_key",
        req: b"gat 10\r\n",
        reply: b"END\r\n",
        closes: false,
    },
    Case {
        name: "gat_no_args",
        req: b"gat\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "gat_key_251",
        req: build![Lit(b"gat 10 "), Rep(b"k", 251), Lit(b"\r\n")],
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "gats_hit",
        req: b"set gats_hit 0 0 1\r\nx\r\ngats 100 gats_hit\r\n",
        reply: b"STORED\r\nVALUE gats_hit 0 1 89\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "gats_miss",
        req: b"gats 100 gats_miss\r\n",
        reply: b"END\r\n",
        closes: false,
    },
    Case {
        name: "gats_no_key",
        req: b"gats 100\r\n",
        reply: b"END\r\n",
        closes: false,
    },
    Case {
        name: "touch_hit",
        req: b"set touch_hit 0 0 1\r\nx\r\ntouch touch_hit 100\r\nget touch_hit\r\n",
        reply: b"STORED\r\nTOUCHED\r\nVALUE touch_hit 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "touch_miss",
        req: b"touch touch_miss 100\r\n",
        reply: b"NOT_FOUND\r\n",
        closes: false,
    },
    Case {
        name: "touch_noreply",
        req: b"set touch_noreply 0 0 1\r\nx\r\ntouch touch_noreply 100 noreply\r\ntouch touch_noreply_missing 100 noreply\r\nget touch_noreply\r\n",
        reply: b"STORED\r\nVALUE touch_noreply 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "touch_negative_expires",
        req: b"set touch_negative_expires 0 0 1\r\nx\r\ntouch touch_negative_expires -1\r\nget touch_negative_expires\r\n",
        reply: b"STORED\r\nTOUCHED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "touch_bad_exptime",
        req: b"set touch_bad_exptime 0 0 1\r\nx\r\ntouch touch_bad_exptime abc\r\nget touch_bad_exptime\r\n",
        reply: b"STORED\r\nCLIENT_ERROR invalid exptime argument\r\nVALUE touch_bad_exptime 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "touch_too_few_tokens",
        req: b"touch touch_too_few_tokens\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "touch_too_many_tokens",
        req: b"touch touch_too_many_tokens 1 noreply extra\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "touch_key_251",
        req: build![Lit(b"touch "), Rep(b"k", 251), Lit(b" 10\r\n")],
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "delete_hit",
        req: b"set delete_hit 0 0 1\r\nx\r\ndelete delete_hit\r\nget delete_hit\r\n",
        reply: b"STORED\r\nDELETED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "delete_miss",
        req: b"delete delete_miss\r\n",
        reply: b"NOT_FOUND\r\n",
        closes: false,
    },
    Case {
        name: "delete_twice",
        req: b"set delete_twice 0 0 1\r\nx\r\ndelete delete_twice\r\ndelete delete_twice\r\n",
        reply: b"STORED\r\nDELETED\r\nNOT_FOUND\r\n",
        closes: false,
    },
    Case {
        name: "delete_noreply",
        req: b"set delete_noreply 0 0 1\r\nx\r\ndelete delete_noreply noreply\r\ndelete delete_noreply_missing noreply\r\nget delete_noreply\r\n",
        reply: b"STORED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "delete_legacy_zero",
        req: b"set delete_legacy_zero 0 0 1\r\nx\r\ndelete delete_legacy_zero 0\r\nget delete_legacy_zero\r\n",
        reply: b"STORED\r\nDELETED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "delete_legacy_zero_noreply",
        req: b"set delete_legacy_zero_noreply 0 0 1\r\nx\r\ndelete delete_legacy_zero_noreply 0 noreply\r\nget delete_legacy_zero_noreply\r\n",
        reply: b"STORED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "delete_legacy_nonzero",
        req: b"set delete_legacy_nonzero 0 0 1\r\nx\r\ndelete delete_legacy_nonzero 1\r\nget delete_legacy_nonzero\r\n",
        reply: b"STORED\r\nCLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\nVALUE delete_legacy_nonzero 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "delete_legacy_nonzero_noreply",
        req: b"set delete_legacy_nonzero_noreply 0 0 1\r\nx\r\ndelete delete_legacy_nonzero_noreply 1 noreply\r\nget delete_legacy_nonzero_noreply\r\n",
        reply: b"STORED\r\nVALUE delete_legacy_nonzero_noreply 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "delete_too_many_tokens",
        req: b"delete delete_too_many_tokens 0 noreply extra\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "delete_no_key",
        req: b"delete\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "delete_key_251",
        req: build![Lit(b"delete "), Rep(b"k", 251), Lit(b"\r\n")],
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "incr_hit",
        req: b"set incr_hit 5 0 2\r\n10\r\nincr incr_hit 5\r\nget incr_hit\r\n",
        reply: b"STORED\r\n15\r\nVALUE incr_hit 5 2\r\n15\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "incr_miss",
        req: b"incr incr_miss 1\r\n",
        reply: b"NOT_FOUND\r\n",
        closes: false,
    },
    Case {
        name: "decr_hit",
        req: b"set decr_hit 0 0 2\r\n10\r\ndecr decr_hit 3\r\nget decr_hit\r\n",
        reply: b"STORED\r\n7\r\nVALUE decr_hit 0 2\r\n7 \r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "decr_miss",
        req: b"decr decr_miss 1\r\n",
        reply: b"NOT_FOUND\r\n",
        closes: false,
    },
    Case {
        name: "incr_wrap",
        req: b"set incr_wrap 0 0 20\r\n18446744073709551615\r\nincr incr_wrap 2\r\nget incr_wrap\r\n",
        reply: b"STORED\r\n1\r\nVALUE incr_wrap 0 20\r\n1                   \r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "incr_big_delta_wrap",
        req: b"set incr_big_delta_wrap 0 0 1\r\n5\r\nincr incr_big_delta_wrap 18446744073709551615\r\n",
        reply: b"STORED\r\n4\r\n",
        closes: false,
    },
    Case {
        name: "decr_floor_zero",
        req: b"set decr_floor_zero 0 0 1\r\n5\r\ndecr decr_floor_zero 10\r\nget decr_floor_zero\r\n",
        reply: b"STORED\r\n0\r\nVALUE decr_floor_zero 0 1\r\n0\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "incr_by_zero",
        req: b"set incr_by_zero 0 0 1\r\n5\r\nincr incr_by_zero 0\r\n",
        reply: b"STORED\r\n5\r\n",
        closes: false,
    },
    Case {
        name: "decr_by_max",
        req: b"set decr_by_max 0 0 1\r\n5\r\ndecr decr_by_max 18446744073709551615\r\n",
        reply: b"STORED\r\n0\r\n",
        closes: false,
    },
    Case {
        name: "decr_zero_stays",
        req: b"set decr_zero_stays 0 0 1\r\n0\r\ndecr decr_zero_stays 1\r\n",
        reply: b"STORED\r\n0\r\n",
        closes: false,
    },
    Case {
        name: "incr_non_numeric",
        req: b"set incr_non_numeric 0 0 3\r\nabc\r\nincr incr_non_numeric 1\r\n",
        reply: b"STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
        closes: false,
    },
    Case {
        name: "decr_non_numeric",
        req: b"set decr_non_numeric 0 0 3\r\n1a2\r\ndecr decr_non_numeric 1\r\n",
        reply: b"STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
        closes: false,
    },
    Case {
        name: "incr_value_negative",
        req: b"set incr_value_negative 0 0 2\r\n-5\r\nincr incr_value_negative 1\r\n",
        reply: b"STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
        closes: false,
    },
    Case {
        name: "incr_value_too_big",
        req: b"set incr_value_too_big 0 0 20\r\n18446744073709551616\r\nincr incr_value_too_big 1\r\n",
        reply: b"STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
        closes: false,
    },
    Case {
        name: "incr_empty_value",
        req: b"set incr_empty_value 0 0 0\r\n\r\nincr incr_empty_value 1\r\n",
        reply: b"STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
        closes: false,
    },
    Case {
        name: "incr_bad_delta",
        req: b"set incr_bad_delta 0 0 1\r\n1\r\nincr incr_bad_delta abc\r\n",
        reply: b"STORED\r\nCLIENT_ERROR invalid numeric delta argument\r\n",
        closes: false,
    },
    Case {
        name: "incr_negative_delta",
        req: b"set incr_negative_delta 0 0 1\r\n1\r\nincr incr_negative_delta -1\r\n",
        reply: b"STORED\r\nCLIENT_ERROR invalid numeric delta argument\r\n",
        closes: false,
    },
    Case {
        name: "incr_delta_overflow",
        req: b"set incr_delta_overflow 0 0 1\r\n1\r\nincr incr_delta_overflow 18446744073709551616\r\n",
        reply: b"STORED\r\nCLIENT_ERROR invalid numeric delta argument\r\n",
        closes: false,
    },
    Case {
        name: "incr_bad_delta_on_miss",
        req: b"incr incr_bad_delta_on_miss abc\r\n",
        reply: b"CLIENT_ERROR invalid numeric delta argument\r\n",
        closes: false,
    },
    Case {
        name: "incr_length_growth",
        req: b"set incr_length_growth 0 0 2\r\n99\r\nincr incr_length_growth 1\r\nget incr_length_growth\r\n",
        reply: b"STORED\r\n100\r\nVALUE incr_length_growth 0 3\r\n100\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "decr_length_shrink",
        req: b"set decr_length_shrink 0 0 3\r\n100\r\ndecr decr_length_shrink 1\r\nget decr_length_shrink\r\n",
        reply: b"STORED\r\n99\r\nVALUE decr_length_shrink 0 3\r\n99 \r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "decr_to_zero_padding",
        req: b"set decr_to_zero_padding 0 0 5\r\n12345\r\ndecr decr_to_zero_padding 12345\r\nget decr_to_zero_padding\r\nincr decr_to_zero_padding 7\r\n",
        reply: b"STORED\r\n0\r\nVALUE decr_to_zero_padding 0 5\r\n0    \r\nEND\r\n7\r\n",
        closes: false,
    },
    Case {
        name: "incr_leading_zeros",
        req: b"set incr_leading_zeros 0 0 3\r\n007\r\nincr incr_leading_zeros 1\r\nget incr_leading_zeros\r\n",
        reply: b"STORED\r\n8\r\nVALUE incr_leading_zeros 0 3\r\n8  \r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "incr_leading_spaces",
        req: b"set incr_leading_spaces 0 0 3\r\n  5\r\nincr incr_leading_spaces 1\r\nget incr_leading_spaces\r\n",
        reply: b"STORED\r\n6\r\nVALUE incr_leading_spaces 0 3\r\n6  \r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "incr_trailing_spaces",
        req: b"set incr_trailing_spaces 0 0 3\r\n5  \r\nincr incr_trailing_spaces 1\r\n",
        reply: b"STORED\r\n6\r\n",
        closes: false,
    },
    Case {
        name: "incr_trailing_garbage",
        req: b"set incr_trailing_garbage 0 0 2\r\n5x\r\nincr incr_trailing_garbage 1\r\n",
        reply: b"STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
        closes: false,
    },
    Case {
        name: "incr_keeps_flags",
        req: b"set incr_keeps_flags 42 0 1\r\n1\r\nincr incr_keeps_flags 1\r\nget incr_keeps_flags\r\n",
        reply: b"STORED\r\n2\r\nVALUE incr_keeps_flags 42 1\r\n2\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "incr_noreply",
        req: b"set incr_noreply 0 0 1\r\n1\r\nincr incr_noreply 5 noreply\r\nincr incr_noreply_missing 5 noreply\r\nget incr_noreply\r\n",
        reply: b"STORED\r\nVALUE incr_noreply 0 1\r\n6\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "decr_noreply",
        req: b"set decr_noreply 0 0 1\r\n9\r\ndecr decr_noreply 5 noreply\r\nget decr_noreply\r\n",
        reply: b"STORED\r\nVALUE decr_noreply 0 1\r\n4\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "incr_noreply_non_numeric",
        req: b"set incr_noreply_non_numeric 0 0 1\r\nx\r\nincr incr_noreply_non_numeric 1 noreply\r\n",
        reply: b"STORED\r\n",
        closes: false,
    },
    Case {
        name: "incr_too_few_tokens",
        req: b"incr incr_too_few_tokens\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "incr_too_many_tokens",
        req: b"incr incr_too_many_tokens 1 noreply extra\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "incr_key_251",
        req: build![Lit(b"incr "), Rep(b"k", 251), Lit(b" 1\r\n")],
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "decr_uppercase",
        req: b"DECR decr_uppercase 1\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "version",
        req: b"version\r\n",
        reply: b"VERSION 1.6.18\r\n",
        closes: false,
    },
    Case {
        name: "version_extra_token",
        req: b"version now\r\n",
        reply: b"VERSION 1.6.18\r\n",
        closes: false,
    },
    Case {
        name: "version_noreply",
        req: b"version noreply\r\n",
        reply: b"VERSION 1.6.18\r\n",
        closes: false,
    },
    Case {
        name: "verbosity_one",
        req: b"verbosity 1\r\n",
        reply: b"OK\r\n",
        closes: false,
    },
    Case {
        name: "verbosity_zero",
        req: b"verbosity 0\r\n",
        reply: b"OK\r\n",
        closes: false,
    },
    Case {
        name: "verbosity_noreply",
        req: b"verbosity 1 noreply\r\nverbosity 0 noreply\r\n",
        reply: b"",
        closes: false,
    },
    Case {
        name: "verbosity_no_arg",
        req: b"verbosity\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "verbosity_bad_arg",
        req: b"verbosity abc\r\n",
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "verbosity_too_many_tokens",
        req: b"verbosity 1 noreply extra\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "verbosity_two_args",
        req: b"verbosity 0 0\r\n",
        reply: b"OK\r\n",
        closes: false,
    },
    Case {
        name: "verbosity_negative",
        req: b"verbosity -1\r\n",
        reply: b"CLIENT_ERROR bad command line format\r\n",
        closes: false,
    },
    Case {
        name: "stats",
        req: b"stats\r\n",
        reply: b"STAT pid 19792\r\nSTAT uptime 2\r\nSTAT time 1795310282\r\nSTAT version 1.6.18\r\nSTAT libevent 2.1.12-stable\r\nSTAT pointer_size 64\r\nSTAT rusage_user 0.000000\r\nSTAT rusage_system 0.024638\r\nSTAT max_connections 1024\r\nSTAT curr_connections 1\r\nSTAT total_connections 183\r\nSTAT rejected_connections 0\r\nSTAT connection_structures 3\r\nSTAT response_obj_oom 0\r\nSTAT response_obj_count 1\r\nSTAT response_obj_bytes 16384\r\nSTAT read_buf_count 6\r\nSTAT read_buf_bytes 98304\r\nSTAT read_buf_bytes_free 65536\r\nSTAT read_buf_oom 0\r\nSTAT reserved_fds 5\r\nSTAT cmd_get 191\r\nSTAT cmd_set 148\r\nSTAT cmd_flush 0\r\nSTAT cmd_touch 14\r\nSTAT cmd_meta 0\r\nSTAT get_hits 118\r\nSTAT get_misses 73\r\nSTAT get_expired 6\r\nSTAT get_flushed 0\r\nSTAT delete_misses 3\r\nSTAT delete_hits 8\r\nSTAT incr_misses 2\r\nSTAT incr_hits 12\r\nSTAT decr_misses 1\r\nSTAT decr_hits 7\r\nSTAT cas_misses 3\r\nSTAT cas_hits 0\r\nSTAT cas_badval 3\r\nSTAT touch_hits 9\r\nSTAT touch_misses 5\r\nSTAT store_too_large 0\r\nSTAT store_no_memory 0\r\nSTAT auth_cmds 0\r\nSTAT auth_errors 0\r\nSTAT bytes_read 16598\r\nSTAT bytes_written 7885\r\nSTAT limit_maxbytes 67108864\r\nSTAT accepting_conns 1\r\nSTAT listen_disabled_num 0\r\nSTAT time_in_listen_disabled_us 0\r\nSTAT threads 1\r\nSTAT conn_yields 0\r\nSTAT hash_power_level 16\r\nSTAT hash_bytes 524288\r\nSTAT hash_is_expanding 0\r\nSTAT slab_reassign_rescues 0\r\nSTAT slab_reassign_chunk_rescues 0\r\nSTAT slab_reassign_evictions_nomem 0\r\nSTAT slab_reassign_inline_reclaim 0\r\nSTAT slab_reassign_busy_items 0\r\nSTAT slab_reassign_busy_deletes 0\r\nSTAT slab_reassign_running 0\r\nSTAT slabs_moved 0\r\nSTAT lru_crawler_running 0\r\nSTAT lru_crawler_starts 1\r\nSTAT lru_maintainer_juggles 85\r\nSTAT malloc_fails 0\r\nSTAT log_worker_dropped 0\r\nSTAT log_worker_written 0\r\nSTAT log_watcher_skipped 0\r\nSTAT log_watcher_sent 0\r\nSTAT log_watchers 0\r\nSTAT unexpected_napi_ids 0\r\nSTAT round_robin_fallback 0\r\nSTAT bytes 7894\r\nSTAT curr_items 102\r\nSTAT total_items 127\r\nSTAT slab_global_page_pool 0\r\nSTAT expired_unfetched 0\r\nSTAT evicted_unfetched 0\r\nSTAT evicted_active 0\r\nSTAT evictions 0\r\nSTAT reclaimed 0\r\nSTAT crawler_reclaimed 0\r\nSTAT crawler_items_checked 0\r\nSTAT lrutail_reflocked 5\r\nSTAT moves_to_cold 78\r\nSTAT moves_to_warm 5\r\nSTAT moves_within_lru 0\r\nSTAT direct_reclaims 0\r\nSTAT lru_bumps_dropped 0\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "stats_reset",
        req: b"stats reset\r\n",
        reply: b"RESET\r\n",
        closes: false,
    },
    Case {
        name: "stats_unknown_group",
        req: b"stats bogus\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "unknown_command",
        req: b"bogus\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "unknown_command_with_args",
        req: b"bogus a b c\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "empty_line",
        req: b"\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "empty_line_lf",
        req: b"\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "spaces_only_line",
        req: b"     \r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "lone_cr_line",
        req: b"\r\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "quit",
        req: b"quit\r\n",
        reply: b"",
        closes: true,
    },
    Case {
        name: "quit_after_commands",
        req: b"set quit_after_commands 0 0 1\r\nx\r\nget quit_after_commands\r\nquit\r\nget quit_after_commands\r\n",
        reply: b"STORED\r\nVALUE quit_after_commands 0 1\r\nx\r\nEND\r\n",
        closes: true,
    },
    Case {
        name: "quit_with_argument",
        req: b"quit now\r\n",
        reply: b"",
        closes: true,
    },
    Case {
        name: "quit_uppercase",
        req: b"QUIT\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "quit_noreply",
        req: b"quit noreply\r\n",
        reply: b"",
        closes: true,
    },
    Case {
        name: "quit_then_more_commands",
        req: b"quit\r\nget quit_then_more_commands\r\nversion\r\n",
        reply: b"",
        closes: true,
    },
    Case {
        name: "long_line_no_newline_closes",
        req: build![Lit(b"set "), Rep(b"a", 70000)],
        reply: b"",
        closes: true,
    },
    Case {
        name: "long_line_get_no_newline_ok",
        req: build![Lit(b"set long_line_get_no_newline_ok 0 0 1\r\nx\r\nget "), Rep(b"long_line_get_missing ", 1000), Lit(b"long_line_get_no_newline_ok\r\n")],
        reply: b"STORED\r\nVALUE long_line_get_no_newline_ok 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "long_line_gets_no_newline_ok",
        req: build![Lit(b"gets "), Rep(b"long_line_gets_missing ", 1000), Lit(b"long_line_gets_missing\r\n")],
        reply: b"END\r\n",
        closes: false,
    },
    Case {
        name: "long_line_with_newline_key",
        req: build![Lit(b"set "), Rep(b"k", 3000), Lit(b" 0 0 1\r\nx\r\n")],
        reply: b"CLIENT_ERROR bad command line format\r\nERROR\r\n",
        closes: false,
    },
    Case {
        name: "long_line_with_newline_unknown",
        req: build![Rep(b"z", 3000), Lit(b"\r\n")],
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "long_line_many_spaces",
        req: build![Lit(b"get"), Rep(b" ", 3000), Lit(b"long_line_many_spaces\r\n")],
        reply: b"END\r\n",
        closes: false,
    },
];

/// Run against a server whose item size limit is 1 KiB (see [`SMALL_ITEM_ARGS`]).
pub const SMALL_ITEM_CASES: &[Case] = &[
    Case {
        name: "small_value_fits",
        req: build![Lit(b"set small_value_fits 0 0 500\r\n"), Rep(b"v", 500), Lit(b"\r\nget small_value_fits\r\n")],
        reply: build![Lit(b"STORED\r\nVALUE small_value_fits 0 500\r\n"), Rep(b"v", 500), Lit(b"\r\nEND\r\n")],
        closes: false,
    },
    Case {
        name: "small_value_too_large",
        req: build![Lit(b"set small_value_too_large 0 0 2000\r\n"), Rep(b"v", 2000), Lit(b"\r\nget small_value_too_large\r\n")],
        reply: b"SERVER_ERROR object too large for cache\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "small_value_too_large_swallows_commands",
        req: build![Lit(b"set small_value_too_large_swallows_commands 0 0 2000\r\n"), Rep(b"get small_value_too_large_swallows_commands\r\n", 40), Rep(b"x", 200), Lit(b"\r\nget small_value_too_large_swallows_commands\r\n")],
        reply: b"SERVER_ERROR object too large for cache\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "small_value_too_large_deletes_old",
        req: build![Lit(b"set small_value_too_large_deletes_old 0 0 1\r\nx\r\nset small_value_too_large_deletes_old 0 0 2000\r\n"), Rep(b"v", 2000), Lit(b"\r\nget small_value_too_large_deletes_old\r\n")],
        reply: b"STORED\r\nSERVER_ERROR object too large for cache\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "small_value_too_large_noreply",
        req: build![Lit(b"set small_value_too_large_noreply 0 0 1\r\nx\r\nset small_value_too_large_noreply 0 0 2000 noreply\r\n"), Rep(b"v", 2000), Lit(b"\r\nget small_value_too_large_noreply\r\n")],
        reply: b"STORED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "small_add_too_large_keeps_old",
        req: build![Lit(b"set small_add_too_large_keeps_old 0 0 1\r\nx\r\nadd small_add_too_large_keeps_old 0 0 2000\r\n"), Rep(b"v", 2000), Lit(b"\r\nget small_add_too_large_keeps_old\r\n")],
        reply: b"STORED\r\nSERVER_ERROR object too large for cache\r\nVALUE small_add_too_large_keeps_old 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "small_replace_too_large_keeps_old",
        req: build![Lit(b"set small_replace_too_large_keeps_old 0 0 1\r\nx\r\nreplace small_replace_too_large_keeps_old 0 0 2000\r\n"), Rep(b"v", 2000), Lit(b"\r\nget small_replace_too_large_keeps_old\r\n")],
        reply: b"STORED\r\nSERVER_ERROR object too large for cache\r\nVALUE small_replace_too_large_keeps_old 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "small_cas_too_large_keeps_old",
        req: build![Lit(b"set small_cas_too_large_keeps_old 0 0 1\r\nx\r\ncas small_cas_too_large_keeps_old 0 0 2000 1\r\n"), Rep(b"v", 2000), Lit(b"\r\nget small_cas_too_large_keeps_old\r\n")],
        reply: b"STORED\r\nSERVER_ERROR object too large for cache\r\nVALUE small_cas_too_large_keeps_old 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "small_append_too_large_keeps_old",
        req: build![Lit(b"set small_append_too_large_keeps_old 0 0 1\r\nx\r\nappend small_append_too_large_keeps_old 0 0 2000\r\n"), Rep(b"v", 2000), Lit(b"\r\nget small_append_too_large_keeps_old\r\n")],
        reply: b"STORED\r\nSERVER_ERROR object too large for cache\r\nVALUE small_append_too_large_keeps_old 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "small_append_grows_past_limit",
        req: build![Lit(b"set small_append_grows_past_limit 0 0 600\r\n"), Rep(b"a", 600), Lit(b"\r\nappend small_append_grows_past_limit 0 0 600\r\n"), Rep(b"b", 600), Lit(b"\r\nget small_append_grows_past_limit\r\n")],
        reply: build![Lit(b"STORED\r\nNOT_STORED\r\nVALUE small_append_grows_past_limit 0 600\r\n"), Rep(b"a", 600), Lit(b"\r\nEND\r\n")],
        closes: false,
    },
    Case {
        name: "small_prepend_grows_past_limit",
        req: build![Lit(b"set small_prepend_grows_past_limit 0 0 600\r\n"), Rep(b"a", 600), Lit(b"\r\nprepend small_prepend_grows_past_limit 0 0 600\r\n"), Rep(b"b", 600), Lit(b"\r\n")],
        reply: b"STORED\r\nNOT_STORED\r\n",
        closes: false,
    },
    Case {
        name: "small_value_exactly_limit",
        req: build![Lit(b"set small_value_exactly_limit 0 0 1024\r\n"), Rep(b"v", 1024), Lit(b"\r\nget small_value_exactly_limit\r\n")],
        reply: b"SERVER_ERROR object too large for cache\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "small_too_large_bad_chunk",
        req: build![Lit(b"set small_too_large_bad_chunk 0 0 2000\r\n"), Rep(b"v", 2001), Lit(b"\r\nget small_too_large_bad_chunk\r\n")],
        reply: b"SERVER_ERROR object too large for cache\r\nERROR\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "small_boundary_fits",
        req: build![Lit(b"set small_boundary 0 0 951\r\n"), Rep(b"v", 951), Lit(b"\r\ndelete small_boundary\r\n")],
        reply: b"STORED\r\nDELETED\r\n",
        closes: false,
    },
    Case {
        name: "small_boundary_too_large",
        req: build![Lit(b"set small_boundary 0 0 952\r\n"), Rep(b"v", 952), Lit(b"\r\nget small_boundary\r\n")],
        reply: b"SERVER_ERROR object too large for cache\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "small_length_huge_then_data",
        req: build![Lit(b"set small_length_huge_then_data 0 0 5000\r\n"), Rep(b"z", 5000), Lit(b"\r\nget small_length_huge_then_data\r\n")],
        reply: b"SERVER_ERROR object too large for cache\r\nEND\r\n",
        closes: false,
    },
];

/// `flush_all` wipes everything: run these after all other cases, serially.
pub const FLUSH_CASES: &[Case] = &[
    Case {
        name: "flush_all_basic",
        req: b"set flush_all_basic 0 0 1\r\nx\r\nflush_all\r\nget flush_all_basic\r\n",
        reply: b"STORED\r\nOK\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "flush_all_zero",
        req: b"set flush_all_zero 0 0 1\r\nx\r\nflush_all 0\r\nget flush_all_zero\r\n",
        reply: b"STORED\r\nOK\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "flush_all_noreply",
        req: b"set flush_all_noreply 0 0 1\r\nx\r\nflush_all noreply\r\nget flush_all_noreply\r\n",
        reply: b"STORED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "flush_all_zero_noreply",
        req: b"set flush_all_zero_noreply 0 0 1\r\nx\r\nflush_all 0 noreply\r\nget flush_all_zero_noreply\r\n",
        reply: b"STORED\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "flush_all_bad_delay",
        req: b"set flush_all_bad_delay 0 0 1\r\nx\r\nflush_all abc\r\nget flush_all_bad_delay\r\n",
        reply: b"STORED\r\nCLIENT_ERROR invalid exptime argument\r\nVALUE flush_all_bad_delay 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "flush_all_too_many_tokens",
        req: b"flush_all 0 noreply extra\r\n",
        reply: b"ERROR\r\n",
        closes: false,
    },
    Case {
        name: "flush_all_negative",
        req: b"set flush_all_negative 0 0 1\r\nx\r\nflush_all -1\r\nget flush_all_negative\r\n",
        reply: b"STORED\r\nOK\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "flush_all_two_args",
        req: b"set flush_all_two_args 0 0 1\r\nx\r\nflush_all 0 0\r\nget flush_all_two_args\r\n",
        reply: b"STORED\r\nOK\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "flush_all_uppercase",
        req: b"set flush_all_uppercase 0 0 1\r\nx\r\nFLUSH_ALL\r\nget flush_all_uppercase\r\n",
        reply: b"STORED\r\nERROR\r\nVALUE flush_all_uppercase 0 1\r\nx\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "flush_all_then_add",
        req: b"set flush_all_then_add 0 0 1\r\nx\r\nflush_all\r\nadd flush_all_then_add 0 0 1\r\ny\r\nget flush_all_then_add\r\n",
        reply: b"STORED\r\nOK\r\nSTORED\r\nVALUE flush_all_then_add 0 1\r\ny\r\nEND\r\n",
        closes: false,
    },
    Case {
        name: "flush_all_then_set",
        req: b"flush_all\r\nset flush_all_then_set 0 0 1\r\ny\r\nget flush_all_then_set\r\n",
        reply: b"OK\r\nSTORED\r\nVALUE flush_all_then_set 0 1\r\ny\r\nEND\r\n",
        closes: false,
    },
];

/// Cases whose reply legitimately differs from memcached's; the tests check them
/// with a weaker but real assertion (see `common::check_intended`). This is the
/// only place listing intended differences of the plaintext text protocol; TLS's
/// (`refresh_certs`' error line without OpenSSL's error code, `ssl_verify_mode=3` served
/// as 2, no alert for a garbage handshake) are checked in tests/tls.rs and listed in
/// README, "Moving from memcached".
pub const INTENDED_DIFFERENCES: &[(&str, &str)] = &[
    (
        "stats",
        "stats values (pid, uptime, counters) and the set of stats differ",
    ),
    (
        "gets_hit",
        "cas unique values depend on the server's history",
    ),
    (
        "gets_multi_mixed",
        "cas unique values depend on the server's history",
    ),
    (
        "gats_hit",
        "cas unique values depend on the server's history",
    ),
];

/// Where a `watch` stream differs from memcached 1.6.18's on purpose (`tests/watch.rs`
/// compares the rest: replies to `watch`, and every line with its ts, gid, socket and
/// port masked).
pub const WATCH_DIFFERENCES: &[(&str, &str)] = &[
    (
        "gid",
        "a line's number in its watcher's stream (1, 2, 3…, lines skipped counted), not one \
         global event id: shards share no counter to draw it from; two watchers number the \
         same event differently",
    ),
    (
        "order",
        "a shard's lines come a batch at a time (about every millisecond while lines come): \
         along a stream they are in order per shard; ts orders the shards' lines",
    ),
    ("conn_close", "reason=normal whatever closed the connection"),
    (
        "too_large",
        "memcached 1.6.18 prints the socket as clsid and an uninitialised cfd; here clsid is \
         the socket (mod 256) and cfd the socket",
    ),
    (
        "binary too_large",
        "a binary store over -I logs item_store status=too_large as a text one does; \
         memcached 1.6.18 crashes logging it (it reads the class of the item it failed to \
         allocate)",
    ),
    (
        "vivify",
        "mg/ma with N log one item_get, no item_store for the item they create",
    ),
    (
        "silent streams",
        "sysevents, rawcmds and proxyreqs/proxyevents/proxyuser are accepted and make no \
         lines (no LRU crawler or slab mover, no proxy; 1.6.18 logs no rawcmds either)",
    ),
];

/// Whether `name` is listed in [`INTENDED_DIFFERENCES`].
pub fn intended_difference(name: &str) -> Option<&'static str> {
    INTENDED_DIFFERENCES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, why)| *why)
}

/// A stateful scenario on ONE connection: each step is sent (with the sentinel)
/// after the previous reply arrived; `$CAS` is replaced by the cas unique of the
/// last `VALUE` line that carried one. In the transcript, cas uniques are replaced
/// by labels `C1`, `C2`, ... in order of first appearance (see
/// `common::run_cas_scenario`), so equal/different cas values are still checked.
pub const CAS_SCENARIO: &[&[u8]] = &[
    b"set cas_scenario 0 0 1\r\na\r\n",
    b"gets cas_scenario\r\n",
    b"cas cas_scenario 0 0 1 $CAS\r\nb\r\n",
    b"cas cas_scenario 0 0 1 $CAS\r\nc\r\n",
    b"gets cas_scenario cas_scenario_missing cas_scenario\r\n",
    b"touch cas_scenario 100\r\n",
    b"gets cas_scenario\r\n",
    b"gat 100 cas_scenario\r\n",
    b"gats 100 cas_scenario\r\n",
    b"append cas_scenario 0 0 1\r\nx\r\n",
    b"gets cas_scenario\r\n",
    b"prepend cas_scenario 0 0 1\r\ny\r\n",
    b"gets cas_scenario\r\n",
    b"set cas_scenario 3 0 1\r\n5\r\n",
    b"gets cas_scenario\r\n",
    b"incr cas_scenario 1\r\n",
    b"gets cas_scenario\r\n",
    b"decr cas_scenario 1\r\n",
    b"gets cas_scenario\r\n",
    b"cas cas_scenario 7 0 1 $CAS noreply\r\nz\r\n",
    b"gets cas_scenario\r\n",
    b"cas cas_scenario 0 0 2 $CAS\r\nzz\r\n",
    b"replace cas_scenario 0 0 1\r\nr\r\n",
    b"gets cas_scenario\r\n",
    b"set cas_scenario_other 0 0 1\r\no\r\n",
    b"gets cas_scenario_other cas_scenario\r\n",
    b"cas cas_scenario 0 0 1 $CAS\r\nq\r\n",
    b"get cas_scenario\r\n",
    b"delete cas_scenario\r\n",
    b"cas cas_scenario 0 0 1 $CAS\r\nw\r\n",
    b"add cas_scenario 0 0 1\r\nn\r\n",
    b"gets cas_scenario\r\n",
];

/// memcached 1.6.18's labelled transcript of [`CAS_SCENARIO`] (all replies concatenated).
pub const CAS_SCENARIO_REPLY: &[u8] = b"STORED\r\nVALUE cas_scenario 0 1 C1\r\na\r\nEND\r\nSTORED\r\nEXISTS\r\nVALUE cas_scenario 0 1 C2\r\nb\r\nVALUE cas_scenario 0 1 C2\r\nb\r\nEND\r\nTOUCHED\r\nVALUE cas_scenario 0 1 C2\r\nb\r\nEND\r\nVALUE cas_scenario 0 1\r\nb\r\nEND\r\nVALUE cas_scenario 0 1 C2\r\nb\r\nEND\r\nSTORED\r\nVALUE cas_scenario 0 2 C3\r\nbx\r\nEND\r\nSTORED\r\nVALUE cas_scenario 0 3 C4\r\nybx\r\nEND\r\nSTORED\r\nVALUE cas_scenario 3 1 C5\r\n5\r\nEND\r\n6\r\nVALUE cas_scenario 3 1 C6\r\n6\r\nEND\r\n5\r\nVALUE cas_scenario 3 1 C7\r\n5\r\nEND\r\nVALUE cas_scenario 7 1 C8\r\nz\r\nEND\r\nSTORED\r\nSTORED\r\nVALUE cas_scenario 0 1 C9\r\nr\r\nEND\r\nSTORED\r\nVALUE cas_scenario_other 0 1 C10\r\no\r\nVALUE cas_scenario 0 1 C9\r\nr\r\nEND\r\nSTORED\r\nVALUE cas_scenario 0 1\r\nq\r\nEND\r\nDELETED\r\nNOT_FOUND\r\nSTORED\r\nVALUE cas_scenario 0 1 C11\r\nn\r\nEND\r\n";
