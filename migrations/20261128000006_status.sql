-- Operator status: the rate budget each connector has left, published by the daemon so
-- `hubsync status` (another process) can show it, and indexes that keep status fast on a
-- journal of millions of rows.
create table if not exists hubsync.connector_budget (
    connector           text primary key,
    -- null: no per-second limit
    requests_per_second double precision,
    daily_remaining     bigint,
    paused_until        timestamptz,
    updated_at          timestamptz not null default now()
);

-- lag and queue depth per (connector, object): an index-only min() and count()
create index if not exists journal_pending_object on hubsync.journal
    (connector, object_type, received_at) where status in ('pending', 'processing');
-- failure counts by error kind per (connector, object)
create index if not exists journal_failures on hubsync.journal
    (connector, object_type, error_kind) where status in ('failed', 'dead');
-- outbox depth per sync block
create index if not exists outbox_pending_sync on hubsync.outbox (sync_name)
    where status in ('pending', 'processing');
-- failure counts by error kind per sync block
create index if not exists outbox_failures on hubsync.outbox (sync_name, error_kind)
    where status in ('failed', 'dead');
