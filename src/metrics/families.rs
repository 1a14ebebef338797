//! What a scrape exposes: the families memcached_exporter makes of memcached's `stats`,
//! under its names, from the same stat pairs `stats` prints (`conn::stat_pairs`);
//! then corecached's own: per-shard gauges and counters, per-engine-task counters, and
//! request latency histograms.
//!
//! The exporter's families are driven by stat names: a stat that `stats` does not print
//! gives no sample, so a family appears as soon as its stat does.

use std::collections::HashMap;
use std::sync::Arc;

use super::exposition::{Family, Type, Value};
use crate::latency::{Histograms, Kind, BOUNDS_NS};
use crate::shard::Shard;
use crate::stats::Stat;

/// A general stat and the exporter's family for it.
struct FromStat {
    stat: &'static str,
    name: &'static str,
    ty: Type,
    help: &'static str,
}

const fn from(stat: &'static str, name: &'static str, ty: Type, help: &'static str) -> FromStat {
    FromStat {
        stat,
        name,
        ty,
        help,
    }
}

/// memcached_exporter's families read from one general stat each.
const GENERAL: &[FromStat] = &[
    from(
        "uptime",
        "memcached_uptime_seconds",
        Type::Counter,
        "Number of seconds since the server started.",
    ),
    from(
        "time",
        "memcached_time_seconds",
        Type::Gauge,
        "Current UNIX time according to the server.",
    ),
    from(
        "rusage_user",
        "memcached_process_user_cpu_seconds_total",
        Type::Counter,
        "Accumulated user time for this process.",
    ),
    from(
        "rusage_system",
        "memcached_process_system_cpu_seconds_total",
        Type::Counter,
        "Accumulated system time for this process.",
    ),
    from(
        "bytes_read",
        "memcached_read_bytes_total",
        Type::Counter,
        "Total number of bytes read by this server from network.",
    ),
    from(
        "bytes_written",
        "memcached_written_bytes_total",
        Type::Counter,
        "Total number of bytes sent by this server to network.",
    ),
    from(
        "curr_connections",
        "memcached_current_connections",
        Type::Gauge,
        "Current number of open connections.",
    ),
    from(
        "max_connections",
        "memcached_max_connections",
        Type::Gauge,
        "Maximum number of clients allowed.",
    ),
    from(
        "total_connections",
        "memcached_connections_total",
        Type::Counter,
        "Total number of connections opened since the server started running.",
    ),
    from(
        "rejected_connections",
        "memcached_connections_rejected_total",
        Type::Counter,
        "Total number of connections rejected for hitting the -c limit.",
    ),
    from(
        "conn_yields",
        "memcached_connections_yielded_total",
        Type::Counter,
        "Total number of times a connection yielded for hitting the -R limit.",
    ),
    from(
        "listen_disabled_num",
        "memcached_connections_listener_disabled_total",
        Type::Counter,
        "Number of times the server hit its connection limit and disabled its listener.",
    ),
    from(
        "accepting_conns",
        "memcached_accepting_connections",
        Type::Gauge,
        "The server is currently accepting new connections.",
    ),
    from(
        "bytes",
        "memcached_current_bytes",
        Type::Gauge,
        "Current number of bytes used to store items.",
    ),
    from(
        "limit_maxbytes",
        "memcached_limit_bytes",
        Type::Gauge,
        "Number of bytes this server is allowed to use for storage.",
    ),
    from(
        "curr_items",
        "memcached_current_items",
        Type::Gauge,
        "Current number of items stored by this instance.",
    ),
    from(
        "total_items",
        "memcached_items_total",
        Type::Counter,
        "Total number of items stored during the life of this instance.",
    ),
    from(
        "evictions",
        "memcached_items_evicted_total",
        Type::Counter,
        "Total number of valid items removed from cache to free memory for new items.",
    ),
    from(
        "reclaimed",
        "memcached_items_reclaimed_total",
        Type::Counter,
        "Total number of times an entry was stored using memory from an expired entry.",
    ),
    from(
        "store_too_large",
        "memcached_item_too_large_total",
        Type::Counter,
        "The number of times an item exceeded the max-item-size when being stored.",
    ),
    from(
        "store_no_memory",
        "memcached_item_no_memory_total",
        Type::Counter,
        "The number of times an item could not be stored due to no more memory.",
    ),
    from(
        "direct_reclaims",
        "memcached_direct_reclaims_total",
        Type::Counter,
        "Times worker threads had to directly reclaim or evict items.",
    ),
    from(
        "lru_crawler_starts",
        "memcached_lru_crawler_starts_total",
        Type::Counter,
        "Times an LRU crawler was started.",
    ),
    from(
        "crawler_items_checked",
        "memcached_lru_crawler_items_checked_total",
        Type::Counter,
        "Total items examined by LRU Crawler.",
    ),
    from(
        "crawler_reclaimed",
        "memcached_lru_crawler_reclaimed_total",
        Type::Counter,
        "Total items freed by LRU Crawler.",
    ),
    from(
        "moves_to_cold",
        "memcached_lru_crawler_moves_to_cold_total",
        Type::Counter,
        "Total number of items moved from HOT/WARM to COLD LRUs.",
    ),
    from(
        "moves_to_warm",
        "memcached_lru_crawler_moves_to_warm_total",
        Type::Counter,
        "Total number of items moved from COLD to WARM LRU.",
    ),
    from(
        "moves_within_lru",
        "memcached_lru_crawler_moves_within_lru_total",
        Type::Counter,
        "Total number of items reshuffled within HOT or WARM LRUs.",
    ),
    from(
        "total_malloced",
        "memcached_malloced_bytes",
        Type::Gauge,
        "Number of bytes of memory allocated to slab pages.",
    ),
];

