-- record_state becomes one row per linked pair and side, holding every field in one JSON
-- object: {"<field>": {"value": …, "value_at": …, "set_at": …, "ours": bool, "replaced": …}}.
-- A synced record used to cost a row per field and side (six index entries and six heap
-- tuples for three fields); it now costs two rows, whatever the number of fields.
-- Idempotent: it converts only a record_state that still has a row per field.

-- values were stored as JSON text, with plain text as the fallback for anything else
create function pg_temp.stored_value(t text) returns jsonb language plpgsql immutable as $fn$
begin
    return t::jsonb;
exception when others then
    return to_jsonb(t);
end $fn$;

do $convert$
begin
    if not exists (select 1 from information_schema.columns
                   where table_schema = 'hubsync' and table_name = 'record_state'
                     and column_name = 'field') then
        return;
    end if;
    create table hubsync.record_state_by_side (
        link_id     bigint not null references hubsync.links (id) on delete cascade,
        side        text not null check (side in ('hubspot', 'external')),
        fields      jsonb not null default '{}'::jsonb,
        updated_at  timestamptz not null default now(),
        primary key (link_id, side)
    );
    insert into hubsync.record_state_by_side (link_id, side, fields, updated_at)
    select link_id, side,
           jsonb_object_agg(field, jsonb_build_object(
               'value', coalesce(pg_temp.stored_value(value), 'null'::jsonb),
               'value_at', value_at, 'set_at', set_at, 'ours', written_by_hubsync,
               'replaced', coalesce(pg_temp.stored_value(replaced), 'null'::jsonb))),
           max(updated_at)
    from hubsync.record_state
    group by link_id, side;
    drop table hubsync.record_state;
    alter table hubsync.record_state_by_side rename to record_state;
    alter table hubsync.record_state
        rename constraint record_state_by_side_pkey to record_state_pkey;
end $convert$;
