//! `hubsync sim hubspot|salesforce`: run one of the simulator crates standalone, as a
//! rehearsal target for operators.

/// `hubsync sim <which>`: run one simulator standalone.
#[derive(Debug, clap::Subcommand)]
pub enum SimCommand {
    /// A local HubSpot CRM API.
    Hubspot(Box<hubspot_sim::SimArgs>),
    /// A local Salesforce REST API.
    Salesforce(Box<salesforce_sim::SimArgs>),
}

/// Why a standalone simulator stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum SimRunError {
    #[error(transparent)]
    Hubspot(#[from] hubspot_sim::cli::SimError),
    #[error(transparent)]
    Salesforce(#[from] salesforce_sim::SimError),
}

/// Runs the chosen simulator until SIGTERM or SIGINT.
pub async fn run(which: SimCommand) -> Result<(), SimRunError> {
    let shutdown = crate::shutdown::on_signals();
    match which {
        SimCommand::Hubspot(args) => hubspot_sim::cli::run(*args, shutdown).await?,
        SimCommand::Salesforce(args) => salesforce_sim::run(*args, shutdown).await?,
    }
    Ok(())
}
