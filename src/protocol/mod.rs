//! Wire protocols. Pure: bytes in, requests out; nothing here touches a socket or a store.

pub mod num;
pub mod text;
