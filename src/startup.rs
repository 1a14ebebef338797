//! Start-up checks and changes to the process itself: the descriptor limit `-c` needs, the
//! CPUs and locked memory glommio needs, and the switch to an unprivileged user (`-u`).
//! Each refusal is one sentence naming the flag or limit and the fix.

use std::ffi::CString;
use std::fmt;

use crate::config::Settings;

/// Why the server did not start, and the exit status that says so.
#[derive(Debug)]
pub struct StartError {
    pub code: u8,
    pub message: String,
}

impl StartError {
    /// A flag, or a limit such as `ulimit`, stands in the way (EX_USAGE, as for a bad flag).
    pub fn usage(message: impl Into<String>) -> StartError {
        StartError {
            code: 64,
            message: message.into(),
        }
    }

    /// The system refused a resource, such as a port already served (EX_OSERR, memcached's
    /// status for the same failures).
    pub fn os(message: impl Into<String>) -> StartError {
        StartError {
            code: 71,
            message: message.into(),
        }
    }
}

/// Any other failure, such as a shard that stopped.
impl From<String> for StartError {
    fn from(message: String) -> StartError {
        StartError { code: 1, message }
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Descriptors the process needs beyond its connections and what it had open at start:
/// the main thread's own, and a re-read of the password file.
const DESCRIPTORS_FIXED: u64 = 16;
/// Per shard: glommio's three rings and their eventfd, the shard's control socketpair, its
/// network ring, that ring's eventfd and the duplicate glommio reads it through, and room
/// to spare.
const DESCRIPTORS_PER_SHARD: u64 = 16;
/// Per shard and listening address: the socket, its spare descriptor and a client being
/// turned away ([`crate::listen::Spare`]).
const DESCRIPTORS_PER_LISTENER: u64 = 3;

/// Descriptors the server needs for itself: what is open now plus the above.
pub fn descriptor_reserve(settings: &Settings) -> u64 {
    // The directory's own descriptor is among those it lists.
    let open_now = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count().saturating_sub(1) as u64)
        .unwrap_or(3);
    let shards = settings.shards as u64;
    let listeners = (settings.addrs.len() + usize::from(settings.unix_socket.is_some())) as u64;
    open_now
        + DESCRIPTORS_FIXED
        + shards * (DESCRIPTORS_PER_SHARD + listeners * DESCRIPTORS_PER_LISTENER)
}

/// Raises the soft RLIMIT_NOFILE to `-c` plus the server's own descriptors, when it is
/// lower; refuses when the hard limit cannot hold them. Returns the soft limit in force.
pub fn raise_descriptor_limit(settings: &Settings) -> Result<u64, StartError> {
    let reserve = descriptor_reserve(settings);
    let need = settings.conn_limit as u64 + reserve;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(StartError::os(format!(
            "cannot read the descriptor limit: {}",
            std::io::Error::last_os_error()
        )));
    }
    if lim.rlim_cur == libc::RLIM_INFINITY || lim.rlim_cur >= need {
        return Ok(lim.rlim_cur);
    }
    let conns = settings.conn_limit;
    if lim.rlim_max != libc::RLIM_INFINITY && need > lim.rlim_max {
        let fit = match lim.rlim_max.checked_sub(reserve) {
            Some(n) if n > 0 => format!("lower -c/--conn-limit to {n} or less, or "),
            _ => String::new(),
        };
        return Err(StartError::usage(format!(
            "-c/--conn-limit {conns} needs {need} descriptors ({conns} connections and {reserve} for the server itself) but the hard limit is {} (`ulimit -Hn`): {fit}raise the hard limit (`ulimit -Hn` as root, or LimitNOFILE= in a systemd unit)",
            lim.rlim_max
        )));
    }
    let raised = libc::rlimit {
        rlim_cur: need,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit reads the struct.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Err(StartError::usage(format!(
            "-c/--conn-limit {conns} needs {need} descriptors but the soft limit cannot be raised from {} ({}): lower -c/--conn-limit, or raise fs.nr_open and `ulimit -n`",
            lim.rlim_cur,
            std::io::Error::last_os_error()
        )));
    }
    log::info!(
        "descriptor limit raised from {} to {need}: -c/--conn-limit {conns} and {reserve} for the server itself",
        lim.rlim_cur
    );
    Ok(need)
}

