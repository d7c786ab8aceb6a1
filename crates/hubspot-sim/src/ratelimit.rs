//! Rate limits as HubSpot applies them: a rolling 10-second window per app (however many
//! tokens it refreshes), a daily budget per portal, and a separate per-second limit for
//! search, all on the sim clock.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

use super::SimState;
use super::auth::Caller;
use super::config::RateProfile;
use super::error::rate_limited;

const WINDOW_MS: i64 = 10_000;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Default)]
struct Usage {
    windows: HashMap<u64, VecDeque<i64>>,
    day: i64,
    daily: u32,
    search: VecDeque<i64>,
}

/// What the budgets look like after a request, for the response headers.
#[derive(Debug, Clone, Copy)]
pub struct Remaining {
    pub max: Option<u32>,
    pub in_window: u32,
    pub in_last_second: u32,
    pub daily_max: Option<u32>,
    pub daily_used: u32,
}

/// The simulator's request budgets.
#[derive(Debug)]
pub struct RateLimiter {
    profile: RateProfile,
    usage: Mutex<Usage>,
}

impl RateLimiter {
    pub fn new(profile: RateProfile) -> Self {
        RateLimiter { profile, usage: Mutex::new(Usage::default()) }
    }

    /// Spends one request of the burst budget of the app `app_id` and the daily budget, or
    /// names the policy that refuses it. The burst window belongs to the app, so a freshly
    /// refreshed OAuth access token does not start a new one.
    pub fn spend(&self, app_id: u64, now: i64) -> Result<Remaining, (&'static str, Remaining)> {
        self.spend_budgets(app_id, now, true)
    }

    /// Spends one request of the daily budget only, for endpoints exempt from the burst
    /// limit; the app's window is reported but not spent.
    pub fn spend_daily(
        &self,
        app_id: u64,
        now: i64,
    ) -> Result<Remaining, (&'static str, Remaining)> {
        self.spend_budgets(app_id, now, false)
    }

    fn spend_budgets(
        &self,
        app_id: u64,
        now: i64,
        burst: bool,
    ) -> Result<Remaining, (&'static str, Remaining)> {
        let mut usage = self.usage.lock().expect("rate lock");
        let day = now.div_euclid(DAY_MS);
        if usage.day != day {
            usage.day = day;
            usage.daily = 0;
        }
        let daily = usage.daily;
        let window = usage.windows.entry(app_id).or_default();
        while window.front().is_some_and(|t| *t <= now - WINDOW_MS) {
            window.pop_front();
        }
        let over_daily = self.profile.daily.is_some_and(|max| daily >= max);
        let over_burst =
            burst && self.profile.per_ten_seconds.is_some_and(|max| window.len() as u32 >= max);
        if !over_daily && !over_burst {
            if burst {
                window.push_back(now);
            }
            usage.daily += 1;
        }
        let remaining = self.remaining(&usage, app_id, now);
        match (over_daily, over_burst) {
            (true, _) => Err(("DAILY", remaining)),
            (_, true) => Err(("TEN_SECONDLY_ROLLING", remaining)),
            _ => Ok(remaining),
        }
    }

    fn remaining(&self, usage: &Usage, app_id: u64, now: i64) -> Remaining {
        let window = usage.windows.get(&app_id);
        let in_window = window.map_or(0, |w| w.len() as u32);
        let in_last_second =
            window.map_or(0, |w| w.iter().rev().take_while(|t| **t > now - 1000).count() as u32);
        Remaining {
            max: self.profile.per_ten_seconds,
            in_window,
            in_last_second,
            daily_max: self.profile.daily,
            daily_used: usage.daily,
        }
    }

    /// Spends one search request of the per-second search budget.
    pub fn spend_search(&self, now: i64) -> bool {
        let Some(max) = self.profile.search_per_second else { return true };
        let mut usage = self.usage.lock().expect("rate lock");
        while usage.search.front().is_some_and(|t| *t <= now - 1000) {
            usage.search.pop_front();
        }
        if usage.search.len() as u32 >= max {
            return false;
        }
        usage.search.push_back(now);
        true
    }
}

fn set(headers: &mut HeaderMap, name: &'static str, value: u32) {
    headers.insert(name, HeaderValue::from(value));
}

