//! The connection's side of `watch` ([`crate::watch`]): after `OK`, the connection sends
//! the lines handed to its watcher as they come, and reads only to drop what the client
//! sends, as memcached's logger does, until the client goes.

use std::io::ErrorKind;
use std::mem;
use std::rc::Rc;

use super::{AfterPass, Conn};
use crate::shard::Shard;

/// What woke a watching connection.
enum Woke {
    Lines,
    Read(std::io::Result<usize>),
}

impl Conn {
    /// `watch [streams…]`, answered as memcached 1.6.18 answers it.
    pub(super) fn watch(
        &mut self,
        shard: &Shard,
        streams: Option<u16>,
        noreply: bool,
    ) -> Option<AfterPass> {
        if shard.settings.watch_disabled {
            self.line(noreply, "CLIENT_ERROR watch commands not allowed");
            return None;
        }
        let Some(streams) = streams else {
            self.line(noreply, "ERROR");
            return None;
        };
        match crate::watch::join(&shard.admin, &shard.all_counters, streams) {
            None => {
                self.line(noreply, "WATCHER_TOO_MANY log watcher limit reached");
                None
            }
            Some(w) => {
                self.out.extend_from_slice(b"OK\r\n");
                self.watcher = Some(w);
                Some(AfterPass::Watch)
            }
        }
    }

    /// Streams the watcher's lines until the client closes (or the server stops: its
    /// read ends). A client that does not read holds one send in flight and its outbox;
    /// the lines after are skipped.
    pub(super) async fn stream_watch(&mut self, shard: &Rc<Shard>) -> std::io::Result<()> {
        let Some(watching) = self.watcher.take() else {
            return Ok(());
        };
        let net = &shard.net;
        let pool = &shard.buffers;
        let id = self.id;
        // Commands after `watch` are never run.
        self.start = 0;
        self.end = 0;
        let unread = mem::take(&mut self.rbuf);
        if unread.capacity() > 0 {
            pool.put_read(unread);
        }
        loop {
            if self.out.reply.buf.capacity() == 0 {
                self.out.reply.buf = pool.take_out();
            }
            let woke = {
                let out = &mut self.out.reply.buf;
                let (rbuf, end) = (&mut self.rbuf, &mut self.end);
                let lines = async {
                    futures_lite::future::poll_fn(|cx| watching.poll_lines(cx, out)).await;
                    Woke::Lines
                };
                let read = async {
                    Woke::Read(
                        futures_lite::future::poll_fn(|_| net.poll_read(id, rbuf, end, pool)).await,
                    )
                };
                futures_lite::future::or(lines, read).await
            };
            match woke {
                Woke::Lines => {
                    let copied = self.out.capacity();
                    pool.count_reply(&mut self.out.counted, copied);
                    self.send(shard).await?;
                }
                Woke::Read(Ok(0)) => return Ok(()),
                Woke::Read(Ok(_)) => {
                    self.end = 0;
                    pool.put_read(mem::take(&mut self.rbuf));
                }
                Woke::Read(Err(e)) if e.kind() == ErrorKind::Interrupted => {}
                Woke::Read(Err(e)) => return Err(e),
            }
        }
    }
}
