//! Finding journal rows: by ids, side, object, record, status, time range and error kind,
//! newest first with id cursor paging.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Postgres, QueryBuilder};

use super::row::{LEASED, ROW_COLUMNS, RawRow, convert};
use crate::config::Side;
use crate::journal::{JournalError, JournalRow, Status};

/// Which rows. Empty fields match everything; `ids`, when given, limits to those rows.
#[derive(Debug, Clone, Default)]
pub struct JournalFilter {
    pub ids: Vec<i64>,
    pub side: Option<Side>,
    pub object_type: Option<String>,
    pub record_id: Option<String>,
    pub statuses: Vec<Status>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub error_kind: Option<String>,
    /// Paging cursor: only rows with a smaller id (the previous page's last id).
    pub before_id: Option<i64>,
}

impl JournalFilter {
    pub fn ids(ids: impl IntoIterator<Item = i64>) -> Self {
        JournalFilter { ids: ids.into_iter().collect(), ..Default::default() }
    }

    /// Appends ` and …` conditions for every set field.
    pub(super) fn push_conditions(&self, sql: &mut QueryBuilder<'_, Postgres>) {
        if !self.ids.is_empty() {
            sql.push(" and id = any(").push_bind(self.ids.clone()).push(")");
        }
        if let Some(side) = self.side {
            sql.push(" and side = ").push_bind(Side::as_str(side));
        }
        if let Some(object) = &self.object_type {
            sql.push(" and object_type = ").push_bind(object.clone());
        }
        if let Some(record) = &self.record_id {
            sql.push(" and record_id = ").push_bind(record.clone());
        }
        self.push_statuses(sql);
        self.push_ranges(sql);
    }

    /// `processing` is not stored: it is a `pending` row under a live lease.
    fn push_statuses(&self, sql: &mut QueryBuilder<'_, Postgres>) {
        if self.statuses.is_empty() {
            return;
        }
        let processing = self.statuses.contains(&Status::Processing);
        let pending = self.statuses.contains(&Status::Pending);
        let mut stored: Vec<&str> = self
            .statuses
            .iter()
            .filter(|s| **s != Status::Processing)
            .map(|s| s.as_str())
            .collect();
        if processing && !pending {
            stored.push(Status::Pending.as_str());
        }
        sql.push(" and status = any(").push_bind(stored).push(")");
        match (pending, processing) {
            (true, false) => sql.push(format!(" and not ({LEASED})")),
            (false, true) => sql.push(format!(" and (status <> 'pending' or ({LEASED}))")),
            _ => sql,
        };
    }

    fn push_ranges(&self, sql: &mut QueryBuilder<'_, Postgres>) {
        if let Some(since) = self.since {
            sql.push(" and received_at >= ").push_bind(since);
        }
        if let Some(until) = self.until {
            sql.push(" and received_at < ").push_bind(until);
        }
        if let Some(kind) = &self.error_kind {
            sql.push(" and error_kind = ").push_bind(kind.clone());
        }
        if let Some(before) = self.before_id {
            sql.push(" and id < ").push_bind(before);
        }
    }
}

/// Rows matching `filter`, newest first, at most `limit`.
pub async fn query<'e>(
    executor: impl PgExecutor<'e>,
    filter: &JournalFilter,
    limit: i64,
) -> Result<Vec<JournalRow>, JournalError> {
    let mut sql =
        QueryBuilder::new(format!("select {ROW_COLUMNS} from hubsync.journal where true"));
    filter.push_conditions(&mut sql);
    sql.push(" order by id desc limit ").push_bind(limit);
    let rows: Vec<RawRow> = sql.build_query_as().fetch_all(executor).await?;
    convert(rows)
}

/// One processing attempt of a journal row and what it ended with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Attempt {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub worker: Option<String>,
    /// The status or reason it ended with: `applied`, `echo`, `retry_scheduled`, …
    pub outcome: String,
    pub error_kind: Option<String>,
    /// The reconciler's reason or the API's answer.
    pub message: Option<String>,
}

/// Every attempt of row `id`, oldest first.
pub async fn attempts<'e>(
    executor: impl PgExecutor<'e>,
    id: i64,
) -> Result<Vec<Attempt>, JournalError> {
    let rows = sqlx::query_as(
        "select attempt, at, worker, outcome, error_kind, message from hubsync.journal_attempts
         where journal_id = $1 order by id",
    )
    .bind(id)
    .fetch_all(executor)
    .await?;
    Ok(rows)
}
