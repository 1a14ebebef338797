//! Test harness shared by the integration tests (`mod common;`): starting
//! corecached and memcached on 127.0.0.1, exchanging raw bytes with a server, and
//! comparing replies with the recorded corpus in [`cases`].
#![allow(dead_code)]

pub mod binary;
pub mod cases;
pub mod meta_cases;
pub mod process;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::FromRawFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cases::{intended_difference, Case, CAS_SCENARIO};

/// The meta no-op appended after every request; memcached answers `MN\r\n`.
pub const SENTINEL: &[u8] = b"mn\r\n";
pub const SENTINEL_REPLY: &[u8] = b"MN\r\n";
/// How long a single exchange may wait for the server.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Renders bytes for assertion messages: printable ASCII as is, `\r`, `\n`, `\t`,
/// `\\` and everything else as `\xNN`.
pub fn show(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// [`show`], cut to about `limit` characters for very long byte strings.
pub fn show_short(bytes: &[u8], limit: usize) -> String {
    let s = show(bytes);
    if s.len() <= limit {
        s
    } else {
        let mut cut = limit;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}... ({} bytes in all)", &s[..cut], bytes.len())
    }
}

// ---------------------------------------------------------------------------
// corecached

/// A corecached process on 127.0.0.1 with an ephemeral port; killed on drop.
pub struct CorecachedServer {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    /// The thread that reads stderr: it ends at the end of the stream.
    reader: Option<thread::JoinHandle<()>>,
}

/// Number of shards the arguments ask for (`--threads N`, `--threads=N`, `-t N`).
fn thread_count(args: &[&str]) -> usize {
    let mut n = 1;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if *a == "--threads" || *a == "-t" {
            if let Some(v) = it.next() {
                n = v.parse().expect("--threads takes a number");
            }
        } else if let Some(v) = a.strip_prefix("--threads=") {
            n = v.parse().expect("--threads takes a number");
        }
    }
    n
}

