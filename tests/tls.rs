//! TLS (`-Z`): the same requests over TLS to memcached -Z and corecached -Z (two shards)
//! with the same certificates give the same bytes; `notls:` listeners; client
//! certificates (`ssl_verify_mode=2`); clients that do not speak TLS; the TLS lines of
//! `stats settings` and `stats`; certificate errors at start; `refresh_certs`.
//!
//! Certificates are made at test time with the `openssl` CLI (a CA, two server
//! certificates, a client certificate); the TLS client is Python's `ssl` module
//! (`tests/common/tls_client.py`). Each test says why it skips when either is missing.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{free_port, start_exact, TempDir};
use common::{CorecachedServer, MemcachedServer};

/// The certificates of one test, in its own directory.
struct Certs {
    dir: TempDir,
}

impl Certs {
    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }

    /// `-o` value serving `cert.pem` and `key.pem`, with `extra` suboptions.
    fn server_opts(&self, extra: &str) -> String {
        let mut o = format!(
            "ssl_chain_cert={},ssl_key={}",
            self.path("cert.pem"),
            self.path("key.pem")
        );
        if !extra.is_empty() {
            o.push(',');
            o.push_str(extra);
        }
        o
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, the server's certificate for 127.0.0.1 (`cert.pem`, `key.pem`), a second one
/// (`cert2.pem`, `key2.pem`) and a client certificate (`client.pem`, `client.key`), all
/// signed by the CA; None (and why) when `openssl` or `python3` is missing.
fn make_certs(name: &str) -> Option<Certs> {
    for tool in ["openssl", "python3"] {
        let found = Command::new(tool)
            .arg(if tool == "openssl" {
                "version"
            } else {
                "--version"
            })
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            eprintln!(
                "{tool} not installed: skipping the TLS test {name} (apt-get install {tool})"
            );
            return None;
        }
    }
    let dir = TempDir::new(name);
    let d = &dir.0;
    std::fs::write(
        d.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    std::fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=corecached test CA",
        ],
    );
    for (key, cert, cn, ext, serial) in [
        ("key.pem", "cert.pem", "first", "server.ext", "0x1001"),
        ("key2.pem", "cert2.pem", "second", "server.ext", "0x2002"),
        ("client.key", "client.pem", "client", "client.ext", "0x3003"),
    ] {
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                key,
                "-out",
                "req.csr",
                "-subj",
                &format!("/CN={cn}"),
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "req.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                serial,
                "-out",
                cert,
                "-days",
                "2",
                "-extfile",
                ext,
            ],
        );
    }
    Some(Certs { dir })
}

/// What the TLS client got.
#[derive(Debug)]
struct TlsReply {
    /// 0 served, 2 failed, 3 timed out (tls_client.py).
    code: i32,
    bytes: Vec<u8>,
    /// The server certificate's serial number, once connected.
    serial: Option<String>,
    stderr: String,
}

/// Sends `req` over TLS to `addr`'s port and reads the reply (tls_client.py).
fn tls_exchange(addr: SocketAddr, certs: &Certs, client_cert: bool, req: &[u8]) -> TlsReply {
    tls_exchange_until(addr, certs, client_cert, req, None)
}

/// [`tls_exchange`], reading until the reply ends with `until` when given (no `mn`
/// follows the request then).
fn tls_exchange_until(
    addr: SocketAddr,
    certs: &Certs,
    client_cert: bool,
    req: &[u8],
    until: Option<&str>,
) -> TlsReply {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/tls_client.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .arg(addr.port().to_string())
        .arg(certs.path("ca.pem"));
    if client_cert {
        cmd.arg(certs.path("client.pem"))
            .arg(certs.path("client.key"));
    }
    if let Some(u) = until {
        cmd.env("TLS_CLIENT_UNTIL", u);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    let mut stdin = child.stdin.take().unwrap();
    let req = req.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&req);
    });
    let out = child.wait_with_output().expect("tls_client.py");
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let serial = stderr
        .lines()
        .find_map(|l| l.strip_prefix("SERIAL "))
        .map(str::to_string);
    TlsReply {
        code: out.status.code().unwrap_or(-1),
        bytes: out.stdout,
        serial,
        stderr,
    }
}

