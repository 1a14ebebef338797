//! memcached's administrative surface against memcached 1.6.18: the `stats` groups (general,
//! `settings`, `items`, `slabs`, `sizes`, `detail`), `stats reset`, `verbosity` and
//! `shutdown`. Key names and their order must be memcached's; values must be too where
//! they mean the same on both (counts after the same requests). Skipped (with a message)
//! when memcached is not installed; the memcached-tool test also when perl or the script is.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use common::{exchange, open_client, roundtrip, stat_lines, CorecachedServer, MemcachedServer};

/// `stats <group>` as (name, value) pairs, in the order the server sent them.
fn stats_list(addr: SocketAddr, group: &str) -> Vec<(String, String)> {
    let mut s = open_client(addr);
    let req = if group.is_empty() {
        "stats\r\n".to_string()
    } else {
        format!("stats {group}\r\n")
    };
    let reply = roundtrip(&mut s, req.as_bytes(), b"END\r\n");
    stat_lines(&reply)
}

fn names(list: &[(String, String)]) -> Vec<&str> {
    list.iter().map(|(k, _)| k.as_str()).collect()
}

fn as_map(list: &[(String, String)]) -> HashMap<&str, &str> {
    list.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Sends `req` on one connection and reads the replies (the server answers every line).
fn send(addr: SocketAddr, req: &[u8]) -> Vec<u8> {
    let r = exchange(addr, req);
    assert!(
        !r.closed,
        "server closed on {:?}",
        String::from_utf8_lossy(req)
    );
    r.bytes
}

/// A value of `n` bytes.
fn value(n: usize) -> String {
    "v".repeat(n)
}

/// The same requests for both servers: items in several classes (1, 2, 5, 12, 18, 27 for
/// the default `-f 1.25 -n 48`), hits and misses, and every command a class counts.
fn workload() -> Vec<u8> {
    let mut w = String::new();
    for (i, size) in [1usize, 40, 200, 1000, 4000, 30000].iter().enumerate() {
        for k in 0..=i {
            w += &format!("set key{i}_{k} 0 0 {size}\r\n{}\r\n", value(*size));
        }
    }
    w += "set flagged 7 0 10\r\n0123456789\r\n";
    w += "get key0_0 key1_0 key1_1 nokey\r\nget key3_2\r\n";
    w += "delete key2_0\r\ndelete nokey\r\n";
    w += "set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 3\r\nincr nokey 1\r\n";
    w += "touch key4_1 100\r\ntouch nokey 1\r\n";
    w += "add key0_0 0 0 1\r\nx\r\nreplace key1_0 0 0 3\r\nabc\r\nappend key1_1 0 0 2\r\nzz\r\n";
    w += "cas key5_0 0 0 1 999999\r\nq\r\ncas nokey 0 0 1 1\r\nq\r\n";
    w.into_bytes()
}

/// Both servers, fresh, after [`workload`]; None when memcached is not installed.
fn both_after_workload(
    memcached_args: &[&str],
    corecached_args: &[&str],
) -> Option<(MemcachedServer, CorecachedServer)> {
    let m = MemcachedServer::start(memcached_args)?;
    let c = CorecachedServer::start(corecached_args);
    let w = workload();
    let (a, b) = (send(m.addr(), &w), send(c.addr(), &w));
    assert_eq!(
        String::from_utf8_lossy(&a),
        String::from_utf8_lossy(&b),
        "the workload's replies"
    );
    Some((m, c))
}

/// The general keys memcached prints, in its order, then corecached's own.
#[test]
fn general_stats_are_memcacheds_keys_in_its_order() {
    for threads in ["1", "2"] {
        let Some((m, c)) = both_after_workload(&[], &["--threads", threads]) else {
            return;
        };
        let want = stats_list(m.addr(), "");
        let got = stats_list(c.addr(), "");
        assert_eq!(names(&want).len(), 92, "memcached 1.6.18's general stats");
        assert_eq!(
            names(&got)[..want.len()],
            names(&want)[..],
            "memcached's keys first, in its order"
        );
        let (want, got) = (as_map(&want), as_map(&got));
        for key in [
            "cmd_get",
            "cmd_set",
            "cmd_flush",
            "cmd_touch",
            "get_hits",
            "get_misses",
            "delete_hits",
            "delete_misses",
            "incr_hits",
            "incr_misses",
            "decr_hits",
            "decr_misses",
            "cas_hits",
            "cas_misses",
            "cas_badval",
            "touch_hits",
            "touch_misses",
            "curr_items",
            "total_items",
            "evictions",
            "limit_maxbytes",
            "accepting_conns",
            "listen_disabled_num",
            "max_connections",
        ] {
            assert_eq!(got[key], want[key], "STAT {key} with --threads {threads}");
        }
        assert_eq!(got["threads"], threads);
    }
}

/// `-o idle_timeout` makes memcached print `idle_kicks` among its keys; corecached too.
#[test]
fn idle_kicks_takes_memcacheds_place_with_an_idle_timeout() {
    let Some(m) = MemcachedServer::start(&["-o", "idle_timeout=30"]) else {
        return;
    };
    let c = CorecachedServer::start(&["--idle-timeout", "30"]);
    let want = stats_list(m.addr(), "");
    let got = stats_list(c.addr(), "");
    assert_eq!(names(&got)[..want.len()], names(&want)[..]);
}

#[test]
fn stats_settings_are_memcacheds_keys_in_its_order() {
    let args = [
        "-D", "/", "-A", "-f", "1.5", "-n", "32", "-R", "7", "-c", "500",
    ];
    let Some(m) = MemcachedServer::start(&args) else {
        return;
    };
    let mut cargs = args.to_vec();
    cargs.extend(["--threads", "1"]);
    let c = CorecachedServer::start(&cargs);
    // The client's `-v`: memcached's start-up verbosity is 0 here.
    send(c.addr(), b"verbosity 0\r\n");
    let want = stats_list(m.addr(), "settings");
    let got = stats_list(c.addr(), "settings");
    assert_eq!(names(&got)[..want.len()], names(&want)[..]);
    let (want, got) = (as_map(&want), as_map(&got));
    for key in [
        "maxbytes",
        "maxconns",
        "udpport",
        "inter",
        "verbosity",
        "evictions",
        "domain_socket",
        "shutdown_command",
        "growth_factor",
        "chunk_size",
        "num_threads",
        "stat_key_prefix",
        "detail_enabled",
        "reqs_per_event",
        "cas_enabled",
        "tcp_backlog",
        "binding_protocol",
        "auth_enabled_sasl",
        "auth_enabled_ascii",
        "item_size_max",
        "hashpower_init",
        "flush_enabled",
        "idle_timeout",
    ] {
        assert_eq!(got[key], want[key], "stats settings {key}");
    }
    // Started with -p 0: the port it got.
    assert_eq!(got["tcpport"], c.addr().port().to_string());
}

/// Per-class counts: every item is in the class memcached puts it in, with memcached's
/// `mem_requested`, and each class counts the requests memcached's does.
#[test]
fn stats_items_and_slabs_count_per_class_as_memcached() {
    for threads in ["1", "2"] {
        let Some((m, c)) = both_after_workload(&[], &["--threads", threads]) else {
            return;
        };
        let want = stats_list(m.addr(), "items");
        let got = stats_list(c.addr(), "items");
        assert!(names(&want).len() >= 6 * 28, "{want:?}");
        assert_eq!(names(&got), names(&want), "stats items keys");
        let (wm, gm) = (as_map(&want), as_map(&got));
        for (k, v) in &wm {
            if k.ends_with(":number")
                || k.ends_with(":mem_requested")
                || k.ends_with(":evicted")
                || k.ends_with(":outofmemory")
                || k.ends_with(":reclaimed")
            {
                assert_eq!(gm[k], *v, "stats items {k} with --threads {threads}");
            }
        }
        let want = stats_list(m.addr(), "slabs");
        let got = stats_list(c.addr(), "slabs");
        assert_eq!(names(&got), names(&want), "stats slabs keys");
        let (wm, gm) = (as_map(&want), as_map(&got));
        for (k, v) in &wm {
            if *k == "total_malloced" {
                continue;
            }
            assert_eq!(gm[k], *v, "stats slabs {k} with --threads {threads}");
        }
    }
}

#[test]
fn stats_sizes_answers_as_memcached() {
    let Some(m) = MemcachedServer::start(&[]) else {
        eprintln!("skipped: memcached is not installed (apt-get install memcached)");
        return;
    };
    let c = CorecachedServer::start(&["-t", "2"]);
    // Off, then on from zero (an item stored before is not counted, as in memcached),
    // items of several sizes across both shards, a delete, a same-size rewrite written
    // in place, one whose size changes with its flags, then off again.
    let steps: &[&[u8]] = &[
        b"stats sizes\r\n",
        b"stats sizes_disable\r\n",
        b"set before 0 0 5\r\nhello\r\n",
        b"stats sizes_enable\r\n",
        b"stats sizes\r\n",
        b"set a 0 0 1\r\nx\r\nset b 0 0 100\r\n",
        b"set c 0 0 100\r\n",
        b"set d 5 0 3000\r\n",
        b"stats sizes\r\n",
        b"delete b\r\nset c 0 0 100\r\n",
        b"set a 9 0 1\r\ny\r\nstats sizes\r\n",
        b"stats sizes_disable\r\nstats sizes\r\n",
    ];
    let mut counted = false;
    for step in steps {
        // A set line that ends the step gets its data block here.
        let text = String::from_utf8_lossy(step).into_owned();
        let mut req = step.to_vec();
        let last = text.trim_end().lines().last().unwrap_or("");
        if last.starts_with("set ") {
            let n: usize = last.split(' ').nth(4).unwrap().parse().unwrap();
            req.extend_from_slice(("z".repeat(n) + "\r\n").as_bytes());
        }
        let ours = String::from_utf8_lossy(&send(c.addr(), &req)).into_owned();
        let theirs = String::from_utf8_lossy(&send(m.addr(), &req)).into_owned();
        assert_eq!(ours, theirs, "{}", text.trim_end());
        counted |= ours.contains("STAT 160 2\r\n");
    }
    assert!(counted, "no step showed the two 100-byte items");
}

/// `stats detail`: counts only while on, by prefix, every shard's merged; off keeps them,
/// `stats reset` forgets them. memcached's dump order follows its hash table, so lines
/// are compared sorted.
#[test]
fn stats_detail_matches_memcached() {
    for threads in ["1", "2"] {
        let Some(m) = MemcachedServer::start(&[]) else {
            return;
        };
        let c = CorecachedServer::start(&["--threads", threads]);
        let steps: &[&[u8]] = &[
            b"get u:0\r\nstats detail dump\r\n",
            b"stats detail on\r\n",
            b"set u:1 0 0 1\r\na\r\nget u:1 u:2 v:1\r\nget u:1\r\ndelete u:1\r\ndelete w:9\r\n",
            b"get nodelimiter\r\nset a:b:c 0 0 1\r\nb\r\nget a:b:c\r\nincr u:3 1\r\ntouch u:4 1\r\n",
            b"stats detail dump\r\n",
            b"stats detail off\r\nget u:1\r\nstats detail dump\r\n",
            b"stats reset\r\nstats detail dump\r\n",
        ];
        for step in steps {
            let sorted = |b: Vec<u8>| {
                let s = String::from_utf8(b).unwrap();
                let mut lines: Vec<String> = s.split_inclusive("\r\n").map(String::from).collect();
                lines.sort();
                lines
            };
            assert_eq!(
                sorted(send(c.addr(), step)),
                sorted(send(m.addr(), step)),
                "{} (--threads {threads})",
                String::from_utf8_lossy(step)
            );
        }
    }
}

/// `-D` sets the delimiter and, as in memcached, turns counting on from the start.
#[test]
fn prefix_delimiter_flag_starts_detail_on() {
    let Some(m) = MemcachedServer::start(&["-D", "/"]) else {
        return;
    };
    let c = CorecachedServer::start(&["-D", "/", "--threads", "2"]);
    let req = b"set p/1 0 0 1\r\na\r\nget p/1 p:2 q/3\r\nstats detail dump\r\n";
    assert_eq!(
        String::from_utf8_lossy(&send(c.addr(), req)),
        String::from_utf8_lossy(&send(m.addr(), req))
    );
}

/// Error replies of the admin commands, byte for byte with memcached's.
#[test]
fn admin_error_replies_are_memcacheds() {
    let Some(m) = MemcachedServer::start(&[]) else {
        return;
    };
    let c = CorecachedServer::start(&[]);
    let table: &[(&[u8], &[u8])] = &[
        (
            b"stats detail\r\n",
            b"CLIENT_ERROR usage: stats detail on|off|dump\r\n",
        ),
        (
            b"stats detail x\r\n",
            b"CLIENT_ERROR usage: stats detail on|off|dump\r\n",
        ),
        (b"stats detail on x\r\n", b"OK\r\n"),
        (b"stats nosuchgroup\r\n", b"ERROR\r\n"),
        (b"stats extstore\r\n", b"END\r\n"),
        (b"stats reset x\r\n", b"RESET\r\n"),
        (b"shutdown\r\n", b"ERROR: shutdown not enabled\r\n"),
        (b"shutdown graceful\r\n", b"ERROR: shutdown not enabled\r\n"),
        (b"shutdown foo\r\n", b"ERROR: shutdown not enabled\r\n"),
        (b"verbosity\r\n", b"ERROR\r\n"),
        (
            b"verbosity x\r\n",
            b"CLIENT_ERROR bad command line format\r\n",
        ),
        // `exchange` ends every request with `mn` and waits for its `MN`.
        (b"verbosity 1 noreply\r\n", b""),
    ];
    for (req, reply) in table {
        let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        assert_eq!(
            show(&send(m.addr(), req)),
            show(reply),
            "memcached: {}",
            show(req)
        );
        assert_eq!(
            show(&send(c.addr(), req)),
            show(reply),
            "corecached: {}",
            show(req)
        );
    }
}

/// What `stats reset` zeroes and what it keeps, as memcached: counters go, gauges
/// (items, bytes, connections) and per-class item counts stay.
#[test]
fn stats_reset_resets_what_memcached_resets() {
    let Some((m, c)) = both_after_workload(&[], &["--threads", "2"]) else {
        return;
    };
    send(m.addr(), b"stats reset\r\n");
    send(c.addr(), b"stats reset\r\n");
    let want = stats_list(m.addr(), "");
    let got = stats_list(c.addr(), "");
    let (wm, gm) = (as_map(&want), as_map(&got));
    for key in [
        "total_items",
        "curr_items",
        "cmd_get",
        "cmd_set",
        "get_hits",
        "get_misses",
        "delete_hits",
        "incr_hits",
        "cas_badval",
        "touch_hits",
        "evictions",
        "reclaimed",
        "rejected_connections",
    ] {
        assert_eq!(gm[key], wm[key], "STAT {key} after stats reset");
    }
    assert_ne!(gm["curr_items"], "0");
    for group in ["items", "slabs"] {
        let want = stats_list(m.addr(), group);
        let got = stats_list(c.addr(), group);
        assert_eq!(names(&got), names(&want), "stats {group} keys after reset");
        let (wm, gm) = (as_map(&want), as_map(&got));
        for (k, v) in &wm {
            if k.ends_with(":number")
                || k.ends_with(":mem_requested")
                || k.ends_with(":used_chunks")
                || k.ends_with("_hits")
                || k.ends_with(":cmd_set")
            {
                assert_eq!(gm[k], *v, "stats {group} {k} after reset");
            }
        }
    }
}

/// `shutdown` with `-A` stops the server as SIGTERM does (exit 0) and closes the asking
/// connection without a reply; a bad mode is refused first.
#[test]
fn shutdown_with_enable_shutdown_stops_the_server() {
    for (mode, args) in [("", vec!["-A"]), (" graceful", vec!["--enable-shutdown"])] {
        let mut c = CorecachedServer::start(&args);
        assert_eq!(
            send(c.addr(), b"shutdown foo\r\nshutdown a b\r\n"),
            b"CLIENT_ERROR invalid shutdown mode\r\nCLIENT_ERROR invalid shutdown mode\r\n"
        );
        let r = exchange(
            c.addr(),
            format!("shutdown{mode}\r\nversion\r\n").as_bytes(),
        );
        assert!(r.closed && r.bytes.is_empty(), "reply {:?}", r.bytes);
        assert_eq!(
            c.wait_exit(Duration::from_secs(10)),
            Some(0),
            "{}",
            c.stderr_log()
        );
        assert!(c.stderr_log().contains("shutdown command received"));
    }
    // memcached answers the same way.
    let Some(m) = MemcachedServer::start(&["-A"]) else {
        return;
    };
    assert_eq!(
        send(m.addr(), b"shutdown foo\r\n"),
        b"CLIENT_ERROR invalid shutdown mode\r\n"
    );
    let r = exchange(m.addr(), b"shutdown\r\nversion\r\n");
    assert!(r.closed && r.bytes.is_empty(), "reply {:?}", r.bytes);
}

/// `verbosity N` changes the log level of the running server: its stop logs an info line
/// at 1 and more, and a debug line only at 2 and more.
#[test]
fn verbosity_changes_the_log_level_live() {
    for (level, info, debug) in [(0, false, false), (1, true, false), (2, true, true)] {
        let mut c = CorecachedServer::start(&["-A", "--threads", "2"]);
        assert_eq!(
            send(c.addr(), format!("verbosity {level}\r\n").as_bytes()),
            b"OK\r\n"
        );
        let _ = exchange(c.addr(), b"shutdown\r\n");
        assert_eq!(c.wait_exit(Duration::from_secs(10)), Some(0));
        let log = c.stderr_log();
        assert!(log.contains("shutdown command received"), "{log}");
        assert_eq!(
            log.contains(": stopping;"),
            info,
            "verbosity {level}: {log}"
        );
        assert_eq!(
            log.contains("connections closed"),
            debug,
            "verbosity {level}: {log}"
        );
    }
}

const MEMCACHED_TOOL: &str = "/usr/share/memcached/scripts/memcached-tool";

/// memcached-tool's output for `mode`, or None (with the reason) when it cannot run here.
fn memcached_tool(addr: SocketAddr, mode: &str) -> Option<String> {
    if !std::path::Path::new(MEMCACHED_TOOL).exists() {
        eprintln!("{MEMCACHED_TOOL} not installed (Debian's memcached package ships it), skipping");
        return None;
    }
    let out = match std::process::Command::new("perl")
        .arg(MEMCACHED_TOOL)
        .arg(addr.to_string())
        .arg(mode)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("perl cannot run ({e}), skipping the memcached-tool test");
            return None;
        }
    };
    assert!(out.status.success(), "memcached-tool {mode}: {out:?}");
    Some(String::from_utf8(out.stdout).unwrap())
}

