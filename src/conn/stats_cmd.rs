//! `stats` and its groups, summed over every shard, as each protocol asks for them.

use std::mem;

use super::Conn;
use crate::shard::Shard;
use crate::stats::{self, Stat};

impl Conn {
    /// `stats` and its groups, summed over every shard.
    pub(super) fn stats(&mut self, shard: &Shard, args: &[u8], now: u32) {
        let mut words = args.split(|&b| b == b' ').filter(|w| !w.is_empty());
        let group = words.next().unwrap_or(b"");
        match group {
            b"reset" => {
                reset_stats(shard);
                self.line(false, "RESET");
            }
            b"detail" => match words.next() {
                Some(b"on") | Some(b"off") => self.line(false, "OK"),
                Some(b"dump") => self.line(false, "END"),
                _ => self.line(false, "CLIENT_ERROR usage: stats detail on|off|dump"),
            },
            _ => match stat_pairs(shard, group, now) {
                Some(pairs) => {
                    use std::io::Write;
                    for (name, value) in pairs {
                        let _ = write!(self.out, "STAT {name} {value}\r\n");
                    }
                    self.out.extend_from_slice(b"END\r\n");
                }
                None => self.line(false, "ERROR"),
            },
        }
    }
}

/// `stats reset`: every shard's counters.
pub(super) fn reset_stats(shard: &Shard) {
    for c in shard.all_counters.iter() {
        c.reset();
    }
}

/// The `(name, value)` pairs of a stats group (`""` for the general one), summed over every
/// shard; `None` for a group that does not exist. Each protocol formats them its own way.
pub(super) fn stat_pairs(shard: &Shard, group: &[u8], now: u32) -> Option<Vec<(String, String)>> {
    let mut p = Stats(Vec::new());
    match group {
        b"" => general_stats(&mut p, shard, now),
        b"settings" => settings_stats(&mut p, shard),
        b"tasks" => task_stats(&mut p, shard),
        b"shards" => shard_stats(&mut p, shard),
        b"items" | b"slabs" | b"sizes" => {}
        _ => return None,
    }
    Some(p.0)
}

struct Stats(Vec<(String, String)>);

impl Stats {
    fn stat(&mut self, name: &str, value: impl std::fmt::Display) {
        self.0.push((name.to_string(), value.to_string()));
    }
}

fn general_stats(p: &mut Stats, shard: &Shard, now: u32) {
    let all = &shard.all_counters;
    let (user, system) = rusage();
    p.stat("pid", std::process::id());
    p.stat("uptime", now.saturating_sub(shard.started));
    p.stat("time", now);
    p.stat(
        "version",
        concat!("1.6.18-corecached-", env!("CARGO_PKG_VERSION")),
    );
    p.stat("pointer_size", usize::BITS);
    p.stat("rusage_user", format_args!("{}.{:06}", user.0, user.1));
    p.stat(
        "rusage_system",
        format_args!("{}.{:06}", system.0, system.1),
    );
    p.stat("max_connections", shard.settings.conn_limit);
    p.stat("parked_connections", shard.parked_total());
    for &s in stats::Stat::ALL {
        match s {
            Stat::ParkedConnections
            | Stat::CurrItems
            | Stat::TotalItems
            | Stat::Bytes
            | Stat::Evictions
            | Stat::EvictedUnfetched
            | Stat::EvictedActive
            | Stat::Reclaimed
            | Stat::ExpiredUnfetched
            | Stat::SegmentsEvicted
            | Stat::SegmentsCompacted
            | Stat::StoreMemory
            | Stat::ShardCpuUserUs
            | Stat::ShardCpuSystemUs
            | Stat::ShardSchedulerRuns
            | Stat::ShardTasksRun
            | Stat::PeerBatches
            | Stat::PeerBatchesBetweenTurns => continue,
            _ => {}
        }
        p.stat(s.name(), stats::sum(all, s));
    }
    p.stat("limit_maxbytes", shard.admin.mem_limit());
    p.stat("threads", shard.settings.shards);
    for s in [
        Stat::Bytes,
        Stat::CurrItems,
        Stat::TotalItems,
        Stat::Evictions,
        Stat::EvictedUnfetched,
        Stat::EvictedActive,
        Stat::Reclaimed,
        Stat::ExpiredUnfetched,
        Stat::SegmentsEvicted,
        Stat::SegmentsCompacted,
        Stat::StoreMemory,
        Stat::ShardCpuUserUs,
        Stat::ShardCpuSystemUs,
    ] {
        p.stat(s.name(), stats::sum(all, s));
    }
}