/// One TLS connection, requests sent one at a time (tls_client.py, interactive).
struct TlsConn {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl TlsConn {
    fn open(addr: SocketAddr, certs: &Certs) -> TlsConn {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/tls_client.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(addr.port().to_string())
            .arg(certs.path("ca.pem"))
            .env("TLS_CLIENT_INTERACTIVE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run python3");
        let stdin = child.stdin.take().unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        TlsConn {
            child,
            stdin,
            stdout,
        }
    }

    /// The reply to `req` (the client gives up after 20 s, which ends its output).
    fn exchange(&mut self, req: &[u8]) -> Vec<u8> {
        use std::io::BufRead;
        writeln!(self.stdin, "{}", req.len()).unwrap();
        self.stdin.write_all(req).unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let n: usize = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the TLS client ended: {line:?}"));
        let mut reply = vec![0u8; n];
        self.stdout.read_exact(&mut reply).unwrap();
        reply
    }
}

impl Drop for TlsConn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn served(addr: SocketAddr, certs: &Certs, req: &[u8]) -> Vec<u8> {
    let r = tls_exchange(addr, certs, false, req);
    assert_eq!(r.code, 0, "{addr}: {}", r.stderr);
    r.bytes
}

fn corecached_tls(certs: &Certs, extra: &str, more: &[&str]) -> CorecachedServer {
    let opts = certs.server_opts(extra);
    let mut args = vec!["-t", "2", "-Z", "-o", &opts];
    args.extend_from_slice(more);
    CorecachedServer::start(&args)
}

fn memcached_tls(certs: &Certs, extra: &str) -> Option<MemcachedServer> {
    let opts = certs.server_opts(extra);
    MemcachedServer::start(&["-Z", "-o", &opts])
}

/// Requests over TLS, each compared byte for byte with memcached's reply: storage and
/// gets (keys of both shards), a pipeline of many, a 1 MB value, the meta protocol.
#[test]
fn requests_over_tls_match_memcached() {
    let Some(certs) = make_certs("tls-requests") else {
        return;
    };
    let Some(mc) = memcached_tls(&certs, "") else {
        return;
    };
    let cc = corecached_tls(&certs, "", &[]);
    let big = vec![b'v'; 1_000_000];
    let mut big_set = format!("set big 0 0 {}\r\n", big.len()).into_bytes();
    big_set.extend_from_slice(&big);
    big_set.extend_from_slice(b"\r\n");
    let mut pipeline = Vec::new();
    for i in 0..200 {
        pipeline.extend_from_slice(format!("set p{i} {i} 0 3\r\nv{:02}\r\n", i % 100).as_bytes());
    }
    for i in 0..200 {
        pipeline.extend_from_slice(format!("get p{i}\r\n").as_bytes());
    }
    // memcached stalls when bytes follow a large value in the same TLS records (they
    // wait in OpenSSL's buffer, unseen by its event loop): the value is sent alone, and
    // its reply read without `mn`.
    let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        ("version", b"version\r\n".to_vec(), None),
        (
            "set and get",
            b"set a 5 0 1\r\nx\r\nadd a 0 0 1\r\ny\r\nget a\r\nappend a 0 0 2\r\nyz\r\nget a\r\ndelete a\r\nget a\r\n"
                .to_vec(),
            None,
        ),
        (
            "multi-get over both shards",
            b"set k1 0 0 2\r\nv1\r\nset k2 0 0 2\r\nv2\r\nset k3 0 0 2\r\nv3\r\nset k4 0 0 2\r\nv4\r\nget k1 k2 nokey k3 k4 k1\r\n"
                .to_vec(),
            None,
        ),
        ("pipelined", pipeline, None),
        ("1 MB value stored", big_set, Some("\\r\\n")),
        ("1 MB value read", b"get big\r\n".to_vec(), None),
        (
            "meta",
            b"ms mk 2 F7\r\nhi\r\nmg mk v f k\r\nma mk\r\nmg nomk v\r\nmd mk q\r\nmg mk v\r\n".to_vec(),
            None,
        ),
        ("errors", b"bogus\r\nset x 0 0 z\r\nget\r\n".to_vec(), None),
        (
            "incr",
            b"set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\n".to_vec(),
            None,
        ),
    ];
    for (what, req, until) in &cases {
        let exchange = |addr| {
            let r = tls_exchange_until(addr, &certs, false, req, *until);
            assert_eq!(r.code, 0, "{what}: {addr}: {}", r.stderr);
            r.bytes
        };
        let want = exchange(mc.addr());
        let got = exchange(cc.addr());
        assert!(
            want == got,
            "{what}: memcached {} corecached {}",
            common::show_short(&want, 400),
            common::show_short(&got, 400)
        );
    }
}

