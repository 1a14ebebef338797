//! The server process: start-up checks, listening sockets, one pinned executor per shard,
//! and the signals that stop it (or make it re-read its password file).
//!
//! ```text
//!   main thread: checks (io_uring, kernel, CPUs, locked memory, descriptors) ─► bind every
//!        shard's listeners ─► pid file (-P) ─► drop privileges ─► spawn one pinned glommio
//!        executor per shard (crate::shard::ShardStart::serve) ─► once all accept: the
//!        start-up line, and -d's parent told ─► wait for SIGINT/SIGTERM/SIGHUP, and for a
//!        shard that ends on its own (the process then fails)
//! ```

use std::io;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use glommio::{LocalExecutorBuilder, Placement};

use crate::config::Settings;
use crate::daemon::{PidFile, Ready};
use crate::listen;
use crate::shard::{unix_now, Batch, ExitNotice, InFlight, ShardStart};
use crate::startup::{self, StartError};
use crate::stats::Counters;
use crate::tasks::Registry;

/// How long a busy shard's driver keeps glommio's loop from running (the driver waits in
/// its network ring while busy: see `shard::driver`): glommio's timers, its I/O and the
/// engine tasks' queues get a turn at least this often. Glommio's default is 100 ms.
const PREEMPT_TIMER: std::time::Duration = std::time::Duration::from_millis(5);

/// Checks, before any executor starts, what io_uring needs, so a failure is one clear
/// sentence rather than a panic inside a shard.
fn preflight(settings: &mut Settings) -> Result<(), String> {
    check_kernel(&uname_release())?;
    if let Ok(v) = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled") {
        match v.trim() {
            "2" => return Err("io_uring is disabled on this machine (kernel.io_uring_disabled = 2): enable it with `sysctl kernel.io_uring_disabled=0`".into()),
            "1" => log::debug!("kernel.io_uring_disabled = 1: io_uring is limited to privileged processes or the io_uring group"),
            _ => {}
        }
    }
    // SAFETY: io_uring_setup with a zeroed parameter block; the ring fd is closed at once.
    unsafe {
        let mut params = [0u8; 120];
        let fd = libc::syscall(libc::SYS_io_uring_setup, 2u32, params.as_mut_ptr());
        if fd < 0 {
            let err = io::Error::last_os_error();
            return Err(match err.raw_os_error() {
                Some(libc::ENOSYS) => "io_uring is not available: this kernel does not support it (Linux 5.8 or later is needed)".to_string(),
                Some(libc::EPERM) | Some(libc::EACCES) => format!("io_uring is not permitted here ({err}): a seccomp profile (docker, systemd) or kernel.io_uring_disabled blocks it; allow io_uring_setup/io_uring_enter or run outside the sandbox"),
                Some(libc::ENOMEM) => format!("io_uring could not be set up ({err}): locked memory is too low; raise it with `ulimit -l` (or LimitMEMLOCK= in a systemd unit)"),
                _ => format!("io_uring could not be set up: {err}"),
            });
        }
        libc::close(fd as i32);
    }
    // The shards' network rings need what 6.1 has; a ring set up as they are tells.
    let offers = crate::shard::ring::probe().map_err(|e| {
        format!("io_uring cannot set up a shard's network ring ({e}): Linux 6.1 or later with io_uring enabled is needed")
    })?;
    settings.capped_multishot = offers.capped_multishot;
    settings.vectored_send = offers.vectored_send;
    Ok(())
}

/// The running kernel's release (`uname -r`).
fn uname_release() -> String {
    // SAFETY: uname fills the zeroed struct.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return String::new();
    }
    // SAFETY: release is a NUL-terminated string in the struct.
    unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// Linux 6.1 or later: each shard's network ring uses single-issuer rings with cooperative
/// task running, provided buffer rings and the socket operations of 6.0 and 6.1.
fn check_kernel(release: &str) -> Result<(), String> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    if (major, minor) < (6, 1) {
        return Err(format!(
            "this kernel is Linux {release}, and corecached's network path needs io_uring as Linux 6.1 has it: run it on Linux 6.1 or later"
        ));
    }
    Ok(())
}

