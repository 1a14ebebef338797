//! `--metrics ADDR:PORT`: Prometheus' text format over HTTP, so no exporter process is needed.
//!
//! ```text
//!   scraper ─GET /metrics─► shard 0, "metrics" task queue (low priority)
//!                              │ families::collect: every shard's counters, the stats groups
//!                              │ (conn::stat_pairs), engine tasks, latency histograms
//!                              ▼
//!                           exposition::render ─► 200 text/plain; version=0.0.4
//! ```
//!
//! The endpoint is not the request path: it runs on shard 0's executor in a task queue of
//! its own with the engine tasks' low shares, over glommio's sockets (not the shard's
//! network ring), and reads the other shards' counters without asking them anything. A
//! scraper is bounded in what it can hold: [`MAX_SCRAPERS`] connections at once, a request
//! head of [`http::MAX_HEAD`] bytes that must arrive within [`HEAD_TIMEOUT`], and a reply
//! that must be taken within [`WRITE_TIMEOUT`]; past any of them its connection closes.
//!
//! - [`http`]: the request head parser and response heads (pure).
//! - [`exposition`]: the text format: families, samples, escaping (pure).
//! - [`families`]: what a scrape exposes, under memcached_exporter's names and corecached's.

pub mod exposition;
pub mod families;
pub mod http;

use std::cell::Cell;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};

use crate::latency::Histograms;
use crate::shard::Shard;

/// Scrapers served at once; more are closed as soon as accepted.
pub const MAX_SCRAPERS: usize = 16;
/// How long a request head may take to arrive once its first byte has.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a kept-alive connection may wait for its next request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a response may take to be written.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Prometheus' text format, version 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `--metrics`' value: an IP address and a port.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|_| {
        format!(
            "expected ADDR:PORT with an IP address, e.g. 127.0.0.1:9150 or [::1]:9150, not \"{s}\""
        )
    })
}

/// Binds `--metrics`' address at start-up (before privileges are dropped), and logs where
/// it listens (the real port when asked for port 0). The descriptor goes to shard 0.
pub fn bind(addr: Option<SocketAddr>) -> Result<Option<RawFd>, String> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let listener = std::net::TcpListener::bind(addr).map_err(|e| {
        format!("--metrics {addr}: cannot listen there ({e}); choose a free address and port")
    })?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    if !local.ip().is_loopback() {
        log::warn!(
            "--metrics {local}: metrics are reachable from the network, without authentication"
        );
    }
    log::info!(target: crate::server::STARTED_TARGET, "metrics on http://{local}/metrics");
    Ok(Some(listener.into_raw_fd()))
}

/// Serves scrapers on the listening descriptor `fd` until the task is dropped; every
/// connection's task goes into `tq`.
pub async fn serve(
    fd: RawFd,
    shard: Rc<Shard>,
    latency: Arc<Vec<Arc<Histograms>>>,
    tq: glommio::TaskQueueHandle,
) {
    // SAFETY: the descriptor was bound by `bind` and handed to this shard alone.
    let listener = unsafe { TcpListener::from_raw_fd(fd) };
    let active = Rc::new(Cell::new(0usize));
    let failures = crate::ratelog::RateLog::new(5);
    loop {
        let stream = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                if let Some(note) = failures.admit() {
                    log::warn!("metrics: accept failed: {e}{note}");
                }
                // A full descriptor table clears as connections close: wait, not spin.
                glommio::timer::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if active.get() >= MAX_SCRAPERS {
            drop(stream);
            continue;
        }
        let slot = Slot::take(&active);
        let shard = shard.clone();
        let latency = latency.clone();
        let task = glommio::spawn_local_into(
            async move {
                let _slot = slot;
                serve_scraper(stream, &shard, &latency).await;
            },
            tq,
        );
        match task {
            Ok(t) => {
                t.detach();
            }
            Err(e) => log::warn!("metrics: cannot serve a scraper: {e}"),
        }
    }
}

/// One of the [`MAX_SCRAPERS`] places, given back when its connection ends.
struct Slot(Rc<Cell<usize>>);

impl Slot {
    fn take(active: &Rc<Cell<usize>>) -> Slot {
        active.set(active.get() + 1);
        Slot(active.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// Answers one connection's requests until it closes, asks to, sends a bad request, or
/// runs out of time.
async fn serve_scraper(mut stream: TcpStream, shard: &Shard, latency: &[Arc<Histograms>]) {
    let mut buf = vec![0u8; http::MAX_HEAD];
    let mut len = 0;
    let mut head_started: Option<Instant> = None;
    loop {
        let (response, close, used) = match http::parse(&buf[..len]) {
            http::Parse::Incomplete => {
                let deadline = match head_started {
                    Some(t) => t + HEAD_TIMEOUT,
                    None => Instant::now() + IDLE_TIMEOUT,
                };
                let read = async { stream.read(&mut buf[len..]).await.ok() };
                let timeout = async {
                    glommio::timer::sleep(deadline.saturating_duration_since(Instant::now())).await;
                    None
                };
                match futures_lite::future::or(read, timeout).await {
                    Some(n) if n > 0 => {
                        head_started.get_or_insert_with(Instant::now);
                        len += n;
                        continue;
                    }
                    _ => return,
                }
            }
            http::Parse::Bad => (plain(400, "Bad Request\n", true, ""), true, len),
            http::Parse::Done(req, used) => (respond(&req, shard, latency), req.close, used),
        };
        let write = async { stream.write_all(&response).await.is_ok() };
        let timeout = async {
            glommio::timer::sleep(WRITE_TIMEOUT).await;
            false
        };
        if !futures_lite::future::or(write, timeout).await || close {
            return;
        }
        buf.copy_within(used..len, 0);
        len -= used;
        head_started = (len > 0).then(Instant::now);
    }
}

/// The whole response to a parsed request.
fn respond(req: &http::Request<'_>, shard: &Shard, latency: &[Arc<Histograms>]) -> Vec<u8> {
    match (req.method, req.path) {
        (http::Method::Get | http::Method::Head, b"/metrics") => {
            let body = exposition::render(&families::collect(shard, latency));
            let mut out =
                http::response_head(200, CONTENT_TYPE, body.len(), req.close, "").into_bytes();
            if req.method == http::Method::Get {
                out.extend_from_slice(body.as_bytes());
            }
            out
        }
        (http::Method::Get | http::Method::Head, _) => {
            let mut out = plain(404, "Not Found\n", req.close, "");
            if req.method == http::Method::Head {
                out.truncate(out.len() - "Not Found\n".len());
            }
            out
        }
        (http::Method::Other, _) => plain(
            405,
            "Method Not Allowed\n",
            req.close,
            "Allow: GET, HEAD\r\n",
        ),
    }
}

fn plain(status: u16, body: &str, close: bool, extra: &str) -> Vec<u8> {
    let mut out = http::response_head(
        status,
        "text/plain; charset=utf-8",
        body.len(),
        close,
        extra,
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}
