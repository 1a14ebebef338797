//! The log level: `-v` at start and memcached's `verbosity N` while running.
//!
//! The logger is built to pass every level and the process's maximum level
//! ([`log::set_max_level`]) does the filtering, so `verbosity` can raise it live; a log
//! call below the level still costs one relaxed load, as before. `RUST_LOG`, when set,
//! is the logger's own filter: `verbosity` then moves only within it.

use log::LevelFilter;

/// memcached's verbosity as a log level: 0 warnings, 1 info, 2 debug, 3 and up trace.
pub fn level(verbose: u32) -> LevelFilter {
    match verbose {
        0 => LevelFilter::Warn,
        1 => LevelFilter::Info,
        2 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

/// Sets up logging to stderr at `-v`'s level.
pub fn init(verbose: u8) {
    let from_env = std::env::var_os("RUST_LOG").is_some();
    let mut b = env_logger::Builder::from_env(env_logger::Env::default());
    if !from_env {
        b.filter_level(LevelFilter::Trace);
    }
    b.init();
    if !from_env {
        set(u32::from(verbose));
    }
}

/// `verbosity N`: the level from now on.
pub fn set(verbose: u32) {
    log::set_max_level(level(verbose));
}

/// The level now, as memcached's verbosity (what `stats settings` shows).
pub fn current() -> u8 {
    match log::max_level() {
        LevelFilter::Off | LevelFilter::Error | LevelFilter::Warn => 0,
        LevelFilter::Info => 1,
        LevelFilter::Debug => 2,
        LevelFilter::Trace => 3,
    }
}
