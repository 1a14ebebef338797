//! The connection's side of the admin commands that reach every shard: `lru_crawler`,
//! `stats cachedump` and `cache_memlimit`. A key dump is posted to every shard's dump task
//! once the pass that asked for it has settled (so it sees the writes before it), and its
//! chunks are streamed as they come, each sent before the next is taken ([`crate::dump`]).

use std::rc::Rc;
use std::sync::Arc;

use super::{AfterPass, Conn};
use crate::admin::Admin;
use crate::dump::{Job, Kind};
use crate::protocol::admin::{BadClasses, Classes, Crawler, MAX_CLASS_IDS};
use crate::shard::Shard;

/// The `stats` arguments of a `stats cachedump`.
pub(super) fn is_cachedump(args: &[u8]) -> bool {
    args.split(|&b| b == b' ').next() == Some(b"cachedump")
}

/// Cancels a dump when the connection streaming it stops, however it stops, and wakes the
/// shards' dump tasks to let go of it.
struct CancelOnDrop(Arc<Job>, Arc<Admin>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
        for d in self.1.desks() {
            d.dumper.wake();
        }
    }
}

impl Conn {
    /// `lru_crawler …`, with memcached's replies.
    pub(super) fn lru_crawler(&mut self, shard: &Shard, c: &Crawler<'_>) -> Option<AfterPass> {
        let admin = &shard.admin;
        match *c {
            // -X: memcached refuses before it looks at anything else.
            Crawler::Metadump(_) if shard.settings.dumps_disabled => {
                self.line(false, "ERROR metadump not allowed");
            }
            Crawler::Crawl(arg) | Crawler::Metadump(arg) if !admin.crawler_enabled() => {
                let _ = arg;
                self.line(false, "CLIENT_ERROR lru crawler disabled");
            }
            Crawler::Crawl(arg) => match Classes::parse(arg) {
                // memcached walks its hash table only for metadump.
                Ok(Classes::Hash) => self.line(false, "ERROR an unknown error happened"),
                Ok(_) => {
                    // Expired items of every class are reclaimed by one pass of each
                    // shard's pager.
                    for d in admin.desks() {
                        d.pager.wake();
                    }
                    self.line(false, "OK");
                }
                Err(e) => self.bad_classes(e),
            },
            Crawler::Metadump(arg) => match Classes::parse(arg) {
                Ok(classes) => {
                    self.dump = Some(Job::new(Kind::Metadump(classes), shard.shards(), 0));
                    return Some(AfterPass::Stream);
                }
                Err(e) => self.bad_classes(e),
            },
            Crawler::Tocrawl(n) => {
                admin.set_crawler_tocrawl(n);
                self.line(false, "OK");
            }
            Crawler::Sleep(us) => {
                admin.set_crawler_sleep(us);
                self.line(false, "OK");
            }
            Crawler::Enable => {
                if admin.set_crawler(true) {
                    self.line(false, "OK");
                } else {
                    self.line(false, "ERROR failed to start lru crawler thread");
                }
            }
            Crawler::Disable => {
                admin.set_crawler(false);
                self.line(false, "OK");
            }
        }
        None
    }

    fn bad_classes(&mut self, e: BadClasses) {
        match e {
            BadClasses::BadClass => self.line(false, "BADCLASS invalid class id"),
            BadClasses::Empty => self.line(false, "NOTSTARTED no items to crawl"),
        }
    }

    /// `stats cachedump <class> <limit>`, checked as memcached checks it.
    pub(super) fn cachedump(&mut self, shard: &Shard, args: &[u8]) -> Option<AfterPass> {
        if shard.settings.dumps_disabled {
            self.line(false, "CLIENT_ERROR stats cachedump not allowed");
            return None;
        }
        let words: Vec<&[u8]> = args
            .split(|&b| b == b' ')
            .filter(|w| !w.is_empty())
            .collect();
        if words.len() < 3 {
            self.line(false, "CLIENT_ERROR bad command line");
            return None;
        }
        let (Some(class), Some(limit)) =
            (crate::num::strtoul(words[1]), crate::num::strtoul(words[2]))
        else {
            self.line(false, "CLIENT_ERROR bad command line format");
            return None;
        };
        if class >= MAX_CLASS_IDS {
            self.line(false, "CLIENT_ERROR Illegal slab id");
            return None;
        }
        self.dump = Some(Job::new(Kind::Cachedump { class }, shard.shards(), limit));
        Some(AfterPass::Stream)
    }

    /// `cache_memlimit <mb>` within memcached's bounds (the parser answered the rest).
    pub(super) fn cache_memlimit(&mut self, shard: &Shard, mb: u32, noreply: bool) {
        let s = &shard.settings;
        let least = crate::geometry::MIN_SEGMENTS * s.segment_size
            + crate::geometry::index_bytes(s.index_items);
        match shard.admin.set_mem_limit((mb as usize) << 20, least) {
            Ok(()) => {
                log::info!("maxbytes adjusted to {mb}m");
                self.line(noreply, "OK");
            }
            Err(_) => self.line(
                noreply,
                "MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust",
            ),
        }
    }

    /// Streams the dump the last pass asked for: posts it to every shard, then sends each
    /// chunk as it comes, the next taken once the previous has been handed to the socket,
    /// and `END` after the last.
    pub(super) async fn stream_dump(&mut self, shard: &Rc<Shard>) -> std::io::Result<()> {
        let Some(job) = self.dump.take() else {
            return Ok(());
        };
        let _cancel = CancelOnDrop(job.clone(), shard.admin.clone());
        for id in 0..shard.shards() {
            if let Some(d) = shard.admin.desk(id) {
                d.post(id, job.clone());
            }
        }
        let admin = &shard.admin;
        let pool = &shard.buffers;
        loop {
            let out = &mut self.out.reply.buf;
            let more = futures_lite::future::poll_fn(|cx| {
                job.poll_chunk(cx, out, |s| {
                    if let Some(d) = admin.desk(s) {
                        d.dumper.wake();
                    }
                })
            })
            .await;
            if !more {
                self.out.extend_from_slice(b"END\r\n");
            }
            let copied = self.out.capacity();
            pool.count_reply(&mut self.out.counted, copied);
            self.send(shard).await?;
            if !more {
                return Ok(());
            }
        }
    }
}