/// memcached-tool `display` rows: every column but the two ages (`Max_age`, `Evict_Time`,
/// which corecached does not track per class).
fn display_rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<String> = l.split_whitespace().map(String::from).collect();
            assert_eq!(cols.len(), 9, "display row {l:?}");
            [0, 1, 3, 4, 5, 6, 8]
                .iter()
                .map(|&i| cols[i].clone())
                .collect()
        })
        .collect()
}

/// Debian's memcached-tool prints the same rows for both servers after the same requests.
#[test]
fn memcached_tool_reads_corecached_as_memcached() {
    let Some((m, c)) = both_after_workload(&[], &["--threads", "2"]) else {
        return;
    };
    let Some(want) = memcached_tool(m.addr(), "display") else {
        return;
    };
    let got = memcached_tool(c.addr(), "display").unwrap();
    assert_eq!(got.lines().next(), want.lines().next(), "display header");
    let rows = display_rows(&want);
    assert_eq!(rows.len(), 6, "{want}");
    assert_eq!(
        display_rows(&got),
        rows,
        "display\n{got}\nmemcached:\n{want}"
    );
    // Below the header line, which names the address.
    let body = |out: String| out.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        body(memcached_tool(c.addr(), "sizes").unwrap()),
        body(memcached_tool(m.addr(), "sizes").unwrap()),
        "sizes"
    );
    for (mode, same) in [
        (
            "stats",
            &[
                "cmd_get",
                "get_hits",
                "curr_items",
                "total_items",
                "limit_maxbytes",
            ][..],
        ),
        (
            "settings",
            &["maxbytes", "growth_factor", "chunk_size", "item_size_max"][..],
        ),
    ] {
        let rows = |out: String| -> HashMap<String, String> {
            out.lines()
                .skip(1)
                .filter_map(|l| {
                    let mut w = l.split_whitespace();
                    Some((w.next()?.to_string(), w.next().unwrap_or("").to_string()))
                })
                .collect()
        };
        let want = rows(memcached_tool(m.addr(), mode).unwrap());
        let got = rows(memcached_tool(c.addr(), mode).unwrap());
        for k in want.keys() {
            assert!(got.contains_key(k), "memcached-tool {mode} lacks {k}");
        }
        for k in same {
            assert_eq!(got[*k], want[*k], "memcached-tool {mode} {k}");
        }
    }
}

