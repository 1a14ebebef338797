//! The corecached binary: flags, logging, `-d`, then
//! [`corecached::server::serve_until_stopped`].

use std::process::ExitCode;

use clap::Parser;
use corecached::config::{Args, Settings};
use corecached::daemon::{self, Ready};

fn main() -> ExitCode {
    let args = Args::parse();
    if args.license {
        println!(
            "corecached {}: licensed under the MIT license or the Apache License 2.0, at your option",
            corecached::config::VERSION
        );
        return ExitCode::SUCCESS;
    }
    // Warnings by default, and the one start-up line (as memcached prints nothing else).
    corecached::verbosity::init(args.verbose);
    let online = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut settings = match Settings::from_args(&args, online) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("corecached: {e}");
            return ExitCode::from(64);
        }
    };
    for w in &settings.warnings {
        log::warn!("{w}");
    }
    for a in &settings.addrs {
        if !a.ip().is_loopback() {
            log::warn!("listening on non-loopback address {a}: reachable from the network");
        }
    }
    // Before any thread exists: a fork copies only the calling thread.
    let mut ready = Ready::default();
    if settings.daemon {
        // The daemon's working directory is /: paths given relative to this one keep
        // meaning what they meant.
        for p in [&mut settings.pid_file, &mut settings.auth_file]
            .into_iter()
            .flatten()
        {
            *p = daemon::absolute(p);
        }
        if let Some(u) = &mut settings.unix_socket {
            u.path = daemon::absolute(&u.path);
        }
        ready = match daemon::daemonize(settings.verbose > 0) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("corecached: -d/--daemon: cannot run in the background: {e}");
                return ExitCode::from(71);
            }
        };
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
    match corecached::server::serve_until_stopped(settings, &mut ready) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            ready.failed(e.code, &e.message);
            eprintln!("corecached: {e}");
            ExitCode::from(e.code)
        }
    }
}