/// Reads until end of stream or `limit`; the bytes, and whether the stream ended.
fn read_to_end_within(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (got, false);
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // A reset (memcached closes with unread bytes) ends it too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (got, true),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return (got, false)
            }
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// `-l notls:ADDR` is served in plaintext beside a TLS listener; plaintext to the TLS
/// listener is not served.
#[test]
fn notls_listener_is_plaintext_beside_tls() {
    let Some(certs) = make_certs("tls-notls") else {
        return;
    };
    let port = free_port();
    let notls = format!("notls:127.0.0.1:{port}");
    let opts = certs.server_opts("");
    let args = [
        "-p",
        "0",
        "-l",
        "127.0.0.1",
        "-l",
        &notls,
        "-t",
        "2",
        "-Z",
        "-o",
        &opts,
    ];
    let server = start_exact(&args).unwrap_or_else(|f| panic!("{args:?}: {f:?}"));
    let tls_addr = *server
        .tcp_addrs()
        .iter()
        .find(|a| a.port() != port)
        .expect("the TLS listener");
    let plain: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut p = TcpStream::connect(plain).unwrap();
    p.write_all(b"set shared 0 0 2\r\nok\r\n").unwrap();
    let mut buf = [0u8; 8];
    p.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    p.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"STORED\r\n");
    // The same store over TLS on the other listener.
    assert_eq!(
        served(tls_addr, &certs, b"get shared\r\n"),
        b"VALUE shared 0 2\r\nok\r\nEND\r\n"
    );
    // TLS to the plaintext listener fails: it answers the ClientHello as a command.
    let r = tls_exchange(plain, &certs, false, b"version\r\n");
    assert_ne!(r.code, 0, "TLS on the notls listener: {r:?}");
    let mut t = TcpStream::connect(tls_addr).unwrap();
    t.write_all(b"version\r\n").unwrap();
    let (got, ended) = read_to_end_within(&mut t, Duration::from_secs(5));
    assert!(
        ended && got.is_empty(),
        "plaintext on the TLS listener: {got:?}"
    );
}

/// A plaintext client and a garbage handshake on a TLS port are closed without a reply,
/// as memcached closes them; other clients are served meanwhile, and corecached counts
/// both in `ssl_handshake_errors`.
#[test]
fn clients_that_do_not_speak_tls_are_closed_and_counted() {
    let Some(certs) = make_certs("tls-bad-clients") else {
        return;
    };
    let mc = memcached_tls(&certs, "");
    let cc = corecached_tls(&certs, "", &[]);
    let mut addrs = vec![("corecached", cc.addr())];
    if let Some(m) = &mc {
        addrs.push(("memcached", m.addr()));
    }
    for (who, addr) in addrs {
        // A client served throughout.
        let mut bystander = TcpStream::connect(cc.addr()).unwrap();
        for bad in [
            &b"version\r\n"[..],
            b"get foo bar baz\r\n",
            // A handshake record whose ClientHello is garbage.
            b"\x16\x03\x01\x00\x05hello",
        ] {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(bad).unwrap();
            let (got, ended) = read_to_end_within(&mut s, Duration::from_secs(5));
            assert!(ended, "{who}: {bad:?} left open");
            assert!(
                !got.windows(2).any(|w| w == b"\r\n"),
                "{who}: {bad:?} got a plaintext reply {got:?}"
            );
        }
        assert_eq!(
            served(addr, &certs, b"version\r\n"),
            b"VERSION 1.6.18\r\n",
            "{who}"
        );
        // The bystander's connection (a TLS one, never handshaken) is still open.
        bystander.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        let r = bystander.read(&mut b);
        assert!(
            matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "{who}: the bystander's connection: {r:?}"
        );
    }
    let stats = served(cc.addr(), &certs, b"stats\r\n");
    let lines = common::stat_lines(&stats);
    let errors = lines
        .iter()
        .find(|(k, _)| k == "ssl_handshake_errors")
        .map(|(_, v)| v.as_str());
    assert_eq!(errors, Some("3"), "{lines:?}");
}

