//! Authentication: the password file (`-Y/--auth-file`, memcached's format, one
//! `user:password` a line), SASL PLAIN for the binary protocol (`-S`), and the text
//! protocol's `set <any> <flags> <exptime> <len>` carrying `user password`.
//!
//! The users are shared by every shard (an `RwLock` around an `Arc`: authentication is rare
//! and never on the data path) and re-read on SIGHUP ([`Auth::reload`]); a file that does
//! not parse leaves the previous users in place. A check compares the offered user and
//! password with every user of the file, each over a fixed width, so its time depends on
//! neither which user exists nor how much of a password is right. Passwords are never
//! logged, nor kept in error messages.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Longest line of the file, newline excluded (memcached reads 256-byte lines).
pub const MAX_LINE: usize = 255;
/// Most users a file may hold.
pub const MAX_USERS: usize = 1024;
/// Largest file read.
const MAX_FILE: u64 = 1 << 20;
/// The width every user and password is compared over: longer than any field of a line.
const WIDTH: usize = MAX_LINE + 1;

/// The users a server accepts, re-read from the file on SIGHUP.
pub struct Auth {
    path: PathBuf,
    users: RwLock<Arc<Vec<Entry>>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the passwords.
        f.debug_struct("Auth")
            .field("path", &self.path)
            .field("users", &self.users())
            .finish()
    }
}

/// One `user:password` line, each field zero-padded to [`WIDTH`] bytes so comparing it
/// always costs the same.
struct Entry {
    user: Field,
    pass: Field,
}

struct Field {
    bytes: [u8; WIDTH],
    len: usize,
}

impl Field {
    /// `None` when `s` is wider than any field of the file can be (it then matches nothing).
    fn new(s: &[u8]) -> Option<Field> {
        if s.len() >= WIDTH {
            return None;
        }
        let mut bytes = [0u8; WIDTH];
        bytes[..s.len()].copy_from_slice(s);
        Some(Field {
            bytes,
            len: s.len(),
        })
    }

    /// Equality in time independent of the contents: every byte of the width is compared,
    /// with no early exit on the length or on the first difference.
    fn ct_eq(&self, other: &Field) -> bool {
        let mut diff = (self.len ^ other.len) as u64;
        for i in 0..WIDTH {
            diff |= u64::from(self.bytes[i] ^ other.bytes[i]);
        }
        std::hint::black_box(diff) == 0
    }
}

/// A `(user, password)` pair of a file.
pub type UserPass<'a> = (&'a [u8], &'a [u8]);

/// The parts of a SASL PLAIN message: `(authzid, authcid, passwd)`.
pub type Plain<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// Why an authentication failed (logged, never with the password).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// The message is not `[authzid] NUL user NUL password` (PLAIN) or `user password` (text).
    Malformed,
    /// No such user, or the wrong password.
    Rejected,
}

/// What is wrong with a password file: the line (from 1) and why. Never holds a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub line: usize,
    pub why: &'static str,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.why)
        } else {
            write!(f, "line {}: {}", self.line, self.why)
        }
    }
}

/// Parses a password file: one `user:password` a line, `\n` or `\r\n` line ends, the
/// password being everything after the first `:`. Empty lines are skipped (memcached
/// refuses them); there are no comments (as in memcached: a `#` line without `:` is an
/// error, so a would-be comment is noticed). Returns `(user, password)` pairs.
///
/// Errors, each naming the line: no `:`; an empty user or password; a NUL or stray `\r`;
/// a line over [`MAX_LINE`] bytes (memcached cuts those silently); a user named twice;
/// more than [`MAX_USERS`] users (memcached keeps the first 8, silently).
pub fn parse_file(data: &[u8]) -> Result<Vec<UserPass<'_>>, FileError> {
    let mut users: Vec<UserPass<'_>> = Vec::new();
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        let err = |why| Err(FileError { line: n, why });
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line.len() > MAX_LINE {
            return err("longer than 255 bytes");
        }
        if line.iter().any(|&b| b == b'\r' || b == 0) {
            return err("contains a NUL or carriage return");
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return err("expected user:password");
        };
        let (user, pass) = (&line[..colon], &line[colon + 1..]);
        if user.is_empty() {
            return err("empty user name");
        }
        if pass.is_empty() {
            return err("empty password");
        }
        if users.iter().any(|(u, _)| *u == user) {
            return err("user named twice");
        }
        if users.len() == MAX_USERS {
            return err("more than 1024 users");
        }
        users.push((user, pass));
    }
    if users.is_empty() {
        return Err(FileError {
            line: 0,
            why: "no user:password line",
        });
    }
    Ok(users)
}