/// Runs the server until SIGINT or SIGTERM (SIGHUP re-reads the password file), telling
/// `ready` once every shard accepts connections. Returns the sentence and exit status of a
/// refusal to start, or of a shard that failed.
pub fn serve_until_stopped(mut settings: Settings, ready: &mut Ready) -> Result<(), StartError> {
    if settings.core_dumps {
        startup::maximize_core_limit();
    }
    startup::check_cpus(&settings)?;
    preflight(&mut settings).map_err(StartError::usage)?;
    crate::memlock::plan_locked_memory(&mut settings).map_err(StartError::usage)?;
    startup::check_memlock_floor()?;
    let auth = start_auth(&settings)?;
    let user = settings
        .user
        .as_deref()
        .map(startup::lookup_user)
        .transpose()?;
    startup::raise_descriptor_limit(&settings)?;
    let settings = Arc::new(settings);
    let shards = settings.shards;

    // Bind every shard's listeners here, so that a port of 0 resolves once and every shard
    // shares it, and so a bind failure is reported before anything starts.
    let (addrs, listeners) = listen::bind_all(&settings)?;
    let mut metrics_fd = crate::metrics::bind(settings.metrics).map_err(StartError::os)?;
    // Written as memcached does, before the switch to -u's user; removed on return.
    let _pid_file = settings
        .pid_file
        .as_deref()
        .map(PidFile::create)
        .transpose()
        .map_err(StartError::usage)?;
    // Locked for the process's life: a second instance on the same directory refuses.
    let persist = crate::persist::Shared::open(&settings).map_err(StartError::usage)?;
    startup::drop_privileges(user.as_ref())?;

    // Block the stop signals and SIGHUP in every thread; the main thread waits for them.
    // SAFETY: signal-mask manipulation with a locally built set.
    let sigset = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGHUP);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };

    let started = unix_now();
    let all_counters: Arc<Vec<Arc<Counters>>> =
        Arc::new((0..shards).map(|_| Arc::new(Counters::default())).collect());
    let open_conns = Arc::new(AtomicUsize::new(0));
    let task_registry: Registry =
        Arc::new((0..shards).map(|_| std::sync::OnceLock::new()).collect());
    let started_meshes = Arc::new(std::sync::Barrier::new(shards));
    let mut meshes = if shards > 1 {
        let requests = crate::mesh::full_mesh::<Batch>(shards, settings.channel_size);
        let replies = crate::mesh::full_mesh::<Batch>(shards, settings.channel_size);
        requests
            .into_iter()
            .zip(replies)
            .map(|(req, rep)| Some((req, rep)))
            .collect()
    } else {
        vec![None]
    };
    // -s with several shards: shard 0 accepts on the unix socket and hands clients out.
    let mut handoffs: Vec<Option<_>> = if shards > 1 && settings.unix_socket.is_some() {
        crate::mesh::fan_out(shards, 0, crate::shard::HANDOFF_CAPACITY)
            .into_iter()
            .map(Some)
            .collect()
    } else {
        (0..shards).map(|_| None).collect()
    };
    let in_flight = Arc::new(InFlight::new(shards));
    let latency: Arc<Vec<Arc<crate::latency::Histograms>>> =
        Arc::new((0..shards).map(|_| Arc::default()).collect());
    let admin = Arc::new(crate::admin::Admin::new(&settings));
    let mut stop_writers = Vec::new();
    let mut handles = Vec::new();
    let (exit_tx, exit_rx) = std::sync::mpsc::channel::<usize>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<usize>();
    for (id, fds) in listeners.into_iter().enumerate() {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| format!("cannot create a control socket: {e}"))?;
        theirs.set_nonblocking(true).map_err(|e| e.to_string())?;
        stop_writers.push(ours);
        let stop_fd = std::os::fd::IntoRawFd::into_raw_fd(theirs);
        let cpu = settings.cpus[id];
        let ctx = ShardStart {
            id,
            settings: settings.clone(),
            counters: all_counters.clone(),
            open_conns: open_conns.clone(),
            tasks: task_registry.clone(),
            admin: admin.clone(),
            auth: auth.clone(),
            started,
            listeners: fds,
            addrs: addrs.clone(),
            cpu,
            stop_fd,
            exit: ExitNotice {
                id,
                tx: exit_tx.clone(),
            },
            ready: ready_tx.clone(),
            meshes: meshes[id].take(),
            handoff: handoffs[id].take(),
            started_meshes: started_meshes.clone(),
            in_flight: in_flight.clone(),
            serve_conn: |shard, ready| Box::pin(crate::conn::serve(shard, ready)),
            latency: latency.clone(),
            metrics_fd: metrics_fd.take(),
            persist: persist.clone(),
        };
        let handle = LocalExecutorBuilder::new(Placement::Fixed(cpu))
            .name(&format!("shard-{id}"))
            .io_memory(settings.io_memory)
            .preempt_timer(PREEMPT_TIMER)
            .spawn(move || ctx.serve())
            .map_err(|e| format!("cannot start shard {id} on CPU {cpu}: {e}"))?;
        handles.push(Some(handle));
    }
    drop(ready_tx);
    let mut accepting = 0;

    let mut stopped = false;
    // Past this, shards still running are left behind: the process exits.
    let mut give_up: Option<std::time::Instant> = None;
    loop {
        if accepting < shards {
            accepting += ready_rx.try_iter().count();
            if accepting == shards {
                log::info!(target: STARTED_TARGET, "{}", startup::started_line(&settings, &addrs));
                ready.serving();
            }
        }
        // Short waits until every shard accepts, so the start-up line is not late.
        let timeout = libc::timespec {
            tv_sec: 0,
            tv_nsec: if accepting < shards {
                2_000_000
            } else {
                200_000_000
            },
        };
        // SAFETY: waits for one of the blocked signals, with a timeout.
        let sig = unsafe { libc::sigtimedwait(&sigset, std::ptr::null_mut(), &timeout) };
        if sig == libc::SIGHUP {
            // memcached re-reads its password file on SIGHUP; a bad file keeps the old users.
            match auth.as_ref().filter(|_| settings.auth_file.is_some()) {
                Some(a) => match a.reload() {
                    Ok(n) => log::info!("SIGHUP: {n} users from {} (re-read)", a.path().display()),
                    Err(e) => {
                        log::warn!("SIGHUP: {e}; keeping the {} users read before", a.users())
                    }
                },
                None => log::info!("SIGHUP: no -Y/--auth-file to re-read; ignored"),
            }
        } else if sig > 0 {
            if stopped {
                log::info!("signal {sig} again: closing the connections still open");
            } else {
                log::info!(
                    "signal {sig}: stopping; finishing requests already read (at most {:?})",
                    settings.shutdown_timeout
                );
                stopped = true;
                give_up = Some(std::time::Instant::now() + settings.shutdown_timeout + STOP_GRACE);
            }
            for w in &mut stop_writers {
                use std::io::Write;
                let _ = w.write_all(b"s");
            }
        }
        // A shard that ends on its own (before a stop) has failed: end the process rather
        // than serve with a missing shard.
        while let Ok(id) = exit_rx.try_recv() {
            let result = handles[id]
                .take()
                .expect("one exit notice per shard")
                .join();
            if !stopped {
                return Err(match result {
                    Ok(()) => format!("shard {id} stopped unexpectedly"),
                    Err(e) => format!("shard {id} failed: {e}"),
                }
                .into());
            }
        }
        if handles.iter().all(Option::is_none) {
            return Ok(());
        }
        if give_up.is_some_and(|t| std::time::Instant::now() > t) {
            let left = handles.iter().filter(|h| h.is_some()).count();
            log::warn!(
                "{left} shards still running {STOP_GRACE:?} after --shutdown-timeout closed their connections; exiting"
            );
            return Ok(());
        }
    }
}

