//! Local simulators of the CRM APIs hubsync talks to. Operators rehearse migrations against
//! them, and every test and benchmark runs against them.

pub mod clock;
pub mod faults;
pub mod server;
pub mod stats;
