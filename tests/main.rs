//! hubsync's integration tests: one binary, the real app on port 0, a fresh database per
//! test, and the simulators in-process.

mod sim_salesforce;
mod support;
