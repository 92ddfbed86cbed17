-- Database roles for the local aitrail stack. The Postgres image runs this file once, as the
-- superuser, connected to POSTGRES_DB, when the data volume is first created.
--
-- The passwords below are for LOCAL USE ONLY (docker compose on a developer machine).
-- Never reuse them: in any shared environment create these roles with generated secrets.
--
-- The audit_logs table does not exist yet: the app's migrations create it, running as
-- aitrail_owner (`aitrail migrate`, which records them in its own aitrail.migrations table).
-- The writer's INSERT and the auditor's SELECT are granted as default privileges, which apply
-- to every table aitrail_owner creates later; the tenant reader gets nothing by default (the
-- migrations grant it SELECT on audit_logs alone). Row-level security policies (tenant
-- isolation, the per-tenant reader mapping) belong to those migrations, next to the tables
-- they protect.

-- Owns the schema and the audit tables; runs migrations. Not for application traffic:
-- an owner bypasses row-level security unless the table forces it.
CREATE ROLE aitrail_owner LOGIN PASSWORD 'aitrail_owner_local_only';

-- The AuditWriter's role: INSERT only, never UPDATE, DELETE or TRUNCATE, and no SELECT on
-- whole rows. BYPASSRLS because one writer inserts rows for every tenant and because
-- Postgres refuses COPY FROM to a role subject to row-level security; without SELECT it
-- still cannot read a row.
-- Note: INSERT ... ON CONFLICT (event_id) also needs SELECT on the conflict-target columns
-- (audit_logs.event_id; audit_checkpoints.chain_id, chain_seq, final). Default privileges
-- cannot grant single columns, so that grant follows the migration that creates the tables.
-- What that lets the writer learn (event ids and counts, no tenant, actor or content) is in
-- docs/security.md.
CREATE ROLE aitrail_writer LOGIN BYPASSRLS PASSWORD 'aitrail_writer_local_only';

-- The app's shared reader for compliance queries of one tenant at a time: SELECT on
-- audit_logs only (not the checkpoints), subject to row-level security. The policy compares
-- tenant_id with NULLIF(current_setting('aitrail.tenant_id', true), ''), set per transaction,
-- so a session that never sets the tenant sees nothing. People and tools that must see one
-- tenant whatever they set get a role of their own: `aitrail grant-reader --tenant T --role R`.
CREATE ROLE aitrail_reader LOGIN NOBYPASSRLS PASSWORD 'aitrail_reader_local_only';

-- Cross-tenant reads for auditors and the Grafana datasource, and the only role that reads
-- the checkpoints (tree heads): SELECT only, BYPASSRLS.
CREATE ROLE aitrail_auditor LOGIN BYPASSRLS PASSWORD 'aitrail_auditor_local_only';

-- Readers run arbitrary SQL (Grafana sends what a dashboard author writes): keep their
-- sessions read-only and their queries bounded.
ALTER ROLE aitrail_reader SET default_transaction_read_only = on;
ALTER ROLE aitrail_auditor SET default_transaction_read_only = on;
ALTER ROLE aitrail_reader SET statement_timeout = '30s';
ALTER ROLE aitrail_auditor SET statement_timeout = '30s';

-- The owner creates the `aitrail` schema for its migration bookkeeping, so it owns the database; it owns the
-- public schema where the audit tables live. Only the four roles may connect.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I OWNER TO aitrail_owner', current_database());
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format(
    'GRANT CONNECT ON DATABASE %I TO aitrail_writer, aitrail_reader, aitrail_auditor',
    current_database()
  );
END
$$;

ALTER SCHEMA public OWNER TO aitrail_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO aitrail_writer, aitrail_reader, aitrail_auditor;

-- Tables and sequences that aitrail_owner creates in public from now on.
ALTER DEFAULT PRIVILEGES FOR ROLE aitrail_owner IN SCHEMA public
  GRANT INSERT ON TABLES TO aitrail_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE aitrail_owner IN SCHEMA public
  GRANT USAGE ON SEQUENCES TO aitrail_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE aitrail_owner IN SCHEMA public
  GRANT SELECT ON TABLES TO aitrail_auditor;
