-- Least privilege and per-tenant readers. Every statement is idempotent: this migration also
-- runs on tables a host app's drizzle-kit created, and `aitrail migrate --reinstall-protections`
-- runs it again after a tool outside aitrail removed a protection.
--
-- Policies and grants are on the parent `audit_logs` only: they apply to every query through
-- it, partitioned or not. Partitions carry their own triggers and forced RLS without grants.

-- Which tenants a database role may read, maintained by `aitrail grant-reader` / `revoke-reader`.
-- Only the owner writes it; readers never see it (the policy reads it through a function).
CREATE TABLE IF NOT EXISTS audit_reader_tenants (
  role_name text NOT NULL,
  tenant_id text NOT NULL CHECK (tenant_id <> ''),
  granted_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  PRIMARY KEY (role_name, tenant_id)
);
--> statement-breakpoint
REVOKE ALL ON audit_reader_tenants FROM PUBLIC;
--> statement-breakpoint

-- The tenants mapped to the session's login role or to the role it acts as (`acting`, the
-- policy passes current_user), or NULL when neither is mapped. SECURITY DEFINER so readers need
-- no privilege on the mapping; a caller naming a role it cannot act as learns nothing.
-- session_user counts too, so a mapped login that SETs ROLE to the shared reader stays mapped.
CREATE OR REPLACE FUNCTION aitrail_mapped_tenants(acting name) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
  SELECT array_agg(DISTINCT m.tenant_id ORDER BY m.tenant_id)
  FROM audit_reader_tenants m
  WHERE m.role_name = session_user
     OR (m.role_name = acting AND pg_has_role(session_user, acting, 'MEMBER'))
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aitrail_mapped_tenants(name) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aitrail_mapped_tenants(name) TO PUBLIC;
--> statement-breakpoint

-- A mapped role sees exactly its tenants, whatever it sets. Any other role subject to RLS (the
-- shared aitrail_reader the app uses) sees the tenant set for the transaction with
-- set_config('aitrail.tenant_id', $1, true), and nothing when it is unset (fail closed). The
-- sub-select runs once per query (an InitPlan), and tenant_id = ANY(...) can use the index.
DROP POLICY IF EXISTS audit_logs_tenant_read ON audit_logs;
--> statement-breakpoint
CREATE POLICY audit_logs_tenant_read ON audit_logs FOR SELECT
  USING (tenant_id = ANY (COALESCE(
    (SELECT aitrail_mapped_tenants(current_user)),
    ARRAY[NULLIF(current_setting('aitrail.tenant_id', true), '')]
  )));
--> statement-breakpoint

-- Checkpoints (tree heads) are for auditors (BYPASSRLS) only: with RLS forced and no SELECT
-- policy, any other role, the owner included, reads no checkpoint. Inserting stays allowed.
ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
DROP POLICY IF EXISTS audit_checkpoints_insert ON audit_checkpoints;
--> statement-breakpoint
CREATE POLICY audit_checkpoints_insert ON audit_checkpoints FOR INSERT WITH CHECK (true);
--> statement-breakpoint

-- Grants: nobody but the owner changes or removes audit rows; tenant readers do not read
-- checkpoints; the writer keeps INSERT plus SELECT on the ON CONFLICT targets only.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_logs, audit_checkpoints FROM PUBLIC;
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_reader') THEN
    REVOKE ALL ON audit_checkpoints, audit_reader_tenants FROM aitrail_reader;
    GRANT SELECT ON audit_logs TO aitrail_reader;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_writer') THEN
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_logs, audit_checkpoints FROM aitrail_writer;
    REVOKE ALL ON audit_reader_tenants FROM aitrail_writer;
    GRANT INSERT ON audit_logs, audit_checkpoints TO aitrail_writer;
    GRANT SELECT (event_id) ON audit_logs TO aitrail_writer;
    GRANT SELECT (chain_id, chain_seq, final) ON audit_checkpoints TO aitrail_writer;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_auditor') THEN
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_reader_tenants FROM aitrail_auditor;
    GRANT SELECT ON audit_logs, audit_checkpoints, audit_reader_tenants TO aitrail_auditor;
  END IF;
