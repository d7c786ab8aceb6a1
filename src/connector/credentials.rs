//! Whether a connector's credentials are accepted. Once the API refuses them (a revoked
//! grant, a rejected token), calls stop reaching it: each fails at once with
//! [`ConnectorError::CredentialsRefused`], which spends no attempt, except one probe per
//! interval. The first call that succeeds again lets every call through.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::ConnectorError;

/// How long a refused credential waits between probes unless configured.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(60);

/// Why the API refuses a connector's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The grant behind the tokens was revoked (OAuth `invalid_grant`, a refresh token
    /// HubSpot no longer knows).
    TokenRevoked,
    /// The API answered 401 to a fresh token, or refused the client's own credentials.
    CredentialsRejected,
}

impl Rejection {
    /// The readiness reason code and metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::TokenRevoked => "token_revoked",
            Rejection::CredentialsRejected => "credentials_rejected",
        }
    }
}

/// One connector's credential standing, shared by all its calls.
pub struct CredentialGate {
    api: &'static str,
    connector: String,
    probe_every: Duration,
    refused: Mutex<Option<Refused>>,
}

#[derive(Debug, Clone, Copy)]
struct Refused {
    why: Rejection,
    next_probe: Instant,
}

impl CredentialGate {
    pub fn new(api: &'static str, connector: &str, probe_every: Duration) -> Self {
        CredentialGate {
            api,
            connector: connector.to_string(),
            probe_every,
            refused: Mutex::new(None),
        }
    }

    /// Why the credentials are refused now, if they are.
    pub fn refused(&self) -> Option<Rejection> {
        self.refused.lock().expect("credential lock").map(|refused| refused.why)
    }

    /// Lets a call through while the credentials are accepted, and one call per probe
    /// interval while they are refused; refuses the rest at once.
    pub fn admit(&self) -> Result<(), ConnectorError> {
        let mut refused = self.refused.lock().expect("credential lock");
        let Some(state) = refused.as_mut() else { return Ok(()) };
        let now = Instant::now();
        if now >= state.next_probe {
            // this call is the probe; the others wait for the next interval
            state.next_probe = now + self.probe_every;
            return Ok(());
        }
        Err(ConnectorError::CredentialsRefused {
            api: self.api,
            reason: state.why.as_str(),
            retry_in: state.next_probe - now,
        })
    }

    /// Learns from a call's outcome: a refusal of the credentials closes the gate, a
    /// success opens it; other failures say nothing about the credentials.
    pub fn observe<T>(&self, outcome: &Result<T, ConnectorError>) {
        match outcome {
            Ok(_) => self.accepted(),
            Err(err) => {
                if let Some(why) = err.rejection() {
                    self.rejected(why, err);
                }
            }
        }
    }

    fn accepted(&self) {
        let Some(was) = self.refused.lock().expect("credential lock").take() else { return };
        tracing::info!(connector = %self.connector, "credentials accepted again; work resumes");
        self.gauge(was.why, 0.0);
    }

    fn rejected(&self, why: Rejection, err: &ConnectorError) {
        let mut refused = self.refused.lock().expect("credential lock");
        let next_probe = Instant::now() + self.probe_every;
        if refused.is_none() {
            tracing::warn!(
                connector = %self.connector, reason = why.as_str(), probe_every = ?self.probe_every,
                error = %crate::error_kind::report(err),
                "credentials refused; work waits, unspent, until they work again"
            );
        }
        if let Some(was) = refused.filter(|was| was.why != why) {
            self.gauge(was.why, 0.0);
        }
        *refused = Some(Refused { why, next_probe });
        self.gauge(why, 1.0);
    }

    fn gauge(&self, why: Rejection, value: f64) {
        let labels = [("connector", self.connector.clone()), ("reason", why.as_str().to_string())];
        metrics::gauge!(crate::metrics::CREDENTIALS_REJECTED, &labels).set(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revoked() -> ConnectorError {
        ConnectorError::Auth { api: "test", message: "invalid_grant".into(), revoked: true }
    }

    #[test]
    fn a_refused_credential_admits_one_probe_per_interval_until_a_call_succeeds() {
        let gate = CredentialGate::new("test", "test", Duration::from_millis(200));
        assert!(gate.admit().is_ok());
        gate.observe::<()>(&Err(revoked()));
        assert_eq!(gate.refused(), Some(Rejection::TokenRevoked));
        let refused = gate.admit().expect_err("waits for the probe interval");
        assert_eq!(refused.kind(), crate::error_kind::ErrorKind::NeedsOperator);
        assert!(refused.wait_hint().is_some_and(|wait| wait <= Duration::from_millis(200)));
        std::thread::sleep(Duration::from_millis(210));
        assert!(gate.admit().is_ok(), "one probe goes through");
        assert!(gate.admit().is_err(), "the others wait for the next interval");
        gate.observe(&Ok(()));
        assert_eq!(gate.refused(), None);
        assert!(gate.admit().is_ok());
    }

    #[test]
    fn failures_that_are_not_about_the_credentials_leave_them_accepted() {
        let gate = CredentialGate::new("test", "test", Duration::from_secs(60));
        let timeout = ConnectorError::Timeout { api: "test", timeout: Duration::from_secs(1) };
        gate.observe::<()>(&Err(timeout));
        assert_eq!(gate.refused(), None);
        assert!(gate.admit().is_ok());
    }
}
