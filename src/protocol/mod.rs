//! Wire protocols. Pure: bytes in, requests out; nothing here touches a socket or a store.
//!
//! - [`text`]: memcached's text protocol, the connection's default; it hands meta command
//!   lines to [`meta`].
//! - [`meta`]: the meta commands (`mg ms md ma me`).
//! - [`binary`]: the binary protocol, chosen per connection by its first byte.
//! - [`num`]: memcached's number parsing.

pub mod binary;
pub mod meta;
pub mod num;
pub mod text;
