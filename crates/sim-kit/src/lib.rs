//! What the HubSpot and Salesforce simulators share: a clock tests can control, fault
//! injection, per-endpoint stats, serving on a listener, and the `/__sim/` control routes.

pub mod clock;
pub mod control;
pub mod faults;
pub mod process;
pub mod server;
pub mod stats;