/// The log target of the start-up line, which `main` lets through at the default level.
pub const STARTED_TARGET: &str = "corecached::started";

/// How long shards may take to end after the shutdown timeout has closed their
/// connections, before the process exits without them.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Reads the password file (`-Y`), logs who must authenticate, and warns when the server is
/// reachable from the network without authentication, or when `-S` has no users to check.
fn start_auth(settings: &Settings) -> Result<Option<Arc<crate::auth::Auth>>, String> {
    let exposed = settings.addrs.iter().any(|a| !a.ip().is_loopback());
    let Some(path) = &settings.auth_file else {
        if settings.sasl {
            // Fail closed: -S asks for authentication, and nobody can give it here.
            log::warn!("-S/--enable-sasl without -Y/--auth-file: corecached reads no Cyrus SASL database, so every SASL authentication fails until -Y FILE gives the users");
            return Ok(Some(Arc::new(crate::auth::Auth::without_users())));
        }
        if exposed {
            log::warn!("no authentication (-Y/--auth-file, -S) while listening beyond loopback: any client that reaches the port can read, write and flush");
        }
        return Ok(None);
    };
    let auth = crate::auth::Auth::load(path)?;
    let who = if settings.sasl {
        "binary clients authenticate with SASL PLAIN"
    } else {
        "text clients authenticate"
    };
    log::info!(
        "{who}: {} users from {} (SIGHUP re-reads it)",
        auth.users(),
        path.display()
    );
    Ok(Some(Arc::new(auth)))
}

#[cfg(test)]
mod tests {
    use super::check_kernel;

    #[test]
    fn kernels_before_6_1_are_refused_in_one_sentence() {
        for ok in ["6.1.0", "6.18.44-fc-v1300", "7.0", "6.12.5-amd64"] {
            assert!(check_kernel(ok).is_ok(), "{ok}");
        }
        for old in ["5.15.0-91-generic", "6.0.19", "4.19", ""] {
            let e = check_kernel(old).unwrap_err();
            assert!(e.contains("Linux 6.1 or later"), "{old}: {e}");
            assert!(!e.contains('\n'), "one sentence: {e}");
        }
    }
}
