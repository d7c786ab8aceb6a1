-- A poll cursor also keeps the connector's own paging state (an opaque token), committed
-- with the position it belongs to.
alter table hubsync.cursors add column if not exists token text;
