//! corecached: a memcached-compatible cache server, shard-per-core on glommio and io_uring.
//!
//! A request's path, and the module that owns each step:
//!
//! ```text
//!  socket ──► shard::ring ──► conn ──► protocol::text ──► Shard::owner ──┬─► engine::apply ──► store
//!  (recv)     (copy in)      (buffer)  (parse, pure)      (route)       │   (local key)
//!                                                                       └─► shard mesh ──► owner shard's
//!                                                                           (one Batch      engine::apply
//!                                                                            per peer)
//!  socket ◄── shard::ring ◄── conn: replies spliced in request order, one send per read batch
//! ```
//!
//! Along that path:
//!
//! - [`server`]: start-up (checks, listeners, the switch to `-u`'s user), one pinned
//!   executor per shard, signals.
//! - [`shard`]: a shard's context: routing ([`shard::Shard::owner`], [`shard::shard_for`]),
//!   the request/reply meshes and the batches taken from them, its engine tasks; the
//!   batches in flight per peer and the doorbells that wake a peer in `shard/in_flight.rs`.
//!   `shard::start` brings a shard up and down; `shard::driver` drives its network ring
//!   and polls its connections' futures itself (`shard/conns.rs`, no glommio task each);
//!   `shard::handoff` spreads `-s`'s unix-socket clients, accepted by shard 0 (through
//!   `ring/hand_out.rs`), round-robin over every shard;
//!   [`shard::ring`]: the shard's own io_uring for its listeners and connections (setup and
//!   probe in `ring/setup.rs`, its completions in `ring/complete.rs`, the connection's
//!   side in `ring/conn_side.rs`, a reply in flight in `shard/out.rs`, the provided
//!   buffers recvs land in in `shard/provided.rs`, a TLS connection's session in
//!   `ring/tls.rs`);
//!   [`shard::buffers`]: the shard's spare connection buffers.
//! - [`conn`]: one connection: its read buffer and passes over it (`conn.rs`), a parsed
//!   request handled (`conn/handle.rs`), forwarding to other shards and splicing replies
//!   (`conn/forward.rs`), the output window, `stats` (`conn/stats_cmd.rs`, per-class
//!   groups and `stats detail` in `conn/stats_groups.rs`, `stats conns` in
//!   `conn/stats_conns.rs`), `slabs` and `lru` tunings (`conn/tune.rs`), `shutdown`, the
//!   binary protocol's and text authentication's loops.
//! - [`protocol`]: what a request is (`protocol/mod.rs`: the vocabulary, limits and error
//!   lines), one tokenizer (`protocol/tokens.rs`), the text, meta and binary parsers; pure,
//!   no I/O, imports nothing above it. [`num`]: memcached's number parsing and printing.
//! - [`engine`]: a request applied to a store ([`engine::apply`]; text ops in
//!   [`engine::text`], meta and binary in [`engine::meta`] and [`engine::binary`]; the op
//!   and its sink in `engine/op.rs`), its reply bytes ([`engine::format`],
//!   [`engine::reply`]: large values held pinned in the store), and the encoding of requests
//!   forwarded to another shard ([`engine::wire`]).
//! - [`store`]: a shard's items; knows nothing of sockets. Lookups in `store/mod.rs`, writes
//!   in `store/writes.rs`, memory (allocation, S3-FIFO eviction, compaction) in
//!   `store/space.rs`, expiry and the pager in `store/expiry.rs`, incr/decr in
//!   `store/arith.rs`, the meta commands' item ops in `store/meta.rs`, a walk over every
//!   item from a cursor in `store/walk.rs`, the limit changed live in `store/limit.rs`;
//!   [`store::index`] and [`store::segment`] are its hash index and item layout,
//!   [`store::pins`] the segments a reply holds values of.
//!
//! Beside it:
//!
//! - [`admin`]: what admin commands change live and every shard shares: the memory limit
//!   (`cache_memlimit`), the crawler's switches, each shard's desk for dumps and wakes.
//! - [`dump`]: key dumps (`lru_crawler metadump`, `stats cachedump`): a job per dump, a
//!   part per shard, filled by each shard's `key_dump` task a chunk at a time and streamed
//!   by the asking connection (`conn/dump.rs`); the store's walk is `store/walk.rs`.
//! - [`config`]: command-line flags (memcached's names) and the [`config::Settings`] they give;
//!   [`config::memcached`]: memcached's `-l` lists, `-o` suboptions and the flags that have
//!   no effect here.
//! - [`daemon`]: `-d` (into the background, the parent told how the start went) and `-P`'s
//!   pid file.
//! - [`auth`]: the password file, SASL PLAIN and the text protocol's authentication.
//! - [`listen`]: listening sockets (TCP, or `-s`'s unix socket) that one instance alone
//!   serves and its shards share, and a spare descriptor to turn clients away when the
//!   process runs out.
//! - [`startup`]: start-up checks and changes to the process: descriptor limit, CPUs,
//!   locked memory, core dumps (`-r`), the switch to `-u`'s user; the start-up line.
//! - [`geometry`]: how `-m` is split: the shard count and each store's segment size.
//! - [`memlock`]: what each shard locks (glommio's registered I/O memory and its network
//!   ring), sized to `ulimit -l`.
//! - [`latency`]: request latency histograms per shard and command for `--metrics`: one
//!   clock read per ring pass and one per connection pass, none per request.
//! - [`mesh`]: the request and reply meshes between shards, connected all at once at start.
//! - [`metrics`]: `--metrics`, Prometheus' text format over HTTP on shard 0 in a
//!   low-priority task queue (`metrics/http.rs` the request parser, `metrics/exposition.rs`
//!   the format, `metrics/families.rs` memcached_exporter's names and corecached's own).
//! - [`park`]: idle connections parked in their shard's ring without a task.
//! - [`persist`]: `--data-dir`, eventual persistence: the record format
//!   (`persist/record.rs`), the journal the store appends to (`persist/journal.rs`,
//!   `store/journal.rs`), the files and their layout (`persist/files.rs`), each shard's
//!   flusher on its Writer queue (`persist/flusher.rs`), its compactor on its AuxIO queue
//!   (`persist/compactor.rs`), warm-up on its Reader queue and the re-layout for another
//!   `-t` (`persist/warmup.rs`, `persist/shard.rs`), its files read a chunk at a time
//!   (`persist/stream.rs`) into buffers kept for the warm-up, through the shard's own
//!   small io_uring (`persist/reader.rs`).
//! - [`ratelog`]: rate-limited log lines for events a client can provoke.
//! - [`stats`]: per-shard counters with memcached's names (and per slab class, and per
//!   key prefix for `stats detail`), summed for `stats`.
//! - [`tls`]: `-Z`: the `ssl_*` options, the certificate and key loaded into the rustls
//!   configuration every shard shares, `refresh_certs`; the sessions live in the shard's
//!   ring (`shard/ring/tls.rs`), below `conn`, which sees plaintext only.
//! - [`verbosity`]: the log level, from `-v` and live from `verbosity N`.
//! - [`watch`]: memcached's `watch` log streams: each shard's bounded tap of lines (fed
//!   by `engine/watch.rs`, the store's evictions in `store/watch.rs` and the ring's
//!   connections), its `log_fanout` task handing them to every watcher's bounded outbox,
//!   the watching connection sending them (`conn/watch.rs`); line formats in `watch/lines.rs`.
//! - [`tasks`]: engine background tasks (ep-engine's GlobalTask model): the expiry pager,
//!   eviction maintenance (and `cache_memlimit`'s shrink), the key dump walker
//!   ([`dump::DumpTask`]), the `watch` fan-out ([`watch::LogTask`]), persistence's flusher
//!   and warm-up, run by each shard in low-priority task queues; a task's handle wakes it
//!   from any shard.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod admin;
pub mod auth;
pub mod config;
pub mod conn;
pub mod daemon;
pub mod dump;
pub mod engine;
pub mod geometry;
pub mod latency;
pub mod listen;
pub mod memlock;
pub mod mesh;
pub mod metrics;
pub mod num;
pub mod park;
pub mod persist;
pub mod protocol;
pub mod ratelog;
pub mod server;
pub mod shard;
pub mod startup;
pub mod stats;
pub mod store;
pub mod tasks;
pub mod tls;
pub mod verbosity;
pub mod watch;
