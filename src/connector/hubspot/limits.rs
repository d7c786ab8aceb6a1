//! HubSpot's quotas as governor limiters: the 10-second burst per app, the search limit per
//! second and the daily budget per account, shared process-wide, corrected from the
//! `X-HubSpot-RateLimit-*` headers and from 429 policies.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;

use crate::config::HubspotRateLimit;
use crate::connector::ConnectorError;

const WINDOW: Duration = Duration::from_secs(10);

/// A limiter that never lets more than `max` requests into any rolling `window`: a steady
/// rate a little under `max` per window plus a small burst, the two summing below `max`.
fn rolling_limiter(max: u32, window: Duration) -> DefaultDirectRateLimiter {
    let burst = (max / 40).max(1);
    let steady = max.saturating_sub(burst + 2).max(1);
    let period = window / steady;
    let quota = Quota::with_period(period).expect("a non-zero period");
    RateLimiter::direct(quota.allow_burst(NonZeroU32::new(burst).expect("burst >= 1")))
}

#[derive(Debug)]
struct Daily {
    limit: u64,
    remaining: u64,
    day: Option<NaiveDate>,
    out_until: Option<DateTime<Utc>>,
}

/// The shared budgets of one HubSpot app in one account.
pub struct HubspotLimits {
    burst_max: Mutex<u32>,
    burst: RwLock<Arc<DefaultDirectRateLimiter>>,
    search: DefaultDirectRateLimiter,
    search_max: u32,
    daily: Mutex<Daily>,
    hold_until: Mutex<Option<tokio::time::Instant>>,
    timezone: Tz,
    /// The config names of the connectors spending these limits, for metrics labels.
    names: Mutex<Vec<String>>,
}

impl std::fmt::Debug for HubspotLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubspotLimits").field("daily", &self.daily).finish_non_exhaustive()
    }
}

type Registry = Mutex<HashMap<String, Arc<HubspotLimits>>>;

impl HubspotLimits {
    pub fn new(settings: &HubspotRateLimit, timezone: Tz) -> Self {
        let burst = settings.effective_burst_per_10s();
        let search = settings.effective_search_per_second();
        let daily = u64::from(settings.effective_daily());
        HubspotLimits {
            burst_max: Mutex::new(burst),
            burst: RwLock::new(Arc::new(rolling_limiter(burst, WINDOW))),
            search: rolling_limiter(search + 2, Duration::from_secs(1)),
            search_max: search,
            daily: Mutex::new(Daily { limit: daily, remaining: daily, day: None, out_until: None }),
            hold_until: Mutex::new(None),
            timezone,
            names: Mutex::new(Vec::new()),
        }
    }

