//! memtier-style summary table, latency histogram listing, and JSON.

use crate::json::json_str as jstr;
use std::fmt::Write as _;

use crate::client::Limit;
use crate::hist::Histogram;
use crate::{Config, PhaseResult};

fn ms(ns: f64) -> f64 {
    ns / 1e6
}

/// Column title of a percentile: 50 -> "p50", 99.9 -> "p99.9".
fn pname(p: f64) -> String {
    let s = format!("{p}");
    format!("p{s}")
}

/// memtier's JSON key of a percentile: 99.9 -> "p99.90".
fn pkey(p: f64) -> String {
    format!("p{p:.2}")
}

struct Row<'a> {
    name: &'a str,
    ops: u64,
    /// None: "---" (sets have no hits or misses).
    hits: Option<u64>,
    misses: Option<u64>,
    errors: u64,
    bytes: u64,
    hist: &'a Histogram,
}

fn rows(r: &PhaseResult) -> (Histogram, [Row<'_>; 2]) {
    let mut total = r.sets.hist.clone();
    total.merge(&r.gets.hist);
    let (so, go) = (&r.sets, &r.gets);
    (
        total,
        [
            Row {
                name: "Sets",
                ops: so.ops,
                hits: None,
                misses: None,
                errors: so.errors,
                bytes: so.bytes,
                hist: &so.hist,
            },
            Row {
                name: "Gets",
                ops: go.ops,
                hits: Some(go.hits),
                misses: Some(go.misses),
                errors: go.errors,
                bytes: go.bytes,
                hist: &go.hist,
            },
        ],
    )
}

pub fn text(cfg: &Config, r: &PhaseResult) -> String {
    let secs = r.duration.as_secs_f64();
    let pcts = &cfg.percentiles;
    let (total_hist, [sets, gets]) = rows(r);
    let totals = Row {
        name: "Totals",
        ops: sets.ops + gets.ops,
        hits: gets.hits,
        misses: gets.misses,
        errors: sets.errors + gets.errors,
        bytes: sets.bytes + gets.bytes,
        hist: &total_hist,
    };
    let width = 12 + 13 * 3 + 16 * (1 + pcts.len()) + 13;
    let mut o = String::new();
    let _ = writeln!(o);
    let _ = writeln!(o);
    let _ = writeln!(o, "ALL STATS");
    let _ = writeln!(o, "{}", "=".repeat(width));
    let _ = write!(
        o,
        "{:<6} {:>12} {:>12} {:>12} {:>15}",
        "Type", "Ops/sec", "Hits/sec", "Misses/sec", "Avg. Latency"
    );
    for &p in pcts {
        let _ = write!(o, " {:>15}", format!("{} Latency", pname(p)));
    }
    let _ = writeln!(o, " {:>12}", "KB/sec");
    let _ = writeln!(o, "{}", "-".repeat(width));
    for row in [&sets, &gets, &totals] {
        let _ = write!(o, "{:<6} {:>12.2}", row.name, row.ops as f64 / secs);
        for v in [row.hits, row.misses] {
            match v {
                Some(v) => {
                    let _ = write!(o, " {:>12.2}", v as f64 / secs);
                }
                None => {
                    let _ = write!(o, " {:>12}", "---");
                }
            }
        }
        let _ = write!(o, " {:>15.5}", ms(row.hist.mean_ns()));
        for &p in pcts {
            let _ = write!(o, " {:>15.5}", ms(row.hist.value_at_percentile(p) as f64));
        }
        let _ = writeln!(o, " {:>12.2}", row.bytes as f64 / 1024.0 / secs);
    }
    let _ = writeln!(
        o,
        "\n{} requests ({} sets, {} gets) in {:.3} secs; {} get keys hit, {} missed; {} errors",
        totals.ops,
        sets.ops,
        gets.ops,
        secs,
        gets.hits.unwrap_or(0),
        gets.misses.unwrap_or(0),
        totals.errors
    );
    let _ = writeln!(
        o,
        "generator CPU: {:.2} s user + {:.2} s system = {:.0}% of one core over the run",
        r.cpu.0.as_secs_f64(),
        r.cpu.1.as_secs_f64(),
        (r.cpu.0 + r.cpu.1).as_secs_f64() * 100.0 / secs
    );
    if !cfg.args.hide_histogram {
        let _ = writeln!(o, "\n\nRequest Latency Distribution");
        let _ = writeln!(o, "{:<6} {:>12} {:>12}", "Type", "<= msec", "Percent");
        let _ = writeln!(o, "{}", "-".repeat(72));
        for (tag, h) in [("SET", sets.hist), ("GET", gets.hist)] {
            if h.count() == 0 {
                continue;
            }
            for (v, pc) in h.cumulative() {
                let _ = writeln!(o, "{tag:<6} {:>12.3} {:>12.3}", ms(v as f64), pc);
            }
            let _ = writeln!(o, "---");
        }
    }
    o
}

/// A finite number as JSON (NaN and infinities become 0).
fn jnum(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.6}")
    } else {
        "0".into()
    }
}

