-- As for the journal: a claimed outbox item keeps its `pending` status and carries only its
-- lease (`claimed_by`, `lease_until`), reading as `processing` while the lease is live. The
-- claim changes no indexed column (not even updated_at, which now dates the last change of
-- status), so it is an in-place (HOT) update with room on the page for the new version.
update hubsync.outbox set status = 'pending' where status = 'processing';
alter table hubsync.outbox set (fillfactor = 50);
