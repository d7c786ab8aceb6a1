//! The Salesforce connector (in progress).
