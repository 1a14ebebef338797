//! A listener whose clients the shard hands out (`-s`'s unix socket: `shard::handoff`),
//! accepted without an accept kept in the ring.
//!
//! Why not the multishot accept the other listeners have: an accept pending in a ring holds
//! its listener open until the kernel has torn the ring down, which it does after the
//! process has gone. A server killed with SIGKILL would then take clients on its socket for
//! some milliseconds more and reset them, where memcached's socket refuses them at once.
//! So the listener sits in an epoll set, which holds no reference to it, and the ring polls
//! that set: the process's own descriptor is the listener's last, and it closes with it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use io_uring::{opcode, types};

use super::{user_data, AcceptFailed, NetRing, OP_LISTENER_READY};

/// Where a client accepted on a handing-out listener goes: `None` once another shard has it
/// (that shard's [`NetRing::adopt`] serves it), or the descriptor back for this ring to
/// serve.
pub type HandOut = Box<dyn Fn(OwnedFd) -> Option<OwnedFd>>;

/// Clients accepted in one turn, before the ring's other completions get theirs.
const ACCEPTS_PER_TURN: usize = 64;

pub(super) struct HandingOut {
    listener: usize,
    /// An epoll set holding the listener alone.
    epoll: OwnedFd,
    place: HandOut,
}

impl NetRing {
    /// Hands out the clients of `listener` (its index in this ring's listeners): each one
    /// accepted goes to `place`. Before [`NetRing::start_accepting`].
    pub fn hand_out(&mut self, listener: usize, place: HandOut) -> io::Result<()> {
        let fd = self.listeners[listener];
        // SAFETY: epoll_create1 returns a new descriptor or -1; it is owned at once.
        let epoll = unsafe {
            let e = libc::epoll_create1(libc::EPOLL_CLOEXEC);
            if e < 0 {
                return Err(io::Error::last_os_error());
            }
            OwnedFd::from_raw_fd(e)
        };
        // SAFETY: fcntl and epoll_ctl on the listener this ring holds and the set above.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: 0,
            };
            if libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        self.hand_out = Some(HandingOut {
            listener,
            epoll,
            place,
        });
        Ok(())
    }

    /// Arms the wait for `listener`'s clients if it hands them out; false if it does not.
    pub(super) fn arm_hand_out(&self, listener: usize) -> bool {
        let Some(h) = self.hand_out.as_ref().filter(|h| h.listener == listener) else {
            return false;
        };
        // One shot: a poll of a level-triggered set completes at once while clients wait.
        let e = opcode::PollAdd::new(types::Fd(h.epoll.as_raw_fd()), libc::POLLIN as u32)
            .build()
            .user_data(user_data(OP_LISTENER_READY, 0, listener as u32));
        self.push(e);
        true
    }

    /// The handing-out listener has clients: accepts a turn's worth, places each, and
    /// waits again (done at once while more wait). A failed accept goes to the driver as a
    /// failed multishot accept does, and it re-arms.
    pub(super) fn listener_ready(&self, listener: usize, res: i32) {
        let Some(h) = &self.hand_out else {
            return;
        };
        if !self.accepting.get() {
            return;
        }
        let fd = self.listeners[listener];
        let failed = |error| {
            self.accept_failed.borrow_mut().push(AcceptFailed {
                listener,
                fd,
                error,
            })
        };
        if res < 0 {
            return failed(io::Error::from_raw_os_error(-res));
        }
        for _ in 0..ACCEPTS_PER_TURN {
            // SAFETY: accept4 on a listener this ring holds.
            let c = unsafe {
                libc::accept4(
                    fd,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_CLOEXEC,
                )
            };
            if c < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EAGAIN) => break,
                    Some(libc::EINTR | libc::ECONNABORTED) => continue,
                    _ => return failed(e),
                }
            }
            // SAFETY: a descriptor just accepted, ours alone.
            let c = unsafe { OwnedFd::from_raw_fd(c) };
            if let Some(kept) = (h.place)(c) {
                self.adopt(kept, None);
            }
        }
        self.arm_accept(listener);
    }
}
