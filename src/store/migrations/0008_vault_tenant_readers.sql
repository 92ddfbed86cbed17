-- Per-tenant readers also read the personal-data vault (the values behind the commitments in
-- the chained rows), under the same tenant mapping as audit_logs: the vault's read policy
-- follows audit_logs_tenant_read, and grant-reader / revoke-reader grant and revoke SELECT on
-- both tables together. Roles mapped before this migration get the vault grant here.
DROP POLICY IF EXISTS audit_personal_data_tenant_read ON audit_personal_data;
--> statement-breakpoint
CREATE POLICY audit_personal_data_tenant_read ON audit_personal_data FOR SELECT
  USING (tenant_id = ANY (COALESCE(
    (SELECT aitrail_mapped_tenants(current_user)),
    ARRAY[NULLIF(current_setting('aitrail.tenant_id', true), '')]
  )));
--> statement-breakpoint
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
    -- No table, the vault included: the function reads only the mapped tenants' chained rows.
    EXECUTE format('REVOKE SELECT ON audit_logs, audit_personal_data FROM %I', reader);
    EXECUTE format('GRANT EXECUTE ON FUNCTION aitrail_tenant_audit_logs() TO %I', reader);
  ELSE
    EXECUTE format('GRANT SELECT ON audit_logs, audit_personal_data TO %I', reader);
  END IF;
  IF NOT has_schema_privilege(reader, current_schema(), 'USAGE') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), reader);
  END IF;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION aitrail_revoke_reader(reader name, tenant text) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
  remaining integer;
BEGIN
  DELETE FROM audit_reader_tenants WHERE role_name = reader AND tenant_id = tenant;
  SELECT count(*) INTO remaining FROM audit_reader_tenants WHERE role_name = reader;
  IF remaining = 0 AND EXISTS (SELECT FROM pg_roles WHERE rolname = reader) THEN
    EXECUTE format('REVOKE SELECT ON audit_logs, audit_personal_data FROM %I', reader);
    EXECUTE format('REVOKE EXECUTE ON FUNCTION aitrail_tenant_audit_logs() FROM %I', reader);
  END IF;
  RETURN remaining;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aitrail_grant_reader(name, text, boolean), aitrail_revoke_reader(name, text) FROM PUBLIC;
--> statement-breakpoint
DO $$
DECLARE
  mapped name;
BEGIN
  FOR mapped IN
    SELECT DISTINCT m.role_name FROM audit_reader_tenants m
    JOIN pg_roles r ON r.rolname = m.role_name
    WHERE has_table_privilege(m.role_name, 'audit_logs', 'SELECT')
  LOOP
    EXECUTE format('GRANT SELECT ON audit_personal_data TO %I', mapped);
  END LOOP;
END
$$;
