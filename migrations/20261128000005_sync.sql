-- The reconciler and the writer: what an outbox item needs to settle itself, the conflicts
-- queue, and objects paused by the blast-radius guard or an operator.

-- The record on the other side of a write (its source), so a create can be linked to it;
-- the record_state entries to save when the write lands; and the API's last answer.
alter table hubsync.outbox add column if not exists source_id text;
alter table hubsync.outbox add column if not exists state jsonb not null default '[]'::jsonb;
alter table hubsync.outbox add column if not exists last_result jsonb;
-- what the reconciler decided, for the record timeline: create, update, archive, associate
alter table hubsync.outbox add column if not exists intent text not null default 'update';
create index if not exists outbox_source on hubsync.outbox (sync_name, source_id)
    where status in ('pending', 'processing');
create index if not exists outbox_target on hubsync.outbox (sync_name, target_side, target_id)
    where status in ('pending', 'processing');
create index if not exists outbox_unique on hubsync.outbox (sync_name, target_side, unique_value)
    where status in ('pending', 'processing');

-- Every same-field conflict, with both values and what became of it. A policy-decided
-- conflict is written already settled ('auto'); a `hold` conflict stays 'open' until an
-- operator resolves it.
create table if not exists hubsync.conflicts (
    id              bigserial primary key,
    sync_name       text not null,
    link_id         bigint references hubsync.links (id) on delete set null,
    hubspot_id      text,
    external_id     text,
    hubspot_field   text not null,
    external_field  text not null,
    -- each side's value in its own terms, and translated into the other side's terms
    hubspot_value   text,
    external_value  text,
    hubspot_as_external text,
    external_as_hubspot text,
    hubspot_at      timestamptz,
    external_at     timestamptz,
    policy          text not null,
    -- 'hubspot' or 'external'; null while held
    winner          text check (winner in ('hubspot', 'external')),
    status          text not null check (status in ('auto', 'open', 'resolved')),
    journal_id      bigint references hubsync.journal (id) on delete set null,
    created_at      timestamptz not null default now(),
    resolved_at     timestamptz,
    resolved_by     text,
    resolution      text
);
create index if not exists conflicts_status on hubsync.conflicts (status, id);
create index if not exists conflicts_pair on hubsync.conflicts (sync_name, hubspot_id, external_id);

-- Sync blocks whose writes are stopped: by the blast-radius guard or an operator.
create table if not exists hubsync.paused (
    sync_name   text primary key,
    reason      text not null,
    detail      jsonb not null default '{}'::jsonb,
    paused_at   timestamptz not null default now(),
    paused_by   text not null
);
