//! Locked memory: what each shard locks, sized at start to fit `ulimit -l`.
//!
//! Each shard's glommio executor locks, against the user's `RLIMIT_MEMLOCK` (unless the
//! process has CAP_IPC_LOCK):
//! - its I/O memory (`--io-memory`, at least 64 KiB) once for each of its three io_uring
//!   rings it is registered with: a shard's `VmPin` is three times `--io-memory`;
//! - the rings themselves, 16 KiB each at glommio's depth of 128 entries (the kernel
//!   charged them to `ulimit -l` before 5.12 and does again on this 6.x kernel);
//! - the shard's network ring (`crate::shard::ring`, [`NET_RING_LOCKED`]);
//! - with `--data-dir`, warm-up's read ring (`crate::persist::reader`,
//!   [`WARMUP_RING_LOCKED`]), where the limit leaves room for it;
//! - and, while executors start, small probe rings ([`RESERVE`]).
//!
//! The limit is per user: processes of the same user without CAP_IPC_LOCK share it,
//! including one that has just exited (the kernel releases rings a moment later).
//!
//! When a ring cannot be locked the shard fails, and when buffers cannot be registered
//! glommio only warns; which comes first varies from start to start, so everything must
//! fit. A default `--io-memory` shrinks (256 KiB down to 64 KiB) until every shard fits the
//! limit; when even 64 KiB per shard does not fit and the limit applies, fewer shards
//! serve, with a warning. An explicit `--io-memory` that does not fit is an error, as is a
//! limit below the 512 KiB glommio requires.

use crate::config::Settings;

/// Rings per glommio executor (main, latency, poll); the I/O memory is registered with each.
pub const RINGS_PER_SHARD: u64 = 3;
/// What a ring of glommio's default depth (128 entries) locks.
pub const RING_LOCKED: u64 = 16 << 10;
/// What a shard's network ring locks at its smallest (`crate::shard::ring`: 64 submission
/// entries, 256 completions, the provided-buffer ring), rounded up to pages.
pub const NET_RING_LOCKED: u64 = 16 << 10;
/// What it locks at the size it takes when the limit leaves room (256 entries, 1024
/// completions).
pub const NET_RING_LOCKED_LARGE: u64 = 48 << 10;
/// What warm-up's read ring locks (16 entries), with room: it may still be counted a
/// moment after it closes, while the shard makes its network ring.
pub const WARMUP_RING_LOCKED: u64 = 16 << 10;
/// Submission entries of the two sizes.
pub const NET_RING_SMALL: u32 = 64;
pub const NET_RING_LARGE: u32 = 256;
/// glommio rounds smaller I/O memory up to this.
pub const IO_MEMORY_MIN: usize = 64 << 10;
/// glommio refuses to start an executor under this locked-memory limit.
pub const GLOMMIO_MEMLOCK_MIN: u64 = 512 << 10;
/// Kept out of the shards' budget: the small rings that probe io_uring at start (the
/// preflight's and glommio's, 8 KiB each, released only after a moment), with room to spare.
pub const RESERVE: u64 = 64 << 10;

/// Raises the soft `RLIMIT_MEMLOCK` to the hard one, then sizes `settings.io_memory` and, if
/// it must, the shard count to fit it ([`LockedMemory::plan`]); logs a warning when fewer
/// shards serve.
pub fn plan_locked_memory(settings: &mut Settings) -> Result<(), String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } != 0 {
        return Ok(());
    }
    if lim.rlim_cur != libc::RLIM_INFINITY && lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit reads the struct; raising a soft limit to the hard one is allowed.
        if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &raised) } == 0 {
            lim = raised;
        }
    }
    let plan = LockedMemory {
        limit: (lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur),
        limited: !has_cap_ipc_lock(),
        shards: settings.shards as u64,
        io_memory: settings.io_memory,
        auto: settings.io_memory_auto,
    }
    .plan()?;
    settings.io_memory = plan.io_memory;
    // What the limit leaves each shard beyond what it must lock.
    let room_under_limit = if lim.rlim_cur != libc::RLIM_INFINITY {
        let used = plan.shards * locked_per_shard(plan.io_memory) + RESERVE;
        lim.rlim_cur.saturating_sub(used) / plan.shards.max(1)
    } else {
        u64::MAX
    };
    // The network ring takes its larger size where the limit leaves room for it.
    let room = if has_cap_ipc_lock() {
        u64::MAX
    } else {
        room_under_limit
    };
    settings.net_ring_entries = if room >= NET_RING_LOCKED_LARGE - NET_RING_LOCKED {
        NET_RING_LARGE
    } else {
        NET_RING_SMALL
    };
    // Warm-up's ring is planned as if the limit applied even with CAP_IPC_LOCK: a start as
    // root with `-u` drops the capability before warm-up.
    settings.warmup_ring = warmup_ring_fits(room_under_limit, settings.net_ring_entries);
    if let Some(warning) = plan.warning {
        log::warn!("{warning}");
        settings.limit_shards(plan.shards as usize);
    }
    Ok(())
}

