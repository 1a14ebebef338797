//! Prometheus' text exposition format (version 0.0.4): metric families with their `# HELP`
//! and `# TYPE` lines, then their samples, label values and help text escaped. Pure.

use std::fmt::Write;

/// A family's type, as its `# TYPE` line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Counter,
    Gauge,
    Histogram,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::Counter => "counter",
            Type::Gauge => "gauge",
            Type::Histogram => "histogram",
        }
    }
}

/// A sample's value: counters stay exact integers (an f64 would round past 2^53).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
}

/// One metric family and its samples.
#[derive(Debug)]
pub struct Family {
    name: &'static str,
    ty: Type,
    help: &'static str,
    samples: Vec<Sample>,
}

#[derive(Debug)]
struct Sample {
    /// Appended to the family's name: `_bucket`, `_sum`, `_count` for a histogram.
    suffix: &'static str,
    labels: Vec<(&'static str, String)>,
    value: Value,
}

impl Family {
    pub fn new(name: &'static str, ty: Type, help: &'static str) -> Family {
        Family {
            name,
            ty,
            help,
            samples: Vec::new(),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Adds a sample with these labels.
    pub fn sample(&mut self, labels: &[(&'static str, &str)], value: Value) {
        self.push("", labels, value);
    }

    /// Adds one histogram: per bucket its count (not cumulative; the last is `+Inf`), with
    /// its upper bound in seconds, then the sum in seconds and the count.
    pub fn histogram(
        &mut self,
        labels: &[(&'static str, &str)],
        bounds_s: &[f64],
        buckets: &[u64],
        sum_s: f64,
        count: u64,
    ) {
        debug_assert_eq!(bounds_s.len() + 1, buckets.len());
        let mut acc = 0u64;
        for (i, n) in buckets.iter().enumerate() {
            acc = acc.wrapping_add(*n);
            let le = match bounds_s.get(i) {
                Some(b) => format_float(*b),
                None => "+Inf".to_string(),
            };
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            // A reader racing the writer can see buckets ahead of the count; the count
            // is then what `+Inf` says, so the two always agree.
            let v = if i + 1 == buckets.len() {
                acc.max(count)
            } else {
                acc
            };
            self.push("_bucket", &with_le, Value::Int(v));
        }
        self.push("_sum", labels, Value::Float(sum_s));
        self.push("_count", labels, Value::Int(acc.max(count)));
    }

    fn push(&mut self, suffix: &'static str, labels: &[(&'static str, &str)], value: Value) {
        self.samples.push(Sample {
            suffix,
            labels: labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            value,
        });
    }
}

/// The exposition of `families`, each once, in order; families without samples are left
/// out (a HELP and TYPE with nothing under them tell a scraper nothing).
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families.iter().filter(|f| !f.is_empty()) {
        let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(f.help));
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.ty.name());
        for s in &f.samples {
            out.push_str(f.name);
            out.push_str(s.suffix);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{k}=\"{}\"", escape_label(v));
                }
                out.push('}');
            }
            out.push(' ');
            match s.value {
                Value::Int(v) => {
                    let _ = write!(out, "{v}");
                }
                Value::Float(v) => out.push_str(&format_float(v)),
            }
            out.push('\n');
        }
    }
    out
}

/// A float as the format writes it: `+Inf`, `-Inf`, `NaN`, else Rust's shortest exact
/// decimal (never an exponent).
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// A label value: backslash, double quote and newline escaped.
fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// Help text: backslash and newline escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_render_with_help_type_and_escaped_labels() {
        let mut up = Family::new("memcached_up", Type::Gauge, "Could the server be reached.");
        up.sample(&[], Value::Int(1));
        let mut v = Family::new("memcached_version", Type::Gauge, "a\\b\nc");
        v.sample(&[("version", "1.6\"x\\\ny")], Value::Int(1));
        let empty = Family::new("memcached_nothing", Type::Counter, "none");
        let mut f = Family::new("memcached_rusage", Type::Counter, "cpu");
        f.sample(&[("a", "1"), ("b", "2")], Value::Float(0.25));
        assert_eq!(
            render(&[up, v, empty, f]),
            "# HELP memcached_up Could the server be reached.\n\
             # TYPE memcached_up gauge\n\
             memcached_up 1\n\
             # HELP memcached_version a\\\\b\\nc\n\
             # TYPE memcached_version gauge\n\
             memcached_version{version=\"1.6\\\"x\\\\\\ny\"} 1\n\
             # HELP memcached_rusage cpu\n\
             # TYPE memcached_rusage counter\n\
             memcached_rusage{a=\"1\",b=\"2\"} 0.25\n"
        );
    }

    #[test]
    fn histograms_are_cumulative_and_end_in_inf_equal_to_count() {
        let mut h = Family::new("lat_seconds", Type::Histogram, "h");
        h.histogram(&[("command", "get")], &[0.001, 0.01], &[2, 0, 3], 0.5, 5);
        assert_eq!(
            render(&[h]),
            "# HELP lat_seconds h\n\
             # TYPE lat_seconds histogram\n\
             lat_seconds_bucket{command=\"get\",le=\"0.001\"} 2\n\
             lat_seconds_bucket{command=\"get\",le=\"0.01\"} 2\n\
             lat_seconds_bucket{command=\"get\",le=\"+Inf\"} 5\n\
             lat_seconds_sum{command=\"get\"} 0.5\n\
             lat_seconds_count{command=\"get\"} 5\n"
        );
    }

    #[test]
    fn floats_never_use_exponents() {
        assert_eq!(format_float(0.00001), "0.00001");
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
        assert_eq!(format_float(f64::NAN), "NaN");
    }
}
