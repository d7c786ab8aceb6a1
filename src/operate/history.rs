//! Lag over the last hour for the dashboard's chart: per minute of arrival, how many changes
//! a block received and how long the slowest of them waited to be settled (or has waited so
//! far, if still pending).

use sqlx::PgPool;

use super::{OperateError, find_block};
use crate::config::Settings;
use crate::store::read::history;
pub use crate::store::read::history::LagPoint;

/// One point per minute that received changes, oldest first.
pub async fn lag_history(
    pool: &PgPool,
    settings: &Settings,
    sync: &str,
) -> Result<Vec<LagPoint>, OperateError> {
    let rule = find_block(settings, sync)?;
    let hubspot = (rule.hubspot_connector.as_str(), rule.hubspot_object.as_str());
    let external = (rule.external_connector.as_str(), rule.external_object.as_str());
    Ok(history::lag(pool, hubspot, external).await?)
}
