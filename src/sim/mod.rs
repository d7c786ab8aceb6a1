//! Local simulators of the CRM APIs hubsync talks to. Operators rehearse migrations against
//! them, and every test and benchmark runs against them.

pub mod clock;
pub mod faults;
pub mod hubspot;
pub mod salesforce;
pub mod server;
pub mod stats;

/// `hubsync sim <which>`: run one simulator standalone.
#[derive(Debug, clap::Subcommand)]
pub enum SimCommand {
    /// A local HubSpot CRM API.
    Hubspot(Box<hubspot::SimArgs>),
    /// A Salesforce REST API simulator.
    Salesforce(salesforce::SimArgs),
}

/// Why a standalone simulator stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum SimRunError {
    #[error(transparent)]
    Hubspot(#[from] hubspot::cli::SimError),
    #[error(transparent)]
    Salesforce(#[from] salesforce::SimError),
}

/// Runs the chosen simulator until SIGTERM or SIGINT.
pub async fn run(which: SimCommand) -> Result<(), SimRunError> {
    match which {
        SimCommand::Hubspot(args) => hubspot::cli::run(*args).await?,
        SimCommand::Salesforce(args) => {
            salesforce::run(args, crate::shutdown::on_signals()).await?;
        }
    }
    Ok(())
}