/// The inputs of [`plan_locked_memory`], apart so that they can be tested.
#[derive(Debug, Clone, Copy)]
pub struct LockedMemory {
    /// `ulimit -l` in bytes (None: unlimited).
    pub limit: Option<u64>,
    /// Whether the limit applies (the process lacks CAP_IPC_LOCK).
    pub limited: bool,
    pub shards: u64,
    pub io_memory: usize,
    /// `--io-memory` was not given: size it.
    pub auto: bool,
}

/// What [`LockedMemory::plan`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPlan {
    /// Bytes of I/O memory per shard, as glommio will use them.
    pub io_memory: usize,
    /// Shards that serve.
    pub shards: u64,
    /// Set when fewer shards serve than asked.
    pub warning: Option<String>,
}

/// What a shard locks with `io_memory` bytes of I/O memory.
pub fn locked_per_shard(io_memory: usize) -> u64 {
    RINGS_PER_SHARD * (io_memory as u64 + RING_LOCKED) + NET_RING_LOCKED
}

impl LockedMemory {
    /// Sizes are the same with and without CAP_IPC_LOCK, so a configuration that starts as
    /// root starts as a service user; only the shard count, which the limit would make
    /// fail, is cut when the limit applies.
    pub fn plan(&self) -> Result<LockedPlan, String> {
        let effective = |io: usize| io.next_multiple_of(4096).max(IO_MEMORY_MIN);
        let Some(limit) = self.limit else {
            return Ok(LockedPlan {
                io_memory: effective(self.io_memory),
                shards: self.shards,
                warning: None,
            });
        };
        let kib = |b: u64| b >> 10;
        if limit < GLOMMIO_MEMLOCK_MIN {
            return Err(format!(
                "locked memory is too low for io_uring: `ulimit -l` allows {} KiB and glommio needs at least {} KiB whatever --io-memory is; raise it (`ulimit -l 8192`, or LimitMEMLOCK= in a systemd unit)",
                kib(limit),
                kib(GLOMMIO_MEMLOCK_MIN)
            ));
        }
        let budget = limit - RESERVE;
        let io_memory = if self.auto {
            let share = (budget / self.shards).saturating_sub(NET_RING_LOCKED) / RINGS_PER_SHARD;
            let io = share.saturating_sub(RING_LOCKED) as usize / 4096 * 4096;
            effective(io.min(self.io_memory))
        } else {
            let io = effective(self.io_memory);
            let need = self.shards * locked_per_shard(io) + RESERVE;
            if need > limit {
                return Err(format!(
                    "locked memory is too low for io_uring: {} shards each lock --io-memory {} KiB once per io_uring ring and the rings, {} KiB in all, but `ulimit -l` allows {} KiB; raise `ulimit -l`, lower --io-memory (or leave it out: it then fits itself), or use fewer -t/--threads",
                    self.shards,
                    kib(io as u64),
                    kib(need),
                    kib(limit)
                ));
            }
            io
        };
        let per_shard = locked_per_shard(io_memory);
        let fit = budget / per_shard;
        if !self.limited || fit >= self.shards {
            return Ok(LockedPlan {
                io_memory,
                shards: self.shards,
                warning: None,
            });
        }
        Ok(LockedPlan {
            io_memory,
            shards: fit,
            warning: Some(format!(
                "locked memory: `ulimit -l` allows {} KiB and each shard locks {} KiB (its io_uring rings, and --io-memory {} KiB once per ring), so {fit} of {} shards serve; raise `ulimit -l` (LimitMEMLOCK= in a systemd unit), or give the process CAP_IPC_LOCK, to serve more",
                kib(limit),
                kib(per_shard),
                kib(io_memory as u64),
                self.shards
            )),
        })
    }
}

/// The capability's bit (linux/capability.h).
const CAP_IPC_LOCK: u32 = 14;

