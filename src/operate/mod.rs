//! Operator surfaces shared by the CLI and the admin API: status, pause and resume, the
//! conflicts queue, one record's timeline, the dry-run plan, and the daemon tasks that keep
//! status current.

mod blocks;
mod budget;
mod conflicts;
mod error;
mod gauges;
mod history;
mod pause;
mod preview;
mod record;
mod status;
mod timeline;

pub use blocks::find_block;
pub use budget::{publish_budgets, publish_once};
pub use conflicts::{
    Conflict, ConflictFilter, ConflictStatus, Resolution, Take, list_conflicts, resolve_conflict,
};
pub use error::OperateError;
pub use gauges::{QueueDepths, refresh_gauges, refresh_once};
pub use history::{LagPoint, lag_history};
pub use pause::{PauseOutcome, pause, resume};
pub use preview::{BlockPlan, Preview, preview};
pub use record::{LinkInfo, RecordRef};
pub use status::{
    ConnectorBudget, Failures, Lag, Paused, Rates, SideStatus, StatusReport, SyncStatus, status,
};
pub use timeline::{Timeline, TimelineEntry, timeline};
