//! Finding a `[[sync]]` block by name, refusing unknown names with the configured ones.

use super::OperateError;
use crate::config::{Settings, SyncRule};

/// The block named `name`, or an error listing every configured block.
pub fn find_block<'s>(settings: &'s Settings, name: &str) -> Result<&'s SyncRule, OperateError> {
    settings.sync.iter().find(|rule| rule.name == name).ok_or_else(|| {
        let names: Vec<&str> = settings.sync.iter().map(|rule| rule.name.as_str()).collect();
        let known = if names.is_empty() { "none".to_string() } else { names.join(", ") };
        OperateError::UnknownSync { name: name.to_string(), known }
    })
}
