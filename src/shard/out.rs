//! A connection's reply on its way out: the bytes a pass wrote, the store values it holds
//! pinned, and the submission that sends what is left of them.

use io_uring::{opcode, squeue, types};

use crate::engine::reply::Reply;
use crate::engine::ReplySink;
use crate::shard::ring::{Sock, SEND_VECTORIZED};
use crate::store::StoreValue;

/// Iovecs per send (the kernel's `IOV_MAX`).
const IOV_MAX: usize = 1024;

/// A send waits for the whole reply to go, and a closed socket fails it with EPIPE rather
/// than a SIGPIPE.
const SEND_FLAGS: i32 = libc::MSG_NOSIGNAL | libc::MSG_WAITALL;

/// A connection's replies: bytes, with large values held pinned in the store (see
/// [`crate::engine::reply`]), and how much of them went out. Boxed, so that a reply being
/// sent stays where the kernel reads it.
#[derive(Default)]
pub struct Out {
    pub reply: Reply,
    iov: Vec<libc::iovec>,
    msg: MsgHdr,
    /// Bytes of the whole reply already sent.
    pub(crate) sent: usize,
    /// Bytes this reply counts in the shard's copied replies waiting to be sent.
    pub counted: usize,
}

/// A `msghdr` that is `Default` (it holds raw pointers, valid only while a send is queued).
struct MsgHdr(libc::msghdr);

impl Default for MsgHdr {
    fn default() -> Self {
        // SAFETY: an all-zero msghdr is a valid empty one.
        MsgHdr(unsafe { std::mem::zeroed() })
    }
}

impl std::ops::Deref for Out {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.reply.buf
    }
}

impl std::ops::DerefMut for Out {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.reply.buf
    }
}

impl ReplySink for Out {
    fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.reply.buf
    }
    #[inline]
    fn value(&mut self, v: StoreValue<'_>) {
        self.reply.value(v)
    }
}

impl Out {
    /// Whether anything is left to send.
    pub fn pending(&self) -> bool {
        !self.reply.is_empty()
    }

    /// Forgets the reply once sent (its pins with it).
    pub fn finish(&mut self) {
        self.reply.clear();
        self.sent = 0;
    }

    /// The submission that sends what is left (at most [`IOV_MAX`] pieces): a plain send
    /// when it is one piece (most replies: no held value), which the kernel takes without
    /// copying a message header and an iovec array in; with `vectored` (the kernel has
    /// it), a send of the iovec array, which spares the message header; a `sendmsg`
    /// otherwise.
    #[inline(always)]
    pub(crate) fn submission(&mut self, sock: Sock, vectored: bool) -> squeue::Entry {
        if self.reply.held.is_empty() {
            // The bytes are the one piece: no iovec to build.
            let rest = &self.reply.buf[self.sent..];
            return plain_send(sock, rest.as_ptr(), rest.len() as u32, 0, SEND_FLAGS);
        }
        self.pieces_submission(sock, vectored)
    }

    /// [`Out::submission`] for a reply with held values.
    #[inline(never)]
    fn pieces_submission(&mut self, sock: Sock, vectored: bool) -> squeue::Entry {
        let msg = self.prepare();
        if self.iov.len() == 1 {
            let v = self.iov[0];
            return plain_send(
                sock,
                v.iov_base as *const u8,
                v.iov_len as u32,
                0,
                SEND_FLAGS,
            );
        }
        if vectored {
            let n = self.iov.len() as u32;
            let iov = self.iov.as_ptr().cast::<u8>();
            return plain_send(sock, iov, n, SEND_VECTORIZED, SEND_FLAGS);
        }
        let send = match sock {
            Sock::Fd(fd) => opcode::SendMsg::new(types::Fd(fd), msg),
            Sock::Fixed(i) => opcode::SendMsg::new(types::Fixed(i), msg),
        };
        send.flags(SEND_FLAGS as u32).build()
    }

    /// Points the message at what is left to send (at most [`IOV_MAX`] pieces).
    fn prepare(&mut self) -> *const libc::msghdr {
        let iov = &mut self.iov;
        iov.clear();
        self.reply.pieces_from(self.sent, |s| {
            if iov.len() < IOV_MAX {
                iov.push(libc::iovec {
                    iov_base: s.as_ptr() as *mut libc::c_void,
                    iov_len: s.len(),
                })
            }
        });
        self.msg = MsgHdr::default();
        self.msg.0.msg_iov = self.iov.as_mut_ptr();
        self.msg.0.msg_iovlen = self.iov.len();
        &self.msg.0
    }

    pub(crate) fn all_sent(&self) -> bool {
        self.sent >= self.reply.total_len()
    }
}

/// A send of `len` bytes at `buf` (or, with `SEND_VECTORIZED` in `ioprio`, of `len` iovecs).
#[inline(always)]
fn plain_send(sock: Sock, buf: *const u8, len: u32, ioprio: u16, flags: i32) -> squeue::Entry {
    let send = match sock {
        Sock::Fd(fd) => opcode::Send::new(types::Fd(fd), buf, len),
        Sock::Fixed(i) => opcode::Send::new(types::Fixed(i), buf, len),
    };
    send.ioprio(ioprio).flags(flags).build()
}
