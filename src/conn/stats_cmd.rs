//! `stats` and its groups, summed over every shard, as each protocol asks for them; and the
//! other administrative commands of the text protocol (`shutdown`). The per-class groups
//! (`items`, `slabs`, `sizes`) and `detail` are in `conn/stats_groups.rs`, `conns` in
//! `conn/stats_conns.rs`.
//!
//! Keys, their order and their meaning are memcached 1.6.18's. Where corecached has no
//! such mechanism the key is there with a constant (README, "Moving from memcached", lists
//! them); corecached's own keys come after memcached's.

use std::mem;
use std::sync::atomic::Ordering::Relaxed;

use super::stats_groups;
use super::{AfterPass, Conn};
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
                Some(b"on") => {
                    stats_groups::detail_on(shard, true);
                    self.line(false, "OK");
                }
                Some(b"off") => {
                    stats_groups::detail_on(shard, false);
                    self.line(false, "OK");
                }
                Some(b"dump") => stats_groups::detail_dump(shard, &mut self.out),
                _ => self.line(false, "CLIENT_ERROR usage: stats detail on|off|dump"),
            },
            b"conns" => super::stats_conns::conns(shard, self.fd, now, &mut self.out),
            // memcached answers these two with one line and no END.
            b"sizes_enable" | b"sizes_disable" => {
                let on = group == b"sizes_enable";
                for c in shard.all_counters.iter() {
                    c.sizes.set_on(on, shard.settings.item_size_max);
                }
                self.out.extend_from_slice(if on {
                    b"STAT sizes_status enabled\r\n"
                } else {
                    b"STAT sizes_status disabled\r\n"
                });
            }
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

    /// `shutdown [graceful]`: with `-A`, stops the server as SIGTERM does (that stop is
    /// already graceful: connections finish what they have read) and closes this
    /// connection without a reply, as memcached does; without `-A`, memcached's error.
    pub(super) fn shutdown(&mut self, shard: &Shard, args: &[u8]) -> Option<AfterPass> {
        if !shard.settings.shutdown_enabled {
            self.line(false, "ERROR: shutdown not enabled");
            return None;
        }
        if !args.is_empty() && args != b"graceful" {
            self.line(false, "CLIENT_ERROR invalid shutdown mode");
            return None;
        }
        log::warn!("shutdown command received: stopping");
        // The main thread waits for SIGTERM (every other thread blocks it) and stops the
        // shards as for a signal from outside.
        // SAFETY: kill on our own pid with a valid signal number.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGTERM);
        }
        Some(AfterPass::Close)
    }
}

/// `stats reset`: every shard's counters, and the `stats detail` prefixes.
pub(super) fn reset_stats(shard: &Shard) {
    for c in shard.all_counters.iter() {
        c.reset();
        c.detail.clear();
    }
}

/// The `(name, value)` pairs of a stats group (`""` for the general one), summed over every
/// shard; `None` for a group that does not exist. Each protocol formats them its own way.
pub(crate) fn stat_pairs(shard: &Shard, group: &[u8], now: u32) -> Option<Vec<(String, String)>> {
    let mut p = Stats(Vec::new());
    match group {
        b"" => general_stats(&mut p, shard, now),
        b"settings" => settings_stats(&mut p, shard),
        b"tasks" => task_stats(&mut p, shard),
        b"shards" => shard_stats(&mut p, shard),
        b"items" => stats_groups::items(&mut p, shard),
        b"slabs" => stats_groups::slabs(&mut p, shard),
        b"sizes" => stats_groups::sizes(&mut p, shard),
        // Debian's memcached is built with extstore; without `-o ext_path` the group is
        // empty, as here, where there is no extstore.
        b"extstore" => {}
        _ => return None,
    }
    Some(p.0)
}

pub(super) struct Stats(pub(super) Vec<(String, String)>);

impl Stats {
    pub(super) fn stat(&mut self, name: &str, value: impl std::fmt::Display) {
        self.0.push((name.to_string(), value.to_string()));
    }
}

