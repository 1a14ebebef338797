//! Listening sockets: one instance alone serves an address and port (or `-s`'s unix
//! socket), its shards share it, and a client that arrives when the process is out of
//! descriptors is still answered.
//!
//! Every shard has its own listening socket on the same port (SO_REUSEPORT), so the kernel
//! spreads new connections over the shards (a unix socket is shard 0's alone: see
//! [`bind_all`]). SO_REUSEPORT alone would let a second
//! instance run by the same user join that group and take half the connections (two
//! caches, each missing half the keys). So the first socket of each address is bound
//! without SO_REUSEPORT: that bind fails with "Address already in use" whenever any socket
//! listens there, as memcached's does. Only once it holds the port does it set
//! SO_REUSEPORT (before `listen`), and the instance's other sockets join it.

use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;

use crate::config::{Settings, UnixSocket};
use crate::startup::StartError;

/// Binds and listens on every address for every shard: `fds[shard]` holds one socket per
/// address, in the order of the returned addresses (a port of 0 replaced by the one the
/// kernel chose, shared by all shards). With `-s`, the unix socket alone, held by shard 0:
/// a unix socket has no SO_REUSEPORT group to spread clients, so shard 0 accepts them
/// all and hands them round-robin to every shard (`shard::handoff`), as memcached's
/// dispatcher thread does to its workers.
pub fn bind_all(settings: &Settings) -> Result<(Vec<SocketAddr>, Vec<Vec<RawFd>>), StartError> {
    let mut addrs = settings.addrs.clone();
    let mut fds: Vec<Vec<RawFd>> = vec![Vec::new(); settings.shards];
    if let Some(unix) = &settings.unix_socket {
        fds[0].push(unix_listener(unix, settings.backlog)?);
    }
    for addr in addrs.iter_mut() {
        for (shard, shard_fds) in fds.iter_mut().enumerate() {
            let first = shard == 0;
            let fd = listen_socket(*addr, settings.backlog, first)
                .map_err(|e| bind_error(*addr, first, &e))?;
            if addr.port() == 0 {
                addr.set_port(local_port(fd).map_err(|e| StartError::os(e.to_string()))?);
            }
            shard_fds.push(fd);
        }
    }
    Ok((addrs, fds))
}

/// Listens on `-s`'s path, its file's mode `-a`'s mask (memcached's umask around the
/// bind). A socket file left by a server that is gone is replaced; one a server still
/// answers on is not (memcached would take the path from under it).
fn unix_listener(unix: &UnixSocket, backlog: i32) -> Result<RawFd, StartError> {
    let path = &unix.path;
    let shown = path.display();
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: sockaddr_un is plain data.
    let mut sun: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() >= sun.sun_path.len() || bytes.contains(&0) {
        return Err(StartError::usage(format!(
            "-s/--unix-socket {shown}: the path must be under {} bytes, without NUL; choose a shorter path",
            sun.sun_path.len()
        )));
    }
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in sun.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(StartError::usage(format!(
                "-s/--unix-socket {shown}: the path exists and is not a socket; remove it or choose another path"
            )));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(StartError::os(format!(
                "failed to listen on {shown}: another server answers on this socket; stop it or choose another -s/--unix-socket"
            )));
        }
        std::fs::remove_file(path).map_err(|e| {
            StartError::os(format!(
                "-s/--unix-socket {shown}: cannot replace the stale socket file ({e}); remove it"
            ))
        })?;
    }
    // SAFETY: plain socket syscalls on a descriptor owned here, closed on every error path;
    // the umask is put back at once (the process has one thread now).
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(StartError::os(format!(
                "cannot create a unix socket: {}",
                io::Error::last_os_error()
            )));
        }
        let old = libc::umask(!unix.mask & 0o777);
        let bound = libc::bind(
            fd,
            &sun as *const _ as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
        );
        libc::umask(old);
        if bound < 0 || libc::listen(fd, backlog) < 0 {
            let e = io::Error::last_os_error();
            libc::close(fd);
            return Err(StartError::os(format!(
                "failed to listen on {shown}: {e}; choose a path in a directory the server can write (-s/--unix-socket)"
            )));
        }
        Ok(fd)
    }
}

