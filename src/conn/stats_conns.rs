//! `stats conns`: memcached's lines for every listening socket and client connection of
//! every shard.
//!
//! Connections live in their shards' rings, which other shards cannot read. Rather than a
//! shared table every accept and close would lock, or a request to every shard over the
//! mesh, the list comes from the kernel, which already holds it: the process's descriptors
//! that are TCP sockets on a served address. The time since a connection's last command is
//! the kernel's time since it last received data (`TCP_INFO`), so requests pay nothing for
//! it. The cost is the command's alone: a few system calls per descriptor.

use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::RawFd;

use crate::shard::Shard;

/// One line group: memcached's `<fd>:addr`, `:listen_addr`, `:state`, `:secs_since_last_cmd`.
pub(super) fn conns(shard: &Shard, asking: RawFd, now: u32, out: &mut Vec<u8>) {
    use std::io::Write;
    let mut fds: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
        Err(_) => Vec::new(),
    };
    fds.sort_unstable();
    let served = &shard.listen_addrs;
    let uptime = now.saturating_sub(shard.started);
    for fd in fds {
        let Some(local) = sock_addr(fd, libc::getsockname) else {
            continue;
        };
        if !served
            .iter()
            .any(|a| a.port() == local.port() && (a.ip().is_unspecified() || a.ip() == local.ip()))
        {
            continue;
        }
        if int_opt(fd, libc::SOL_SOCKET, libc::SO_TYPE) != Some(libc::SOCK_STREAM) {
            continue;
        }
        if int_opt(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN) == Some(1) {
            let _ = write!(out, "STAT {fd}:addr {}\r\n", show(local));
            let _ = write!(out, "STAT {fd}:state conn_listening\r\n");
            let _ = write!(out, "STAT {fd}:secs_since_last_cmd {uptime}\r\n");
            continue;
        }
        let Some(peer) = sock_addr(fd, libc::getpeername) else {
            continue;
        };
        let (state, idle) = if fd == asking {
            ("conn_parse_cmd", 0)
        } else {
            ("conn_waiting", last_recv_ms(fd).unwrap_or(0) / 1000)
        };
        let _ = write!(out, "STAT {fd}:addr {}\r\n", show(peer));
        let _ = write!(out, "STAT {fd}:listen_addr {}\r\n", show(local));
        let _ = write!(out, "STAT {fd}:state {state}\r\n");
        let _ = write!(out, "STAT {fd}:secs_since_last_cmd {idle}\r\n");
    }
    out.extend_from_slice(b"END\r\n");
}

/// memcached's form: `tcp:127.0.0.1:11211`, `tcp6:[::1]:11211`.
fn show(a: SocketAddr) -> String {
    match a {
        SocketAddr::V4(a) => format!("tcp:{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("tcp6:[{}]:{}", a.ip(), a.port()),
    }
}

type NameFn = unsafe extern "C" fn(RawFd, *mut libc::sockaddr, *mut libc::socklen_t) -> i32;

/// The socket's local or peer address (by `getsockname` or `getpeername`); None for what
/// is not an IP socket.
fn sock_addr(fd: RawFd, name: NameFn) -> Option<SocketAddr> {
    // SAFETY: the storage is large enough for any address and its length is passed.
    let (ss, ok) = unsafe {
        let mut ss: libc::sockaddr_storage = mem::zeroed();
        let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let ok = name(fd, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) == 0;
        (ss, ok)
    };
    if !ok {
        return None;
    }
    match i32::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let a: libc::sockaddr_in = unsafe { mem::transmute_copy(&ss) };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::from((ip, u16::from_be(a.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let a: libc::sockaddr_in6 = unsafe { mem::transmute_copy(&ss) };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::from((ip, u16::from_be(a.sin6_port))))
        }
        _ => None,
    }
}

fn int_opt(fd: RawFd, level: i32, name: i32) -> Option<i32> {
    let mut v: i32 = 0;
    let mut len = mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: an int-sized option into an int.
    let r = unsafe { libc::getsockopt(fd, level, name, &mut v as *mut i32 as *mut _, &mut len) };
    (r == 0).then_some(v)
}

/// Milliseconds since the socket last received data.
fn last_recv_ms(fd: RawFd) -> Option<u32> {
    // SAFETY: TCP_INFO fills at most `len` bytes of the zeroed struct.
    unsafe {
        let mut info: libc::tcp_info = mem::zeroed();
        let mut len = mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let r = libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            &mut info as *mut _ as *mut _,
            &mut len,
        );
        (r == 0).then_some(info.tcpi_last_data_recv)
    }
}
