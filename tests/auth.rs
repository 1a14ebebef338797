//! Authentication: the text protocol's `set`-carried `user password` with `-Y/--auth-file`
//! (exact bytes, recorded from memcached 1.6.18 and replayed against it when it is
//! installed), counters, SIGHUP re-reading the file, the `memcache` crate with credentials,
//! flag errors, and binary SASL PLAIN with `-S`.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{show, CorecachedServer, MemcachedServer};

/// A password file in a fresh temporary directory, removed on drop.
struct PwFile {
    dir: PathBuf,
    path: PathBuf,
}

impl PwFile {
    fn new(name: &str, contents: &str) -> PwFile {
        // No ':' in the name: Cyrus SASL splits its config path on it.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "corecached-auth-{}-{name}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("users");
        std::fs::write(&path, contents).unwrap();
        PwFile { dir, path }
    }

    fn path(&self) -> &str {
        self.path.to_str().unwrap()
    }

    /// Replaces the file in one step (a rename), as an operator's tooling would.
    fn replace(&self, contents: &str) {
        let tmp = self.dir.join("users.new");
        std::fs::write(&tmp, contents).unwrap();
        std::fs::rename(&tmp, &self.path).unwrap();
    }
}

impl Drop for PwFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const USERS: &str = "foo:bar\nbaaaz:quux\n";

/// What a step expects back: these bytes, or the connection closed.
#[derive(Clone, Copy, Debug)]
enum Want {
    Bytes(&'static [u8]),
    Closed,
}

use Want::{Bytes, Closed};

/// One connection's exchange: each request is written alone and its reply read in full
/// before the next (memcached answers only the last of several unauthenticated commands
/// read at once, so the table never pipelines before authenticating).
type Script = &'static [(&'static [u8], Want)];

