//! Backfill: every live record of an object read through the list endpoints into the
//! journal, page by page, each page committed with its checkpoint so a killed backfill
//! resumes where it stopped. Its dedup keys are the pollers', so running it beside
//! `hubsync run` journals nothing twice.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::error::IngestError;
use super::poller::announce;
use crate::connector::{Connector, Record};
use crate::journal::{Arrival, ChangeKind, Doorbell, NewChange};
use crate::rules::feeds::{PollerSpec, record_properties};
use crate::store;

/// Where a backfill stands, as [`store::cursors`] keeps it (stream `backfill`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkpoint {
    NotStarted,
    /// Resume with this page token.
    At(String),
    Complete,
}

/// What one page did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageOutcome {
    pub read: usize,
    pub appended: u64,
    pub done: bool,
}

pub struct Backfill {
    spec: PollerSpec,
    api: Arc<dyn Connector>,
    pool: PgPool,
    doorbell: Doorbell,
    /// Only records modified at or after this time are journalled.
    since: Option<DateTime<Utc>>,
}

impl Backfill {
    pub fn new(
        spec: PollerSpec,
        api: Arc<dyn Connector>,
        pool: PgPool,
        since: Option<DateTime<Utc>>,
    ) -> Self {
        let doorbell = Doorbell::new(pool.clone());
        Backfill { spec, api, pool, doorbell, since }
    }

    pub fn spec(&self) -> &PollerSpec {
        &self.spec
    }

    pub async fn checkpoint(&self) -> Result<Checkpoint, IngestError> {
        let (connector, object) = (&self.spec.connector, &self.spec.object);
        let row = store::cursors::backfill_checkpoint(&self.pool, connector, object).await?;
        Ok(match row {
            None => Checkpoint::NotStarted,
            Some((state, _)) if state == "complete" => Checkpoint::Complete,
            Some((_, Some(token))) => Checkpoint::At(token),
            Some((_, None)) => Checkpoint::NotStarted,
        })
    }

    /// Records read by the committed pages so far, over every run since the last restart.
    pub async fn records_read(&self) -> Result<u64, IngestError> {
        let (connector, object) = (&self.spec.connector, &self.spec.object);
        let read = store::cursors::backfill_records_read(&self.pool, connector, object).await?;
        Ok(read.map_or(0, |n| n.max(0) as u64))
    }

    /// How many records the source says it holds, for the progress bar's ETA; `None` when
    /// it cannot say, or when `--since` makes the total meaningless.
    pub async fn expected_total(&self) -> Option<u64> {
        if self.since.is_some() {
            return None;
        }
        match self.api.count(&self.spec.object).await {
            Ok(total) => total,
            Err(err) => {
                tracing::debug!(error = %err, "no record count; progress shows no ETA");
                None
            }
        }
    }

    /// Forgets the checkpoint, so the next page starts from the beginning.
    pub async fn restart(&self) -> Result<(), IngestError> {
        let (connector, object) = (&self.spec.connector, &self.spec.object);
        store::cursors::forget_backfill(&self.pool, connector, object).await?;
        Ok(())
    }

    /// Reads the page after the checkpoint and commits it with the next checkpoint.
    pub async fn next_page(&self) -> Result<PageOutcome, IngestError> {
        let token = match self.checkpoint().await? {
            Checkpoint::Complete => return Ok(PageOutcome { read: 0, appended: 0, done: true }),
            Checkpoint::At(token) => Some(token),
            Checkpoint::NotStarted => None,
        };
        let page =
            self.api.read_all(&self.spec.object, token.as_deref(), &self.spec.fields).await?;
        let changes: Vec<NewChange> = page
            .records
            .iter()
            .filter(|r| self.since.is_none_or(|since| r.modified_at >= since))
            .map(|r| self.change(r))
            .collect();
        let (changes, poison) = super::quarantine::split_unstorable(changes);
        let mut tx = self.pool.begin().await?;
        let appended = store::journal::append(&mut *tx, &changes).await?;
        super::quarantine::keep_changes(&mut tx, "backfill", &poison).await?;
        self.save(&mut tx, page.next.as_deref(), page.records.len()).await?;
        tx.commit().await?;
        announce(&self.spec, &self.doorbell, appended, Arrival::Backfill);
        Ok(PageOutcome { read: page.records.len(), appended, done: page.next.is_none() })
    }

    async fn save(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        next: Option<&str>,
        read: usize,
    ) -> Result<(), IngestError> {
        let state = if next.is_some() { "running" } else { "complete" };
        let (connector, object) = (&self.spec.connector, &self.spec.object);
        store::cursors::save_backfill(&mut **tx, connector, object, state, next, read as i64)
            .await?;
        Ok(())
    }

    fn change(&self, record: &Record) -> NewChange {
        let properties = record_properties(record);
        let at = record.modified_at;
        self.spec.observed(&record.id, ChangeKind::Upsert, properties, at, Arrival::Backfill)
    }
}
