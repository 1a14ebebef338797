//! corecached started with exactly the arguments a test gives (no `-p 0 -l 127.0.0.1 -v`
//! added, unlike [`super::CorecachedServer`]), known to serve by its start-up line; and
//! exchanges over a unix socket.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to start.
pub const START_LIMIT: Duration = Duration::from_secs(10);

/// The log target of the start-up line, as it appears in a log line.
const STARTED: &str = " corecached::started] ";

/// A running corecached; killed on drop.
pub struct Started {
    pub child: Child,
    /// The start-up line, without the log prefix.
    pub line: String,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// How a start ended without the start-up line: the exit status and stderr.
#[derive(Debug)]
pub struct Failed {
    pub code: Option<i32>,
    pub stderr: String,
}

/// Runs the corecached binary with `args` and waits (at most [`START_LIMIT`]) for its
/// start-up line; the exit status and stderr when it ends first.
pub fn start_exact(args: &[&str]) -> Result<Started, Failed> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_corecached"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn corecached");
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel::<String>();
    {
        let pipe = child.stderr.take().expect("stderr is piped");
        let stderr = stderr.clone();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                stderr.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
    }
    let deadline = Instant::now() + START_LIMIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(at) = line.find(STARTED) {
                    let line = line[at + STARTED.len()..].to_string();
                    return Ok(Started {
                        child,
                        line,
                        stderr,
                    });
                }
            }
            Err(_) => {
                // The pipe closed (the process ended) or the time is up.
                let _ = child.kill();
                let code = child.wait().ok().and_then(|s| s.code());
                let stderr = stderr.lock().unwrap().join("\n");
                return Err(Failed { code, stderr });
            }
        }
    }
}

impl Started {
    /// Every stderr line so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// The TCP addresses the start-up line names (`tcp ADDR`).
    pub fn tcp_addrs(&self) -> Vec<std::net::SocketAddr> {
        let serving = self.line.split_once(" serving ").map_or("", |(_, r)| r);
        let places = serving.split(';').next().unwrap_or("");
        places
            .split(", ")
            .filter_map(|part| part.trim().strip_prefix("tcp "))
            .map(|a| a.parse().expect("an address after tcp"))
            .collect()
    }

    /// Sends `signal` and waits (bounded) for the exit status.
    pub fn stop(&mut self, signal: i32) -> Option<i32> {
        // SAFETY: kill on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, signal) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(st) = self.child.try_wait().expect("wait") {
                return st.code();
            }
            thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `req` followed by `mn` and reads until `MN` (the replies to `req`, the `MN`
/// stripped), within [`super::READ_TIMEOUT`].
pub fn exchange_on<S: Read + Write>(s: &mut S, req: &[u8]) -> Vec<u8> {
    s.write_all(req).unwrap();
    s.write_all(super::SENTINEL).unwrap();
    let deadline = Instant::now() + super::READ_TIMEOUT;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(super::SENTINEL_REPLY) {
        assert!(
            Instant::now() < deadline,
            "no reply to {}",
            super::show(req)
        );
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e} after {}", super::show(&got)),
        }
    }
    got.truncate(got.len().saturating_sub(super::SENTINEL_REPLY.len()));
    got
}

/// A client on the unix socket at `path`, with the read timeout set.
pub fn unix_client(path: &Path) -> std::os::unix::net::UnixStream {
    let s = std::os::unix::net::UnixStream::connect(path)
        .unwrap_or_else(|e| panic!("connect to {}: {e}", path.display()));
    s.set_read_timeout(Some(super::READ_TIMEOUT)).unwrap();
    s
}

/// Waits (at most [`START_LIMIT`]) until something accepts on the unix socket at `path`.
pub fn wait_for_unix(path: &Path) -> bool {
    let deadline = Instant::now() + START_LIMIT;
    while Instant::now() < deadline {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

/// A fresh directory under the temp dir for one test, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir =
            std::env::temp_dir().join(format!("corecached-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn join(&self, p: &str) -> std::path::PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port free on 127.0.0.1 a moment ago (bound and released), for a server that cannot
/// report the port `-p 0` gave it (a daemon's parent, memcached's TLS listener).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