/// The sentence for a failed bind, with the fix for the usual causes.
fn bind_error(addr: SocketAddr, first: bool, e: &io::Error) -> StartError {
    let why = match e.raw_os_error() {
        Some(libc::EADDRINUSE) if first => format!(
            "failed to listen on {addr}: Address already in use (another corecached, memcached or other server listens there); stop it or choose another -p/--port"
        ),
        Some(libc::EADDRNOTAVAIL) => format!(
            "failed to listen on {addr}: the address is not one of this host's (-l/--listen); name a local address"
        ),
        Some(libc::EACCES) => format!(
            "failed to listen on {addr}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); choose another -p/--port"
        ),
        _ => format!("failed to listen on {addr}: {e}"),
    };
    // memcached's exit status for a port it cannot listen on (EX_OSERR).
    StartError::os(why)
}

/// Creates a listening socket. The first of an address (`exclusive`) binds without
/// SO_REUSEPORT, so that it fails when any other socket listens there; every socket has
/// SO_REUSEPORT before `listen`, so the instance's shards form one group.
fn listen_socket(addr: SocketAddr, backlog: i32, exclusive: bool) -> io::Result<RawFd> {
    let domain = if addr.is_ipv6() {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    // SAFETY: plain socket syscalls on a descriptor we own; it is closed on every error path.
    unsafe {
        let fd = libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let fail = |fd| {
            let e = io::Error::last_os_error();
            libc::close(fd);
            Err(e)
        };
        let set = |fd, level, opt| {
            let one: libc::c_int = 1;
            libc::setsockopt(
                fd,
                level,
                opt,
                &one as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ) == 0
        };
        // SO_REUSEADDR: a restart binds while the last run's connections are in TIME_WAIT.
        if !set(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR) {
            return fail(fd);
        }
        if !exclusive && !set(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT) {
            return fail(fd);
        }
        if addr.is_ipv6() {
            set(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY);
        }
        let (storage, len) = sockaddr(addr);
        if libc::bind(fd, &storage as *const _ as *const libc::sockaddr, len) < 0 {
            return fail(fd);
        }
        if exclusive && !set(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT) {
            return fail(fd);
        }
        if libc::listen(fd, backlog) < 0 {
            return fail(fd);
        }
        Ok(fd)
    }
}

fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data, large enough for either family.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in fits in sockaddr_storage.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in, sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_in6 fits in sockaddr_storage.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in6, sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// The address of a socket's own end (`peer` false) or of its peer.
fn socket_addr(fd: RawFd, peer: bool) -> io::Result<SocketAddr> {
    // SAFETY: getsockname/getpeername write at most `len` bytes into the storage, and the
    // family they report says which of the two layouts it holds.
    unsafe {
        let mut storage: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let p = &mut storage as *mut _ as *mut libc::sockaddr;
        let r = if peer {
            libc::getpeername(fd, p, &mut len)
        } else {
            libc::getsockname(fd, p, &mut len)
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        match i32::from(storage.ss_family) {
            libc::AF_INET => {
                let a = &*(&storage as *const _ as *const libc::sockaddr_in);
                let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                Ok(SocketAddr::from((ip, u16::from_be(a.sin_port))))
            }
            libc::AF_INET6 => {
                let a = &*(&storage as *const _ as *const libc::sockaddr_in6);
                let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
                Ok(SocketAddr::from((ip, u16::from_be(a.sin6_port))))
            }
            f => Err(io::Error::other(format!("address family {f}"))),
        }
    }
}

fn local_port(fd: RawFd) -> io::Result<u16> {
    socket_addr(fd, false).map(|a| a.port())
}

/// The peer of a connected socket, for the log (`?` when it cannot be had).
pub fn peer_name(fd: RawFd) -> String {
    socket_addr(fd, true).map_or_else(|_| "?".to_string(), |a| a.to_string())
}

/// What a client past the connection limit reads before the server closes (memcached's).
pub const TOO_MANY: &[u8] = b"ERROR Too many open connections\r\n";

/// Tells a client just accepted that there is no room for it ([`TOO_MANY`]) and closes
/// its descriptor.
pub fn turn_away(fd: RawFd) {
    // SAFETY: a fresh connection's send buffer is empty, so the short reply goes out whole
    // without waiting; then the descriptor, ours alone, is closed.
    unsafe {
        libc::send(
            fd,
            TOO_MANY.as_ptr() as *const libc::c_void,
            TOO_MANY.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        );
        libc::close(fd);
    }
}

/// A descriptor held in reserve so that an accept loop out of descriptors can still take
/// the next client, tell it [`TOO_MANY`] and close, rather than leave it in the backlog:
/// an `accept` that fails with EMFILE leaves the connection queued, and the client waits
/// without a reply for as long as the server stays full.
///
/// Freeing the spare is not always enough: another shard's accept may take the freed
/// number first (its client is then served), or the spare's number may lie above a soft
/// limit lowered under the process. So the soft limit is also raised, just enough and only
/// for the moment of the accept (it bounds new descriptors only; the process keeps to it
/// otherwise). That needs a soft limit under the hard one; with both equal the spare alone
/// serves.
pub struct Spare(Option<RawFd>);

/// What [`Spare::reject_one`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// A client was told [`TOO_MANY`] and closed.
    Told,
    /// No client was waiting.
    NonePending,
    /// Nothing could be done: the accept loop should back off before trying again.
    Failed,
}

impl Spare {
    pub fn new() -> Spare {
        Spare(open_spare().ok())
    }

    /// After an accept failed with `err`: when it was for want of descriptors, frees the
    /// spare, takes the next client from `listener`, answers it [`TOO_MANY`], closes it
    /// and takes the spare back.
    pub fn reject_one(&mut self, listener: RawFd, err: &io::Error) -> Rejection {
        if !matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
            return Rejection::Failed;
        }
        // Shards raising the limit at once would each put back what another had raised.
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(spare) = self.0.take() {
            // SAFETY: the spare is ours; closing it frees a descriptor for the accept.
            unsafe { libc::close(spare) };
        }
        let conn = with_room(|| accept_now(listener));
        if let Ok(fd) = conn {
            turn_away(fd);
        }
        self.0 = with_room(open_spare).ok();
        match conn {
            Ok(_) => Rejection::Told,
            Err(libc::EAGAIN) => Rejection::NonePending,
            Err(_) => Rejection::Failed,
        }
    }
}