/// memcached_exporter's per-class families from `stats items` (`items:<class>:<stat>`).
const ITEMS: &[FromStat] = &[
    from("number", "memcached_slab_current_items", Type::Gauge, "Number of items currently stored in this slab class."),
    from("age", "memcached_slab_items_age_seconds", Type::Gauge, "Number of seconds the oldest item has been in the slab class."),
    from("evicted", "memcached_slab_items_evicted_total", Type::Counter, "Total number of times an item had to be evicted before it expired."),
    from("evicted_nonzero", "memcached_slab_items_evicted_nonzero_total", Type::Counter, "Total number of times an item with an explicit expire time had to be evicted before it expired."),
    from("evicted_time", "memcached_slab_items_evicted_time_seconds", Type::Gauge, "Seconds since the last access for the most recent item evicted from this class."),
    from("evicted_unfetched", "memcached_slab_items_evicted_unfetched_total", Type::Counter, "Total number of items evicted and never fetched."),
    from("expired_unfetched", "memcached_slab_items_expired_unfetched_total", Type::Counter, "Total number of items expired and never fetched."),
    from("outofmemory", "memcached_slab_items_outofmemory_total", Type::Counter, "Total number of items for this slab class that have triggered an out of memory error."),
    from("reclaimed", "memcached_slab_items_reclaimed_total", Type::Counter, "Total number of items reclaimed."),
    from("crawler_reclaimed", "memcached_slab_items_crawler_reclaimed_total", Type::Counter, "Number of items freed by the LRU Crawler."),
    from("tailrepairs", "memcached_slab_items_tailrepairs_total", Type::Counter, "Total number of times the entries for a particular ID need repairing."),
    from("moves_to_cold", "memcached_slab_items_moves_to_cold", Type::Counter, "Number of items moved from HOT or WARM into COLD."),
    from("moves_to_warm", "memcached_slab_items_moves_to_warm", Type::Counter, "Number of items moved from COLD into WARM."),
    from("moves_within_lru", "memcached_slab_items_moves_within_lru", Type::Counter, "Number of times active items were bumped within HOT or WARM."),
    from("number_hot", "memcached_slab_hot_items", Type::Gauge, "Number of items presently stored in the HOT LRU."),
    from("number_warm", "memcached_slab_warm_items", Type::Gauge, "Number of items presently stored in the WARM LRU."),
    from("number_cold", "memcached_slab_cold_items", Type::Gauge, "Number of items presently stored in the COLD LRU."),
    from("number_temp", "memcached_slab_temporary_items", Type::Gauge, "Number of items presently stored in the TEMPORARY LRU."),
    from("age_hot", "memcached_slab_hot_age_seconds", Type::Gauge, "Age of the oldest item in the HOT LRU."),
    from("age_warm", "memcached_slab_warm_age_seconds", Type::Gauge, "Age of the oldest item in the WARM LRU."),
];

