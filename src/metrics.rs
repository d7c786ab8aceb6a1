//! Every metric hubsync exports, declared once here with its name and help text.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub const BUILD_INFO: &str = "hubsync_build_info";
pub const DATABASE_READY: &str = "hubsync_database_ready";
pub const READYZ_FAILURES: &str = "hubsync_readyz_failures_total";
pub const CONNECTOR_REQUESTS: &str = "hubsync_connector_requests_total";
pub const CONNECTOR_RETRIES: &str = "hubsync_connector_retries_total";
pub const CONNECTOR_RATE_LIMITED: &str = "hubsync_connector_rate_limited_total";
pub const CONNECTOR_OUT_OF_DAILY_BUDGET: &str = "hubsync_connector_out_of_daily_budget";
pub const CONNECTOR_DAILY_REMAINING: &str = "hubsync_connector_daily_remaining";
pub const CONNECTOR_ITEM_RESULTS: &str = "hubsync_connector_item_results_total";
pub const CONNECTOR_UNREADABLE: &str = "hubsync_connector_unreadable_answers_total";
pub const SWEEP_GONE_PAUSES: &str = "hubsync_sweep_gone_pauses_total";
pub const CONNECTOR_REAUTH: &str = "hubsync_connector_reauthentications_total";
pub const CONNECTOR_WEBHOOKS_REFUSED: &str = "hubsync_connector_webhooks_refused_total";
pub const CLOCK_SKEW: &str = "hubsync_connector_clock_skew_seconds";
pub const CHANGES_INGESTED: &str = "hubsync_changes_ingested_total";
pub const QUARANTINED: &str = "hubsync_quarantined_total";
pub const DECISIONS: &str = "hubsync_reconciler_decisions_total";
pub const CONFLICTS: &str = "hubsync_conflicts_total";
pub const WRITES: &str = "hubsync_writes_total";
pub const WRITE_BATCHES: &str = "hubsync_write_batches_total";
pub const FENCED_SETTLES: &str = "hubsync_fenced_settles_total";
pub const SYNC_LAG: &str = "hubsync_sync_lag_seconds";
pub const PAUSED: &str = "hubsync_sync_paused";
pub const JOURNAL_DEPTH: &str = "hubsync_journal_depth";
pub const OUTBOX_DEPTH: &str = "hubsync_outbox_depth";
pub const FAILURES_OPEN: &str = "hubsync_failures_open";
pub const OLDEST_PENDING_AGE: &str = "hubsync_oldest_pending_age_seconds";
pub const LEASE_RESCUED: &str = "hubsync_lease_rescued_total";
pub const DB_RECONNECTS: &str = "hubsync_db_reconnects_total";
pub const CREDENTIALS_REJECTED: &str = "hubsync_connector_credentials_rejected";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder on first call and returns the handle that renders it.
/// Later calls (several apps in one test process) share the same recorder.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let handle = match PrometheusBuilder::new().install_recorder() {
                Ok(handle) => handle,
                // another recorder is already global: render our own, unattached one
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            };
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_gauge!(BUILD_INFO, "Always 1; the version label names the running build.");
    metrics::describe_gauge!(
        DATABASE_READY,
        "1 when the database is reachable and fully migrated, else 0."
    );
    metrics::describe_counter!(READYZ_FAILURES, "Readiness probes answered 503, by reason.");
    metrics::describe_counter!(
        DB_RECONNECTS,
        "Times the database answered again after it had stopped answering (an outage ended)."
    );
    describe_connectors();
    describe_ingest();
    describe_sync();
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