fn jrow(o: &mut String, cfg: &Config, row: &Row<'_>, secs: f64, indent: &str) {
    let h = row.hist;
    let _ = writeln!(o, "{indent}{}: {{", jstr(row.name));
    let i2 = format!("{indent}  ");
    let _ = writeln!(o, "{i2}\"Count\": {},", row.ops);
    let _ = writeln!(o, "{i2}\"Ops/sec\": {},", jnum(row.ops as f64 / secs));
    for (k, v) in [("Hits/sec", row.hits), ("Misses/sec", row.misses)] {
        let _ = writeln!(o, "{i2}\"{k}\": {},", jnum(v.unwrap_or(0) as f64 / secs));
    }
    let _ = writeln!(o, "{i2}\"Hits\": {},", row.hits.unwrap_or(0));
    let _ = writeln!(o, "{i2}\"Misses\": {},", row.misses.unwrap_or(0));
    let _ = writeln!(o, "{i2}\"Errors\": {},", row.errors);
    let _ = writeln!(o, "{i2}\"Latency\": {},", jnum(ms(h.mean_ns())));
    let _ = writeln!(o, "{i2}\"Average Latency\": {},", jnum(ms(h.mean_ns())));
    let _ = writeln!(o, "{i2}\"Min Latency\": {},", jnum(ms(h.min_ns() as f64)));
    let _ = writeln!(o, "{i2}\"Max Latency\": {},", jnum(ms(h.max_ns() as f64)));
    let _ = writeln!(
        o,
        "{i2}\"KB/sec\": {},",
        jnum(row.bytes as f64 / 1024.0 / secs)
    );
    let _ = write!(o, "{i2}\"Percentile Latencies\": {{");
    for (i, &p) in cfg.percentiles.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(
            o,
            "{sep}{}: {}",
            jstr(&pkey(p)),
            jnum(ms(h.value_at_percentile(p) as f64))
        );
    }
    let _ = writeln!(o, "}},");
    let _ = write!(o, "{i2}\"Histogram\": [");
    for (i, (v, pc)) in h.cumulative().into_iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(o, "{sep}[{}, {}]", jnum(ms(v as f64)), jnum(pc));
    }
    let _ = writeln!(o, "]");
    let _ = write!(o, "{indent}}}");
}

pub fn json(cfg: &Config, prefill: Option<&PhaseResult>, main: Option<&PhaseResult>) -> String {
    let a = &cfg.args;
    let mut o = String::from("{\n");
    let _ = writeln!(o, "  \"configuration\": {{");
    let limit = match cfg.limit {
        Limit::Time(d) => format!("\"test_time\": {}", d.as_secs()),
        Limit::Requests(n) => format!("\"requests\": {n}"),
        Limit::Prefill => "\"requests\": 0".into(),
    };
    let fields = [
        format!("\"server\": {}", jstr(&a.server)),
        format!("\"port\": {}", a.port),
        format!("\"protocol\": {}", jstr(a.protocol.name())),
        format!("\"threads\": {}", a.threads),
        format!("\"clients\": {}", a.clients),
        format!("\"pipeline\": {}", a.pipeline),
        limit,
        format!("\"ratio\": {}", jstr(&a.ratio)),
        format!("\"data_size_min\": {}", cfg.data.0),
        format!("\"data_size_max\": {}", cfg.data.1),
        format!(
            "\"key_pattern\": {}",
            jstr(&format!(
                "{}:{}",
                cfg.patterns.0.letter(),
                cfg.patterns.1.letter()
            ))
        ),
        format!("\"key_minimum\": {}", cfg.keys.min),
        format!("\"key_maximum\": {}", cfg.keys.max),
        format!("\"key_prefix\": {}", jstr(&a.key_prefix)),
        format!("\"key_zipf_exp\": {}", jnum(cfg.keys.zipf_exp)),
        format!("\"multi_key_get\": {}", a.multi_key_get),
        format!("\"expiry_min\": {}", cfg.expiry.0),
        format!("\"expiry_max\": {}", cfg.expiry.1),
        format!("\"prefill\": {}", a.prefill || a.prefill_only),
        format!("\"cpu\": {}", jstr(a.cpu.as_deref().unwrap_or(""))),
    ];
    for (i, f) in fields.iter().enumerate() {
        let comma = if i + 1 < fields.len() { "," } else { "" };
        let _ = writeln!(o, "    {f}{comma}");
    }
    o.push_str("  }");
    if let Some(p) = prefill {
        let secs = p.duration.as_secs_f64();
        let _ = write!(
            o,
            ",\n  \"Prefill\": {{\"Keys\": {}, \"Seconds\": {}, \"Ops/sec\": {}, \"Errors\": {}, \"Average Latency\": {}}}",
            p.sets.ops,
            jnum(secs),
            jnum(p.sets.ops as f64 / secs),
            p.sets.errors,
            jnum(ms(p.sets.hist.mean_ns()))
        );
    }
    if let Some(r) = main {
        let secs = r.duration.as_secs_f64();
        let (total_hist, [sets, gets]) = rows(r);
        let totals = Row {
            name: "Totals",
            ops: sets.ops + gets.ops,
            hits: gets.hits,
            misses: gets.misses,
            errors: sets.errors + gets.errors,
            bytes: sets.bytes + gets.bytes,
            hist: &total_hist,
        };
        o.push_str(",\n  \"ALL STATS\": {\n");
        for row in [&sets, &gets, &totals] {
            jrow(&mut o, cfg, row, secs, "    ");
            o.push_str(",\n");
        }
        let _ = write!(
            o,
            "    \"Runtime\": {{\"Total duration\": {}, \"CPU user\": {}, \"CPU system\": {}}}\n  }}",
            jnum(secs * 1000.0),
            jnum(r.cpu.0.as_secs_f64()),
            jnum(r.cpu.1.as_secs_f64())
        );
    }
    o.push_str("\n}\n");
    o
}
