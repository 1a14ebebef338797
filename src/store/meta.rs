//! The store operations of memcached's meta commands (`mg ms md ma me`): items are looked
//! up once and then inspected and changed through a [`MetaItem`] handle, so the reply can
//! show an item's state before the command changed it (`h`, `l`), as memcached's do.
//!
//! Semantics follow memcached 1.6.18 `proto_text.c` (`process_m*_command`) and
//! `memcached.c` (`do_store_item` with its stale-CAS path); `ma`'s `do_add_delta` is the
//! store's one arithmetic, in `arith.rs`.

use super::index::Loc;
use super::segment::{self, Header, FETCHED, STALE, WIN_SENT};
use super::{memcached_item_size, Miss, Mode, Prior, Store, StoreResult};
use crate::stats::Stat;

/// A live item found by [`Store::meta_find`]. Valid until the store next writes an item
/// (which may move items); the methods that change it keep it up to date.
#[derive(Clone, Copy, Debug)]
pub struct MetaItem {
    loc: Loc,
    hdr: Header,
}

/// What the meta commands can see of an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetaInfo {
    pub flags: u32,
    /// Absolute unix time; 0 never.
    pub exptime: u32,
    /// The unique a client sees (0 when CAS is off).
    pub cas: u64,
    pub klen: usize,
    pub vlen: usize,
    /// Read since it was written (memcached's `ITEM_FETCHED`).
    pub fetched: bool,
    /// Last access time, unix seconds modulo 2^31 (see [`MetaInfo::idle`]).
    pub atime: u32,
    /// Marked stale by an invalidation.
    pub stale: bool,
    /// A recache win token was handed out.
    pub win_sent: bool,
    /// The key was stored base64-encoded (`b`), so replies show it encoded.
    pub key_binary: bool,
}

impl MetaInfo {
    /// Seconds since the last access, at `now`.
    pub fn idle(&self, now: u32) -> u32 {
        now.wrapping_sub(self.atime) & segment::ATIME_MASK
    }
}

/// Outcome of [`Store::meta_delete`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaDelete {
    Deleted,
    /// `I`: marked stale, with a new unique, instead of removed.
    Invalidated,
    /// The compare-CAS did not match.
    Exists,
    NotFound,
}

impl MetaItem {
    /// Where the item is, and its header.
    pub(super) fn at(&self) -> (Loc, Header) {
        (self.loc, self.hdr)
    }
}

impl PartialEq for MetaItem {
    fn eq(&self, other: &Self) -> bool {
        self.loc == other.loc
    }
}
impl Eq for MetaItem {}

impl Store {
    /// Looks up a live item without marking it read; counts expired and flushed misses
    /// as memcached's `do_item_get` does.
    pub fn meta_find(&mut self, key: &[u8], now: u32) -> Option<MetaItem> {
        match self.lookup(key, now) {
            Ok((_, loc, hdr)) => Some(MetaItem { loc, hdr }),
            Err(Miss::Expired) => {
                self.counters.incr(Stat::GetExpired);
                None
            }
            Err(Miss::Flushed) => {
                self.counters.incr(Stat::GetFlushed);
                None
            }
            Err(Miss::Absent) => None,
        }
    }

    pub fn meta_info(&self, it: &MetaItem) -> MetaInfo {
        let h = &it.hdr;
        MetaInfo {
            flags: h.flags,
            exptime: h.exptime,
            cas: if self.use_cas { h.cas } else { 0 },
            klen: h.klen,
            vlen: h.vlen,
            fetched: h.info & FETCHED != 0,
            atime: h.atime,
            stale: h.info & STALE != 0,
            win_sent: h.info & WIN_SENT != 0,
            key_binary: h.key_binary,
        }
    }

    /// memcached's size of the item (`ITEM_ntotal`), as `me` shows it.
    pub fn meta_item_size(&self, it: &MetaItem) -> usize {
        memcached_item_size(it.hdr.klen, it.hdr.flags, it.hdr.vlen, self.use_cas)
    }

    pub fn meta_key(&self, it: &MetaItem) -> &[u8] {
        &self.item(it.loc)[it.hdr.key_at..it.hdr.key_at + it.hdr.klen]
    }

    pub fn meta_value(&self, it: &MetaItem) -> &[u8] {
        &self.item(it.loc)[it.hdr.value_at()..it.hdr.value_at() + it.hdr.vlen]
    }

