//! The org's daily API allocation, read from `Sforce-Limit-Info`: hubsync stops spending
//! at its configured share, and pauses after `REQUEST_LIMIT_EXCEEDED`, so the org's other
//! integrations keep working.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use reqwest::header::HeaderMap;

use crate::connector::ConnectorError;

/// How long spending stops before one request probes whether the budget recovered.
pub const PAUSE: Duration = Duration::minutes(5);

#[derive(Debug, Default)]
struct Usage {
    used: u64,
    max: u64,
    paused_until: Option<DateTime<Utc>>,
}

#[derive(Debug)]
pub struct Budget {
    fraction: f64,
    /// The connector's name in the config, the `name` label of its metrics.
    name: String,
    usage: Mutex<Usage>,
}

impl Budget {
    pub fn new(fraction: f64, name: &str) -> Self {
        Budget { fraction, name: name.to_string(), usage: Mutex::new(Usage::default()) }
    }

    /// Sets one of this connector's gauges.
    fn gauge(&self, metric: &'static str, value: f64) {
        ::metrics::gauge!(metric, "connector" => "salesforce", "name" => self.name.clone())
            .set(value);
    }

    /// Spends one request, or refuses while paused or past hubsync's share.
    pub fn spend(&self, now: DateTime<Utc>) -> Result<(), ConnectorError> {
        let mut usage = self.usage.lock().expect("budget lock");
        if let Some(until) = usage.paused_until {
            if until > now {
                return Err(paused(until, now));
            }
            usage.paused_until = None;
            self.gauge(crate::metrics::CONNECTOR_OUT_OF_DAILY_BUDGET, 0.0);
            // the pause is over: let this request through to learn the current usage
        } else if usage.max > 0 && usage.used as f64 >= self.fraction * usage.max as f64 {
            let until = now + PAUSE;
            usage.paused_until = Some(until);
            tracing::warn!(
                used = usage.used,
                max = usage.max,
                "salesforce share of the daily allocation spent"
            );
            self.gauge(crate::metrics::CONNECTOR_OUT_OF_DAILY_BUDGET, 1.0);
            return Err(paused(until, now));
        }
        usage.used += 1;
        Ok(())
    }

    /// Takes the org's count from `Sforce-Limit-Info: api-usage=USED/MAX`.
    pub fn observe(&self, headers: &HeaderMap) {
        let Some((used, max)) = headers
            .get("sforce-limit-info")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_limit_info)
        else {
            return;
        };
        let mut usage = self.usage.lock().expect("budget lock");
        (usage.used, usage.max) = (used, max);
        let left = (self.fraction * max as f64 - used as f64).max(0.0);
        drop(usage);
        self.gauge(crate::metrics::CONNECTOR_DAILY_REMAINING, left);
    }

    /// `REQUEST_LIMIT_EXCEEDED`: the org is out; stop until a probe finds room.
    pub fn exceeded(&self, now: DateTime<Utc>) {
        self.usage.lock().expect("budget lock").paused_until = Some(now + PAUSE);
        self.gauge(crate::metrics::CONNECTOR_OUT_OF_DAILY_BUDGET, 1.0);
        ::metrics::counter!(crate::metrics::CONNECTOR_RATE_LIMITED, "connector" => "salesforce",
            "name" => self.name.clone(), "policy" => "REQUEST_LIMIT_EXCEEDED")
        .increment(1);
    }

    /// Requests left in hubsync's share, and the end of a pause.
    pub fn state(&self, now: DateTime<Utc>) -> (Option<u64>, Option<DateTime<Utc>>) {
        let usage = self.usage.lock().expect("budget lock");
        let share = (self.fraction * usage.max as f64) as u64;
        let left = (usage.max > 0).then(|| share.saturating_sub(usage.used));
        (left, usage.paused_until.filter(|until| *until > now))
    }
}

fn paused(until: DateTime<Utc>, now: DateTime<Utc>) -> ConnectorError {
    ConnectorError::RateLimited {
        api: "salesforce",
        policy: "DAILY_SHARE".into(),
        wait: (until - now).to_std().ok(),
    }
}

/// `api-usage=18/5000` (possibly followed by `; api-bursts=…`).
pub fn parse_limit_info(text: &str) -> Option<(u64, u64)> {
    let usage = text.split(';').map(str::trim).find_map(|p| p.strip_prefix("api-usage="))?;
    let (used, max) = usage.split_once('/')?;
    Some((used.trim().parse().ok()?, max.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_header_parses_with_or_without_bursts() {
        assert_eq!(parse_limit_info("api-usage=18/5000"), Some((18, 5000)));
        assert_eq!(parse_limit_info("api-usage=1/750; api-bursts=1/750"), Some((1, 750)));
        assert_eq!(parse_limit_info("per-app-api-usage=17/250(appName=x)"), None);
    }

    #[test]
    fn spending_stops_at_the_configured_share_and_probes_after_the_pause() {
        let budget = Budget::new(0.8, "salesforce");
        let mut headers = HeaderMap::new();
        headers.insert("sforce-limit-info", "api-usage=79/100".parse().unwrap());
        budget.observe(&headers);
        let now = Utc::now();
        assert!(budget.spend(now).is_ok());
        assert!(budget.spend(now).is_err(), "80 of 100 is the share");
        assert!(budget.spend(now + PAUSE + Duration::seconds(1)).is_ok(), "one probe");
    }
}
