-- hubsync's database roles: an owner that runs migrations, and a runtime role for the daemon
-- with data access (DML) in the `hubsync` schema and nothing else.
--
-- Run it with psql, connected to hubsync's database as a superuser (or a role with
-- CREATEROLE that owns that database). Safe to run again. Every psql variable is optional:
--
--   psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -f docker/postgres-init/01-roles.sql \
--        -v owner=hubsync_owner -v runtime=hubsync_app \
--        -v statement_timeout=30s -v lock_timeout=10s -v idle_in_transaction_session_timeout=60s
--
-- Passwords come from the environment, never the command line: HUBSYNC_OWNER_PASSWORD and
-- HUBSYNC_RUNTIME_PASSWORD (psql 15's \getenv); a role without one can only log in where
-- pg_hba.conf trusts it or by another method (peer, certificates).
--
-- docker-compose.yml mounts this file into /docker-entrypoint-initdb.d, which runs it once,
-- when the data volume is first initialised.

\set ON_ERROR_STOP on
\if :{?owner} \else \set owner hubsync_owner \endif
\if :{?runtime} \else \set runtime hubsync_app \endif
\if :{?statement_timeout} \else \set statement_timeout 30s \endif
\if :{?lock_timeout} \else \set lock_timeout 10s \endif
\if :{?idle_in_transaction_session_timeout} \else \set idle_in_transaction_session_timeout 60s \endif
\getenv owner_password HUBSYNC_OWNER_PASSWORD
\getenv runtime_password HUBSYNC_RUNTIME_PASSWORD

-- the roles, created once; neither may create roles or databases, nor bypass row security
select format('create role %I login nosuperuser nocreatedb nocreaterole noinherit', name)
  from (values (:'owner'), (:'runtime')) as r (name)
 where not exists (select from pg_roles where rolname = name)
\gexec

\if :{?owner_password}
select format('alter role %I password %L', :'owner', :'owner_password') \gexec
\endif
\if :{?runtime_password}
select format('alter role %I password %L', :'runtime', :'runtime_password') \gexec
\endif

-- the owner creates and alters hubsync's schema (`hubsync migrate`); nobody else creates
-- anything in this database, temporary tables included (migrations use them)
select format('revoke create, temporary on database %I from public', current_database()) \gexec
select format('grant connect, create, temporary on database %I to %I', current_database(), :'owner') \gexec
select format('grant connect on database %I to %I', current_database(), :'runtime') \gexec
revoke create on schema public from public;
create schema if not exists hubsync;
select format('alter schema hubsync owner to %I', :'owner') \gexec

-- the runtime role reads and writes rows: no TRUNCATE, REFERENCES or TRIGGER, and no DDL
select format('grant usage on schema hubsync to %I', :'runtime') \gexec
select format('grant select, insert, update, delete on all tables in schema hubsync to %I',
              :'runtime') \gexec
select format('grant usage, select on all sequences in schema hubsync to %I', :'runtime') \gexec
select format('alter default privileges for role %I in schema hubsync
                   grant select, insert, update, delete on tables to %I', :'owner', :'runtime')
\gexec
select format('alter default privileges for role %I in schema hubsync
                   grant usage, select on sequences to %I', :'owner', :'runtime')
\gexec

-- a runaway statement, a lock queue or a transaction left open never holds the database
select format('alter role %I set %s = %L', :'runtime', setting, value)
  from (values ('statement_timeout', :'statement_timeout'),
               ('lock_timeout', :'lock_timeout'),
               ('idle_in_transaction_session_timeout',
                :'idle_in_transaction_session_timeout')) as s (setting, value)
\gexec
