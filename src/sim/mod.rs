//! Local simulators of the CRM APIs hubsync talks to. Operators rehearse migrations against
//! them, and every test and benchmark runs against them.

pub mod clock;
pub mod faults;
pub mod salesforce;
pub mod server;
pub mod stats;

/// `hubsync sim <which>`: run one simulator standalone.
#[derive(Debug, clap::Subcommand)]
pub enum SimCommand {
    /// A Salesforce REST API simulator.
    Salesforce(salesforce::SimArgs),
}
