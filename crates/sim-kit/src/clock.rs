//! The simulators' clock: real time shifted by an offset, or frozen, under test control.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// A clock a test can freeze, set and advance. Clones share one time.
#[derive(Debug, Clone, Default)]
pub struct SimClock {
    inner: Arc<Mutex<ClockState>>,
}

#[derive(Debug, Default)]
struct ClockState {
    offset: Duration,
    frozen_at: Option<DateTime<Utc>>,
}

impl SimClock {
    pub fn now(&self) -> DateTime<Utc> {
        let state = self.inner.lock().expect("clock lock");
        state.frozen_at.unwrap_or_else(|| Utc::now() + state.offset)
    }

    /// Milliseconds since the epoch, as HubSpot and the webhook timestamps count them.
    pub fn now_millis(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Whether time stands still (see [`SimClock::freeze`]).
    pub fn is_frozen(&self) -> bool {
        self.inner.lock().expect("clock lock").frozen_at.is_some()
    }

    /// Stops time at its current value until [`SimClock::resume`].
    pub fn freeze(&self) {
        let now = self.now();
        self.inner.lock().expect("clock lock").frozen_at = Some(now);
    }

    /// Lets time run again from wherever it stands.
    pub fn resume(&self) {
        let mut state = self.inner.lock().expect("clock lock");
        if let Some(frozen) = state.frozen_at.take() {
            state.offset = frozen - Utc::now();
        }
    }

    /// Moves time forward (or back, with a negative duration); frozen time stays frozen.
    pub fn advance(&self, by: Duration) {
        let mut state = self.inner.lock().expect("clock lock");
        match &mut state.frozen_at {
            Some(frozen) => *frozen += by,
            None => state.offset += by,
        }
    }

    /// Sets the time; frozen time stays frozen at the new value.
    pub fn set(&self, at: DateTime<Utc>) {
        let mut state = self.inner.lock().expect("clock lock");
        match &mut state.frozen_at {
            Some(frozen) => *frozen = at,
            None => state.offset = at - Utc::now(),
        }
    }
}

/// Middleware that dates every answer by the simulator's clock (`Date`, RFC 9110's
/// IMF-fixdate, whole seconds), as the real APIs date theirs by their own: a client that
/// measures its clock's skew from `Date` sees the simulator's time, not the host's.
pub async fn date_header(
    axum::extract::State(clock): axum::extract::State<SimClock>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    let date = http_date(clock.now());
    if let Ok(value) = axum::http::HeaderValue::from_str(&date) {
        response.headers_mut().insert(axum::http::header::DATE, value);
    }
    response
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_imf_fixdates() {
        let at = DateTime::parse_from_rfc3339("1994-11-06T08:49:37.250Z").unwrap();
        assert_eq!(http_date(at.with_timezone(&Utc)), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[tokio::test]
    async fn answers_are_dated_by_the_simulated_clock_not_the_host() {
        use axum::routing::get;
        let clock = SimClock::default();
        clock.advance(Duration::hours(3));
        let router = axum::Router::new()
            .route("/", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(clock.clone(), date_header));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let token = tokio_util::sync::CancellationToken::new();
        let sim = crate::server::RunningSim::spawn(listener, router, (), token);
        let answer = reqwest::get(&sim.base_url).await.unwrap();
        let date = answer.headers()["date"].to_str().unwrap().to_string();
        let dated = DateTime::parse_from_rfc2822(&date).unwrap().with_timezone(&Utc);
        let ahead = dated - Utc::now();
        assert!(ahead > Duration::minutes(179) && ahead < Duration::minutes(181), "{date}");
        sim.stop().await.unwrap();
    }

    #[test]
    fn a_frozen_clock_moves_only_when_advanced() {
        let clock = SimClock::default();
        clock.freeze();
        let t0 = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::seconds(90));
        assert_eq!(clock.now(), t0 + Duration::seconds(90));
    }

    #[test]
    fn an_advanced_running_clock_keeps_running_ahead() {
        let clock = SimClock::default();
        clock.advance(Duration::hours(1));
        let ahead = clock.now() - Utc::now();
        assert!(ahead > Duration::minutes(59) && ahead <= Duration::hours(1));
    }
}