/// `ssl_verify_mode=2` with `ssl_ca_cert`: a client without a certificate is refused, one
/// with a certificate the CA signed is served, as by memcached.
#[test]
fn client_certificates_required() {
    let Some(certs) = make_certs("tls-verify") else {
        return;
    };
    let extra = format!("ssl_verify_mode=2,ssl_ca_cert={}", certs.path("ca.pem"));
    let mc = memcached_tls(&certs, &extra);
    let cc = corecached_tls(&certs, &extra, &[]);
    let mut addrs = vec![("corecached", cc.addr())];
    if let Some(m) = &mc {
        addrs.push(("memcached", m.addr()));
    }
    for (who, addr) in addrs {
        let without = tls_exchange(addr, &certs, false, b"version\r\n");
        assert_eq!(without.code, 2, "{who} without a certificate: {without:?}");
        assert!(without.bytes.is_empty(), "{who}: {without:?}");
        let with = tls_exchange(addr, &certs, true, b"version\r\n");
        assert_eq!(with.code, 0, "{who} with a certificate: {with:?}");
        assert_eq!(with.bytes, b"VERSION 1.6.18\r\n", "{who}");
    }
}

/// `ssl_verify_mode=2` without `ssl_ca_cert` starts, as memcached starts, with one
/// warning, and refuses every client at its handshake, with a certificate or without (none
/// can be checked): never served in the clear, never served unchecked.
#[test]
fn client_certificates_required_without_a_ca_refuse_everyone() {
    let Some(certs) = make_certs("tls-verify-noca") else {
        return;
    };
    let extra = "ssl_verify_mode=2";
    let mc = memcached_tls(&certs, extra);
    let cc = corecached_tls(&certs, extra, &[]);
    let warned = cc
        .stderr_log()
        .lines()
        .filter(|l| l.contains("ssl_verify_mode=2 without ssl_ca_cert"))
        .count();
    assert_eq!(warned, 1, "{}", cc.stderr_log());
    let mut addrs = vec![("corecached", cc.addr())];
    if let Some(m) = &mc {
        addrs.push(("memcached", m.addr()));
    }
    for (who, addr) in addrs {
        for cert in [false, true] {
            let r = tls_exchange(addr, &certs, cert, b"version\r\n");
            assert_ne!(r.code, 0, "{who}, client certificate {cert}: {r:?}");
            assert!(
                r.bytes.is_empty(),
                "{who}, client certificate {cert}: {r:?}"
            );
        }
    }
}

/// The TLS lines of `stats settings` equal memcached's for the same options; `stats`
/// shows memcached's TLS keys, in its order, only with `-Z`.
#[test]
fn tls_stats_match_memcached() {
    let Some(certs) = make_certs("tls-stats") else {
        return;
    };
    let extra = format!(
        "ssl_verify_mode=1,ssl_ca_cert={},ssl_session_cache,ssl_min_version=3,ssl_ciphers=HIGH",
        certs.path("ca.pem")
    );
    let Some(mc) = memcached_tls(&certs, &extra) else {
        return;
    };
    let cc = corecached_tls(&certs, &extra, &[]);
    let tls_lines = |addr, group: &[u8]| -> Vec<(String, String)> {
        common::stat_lines(&served(addr, &certs, group))
            .into_iter()
            .filter(|(k, _)| k.starts_with("ssl_") || k.contains("cert"))
            .collect()
    };
    let want = tls_lines(mc.addr(), b"stats settings\r\n");
    assert_eq!(want.len(), 11, "{want:?}");
    assert_eq!(tls_lines(cc.addr(), b"stats settings\r\n"), want);
    // `stats`: the names in order (their values are counts and times).
    let names = |addr| -> Vec<String> {
        let all = common::stat_lines(&served(addr, &certs, b"stats\r\n"));
        let at = all.iter().position(|(k, _)| k == "log_watchers").unwrap();
        all[at..at + 5].iter().map(|(k, _)| k.clone()).collect()
    };
    assert_eq!(names(cc.addr()), names(mc.addr()));
    assert_eq!(
        names(cc.addr())[1..4],
        [
            "ssl_new_sessions",
            "ssl_handshake_errors",
            "time_since_server_cert_refresh"
        ]
    );
}