/// Splits a SASL PLAIN message (RFC 4616), `[authzid] NUL authcid NUL passwd`, into
/// `(authzid, authcid, passwd)`. Malformed: fewer or more than two NULs, or an empty
/// authcid.
pub fn split_plain(msg: &[u8]) -> Result<Plain<'_>, AuthError> {
    let mut parts = msg.splitn(3, |&b| b == 0);
    let (Some(authzid), Some(authcid), Some(passwd)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    if authcid.is_empty() || passwd.contains(&0) {
        return Err(AuthError::Malformed);
    }
    Ok((authzid, authcid, passwd))
}

/// Splits the text protocol's authentication value as memcached 1.6.18 does: the value
/// ends at its first NUL (memcached treats it as a C string), tokens are separated by
/// spaces, the first is the user and the second the password (any more are ignored).
/// Malformed: fewer than two tokens.
pub fn split_text(value: &[u8]) -> Result<(&[u8], &[u8]), AuthError> {
    let value = match value.iter().position(|&b| b == 0) {
        Some(nul) => &value[..nul],
        None => value,
    };
    let mut tokens = value.split(|&b| b == b' ').filter(|t| !t.is_empty());
    match (tokens.next(), tokens.next()) {
        (Some(user), Some(pass)) => Ok((user, pass)),
        _ => Err(AuthError::Malformed),
    }
}

impl Auth {
    /// Reads the password file at start-up. The error is a sentence naming the file.
    pub fn load(path: &Path) -> Result<Auth, String> {
        let entries = read_entries(path)?;
        Ok(Auth {
            path: path.to_path_buf(),
            users: RwLock::new(Arc::new(entries)),
        })
    }

    /// No users, no file: every check fails (`-S` without `-Y`, where memcached would ask
    /// a Cyrus SASL database corecached does not read).
    pub fn without_users() -> Auth {
        Auth {
            path: PathBuf::new(),
            users: RwLock::new(Arc::new(Vec::new())),
        }
    }

    /// An `Auth` from the contents of a file (for tests).
    pub fn from_bytes(data: &[u8]) -> Result<Auth, String> {
        Ok(Auth {
            path: PathBuf::new(),
            users: RwLock::new(Arc::new(entries_of(data).map_err(|e| e.to_string())?)),
        })
    }

    /// Re-reads the file (SIGHUP). On success the new users replace the old ones and their
    /// number is returned; on any error the old users stay.
    pub fn reload(&self) -> Result<usize, String> {
        let entries = read_entries(&self.path)?;
        let n = entries.len();
        *self.users.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(entries);
        Ok(n)
    }

    /// The file the users come from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of users.
    pub fn users(&self) -> usize {
        self.current().len()
    }

    fn current(&self) -> Arc<Vec<Entry>> {
        self.users.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether `user` with `pass` is in the file. Every user is compared, each over the
    /// full width, whatever matches: the time depends only on the number of users.
    pub fn check(&self, user: &[u8], pass: &[u8]) -> bool {
        let (Some(user), Some(pass)) = (Field::new(user), Field::new(pass)) else {
            // Longer than any line of the file: nothing can match (the length is the
            // client's own, nothing secret is revealed by answering at once).
            return false;
        };
        let users = self.current();
        let mut found = false;
        for e in users.iter() {
            // `&` not `&&`: both comparisons always run.
            found |= e.user.ct_eq(&user) & e.pass.ct_eq(&pass);
        }
        std::hint::black_box(found)
    }

    /// SASL PLAIN (RFC 4616): `msg` is `[authzid] NUL authcid NUL passwd`. Returns the user.
    /// An authzid other than empty or the user itself is rejected (no proxy
    /// authorization, as Cyrus SASL's default for memcached).
    pub fn check_plain<'m>(&self, msg: &'m [u8]) -> Result<&'m [u8], AuthError> {
        let (authzid, user, pass) = split_plain(msg)?;
        let ok = self.check(user, pass);
        if ok && (authzid.is_empty() || authzid == user) {
            Ok(user)
        } else {
            Err(AuthError::Rejected)
        }
    }

    /// The text protocol's authentication value: `user password`. Returns the user.
    pub fn check_text<'m>(&self, value: &'m [u8]) -> Result<&'m [u8], AuthError> {
        let (user, pass) = split_text(value)?;
        if self.check(user, pass) {
            Ok(user)
        } else {
            Err(AuthError::Rejected)
        }
    }
}