/// `stats shards`: each shard's own gauges, to see how keys, connections and CPU spread.
fn shard_stats(p: &mut Stats, shard: &Shard) {
    for (id, c) in shard.all_counters.iter().enumerate() {
        for s in [
            Stat::CurrConnections,
            Stat::CurrItems,
            Stat::Bytes,
            Stat::StoreMemory,
            Stat::CmdGet,
            Stat::CmdSet,
            Stat::ShardCpuUserUs,
            Stat::ShardCpuSystemUs,
            Stat::ShardSchedulerRuns,
            Stat::ShardTasksRun,
            Stat::PeerBatches,
            Stat::PeerBatchesBetweenTurns,
        ] {
            p.stat(&format!("shard{id}:{}", s.name()), c.get(s));
        }
    }
}

/// `stats tasks`: every engine task of every shard.
fn task_stats(p: &mut Stats, shard: &Shard) {
    let now_ms = crate::shard::unix_now_ms();
    for (id, infos) in shard.tasks.iter().enumerate() {
        for t in infos.get().into_iter().flatten() {
            let next = match t.next_wake_ms() {
                0 => "-".to_string(),
                ms => format!("{}ms", ms.saturating_sub(now_ms)),
            };
            let line = format!(
                "queue={} priority={} state={} runs={} total_us={} longest_us={} next_wake={} description=\"{}\"",
                t.queue.name(),
                t.priority,
                t.state().name(),
                t.runs(),
                t.total().as_micros(),
                t.longest().as_micros(),
                next,
                t.description
            );
            p.stat(&format!("shard{id}:{}", t.name), line);
        }
    }
}

fn settings_stats(p: &mut Stats, shard: &Shard) {
    let s = &shard.settings;
    let addrs: Vec<String> = s.addrs.iter().map(|a| a.ip().to_string()).collect();
    p.stat("maxbytes", shard.admin.mem_limit());
    p.stat("maxconns", s.conn_limit);
    p.stat("tcpport", s.addrs[0].port());
    p.stat("udpport", 0);
    p.stat("inter", addrs.join(","));
    p.stat("verbosity", s.verbose);
    p.stat("evictions", if s.evict { "on" } else { "off" });
    p.stat("segment_size", s.segment_size);
    p.stat("num_threads", s.shards);
    p.stat("cas_enabled", if s.use_cas { "yes" } else { "no" });
    p.stat("tcp_backlog", s.backlog);
    p.stat("binding_protocol", s.protocol.as_str());
    p.stat("item_size_max", s.item_size_max);
    p.stat("flush_enabled", if s.flush_enabled { "yes" } else { "no" });
    p.stat("reqs_per_event", s.reqs_per_event);
    p.stat("hashpower_init", s.hashpower);
    p.stat("io_memory", s.io_memory);
    p.stat("auth_enabled_sasl", if s.sasl { "yes" } else { "no" });
    p.stat(
        "auth_enabled_ascii",
        match (&s.auth_file, s.sasl) {
            (Some(f), false) => f.display().to_string(),
            _ => "no".to_string(),
        },
    );
}

/// User and system CPU time of the process, as (seconds, microseconds).
fn rusage() -> ((i64, i64), (i64, i64)) {
    // SAFETY: getrusage fills the zeroed struct.
    let ru = unsafe {
        let mut ru: libc::rusage = mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    (
        (ru.ru_utime.tv_sec, ru.ru_utime.tv_usec),
        (ru.ru_stime.tv_sec, ru.ru_stime.tv_usec),
    )
}