/// The text-authentication table, recorded from memcached 1.6.18 started with `-Y`.
const TEXT_AUTH: &[(&str, Script)] = &[
    (
        "before, a failure, then success",
        &[
            (b"get foo\r\n", Bytes(b"CLIENT_ERROR unauthenticated\r\n")),
            (
                b"set foo 0 0 2\r\nhi\r\n",
                Bytes(b"CLIENT_ERROR bad authentication token format\r\n"),
            ),
            (b"mn\r\n", Bytes(b"CLIENT_ERROR unauthenticated\r\n")),
            (b"version\r\n", Bytes(b"CLIENT_ERROR unauthenticated\r\n")),
            (b"stats\r\n", Bytes(b"CLIENT_ERROR unauthenticated\r\n")),
            (b"quit\r\n", Bytes(b"CLIENT_ERROR unauthenticated\r\n")),
            (b"flush_all\r\n", Bytes(b"CLIENT_ERROR unauthenticated\r\n")),
            (
                b"set a 0 0 7\r\nfoo bab\r\n",
                Bytes(b"CLIENT_ERROR authentication failure\r\n"),
            ),
            (
                b"set a 0 0 9\r\nbaaaz bar\r\n",
                Bytes(b"CLIENT_ERROR authentication failure\r\n"),
            ),
            (b"set a 0 0 7\r\nfoo bar\r\n", Bytes(b"STORED\r\n")),
            // The authenticating set stored nothing.
            (b"get a\r\n", Bytes(b"END\r\n")),
            (b"set x 0 0 1\r\nz\r\n", Bytes(b"STORED\r\n")),
            (b"get x\r\n", Bytes(b"VALUE x 0 1\r\nz\r\nEND\r\n")),
            // Once in, a set that looks like credentials is an ordinary set.
            (b"set a 0 0 7\r\nfoo bab\r\n", Bytes(b"STORED\r\n")),
            (b"get a\r\n", Bytes(b"VALUE a 0 7\r\nfoo bab\r\nEND\r\n")),
            (b"quit\r\n", Closed),
        ],
    ),
    (
        "header shapes",
        &[
            (b"set a 0 0\r\n", Bytes(b"CLIENT_ERROR unauthenticated\r\n")),
            (
                b"set a 0 0 abc\r\n",
                Bytes(b"CLIENT_ERROR unauthenticated\r\n"),
            ),
            (
                b"set a 0 0 -1\r\n",
                Bytes(b"CLIENT_ERROR unauthenticated\r\n"),
            ),
            (
                b"SET a 0 0 7\r\n",
                Bytes(b"CLIENT_ERROR unauthenticated\r\n"),
            ),
            (
                b"add a 0 0 7\r\n",
                Bytes(b"CLIENT_ERROR unauthenticated\r\n"),
            ),
            (b"\r\n", Bytes(b"CLIENT_ERROR unauthenticated\r\n")),
            // memcached's strtoul result is cut to 32 bits: a length of 1.
            (
                b"set a 0 0 4294967297\r\nf\r\n",
                Bytes(b"CLIENT_ERROR bad authentication token format\r\n"),
            ),
            (
                b"set a 0 0 18446744073709551616\r\n",
                Bytes(b"CLIENT_ERROR unauthenticated\r\n"),
            ),
            (
                b"set a 0 0 5\r\nfoo b\r\n",
                Bytes(b"CLIENT_ERROR authentication failure\r\n"),
            ),
            (
                b"set a 0 0 3\r\nfoo\r\n",
                Bytes(b"CLIENT_ERROR bad authentication token format\r\n"),
            ),
            (
                b"set a 0 0 7\r\nfoo:bar\r\n",
                Bytes(b"CLIENT_ERROR bad authentication token format\r\n"),
            ),
            (
                b"set a 0 0 7\r\nfoo\0bar\r\n",
                Bytes(b"CLIENT_ERROR bad authentication token format\r\n"),
            ),
            (
                b"set a 0 0 7\r\nfoo barXY",
                Bytes(b"CLIENT_ERROR bad command line termination\r\n"),
            ),
            // Key, flags and exptime are ignored; so is noreply; extra tokens too.
            (
                b"set k 5 9 11 noreply\r\nfoo bar baz\r\n",
                Bytes(b"STORED\r\n"),
            ),
            (b"get k\r\n", Bytes(b"END\r\n")),
        ],
    ),
    (
        "strtoul-style lengths",
        &[
            (b"set a 0 0 +07\r\nfoo bar\r\n", Bytes(b"STORED\r\n")),
            (b"get never-set\r\n", Bytes(b"END\r\n")),
        ],
    ),
    (
        "a NUL ends the credentials",
        &[(b"set a 0 0 9\r\nfoo bar\0z\r\n", Bytes(b"STORED\r\n"))],
    ),
    (
        "bare newlines in the header, spaces in the value",
        &[(b"set a 0 0 12\n  foo   bar \r\n", Bytes(b"STORED\r\n"))],
    ),
    (
        "fragmented",
        &[
            (b"se", Bytes(b"")),
            (b"t a 0 0 10\r\n", Bytes(b"")),
            (b"baaaz", Bytes(b"")),
            (b" quux\r", Bytes(b"")),
            (b"\n", Bytes(b"STORED\r\n")),
        ],
    ),
    (
        "pipelined after the credentials",
        &[(
            b"set a 0 0 10\r\nbaaaz quux\r\nset y 0 0 2\r\nhi\r\nget y\r\n",
            Bytes(b"STORED\r\nSTORED\r\nVALUE y 0 2\r\nhi\r\nEND\r\n"),
        )],
    ),
    (
        "the largest value memcached's buffer takes",
        &[(
            // 16382 bytes of one token: not `user password`.
            LARGEST,
            Bytes(b"CLIENT_ERROR bad authentication token format\r\n"),
        )],
    ),
    (
        "a value too large for the buffer closes",
        &[(TOO_LARGE, Closed)],
    ),
    (
        "a long line without a newline closes",
        &[(LONG_LINE, Closed)],
    ),
];

const LARGEST: &[u8] = &{
    let mut b = [b'x'; 17 + 16382 + 2];
    let head = b"set a 0 0 16382\r\n";
    let mut i = 0;
    while i < head.len() {
        b[i] = head[i];
        i += 1;
    }
    b[b.len() - 2] = b'\r';
    b[b.len() - 1] = b'\n';
    b
};

const TOO_LARGE: &[u8] = &{
    let mut b = [b'x'; 17 + 16383 + 2];
    let head = b"set a 0 0 16383\r\n";
    let mut i = 0;
    while i < head.len() {
        b[i] = head[i];
        i += 1;
    }
    b[b.len() - 2] = b'\r';
    b[b.len() - 1] = b'\n';
    b
};

