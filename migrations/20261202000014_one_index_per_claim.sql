-- Claims find their queues through one partial index each, whatever the statistics say.
--
-- `journal_pending_object` (connector, object_type, received_at) repeated the leading columns
-- of `journal_unsettled_by_record`: on a young journal the claim's per-record probe was
-- planned through it, a walk of every unsettled row of the object for each candidate.
-- `outbox_pending_sync` let the outbox claim combine bitmaps and sort the whole queue instead
-- of walking `outbox_claim` in order. Status reads depth and age from the remaining indexes.
drop index if exists hubsync.journal_pending_object;
drop index if exists hubsync.outbox_pending_sync;

-- The outbox's status index serves settled items only (recent outcomes, the blast-radius
-- guard). Covering `pending` too, it drew claims into bitmap scans of every entry an item
-- ever had while pending: without a vacuum those stale entries stay, and a bitmap scan,
-- unlike an index walk, never marks them dead.
drop index if exists hubsync.outbox_status;
create index if not exists outbox_status on hubsync.outbox (status, updated_at)
    where status not in ('pending', 'processing');