    /// The limits of the account and app named by `key`, shared by every connector in the
    /// process that names the same key; `name` is the connector's, for metrics.
    pub fn shared(key: &str, settings: &HubspotRateLimit, timezone: Tz, name: &str) -> Arc<Self> {
        static REGISTRY: OnceLock<Registry> = OnceLock::new();
        let registry = REGISTRY.get_or_init(Registry::default);
        let mut map = registry.lock().expect("limits registry lock");
        let limits = map
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(HubspotLimits::new(settings, timezone)))
            .clone();
        let mut names = limits.names.lock().expect("names lock");
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        drop(names);
        limits
    }

    /// Sets a gauge for every connector spending these limits.
    fn gauge(&self, metric: &'static str, value: f64) {
        for name in self.names.lock().expect("names lock").iter() {
            ::metrics::gauge!(metric, "connector" => "hubspot", "name" => name.clone()).set(value);
        }
    }

    /// Waits for every budget `search` (or a plain call) spends, or refuses at once when
    /// the daily budget is out.
    pub async fn acquire(&self, search: bool, now: DateTime<Utc>) -> Result<(), ConnectorError> {
        self.spend_daily(now)?;
        let hold = *self.hold_until.lock().expect("hold lock");
        if let Some(until) = hold {
            tokio::time::sleep_until(until).await;
        }
        if search {
            self.search.until_ready().await;
        }
        let burst = self.burst.read().expect("burst lock").clone();
        burst.until_ready().await;
        Ok(())
    }

    fn spend_daily(&self, now: DateTime<Utc>) -> Result<(), ConnectorError> {
        let mut daily = self.daily.lock().expect("daily lock");
        let today = now.with_timezone(&self.timezone).date_naive();
        if daily.day != Some(today) {
            daily.day = Some(today);
            daily.remaining = daily.limit;
            daily.out_until = None;
            self.gauge(crate::metrics::CONNECTOR_OUT_OF_DAILY_BUDGET, 0.0);
        }
        if let Some(until) = daily.out_until.filter(|until| *until > now) {
            return Err(ConnectorError::OutOfDailyBudget { api: "hubspot", until });
        }
        if daily.remaining == 0 {
            let until = next_midnight(now, self.timezone);
            daily.out_until = Some(until);
            self.gauge(crate::metrics::CONNECTOR_OUT_OF_DAILY_BUDGET, 1.0);
            return Err(ConnectorError::OutOfDailyBudget { api: "hubspot", until });
        }
        daily.remaining -= 1;
        Ok(())
    }

    /// Corrects the budgets from a response's `X-HubSpot-RateLimit-*` headers.
    pub fn observe(&self, headers: &HeaderMap) {
        if let Some(max) = header_u32(headers, "x-hubspot-ratelimit-max") {
            self.set_burst_max(max);
        }
        if header_u32(headers, "x-hubspot-ratelimit-remaining") == Some(0) {
            self.hold_for(Duration::from_secs(1));
        }
        let mut daily = self.daily.lock().expect("daily lock");
        if let Some(limit) = header_u32(headers, "x-hubspot-ratelimit-daily") {
            daily.limit = u64::from(limit);
        }
        if let Some(left) = header_u32(headers, "x-hubspot-ratelimit-daily-remaining") {
            daily.remaining = u64::from(left);
            self.gauge(crate::metrics::CONNECTOR_DAILY_REMAINING, f64::from(left));
        }
    }

    fn set_burst_max(&self, max: u32) {
        let mut current = self.burst_max.lock().expect("burst max lock");
        if *current != max && max > 0 {
            tracing::info!(old = *current, new = max, "hubspot burst limit corrected from headers");
            *current = max;
            *self.burst.write().expect("burst lock") = Arc::new(rolling_limiter(max, WINDOW));
        }
    }

    fn hold_for(&self, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut hold = self.hold_until.lock().expect("hold lock");
        if hold.is_none_or(|current| current < until) {
            *hold = Some(until);
        }
    }

    /// Applies a 429's policy; returns how long the caller should wait before retrying.
    pub fn on_rate_limited(
        &self,
        policy: &str,
        retry_after: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Result<Duration, ConnectorError> {
        ::metrics::counter!(crate::metrics::CONNECTOR_RATE_LIMITED, "connector" => "hubspot",
            "policy" => policy.to_string())
        .increment(1);
        let wait = match policy {
            "DAILY" => return Err(self.out_of_daily(now)),
            "SECONDLY" => Duration::from_secs(1),
            _ => WINDOW,
        };
        let wait =
            retry_after.map_or(wait, |hint| hint.clamp(Duration::from_millis(100), wait * 6));
        if policy != "SECONDLY" {
            self.hold_for(wait);
        }
        Ok(wait)
    }

    fn out_of_daily(&self, now: DateTime<Utc>) -> ConnectorError {
        let until = next_midnight(now, self.timezone);
        let mut daily = self.daily.lock().expect("daily lock");
        daily.day = Some(now.with_timezone(&self.timezone).date_naive());
        daily.remaining = 0;
        daily.out_until = Some(until);
        self.gauge(crate::metrics::CONNECTOR_OUT_OF_DAILY_BUDGET, 1.0);
        tracing::warn!(%until, "hubspot daily budget spent; spending stops until the reset");
        ConnectorError::OutOfDailyBudget { api: "hubspot", until }
    }

    /// Requests per second the burst limiter sustains.
    pub fn requests_per_second(&self) -> f64 {
        f64::from(*self.burst_max.lock().expect("burst max lock")) / WINDOW.as_secs_f64()
    }

    pub fn search_per_second(&self) -> u32 {
        self.search_max
    }

    /// Daily requests left and the end of a pause, as of `now`.
    pub fn daily_state(&self, now: DateTime<Utc>) -> (u64, Option<DateTime<Utc>>) {
        let daily = self.daily.lock().expect("daily lock");
        (daily.remaining, daily.out_until.filter(|until| *until > now))
    }
}

