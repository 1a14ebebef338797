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
//! - [`auth`]: the password file, SASL PLAIN and the text protocol's authentication.
//! - [`config`]: command-line flags (memcached's names) and the [`config::Settings`] they give.
//! - [`protocol`]: the text, meta and binary protocol parsers and the request they parse
//!   into; pure, no I/O, imports nothing above it.
//! - [`num`]: memcached's number parsing and printing, shared by protocol and store.
//! - [`conn`]: one connection: read buffer, request handling, reply assembly, writes.
//! - [`listen`]: listening sockets that one instance alone serves and its shards share, and
//!   a spare descriptor to turn clients away when the process runs out.
//! - [`startup`]: start-up checks and changes to the process: descriptor limit, CPUs,
//!   locked memory, the switch to `-u`'s user.
//! - [`ratelog`]: rate-limited log lines for events a client can provoke.
//! - [`park`]: idle connections parked in their shard's ring without a task.
//! - [`shard`]: cores, executors and channels: start-up, pinned executors, the request/reply
//!   meshes, [`shard::shard_for`], shutdown. [`shard::ring`]: each shard's own io_uring for
//!   its listeners and connections, driven beside glommio. [`shard::buffers`]: the shard's
//!   spare connection buffers.
//! - [`geometry`]: how `-m` is split: the shard count and each store's segment size.
//! - [`memlock`]: what each shard locks (glommio's registered I/O memory), sized to
//!   `ulimit -l`.
//! - [`mesh`]: the request and reply meshes between shards, connected all at once at start.
//! - [`engine`]: single-key operations ([`engine::KeyOp`]) applied to a store by
//!   [`engine::apply`]: the text protocol's in [`engine::text`], the meta and binary ones in
//!   [`engine::meta`] and [`engine::binary`]; their reply bytes ([`engine::format`],
//!   [`engine::reply`]: large values held pinned in the store), and their encoding for
//!   forwarding ([`engine::wire`]).
//! - [`store`]: a shard's items, expiry, CAS and memory accounting; knows nothing of sockets.
//!   [`store::pins`]: the segments a reply holds values of, which the store leaves as they are.
//! - [`stats`]: per-shard counters with memcached's names, summed for `stats`.
//! - [`tasks`]: engine background tasks (ep-engine's GlobalTask model): the expiry pager and
//!   eviction maintenance, run by each shard in low-priority task queues.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod auth;
pub mod config;
pub mod conn;
pub mod engine;
pub mod geometry;
pub mod listen;
pub mod memlock;
pub mod mesh;
pub mod num;
pub mod park;
pub mod protocol;
pub mod ratelog;
pub mod server;
pub mod shard;
pub mod startup;
pub mod stats;
pub mod store;
pub mod tasks;
