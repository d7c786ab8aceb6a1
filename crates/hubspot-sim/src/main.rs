//! `hubspot-sim`: the HubSpot simulator as a process. Prints its base URL on stdout when
//! ready, logs to stderr (`RUST_LOG`), and stops on SIGTERM or SIGINT.

use std::process::ExitCode;

use clap::Parser;

/// A local HubSpot CRM API.
#[derive(Debug, Parser)]
#[command(name = "hubspot-sim", version)]
struct Cli {
    #[command(flatten)]
    args: hubspot_sim::SimArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    sim_kit::process::init_logs();
    let args = Cli::parse().args;
    match hubspot_sim::cli::run(args, sim_kit::process::on_signals()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => sim_kit::process::report(&err),
    }
}
