//! The kit's app and test settings, where the tests have always found them.

pub use testkit::app::*;
pub use testkit::settings::{test_settings, test_settings_with_file};
