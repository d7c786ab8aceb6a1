-- Claiming walks the unsettled rows in per-record order to find each record's first one;
-- a partial index keeps that walk to the unsettled rows alone, in order, with no sort.
create index if not exists journal_unsettled_by_record on hubsync.journal
    (connector, object_type, record_id, occurred_at, id)
    where status in ('pending', 'processing');
