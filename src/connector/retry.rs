//! The retry loop every connector call runs in: the shared classification decides whether
//! and how long to wait, with jitter, a cap, and an attempt limit.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use super::error::ConnectorError;
use crate::error_kind::Retry;

/// How persistent one call is before it hands the failure back to its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The longest single wait inside a call; longer waits go back to the caller.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 5, max_wait: Duration::from_secs(60) }
    }
}

/// What the loop does after a failed attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Wait(Duration),
    GiveUp,
}

impl RetryPolicy {
    /// The decision after attempt `attempt` (1-based) failed with `err`.
    pub fn next(&self, attempt: u32, err: &ConnectorError) -> Next {
        if attempt >= self.max_attempts || !err.retry_in_place() {
            return Next::GiveUp;
        }
        match err.kind().retry(attempt, err.wait_hint()) {
            Retry::After(wait) if wait <= self.max_wait => Next::Wait(jitter(wait)),
            Retry::After(_) | Retry::Never => Next::GiveUp,
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or the policy gives up.
    pub async fn run<T, F, Fut>(
        &self,
        api: &'static str,
        mut attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let mut number = 1;
        loop {
            let err = match attempt(number).await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            let Next::Wait(wait) = self.next(number, &err) else { return Err(err) };
            tracing::debug!(api, attempt = number, ?wait, error = %err, "retrying");
            ::metrics::counter!(crate::metrics::CONNECTOR_RETRIES, "connector" => api,
                "kind" => err.kind().as_str())
            .increment(1);
            tokio::time::sleep(wait).await;
            number += 1;
        }
    }
}

/// Stretches a wait by up to a fifth, so clients that failed together retry apart; never
/// shortens it, so an upstream's hint stays a floor.
fn jitter(wait: Duration) -> Duration {
    let extra = rand::rng().random_range(0.0..0.2);
    wait.mul_f64(1.0 + extra)
}

impl ConnectorError {
    /// Whether waiting inside the call can help: a spent daily budget or a paused org
    /// will not recover within a call.
    pub fn retry_in_place(&self) -> bool {
        !matches!(self, ConnectorError::OutOfDailyBudget { .. })
            && self.code() != Some("REQUEST_LIMIT_EXCEEDED")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn server_error() -> ConnectorError {
        ConnectorError::Api {
            api: "test",
            status: 502,
            code: String::new(),
            message: "bad gateway".into(),
            wait: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_error_is_retried_with_growing_waits_until_it_succeeds() {
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result = RetryPolicy::default()
            .run("test", |_| async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0..=2 => Err(server_error()),
                    _ => Ok("done"),
                }
            })
            .await;
        assert_eq!(result.unwrap(), "done");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        let waited = started.elapsed();
        // 0.5 s + 1 s + 2 s, each stretched by at most a fifth
        assert!(waited >= Duration::from_millis(3500) && waited <= Duration::from_millis(4200));
    }

    #[tokio::test(start_paused = true)]
    async fn a_validation_error_is_never_retried() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = RetryPolicy::default()
            .run("test", |_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(ConnectorError::Api {
                    api: "test",
                    status: 400,
                    code: "VALIDATION_ERROR".into(),
                    message: "bad".into(),
                    wait: None,
                })
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_retry_after_longer_than_the_cap_goes_back_to_the_caller() {
        let err = ConnectorError::Api {
            api: "test",
            status: 477,
            code: String::new(),
            message: "migration in progress".into(),
            wait: Some(Duration::from_secs(3600)),
        };
        assert_eq!(RetryPolicy::default().next(1, &err), Next::GiveUp);
        let short = ConnectorError::RateLimited {
            api: "test",
            policy: "SECONDLY".into(),
            wait: Some(Duration::from_secs(1)),
        };
        let Next::Wait(wait) = RetryPolicy::default().next(1, &short) else { panic!() };
        assert!(wait >= Duration::from_secs(1));
    }

    #[test]
    fn attempts_stop_at_the_limit() {
        let policy = RetryPolicy { max_attempts: 2, ..RetryPolicy::default() };
        assert!(matches!(policy.next(1, &server_error()), Next::Wait(_)));
        assert_eq!(policy.next(2, &server_error()), Next::GiveUp);
    }
}
