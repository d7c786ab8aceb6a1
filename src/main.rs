//! The `hubsync` binary: parses the command line, starts logging, runs the command, and
//! prints one error report with its causes.

use std::process::ExitCode;

use clap::Parser;
use hubsync::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(message) = hubsync::telemetry::init(cli.log_format, &cli.log_filter()) {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(cli::execute(cli));
    // whatever is still running (a task that ignored shutdown, a blocking call) is left
    // behind after a bounded wait, so the process always exits
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {:#}", anyhow::Error::new(err));
            ExitCode::FAILURE
        }
    }
}
