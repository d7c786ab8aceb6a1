-- What a field held before hubsync's write replaced it. A later read that still shows that
-- value (a poll taken before the write) is not a new edit, so it must not start a conflict.
alter table hubsync.record_state add column if not exists replaced text;
