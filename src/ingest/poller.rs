//! A poller: reads one (connector, object)'s changes page by page and appends each page to
//! the journal in the same transaction that moves its cursor, so a crash between the read
//! and the commit loses nothing and records nothing twice. A record the journal cannot
//! store is quarantined in that transaction, so it never holds the feed back.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};
use tokio_util::sync::CancellationToken;

use super::error::IngestError;
use super::settle_hook::{self, PreSettle};
use crate::config::Side;
use crate::connector::{self, ChangeCursor, ChangePage, Connector};
use crate::db::lock::PollerLock;
use crate::journal::{Arrival, ChangeKind, Doorbell, NewChange, PropertyChange};
use crate::metrics::CHANGES_INGESTED;
use crate::rules::feeds::{PollerSpec, change_key, record_properties};
use crate::store;
use crate::store::cursors::{self as cursor, Cursor, CursorKey};

/// Changes read before one commit. Several pages are journalled in one transaction; the
/// bound keeps a backfill's memory flat.
pub const COMMIT_TARGET: usize = 1000;

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PollOutcome {
    pub read: usize,
    pub appended: u64,
    /// The source has more changes right now: poll again without waiting.
    pub more: bool,
}

pub struct Poller {
    spec: PollerSpec,
    api: Arc<dyn Connector>,
    pool: PgPool,
    doorbell: Doorbell,
    /// Settles echoes and unchanged reads as they are journalled; `None` journals every
    /// change pending.
    presettle: Option<Arc<dyn PreSettle>>,
}

impl Poller {
    pub fn new(
        spec: PollerSpec,
        api: Arc<dyn Connector>,
        pool: PgPool,
        doorbell: Doorbell,
    ) -> Self {
        Poller { spec, api, pool, doorbell, presettle: None }
    }

    /// Journals the changes `presettle` (the reconciler's) finds settled as already settled.
    pub fn with_presettle(mut self, presettle: Arc<dyn PreSettle>) -> Self {
        self.presettle = Some(presettle);
        self
    }