/// memcached_exporter's per-class families from `stats slabs` (`<class>:<stat>`).
const SLABS: &[FromStat] = &[
    from(
        "chunk_size",
        "memcached_slab_chunk_size_bytes",
        Type::Gauge,
        "Number of bytes allocated to each chunk within this slab class.",
    ),
    from(
        "chunks_per_page",
        "memcached_slab_chunks_per_page",
        Type::Gauge,
        "Number of chunks within a single page for this slab class.",
    ),
    from(
        "total_pages",
        "memcached_slab_current_pages",
        Type::Gauge,
        "Number of pages allocated to this slab class.",
    ),
    from(
        "total_chunks",
        "memcached_slab_current_chunks",
        Type::Gauge,
        "Number of chunks allocated to this slab class.",
    ),
    from(
        "used_chunks",
        "memcached_slab_chunks_used",
        Type::Gauge,
        "Number of chunks allocated to an item.",
    ),
    from(
        "free_chunks",
        "memcached_slab_chunks_free",
        Type::Gauge,
        "Number of chunks not yet allocated to items.",
    ),
    from(
        "free_chunks_end",
        "memcached_slab_chunks_free_end",
        Type::Gauge,
        "Number of free chunks at the end of the last allocated page.",
    ),
    from(
        "mem_requested",
        "memcached_slab_mem_requested_bytes",
        Type::Gauge,
        "Number of bytes of memory actual items take up within a slab.",
    ),
];

/// Commands with hits and misses, as memcached_exporter labels them.
const HIT_MISS: [&str; 6] = ["get", "delete", "incr", "decr", "cas", "touch"];

/// Every family of one scrape, read on `shard` from every shard's counters.
pub fn collect(shard: &Shard, latency: &[Arc<Histograms>]) -> Vec<Family> {
    let now = shard.now();
    let general = pairs(shard, b"", now);
    let mut out = Vec::new();
    let mut up = Family::new(
        "memcached_up",
        Type::Gauge,
        "Could the memcached server be reached.",
    );
    up.sample(&[], Value::Int(1));
    out.push(up);
    let mut version = Family::new(
        "memcached_version",
        Type::Gauge,
        "The version of this memcached server.",
    );
    if let Some(v) = general.get("version") {
        version.sample(&[("version", v)], Value::Int(1));
    }
    out.push(version);
    for f in GENERAL {
        let mut fam = Family::new(f.name, f.ty, f.help);
        if let Some(v) = general.get(f.stat).and_then(|v| value(v)) {
            fam.sample(&[], v);
        }
        out.push(fam);
    }
    out.push(commands(&general));
    out.extend(per_class(shard, now));
    out.extend(per_shard(shard));
    out.extend(per_task(shard));
    out.push(latency_family(latency));
    out
}

/// A stats group's pairs by name (empty for a group that does not exist).
fn pairs(shard: &Shard, group: &[u8], now: u32) -> HashMap<String, String> {
    crate::conn::stat_pairs(shard, group, now)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// A stat's value as a sample's: an integer stays exact, `s.us` (rusage) becomes a float.
fn value(v: &str) -> Option<Value> {
    if let Ok(n) = v.parse::<u64>() {
        return Some(Value::Int(n));
    }
    v.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Value::Float)
}

fn int(m: &HashMap<String, String>, k: &str) -> Option<u64> {
    m.get(k).and_then(|v| v.parse().ok())
}