    /// [`Store::meta_value`] as a [`super::StoreValue`], for a reply that may pin it.
    pub fn meta_stored(&self, it: &MetaItem) -> super::StoreValue<'_> {
        super::StoreValue::new(self.meta_value(it), it.loc.seg, &self.pins)
    }

    /// Sets the item's expiry (it may move).
    pub fn meta_set_exptime(&mut self, it: &mut MetaItem, exptime: u32) {
        let (loc, hdr) = self.set_exptime_at(it.loc, it.hdr, exptime);
        *it = MetaItem { loc, hdr };
    }

    /// Records that a recache win token was handed out for the item.
    pub fn meta_set_win_sent(&mut self, it: &mut MetaItem) {
        self.item_mut(it.loc)[0] |= WIN_SENT;
        it.hdr.info |= WIN_SENT;
    }

    /// Marks the item read (memcached's LRU bump): fetched, more frequent, and from the
    /// second read on, its access time.
    pub fn meta_bump(&mut self, it: &MetaItem) {
        self.touch_freq(it.loc);
    }

    /// `mg N` on a miss: creates an empty item with flags 0, expiring at `exptime`, with
    /// the win token already handed out when `win` (the creator wins).
    pub fn meta_vivify(
        &mut self,
        key: &[u8],
        exptime: u32,
        win: bool,
        now: u32,
    ) -> Option<MetaItem> {
        let bits = if win { WIN_SENT } else { 0 };
        if self.write_ext(key, 0, exptime, &[], bits, false, Prior::Unknown) != StoreResult::Stored
        {
            return None;
        }
        self.just_written(key, now)
    }

    /// The item just written for `key`, even if its exptime is already past (memcached
    /// answers with the item it created, then it expires).
    pub(super) fn just_written(&mut self, key: &[u8], now: u32) -> Option<MetaItem> {
        self.tick(now);
        let h = self.hash(key);
        let (_, loc) = self.find_key(h, key)?;
        let hdr = segment::read_header(self.item(loc));
        Some(MetaItem { loc, hdr })
    }

    /// `ms`, as memcached's `do_store_item` with a meta request: `cas` 0 compares
    /// nothing; `invalidate` (`I`) in CAS mode stores a value whose `cas` is older than the
    /// item's as a stale one (keeping its exptime and win token); direct writes keep
    /// `key_binary`, appended and prepended items (new items in memcached) do not.
    #[allow(clippy::too_many_arguments)]
    pub fn meta_store(
        &mut self,
        mode: Mode,
        key: &[u8],
        flags: u32,
        exptime: u32,
        cas: u64,
        invalidate: bool,
        key_binary: bool,
        data: &[u8],
        now: u32,
    ) -> StoreResult {
        let (old, prior) = self.lookup_prior(key, now);
        let result = match old {
            Some((_, loc, hdr)) => {
                let old_cas = if self.use_cas { hdr.cas } else { 0 };
                match mode {
                    Mode::Add => {
                        self.touch_update(loc);
                        StoreResult::NotStored
                    }
                    Mode::Cas if cas != 0 && cas == old_cas => {
                        self.counters.incr(Stat::CasHits);
                        self.write_ext(key, flags, exptime, &[data], 0, key_binary, prior)
                    }
                    Mode::Cas if cas != 0 && invalidate && cas < old_cas => {
                        self.counters.incr(Stat::CasHits);
                        let bits = STALE | (hdr.info & WIN_SENT);
                        self.write_ext(key, flags, hdr.exptime, &[data], bits, key_binary, prior)
                    }
                    Mode::Cas => {
                        self.counters.incr(Stat::CasBadval);
                        StoreResult::Exists
                    }
                    Mode::Append | Mode::Prepend if cas != 0 && cas != old_cas => {
                        StoreResult::Exists
                    }
                    Mode::Append | Mode::Prepend => {
                        self.store(mode, key, flags, exptime, 0, data, now)
                    }
                    Mode::Set | Mode::Replace => {
                        self.write_ext(key, flags, exptime, &[data], 0, key_binary, prior)
                    }
                }
            }
            None => match mode {
                Mode::Add | Mode::Set => {
                    self.write_ext(key, flags, exptime, &[data], 0, key_binary, prior)
                }
                Mode::Cas => {
                    self.counters.incr(Stat::CasMisses);
                    StoreResult::NotFound
                }
                Mode::Replace | Mode::Append | Mode::Prepend => StoreResult::NotStored,
            },
        };
        if result == StoreResult::NoMemory {
            self.counters.incr(Stat::StoreNoMemory);
            if mode == Mode::Set {
                self.remove(key, now);
            }
        }
        result
    }

    /// `md`: removes the item, or with `invalidate` marks it stale (new unique, win token
    /// cleared, expiry set to `exptime` if given), if `cas` (when given) matches.
    pub fn meta_delete(
        &mut self,
        key: &[u8],
        cas: Option<u64>,
        invalidate: bool,
        exptime: Option<u32>,
        now: u32,
    ) -> MetaDelete {
        let Some(mut it) = self.meta_find(key, now) else {
            return MetaDelete::NotFound;
        };
        let item_cas = if self.use_cas { it.hdr.cas } else { 0 };
        if cas.is_some_and(|c| c != item_cas) {
            return MetaDelete::Exists;
        }
        if invalidate {
            if let Some(e) = exptime {
                self.meta_set_exptime(&mut it, e);
            }
            let new_cas = self.new_cas();
            let src = self.item_mut(it.loc);
            src[0] = (src[0] | STALE) & !WIN_SENT;
            segment::set_cas(src, new_cas);
            self.journal_at(it.loc);
            return MetaDelete::Invalidated;
        }
        let (slot, loc, hdr) = self.lookup(key, now).ok().expect("found above");
        self.unlink(slot, loc, &hdr);
        self.journal_delete(key);
        MetaDelete::Deleted
    }
}
