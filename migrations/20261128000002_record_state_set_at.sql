-- record_state keeps two times per value: when it was edited at its source (value_at, what
-- newest_wins compares) and when it landed on this side (set_at, to tell an edit that our own
-- write overwrote from a stale one).
alter table hubsync.record_state
    add column if not exists set_at timestamptz not null default now();

-- Links are looked up by either id; a merge redirects a link to the surviving record.
alter table hubsync.links
    add column if not exists merged_from text[] not null default '{}';

-- Signed webhook bodies that could not be parsed: kept for operators, never lost.
create table if not exists hubsync.webhook_quarantine (
    id          bigserial primary key,
    received_at timestamptz not null default now(),
    source      text not null,
    reason      text not null,
    body        bytea not null
);