const LONG_LINE: &[u8] = &[b'x'; 3000];

/// Reads exactly `n` bytes, or up to the close; `None` after 5 s without them.
fn read_n(s: &mut TcpStream, n: usize) -> (Vec<u8>, bool) {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while buf.len() < n {
        match s.read(&mut chunk[..(n - buf.len()).min(4096)]) {
            Ok(0) => return (buf, true),
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset) => return (buf, true),
            // A timeout: what came is compared, and differs.
            Err(_) => return (buf, false),
        }
    }
    (buf, false)
}

/// Waits (bounded) for the server to close the connection; true if it did.
fn closes(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Runs a script on a fresh connection; the failures as sentences.
fn run_script(addr: SocketAddr, name: &str, script: Script) -> Vec<String> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let mut failures = Vec::new();
    for (i, (req, want)) in script.iter().enumerate() {
        // The server may close while a large request is still being written.
        let _ = s.write_all(req);
        match want {
            Bytes(b) => {
                let (got, closed) = read_n(&mut s, b.len());
                if got != *b {
                    failures.push(format!(
                        "{name}, step {i} \"{}\": expected \"{}\", got \"{}\"{}",
                        common::show_short(req, 60),
                        show(b),
                        show(&got),
                        if closed { " and a close" } else { "" }
                    ));
                    return failures;
                }
            }
            Closed => {
                if !closes(&mut s) {
                    failures.push(format!(
                        "{name}, step {i} \"{}\": expected the connection to close",
                        common::show_short(req, 60)
                    ));
                    return failures;
                }
            }
        }
    }
    failures
}

fn run_table(addr: SocketAddr) -> Vec<String> {
    TEXT_AUTH
        .iter()
        .flat_map(|(name, script)| run_script(addr, name, script))
        .collect()
}

/// Authenticates a text connection, panicking unless the server says STORED.
fn text_login(addr: SocketAddr, user: &str, pass: &str) -> Result<TcpStream, String> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let value = format!("{user} {pass}");
    s.write_all(format!("set auth 0 0 {}\r\n{value}\r\n", value.len()).as_bytes())
        .unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    while !line.ends_with(b"\r\n") {
        match s.read(&mut b) {
            Ok(1) => line.push(b[0]),
            _ => return Err(format!("closed after \"{}\"", show(&line))),
        }
    }
    if line == b"STORED\r\n" {
        Ok(s)
    } else {
        Err(show(&line))
    }
}

fn stats(s: &mut TcpStream) -> std::collections::HashMap<String, String> {
    common::stats_on(s, "")
}

#[test]
fn text_authentication_table() {
    let pw = PwFile::new("table", USERS);
    let server = CorecachedServer::start(&["--threads", "2", "-Y", pw.path()]);
    common::assert_no_failures("text authentication", &run_table(server.addr()));
}

#[test]
fn text_authentication_matches_memcached() {
    let pw = PwFile::new("oracle", USERS);
    let Some(mc) = MemcachedServer::start(&["-Y", pw.path()]) else {
        eprintln!("skipped: memcached is not installed");
        return;
    };
    common::assert_no_failures("memcached -Y (the recorded table)", &run_table(mc.addr()));
    // The counters, the same way on both.
    let server = CorecachedServer::start(&["-Y", pw.path()]);
    let mut deltas = Vec::new();
    for addr in [mc.addr(), server.addr()] {
        let mut admin = text_login(addr, "foo", "bar").unwrap();
        let before = stats(&mut admin);
        let script: Script = &[
            (
                b"set a 0 0 7\r\nfoo bab\r\n",
                Bytes(b"CLIENT_ERROR authentication failure\r\n"),
            ),
            (
                b"set a 0 0 3\r\nfoo\r\n",
                Bytes(b"CLIENT_ERROR bad authentication token format\r\n"),
            ),
            (
                b"set a 0 0 7\r\nfoo barXY",
                Bytes(b"CLIENT_ERROR bad command line termination\r\n"),
            ),
            (b"get a\r\n", Bytes(b"CLIENT_ERROR unauthenticated\r\n")),
            (b"set a 0 0 7\r\nfoo bar\r\n", Bytes(b"STORED\r\n")),
        ];
        common::assert_no_failures("counters script", &run_script(addr, "counters", script));
        let after = stats(&mut admin);
        let d = |k: &str| after[k].parse::<u64>().unwrap() - before[k].parse::<u64>().unwrap();
        deltas.push((d("auth_cmds"), d("auth_errors")));
    }
    assert_eq!(deltas[0], (2, 1), "memcached: auth_cmds, auth_errors");
    assert_eq!(deltas[1], deltas[0], "corecached against memcached");
}

