//! A local Salesforce: the REST wire format (OAuth token endpoint, sObjects, describe,
//! collections, SOQL, replication, limits) over in-memory records, with a test handle.
//!
//! The echo marker: a write's `Sforce-Call-Options: client=NAME` is stored in the
//! queryable, read-only field `LastModifiedByClient` ([`schema::ECHO_FIELD`]) on every
//! object, null when the last write named no client; API writes also carry the
//! integration user as `LastModifiedById`, edits "as a user" the admin user.

mod auth;
pub mod config;
mod control;
pub mod error;
pub mod fault;
mod handle;
pub mod ids;
mod jwt;
mod limits;
mod persist;
mod render;
mod rest;
mod routes;
pub mod schema;
mod seeding;
mod soql;
mod state;
mod store;
mod tls;
mod value;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use auth::sign_assertion;
pub use config::{
    DatetimePrecision, DeletedStatus, MultipleChoicesBody, OpportunityRequired, Seed, SimConfig,
    UnknownIdOnWrite, UpdateOnlyMiss,
};
pub use error::SfError;
pub use handle::{DEFAULT_VERSION, SalesforceSim, StartError};
pub use persist::PersistError;
pub use schema::{CustomField, CustomObject, ECHO_FIELD, FieldType};
pub use state::{ADMIN_USERNAME, INTEGRATION_USERNAME, ORG_ID};

/// Options of `salesforce-sim` and `hubsync sim salesforce`: serve a Salesforce simulator
/// until SIGTERM or SIGINT.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Address to listen on, e.g. 127.0.0.1:8443.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// A JSON seed file: custom objects, custom fields and records (see `config::Seed`).
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Load records from this file at start (if it exists) and save them there on stop.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Serve HTTPS with a self-signed certificate generated at start.
    #[arg(long)]
    pub tls: bool,
    /// Write the TLS certificate (PEM) here, for clients to trust.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub tls_cert_out: Option<PathBuf>,
    #[arg(long, default_value = "sim-client")]
    pub client_id: String,
    #[arg(long, default_value = "sim-secret")]
    pub client_secret: String,
    /// PEM X.509 certificate that JWT bearer assertions must be signed for.
    #[arg(long, value_name = "FILE")]
    pub jwt_cert: Option<PathBuf>,
    /// Daily API request allocation.
    #[arg(long, default_value_t = 15_000)]
    pub daily_api_limit: u64,
    /// Access token lifetime, e.g. `2h` or `15m`.
    #[arg(long, default_value = "2h", value_parser = humantime::parse_duration)]
    pub session_timeout: std::time::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot read {path}")]
    Read { path: String, source: std::io::Error },
    #[error("seed file {path} is invalid")]
    Seed { path: String, source: serde_json::Error },
    #[error("cannot listen on {addr}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Persist(#[from] PersistError),
    #[error("the server failed")]
    Serve(#[source] std::io::Error),
}

fn read(path: &PathBuf) -> Result<String, SimError> {
    std::fs::read_to_string(path)
        .map_err(|source| SimError::Read { path: path.display().to_string(), source })
}

impl SimArgs {
    /// The simulator config these arguments describe.
    pub fn config(&self) -> Result<SimConfig, SimError> {
        let mut config = SimConfig {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            daily_api_limit: self.daily_api_limit,
            tls: self.tls,
            ..SimConfig::default()
        };
        config.session_timeout =
            chrono::Duration::from_std(self.session_timeout).unwrap_or(config.session_timeout);
        if let Some(path) = &self.seed {
            config.seed = Seed::from_json(&read(path)?)
                .map_err(|source| SimError::Seed { path: path.display().to_string(), source })?;
        }
        if let Some(path) = &self.jwt_cert {
            config.jwt_certificate_pem = Some(read(path)?);
        }
        Ok(config)
    }
}

/// Runs the simulator until `shutdown`, printing its base URL on stdout when ready and
/// saving its records to `--state` on the way out.
pub async fn run(
    args: SimArgs,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<(), SimError> {
    let config = args.config()?;
    let saved = match &args.state {
        Some(path) => persist::load(path)?,
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| SimError::Listen { addr: args.listen, source })?;
    let sim = SalesforceSim::serve(listener, config, saved, shutdown.child_token())?;
    if let (Some(path), Some(pem)) = (&args.tls_cert_out, sim.certificate_pem()) {
        std::fs::write(path, pem)
            .map_err(|source| SimError::Read { path: path.display().to_string(), source })?;
    }
    println!("{}", sim.base_url());
    tracing::info!(base_url = %sim.base_url(), "salesforce simulator ready");
    shutdown.cancelled().await;
    if let Some(path) = &args.state {
        sim.save_state(path)?;
        tracing::info!(path = %path.display(), "simulator state saved");
    }
    sim.stop().await.map_err(SimError::Serve)
}

/// The README's examples, compiled as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