/// `memcached_commands_total{command,status}` as memcached_exporter derives it: hits and
/// misses per command, `cas` `badval`, `flush` from `cmd_flush`, and `set` as `cmd_set`
/// less the `cas` commands it also counts.
fn commands(general: &HashMap<String, String>) -> Family {
    let mut f = Family::new(
        "memcached_commands_total",
        Type::Counter,
        "Total number of all requests broken down by command (get, set, etc.) and status.",
    );
    for op in HIT_MISS {
        for (suffix, status) in [("hits", "hit"), ("misses", "miss")] {
            if let Some(n) = int(general, &format!("{op}_{suffix}")) {
                f.sample(&[("command", op), ("status", status)], Value::Int(n));
            }
        }
    }
    if let Some(n) = int(general, "cas_badval") {
        f.sample(&[("command", "cas"), ("status", "badval")], Value::Int(n));
    }
    if let Some(n) = int(general, "cmd_flush") {
        f.sample(&[("command", "flush"), ("status", "hit")], Value::Int(n));
    }
    if let Some(set) = int(general, "cmd_set") {
        let cas: u64 = ["cas_hits", "cas_misses", "cas_badval"]
            .iter()
            .filter_map(|k| int(general, k))
            .sum();
        f.sample(
            &[("command", "set"), ("status", "hit")],
            Value::Int(set.saturating_sub(cas)),
        );
    }
    f
}

/// memcached_exporter's `memcached_slab_*` families from `stats items` and `stats slabs`,
/// labelled by class, for the classes those groups print.
fn per_class(shard: &Shard, now: u32) -> Vec<Family> {
    let items = crate::conn::stat_pairs(shard, b"items", now).unwrap_or_default();
    let slabs = crate::conn::stat_pairs(shard, b"slabs", now).unwrap_or_default();
    class_families(&items, &slabs)
}

/// The per-class families of `stats items` pairs (`items:<class>:<stat>`) and `stats slabs`
/// pairs (`<class>:<stat>`; the totals without a class are left out).
fn class_families(items: &[(String, String)], slabs: &[(String, String)]) -> Vec<Family> {
    let mut out: Vec<Family> = ITEMS
        .iter()
        .chain(SLABS)
        .map(|f| Family::new(f.name, f.ty, f.help))
        .collect();
    let mut cmds = Family::new(
        "memcached_slab_commands_total",
        Type::Counter,
        "Total number of all requests broken down by command (get, set, etc.) and status per slab.",
    );
    let split = |name: &str| -> Option<(String, String)> {
        let (class, stat) = name.split_once(':')?;
        class
            .parse::<u32>()
            .ok()
            .map(|_| (class.to_string(), stat.to_string()))
    };
    for (name, v) in items {
        let Some((class, stat)) = name.strip_prefix("items:").and_then(split) else {
            continue;
        };
        if let (Some(i), Some(v)) = (ITEMS.iter().position(|f| f.stat == stat), value(v)) {
            out[i].sample(&[("slab", &class)], v);
        }
    }
    // Per class: `cmd_set` when printed, and the `cas` commands it also counts.
    let mut set_per_class: Vec<(String, Option<u64>, u64)> = Vec::new();
    for (name, v) in slabs {
        let Some((class, stat)) = split(name) else {
            continue;
        };
        if let (Some(i), Some(v)) = (SLABS.iter().position(|f| f.stat == stat), value(v)) {
            out[ITEMS.len() + i].sample(&[("slab", &class)], v);
        }
        let Ok(n) = v.parse::<u64>() else {
            continue;
        };
        let hit_miss = stat
            .rsplit_once('_')
            .filter(|(op, _)| HIT_MISS.contains(op));
        match (stat.as_str(), hit_miss) {
            (_, Some((op, "hits"))) => {
                let op = HIT_MISS.iter().find(|o| **o == op).expect("listed");
                cmds.sample(
                    &[("slab", &class), ("command", op), ("status", "hit")],
                    Value::Int(n),
                );
            }
            (_, Some((op, "misses"))) => {
                let op = HIT_MISS.iter().find(|o| **o == op).expect("listed");
                cmds.sample(
                    &[("slab", &class), ("command", op), ("status", "miss")],
                    Value::Int(n),
                );
            }
            ("cas_badval", _) => {
                cmds.sample(
                    &[("slab", &class), ("command", "cas"), ("status", "badval")],
                    Value::Int(n),
                );
            }
            _ => {}
        }
        // memcached_exporter's per-class `set`: cmd_set less cas hits and badval.
        let at = match set_per_class.iter().position(|(c, ..)| *c == class) {
            Some(at) => at,
            None => {
                set_per_class.push((class.clone(), None, 0));
                set_per_class.len() - 1
            }
        };
        match stat.as_str() {
            "cmd_set" => set_per_class[at].1 = Some(n),
            "cas_hits" | "cas_badval" => set_per_class[at].2 += n,
            _ => {}
        }
    }
    for (class, set, cas) in &set_per_class {
        let Some(set) = set else {
            continue;
        };
        cmds.sample(
            &[("slab", class), ("command", "set"), ("status", "hit")],
            Value::Int(set.saturating_sub(*cas)),
        );
    }
    out.push(cmds);
    out
}

