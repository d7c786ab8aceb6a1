-- The tables of design.md: journal, cursors, links, record_state and outbox.
-- Everything lives in the `hubsync` schema, which the migrator creates before it runs.

create table if not exists hubsync.journal (
    id              bigserial primary key,
    -- which side observed the change: the HubSpot portal or the external CRM
    side            text not null check (side in ('hubspot', 'external')),
    connector       text not null,
    object_type     text not null,
    record_id       text not null,
    kind            text not null check (kind in
                        ('upsert', 'delete', 'merge', 'restore',
                         'association_added', 'association_removed')),
    -- for merges: the id of the surviving record
    merged_into     text,
    -- changed properties: {"name": {"value": "...", "timestamp": "..."}}
    properties      jsonb not null default '{}'::jsonb,
    occurred_at     timestamptz not null,
    received_at     timestamptz not null default now(),
    source          text not null check (source in ('poll', 'webhook', 'backfill', 'sweep', 'operator')),
    dedup_key       text not null,
    status          text not null default 'pending' check (status in
                        ('pending', 'processing', 'applied', 'echo', 'stale', 'skipped',
                         'conflict', 'failed', 'dead')),
    attempts        integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    claimed_by      text,
    lease_until     timestamptz,
    error_kind      text,
    last_error      text,
    reason          text,
    updated_at      timestamptz not null default now()
);

create unique index if not exists journal_dedup_key on hubsync.journal (dedup_key);
-- claiming pending work in per-record order
create index if not exists journal_pending on hubsync.journal (next_attempt_at, id)
    where status in ('pending', 'processing');
create index if not exists journal_record on hubsync.journal
    (connector, object_type, record_id, occurred_at, id);
-- operator queries and retention
create index if not exists journal_status_received on hubsync.journal (status, received_at);
create index if not exists journal_error_kind on hubsync.journal (error_kind, received_at)
    where error_kind is not null;

create table if not exists hubsync.cursors (
    connector   text not null,
    object_type text not null,
    -- a poller may keep several streams per object: changes, archived, deleted
    stream      text not null default 'changes',
    -- (timestamp, id) position; compared as a pair so it only moves forward
    position_ts timestamptz not null default 'epoch',
    position_id text not null default '',
    updated_at  timestamptz not null default now(),
    primary key (connector, object_type, stream)
);

create table if not exists hubsync.links (
    id          bigserial primary key,
    -- the [[sync]] block this pair belongs to
    sync_name   text not null,
    hubspot_id  text not null,
    external_id text not null,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

create unique index if not exists links_hubspot on hubsync.links (sync_name, hubspot_id);
create unique index if not exists links_external on hubsync.links (sync_name, external_id);

create table if not exists hubsync.record_state (
    link_id     bigint not null references hubsync.links (id) on delete cascade,
    side        text not null check (side in ('hubspot', 'external')),
    field       text not null,
    value       text,
    -- the source timestamp of the value, to drop stale changes
    value_at    timestamptz not null,
    -- true when hubsync itself wrote this value: seeing it again is an echo
    written_by_hubsync boolean not null default false,
    updated_at  timestamptz not null default now(),
    primary key (link_id, side, field)
);

create table if not exists hubsync.outbox (
    id              bigserial primary key,
    sync_name       text not null,
    target_side     text not null check (target_side in ('hubspot', 'external')),
    connector       text not null,
    object_type     text not null,
    operation       text not null check (operation in
                        ('upsert', 'update', 'archive', 'associate', 'dissociate')),
    -- 0 objects, 1 associations, 2 engagements: lower goes first
    priority        smallint not null default 0,
    target_id       text,
    unique_property text,
    unique_value    text,
    properties      jsonb not null default '{}'::jsonb,
    journal_id      bigint references hubsync.journal (id) on delete set null,
    depends_on      bigint[] not null default '{}',
    status          text not null default 'pending' check (status in
                        ('pending', 'processing', 'done', 'failed', 'dead', 'held')),
    attempts        integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    claimed_by      text,
    lease_until     timestamptz,
    error_kind      text,
    last_error      text,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);

create index if not exists outbox_claim on hubsync.outbox (priority, next_attempt_at, id)
    where status in ('pending', 'processing');
create index if not exists outbox_journal on hubsync.outbox (journal_id);
create index if not exists outbox_status on hubsync.outbox (status, updated_at);
