//! Asking before a mutation: `--yes` skips the question; without a terminal it refuses.

use std::io::{BufRead, IsTerminal, Write};

use super::CliError;

/// Whether the operator agrees to `question`; an error when stdin is not a terminal.
pub fn confirm(command: &str, question: &str) -> Result<bool, CliError> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::Usage(format!(
            "{command}: refusing to act without --yes (stdin is not a terminal)"
        )));
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer).ok();
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Prints `value` as pretty JSON.
pub fn print_json(value: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(value).expect("values serialize"));
}