/// The general `stats`: memcached 1.6.18's 92 keys in its order (93 with `idle_kicks`,
/// which it shows only with an idle timeout), then corecached's own.
fn general_stats(p: &mut Stats, shard: &Shard, now: u32) {
    let all = &shard.all_counters;
    let sum = |s: Stat| stats::sum(all, s);
    let settings = &shard.settings;
    let (user, system) = rusage();
    let curr_connections = sum(Stat::CurrConnections);
    p.stat("pid", std::process::id());
    p.stat("uptime", now.saturating_sub(shard.started));
    p.stat("time", now);
    p.stat("version", crate::config::PROTOCOL_VERSION);
    // No libevent: each shard's io_uring is its event loop.
    p.stat("libevent", "io_uring");
    p.stat("pointer_size", usize::BITS);
    p.stat("rusage_user", format_args!("{}.{:06}", user.0, user.1));
    p.stat(
        "rusage_system",
        format_args!("{}.{:06}", system.0, system.1),
    );
    p.stat("max_connections", settings.conn_limit);
    p.stat("curr_connections", curr_connections);
    p.stat("total_connections", sum(Stat::TotalConnections));
    p.stat("rejected_connections", sum(Stat::RejectedConnections));
    // A connection's state lives as long as the connection here; memcached keeps its
    // structures for reuse.
    p.stat("connection_structures", curr_connections);
    for name in [
        "response_obj_oom",
        "response_obj_count",
        "response_obj_bytes",
        "read_buf_count",
        "read_buf_bytes",
        "read_buf_bytes_free",
        "read_buf_oom",
    ] {
        p.stat(name, 0);
    }
    p.stat("reserved_fds", reserved_fds(shard));
    for s in [
        Stat::CmdGet,
        Stat::CmdSet,
        Stat::CmdFlush,
        Stat::CmdTouch,
        Stat::CmdMeta,
        Stat::GetHits,
        Stat::GetMisses,
        Stat::GetExpired,
        Stat::GetFlushed,
        Stat::DeleteMisses,
        Stat::DeleteHits,
        Stat::IncrMisses,
        Stat::IncrHits,
        Stat::DecrMisses,
        Stat::DecrHits,
        Stat::CasMisses,
        Stat::CasHits,
        Stat::CasBadval,
        Stat::TouchHits,
        Stat::TouchMisses,
        Stat::StoreTooLarge,
        Stat::StoreNoMemory,
        Stat::AuthCmds,
        Stat::AuthErrors,
    ] {
        p.stat(s.name(), sum(s));
    }
    if settings.idle_timeout.is_some() {
        p.stat("idle_kicks", sum(Stat::IdleKicks));
    }
    p.stat("bytes_read", sum(Stat::BytesRead));
    p.stat("bytes_written", sum(Stat::BytesWritten));
    p.stat("limit_maxbytes", shard.admin.mem_limit());
    // Listeners are never disabled: past -c a client is accepted, told, and closed.
    p.stat("accepting_conns", 1);
    p.stat("listen_disabled_num", 0);
    p.stat("time_in_listen_disabled_us", 0);
    p.stat("threads", settings.shards);
    p.stat("conn_yields", sum(Stat::ConnYields));
    // One index per shard: the power of two of all their 8-byte slots together.
    let hash_bytes = sum(Stat::HashBytes);
    p.stat("hash_power_level", (hash_bytes / 8).max(1).ilog2());
    p.stat("hash_bytes", hash_bytes);
    p.stat("hash_is_expanding", 0);
    for name in [
        "slab_reassign_rescues",
        "slab_reassign_chunk_rescues",
        "slab_reassign_evictions_nomem",
        "slab_reassign_inline_reclaim",
        "slab_reassign_busy_items",
        "slab_reassign_busy_deletes",
        "slab_reassign_running",
        "slabs_moved",
        "lru_crawler_running",
        "lru_crawler_starts",
        "lru_maintainer_juggles",
        "malloc_fails",
    ] {
        p.stat(name, 0);
    }
    // `watch`: every shard's taps, and the watchers now.
    let log = |f: fn(&crate::watch::Tap) -> u64| all.iter().map(|c| f(&c.watch)).sum::<u64>();
    p.stat("log_worker_dropped", log(|t| t.dropped.load(Relaxed)));
    p.stat("log_worker_written", log(|t| t.written.load(Relaxed)));
    p.stat("log_watcher_skipped", log(|t| t.skipped.load(Relaxed)));
    p.stat("log_watcher_sent", log(|t| t.sent.load(Relaxed)));
    p.stat("log_watchers", shard.admin.watchers.count());
    if let Some(tls) = &settings.tls {
        if tls.options.session_cache {
            p.stat("ssl_new_sessions", tls.new_sessions());
        }
        p.stat("ssl_handshake_errors", sum(Stat::SslHandshakeErrors));
        p.stat("time_since_server_cert_refresh", tls.since_refresh());
    }
    for name in ["unexpected_napi_ids", "round_robin_fallback"] {
        p.stat(name, 0);
    }
    p.stat("bytes", sum(Stat::Bytes));
    p.stat("curr_items", sum(Stat::CurrItems));
    p.stat("total_items", sum(Stat::TotalItems));
    p.stat("slab_global_page_pool", 0);
    p.stat("expired_unfetched", sum(Stat::ExpiredUnfetched));
    p.stat("evicted_unfetched", sum(Stat::EvictedUnfetched));
    p.stat("evicted_active", sum(Stat::EvictedActive));
    p.stat("evictions", sum(Stat::Evictions));
    p.stat("reclaimed", sum(Stat::Reclaimed));
    p.stat("crawler_reclaimed", sum(Stat::CrawlerReclaimed));
    p.stat("crawler_items_checked", sum(Stat::CrawlerItemsChecked));
    for name in [
        "lrutail_reflocked",
        "moves_to_cold",
        "moves_to_warm",
        "moves_within_lru",
    ] {
        p.stat(name, 0);
    }
    p.stat("direct_reclaims", sum(Stat::DirectReclaims));
    p.stat("lru_bumps_dropped", 0);
    // corecached's own.
    p.stat("parked_connections", shard.parked_total());
    if settings.idle_timeout.is_none() {
        p.stat("idle_kicks", sum(Stat::IdleKicks));
    }
    for s in [
        Stat::SegmentsEvicted,
        Stat::SegmentsCompacted,
        Stat::StoreMemory,
        Stat::ShardCpuUserUs,
        Stat::ShardCpuSystemUs,
    ] {
        p.stat(s.name(), sum(s));
    }
    p.stat("corecached_version", crate::config::VERSION);
    // Persistence (`--data-dir`), with ep-engine's names: absent when it is off.
    if let Some(persist) = &shard.persist {
        let pending = shard.store.borrow().journal().map_or(0, |j| j.records);
        for (name, value) in persist.shared.stat_lines((shard.id, pending)) {
            p.stat(name, value);
        }
    }
}

