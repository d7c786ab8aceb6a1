//! The CRM's clock, as the `Date` headers of its answers show it. hubsync compares the
//! CRM's timestamps (when a record was edited) with the CRM's time, never with this host's
//! clock, which may be off by a minute or more.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};
use reqwest::header::{DATE, HeaderMap};

use super::Clock;

/// `Date` has whole seconds, and the answer took a while to arrive: an offset below this is
/// noise, and the host's clock (NTP keeps it to milliseconds) is the better guess.
const NOISE: Duration = Duration::milliseconds(2_000);

/// One connector's view of its CRM's clock. Clones share what was measured.
#[derive(Clone)]
pub struct CrmClock {
    connector: Arc<str>,
    local: Clock,
    /// The CRM's clock minus the host's, from the latest answer with a `Date`.
    offset_ms: Arc<AtomicI64>,
    measured: Arc<AtomicBool>,
}

impl CrmClock {
    /// A clock for the connector `connector` (its config name, for the metric), reading the
    /// host's time from `local`.
    pub fn new(connector: &str, local: Clock) -> Self {
        CrmClock {
            connector: connector.into(),
            local,
            offset_ms: Arc::new(AtomicI64::new(0)),
            measured: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The host's time now (the connector's own clock).
    pub fn local_now(&self) -> DateTime<Utc> {
        (self.local)()
    }

    /// Measures the offset an answer shows: it was dated between `sent` and `received` on
    /// the host's clock, and its `Date` cuts the CRM's time to the whole second.
    pub fn observe(&self, headers: &HeaderMap, sent: DateTime<Utc>, received: DateTime<Utc>) {
        let Some(date) = headers.get(DATE).and_then(|value| value.to_str().ok()) else { return };
        let Ok(date) = DateTime::parse_from_rfc2822(date) else { return };
        let midpoint = sent + (received - sent) / 2;
        let offset = date.with_timezone(&Utc) + Duration::milliseconds(500) - midpoint;
        self.offset_ms.store(offset.num_milliseconds(), Ordering::Relaxed);
        self.measured.store(true, Ordering::Relaxed);
        let ahead = -offset.num_milliseconds() as f64 / 1000.0;
        metrics::gauge!(crate::metrics::CLOCK_SKEW, "connector" => self.connector.to_string())
            .set(ahead);
    }

    /// How far the CRM's clock is ahead of the host's (negative: behind), once an answer
    /// has shown it.
    pub fn offset(&self) -> Option<Duration> {
        self.measured
            .load(Ordering::Relaxed)
            .then(|| Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed)))
    }

    /// Now on the CRM's clock: the host's, corrected by the measured offset where that is
    /// more than the `Date` header's resolution explains.
    pub fn now(&self) -> DateTime<Utc> {
        let local = self.local_now();
        match self.offset() {
            Some(offset) if offset.abs() >= NOISE => local + offset,
            _ => local,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn clock_at(local: &'static str) -> CrmClock {
        CrmClock::new("test", std::sync::Arc::new(move || at(local)))
    }

    fn dated(date: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(DATE, HeaderValue::from_str(date).unwrap());
        headers
    }

    #[test]
    fn a_host_a_minute_ahead_reads_the_crms_time_from_its_date_headers() {
        let clock = clock_at("2026-12-07T12:01:00.300Z");
        assert_eq!(clock.now(), at("2026-12-07T12:01:00.300Z"), "nothing measured yet");
        let (sent, received) = (at("2026-12-07T12:01:00.100Z"), at("2026-12-07T12:01:00.300Z"));
        clock.observe(&dated("Mon, 07 Dec 2026 12:00:00 GMT"), sent, received);
        assert_eq!(clock.offset(), Some(Duration::milliseconds(-59_700)));
        assert_eq!(clock.now(), at("2026-12-07T12:00:00.600Z"));
    }

    #[test]
    fn an_offset_within_the_headers_resolution_leaves_the_hosts_time() {
        let clock = clock_at("2026-12-07T12:00:00.900Z");
        let (sent, received) = (at("2026-12-07T12:00:00.800Z"), at("2026-12-07T12:00:00.900Z"));
        clock.observe(&dated("Mon, 07 Dec 2026 12:00:01 GMT"), sent, received);
        assert!(clock.offset().is_some());
        assert_eq!(clock.now(), at("2026-12-07T12:00:00.900Z"));
    }

    #[test]
    fn an_answer_without_a_readable_date_measures_nothing() {
        let clock = clock_at("2026-12-07T12:00:00Z");
        let now = at("2026-12-07T12:00:00Z");
        clock.observe(&HeaderMap::new(), now, now);
        clock.observe(&dated("yesterday"), now, now);
        assert_eq!(clock.offset(), None);
    }
}