/// The port in a line containing `listening on 127.0.0.1:<port>`.
fn listening_port(line: &str) -> Option<u16> {
    const NEEDLE: &str = "listening on 127.0.0.1:";
    let rest = &line[line.find(NEEDLE)? + NEEDLE.len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

impl CorecachedServer {
    /// Starts `corecached -p 0 -l 127.0.0.1 -v <args>` and waits (at most 10 s)
    /// until every shard has printed `listening on 127.0.0.1:<port>`.
    pub fn start(args: &[&str]) -> CorecachedServer {
        Self::start_expecting(args, thread_count(args))
    }

    /// [`CorecachedServer::start`] for a server that runs `shards` shards (fewer than its
    /// `--threads` when `-m` cannot hold that many).
    pub fn start_expecting(args: &[&str], shards: usize) -> CorecachedServer {
        Self::start_watching(args, shards, |_| {})
    }

    /// [`CorecachedServer::start_expecting`], calling `watch` with each line the server
    /// writes to stderr (from the thread that reads them) from its start on: a test can act
    /// on what the server says before it listens.
    pub fn start_watching(
        args: &[&str],
        shards: usize,
        mut watch: impl FnMut(&str) + Send + 'static,
    ) -> CorecachedServer {
        // CORECACHED_BIN runs the tests against another build (an older commit's, to see a
        // regression test fail there).
        let bin = std::env::var_os("CORECACHED_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_corecached")));
        let mut child = Command::new(bin)
            .args(["-p", "0", "-l", "127.0.0.1", "-v"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot spawn corecached");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let reader;
        {
            let log = Arc::clone(&log);
            // Reads stderr for the whole life of the process so the pipe never fills.
            reader = Some(thread::spawn(move || {
                let mut reader = BufReader::new(stderr);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let text = String::from_utf8_lossy(&line).trim_end().to_string();
                            watch(&text);
                            {
                                let mut log = log.lock().unwrap();
                                if log.len() >= 500 {
                                    log.remove(0);
                                }
                                log.push(text.clone());
                            }
                            let _ = tx.send(text); // the receiver is gone once started
                        }
                    }
                }
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut port = None;
        let mut seen = 0;
        while seen < shards {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    panic!(
                        "corecached {args:?} did not report {shards} listening shard(s) \
                         ({seen} seen, {e:?}, exit status {status:?}); stderr:\n{}",
                        log.lock().unwrap().join("\n")
                    );
                }
            };
            if let Some(p) = listening_port(&line) {
                if let Some(prev) = port {
                    assert_eq!(prev, p, "shards report different ports: {line}");
                }
                port = Some(p);
                seen += 1;
            }
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], port.unwrap()));
        CorecachedServer {
            child,
            addr,
            log,
            reader,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (bounded) for the server to exit on its own; its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(st) = self.child.try_wait().expect("wait") {
                // Let the stderr reader catch up with the last lines.
                thread::sleep(Duration::from_millis(100));
                return Some(st.code().unwrap_or(-1));
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` to the server and waits (bounded) for it to exit; its exit code.
    pub fn signal_and_wait(&mut self, signal: i32, limit: Duration) -> Option<i32> {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + limit;
        loop {
            if let Some(st) = self.child.try_wait().expect("wait") {
                return st.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the server wrote to stderr (the last 500 lines), once it has exited: waits
    /// for the reader to reach the end of the stream. Panics if the server still runs.
    pub fn stderr_log_at_exit(&mut self) -> String {
        assert!(
            self.child.try_wait().expect("wait").is_some(),
            "the server still runs"
        );
        if let Some(r) = self.reader.take() {
            r.join().expect("the stderr reader");
        }
        self.stderr_log()
    }

    /// Resident memory of the server process, in bytes (VmRSS).
    pub fn rss(&self) -> usize {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the server is running");
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .expect("VmRSS in /proc/PID/status");
        let kb: usize = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .expect("VmRSS value");
        kb * 1024
    }

    /// The stderr lines seen so far (the last 500), for failure messages.
    pub fn stderr_log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Panics (with the server's stderr) if the process has exited.
    pub fn assert_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "corecached exited with {status}; stderr:\n{}",
                self.stderr_log()
            );
        }
    }
}

impl Drop for CorecachedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// memcached (the oracle)

/// `/usr/bin/memcached`, else `memcached` on PATH.
pub fn memcached_path() -> Option<PathBuf> {
    let usr = PathBuf::from("/usr/bin/memcached");
    if usr.is_file() {
        return Some(usr);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("memcached"))
            .find(|p| p.is_file())
    })
}

/// A memcached process on 127.0.0.1; killed on drop.
pub struct MemcachedServer {
    child: Child,
    addr: SocketAddr,
}

impl MemcachedServer {
    /// Starts `memcached -u root -l 127.0.0.1 -p -1 -U 0 -t 1 <extra>`, or returns
    /// None (with a message) when memcached is not installed.
    ///
    /// `-p -1` makes memcached bind port 0 itself, and `MEMCACHED_PORT_FILENAME`
    /// makes it write the port it got to a file, renamed into place once it
    /// listens (how memcached's own test suite finds it). Picking a free port
    /// here and passing it on would race with every other test binding port 0:
    /// another server could take the port in between, and then the readiness
    /// probe would reach that server instead of this memcached.
    pub fn start(extra: &[&str]) -> Option<MemcachedServer> {
        MemcachedServer::start_with_env(extra, &[])
    }

    /// [`MemcachedServer::start`] with `env` added to memcached's environment alone.
    pub fn start_with_env(
        extra: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Option<MemcachedServer> {
        let Some(bin) = memcached_path() else {
            eprintln!(
                "memcached not installed, skipping differential test: \
                 install with apt-get install memcached"
            );
            return None;
        };
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port_file = std::env::temp_dir().join(format!(
            "corecached-test-memcached-{}-{n}.port",
            std::process::id()
        ));
        let err_file = port_file.with_extension("stderr");
        let _ = std::fs::remove_file(&port_file);
        let stderr =
            std::fs::File::create(&err_file).expect("cannot create memcached's stderr file");
        let mut child = Command::new(&bin)
            .args(["-u", "root", "-l", "127.0.0.1", "-p", "-1"])
            .args(["-U", "0", "-t", "1"])
            .args(extra)
            .env("MEMCACHED_PORT_FILENAME", &port_file)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("cannot spawn memcached");
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            // The file appears (by rename) only once it is complete.
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let port = text
                    .lines()
                    .find_map(|l| l.strip_prefix("TCP INET: "))
                    .and_then(|p| p.trim().parse::<u16>().ok());
                let _ = std::fs::remove_file(&port_file);
                break port
                    .unwrap_or_else(|| panic!("memcached {extra:?} wrote no TCP port: {text:?}"));
            }
            if let Ok(Some(status)) = child.try_wait() {
                let err = std::fs::read_to_string(&err_file).unwrap_or_default();
                let _ = std::fs::remove_file(&err_file);
                panic!("memcached {extra:?} exited at start ({status}): {err}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("memcached {extra:?} did not report its port within 10 s");
            }
            thread::sleep(Duration::from_millis(5));
        };
        let _ = std::fs::remove_file(&err_file);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("memcached {extra:?} reported {addr} but: {e}"));
        Some(MemcachedServer { child, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MemcachedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// exchanging bytes

/// What a server answered to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Everything before the sentinel's `MN\r\n` (which is stripped), or
    /// everything until the server closed the connection.
    pub bytes: Vec<u8>,
    /// The server closed the connection instead of answering the sentinel.
    pub closed: bool,
}

fn is_disconnect(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::BrokenPipe
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::UnexpectedEof
    )
}

/// Writes `chunks` in order (each one a separate `write_all`), ignoring errors
/// caused by the server closing the connection.
fn write_chunks(stream: &mut TcpStream, chunks: &[&[u8]]) -> std::io::Result<()> {
    for chunk in chunks {
        match stream.write_all(chunk).and_then(|_| stream.flush()) {
            Ok(()) => {}
            Err(e) if is_disconnect(&e) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads until the buffer ends with the sentinel reply (stripped), EOF or reset
/// (closed), or panics after [`READ_TIMEOUT`] without progress.
fn read_reply(stream: &mut TcpStream, what: &str) -> Reply {
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if buf.ends_with(SENTINEL_REPLY) {
            buf.truncate(buf.len() - SENTINEL_REPLY.len());
            return Reply {
                bytes: buf,
                closed: false,
            };
        }
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Reply {
                    bytes: buf,
                    closed: true,
                }
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if is_disconnect(&e) => {
                return Reply {
                    bytes: buf,
                    closed: true,
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!(
                    "timed out after {READ_TIMEOUT:?} waiting for the reply to {what}; \
                     received so far: \"{}\"",
                    show_short(&buf, 4000)
                );
            }
            Err(e) => panic!(
                "read error ({e}) on {what}; received so far: \"{}\"",
                show(&buf)
            ),
        }
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, READ_TIMEOUT)
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    stream.set_nodelay(true).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

/// Sends `chunks` (each a separate write, in a writer thread so that a large
/// request cannot deadlock against a large reply) followed by the sentinel, and
/// reads the reply.
pub fn exchange_chunks(addr: SocketAddr, chunks: Vec<Vec<u8>>) -> Reply {
    let mut stream = connect(addr);
    let mut writer = stream.try_clone().unwrap();
    let what = format!(
        "a {}-byte request starting \"{}\"",
        chunks.iter().map(Vec::len).sum::<usize>(),
        show_short(chunks.first().map(Vec::as_slice).unwrap_or(b""), 80)
    );
    let handle = thread::spawn(move || {
        let refs: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        let r = write_chunks(&mut writer, &refs);
        let r = r.and_then(|_| write_chunks(&mut writer, &[SENTINEL]));
        r.map_err(|e| e.to_string())
    });
    let reply = read_reply(&mut stream, &what);
    let _ = stream.shutdown(Shutdown::Both);
    if let Err(e) = handle.join().expect("writer thread panicked") {
        panic!("write error on {what}: {e}");
    }
    reply
}

/// Sends `req` on a fresh connection, then the sentinel `mn\r\n`, and returns
/// what came back before the sentinel's `MN\r\n` (or before the server closed).
pub fn exchange(addr: SocketAddr, req: &[u8]) -> Reply {
    exchange_chunks(addr, vec![req.to_vec()])
}

/// [`exchange`] with the request cut into writes of `size` bytes.
pub fn exchange_fragmented(addr: SocketAddr, req: &[u8], size: usize) -> Reply {
    exchange_chunks(addr, req.chunks(size).map(<[u8]>::to_vec).collect())
}

/// One connection used for several exchanges in a row.
pub struct Conn {
    stream: TcpStream,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> Conn {
        Conn {
            stream: connect(addr),
        }
    }

    /// Sends `req` plus the sentinel and reads up to the sentinel's reply.
    pub fn exchange(&mut self, req: &[u8]) -> Reply {
        let mut all = req.to_vec();
        all.extend_from_slice(SENTINEL);
        write_chunks(&mut self.stream, &[&all]).expect("write error");
        read_reply(&mut self.stream, &format!("\"{}\"", show_short(req, 200)))
    }
}

// ---------------------------------------------------------------------------
// comparing with the corpus

/// Replaces the cas unique of every `VALUE <key> <flags> <bytes> <cas>` line with
/// `<cas>`, skipping over data blocks; errors on malformed replies.
pub fn normalize_cas(reply: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(reply.len());
    let mut rest = reply;
    while !rest.is_empty() {
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            out.extend_from_slice(rest);
            break;
        };
        let line = &rest[..=nl];
        rest = &rest[nl + 1..];
        if !line.starts_with(b"VALUE ") {
            out.extend_from_slice(line);
            continue;
        }
        let text = line
            .strip_suffix(b"\r\n")
            .ok_or_else(|| format!("VALUE line without \\r\\n: \"{}\"", show(line)))?;
        let mut tokens: Vec<&[u8]> = text.split(|&b| b == b' ').collect();
        let len: usize = std::str::from_utf8(tokens.get(3).copied().unwrap_or(b""))
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad length in \"{}\"", show(line)))?;
        if tokens.len() == 5 {
            if tokens[4].is_empty() || !tokens[4].iter().all(u8::is_ascii_digit) {
                return Err(format!("bad cas unique in \"{}\"", show(line)));
            }
            tokens[4] = b"<cas>";
        }
        out.extend_from_slice(&tokens.join(&b' '));
        out.extend_from_slice(b"\r\n");
        let take = (len + 2).min(rest.len());
        out.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
    }
    Ok(out)
}

/// The weaker check for cases listed in `INTENDED_DIFFERENCES`, chosen by the
/// shape of the recorded reply.
pub fn check_intended(expected: &[u8], actual: &[u8]) -> Result<(), String> {
    if expected.starts_with(b"STAT ") {
        let Some(body) = actual.strip_suffix(b"END\r\n") else {
            return Err("a stats reply must end with END\\r\\n".into());
        };
        let mut names = Vec::new();
        for line in body.split_inclusive(|&b| b == b'\n') {
            let Some(line) = line.strip_suffix(b"\r\n") else {
                return Err(format!("stats line without \\r\\n: \"{}\"", show(line)));
            };
            let tokens: Vec<&[u8]> = line.splitn(3, |&b| b == b' ').collect();
            if tokens.len() != 3 || tokens[0] != b"STAT" || tokens[1].is_empty() {
                return Err(format!("malformed stats line \"{}\"", show(line)));
            }
            names.push(tokens[1].to_vec());
        }
        for needed in [&b"pid"[..], b"uptime"] {
            if !names.iter().any(|n| n == needed) {
                return Err(format!("stats lack STAT {}", show(needed)));
            }
        }
        return Ok(());
    }
    let e = normalize_cas(expected).map_err(|e| format!("recorded reply: {e}"))?;
    let a = normalize_cas(actual)?;
    if e == a {
        Ok(())
    } else {
        Err(format!(
            "differs even with cas uniques masked:\n    expected: \"{}\"\n    actual:   \"{}\"",
            show_short(&e, 2000),
            show_short(&a, 2000)
        ))
    }
}

/// Compares `actual` with what the corpus says for `case`: exact bytes and close
/// flag, or [`check_intended`] for cases listed in `INTENDED_DIFFERENCES`.
pub fn check_reply(case: &Case, actual: &Reply) -> Result<(), String> {
    compare(case.name, case.req, case.reply, case.closes, actual)
}

/// Like [`check_reply`] with an explicit expected reply (e.g. memcached's live one).
pub fn compare(
    name: &str,
    req: &[u8],
    expected: &[u8],
    expected_closed: bool,
    actual: &Reply,
) -> Result<(), String> {
    let head = |why: String| {
        format!(
            "case {name}: {why}\n  request:  \"{}\"\n  expected: \"{}\" (closed={expected_closed})\n  actual:   \"{}\" (closed={})",
            show_short(req, 600),
            show_short(expected, 2000),
            show_short(&actual.bytes, 2000),
            actual.closed
        )
    };
    if let Some(reason) = intended_difference(name) {
        if actual.closed != expected_closed {
            return Err(head("connection close differs".into()));
        }
        return check_intended(expected, &actual.bytes)
            .map_err(|e| head(format!("intended difference ({reason}) but {e}")));
    }
    if actual.bytes != expected || actual.closed != expected_closed {
        return Err(head("reply differs".into()));
    }
    Ok(())
}

/// Runs every case, in order, each on a fresh connection to `addr`, and returns
/// one message per failing case.
pub fn run_cases(addr: SocketAddr, cases: &[Case]) -> Vec<String> {
    cases
        .iter()
        .filter_map(|case| check_reply(case, &exchange(addr, case.req)).err())
        .collect()
}

/// Panics listing every failure, if any.
pub fn assert_no_failures(what: &str, failures: &[String]) {
    if !failures.is_empty() {
        panic!(
            "{what}: {} failing case(s):\n\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    }
}

/// Runs [`CAS_SCENARIO`] on one connection and returns the transcript with cas
/// uniques replaced by labels `C1`, `C2`, ... in order of first appearance.
pub fn run_cas_scenario(addr: SocketAddr) -> Vec<u8> {
    let mut conn = Conn::open(addr);
    let mut labels: Vec<Vec<u8>> = Vec::new();
    let mut last_cas: Vec<u8> = b"0".to_vec();
    let mut transcript = Vec::new();
    for step in CAS_SCENARIO {
        let req = replace_all(step, b"$CAS", &last_cas);
        let reply = conn.exchange(&req);
        assert!(
            !reply.closed,
            "connection closed during the cas scenario at \"{}\"",
            show(&req)
        );
        // Values in the scenario never contain line breaks, so lines are enough.
        let lines: Vec<&[u8]> = reply.bytes.split(|&b| b == b'\n').collect();
        let mut out_lines = Vec::new();
        for line in lines {
            let mut tokens: Vec<Vec<u8>> = line.split(|&b| b == b' ').map(<[u8]>::to_vec).collect();
            if tokens.len() == 5 && tokens[0] == b"VALUE" {
                let cas = tokens[4].strip_suffix(b"\r").unwrap_or(&tokens[4]).to_vec();
                last_cas = cas.clone();
                let idx = match labels.iter().position(|l| *l == cas) {
                    Some(i) => i,
                    None => {
                        labels.push(cas);
                        labels.len() - 1
                    }
                };
                tokens[4] = format!("C{}\r", idx + 1).into_bytes();
            }
            out_lines.push(tokens.join(&b' '));
        }
        transcript.extend_from_slice(&out_lines.join(&b'\n'));
    }
    transcript
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Whether `req` contains a command line longer than 2048 bytes that is not a
/// get/gets (memcached may close such a connection depending on how the bytes
/// are split between reads, so these cannot be pipelined deterministically).
pub fn has_long_non_get_line(req: &[u8]) -> bool {
    req.split(|&b| b == b'\n').any(|line| {
        line.len() > 2048 && {
            let trimmed = &line[line.iter().take_while(|&&b| b == b' ').count()..];
            !(trimmed.starts_with(b"get ") || trimmed.starts_with(b"gets "))
        }
    })
}

/// Multi-command requests (one with a 100 KiB value) for the fragmentation tests;
/// every request starts by setting its keys, so it can be replayed.
pub fn fragment_requests() -> Vec<Vec<u8>> {
    let mut big = b"set frag_big 5 0 102400\r\n".to_vec();
    big.extend((0..102_400u32).map(|i| b"0123456789abcdef\r\n"[(i % 18) as usize]));
    big.extend_from_slice(
        b"\r\nget frag_big frag_missing frag_big\r\nappend frag_big 0 0 2\r\n!!\r\n",
    );
    big.extend_from_slice(b"gets frag_missing\r\ndelete frag_big\r\nget frag_big\r\n");
    vec![
        b"set frag_a 1 0 5\r\nhello\r\nget frag_a\r\nappend frag_a 0 0 6\r\n world\r\nget frag_a frag_none\r\n"
            .to_vec(),
        b"set frag_n 0 0 2\r\n10\r\nincr frag_n 5\r\ndecr frag_n 20\r\nincr frag_n 18446744073709551615\r\ntouch frag_n 100\r\ndelete frag_n\r\ndelete frag_n\r\n"
            .to_vec(),
        b"set frag_crlf 0 0 6\r\n\r\n\r\n\r\n\r\nget frag_crlf\r\nset frag_nr 0 0 1 noreply\r\nx\r\nget frag_nr\r\nbogus\r\n\r\nset frag_bad 0 0 1\r\nxyz\r\nget frag_bad\r\n"
            .to_vec(),
        b"set frag_lf 0 0 1\nx\r\nget frag_lf\nadd frag_lf 0 0 1\r\ny\r\nreplace frag_lf 0 0 1\r\nz\r\nprepend frag_lf 0 0 1\r\na\r\ngat 0 frag_lf\r\nverbosity 0\r\n"
            .to_vec(),
        big,
    ]
}

// ---------------------------------------------------------------------------
// Small client helpers shared by the integration tests

/// A connection with a 10 s read timeout and TCP_NODELAY.
pub fn open_client(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Sends `req` and reads until the reply ends with `end`.
pub fn roundtrip(s: &mut TcpStream, req: &[u8], end: &[u8]) -> Vec<u8> {
    s.write_all(req).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    while !buf.ends_with(end) {
        let n = s.read(&mut chunk).expect("reply before the timeout");
        assert!(
            n > 0,
            "server closed; got {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
    buf
}

/// `stats <group>` on `s`, as a map.
pub fn stats_on(s: &mut TcpStream, group: &str) -> std::collections::HashMap<String, String> {
    let reply = roundtrip(s, format!("stats {group}\r\n").as_bytes(), b"END\r\n");
    stat_lines(&reply).into_iter().collect()
}

/// The `STAT name value` lines of a reply, as (name, value) pairs in the order sent.
pub fn stat_lines(reply: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(reply)
        .lines()
        .filter_map(|l| l.strip_prefix("STAT "))
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A small deterministic generator (xorshift), so failures replay.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A client socket with a 4 KiB receive buffer (set before connecting, so the window
/// never grows past it).
pub fn small_window_client(addr: SocketAddr) -> TcpStream {
    let SocketAddr::V4(v4) = addr else {
        panic!("the tests listen on 127.0.0.1")
    };
    // SAFETY: a new socket, configured and connected with plain libc calls, then owned
    // by the TcpStream.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket");
        let size: libc::c_int = 4096;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &size as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: v4.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(v4.ip().octets()),
            },
            sin_zero: [0; 8],
        };
        let r = libc::connect(
            fd,
            &sin as *const _ as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        assert_eq!(r, 0, "connect: {}", std::io::Error::last_os_error());
        TcpStream::from_raw_fd(fd)
    }
}