impl Default for Spare {
    fn default() -> Self {
        Spare::new()
    }
}

impl Drop for Spare {
    fn drop(&mut self) {
        if let Some(fd) = self.0.take() {
            // SAFETY: the spare is ours alone.
            unsafe { libc::close(fd) };
        }
    }
}

/// How far over the soft limit [`with_room`] goes.
const OVER_LIMIT_MAX: u64 = 64;

/// Runs `open` (something that makes one descriptor); when it fails for want of one,
/// raises the soft limit a step at a time (up to [`OVER_LIMIT_MAX`] over it, never over
/// the hard limit) until it succeeds, and puts the limit back.
fn with_room(mut open: impl FnMut() -> Result<RawFd, i32>) -> Result<RawFd, i32> {
    let first = open();
    if first != Err(libc::EMFILE) {
        return first;
    }
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct; setrlimit reads it.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0
            || lim.rlim_cur == libc::RLIM_INFINITY
            || lim.rlim_cur >= lim.rlim_max
        {
            return first;
        }
        let mut result = first;
        for over in 1..=OVER_LIMIT_MAX.min(lim.rlim_max - lim.rlim_cur) {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_cur + over,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                break;
            }
            result = open();
            if result != Err(libc::EMFILE) {
                break;
            }
        }
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        result
    }
}

fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn open_spare() -> Result<RawFd, i32> {
    // SAFETY: opening /dev/null; the descriptor is owned by the Spare.
    let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd >= 0 {
        Ok(fd)
    } else {
        Err(errno())
    }
}

/// Accepts one pending connection without waiting (the errno when none is pending, EAGAIN,
/// or the accept fails). The listener is left blocking as glommio wants it.
fn accept_now(listener: RawFd) -> Result<RawFd, i32> {
    // SAFETY: fcntl and accept4 on a listening socket this shard owns; its flags are
    // restored before returning.
    unsafe {
        let flags = libc::fcntl(listener, libc::F_GETFL);
        if flags < 0 {
            return Err(errno());
        }
        libc::fcntl(listener, libc::F_SETFL, flags | libc::O_NONBLOCK);
        let fd = libc::accept4(
            listener,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_CLOEXEC,
        );
        let err = errno();
        libc::fcntl(listener, libc::F_SETFL, flags);
        if fd >= 0 {
            Ok(fd)
        } else {
            Err(err)
        }
    }
}
