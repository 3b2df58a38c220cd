//! Process-wide counters and histograms for `metrics()` (API.md §8), and the Prometheus text exposition (format
//! 0.0.4) they are rendered in. Layer 1: every module may count here; each count is one relaxed atomic add (a
//! histogram: three), with no allocation and no lock on the request path (the verification-reason table takes a
//! read lock). Rendering happens only when `metrics()` is called.
//!
//! Families (all prefixed `clerk_native_`): proxy exchanges by outcome and status and the upstream latency,
//! verification outcomes by reason, Backend API calls and latency, and the shared tier's call latency here; the
//! caches (per cache and tier), the JWKS client and the shared tier's health are rendered by their owners
//! (`cache::render_metrics`, the binding) from their own counters.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

/// Latency bucket bounds in seconds (0.5 ms to 10 s).
pub const LATENCY_BOUNDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram over [`LATENCY_BOUNDS`].
#[derive(Debug)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BOUNDS.len()],
    sum_ns: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    /// An empty histogram.
    pub const fn new() -> Self {
        Self {
            buckets: [const { AtomicU64::new(0) }; LATENCY_BOUNDS.len()],
            sum_ns: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = LATENCY_BOUNDS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

/// Statuses counted per code (anything else lands on 0).
const STATUSES: usize = 600;

/// Counters by (outcome, HTTP status).
#[derive(Debug)]
pub struct StatusCounters<const OUTCOMES: usize> {
    outcomes: [&'static str; OUTCOMES],
    counts: [[AtomicU64; STATUSES]; OUTCOMES],
}

impl<const N: usize> StatusCounters<N> {
    /// Counters for these outcome names.
    pub const fn new(outcomes: [&'static str; N]) -> Self {
        Self {
            outcomes,
            counts: [const { [const { AtomicU64::new(0) }; STATUSES] }; N],
        }
    }

    /// Counts one `(outcome index, status)`.
    pub fn inc(&self, outcome: usize, status: u16) {
        let s = usize::from(status);
        if let Some(row) = self.counts.get(outcome) {
            row[if s < STATUSES { s } else { 0 }].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The count of one `(outcome index, status)`.
    pub fn get(&self, outcome: usize, status: u16) -> u64 {
        self.counts
            .get(outcome)
            .and_then(|row| row.get(usize::from(status)))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

/// Most distinct reasons counted by name; later ones count as `other`.
pub const MAX_REASONS: usize = 64;

/// Counters by `(result, reason)` for a small, fixed vocabulary of reasons (Clerk's reason strings). Counting
/// a pair already seen takes a read lock and a short scan, with no allocation.
#[derive(Debug, Default)]
pub struct ReasonCounters {
    table: RwLock<Vec<(String, String, AtomicU64)>>,
}

impl ReasonCounters {
    /// An empty table.
    pub const fn new() -> Self {
        Self {
            table: RwLock::new(Vec::new()),
        }
    }

    /// Counts one outcome, e.g. `("signed_in", "session_token")` or `("signed_out", "token-expired")`.
    pub fn inc(&self, result: &str, reason: &str) {
        {
            let t = self.table.read().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, _, c)) = t.iter().find(|(a, b, _)| a == result && b == reason) {
                c.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let mut t = self.table.write().unwrap_or_else(PoisonError::into_inner);
        let (result, reason) = if t.len() + 1 < MAX_REASONS && result.len() + reason.len() <= 96 {
            (result, reason)
        } else {
            ("other", "other")
        };
        match t.iter().find(|(a, b, _)| a == result && b == reason) {
            Some((_, _, c)) => {
                c.fetch_add(1, Ordering::Relaxed);
            }
            None => t.push((result.to_owned(), reason.to_owned(), AtomicU64::new(1))),
        }
    }

    /// Every `(result, reason, count)`.
    pub fn snapshot(&self) -> Vec<(String, String, u64)> {
        let t = self.table.read().unwrap_or_else(PoisonError::into_inner);
        t.iter()
            .map(|(a, b, c)| (a.clone(), b.clone(), c.load(Ordering::Relaxed)))
            .collect()
    }
}

/// Proxy exchanges by outcome (`upstream`: the upstream answered and its head was forwarded; `error`: the proxy
/// answered with an error; `cancelled`: the client went away first) and status.
pub static PROXY_RESPONSES: StatusCounters<3> =
    StatusCounters::new(["upstream", "error", "cancelled"]);
/// Time from sending the request upstream to its response head (or failure).
pub static PROXY_UPSTREAM_SECONDS: Histogram = Histogram::new();
/// Backend API calls (machine-token verification) and their latency.
pub static BACKEND_API_SECONDS: Histogram = Histogram::new();
/// Shared-tier (Redis) calls and their latency.
pub static SHARED_CALL_SECONDS: Histogram = Histogram::new();
/// Verification outcomes (`verifyToken` and `authenticateRequest`) by result and reason.
pub static VERIFICATIONS: ReasonCounters = ReasonCounters::new();

/// Times one proxy exchange: `upstream(status)` or `failed(status)`; dropped without either = cancelled.
#[derive(Debug)]
pub struct ProxyTimer {
    started: Instant,
    done: bool,
}

impl ProxyTimer {
    /// Starts timing (just before the request is sent upstream).
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
            done: false,
        }
    }

    fn finish(mut self, outcome: usize, status: u16) {
        self.done = true;
        PROXY_UPSTREAM_SECONDS.observe(self.started.elapsed());
        PROXY_RESPONSES.inc(outcome, status);
    }

    /// The upstream answered with `status`.
    pub fn upstream(self, status: u16) {
        self.finish(0, status);
    }

    /// The proxy answered with error status `status`.
    pub fn failed(self, status: u16) {
        self.finish(1, status);
    }
}

impl Drop for ProxyTimer {
    fn drop(&mut self) {
        if !self.done {
            PROXY_RESPONSES.inc(2, 0);
        }
    }
}

/// Times one Backend API call until dropped.
#[derive(Debug)]
pub struct BackendApiTimer(Instant);

/// Starts timing a Backend API call (recorded when the returned guard is dropped).
pub fn backend_api_call() -> BackendApiTimer {
    BackendApiTimer(Instant::now())
}

impl Drop for BackendApiTimer {
    fn drop(&mut self) {
        BACKEND_API_SECONDS.observe(self.0.elapsed());
    }
}

/// A Prometheus text exposition (format 0.0.4) under construction.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

/// `\`, `"` and newlines escaped for a label value.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Exposition {
    /// An empty exposition.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a family: `# HELP` and `# TYPE` (`counter`, `gauge` or `histogram`).
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One sample `name{labels} value`.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A whole histogram family with its buckets, `_sum` and `_count`.
    pub fn histogram(&mut self, name: &str, help: &str, h: &Histogram) {
        self.family(name, "histogram", help);
        let mut cumulative = 0u64;
        for (i, bound) in LATENCY_BOUNDS.iter().enumerate() {
            cumulative += h.buckets[i].load(Ordering::Relaxed);
            let le = bound.to_string();
            self.sample(&format!("{name}_bucket"), &[("le", &le)], cumulative as f64);
        }
        let count = h.count.load(Ordering::Relaxed);
        self.sample(&format!("{name}_bucket"), &[("le", "+Inf")], count as f64);
        let sum = h.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        self.sample(&format!("{name}_sum"), &[], sum);
        self.sample(&format!("{name}_count"), &[], count as f64);
    }

    /// The text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Renders the families held here.
pub fn render(e: &mut Exposition) {
    let name = "clerk_native_proxy_requests_total";
    e.family(
        name,
        "counter",
        "Frontend API proxy exchanges by outcome and HTTP status.",
    );
    for (o, outcome) in PROXY_RESPONSES.outcomes.iter().enumerate() {
        for status in 0..STATUSES as u16 {
            let n = PROXY_RESPONSES.get(o, status);
            if n > 0 {
                let s = status.to_string();
                e.sample(name, &[("outcome", outcome), ("status", &s)], n as f64);
            }
        }
    }
    e.histogram(
        "clerk_native_proxy_upstream_duration_seconds",
        "Time from sending a proxied request upstream to its response head or failure.",
        &PROXY_UPSTREAM_SECONDS,
    );
    let name = "clerk_native_verifications_total";
    e.family(
        name,
        "counter",
        "Token verification outcomes (verifyToken, authenticateRequest) by result and reason.",
    );
    for (result, reason, n) in VERIFICATIONS.snapshot() {
        e.sample(name, &[("result", &result), ("reason", &reason)], n as f64);
    }
    e.histogram(
        "clerk_native_backend_api_duration_seconds",
        "Backend API calls (machine-token verification) and their latency; _count is the number of calls.",
        &BACKEND_API_SECONDS,
    );
    e.histogram(
        "clerk_native_shared_call_duration_seconds",
        "Shared-tier (Redis) calls and their latency, lookups and writes.",
        &SHARED_CALL_SECONDS,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::new();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(60));
        let mut e = Exposition::new();
        e.histogram("x_seconds", "help", &h);
        let text = e.finish();
        assert!(text.contains("# TYPE x_seconds histogram\n"));
        assert!(
            text.contains("x_seconds_bucket{le=\"0.0005\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("x_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(text.contains("x_seconds_bucket{le=\"10\"} 2\n"));
        assert!(text.contains("x_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("x_seconds_count 3\n"));
    }

    #[test]
    fn reasons_are_bounded_and_labels_escaped() {
        let r = ReasonCounters::new();
        for i in 0..MAX_REASONS + 10 {
            r.inc("signed_out", &format!("r{i}"));
        }
        r.inc("signed_out", "r0");
        let snap = r.snapshot();
        assert_eq!(snap.len(), MAX_REASONS);
        assert_eq!(snap[0], ("signed_out".to_owned(), "r0".to_owned(), 2));
        let mut e = Exposition::new();
        e.sample("m", &[("l", "a\"b\\c\nd")], 1.0);
        assert_eq!(e.finish(), "m{l=\"a\\\"b\\\\c\\nd\"} 1\n");
    }

    #[test]
    fn status_counters_clamp() {
        let s = StatusCounters::new(["a", "b"]);
        s.inc(0, 200);
        s.inc(1, 9999);
        s.inc(5, 200);
        assert_eq!((s.get(0, 200), s.get(1, 0)), (1, 1));
    }
}