/// Without `-Z` neither server shows TLS counters, and both show TLS as off.
#[test]
fn plaintext_server_shows_tls_off() {
    let Some(mc) = MemcachedServer::start(&[]) else {
        return;
    };
    let cc = CorecachedServer::start(&["-t", "2"]);
    let lines = |addr| -> (Vec<(String, String)>, Vec<String>) {
        let mut s = common::open_client(addr);
        let settings = common::roundtrip(&mut s, b"stats settings\r\n", b"END\r\n");
        let stats = common::roundtrip(&mut s, b"stats\r\n", b"END\r\n");
        let tls = |(k, _): &(String, String)| k.starts_with("ssl_") || k.contains("cert");
        (
            common::stat_lines(&settings)
                .into_iter()
                .filter(tls)
                .collect(),
            common::stat_lines(&stats)
                .into_iter()
                .filter(tls)
                .map(|(k, _)| k)
                .collect(),
        )
    };
    let (settings, stats) = lines(mc.addr());
    assert_eq!(settings.len(), 11, "{settings:?}");
    assert!(stats.is_empty(), "{stats:?}");
    assert_eq!(lines(cc.addr()), (settings, stats));
    let mut s = common::open_client(cc.addr());
    assert_eq!(
        common::roundtrip(&mut s, b"refresh_certs\r\n", b"\r\n"),
        b"Error TLS not enabled\r\n"
    );
}

/// A certificate or key that cannot be used is one start-up sentence naming the option
/// and the file, with memcached's exit status.
#[test]
fn bad_certificates_are_one_start_up_sentence() {
    let Some(certs) = make_certs("tls-start-errors") else {
        return;
    };
    let missing = certs.path("missing.pem");
    let cases = [
        (
            format!("ssl_chain_cert={missing},ssl_key={}", certs.path("key.pem")),
            format!("ssl_chain_cert={missing}"),
        ),
        (
            format!(
                "ssl_chain_cert={},ssl_key={missing}",
                certs.path("cert.pem")
            ),
            format!("ssl_key={missing}"),
        ),
        (
            // A key that is not the certificate's.
            format!(
                "ssl_chain_cert={},ssl_key={}",
                certs.path("cert.pem"),
                certs.path("key2.pem")
            ),
            format!("ssl_key={}", certs.path("key2.pem")),
        ),
        (
            format!(
                "{},ssl_ca_cert={missing}",
                certs.server_opts("ssl_verify_mode=2")
            ),
            format!("ssl_ca_cert={missing}"),
        ),
    ];
    for (opts, needle) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_corecached"))
            .args(["-p", "0", "-l", "127.0.0.1", "-Z", "-o", &opts])
            .stdin(Stdio::null())
            .output()
            .expect("run corecached");
        let text = String::from_utf8_lossy(&out.stderr);
        // memcached's EX_USAGE.
        assert_eq!(out.status.code(), Some(64), "{opts}: {text}");
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{opts}: {text}");
        assert!(lines[0].contains(&needle), "{opts}: {text}");
    }
}