/// `-r`: raises the core file size limit to the hard limit, so a crash leaves a core dump
/// (memcached's `-r`); a warning when it cannot.
pub fn maximize_core_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct; setrlimit reads it.
    let ok = unsafe {
        libc::getrlimit(libc::RLIMIT_CORE, &mut lim) == 0 && {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_CORE, &lim) == 0
        }
    };
    if !ok {
        log::warn!(
            "-r/--enable-coredumps: cannot raise the core file size limit ({}); a crash may leave no core dump",
            std::io::Error::last_os_error()
        );
    }
}

/// The line the server logs once every shard accepts connections (at the default log
/// level): corecached's version and the protocol's, where it listens (the real port when
/// `-p 0`), its shards and their CPUs, and its item memory.
pub fn started_line(settings: &Settings, addrs: &[std::net::SocketAddr]) -> String {
    let mut places: Vec<String> = addrs.iter().map(|a| format!("tcp {a}")).collect();
    if let Some(u) = &settings.unix_socket {
        places.push(format!("unix {} (mask {:o})", u.path.display(), u.mask));
    }
    let mut cpus = settings.cpus.clone();
    cpus.sort_unstable();
    cpus.dedup();
    format!(
        "corecached {} (memcached {} protocol) serving {}; {} shard{} on CPUs {}; {} MiB item memory (-m)",
        crate::config::VERSION,
        crate::config::PROTOCOL_VERSION,
        places.join(", "),
        settings.shards,
        if settings.shards == 1 { "" } else { "s" },
        cpu_list(&cpus),
        settings.mem_limit >> 20
    )
}

/// glommio refuses to start an executor under 512 KiB of locked memory, however small
/// `--io-memory` is.
const GLOMMIO_MEMLOCK_MIN: u64 = 512 << 10;

/// Checks the locked-memory floor glommio applies to every executor.
pub fn check_memlock_floor() -> Result<(), StartError> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } != 0
        || lim.rlim_cur == libc::RLIM_INFINITY
        || lim.rlim_cur >= GLOMMIO_MEMLOCK_MIN
    {
        return Ok(());
    }
    Err(StartError::usage(format!(
        "locked memory is too low for io_uring: `ulimit -l` allows {} KiB but glommio needs at least {} KiB whatever --io-memory is; raise `ulimit -l` to {} or more (LimitMEMLOCK= in a systemd unit)",
        lim.rlim_cur >> 10,
        GLOMMIO_MEMLOCK_MIN >> 10,
        GLOMMIO_MEMLOCK_MIN >> 10
    )))
}

/// Checks that every CPU the shards are pinned to is online, as glommio requires.
pub fn check_cpus(settings: &Settings) -> Result<(), StartError> {
    let mut online: Vec<usize> = match glommio::CpuSet::online() {
        Ok(set) => set.into_iter().map(|l| l.cpu).collect(),
        Err(e) => {
            return Err(StartError::usage(format!(
                "cannot read which CPUs are online (/sys/devices/system/cpu/online): {e}; mount /sys, or run where it is readable"
            )))
        }
    };
    online.sort_unstable();
    online.dedup();
    match settings
        .cpus
        .iter()
        .find(|c| online.binary_search(c).is_err())
    {
        None => Ok(()),
        Some(cpu) => {
            let list = cpu_list(&online);
            Err(StartError::usage(format!(
                "--cpus: CPU {cpu} is not online on this host (online: {list}); name online CPUs only, e.g. --cpus {list}"
            )))
        }
    }
}

