//! Record-level failures a test can set up: a validation rule that refuses records holding
//! a value, or rows that stay locked for the next few writes. In a collections call only the
//! matching records fail; their batch-mates are written.

use serde_json::{Map, Value};

use super::Store;
use crate::error::SfError;
use crate::value::index_key;

/// Which writes a rule refuses and with what error.
#[derive(Debug, Clone)]
pub struct RecordRule {
    /// Canonical object name.
    pub object: String,
    /// Refuse only records whose field (canonical name) holds this value (case-insensitive).
    pub when: Option<(String, Value)>,
    pub error: SfError,
    /// Refuse this many more writes, or every matching write while `None`.
    pub remaining: Option<u32>,
}

impl RecordRule {
    fn matches(&self, object: &str, fields: &Map<String, Value>) -> bool {
        if self.object != object || self.remaining == Some(0) {
            return false;
        }
        match &self.when {
            None => true,
            Some((field, wanted)) => {
                let held = fields.get(field).and_then(index_key);
                held.is_some() && held == index_key(wanted)
            }
        }
    }
}

impl Store {
    pub fn add_rule(&mut self, rule: RecordRule) {
        self.rules.push(rule);
    }

    pub fn clear_rules(&mut self) {
        self.rules.clear();
    }

    /// The error of the first rule refusing a write of `fields` to `object`, spending one
    /// use of a counted rule.
    pub(super) fn check_rules(
        &mut self,
        object: &str,
        fields: &Map<String, Value>,
    ) -> Result<(), SfError> {
        if self.rules.is_empty() {
            return Ok(());
        }
        let Some(rule) = self.rules.iter_mut().find(|r| r.matches(object, fields)) else {
            return Ok(());
        };
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        let error = rule.error.clone();
        self.rules.retain(|r| r.remaining != Some(0));
        Err(error)
    }
}