/// `refresh_certs` after the files are replaced: new clients get the new certificate,
/// and a file that cannot be loaded is an error line that changes nothing.
#[test]
fn refresh_certs_serves_the_new_certificate() {
    let Some(certs) = make_certs("tls-refresh") else {
        return;
    };
    let cc = corecached_tls(&certs, "", &[]);
    let first = tls_exchange(cc.addr(), &certs, false, b"version\r\n");
    assert_eq!(first.serial.as_deref(), Some("1001"), "{first:?}");
    for (from, to) in [("cert2.pem", "cert.pem"), ("key2.pem", "key.pem")] {
        std::fs::copy(certs.dir.join(from), certs.dir.join(to)).unwrap();
    }
    assert_eq!(served(cc.addr(), &certs, b"refresh_certs\r\n"), b"OK\r\n");
    let second = tls_exchange(cc.addr(), &certs, false, b"version\r\n");
    assert_eq!(second.serial.as_deref(), Some("2002"), "{second:?}");
    assert_eq!(second.bytes, b"VERSION 1.6.18\r\n");
    std::fs::write(certs.dir.join("cert.pem"), "not a certificate\n").unwrap();
    let failed = served(cc.addr(), &certs, b"refresh_certs\r\n");
    assert!(
        failed.starts_with(b"Error loading the certificates: -o ssl_chain_cert=")
            && failed.ends_with(b"\r\n"),
        "{}",
        common::show(&failed)
    );
    let third = tls_exchange(cc.addr(), &certs, false, b"version\r\n");
    assert_eq!(third.serial.as_deref(), Some("2002"), "{third:?}");
}

/// An idle TLS connection parks (its session stays in the ring's slot, no task) and is
/// served again when it next sends, a large value included.
#[test]
fn tls_connections_park_and_resume() {
    let Some(certs) = make_certs("tls-park") else {
        return;
    };
    let cc = corecached_tls(&certs, "", &["--park-after-ms", "20"]);
    let mut idle = TlsConn::open(cc.addr(), &certs);
    let mut watcher = TlsConn::open(cc.addr(), &certs);
    assert_eq!(idle.exchange(b"set x 0 0 3\r\nabc\r\n"), b"STORED\r\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = common::stat_lines(&watcher.exchange(b"stats\r\n"));
        let parked = stats
            .iter()
            .find(|(k, _)| k == "parked_connections")
            .map(|(_, v)| v.parse::<u64>().unwrap());
        // The watcher is being served: a parked connection is the idle one.
        if parked >= Some(1) {
            break;
        }
        assert!(Instant::now() < deadline, "never parked: {stats:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        idle.exchange(b"get x\r\n"),
        b"VALUE x 0 3\r\nabc\r\nEND\r\n"
    );
    let big = vec![b'z'; 500_000];
    let mut set = b"set y 7 0 500000\r\n".to_vec();
    set.extend_from_slice(&big);
    set.extend_from_slice(b"\r\n");
    assert_eq!(idle.exchange(&set), b"STORED\r\n");
    let mut want = b"VALUE y 7 500000\r\n".to_vec();
    want.extend_from_slice(&big);
    want.extend_from_slice(b"\r\nVALUE x 0 3\r\nabc\r\nEND\r\n");
    assert!(
        idle.exchange(b"get y x\r\n") == want,
        "the large reply differs"
    );
}

/// A watcher over TLS (`watch`) gets the lines of other clients' requests, encrypted like
/// any reply.
#[test]
fn a_watcher_over_tls_sees_other_clients_requests() {
    let Some(certs) = make_certs("tls-watch") else {
        return;
    };
    let cc = corecached_tls(&certs, "", &[]);
    let addr = cc.addr();
    std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            tls_exchange_until(
                addr,
                &certs,
                false,
                b"watch mutations\r\n",
                Some("size=2\n"),
            )
        });
        let end = Instant::now() + Duration::from_secs(10);
        while !String::from_utf8_lossy(&served(addr, &certs, b"stats\r\n"))
            .contains("STAT log_watchers 1\r\n")
        {
            assert!(
                Instant::now() < end,
                "the TLS watcher did not join within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            served(addr, &certs, b"set tk 0 0 2\r\nhi\r\n"),
            b"STORED\r\n"
        );
        let r = watcher.join().unwrap();
        assert_eq!(r.code, 0, "{}", r.stderr);
        let text = String::from_utf8(r.bytes).unwrap();
        assert!(text.starts_with("OK\r\nts="), "{text}");
        assert!(
            text.contains(" gid=1 type=item_store key=tk status=stored cmd=set ttl=0 clsid=1 cfd=")
                && text.ends_with(" size=2\n"),
            "{text}"
        );
    });
}
