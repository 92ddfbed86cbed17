-- Append-only audit tables. UPDATE, DELETE and TRUNCATE are rejected for everyone who does not
-- bypass triggers. Statement-level, so the statement fails even when row-level security leaves
-- it no row to touch (a silent "UPDATE 0" would hide the attempt). A superuser can still bypass them (session_replication_role = replica);
-- that is what the hash chain and the signed checkpoints detect (`aitrail verify`).
CREATE OR REPLACE FUNCTION aitrail_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'aitrail: % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'raise_exception',
          HINT = 'Audit rows are never changed or removed; record a new event instead.';
END
$$;
--> statement-breakpoint
CREATE OR REPLACE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change();
--> statement-breakpoint
CREATE OR REPLACE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change();
--> statement-breakpoint
CREATE OR REPLACE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change();
--> statement-breakpoint
CREATE OR REPLACE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change();
--> statement-breakpoint

-- Tenant isolation. FORCE applies the policies to the table owner too. A session that never
-- set `aitrail.tenant_id` reads '' on a pooled connection, which NULLIF turns into NULL:
-- it matches no row (fail closed). Roles with BYPASSRLS (writer, auditor) and superusers
-- are not subject to these policies.
ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
DROP POLICY IF EXISTS audit_logs_tenant_read ON audit_logs;
--> statement-breakpoint
CREATE POLICY audit_logs_tenant_read ON audit_logs FOR SELECT
  USING (tenant_id = NULLIF(current_setting('aitrail.tenant_id', true), ''));
--> statement-breakpoint
DROP POLICY IF EXISTS audit_logs_insert ON audit_logs;
--> statement-breakpoint
CREATE POLICY audit_logs_insert ON audit_logs FOR INSERT WITH CHECK (true);
--> statement-breakpoint

-- The insert-only writer role (collector/init/01-roles.sql) needs SELECT on the conflict
-- targets for INSERT ... ON CONFLICT DO NOTHING, and nothing more. Column grants cannot be
-- given as default privileges, so they follow the tables here.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_writer') THEN
    GRANT INSERT ON audit_logs, audit_checkpoints TO aitrail_writer;
    GRANT SELECT (event_id) ON audit_logs TO aitrail_writer;
    GRANT SELECT (chain_id, chain_seq) ON audit_checkpoints TO aitrail_writer;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_reader') THEN
    GRANT SELECT ON audit_logs, audit_checkpoints TO aitrail_reader;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_auditor') THEN
    GRANT SELECT ON audit_logs, audit_checkpoints TO aitrail_auditor;
  END IF;
END
$$;
