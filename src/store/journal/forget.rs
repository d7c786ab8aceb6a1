//! Forgetting a record's values in the journal (a privacy deletion): each property keeps
//! its name and timestamp, its value becomes null; the rows stay, so the record's history
//! still shows what happened and when.

use sqlx::PgExecutor;

use crate::config::Side;
use crate::journal::{JournalError, PRIVACY_DELETION};

/// Blanks every value the journal holds for the record. Returns the rows touched.
pub async fn forget_values<'e>(
    executor: impl PgExecutor<'e>,
    side: Side,
    connector: &str,
    object_type: &str,
    record_id: &str,
) -> Result<u64, JournalError> {
    let done = sqlx::query(
        "update hubsync.journal j set properties = (
             select coalesce(jsonb_object_agg(
                 e.key, case when e.key = $5 then e.value
                             else e.value || jsonb_build_object('value', null) end), '{}')
             from jsonb_each(j.properties) as e)
         where j.connector = $1 and j.object_type = $2 and j.record_id = $3 and j.side = $4
           and j.properties <> '{}'",
    )
    .bind(connector)
    .bind(object_type)
    .bind(record_id)
    .bind(side.as_str())
    .bind(PRIVACY_DELETION)
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}