/// Per-shard series: how keys, memory, connections and work spread over the shards.
fn per_shard(shard: &Shard) -> Vec<Family> {
    let gauges: [(&'static str, Stat, &'static str); 4] = [
        (
            "corecached_shard_current_items",
            Stat::CurrItems,
            "Items stored in the shard.",
        ),
        (
            "corecached_shard_current_bytes",
            Stat::Bytes,
            "Bytes of items stored in the shard.",
        ),
        (
            "corecached_shard_store_memory_bytes",
            Stat::StoreMemory,
            "Memory the shard's store holds for items.",
        ),
        (
            "corecached_shard_current_connections",
            Stat::CurrConnections,
            "Connections the shard serves.",
        ),
    ];
    let counters: [(&'static str, Stat, &'static str); 4] = [
        (
            "corecached_shard_connections_total",
            Stat::TotalConnections,
            "Connections the shard has accepted.",
        ),
        (
            "corecached_shard_scheduler_runs_total",
            Stat::ShardSchedulerRuns,
            "Runs of the shard executor's scheduler.",
        ),
        (
            "corecached_shard_tasks_run_total",
            Stat::ShardTasksRun,
            "Tasks the shard's executor has run.",
        ),
        (
            "corecached_shard_peer_batches_total",
            Stat::PeerBatches,
            "Batches of forwarded requests the shard has taken from its peers.",
        ),
    ];
    let all = &shard.all_counters;
    let ids: Vec<String> = (0..all.len()).map(|i| i.to_string()).collect();
    let mut out = Vec::new();
    for (name, stat, help) in gauges {
        let mut f = Family::new(name, Type::Gauge, help);
        for (id, c) in ids.iter().zip(all.iter()) {
            f.sample(&[("shard", id)], Value::Int(c.get(stat)));
        }
        out.push(f);
    }
    for (name, stat, help) in counters {
        let mut f = Family::new(name, Type::Counter, help);
        for (id, c) in ids.iter().zip(all.iter()) {
            f.sample(&[("shard", id)], Value::Int(c.get(stat)));
        }
        out.push(f);
    }
    let mut cmds = Family::new(
        "corecached_shard_commands_total",
        Type::Counter,
        "Commands the shard has run on its own keys (memcached's cmd_* counters), by command.",
    );
    let mut cpu = Family::new(
        "corecached_shard_cpu_seconds_total",
        Type::Counter,
        "CPU time of the shard's thread, sampled once a second, by mode.",
    );
    for (id, c) in ids.iter().zip(all.iter()) {
        for (cmd, stat) in [
            ("get", Stat::CmdGet),
            ("set", Stat::CmdSet),
            ("touch", Stat::CmdTouch),
            ("flush", Stat::CmdFlush),
            ("meta", Stat::CmdMeta),
        ] {
            cmds.sample(&[("shard", id), ("command", cmd)], Value::Int(c.get(stat)));
        }
        for (mode, stat) in [
            ("user", Stat::ShardCpuUserUs),
            ("system", Stat::ShardCpuSystemUs),
        ] {
            let s = c.get(stat) as f64 / 1e6;
            cpu.sample(&[("shard", id), ("mode", mode)], Value::Float(s));
        }
    }
    out.push(cmds);
    out.push(cpu);
    out
}

/// Per engine task of every shard: its runs and the time they took, labelled by its task
/// queue.
fn per_task(shard: &Shard) -> Vec<Family> {
    let mut runs = Family::new(
        "corecached_task_runs_total",
        Type::Counter,
        "Steps an engine background task has run.",
    );
    let mut runtime = Family::new(
        "corecached_task_runtime_seconds_total",
        Type::Counter,
        "Time an engine background task's steps have taken.",
    );
    let mut longest = Family::new(
        "corecached_task_longest_run_seconds",
        Type::Gauge,
        "The longest step an engine background task has taken.",
    );
    for (id, infos) in shard.tasks.iter().enumerate() {
        let id = id.to_string();
        for t in infos.get().into_iter().flatten() {
            let labels = [
                ("shard", id.as_str()),
                ("queue", t.queue.name()),
                ("task", t.name),
            ];
            runs.sample(&labels, Value::Int(t.runs()));
            runtime.sample(&labels, Value::Float(t.total().as_secs_f64()));
            longest.sample(&labels, Value::Float(t.longest().as_secs_f64()));
        }
    }
    vec![runs, runtime, longest]
}

