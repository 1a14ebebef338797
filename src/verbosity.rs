//! The log level: `-v` at start and memcached's `verbosity N` while running.
//!
//! The level lives here, not in env_logger's filter, so that `verbosity` can change it
//! live: a small wrapper around env_logger's logger checks it, and the process's maximum
//! level ([`log::set_max_level`]) keeps calls below it at one relaxed load. The start-up
//! line ([`crate::server::STARTED_TARGET`]) passes at every level, as the one line a
//! server started without `-v` prints. `RUST_LOG`, when set, is the filter instead and
//! `verbosity` leaves it alone.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use log::{Level, LevelFilter, Log, Metadata, Record};

/// memcached's verbosity as a log level: 0 warnings, 1 info, 2 debug, 3 and up trace.
pub fn level(verbose: u32) -> LevelFilter {
    match verbose {
        0 => LevelFilter::Warn,
        1 => LevelFilter::Info,
        2 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

/// The level `verbosity` set (a `LevelFilter` as usize).
static LEVEL: AtomicUsize = AtomicUsize::new(LevelFilter::Warn as usize);

struct Leveled {
    inner: env_logger::Logger,
    /// `RUST_LOG` decides alone.
    from_env: bool,
}

impl Log for Leveled {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        self.inner.enabled(m)
            && (self.from_env
                || m.level() as usize <= LEVEL.load(Relaxed)
                || (m.level() <= Level::Info && m.target() == crate::server::STARTED_TARGET))
    }

    fn log(&self, r: &Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        if r.level() == Level::Error && r.target() == "glommio::reactor" {
            let text = r.args().to_string();
            if is_write_only_probe(&text) {
                // Debug, not error: nothing failed (see `is_write_only_probe`).
                let m = Metadata::builder()
                    .level(Level::Debug)
                    .target(r.target())
                    .build();
                if self.enabled(&m) {
                    self.inner.log(
                        &Record::builder()
                            .metadata(m)
                            .args(format_args!("{text}"))
                            .module_path(r.module_path())
                            .file(r.file())
                            .line(r.line())
                            .build(),
                    );
                }
                return;
            }
        }
        self.inner.log(r);
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// Whether glommio's error is its iopoll probe failing on a journal file opened write-only.
///
/// Glommio probes whether a device can be polled by reading from the first direct file a
/// thread opens on it. A journal file is opened for writing alone, so the probe's read
/// fails with EBADF and glommio logs an error. Nothing failed: the probe's answer, no
/// polling for the device, is the one it gets on a device without poll queues
/// (`/sys/block/*/queue/io_poll` 0), and the journal writes go through the interrupt-driven
/// ring. Opening the journal for reading too would make the probe's read of an empty file
/// succeed and turn polling on for every device, polled or not.
fn is_write_only_probe(text: &str) -> bool {
    text.starts_with("got unexpected error when probing iopoll support")
        && text.ends_with("Bad file descriptor (os error 9)")
}

/// Sets up logging to stderr at `-v`'s level.
pub fn init(verbose: u8) {
    let from_env = std::env::var_os("RUST_LOG").is_some();
    let mut b = env_logger::Builder::from_env(env_logger::Env::default());
    if !from_env {
        b.filter_level(LevelFilter::Trace);
    }
    let inner = b.build();
    let env_max = inner.filter();
    if log::set_boxed_logger(Box::new(Leveled { inner, from_env })).is_err() {
        return;
    }
    if from_env {
        log::set_max_level(env_max);
    } else {
        set(u32::from(verbose));
    }
}

/// `verbosity N`: the level from now on.
pub fn set(verbose: u32) {
    let l = level(verbose);
    LEVEL.store(l as usize, Relaxed);
    // The start-up line is at info.
    log::set_max_level(l.max(LevelFilter::Info));
}

/// The level now, as memcached's verbosity (what `stats settings` shows).
pub fn current() -> u8 {
    match LEVEL.load(Relaxed) {
        l if l <= LevelFilter::Warn as usize => 0,
        l if l == LevelFilter::Info as usize => 1,
        l if l == LevelFilter::Debug as usize => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::is_write_only_probe;

    #[test]
    fn only_the_write_only_probe_is_taken_for_benign() {
        let probe = "got unexpected error when probing iopoll support for file \
                     \"/d/g1-s0-of-2-000001.log\" (fd: 27) hosted on (254, 0); the poll ring \
                     will be disabled for this device: ";
        let cases = [
            (format!("{probe}Bad file descriptor (os error 9)"), true),
            (format!("{probe}Input/output error (os error 5)"), false),
            (format!("{probe}Invalid argument (os error 22)"), false),
            ("Bad file descriptor (os error 9)".to_string(), false),
            (String::new(), false),
        ];
        for (text, benign) in cases {
            assert_eq!(is_write_only_probe(&text), benign, "{text}");
        }
    }
}
