-- The journal and the outbox fill in bursts (a backfill, a bulk edit): refresh their planner
-- statistics sooner than the defaults would, so claims keep using the right indexes.
alter table hubsync.journal set (autovacuum_analyze_scale_factor = 0.02,
                                 autovacuum_analyze_threshold = 1000);
alter table hubsync.outbox set (autovacuum_analyze_scale_factor = 0.02,
                                autovacuum_analyze_threshold = 1000);