/// Request latency per command, summed over the shards.
fn latency_family(latency: &[Arc<Histograms>]) -> Family {
    let mut f = Family::new(
        "corecached_request_duration_seconds",
        Type::Histogram,
        "Time from the network ring pass that brought a request's bytes to its reply being queued for sending (parsing, the store, and any wait for another shard's reply; not the kernel or the wire), by command. Requests handled in one pass of a connection share one measurement.",
    );
    let bounds: Vec<f64> = BOUNDS_NS.iter().map(|ns| *ns as f64 / 1e9).collect();
    for kind in Kind::ALL {
        let mut buckets = [0u64; BOUNDS_NS.len() + 1];
        let (mut sum_ns, mut count) = (0u64, 0u64);
        for h in latency {
            let s = h.snapshot(kind);
            for (b, v) in buckets.iter_mut().zip(s.buckets) {
                *b = b.wrapping_add(v);
            }
            sum_ns = sum_ns.wrapping_add(s.sum_ns);
            count = count.wrapping_add(s.count);
        }
        f.histogram(
            &[("command", kind.name())],
            &bounds,
            &buckets,
            sum_ns as f64 / 1e9,
            count,
        );
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::exposition::render;

    fn owned(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn class_stats_map_to_the_exporters_slab_families() {
        let items = owned(&[
            ("items:1:number", "3"),
            ("items:1:age", "7"),
            ("items:1:evicted", "0"),
            ("items:1:unknown_thing", "5"),
        ]);
        let slabs = owned(&[
            ("1:chunk_size", "96"),
            ("1:get_hits", "4"),
            ("1:cmd_set", "9"),
            ("1:cas_hits", "1"),
            ("1:cas_badval", "2"),
            ("active_slabs", "1"),
        ]);
        let text = render(&class_families(&items, &slabs));
        for line in [
            "memcached_slab_current_items{slab=\"1\"} 3",
            "memcached_slab_items_age_seconds{slab=\"1\"} 7",
            "memcached_slab_items_evicted_total{slab=\"1\"} 0",
            "memcached_slab_chunk_size_bytes{slab=\"1\"} 96",
            "memcached_slab_commands_total{slab=\"1\",command=\"get\",status=\"hit\"} 4",
            "memcached_slab_commands_total{slab=\"1\",command=\"cas\",status=\"badval\"} 2",
            "memcached_slab_commands_total{slab=\"1\",command=\"set\",status=\"hit\"} 6",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(!text.contains("unknown_thing") && !text.contains("active_slabs"));
    }

    #[test]
    fn commands_follow_the_exporter() {
        let general: HashMap<String, String> = owned(&[
            ("get_hits", "5"),
            ("get_misses", "2"),
            ("cmd_set", "10"),
            ("cas_hits", "1"),
            ("cas_misses", "1"),
            ("cas_badval", "1"),
            ("cmd_flush", "4"),
        ])
        .into_iter()
        .collect();
        let text = render(&[commands(&general)]);
        for line in [
            "memcached_commands_total{command=\"get\",status=\"hit\"} 5",
            "memcached_commands_total{command=\"get\",status=\"miss\"} 2",
            "memcached_commands_total{command=\"set\",status=\"hit\"} 7",
            "memcached_commands_total{command=\"cas\",status=\"badval\"} 1",
            "memcached_commands_total{command=\"flush\",status=\"hit\"} 4",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(
            !text.contains("delete"),
            "no delete stats, no delete samples"
        );
    }

    #[test]
    fn stat_values() {
        assert_eq!(value("12"), Some(Value::Int(12)));
        assert_eq!(value("0.123456"), Some(Value::Float(0.123456)));
        assert_eq!(value("1.6.18"), None);
        assert_eq!(value("inf"), None);
    }
}
