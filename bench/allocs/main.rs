//! Heap allocations per request on the local get and set paths, in steady state.
//!
//! Runs the real server (one shard, `corecached::server::serve_until_stopped`) in this process under a
//! counting global allocator, drives it from a client thread that allocates nothing while
//! it measures, and prints allocations per request: for corecached, and for the no-op
//! responder (`--bench-noop`: the same connection and I/O layer without parsing or store),
//! whose count is what glommio's I/O layer allocates on its own.
//!
//!     cargo run --release --bin corecached-allocs            # corecached
//!     cargo run --release --bin corecached-allocs -- noop    # the I/O layer alone
//!     cargo run --release --bin corecached-allocs -- routed  # two shards: about half the
//!                                                            # keys are forwarded
//!
//! The load: pipelines of 16 requests (1 set, 15 gets of 32-byte values) over 1,000 keys, on
//! one connection; 20,000 pipelines of warm-up, then 20,000 measured (320,000 requests).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: delegates to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const KEYS: usize = 1000;
const DEPTH: usize = 16;
const ROUNDS: usize = 20_000;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let noop = mode == "noop";
    let routed = mode == "routed";
    if !matches!(mode.as_str(), "" | "noop" | "routed") {
        eprintln!("usage: corecached-allocs [noop | routed]");
        std::process::exit(2);
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut argv = vec![
        "corecached".to_string(),
        "-p".into(),
        port.to_string(),
        "-t".into(),
        if routed { "2" } else { "1" }.into(),
        "-m".into(),
        "64".into(),
    ];
    if noop {
        argv.push("--bench-noop".into());
    }
    let settings = corecached::config::Settings::parse_from(argv, if routed { 2 } else { 1 })
        .expect("settings");
    std::thread::spawn(move || {
        corecached::server::serve_until_stopped(settings, &mut Default::default())
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("server did not start: {e}"),
        }
    };
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();

    // Every pipeline is prebuilt; the reply of each is read into one fixed buffer.
    let value = [b'v'; 32];
    let pipelines: Vec<(Vec<u8>, usize)> = (0..KEYS)
        .map(|i| {
            let mut req = format!("set key:{i:06} 0 0 32\r\n").into_bytes();
            req.extend_from_slice(&value);
            req.extend_from_slice(b"\r\n");
            let mut reply_len = b"STORED\r\n".len();
            for j in 1..DEPTH {
                let k = (i * 7 + j * 13) % KEYS;
                req.extend_from_slice(format!("get key:{k:06}\r\n").as_bytes());
                reply_len += if noop {
                    b"END\r\n".len()
                } else {
                    format!("VALUE key:{k:06} 0 32\r\n").len() + 34 + 5
                };
            }
            (req, reply_len)
        })
        .collect();
    let mut buf = vec![0u8; 1 << 16];
    // Prefill so every get hits.
    for i in 0..KEYS {
        let req = format!("set key:{i:06} 0 0 32\r\n{}\r\n", "v".repeat(32));
        s.write_all(req.as_bytes()).unwrap();
        s.read_exact(&mut buf[..8]).unwrap();
    }
    let mut drive = |rounds: usize| {
        for r in 0..rounds {
            let (req, len) = &pipelines[r % KEYS];
            s.write_all(req).unwrap();
            s.read_exact(&mut buf[..*len]).unwrap();
        }
    };
    drive(ROUNDS);
    let before = ALLOCS.load(Relaxed);
    drive(ROUNDS);
    let after = ALLOCS.load(Relaxed);
    let requests = (ROUNDS * DEPTH) as f64;
    println!(
        "{}: {} allocations in {} requests = {:.4} per request",
        match mode.as_str() {
            "noop" => "noop responder",
            "routed" => "corecached, 2 shards (about half the requests forwarded)",
            _ => "corecached",
        },
        after - before,
        ROUNDS * DEPTH,
        (after - before) as f64 / requests
    );
    std::process::exit(0);
}