#[test]
fn counters_and_settings() {
    let pw = PwFile::new("counters", USERS);
    let server = CorecachedServer::start(&["--threads", "2", "-Y", pw.path()]);
    for _ in 0..3 {
        assert!(text_login(server.addr(), "foo", "nope").is_err());
    }
    assert!(text_login(server.addr(), "nobody", "bar").is_err());
    let mut s = text_login(server.addr(), "baaaz", "quux").unwrap();
    let st = stats(&mut s);
    assert_eq!(st["auth_cmds"], "5");
    assert_eq!(st["auth_errors"], "4");
    let set = common::stats_on(&mut s, "settings");
    assert_eq!(set["auth_enabled_sasl"], "no");
    assert_eq!(set["auth_enabled_ascii"], pw.path());
    assert_eq!(set["binding_protocol"], "ascii");
    // An unauthenticated connection gets nothing of the store, not even stats.
    let mut other = TcpStream::connect(server.addr()).unwrap();
    other.write_all(b"stats\r\n").unwrap();
    let (got, _) = read_n(&mut other, 30);
    assert_eq!(got, b"CLIENT_ERROR unauthenticated\r\n");
    // Unauthenticated commands pipelined in one write are each answered (memcached only
    // answers the last, a reply overwriting the previous).
    other
        .write_all(b"get a\r\nget b\r\nset a 0 0 7\r\nfoo bar\r\nget a\r\n")
        .unwrap();
    let want = b"CLIENT_ERROR unauthenticated\r\nCLIENT_ERROR unauthenticated\r\nSTORED\r\nEND\r\n";
    let (got, _) = read_n(&mut other, want.len());
    assert_eq!(show(&got), show(want));
    // The passwords are never logged.
    let log = server.stderr_log();
    assert!(!log.contains("quux") && !log.contains("nope"), "{log}");
}