/// Whether warm-up's read ring fits in `room`, the locked memory left to each shard
/// beyond what it must have, beside a network ring of `net_entries`.
pub fn warmup_ring_fits(room: u64, net_entries: u32) -> bool {
    let net_extra = if net_entries == NET_RING_LARGE {
        NET_RING_LOCKED_LARGE - NET_RING_LOCKED
    } else {
        0
    };
    room >= net_extra + WARMUP_RING_LOCKED
}

/// Whether this process holds CAP_IPC_LOCK, which lifts `ulimit -l` for io_uring.
fn has_cap_ipc_lock() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_IPC_LOCK) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_gets_its_ring_only_where_it_fits() {
        assert!(warmup_ring_fits(u64::MAX, NET_RING_LARGE));
        assert!(warmup_ring_fits(WARMUP_RING_LOCKED, NET_RING_SMALL));
        assert!(!warmup_ring_fits(WARMUP_RING_LOCKED - 1, NET_RING_SMALL));
        // The larger network ring's extra comes first.
        let large = NET_RING_LOCKED_LARGE - NET_RING_LOCKED;
        assert!(!warmup_ring_fits(large, NET_RING_LARGE));
        assert!(warmup_ring_fits(large + WARMUP_RING_LOCKED, NET_RING_LARGE));
    }

    const KB: u64 = 1 << 10;
    const MB: u64 = 1 << 20;
    const DEFAULT: usize = crate::config::IO_MEMORY;

    fn plan(limit: Option<u64>, limited: bool, shards: u64, io: usize, auto: bool) -> LockedPlan {
        LockedMemory {
            limit,
            limited,
            shards,
            io_memory: io,
            auto,
        }
        .plan()
        .unwrap()
    }

    /// (limit, limited, shards, --io-memory, auto) → (io_memory KiB, shards, warned).
    #[test]
    fn table() {
        let m8 = Some(8 * MB);
        for (limit, limited, shards, given, auto, io_kib, serve, warned) in [
            (m8, true, 1, DEFAULT, true, 256, 1, false),
            (m8, true, 9, DEFAULT, true, 256, 9, false),
            (m8, true, 10, DEFAULT, true, 248, 10, false),
            (m8, true, 11, DEFAULT, true, 224, 11, false),
            // The defaults on 256 CPUs (31 shards serve -m 64) fit, at 64 KiB.
            (m8, true, 31, DEFAULT, true, 64, 31, false),
            (m8, true, 33, DEFAULT, true, 64, 31, true),
            (m8, true, 34, DEFAULT, true, 64, 31, true),
            (m8, true, 64, DEFAULT, true, 64, 31, true),
            // With CAP_IPC_LOCK the limit does not apply: the same size, every shard.
            (m8, false, 64, DEFAULT, true, 64, 64, false),
            (None, true, 256, DEFAULT, true, 256, 256, false),
            (Some(512 * KB), true, 4, DEFAULT, true, 64, 1, true),
            (m8, true, 4, 64 << 10, false, 64, 4, false),
            (m8, true, 4, 0, false, 64, 4, false),
            (m8, true, 2, 1000, false, 64, 2, false),
        ] {
            let p = plan(limit, limited, shards, given, auto);
            assert_eq!(
                (p.io_memory as u64 / KB, p.shards, p.warning.is_some()),
                (io_kib, serve, warned),
                "{limit:?} {limited} {shards} {given} {auto}: {p:?}"
            );
            if limited {
                let locked = p.shards * locked_per_shard(p.io_memory) + RESERVE;
                assert!(limit.is_none() || locked <= limit.unwrap());
            }
        }
        let w = plan(m8, true, 64, DEFAULT, true).warning.unwrap();
        assert!(
            w.contains("so 31 of 64 shards serve") && w.contains("ulimit -l"),
            "{w}"
        );
    }

    #[test]
    fn refusals_are_one_sentence_naming_the_fix() {
        for (m, err_has) in [
            (
                LockedMemory {
                    limit: Some(256 * KB),
                    limited: true,
                    shards: 1,
                    io_memory: 0,
                    auto: true,
                },
                "ulimit -l 8192",
            ),
            (
                LockedMemory {
                    limit: Some(8 * MB),
                    limited: false,
                    shards: 4,
                    io_memory: 1 << 20,
                    auto: false,
                },
                "--io-memory",
            ),
        ] {
            let err = m.plan().unwrap_err();
            assert!(
                err.contains(err_has) && err.contains("locked memory"),
                "{err}"
            );
        }
    }
}
