-- A claimed journal row keeps its `pending` status and carries only its lease
-- (`claimed_by`, `lease_until`); it reads as `processing` while the lease is live. A claim
-- then changes no indexed column, so Postgres updates the row in place (a HOT update) without
-- adding an entry to each of the journal's indexes; the free space per page left by the lower
-- fill factor is where those in-place versions go.
update hubsync.journal set status = 'pending' where status = 'processing';
alter table hubsync.journal set (fillfactor = 50);
