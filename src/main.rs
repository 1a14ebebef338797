//! The corecached binary: flags, logging, then [`corecached::server::serve_until_stopped`].

use std::process::ExitCode;

use clap::Parser;
use corecached::config::{Args, Settings};

fn main() -> ExitCode {
    let args = Args::parse();
    corecached::verbosity::init(args.verbose);
    let online = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let settings = match Settings::from_args(&args, online) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("corecached: {e}");
            return ExitCode::from(64);
        }
    };
    for a in &settings.addrs {
        if !a.ip().is_loopback() {
            log::warn!("listening on non-loopback address {a}: reachable from the network");
        }
    }
    // A panic is a bug; but a shard whose executor died must not leave the server running
    // with a silently missing shard: say so and end the process.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed").to_string();
        log::error!("{name} failed ({info}); exiting: the server cannot run without a shard");
        eprintln!("corecached: {name} failed; exiting");
        std::process::exit(70);
    }));
    // Large buffers (values near -I) always come from mmap and go back to the kernel when
    // freed: glibc's moving threshold would otherwise keep them in the heap, and resident
    // memory would drift above what the store accounts for.
    // SAFETY: mallopt is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
    }
    match corecached::server::serve_until_stopped(settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corecached: {e}");
            ExitCode::from(e.code)
        }
    }
}