END
$$;
--> statement-breakpoint

-- The rows of the caller's mapped tenants, for readers that may run arbitrary SQL: a role
-- granted only this function (`aitrail grant-reader --function-only`) has no SELECT on
-- audit_logs, so EXPLAIN ANALYZE shows a Function Scan and never the rows the tenant filter
-- removed inside. SECURITY DEFINER: it runs as the owner, whose forced policy still applies
-- and, through session_user, also yields the caller's tenants. An unmapped caller gets nothing.
CREATE OR REPLACE FUNCTION aitrail_tenant_audit_logs() RETURNS SETOF audit_logs
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
  SELECT * FROM audit_logs WHERE tenant_id = ANY (aitrail_mapped_tenants(session_user))
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aitrail_tenant_audit_logs() FROM PUBLIC;
--> statement-breakpoint

-- `aitrail grant-reader`: maps a role to a tenant and lets it read audit_logs (through the
-- policy above), or with `function_only` through aitrail_tenant_audit_logs() alone. Runs as
-- the caller, who must own audit_logs. Refuses roles that would see every tenant anyway or
-- that aitrail itself uses.
CREATE OR REPLACE FUNCTION aitrail_grant_reader(reader name, tenant text, function_only boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  target pg_roles%ROWTYPE;
BEGIN
  SELECT * INTO target FROM pg_roles WHERE rolname = reader;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'aitrail: role "%" does not exist', reader
      USING ERRCODE = 'undefined_object', HINT = 'Create it first: CREATE ROLE ... LOGIN.';
  END IF;
  IF tenant IS NULL OR tenant = '' THEN
    RAISE EXCEPTION 'aitrail: the tenant must be a non-empty string' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF target.rolsuper OR target.rolbypassrls THEN
    RAISE EXCEPTION 'aitrail: role "%" bypasses row-level security and would see every tenant', reader
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF reader IN ('aitrail_reader', 'aitrail_writer', 'aitrail_auditor', 'aitrail_owner')
     OR pg_has_role(reader, (SELECT relowner FROM pg_class WHERE oid = 'audit_logs'::regclass), 'USAGE') THEN
    RAISE EXCEPTION 'aitrail: role "%" is one of aitrail''s own roles (or acts as the table owner); map a dedicated role', reader
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO audit_reader_tenants (role_name, tenant_id) VALUES (reader, tenant)
    ON CONFLICT (role_name, tenant_id) DO NOTHING;
  IF function_only THEN
    EXECUTE format('REVOKE SELECT ON audit_logs FROM %I', reader);
    EXECUTE format('GRANT EXECUTE ON FUNCTION aitrail_tenant_audit_logs() TO %I', reader);
  ELSE
    EXECUTE format('GRANT SELECT ON audit_logs TO %I', reader);
  END IF;
  IF NOT has_schema_privilege(reader, current_schema(), 'USAGE') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), reader);
  END IF;
END
$$;
--> statement-breakpoint
-- `aitrail revoke-reader`: removes one mapping; with the last one goes the SELECT grant, so an
-- unmapped role does not fall back to choosing its tenant. Returns the tenants left.
CREATE OR REPLACE FUNCTION aitrail_revoke_reader(reader name, tenant text) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
  remaining integer;
BEGIN
  DELETE FROM audit_reader_tenants WHERE role_name = reader AND tenant_id = tenant;
  SELECT count(*) INTO remaining FROM audit_reader_tenants WHERE role_name = reader;
  IF remaining = 0 AND EXISTS (SELECT FROM pg_roles WHERE rolname = reader) THEN
    EXECUTE format('REVOKE SELECT ON audit_logs FROM %I', reader);
    EXECUTE format('REVOKE EXECUTE ON FUNCTION aitrail_tenant_audit_logs() FROM %I', reader);
  END IF;
  RETURN remaining;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aitrail_grant_reader(name, text, boolean), aitrail_revoke_reader(name, text) FROM PUBLIC;
