//! Log lines that a client can provoke at will (failed accepts, failed authentications),
//! rate-limited so that a flood of them cannot fill the disk or drown the other lines.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// At most `per_second` lines a second, for one thread (each shard keeps its own); the
/// first line logged after some were left out says how many.
pub struct RateLog {
    per_second: u32,
    window: Cell<Option<Instant>>,
    lines: Cell<u32>,
    suppressed: Cell<u64>,
}

impl RateLog {
    pub const fn new(per_second: u32) -> RateLog {
        RateLog {
            per_second,
            window: Cell::new(None),
            lines: Cell::new(0),
            suppressed: Cell::new(0),
        }
    }

    /// Whether a line may be logged now; if so, the note to end it with: empty, or how
    /// many lines were left out since the last one logged.
    pub fn admit(&self) -> Option<String> {
        self.admit_at(Instant::now())
    }

    fn admit_at(&self, now: Instant) -> Option<String> {
        let fresh = match self.window.get() {
            Some(start) => now.saturating_duration_since(start) >= Duration::from_secs(1),
            None => true,
        };
        if fresh {
            self.window.set(Some(now));
            self.lines.set(0);
        }
        if self.lines.get() >= self.per_second {
            self.suppressed.set(self.suppressed.get() + 1);
            return None;
        }
        self.lines.set(self.lines.get() + 1);
        Some(match self.suppressed.replace(0) {
            0 => String::new(),
            n => format!(" ({n} more like it suppressed before this one)"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_n_a_second_then_the_count_left_out() {
        let log = RateLog::new(3);
        let t0 = Instant::now();
        let admitted: Vec<Option<String>> = (0..10)
            .map(|i| log.admit_at(t0 + Duration::from_millis(i * 10)))
            .collect();
        assert_eq!(admitted.iter().filter(|a| a.is_some()).count(), 3);
        assert!(admitted[..3].iter().all(|a| a.as_deref() == Some("")));
        let next = log.admit_at(t0 + Duration::from_millis(1000));
        assert_eq!(
            next.as_deref(),
            Some(" (7 more like it suppressed before this one)")
        );
        assert_eq!(
            log.admit_at(t0 + Duration::from_millis(1001)).as_deref(),
            Some("")
        );
    }
}
