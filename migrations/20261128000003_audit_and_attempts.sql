-- Every processing attempt of a journal row, with what the API or the reconciler answered,
-- so `hubsync journal show` can tell the whole story of a change.
create table if not exists hubsync.journal_attempts (
    id          bigserial primary key,
    journal_id  bigint not null references hubsync.journal (id) on delete cascade,
    attempt     integer not null,
    at          timestamptz not null default now(),
    worker      text,
    outcome     text not null,
    error_kind  text,
    message     text
);
create index if not exists journal_attempts_row on hubsync.journal_attempts (journal_id, id);

-- Every operator action: who did what to which rows, written in the same transaction as
-- its effect.
create table if not exists hubsync.audit (
    id      bigserial primary key,
    at      timestamptz not null default now(),
    actor   text not null,
    action  text not null,
    target  jsonb not null,
    detail  jsonb not null default '{}'::jsonb
);
create index if not exists audit_at on hubsync.audit (at);