    fn key(&self, stream: &'static str) -> CursorKey<'_> {
        CursorKey { connector: &self.spec.connector, object_type: &self.spec.object, stream }
    }

    /// Reads what follows the stored cursor: the connector's pages, one after another, until
    /// they hold [`COMMIT_TARGET`] changes or the feed is caught up. They are committed
    /// together, so a feed of small pages (HubSpot's 200-result searches, the empty page that
    /// ends a run of one timestamp) costs one transaction per thousand changes, not per page.
    /// Nothing is written yet.
    pub async fn read_page(&self) -> Result<ChangePage, IngestError> {
        let stored = cursor::load(&self.pool, self.key("changes")).await?;
        let position = match &stored.token {
            Some(token) => ChangeCursor::decode(token)
                .map_err(|err| IngestError::Cursor(self.spec.connector.clone(), err))?,
            None => ChangeCursor::start(),
        };
        let mut gathered = self.read_after(&position).await?;
        while gathered.more && gathered.changes.len() < COMMIT_TARGET {
            let page = self.read_after(&gathered.next).await?;
            gathered.changes.extend(page.changes);
            (gathered.next, gathered.more) = (page.next, page.more);
        }
        Ok(gathered)
    }

    async fn read_after(&self, position: &ChangeCursor) -> Result<ChangePage, IngestError> {
        Ok(self.api.read_changes(&self.spec.object, position, &self.spec.fields).await?)
    }

    /// Appends the page and moves the cursor past it, in one transaction.
    pub async fn commit_page(&self, page: &ChangePage) -> Result<u64, IngestError> {
        self.commit_on(None, page).await
    }

    /// A transaction on `held` (the poller lock's connection), else on the pool.
    async fn begin<'c>(
        &self,
        held: Option<&'c mut PgConnection>,
    ) -> Result<Transaction<'c, Postgres>, sqlx::Error> {
        match held {
            Some(conn) => conn.begin().await,
            None => self.pool.begin().await,
        }
    }

    /// [`Poller::commit_page`] in a transaction on `held`, when given.
    async fn commit_on(
        &self,
        held: Option<&mut PgConnection>,
        page: &ChangePage,
    ) -> Result<u64, IngestError> {
        let changes: Vec<NewChange> = page.changes.iter().map(|c| self.change(c)).collect();
        // a record the journal cannot store is quarantined, not retried forever
        let (mut changes, poison) = super::quarantine::split_unstorable(changes);
        self.mark_restores(&mut changes).await?;
        let next = Cursor {
            timestamp: DateTime::from_timestamp_millis(page.next.modified_ms).unwrap_or_default(),
            id: page.next.id.clone(),
            token: Some(page.next.encode()),
        };
        let settled = settle_hook::settled(self.presettle.as_deref(), &self.pool, &changes).await;
        let mut tx = self.begin(held).await?;
        let appended = store::journal::append_settled(&mut *tx, &changes, &settled).await?;
        super::quarantine::keep_changes(&mut tx, "poll", &poison).await?;
        cursor::advance(&mut *tx, self.key("changes"), &next).await?;
        if !changes.is_empty() {
            crate::failpoint::hit("poller::after_fetch_before_commit").await;
        }
        tx.commit().await?;
        self.announce(appended, Arrival::Poll);
        Ok(appended)
    }

    /// A record seen again after its last journalled change was a delete has been restored
    /// (undeleted from the recycle bin, or un-archived): journal it as a restore.
    async fn mark_restores(&self, changes: &mut [NewChange]) -> Result<(), IngestError> {
        let upserts: Vec<String> = changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Upsert)
            .map(|c| c.record_id.clone())
            .collect();
        if upserts.is_empty() {
            return Ok(());
        }
        let (connector, object) = (&self.spec.connector, &self.spec.object);
        let deleted = store::journal::last_deleted(&self.pool, connector, object, &upserts).await?;
        for change in changes.iter_mut().filter(|c| deleted.contains(&c.record_id)) {
            if change.kind == ChangeKind::Upsert {
                change.kind = ChangeKind::Restore;
                let (id, at) = (&change.record_id, change.occurred_at);
                change.dedup_key = change_key(&self.spec, id, &change.kind, at, &change.properties);
            }
        }
        Ok(())
    }

    /// One step: read a page and commit it.
    #[tracing::instrument(skip(self), fields(connector = %self.spec.connector, object = %self.spec.object))]
    pub async fn run_once(&self) -> Result<PollOutcome, IngestError> {
        self.step(None).await
    }

    /// One step, committed on `held` when given.
    async fn step(&self, held: Option<&mut PgConnection>) -> Result<PollOutcome, IngestError> {
        let page = self.read_page().await?;
        let appended = self.commit_on(held, &page).await?;
        Ok(PollOutcome { read: page.changes.len(), appended, more: page.more })
    }

    /// Journals records deleted since the `deleted` cursor: the safety net for deletes the
    /// change feed does not show (HubSpot archiving does not bump the last-modified date).
    pub async fn poll_deletes(&self) -> Result<u64, IngestError> {
        self.deletes_on(None).await
    }

    /// [`Poller::poll_deletes`], committed on `held` when given.
    async fn deletes_on(&self, held: Option<&mut PgConnection>) -> Result<u64, IngestError> {
        let stored = cursor::load(&self.pool, self.key("deleted")).await?;
        let since = if stored.timestamp == DateTime::<Utc>::UNIX_EPOCH {
            // the first look goes back two weeks: Salesforce keeps no more (older asks get
            // DELETES_PURGED), and deletes older than hubsync were never synced anyway
            Utc::now() - chrono::Duration::days(14)
        } else {
            stored.timestamp
        };
        let deleted = self.api.read_deletes(&self.spec.object, since).await?;
        let Some(latest) = deleted.iter().map(|d| d.deleted_at).max() else { return Ok(0) };
        let changes: Vec<NewChange> = deleted.iter().map(|d| self.deletion(d)).collect();
        let mut tx = self.begin(held).await?;
        let appended = store::journal::append(&mut *tx, &changes).await?;
        let next = Cursor { timestamp: latest, id: String::new(), token: None };
        cursor::advance(&mut *tx, self.key("deleted"), &next).await?;
        tx.commit().await?;
        self.announce(appended, Arrival::Poll);
        Ok(appended)
    }

    fn announce(&self, appended: u64, path: Arrival) {
        announce(&self.spec, &self.doorbell, appended, path);
    }

    fn change(&self, change: &connector::Change) -> NewChange {
        let (kind, properties) = match &change.kind {
            connector::ChangeKind::Upsert => (ChangeKind::Upsert, self.properties(change)),
            connector::ChangeKind::Delete => (ChangeKind::Delete, BTreeMap::new()),
            connector::ChangeKind::Merge { into } => {
                (ChangeKind::Merge { into: into.clone() }, BTreeMap::new())
            }
        };
        self.spec.observed(&change.id, kind, properties, change.modified_at, Arrival::Poll)
    }

    /// A delete, or the merge it was: keyed as the change feed keys it, so a delete seen
    /// by both paths is journalled once.
    fn deletion(&self, deleted: &connector::Deleted) -> NewChange {
        let kind = match &deleted.merged_into {
            Some(into) => ChangeKind::Merge { into: into.clone() },
            None => ChangeKind::Delete,
        };
        self.spec.observed(&deleted.id, kind, BTreeMap::new(), deleted.deleted_at, Arrival::Poll)
    }

    fn properties(&self, change: &connector::Change) -> BTreeMap<String, PropertyChange> {
        change.record.as_ref().map(record_properties).unwrap_or_default()
    }

    pub fn spec(&self) -> &PollerSpec {
        &self.spec
    }

    /// Polls until `shutdown`: while this replica holds the poller's lock, drains the change
    /// feed page by page, checks deletes, then sleeps the interval.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut lock = PollerLock::new(self.pool.clone(), &self.spec.connector, &self.spec.object);
        while !shutdown.is_cancelled() {
            // a poll cut short commits nothing: its page is read again next time
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.poll_while_held(&mut lock, &shutdown) => {}
            }
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(self.spec.interval) => {}
            }
        }
        lock.release().await;
    }

    /// Drains the feed, then checks deletes. The lock is checked before every read, and
    /// every page commits on the lock's own connection: once another replica has taken
    /// over, this one neither reads nor commits again.
    async fn poll_while_held(&self, lock: &mut PollerLock, shutdown: &CancellationToken) {
        loop {
            if !lock.hold().await {
                return;
            }
            match self.step(lock.connection()).await {
                Ok(outcome) if outcome.more && !shutdown.is_cancelled() => continue,
                Ok(_) => break,
                Err(err) => {
                    tracing::warn!(error = %crate::error_kind::report(&err), kind = err.kind().as_str(), "poll failed; will retry");
                    return;
                }
            }
        }
        if !lock.hold().await {
            return;
        }
        if let Err(err) = self.deletes_on(lock.connection()).await {
            tracing::warn!(error = %crate::error_kind::report(&err), "delete poll failed; will retry");
        }
    }
}

/// Wakes consumers and counts newly journalled changes.
pub(super) fn announce(spec: &PollerSpec, doorbell: &Doorbell, appended: u64, path: Arrival) {
    if appended == 0 {
        return;
    }
    doorbell.ring();
    let labels = [
        ("side", Side::as_str(spec.side).to_string()),
        ("object", spec.object.clone()),
        ("path", path.as_str().to_string()),
    ];
    metrics::counter!(CHANGES_INGESTED, &labels).increment(appended);
}