/// `stats conns` lines, grouped by descriptor: (fd, [(key, value)]) in the server's order.
fn conns_by_fd(reply: &str) -> Vec<(u32, Vec<(String, String)>)> {
    let mut out: Vec<(u32, Vec<(String, String)>)> = Vec::new();
    for line in reply.lines().take_while(|l| *l != "END") {
        let rest = line.strip_prefix("STAT ").expect("a STAT line");
        let (name, value) = rest.split_once(' ').expect("STAT name value");
        let (fd, key) = name.split_once(':').expect("fd:key");
        let fd: u32 = fd.parse().expect("a descriptor number");
        match out.last_mut() {
            Some((last, keys)) if *last == fd => keys.push((key.into(), value.into())),
            _ => out.push((fd, vec![(key.into(), value.into())])),
        }
    }
    out
}

/// Every connection of every shard, in memcached's line format: each listener, each
/// client with its address and the address it came in on, the asking one parsing.
#[test]
fn stats_conns_lists_every_connection_as_memcached() {
    let Some(m) = MemcachedServer::start(&[]) else {
        return;
    };
    let c = CorecachedServer::start(&["--threads", "2"]);
    for addr in [m.addr(), c.addr()] {
        let mut idle: Vec<_> = (0..3).map(|_| open_client(addr)).collect();
        // A reply says the server has accepted the connection.
        for s in &mut idle {
            assert_eq!(roundtrip(s, b"mn\r\n", b"MN\r\n"), b"MN\r\n");
        }
        let mut me = open_client(addr);
        let reply = roundtrip(&mut me, b"stats conns\r\n", b"END\r\n");
        let reply = String::from_utf8(reply).unwrap();
        let conns = conns_by_fd(&reply);
        let server = format!("tcp:{addr}");
        let mut clients = Vec::new();
        for (fd, keys) in &conns {
            let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
            let get = |k: &str| keys.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            if get("state") == Some("conn_listening") {
                assert_eq!(
                    names,
                    ["addr", "state", "secs_since_last_cmd"],
                    "{addr} fd {fd}"
                );
                assert_eq!(get("addr"), Some(server.as_str()));
                continue;
            }
            assert_eq!(
                names,
                ["addr", "listen_addr", "state", "secs_since_last_cmd"],
                "{addr} fd {fd}:\n{reply}"
            );
            assert_eq!(get("listen_addr"), Some(server.as_str()));
            let idle_secs: u32 = get("secs_since_last_cmd").unwrap().parse().unwrap();
            assert!(idle_secs < 60);
            clients.push((
                get("addr").unwrap().to_string(),
                get("state").unwrap().to_string(),
            ));
        }
        let mut want: Vec<(String, String)> = idle
            .iter()
            .map(|s| (format!("tcp:{}", s.local_addr().unwrap()), String::new()))
            .collect();
        want.push((
            format!("tcp:{}", me.local_addr().unwrap()),
            "conn_parse_cmd".into(),
        ));
        for (peer, state) in &want {
            let found = clients.iter().find(|(a, _)| a == peer);
            let Some((_, got_state)) = found else {
                panic!("{addr}: no line for client {peer}:\n{reply}");
            };
            if !state.is_empty() {
                assert_eq!(got_state, state, "{addr}: {peer}");
            } else {
                assert_ne!(got_state, "conn_parse_cmd", "{addr}: {peer}");
            }
        }
    }
}

/// `-o track_sizes` counts sizes from the start, and `stats settings` says so.
#[test]
fn track_sizes_counts_from_the_start_as_memcached() {
    let Some(m) = MemcachedServer::start(&["-o", "track_sizes"]) else {
        eprintln!("skipped: memcached is not installed (apt-get install memcached)");
        return;
    };
    let c = CorecachedServer::start(&["-t", "2", "-o", "track_sizes"]);
    let req = b"set a 0 0 1\r\nx\r\nset b 0 0 300\r\n".to_vec();
    let mut req = req;
    req.extend_from_slice(("q".repeat(300) + "\r\nstats sizes\r\n").as_bytes());
    let ours = String::from_utf8_lossy(&send(c.addr(), &req)).into_owned();
    let theirs = String::from_utf8_lossy(&send(m.addr(), &req)).into_owned();
    assert_eq!(ours, theirs);
    assert!(ours.contains("STAT 64 1\r\n"), "{ours}");
    let settings = String::from_utf8_lossy(&send(c.addr(), b"stats settings\r\n")).into_owned();
    assert!(settings.contains("STAT track_sizes yes\r\n"), "{settings}");
}
