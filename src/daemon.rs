//! The process as a service: `-d` (into the background, as memcached's `daemonize`) and
//! `-P` (the pid file).
//!
//! ```text
//!   corecached -d ─ fork ─► parent: waits on a pipe ─► exits 0 once the child serves,
//!                    │                                 or prints the child's start-up
//!                    │                                 error and exits with its status
//!                    └────► child: setsid, cwd /, std streams on /dev/null ─► serves
//! ```
//!
//! It must happen before any thread exists (a fork copies only the calling thread), so
//! `main` calls [`daemonize`] before the server starts a shard.

use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::path::{Path, PathBuf};

/// The child's end of the pipe its parent waits on: tells it how the start went. Without
/// `-d` it tells nobody.
#[derive(Debug, Default)]
pub struct Ready(Option<std::fs::File>);

/// What the child writes before it serves: the parent exits 0 on reading it.
const SERVING: &[u8] = b"serving\n";

impl Ready {
    /// The server serves: the parent exits 0.
    pub fn serving(&mut self) {
        if let Some(mut pipe) = self.0.take() {
            let _ = pipe.write_all(SERVING);
        }
    }

    /// The server did not start: the parent prints `message` and exits with `code`.
    pub fn failed(&mut self, code: u8, message: &str) {
        if let Some(mut pipe) = self.0.take() {
            let _ = write!(pipe, "{code} {message}");
        }
    }
}

/// A path made absolute against the working directory, as it was before [`daemonize`]
/// moved it to `/` (memcached would read a relative `-P` or `-s` against `/`).
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir()
        .map(|d| d.join(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Forks into the background. The parent never returns: it waits for the child's word on
/// a pipe and exits with it (0 once the child serves; the child's start-up error and exit
/// status otherwise). The child returns, in a new session, its working directory `/`, its
/// standard streams on /dev/null unless `keep_streams` (memcached keeps them with `-v`).
///
/// Call it while the process has one thread.
pub fn daemonize(keep_streams: bool) -> io::Result<Ready> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 fills the two descriptors, both ours.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the descriptors were just created and are owned here alone.
    let (read_end, write_end) = unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    };
    // SAFETY: the process has one thread (the caller's promise), so the child is a whole
    // copy of it.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            drop(read_end);
            // SAFETY: plain process calls in the child.
            unsafe {
                if libc::setsid() < 0 {
                    return Err(io::Error::last_os_error());
                }
                libc::chdir(c"/".as_ptr());
            }
            if !keep_streams {
                to_dev_null()?;
            }
            Ok(Ready(Some(write_end)))
        }
        _ => {
            drop(write_end);
            std::process::exit(wait_for_child(read_end));
        }
    }
}

/// The parent's side: what the child said, as an exit status (its message printed).
fn wait_for_child(mut pipe: std::fs::File) -> i32 {
    let mut said = Vec::new();
    // The child closes its end (or exits) after one message.
    let _ = pipe.read_to_end(&mut said);
    if said == SERVING {
        return 0;
    }
    let text = String::from_utf8_lossy(&said);
    match text.split_once(' ') {
        Some((code, message)) if code.parse::<u8>().is_ok() => {
            eprintln!("corecached: {message}");
            code.parse::<i32>().unwrap_or(1)
        }
        _ => {
            eprintln!("corecached: the daemon exited before it served (run without -d to see why)");
            1
        }
    }
}

/// Points stdin, stdout and stderr at /dev/null.
fn to_dev_null() -> io::Result<()> {
    // SAFETY: opening /dev/null, duplicating it onto the standard descriptors, closing it.
    unsafe {
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        for std_fd in 0..3 {
            if libc::dup2(fd, std_fd) < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        if fd > 2 {
            libc::close(fd);
        }
    }
    Ok(())
}

/// `-P`: the pid file, written at start and removed when this is dropped (a clean stop).
#[derive(Debug)]
pub struct PidFile(PathBuf);

impl PidFile {
    /// Writes the process's id, a line, to `path` (replacing what was there, as memcached
    /// does).
    pub fn create(path: &Path) -> Result<PidFile, String> {
        std::fs::write(path, format!("{}\n", std::process::id())).map_err(|e| {
            format!(
                "-P/--pidfile {}: cannot write the pid file ({e}); name a file in a directory the server can write",
                path.display()
            )
        })?;
        Ok(PidFile(path.to_path_buf()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only the file this process wrote: another server may have taken the path since.
        let ours = std::fs::read_to_string(&self.0)
            .is_ok_and(|t| t.trim() == std::process::id().to_string());
        if ours {
            if let Err(e) = std::fs::remove_file(&self.0) {
                log::warn!(
                    "-P/--pidfile {}: cannot remove the pid file: {e}",
                    self.0.display()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_file_holds_the_pid_and_goes_with_the_guard() {
        let path = std::env::temp_dir().join(format!("corecached-pid-{}", std::process::id()));
        let guard = PidFile::create(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        drop(guard);
        assert!(!path.exists());
        let e = PidFile::create(Path::new("/nonexistent-dir/x.pid")).unwrap_err();
        assert!(e.starts_with("-P/--pidfile /nonexistent-dir/x.pid"), "{e}");
    }

    #[test]
    fn relative_paths_are_made_absolute() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(absolute(Path::new("a/b")), cwd.join("a/b"));
        assert_eq!(absolute(Path::new("/x")), PathBuf::from("/x"));
    }
}
