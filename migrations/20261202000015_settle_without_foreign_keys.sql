-- Writing a synced record's state and queueing a write each fired a foreign-key check per
-- row: a lookup and a share lock of the referenced link or journal row, which also writes
-- WAL. In the unthrottled bench that was a twentieth of Postgres's time. The two keys go;
-- what they did on delete is done by the statements that delete:
-- - deleting a link deletes its record state (`links::unlink`, `links::relink`);
-- - pruning journal rows clears the outbox's references to them (`journal::retention`).
-- A link id is never reused, so no state can attach to a later link.
do $drop$
declare
    fk record;
begin
    for fk in
        select c.conname, c.conrelid::regclass as tbl
        from pg_constraint c
        where c.contype = 'f'
          and ((c.conrelid = 'hubsync.record_state'::regclass
                and c.confrelid = 'hubsync.links'::regclass)
            or (c.conrelid = 'hubsync.outbox'::regclass
                and c.confrelid = 'hubsync.journal'::regclass))
    loop
        execute format('alter table %s drop constraint %I', fk.tbl, fk.conname);
    end loop;
end $drop$;