/// The `X-HubSpot-RateLimit-*` headers; the daily pair is omitted for OAuth callers.
fn add_headers(headers: &mut HeaderMap, left: &Remaining, oauth: bool) {
    if let Some(max) = left.max {
        set(headers, "x-hubspot-ratelimit-interval-milliseconds", WINDOW_MS as u32);
        set(headers, "x-hubspot-ratelimit-max", max);
        set(headers, "x-hubspot-ratelimit-remaining", max.saturating_sub(left.in_window));
        set(headers, "x-hubspot-ratelimit-secondly", max / 10);
        set(
            headers,
            "x-hubspot-ratelimit-secondly-remaining",
            (max / 10).saturating_sub(left.in_last_second),
        );
    }
    if let (Some(daily), false) = (left.daily_max, oauth) {
        set(headers, "x-hubspot-ratelimit-daily", daily);
        set(headers, "x-hubspot-ratelimit-daily-remaining", daily.saturating_sub(left.daily_used));
    }
}

fn is_search(request: &Request) -> bool {
    request.method() == Method::POST && request.uri().path().ends_with("/search")
}

/// A v4 association batch call (create, default, read, archive, labels/archive): the spec
/// tags these exempt from the 10-second limit.
fn is_association_batch(request: &Request) -> bool {
    let original = request.extensions().get::<OriginalUri>();
    let path = original.map_or(request.uri().path(), |uri| uri.path());
    let v4 = ["/crm/v4/associations/", "/crm/associations/v4/"];
    request.method() == Method::POST
        && v4.iter().any(|prefix| path.starts_with(prefix))
        && path.contains("/batch/")
}

/// Middleware: applies the budgets after authentication.
pub async fn limit(State(state): State<SimState>, request: Request, next: Next) -> Response {
    let Some(caller) = request.extensions().get::<Caller>().cloned() else {
        return next.run(request).await;
    };
    let now = state.clock.now_millis();
    if is_search(&request) {
        if !state.limits.spend_search(now) {
            return rate_limited("SECONDLY");
        }
        if state.config.strict.search_counts_toward_burst
            && let Err((policy, _)) = state.limits.spend(caller.app_id, now)
        {
            return rate_limited(policy);
        }
        return next.run(request).await;
    }
    let exempt = !state.config.strict.association_batches_count_toward_burst
        && is_association_batch(&request);
    let spent = if exempt {
        state.limits.spend_daily(caller.app_id, now)
    } else {
        state.limits.spend(caller.app_id, now)
    };
    match spent {
        Ok(left) => {
            let mut response = next.run(request).await;
            add_headers(response.headers_mut(), &left, caller.oauth);
            response
        }
        Err((policy, left)) => {
            let mut response = rate_limited(policy);
            add_headers(response.headers_mut(), &left, caller.oauth);
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ten_second_window_rolls() {
        let limiter = RateLimiter::new(RateProfile::of(2, 100));
        assert!(limiter.spend(1, 0).is_ok());
        assert!(limiter.spend(1, 5_000).is_ok());
        assert_eq!(limiter.spend(1, 9_999).unwrap_err().0, "TEN_SECONDLY_ROLLING");
        assert!(limiter.spend(2, 9_999).is_ok(), "another app has its own window");
        assert!(limiter.spend(1, 10_000).is_ok());
    }

    #[test]
    fn a_burst_exempt_request_spends_only_the_daily_budget() {
        let limiter = RateLimiter::new(RateProfile::of(1, 3));
        assert!(limiter.spend(1, 0).is_ok());
        assert_eq!(limiter.spend(1, 1).unwrap_err().0, "TEN_SECONDLY_ROLLING");
        let left = limiter.spend_daily(1, 2).expect("exempt from the full window");
        assert_eq!((left.in_window, left.daily_used), (1, 2));
        assert!(limiter.spend_daily(1, 3).is_ok());
        assert_eq!(limiter.spend_daily(1, 4).unwrap_err().0, "DAILY");
    }

    #[test]
    fn the_daily_budget_is_shared_and_resets_at_midnight() {
        let limiter = RateLimiter::new(RateProfile::of(100, 2));
        assert!(limiter.spend(1, 1).is_ok());
        assert!(limiter.spend(2, 2).is_ok());
        assert_eq!(limiter.spend(1, 3).unwrap_err().0, "DAILY");
        assert!(limiter.spend(1, DAY_MS + 1).is_ok());
    }
}
