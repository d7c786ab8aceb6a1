//! The one classification of failures that decides retries, shared by every layer.

use std::time::Duration;

/// What kind of failure an error is. Every layer's error enum maps into this with `kind()`,
/// and retry behaviour follows from it in [`ErrorKind::retry`] alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Network blips, timeouts, 5xx, row locks: try again after a backoff.
    Transient,
    /// The upstream said to slow down: wait at least as long as it asked.
    RateLimited,
    /// Nothing will change until a person acts: bad credentials, exhausted budget.
    NeedsOperator,
    /// The request itself is wrong; retrying the same thing fails the same way.
    Permanent,
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    After(Duration),
    Never,
}

impl ErrorKind {
    /// Capped exponential backoff for attempt `attempt` (1-based), with `hint` from the
    /// upstream (e.g. `Retry-After`) honoured as a floor.
    pub fn retry(self, attempt: u32, hint: Option<Duration>) -> Retry {
        match self {
            ErrorKind::Transient => Retry::After(backoff(attempt).max(hint.unwrap_or_default())),
            ErrorKind::RateLimited => {
                Retry::After(hint.unwrap_or_else(|| backoff(attempt)).min(MAX_BACKOFF))
            }
            ErrorKind::NeedsOperator | ErrorKind::Permanent => Retry::Never,
        }
    }

    /// Stable lowercase name for logs, metrics labels and the journal's `error_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Transient => "transient",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::NeedsOperator => "needs_operator",
            ErrorKind::Permanent => "permanent",
        }
    }
}

const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// 500 ms doubling per attempt, capped at five minutes.
fn backoff(attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(16);
    Duration::from_millis(500u64.saturating_mul(1 << exponent)).min(MAX_BACKOFF)
}

/// An error and its causes on one line: `outer: cause: root cause`.
pub fn report(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Runs one unit of a long-lived task's work, turning a panic into an error so the task
/// logs it and carries on; claimed work is retried when its lease expires.
pub async fn guarded<T, E>(
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, Box<dyn std::error::Error + Send + Sync>>
where
    E: std::error::Error + Send + Sync + 'static,
{
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result.map_err(Into::into),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            Err(format!("bug: {message}").into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_back_off_exponentially_up_to_a_cap() {
        let delays: Vec<_> = (1..=4).map(|a| ErrorKind::Transient.retry(a, None)).collect();
        let expected = [500, 1000, 2000, 4000].map(|ms| Retry::After(Duration::from_millis(ms)));
        assert_eq!(delays, expected);
        assert_eq!(ErrorKind::Transient.retry(40, None), Retry::After(MAX_BACKOFF));
    }

    #[test]
    fn a_rate_limit_hint_is_honoured_but_clamped() {
        let hint = Some(Duration::from_secs(7));
        assert_eq!(ErrorKind::RateLimited.retry(1, hint), Retry::After(Duration::from_secs(7)));
        let huge = Some(Duration::from_secs(86_400));
        assert_eq!(ErrorKind::RateLimited.retry(1, huge), Retry::After(MAX_BACKOFF));
    }

    #[test]
    fn permanent_and_operator_failures_never_retry() {
        assert_eq!(ErrorKind::Permanent.retry(1, None), Retry::Never);
        assert_eq!(ErrorKind::NeedsOperator.retry(1, None), Retry::Never);
    }
}
