-- A backfill's checkpoint counts the records read before it, so a resumed backfill's
-- progress and ETA start where the stopped one left off rather than at zero.
alter table hubsync.cursors add column if not exists records_read bigint not null default 0;
