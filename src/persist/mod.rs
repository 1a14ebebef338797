//! Eventual persistence (`--data-dir`), after ep-engine: writes are acknowledged from
//! memory and journaled; each shard persists its own journal and loads it back at start.
//!
//! - `record.rs`: the record format (pure).
pub mod journal;
pub mod record;