fn header_u32(headers: &HeaderMap, name: &str) -> Option<u32> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The next midnight in `timezone` after `now`, when HubSpot's daily budget resets.
pub fn next_midnight(now: DateTime<Utc>, timezone: Tz) -> DateTime<Utc> {
    let tomorrow = now.with_timezone(&timezone).date_naive().succ_opt().expect("a next day");
    let midnight = tomorrow.and_hms_opt(0, 0, 0).expect("midnight exists");
    match timezone.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.to_utc(),
        // a midnight skipped by a clock change: the day starts an hour later
        chrono::LocalResult::None => (timezone
            .from_local_datetime(&(midnight + chrono::Duration::hours(1))))
        .earliest()
        .map_or(now + chrono::Duration::days(1), |t| t.to_utc()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_budget_resets_at_midnight_in_the_accounts_time_zone() {
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 3, 30, 0).unwrap();
        let ny: Tz = "America/New_York".parse().unwrap();
        // 03:30 UTC is 23:30 the day before in New York (EDT from 8 March): midnight is 04:00 UTC
        assert_eq!(next_midnight(now, ny), Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0).unwrap());
        assert_eq!(
            next_midnight(now, chrono_tz::UTC),
            Utc.with_ymd_and_hms(2026, 3, 11, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn the_rolling_limiter_admits_less_than_the_window_max_at_once() {
        let limiter = rolling_limiter(190, WINDOW);
        let admitted = (0..400).filter(|_| limiter.check().is_ok()).count();
        assert!((1..190).contains(&admitted), "{admitted}");
    }

    #[tokio::test]
    async fn a_daily_429_stops_spending_until_the_reset() {
        let limits = HubspotLimits::new(&HubspotRateLimit::default(), chrono_tz::UTC);
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 15, 0, 0).unwrap();
        assert!(limits.on_rate_limited("DAILY", None, now).is_err());
        let refused = limits.acquire(false, now + chrono::Duration::hours(1)).await;
        assert!(matches!(refused, Err(ConnectorError::OutOfDailyBudget { .. })));
        let next_day = Utc.with_ymd_and_hms(2026, 3, 11, 0, 0, 1).unwrap();
        assert!(limits.acquire(false, next_day).await.is_ok());
    }

    #[test]
    fn a_retry_after_is_honoured_but_clamped_and_each_policy_has_its_own_wait() {
        let limits = HubspotLimits::new(&HubspotRateLimit::default(), chrono_tz::UTC);
        let now = Utc::now();
        let wait = |policy, hint| limits.on_rate_limited(policy, hint, now).unwrap();
        assert_eq!(wait("TEN_SECONDLY_ROLLING", None), Duration::from_secs(10));
        assert_eq!(wait("SECONDLY", None), Duration::from_secs(1));
        assert_eq!(wait("SECONDLY", Some(Duration::from_secs(3))), Duration::from_secs(3));
        let huge = Some(Duration::from_secs(86_400));
        assert_eq!(wait("TEN_SECONDLY_ROLLING", huge), Duration::from_secs(60));
    }

    #[test]
    fn headers_correct_the_burst_limit_and_the_daily_remaining() {
        let limits = HubspotLimits::new(&HubspotRateLimit::default(), chrono_tz::UTC);
        let mut headers = HeaderMap::new();
        headers.insert("x-hubspot-ratelimit-max", "100".parse().unwrap());
        headers.insert("x-hubspot-ratelimit-daily-remaining", "42".parse().unwrap());
        limits.observe(&headers);
        assert_eq!(limits.requests_per_second(), 10.0);
        assert_eq!(limits.daily_state(Utc::now()).0, 42);
    }
}