fn describe_connectors() {
    metrics::describe_counter!(
        CONNECTOR_REQUESTS,
        "HTTP requests sent to a CRM API, by connector and outcome (ok, or the error kind)."
    );
    metrics::describe_counter!(
        CONNECTOR_RETRIES,
        "Connector requests retried after a failure, by connector and error kind."
    );
    metrics::describe_counter!(
        CONNECTOR_RATE_LIMITED,
        "429 answers and limit refusals received from a CRM API, by connector and policy."
    );
    metrics::describe_gauge!(
        CONNECTOR_OUT_OF_DAILY_BUDGET,
        "1 while a connector has stopped spending until its daily budget resets, else 0."
    );
    metrics::describe_gauge!(
        CONNECTOR_DAILY_REMAINING,
        "Requests the connector may still spend today (HubSpot daily budget, Salesforce share)."
    );
    metrics::describe_counter!(
        CONNECTOR_ITEM_RESULTS,
        "Per-item results of batch writes, by connector and outcome."
    );
    metrics::describe_counter!(
        CONNECTOR_UNREADABLE,
        "2xx answers whose body could not be read (an HTML page, truncated JSON, a read \
         without its results), retried and never taken as success, by connector."
    );
    metrics::describe_counter!(
        CONNECTOR_REAUTH,
        "Access tokens fetched again (refresh before expiry, or after a rejected token)."
    );
    metrics::describe_gauge!(
        CREDENTIALS_REJECTED,
        "1 while a connector's credentials are refused (token_revoked, credentials_rejected) \
         and its work waits, by connector and reason; else 0."
    );
    metrics::describe_gauge!(
        CLOCK_SKEW,
        "This host's clock minus the CRM's, from the Date headers of its answers, by connector \
         (positive: the host is ahead). hubsync compares CRM timestamps with the CRM's time."
    );
    metrics::describe_counter!(
        CONNECTOR_WEBHOOKS_REFUSED,
        "Webhook requests refused (unsigned, bad_signature, stale, replayed, v1_disabled, \
         too_large), by reason."
    );
}

fn describe_ingest() {
    metrics::describe_counter!(
        CHANGES_INGESTED,
        "Changes newly appended to the journal, by side, object and path (poll, webhook, backfill)."
    );
    metrics::describe_counter!(
        SWEEP_GONE_PAUSES,
        "Drift sweeps that found more linked records gone than ingest.sweep_max_gone_share \
         allows, paused their sync blocks and deleted nothing, by connector and object."
    );
    metrics::describe_counter!(
        QUARANTINED,
        "Signed webhook bodies or events, and polled records, that could not be journalled and \
         were quarantined for operators, by path (webhook, poll, backfill) and reason \
         (not_an_array, invalid_json, invalid_event, missing_object_id, missing_field, \
         bad_occurred_at, unknown_subscription_type, unstorable_value)."
    );
}

fn describe_sync() {
    metrics::describe_counter!(
        DECISIONS,
        "Journal rows the reconciler settled, by sync block and decision (queued, echo, stale, \
         unchanged, out_of_scope, conflict_held, …)."
    );
    metrics::describe_counter!(
        CONFLICTS,
        "Same-field conflicts, by sync block and outcome (hubspot, external: the winner; held)."
    );
    metrics::describe_counter!(
        WRITES,
        "Outbox items settled by the writer, by target side, object, operation and outcome \
         (done, retry, failed, dead)."
    );
    metrics::describe_counter!(
        FENCED_SETTLES,
        "Writer results dropped at settling because another worker had rescued the item \
         after this one's lease ran out (a stalled worker fenced off)."
    );
    metrics::describe_counter!(
        WRITE_BATCHES,
        "Batches the writer sent, by target side and object."
    );
    metrics::describe_histogram!(
        SYNC_LAG,
        "Seconds from a change at its source to its write landing on the other side, by target side."
    );
    metrics::describe_gauge!(PAUSED, "1 while a sync block's writes are paused, by sync block.");
    metrics::describe_gauge!(JOURNAL_DEPTH, "Journal rows pending or processing.");
    metrics::describe_gauge!(OUTBOX_DEPTH, "Outbox items pending or processing.");
    metrics::describe_gauge!(
        FAILURES_OPEN,
        "Journal rows failed or dead (a failed write fails its row too): each waits for an operator \
         (retry or skip)."
    );
    metrics::describe_gauge!(
        OLDEST_PENDING_AGE,
        "Age in seconds of the oldest journal row still pending."
    );
    metrics::describe_counter!(
        LEASE_RESCUED,
        "Journal rows and outbox items claimed again after their holder's lease ran out, by \
         queue and outcome (reclaimed, or dead_lettered past the maximum attempts)."
    );
}

/// Counts a claim's rescued rows of `queue` (journal, outbox): `dead` of `rescued` were
/// dead-lettered past their maximum attempts, the rest claimed again.
pub fn count_rescues(queue: &'static str, rescued: usize, dead: usize) {
    if rescued == 0 {
        return;
    }
    let reclaimed = rescued.saturating_sub(dead) as u64;
    metrics::counter!(LEASE_RESCUED, "queue" => queue, "outcome" => "reclaimed")
        .increment(reclaimed);
    metrics::counter!(LEASE_RESCUED, "queue" => queue, "outcome" => "dead_lettered")
        .increment(dead as u64);
}