/// `0-3,6` for [0, 1, 2, 3, 6] (sorted).
fn cpu_list(cpus: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            cpus[i].to_string()
        } else {
            format!("{}-{}", cpus[i], cpus[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// A user to run as (`-u`).
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
}

/// Looks `-u`'s user up in the password database (done before anything else starts, so a
/// misspelt name stops the start at once).
pub fn lookup_user(name: &str) -> Result<User, StartError> {
    let unknown = || {
        StartError::usage(format!(
            "-u/--user {name}: no such user on this host; name an existing user (e.g. nobody)"
        ))
    };
    let cname = CString::new(name).map_err(|_| unknown())?;
    let mut buf = vec![0u8; 16 << 10];
    loop {
        // SAFETY: getpwnam_r writes the entry into `pwd` and its strings into `buf`, both
        // ours and large enough as told; `result` points at `pwd` or is null.
        let (rc, found, pwd) = unsafe {
            let mut pwd: libc::passwd = std::mem::zeroed();
            let mut result: *mut libc::passwd = std::ptr::null_mut();
            let rc = libc::getpwnam_r(
                cname.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr() as *mut libc::c_char,
                buf.len(),
                &mut result,
            );
            (rc, !result.is_null(), pwd)
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 {
            return Err(StartError::usage(format!(
                "-u/--user {name}: cannot look the user up ({}); check /etc/passwd and /etc/nsswitch.conf",
                std::io::Error::from_raw_os_error(rc)
            )));
        }
        if !found {
            return Err(unknown());
        }
        return Ok(User {
            name: name.to_string(),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
        });
    }
}

/// Gives up root for `user` once the ports are bound and the limits raised, or warns that
/// the server keeps root's privileges. glibc's setgroups, setgid and setuid apply to every
/// thread of the process, and threads started later inherit the identity.
pub fn drop_privileges(user: Option<&User>) -> Result<(), StartError> {
    // SAFETY: reading the process's own ids.
    let euid = unsafe { libc::geteuid() };
    let Some(user) = user else {
        if euid == 0 {
            log::warn!("running as root without -u/--user: the server keeps root's privileges, so a flaw in it would hand them to a client; start it with -u USER (e.g. -u nobody) to drop them once the port is bound");
        }
        return Ok(());
    };
    if euid != 0 {
        if user.uid != euid {
            log::warn!(
                "-u/--user {} ignored: the server does not run as root, so it keeps the privileges of uid {euid}",
                user.name
            );
        }
        return Ok(());
    }
    let fail = |what: &str| {
        StartError::os(format!(
            "-u/--user {}: cannot {what} ({}); run as root, or leave -u out",
            user.name,
            std::io::Error::last_os_error()
        ))
    };
    // SAFETY: plain identity syscalls; supplementary groups first, then the group, then the
    // user (after setuid the others are no longer permitted).
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0 {
            return Err(fail("drop the supplementary groups"));
        }
        if libc::setgid(user.gid) != 0 {
            return Err(fail(&format!("switch to group {}", user.gid)));
        }
        if libc::setuid(user.uid) != 0 {
            return Err(fail(&format!("switch to uid {}", user.uid)));
        }
        if libc::getuid() != user.uid || libc::geteuid() != user.uid || libc::getegid() != user.gid
        {
            return Err(fail("keep the new identity"));
        }
    }
    log::info!(
        "running as user {} (uid {}, gid {})",
        user.name,
        user.uid,
        user.gid
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{cpu_list, started_line};
    use crate::config::Settings;

    #[test]
    fn the_started_line_names_what_serves() {
        let s = Settings::parse_from(["corecached", "-t", "2", "-m", "128"], 2).unwrap();
        let addrs = [
            "127.0.0.1:4242".parse().unwrap(),
            "[::1]:4242".parse().unwrap(),
        ];
        assert_eq!(
            started_line(&s, &addrs),
            format!(
                "corecached {} (memcached 1.6.18 protocol) serving tcp 127.0.0.1:4242, tcp [::1]:4242; 2 shards on CPUs 0-1; 128 MiB item memory (-m)",
                env!("CARGO_PKG_VERSION")
            )
        );
        let s = Settings::parse_from(["corecached", "-t", "1", "-s", "/tmp/m.sock"], 2).unwrap();
        assert!(started_line(&s, &[]).contains(
            "serving unix /tmp/m.sock (mask 700); 1 shard on CPUs 0; 64 MiB item memory (-m)"
        ));
    }

    #[test]
    fn cpu_lists_in_ranges() {
        assert_eq!(cpu_list(&[0, 1, 2, 3, 6]), "0-3,6");
        assert_eq!(cpu_list(&[1]), "1");
        assert_eq!(cpu_list(&[0, 2, 4, 5]), "0,2,4-5");
        assert_eq!(cpu_list(&[]), "");
    }
}