fn entries_of(data: &[u8]) -> Result<Vec<Entry>, FileError> {
    Ok(parse_file(data)?
        .into_iter()
        .map(|(u, p)| Entry {
            user: Field::new(u).expect("lines are shorter than the width"),
            pass: Field::new(p).expect("lines are shorter than the width"),
        })
        .collect())
}

fn read_entries(path: &Path) -> Result<Vec<Entry>, String> {
    use std::io::Read;
    let show = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| format!("-Y/--auth-file {show}: cannot open it: {e}"))?;
    let mut data = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("-Y/--auth-file {show}: cannot read it: {e}"))?;
    if data.len() as u64 > MAX_FILE {
        return Err(format!(
            "-Y/--auth-file {show}: larger than 1 MiB; expected one user:password a line"
        ));
    }
    entries_of(&data)
        .map_err(|e| format!("-Y/--auth-file {show}: {e} (expected one user:password a line)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(data: &str) -> Auth {
        Auth::from_bytes(data.as_bytes()).unwrap()
    }

    #[test]
    fn file_format() {
        let users = parse_file(b"foo:bar\r\nbaaaz:quux\n\nx:a:b:c\nsp ace: pass word").unwrap();
        assert_eq!(
            users,
            vec![
                (&b"foo"[..], &b"bar"[..]),
                (b"baaaz", b"quux"),
                (b"x", b"a:b:c"),
                (b"sp ace", b" pass word"),
            ]
        );
        // No trailing newline, a trailing newline, CRLF: the same.
        for f in ["a:b", "a:b\n", "a:b\r\n", "\na:b\n\n"] {
            assert_eq!(
                parse_file(f.as_bytes()).unwrap(),
                vec![(&b"a"[..], &b"b"[..])]
            );
        }
    }

    #[test]
    fn file_errors_name_the_line_and_never_the_password() {
        let long = format!("u:{}", "p".repeat(254));
        for (data, line, why) in [
            ("a:b\nnocolon\n", 2, "expected user:password"),
            ("# a comment\na:b", 1, "expected user:password"),
            (":secret", 1, "empty user name"),
            ("a:b\nc:", 2, "empty password"),
            ("a:b\na:secret", 2, "user named twice"),
            ("a:se\0cret", 1, "contains a NUL or carriage return"),
            ("a:se\rcret", 1, "contains a NUL or carriage return"),
            (long.as_str(), 1, "longer than 255 bytes"),
            ("", 0, "no user:password line"),
            ("\n\n", 0, "no user:password line"),
        ] {
            let e = parse_file(data.as_bytes()).unwrap_err();
            assert_eq!((e.line, e.why), (line, why), "{data:?}");
            assert!(!e.to_string().contains("secret"));
        }
        assert!(parse_file(format!("u:{}", "p".repeat(253)).as_bytes()).is_ok());
        let many: String = (0..=MAX_USERS).map(|i| format!("u{i}:p\n")).collect();
        assert_eq!(
            parse_file(many.as_bytes()).unwrap_err().why,
            "more than 1024 users"
        );
    }

    #[test]
    fn plain_messages() {
        assert_eq!(
            split_plain(b"\0foo\0bar"),
            Ok((&b""[..], &b"foo"[..], &b"bar"[..]))
        );
        assert_eq!(
            split_plain(b"z\0foo\0bar"),
            Ok((&b"z"[..], &b"foo"[..], &b"bar"[..]))
        );
        assert_eq!(
            split_plain(b"\0foo\0"),
            Ok((&b""[..], &b"foo"[..], &b""[..]))
        );
        for bad in [
            &b""[..],
            b"foobar",
            b"\0foobar",
            b"foo\0bar",
            b"\0\0bar",
            b"\0foo\0bar\0",
            b"\0foo\0b\0ar",
        ] {
            assert_eq!(split_plain(bad), Err(AuthError::Malformed), "{bad:?}");
        }
        let a = auth("foo:bar\nbaaaz:quux\n");
        assert_eq!(a.check_plain(b"\0foo\0bar"), Ok(&b"foo"[..]));
        assert_eq!(a.check_plain(b"foo\0foo\0bar"), Ok(&b"foo"[..]));
        assert_eq!(a.check_plain(b"\0baaaz\0quux"), Ok(&b"baaaz"[..]));
        assert_eq!(a.check_plain(b"bar\0foo\0bar"), Err(AuthError::Rejected));
        assert_eq!(a.check_plain(b"\0foo\0bab"), Err(AuthError::Rejected));
        assert_eq!(a.check_plain(b"\0foo\0ba"), Err(AuthError::Rejected));
        assert_eq!(a.check_plain(b"\0foo\0barr"), Err(AuthError::Rejected));
        assert_eq!(a.check_plain(b"\0foo\0quux"), Err(AuthError::Rejected));
        assert_eq!(a.check_plain(b"\0nobody\0bar"), Err(AuthError::Rejected));
        assert_eq!(a.check_plain(b"\0foo\0"), Err(AuthError::Rejected));
        assert_eq!(a.check_plain(b"\0\0bar"), Err(AuthError::Malformed));
        assert_eq!(a.check_plain(b"\0foo\0bar\0"), Err(AuthError::Malformed));
        let huge = [&b"\0foo\0"[..], &[b'x'; 5000][..]].concat();
        assert_eq!(a.check_plain(&huge), Err(AuthError::Rejected));
    }

    #[test]
    fn text_values() {
        let a = auth("foo:bar\nbaaaz:quux\n");
        assert_eq!(a.check_text(b"foo bar"), Ok(&b"foo"[..]));
        assert_eq!(a.check_text(b"  foo   bar "), Ok(&b"foo"[..]));
        // memcached ignores tokens after the second, and the value ends at a NUL.
        assert_eq!(a.check_text(b"foo bar baz"), Ok(&b"foo"[..]));
        assert_eq!(a.check_text(b"foo bar\0junk"), Ok(&b"foo"[..]));
        assert_eq!(a.check_text(b"foo bab"), Err(AuthError::Rejected));
        assert_eq!(a.check_text(b"baaaz bar"), Err(AuthError::Rejected));
        assert_eq!(a.check_text(b"foo"), Err(AuthError::Malformed));
        assert_eq!(a.check_text(b"foo\0bar"), Err(AuthError::Malformed));
        assert_eq!(a.check_text(b"foo:bar"), Err(AuthError::Malformed));
        assert_eq!(a.check_text(b""), Err(AuthError::Malformed));
    }

    #[test]
    fn constant_time_comparison() {
        let f = |s: &[u8]| Field::new(s).unwrap();
        assert!(f(b"abc").ct_eq(&f(b"abc")));
        assert!(f(b"").ct_eq(&f(b"")));
        assert!(!f(b"abc").ct_eq(&f(b"abd")));
        assert!(!f(b"abc").ct_eq(&f(b"xbc")));
        // Padding is zeros: a trailing NUL must still differ, by length.
        assert!(!f(b"abc").ct_eq(&f(b"abc\0")));
        assert!(!f(b"abc").ct_eq(&f(b"ab")));
        assert!(Field::new(&[b'a'; WIDTH]).is_none());
        assert!(Field::new(&[b'a'; WIDTH - 1]).is_some());
        // The work per user does not depend on the input: a right user with a wrong
        // password, a wrong user, and the right pair each compare every user in full.
        // (Timing is not asserted, it is noisy; the structure is: `check` has no early
        // exit, see its body.)
        let a = auth("a:1\nb:2\nc:3\n");
        assert!(a.check(b"c", b"3"));
        assert!(!a.check(b"c", b"2"));
        assert!(!a.check(b"d", b"3"));
    }

    #[test]
    fn reload_keeps_the_old_users_on_error() {
        let dir = std::env::temp_dir().join(format!("corecached-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("users");
        std::fs::write(&path, "foo:bar\n").unwrap();
        let a = Auth::load(&path).unwrap();
        assert_eq!(a.users(), 1);
        std::fs::write(&path, "foo:bar\nnew:pw\n").unwrap();
        assert_eq!(a.reload(), Ok(2));
        assert!(a.check(b"new", b"pw"));
        std::fs::write(&path, "foo:bar\nbroken\n").unwrap();
        let e = a.reload().unwrap_err();
        assert!(e.contains("line 2") && e.contains("--auth-file"), "{e}");
        assert!(a.check(b"new", b"pw"), "the old users stay");
        std::fs::remove_file(&path).unwrap();
        assert!(a.reload().unwrap_err().contains("cannot open"));
        assert!(a.check(b"foo", b"bar"));
        assert!(format!("{a:?}").contains("users: 2") && !format!("{a:?}").contains("bar"));
        let _ = std::fs::remove_dir_all(&dir);
        let e = Auth::load(Path::new("/nonexistent/corecached/users")).unwrap_err();
        assert!(e.starts_with("-Y/--auth-file /nonexistent/corecached/users: cannot open"));
    }
}