fn hup(server: &CorecachedServer) {
    let st = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Polls `cond` every 20 ms for at most 10 s.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sighup_rereads_the_file() {
    let pw = PwFile::new("hup", "foo:bar\n");
    let mut server = CorecachedServer::start(&["--threads", "2", "-Y", pw.path()]);
    let addr = server.addr();
    assert!(text_login(addr, "neo", "trinity").is_err());
    // Held across the reload: an authenticated connection stays authenticated.
    let mut held = text_login(addr, "foo", "bar").unwrap();

    pw.replace("neo:trinity\n");
    hup(&server);
    eventually("neo to be accepted after SIGHUP", || {
        text_login(addr, "neo", "trinity").is_ok()
    });
    assert_eq!(
        text_login(addr, "foo", "bar").unwrap_err(),
        "CLIENT_ERROR authentication failure\\r\\n",
        "a removed user is refused"
    );
    assert_eq!(
        common::roundtrip(&mut held, b"get nothing\r\n", b"END\r\n"),
        b"END\r\n"
    );

    // A broken file keeps the users read before.
    pw.replace("neo:trinity\nthis line has no colon\n");
    hup(&server);
    eventually("the bad file to be reported", || {
        server.stderr_log().contains("keeping the 1 users")
    });
    assert!(text_login(addr, "neo", "trinity").is_ok());
    server.assert_alive();
    let log = server.stderr_log();
    assert!(log.contains("line 2"), "{log}");
    assert!(!log.contains("trinity"), "a password in the log: {log}");

    // SIGHUP without -Y is harmless too.
    let mut plain = CorecachedServer::start(&[]);
    hup(&plain);
    eventually("SIGHUP to be noted", || {
        plain.stderr_log().contains("SIGHUP")
    });
    plain.assert_alive();
}

#[test]
fn memcache_crate_over_ascii_with_credentials() {
    let pw = PwFile::new("crate", USERS);
    let server = CorecachedServer::start(&["--threads", "2", "-Y", pw.path()]);
    let url = format!("memcache://baaaz:quux@{}?protocol=ascii", server.addr());
    let client = memcache::Client::builder()
        .add_server(url.as_str())
        .unwrap()
        .with_connection_timeout(Duration::from_secs(5))
        .build()
        .expect("connect with the right password");
    client.set("greeting", "hello", 0).unwrap();
    assert_eq!(
        client.get::<String>("greeting").unwrap().as_deref(),
        Some("hello")
    );
    client.set("n", 41u64, 0).unwrap();
    assert_eq!(client.increment("n", 1).unwrap(), 42);

    let wrong = format!("memcache://baaaz:wrong@{}?protocol=ascii", server.addr());
    let refused = memcache::Client::builder()
        .add_server(wrong.as_str())
        .unwrap()
        .with_connection_timeout(Duration::from_millis(500))
        .build();
    assert!(refused.is_err(), "a wrong password must not connect");

    let anonymous = format!("memcache://{}?protocol=ascii", server.addr());
    // The pool checks a new connection with `version`, which is refused.
    let anon = memcache::Client::builder()
        .add_server(anonymous.as_str())
        .unwrap()
        .with_connection_timeout(Duration::from_millis(500))
        .build();
    assert!(anon.is_err(), "refused without credentials");
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_corecached"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run corecached");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn flag_and_file_errors() {
    let good = PwFile::new("cli", USERS);
    let bad = PwFile::new("cli-bad", "foo:secretpw\nno colon here\n");
    for (args, code, needle) in [
        (
            &["-S", "-Y", good.path(), "-B", "ascii"][..],
            64,
            "-B ascii",
        ),
        (&["-S", "-Y", good.path(), "-B", "auto"][..], 64, "-B auto"),
        (&["-Y", good.path(), "-B", "binary"][..], 64, "-B binary"),
        (&["-Y", good.path(), "-B", "auto"][..], 64, "-B auto"),
        (
            &["-Y", "/nonexistent/users"][..],
            1,
            "-Y/--auth-file /nonexistent/users: cannot open",
        ),
        (&["-Y", bad.path()][..], 1, "line 2: expected user:password"),
    ] {
        let args: Vec<&str> = ["-p", "0", "-t", "1"]
            .iter()
            .copied()
            .chain(args.iter().copied())
            .collect();
        let (got, text) = run(&args);
        assert_eq!(got, code, "{args:?}: {text}");
        assert!(text.contains(needle), "{args:?}: {text}");
        assert!(
            !text.contains("secretpw") && !text.contains("panicked"),
            "{text}"
        );
    }
    let (code, text) = run(&["--help"]);
    assert_eq!(code, 0);
    for flag in ["--enable-sasl", "--auth-file"] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn startup_logs_who_must_authenticate() {
    let pw = PwFile::new("log", USERS);
    let server = CorecachedServer::start(&["-Y", pw.path()]);
    let log = server.stderr_log();
    assert!(
        log.contains("text clients authenticate: 2 users from"),
        "{log}"
    );
    assert!(!log.contains("quux"), "{log}");
    let sasl = CorecachedServer::start(&["-S", "-Y", pw.path()]);
    let log = sasl.stderr_log();
    assert!(
        log.contains("binary clients authenticate with SASL PLAIN: 2 users from"),
        "{log}"
    );
}

// ---------------------------------------------------------------------------
// Binary SASL (-S): needs the binary protocol branch.

const MAGIC_REQ: u8 = 0x80;

fn packet(opcode: u8, key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut p = vec![MAGIC_REQ, opcode];
    p.extend_from_slice(&(key.len() as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0]); // extras, data type, vbucket
    p.extend_from_slice(&((key.len() + value.len()) as u32).to_be_bytes());
    p.extend_from_slice(&[0; 12]); // opaque, cas
    p.extend_from_slice(key);
    p.extend_from_slice(value);
    p
}

/// One response: (opcode, status, body), or None on a close.
fn response(s: &mut TcpStream) -> Option<Response> {
    let (h, closed) = read_n(s, 24);
    if closed {
        return None;
    }
    assert_eq!(h[0], 0x81, "response magic: {}", show(&h));
    let len = u32::from_be_bytes([h[8], h[9], h[10], h[11]]) as usize;
    let (body, closed) = read_n(s, len);
    assert!(!closed);
    Some((h[1], u16::from_be_bytes([h[6], h[7]]), body))
}

const LIST_MECHS: u8 = 0x20;
const SASL_AUTH: u8 = 0x21;
const SASL_STEP: u8 = 0x22;
const NOOP: u8 = 0x0a;
const VERSION: u8 = 0x0b;
const AUTH_ERROR: u16 = 0x20;

/// A response: (opcode, status, body).
type Response = (u8, u16, Vec<u8>);
/// A request and its expected response, or None for a close.
type SaslStep = (Vec<u8>, Option<Response>);

/// The raw SASL exchanges, as memcached 1.6.18 `-S` answers them (Cyrus SASL with
/// `mech_list: plain`): (request, expected (opcode, status, body) or None for a close).
fn sasl_script() -> Vec<(&'static str, Vec<SaslStep>)> {
    let ok = |op| Some((op, 0u16, b"Authenticated".to_vec()));
    let fail = |op| Some((op, AUTH_ERROR, b"Auth failure.".to_vec()));
    vec![
        (
            "mechanisms, failure, success",
            vec![
                (
                    packet(LIST_MECHS, b"", b""),
                    Some((LIST_MECHS, 0, b"PLAIN".to_vec())),
                ),
                (packet(SASL_AUTH, b"PLAIN", b"\0foo\0bab"), fail(SASL_AUTH)),
                (packet(SASL_AUTH, b"PLAIN", b"\0foo\0bar"), ok(SASL_AUTH)),
                (packet(NOOP, b"", b""), Some((NOOP, 0, vec![]))),
                (
                    packet(0x00, b"k", b""),
                    Some((0x00, 1, b"Not found".to_vec())),
                ),
            ],
        ),
        (
            "authzid equal to the user",
            vec![
                (packet(SASL_AUTH, b"PLAIN", b"foo\0foo\0bar"), ok(SASL_AUTH)),
                (packet(NOOP, b"", b""), Some((NOOP, 0, vec![]))),
            ],
        ),
        (
            "unauthenticated commands are refused, then the connection closes",
            vec![
                (
                    packet(VERSION, b"", b""),
                    Some((VERSION, 0, b"1.6.18".to_vec())),
                ),
                (packet(NOOP, b"", b""), fail(NOOP)),
                (packet(NOOP, b"", b""), None),
            ],
        ),
        (
            "malformed and foreign",
            vec![
                (
                    packet(SASL_AUTH, b"PLAIN", b"bar\0foo\0bar"),
                    fail(SASL_AUTH),
                ),
                (packet(SASL_AUTH, b"PLAIN", b"foobar"), fail(SASL_AUTH)),
                (
                    packet(SASL_AUTH, b"PLAIN", b"\0foo\0bar\0"),
                    fail(SASL_AUTH),
                ),
                (
                    packet(SASL_AUTH, b"PLAIN", b"\0nobody\0bar"),
                    fail(SASL_AUTH),
                ),
                (packet(SASL_AUTH, b"CRAM-MD5", b"x"), fail(SASL_AUTH)),
                (packet(SASL_STEP, b"PLAIN", b"\0foo\0bar"), fail(SASL_STEP)),
                (packet(NOOP, b"", b""), fail(NOOP)),
            ],
        ),
        (
            "a failed re-authentication drops the session",
            vec![
                (packet(SASL_AUTH, b"PLAIN", b"\0foo\0bar"), ok(SASL_AUTH)),
                (packet(SASL_AUTH, b"PLAIN", b"\0foo\0bab"), fail(SASL_AUTH)),
                (packet(NOOP, b"", b""), fail(NOOP)),
            ],
        ),
    ]
}

/// Runs [`sasl_script`]; the failures as sentences. `version` is the version string the
/// server reports (memcached's differs from corecached's).
fn run_sasl(addr: SocketAddr, version_prefix: &[u8]) -> Vec<String> {
    let mut failures = Vec::new();
    for (name, steps) in sasl_script() {
        let mut s = TcpStream::connect(addr).unwrap();
        for (i, (req, want)) in steps.into_iter().enumerate() {
            let _ = s.write_all(&req);
            let got = response(&mut s);
            let matches = match (&got, &want) {
                (Some((op, st, body)), Some((wop, wst, wbody))) if *op == VERSION => {
                    (op, st) == (wop, wst) && body.starts_with(version_prefix) && !wbody.is_empty()
                }
                _ => got == want,
            };
            if !matches {
                failures.push(format!("{name}, step {i}: expected {want:?}, got {got:?}"));
                break;
            }
        }
    }
    failures
}

#[test]
fn binary_sasl_exchange() {
    let pw = PwFile::new("sasl", USERS);
    let server = CorecachedServer::start(&["--threads", "2", "-S", "-Y", pw.path()]);
    common::assert_no_failures("binary SASL", &run_sasl(server.addr(), b"1.6.18"));
}

/// memcached `-S` with Cyrus SASL checking PLAIN against a sasldb made by `saslpasswd2`
/// (Debian's memcached has no MEMCACHED_SASL_PWDB) holding `users`, or None with the reason
/// printed.
fn memcached_sasl(dir: &std::path::Path, users: &[(&str, &str)]) -> Option<MemcachedServer> {
    let have = Command::new("saslpasswd2")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !have || common::memcached_path().is_none() {
        eprintln!("skipped: needs memcached and saslpasswd2 (apt-get install memcached sasl2-bin)");
        return None;
    }
    let db = dir.join("sasldb");
    std::fs::write(
        dir.join("memcached.conf"),
        format!("mech_list: plain\nsasldb_path: {}\n", db.display()),
    )
    .unwrap();
    for (user, pass) in users {
        let mut child = Command::new("saslpasswd2")
            .args(["-a", "memcached", "-c", "-p", "-f"])
            .arg(&db)
            .arg(user)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(pass.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    }
    // Read by memcached's SASL start-up.
    MemcachedServer::start_with_env(&["-S"], &[("SASL_CONF_PATH", dir.as_os_str())])
}

#[test]
fn binary_sasl_script_matches_memcached() {
    // The recorded script holds for memcached itself: the oracle of the corecached test.
    let pw = PwFile::new("sasl-oracle", USERS);
    let Some(mc) = memcached_sasl(&pw.dir, &[("foo", "bar"), ("baaaz", "quux")]) else {
        return;
    };
    common::assert_no_failures("memcached -S", &run_sasl(mc.addr(), b"1.6.18"));
}

#[test]
fn memcache_crate_over_binary_with_sasl() {
    let pw = PwFile::new("crate-bin", USERS);
    let server = CorecachedServer::start(&["--threads", "2", "-S", "-Y", pw.path()]);
    let url = format!("memcache://foo:bar@{}?protocol=binary", server.addr());
    let client = memcache::Client::builder()
        .add_server(url.as_str())
        .unwrap()
        .with_connection_timeout(Duration::from_secs(5))
        .build()
        .expect("SASL PLAIN with the right password");
    client.set("k", "v", 0).unwrap();
    assert_eq!(client.get::<String>("k").unwrap().as_deref(), Some("v"));

    let wrong = format!("memcache://foo:nope@{}?protocol=binary", server.addr());
    let refused = memcache::Client::builder()
        .add_server(wrong.as_str())
        .unwrap()
        .with_connection_timeout(Duration::from_millis(500))
        .build();
    assert!(refused.is_err(), "a wrong password must not connect");

    let anonymous = format!("memcache://{}?protocol=binary", server.addr());
    let anon = memcache::Client::builder()
        .add_server(anonymous.as_str())
        .unwrap()
        .with_connection_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    assert!(
        anon.get::<String>("k").is_err(),
        "an unauthenticated get is refused"
    );
}

/// A response's raw bytes, as memcached sends them: no key, no extras, opaque and CAS 0.
fn raw_response(opcode: u8, status: u16, body: &[u8]) -> Vec<u8> {
    let mut r = vec![0x81, opcode, 0, 0, 0, 0];
    r.extend_from_slice(&status.to_be_bytes());
    r.extend_from_slice(&(body.len() as u32).to_be_bytes());
    r.extend_from_slice(&[0; 12]);
    r.extend_from_slice(body);
    r
}

/// A binary SET of `key` (flags and exptime 0) to `value`.
fn set_packet(key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut p = packet(0x01, key, value);
    p[4] = 8; // extras length
    let total = (8 + key.len() + value.len()) as u32;
    p[8..12].copy_from_slice(&total.to_be_bytes());
    p.splice(24..24, [0u8; 8]);
    p
}

/// Each exchange of `script` on a connection of its own: the raw bytes of each response
/// (24-byte header and body), or None once the server has closed.
fn raw_exchanges(addr: SocketAddr, script: &[(&str, Vec<Vec<u8>>)]) -> Vec<Vec<Option<Vec<u8>>>> {
    script
        .iter()
        .map(|(_, requests)| {
            let mut s = TcpStream::connect(addr).unwrap();
            let mut got = Vec::new();
            for req in requests {
                let _ = s.write_all(req);
                let (mut head, closed) = read_n(&mut s, 24);
                if closed || head.len() < 24 {
                    got.push(None);
                    break;
                }
                let len = u32::from_be_bytes([head[8], head[9], head[10], head[11]]) as usize;
                head.extend(read_n(&mut s, len).0);
                got.push(Some(head));
            }
            got
        })
        .collect()
}

/// `-S` without `-Y` is a valid memcached command line: memcached then checks PLAIN
/// against Cyrus SASL's database, which corecached does not read. It starts, says so once,
/// and answers as memcached does with no users in that database, byte for byte: PLAIN
/// offered, every authentication failed, no command served before one succeeds (fail
/// closed), the connection closed at the second refused command.
#[test]
fn sasl_without_users_fails_closed_as_memcached_with_an_empty_sasldb() {
    let fail = |op| Some(raw_response(op, AUTH_ERROR, b"Auth failure."));
    let script: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("mechanisms", vec![packet(LIST_MECHS, b"", b"")]),
        (
            "a failed authentication serves nothing",
            vec![
                packet(SASL_AUTH, b"PLAIN", b"\0foo\0bar"),
                packet(0x00, b"k", b""),
                packet(NOOP, b"", b""),
            ],
        ),
        (
            "data commands before authentication",
            vec![set_packet(b"k", b"v"), packet(0x00, b"k", b"")],
        ),
        (
            "other mechanisms, steps and forms",
            vec![
                packet(SASL_AUTH, b"CRAM-MD5", b"x"),
                packet(SASL_STEP, b"PLAIN", b"\0foo\0bar"),
                packet(SASL_AUTH, b"PLAIN", b"foo\0foo\0bar"),
                packet(SASL_AUTH, b"PLAIN", b"\0\0"),
            ],
        ),
    ];
    let want: Vec<Vec<Option<Vec<u8>>>> = vec![
        vec![Some(raw_response(LIST_MECHS, 0, b"PLAIN"))],
        vec![fail(SASL_AUTH), fail(0x00), None],
        vec![fail(0x01), None],
        vec![
            fail(SASL_AUTH),
            fail(SASL_STEP),
            fail(SASL_AUTH),
            fail(SASL_AUTH),
        ],
    ];
    let compare = |who: &str, got: Vec<Vec<Option<Vec<u8>>>>| {
        let mut failures = Vec::new();
        for (((name, _), got), want) in script.iter().zip(got).zip(&want) {
            if got != *want {
                let shown = |v: &[Option<Vec<u8>>]| {
                    v.iter()
                        .map(|r| r.as_deref().map_or("(closed)".to_string(), show))
                        .collect::<Vec<_>>()
                        .join(" | ")
                };
                failures.push(format!("{name}: want {} got {}", shown(want), shown(&got)));
            }
        }
        common::assert_no_failures(who, &failures);
    };

    let server = CorecachedServer::start(&["--threads", "2", "-S"]);
    compare("corecached -S", raw_exchanges(server.addr(), &script));
    let log = server.stderr_log();
    assert_eq!(
        log.matches("-S/--enable-sasl without -Y/--auth-file: corecached reads no Cyrus SASL database, so every SASL authentication fails until -Y FILE gives the users").count(),
        1,
        "one warning at start: {log}"
    );

    // The oracle: memcached -S offering PLAIN against a sasldb with no users.
    let dir = PwFile::new("sasl-empty", "");
    if let Some(mc) = memcached_sasl(&dir.dir, &[]) {
        compare(
            "memcached -S, no sasldb users",
            raw_exchanges(mc.addr(), &script),
        );
    }
}
