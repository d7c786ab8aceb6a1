-- No query reaches the outbox by target id or by unique value through an index: the
-- reconciler's in-flight check reads every queued item (through any index on the queue),
-- and the record timeline filters items of every status. `outbox_target` and
-- `outbox_unique` only cost two index entries for every item queued.
drop index if exists hubsync.outbox_target;
drop index if exists hubsync.outbox_unique;
