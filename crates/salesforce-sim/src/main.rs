//! `salesforce-sim`: the Salesforce simulator as a process. Prints its base URL on stdout
//! when ready, logs to stderr (`RUST_LOG`), and stops on SIGTERM or SIGINT.

use std::process::ExitCode;

use clap::Parser;

/// A local Salesforce REST API.
#[derive(Debug, Parser)]
#[command(name = "salesforce-sim", version)]
struct Cli {
    #[command(flatten)]
    args: salesforce_sim::SimArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    sim_kit::process::init_logs();
    let args = Cli::parse().args;
    match salesforce_sim::run(args, sim_kit::process::on_signals()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => sim_kit::process::report(&err),
    }
}