/// The descriptors the server keeps for itself beyond `-c` (see README, "Descriptors"):
/// 16 for the process, and per shard 16 plus 3 per listening address.
fn reserved_fds(shard: &Shard) -> usize {
    let s = &shard.settings;
    16 + s.shards * (16 + 3 * s.addrs.len())
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

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `stats settings`: memcached 1.6.18's keys in its order. Values come from the flags;
/// where corecached has no such setting, memcached's default (README lists them); then
/// corecached's own settings.
/// A double as C's `%.2f` prints it (`inf`, `nan` included).
fn fixed2(v: f64) -> String {
    if v.is_nan() {
        if v.is_sign_negative() { "-nan" } else { "nan" }.to_string()
    } else if v.is_infinite() {
        if v < 0.0 { "-inf" } else { "inf" }.to_string()
    } else {
        format!("{v:.2}")
    }
}

fn settings_stats(p: &mut Stats, shard: &Shard) {
    let s = &shard.settings;
    let addrs: Vec<String> = s.addrs.iter().map(|a| a.ip().to_string()).collect();
    p.stat("maxbytes", shard.admin.mem_limit());
    p.stat("maxconns", s.conn_limit);
    // The port really bound (`-p 0` picks one).
    p.stat(
        "tcpport",
        shard.listen_addrs.first().map_or(0, |a| a.port()),
    );
    p.stat("udpport", 0);
    p.stat(
        "inter",
        if addrs.is_empty() {
            "NULL".to_string()
        } else {
            addrs.join(",")
        },
    );
    p.stat("verbosity", crate::verbosity::current());
    p.stat("oldest", 0);
    p.stat("evictions", if s.evict { "on" } else { "off" });
    match &s.unix_socket {
        Some(u) => {
            p.stat("domain_socket", u.path.display());
            p.stat("umask", format_args!("{:o}", u.mask));
        }
        None => {
            p.stat("domain_socket", "NULL");
            p.stat("umask", 700);
        }
    }
    p.stat("shutdown_command", yes_no(s.shutdown_enabled));
    p.stat(
        "growth_factor",
        format_args!("{:.2}", s.slab_classes.factor()),
    );
    p.stat("chunk_size", s.slab_classes.min_chunk());
    p.stat("num_threads", s.shards);
    p.stat("num_threads_per_udp", s.shards);
    p.stat("stat_key_prefix", s.prefix_delimiter as char);
    let detail = shard.all_counters.iter().any(|c| c.detail.is_on());
    p.stat("detail_enabled", yes_no(detail));
    p.stat("reqs_per_event", s.reqs_per_event);
    p.stat("cas_enabled", yes_no(s.use_cas));
    p.stat("tcp_backlog", s.backlog);
    p.stat(
        "binding_protocol",
        match s.protocol {
            crate::config::Protocol::Auto => "auto-negotiate",
            crate::config::Protocol::Ascii => "ascii",
            crate::config::Protocol::Binary => "binary",
        },
    );
    p.stat("auth_enabled_sasl", yes_no(s.sasl));
    p.stat(
        "auth_enabled_ascii",
        match (&s.auth_file, s.sasl) {
            (Some(f), false) => f.display().to_string(),
            _ => "no".to_string(),
        },
    );
    p.stat("item_size_max", s.item_size_max);
    p.stat("maxconns_fast", "yes");
    p.stat("hashpower_init", s.hashpower);
    let admin = &shard.admin;
    let tunings = admin.tunings();
    p.stat("slab_reassign", "yes");
    p.stat("slab_automove", tunings.slab_automove);
    p.stat("slab_automove_ratio", fixed2(tunings.slab_automove_ratio));
    p.stat("slab_automove_window", "30");
    p.stat("slab_chunk_max", "524288");
    p.stat("lru_crawler", yes_no(admin.crawler_enabled()));
    p.stat("lru_crawler_sleep", admin.crawler_sleep());
    p.stat("lru_crawler_tocrawl", admin.crawler_tocrawl());
    p.stat("tail_repair_time", "0");
    p.stat("flush_enabled", yes_no(s.flush_enabled));
    p.stat("dump_enabled", yes_no(!s.dumps_disabled));
    p.stat("hash_algorithm", "ahash");
    p.stat("lru_maintainer_thread", "yes");
    // One S3-FIFO, not memcached's hot/warm/cold LRU, unless `lru mode segmented` said so.
    p.stat("lru_segmented", yes_no(tunings.lru_segmented));
    // memcached prints the two signed.
    p.stat("hot_lru_pct", tunings.hot_lru_pct as i32);
    p.stat("warm_lru_pct", tunings.warm_lru_pct as i32);
    p.stat("hot_max_factor", fixed2(tunings.hot_max_factor));
    p.stat("warm_max_factor", fixed2(tunings.warm_max_factor));
    p.stat("temp_lru", yes_no(tunings.temp_lru));
    // memcached prints it unsigned.
    p.stat("temporary_ttl", tunings.temporary_ttl as u32);
    p.stat("idle_timeout", s.idle_timeout.map_or(0, |d| d.as_secs()));
    p.stat("watcher_logbuf_size", s.log_buffers.watcher);
    p.stat("worker_logbuf_size", s.log_buffers.worker);
    let memcached_defaults_3: &[(&str, &str)] = &[
        ("read_buf_mem_limit", "0"),
        ("track_sizes", yes_no(s.track_sizes)),
        ("inline_ascii_response", "no"),
        ("ext_item_size", "512"),
        ("ext_item_age", "4294967295"),
        ("ext_low_ttl", "0"),
        ("ext_recache_rate", "2000"),
        ("ext_wbuf_size", "4194304"),
        ("ext_compact_under", "0"),
        ("ext_drop_under", "0"),
        ("ext_max_sleep", "1000000"),
        ("ext_max_frag", "0.80"),
        ("slab_automove_freeratio", "0.010"),
        ("ext_drop_unread", "no"),
    ];
    for (name, value) in memcached_defaults_3 {
        p.stat(name, value);
    }
    for (name, value) in s.ssl.settings_stats(s.tls.is_some()) {
        p.stat(name, value);
    }
    p.stat("num_napi_ids", "(null)");
    p.stat("memory_file", "(null)");
    // corecached's own.
    p.stat("segment_size", s.segment_size);
    p.stat("io_memory", s.io_memory);
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
