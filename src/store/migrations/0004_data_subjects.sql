-- Data subjects, the personal-data vault, erasure receipts, legal holds, retention, and
-- audit_logs partitioned by month of occurred_at. See docs/data-subjects.md.
--
-- 1. The unpartitioned audit_logs of 0000-0003 steps aside; its rows are copied (every column
--    as it was, so every hash still verifies) into the partitioned table, then it is dropped.
--    A host app's drizzle-kit may have created audit_logs and audit_personal_data from
--    aitrail/schema, unpartitioned: both step aside the same way, and their rows are kept.
DO $$
DECLARE
  parent text;
  index_name text;
BEGIN
  FOREACH parent IN ARRAY ARRAY['audit_logs', 'audit_personal_data'] LOOP
    CONTINUE WHEN to_regclass(parent) IS NULL
      OR (SELECT relkind FROM pg_class WHERE oid = to_regclass(parent)) = 'p';
    EXECUTE format('ALTER TABLE %I RENAME TO %I', parent, parent || '_unpartitioned');
    FOR index_name IN
      SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      WHERE x.indrelid = to_regclass(parent || '_unpartitioned')
        AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = x.indexrelid)
    LOOP
      EXECUTE format('DROP INDEX %I', index_name);
    END LOOP;
    IF EXISTS (SELECT FROM pg_constraint WHERE conname = parent || '_pkey'
               AND conrelid = to_regclass(parent || '_unpartitioned')) THEN
      EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT %I TO %I', parent || '_unpartitioned',
        parent || '_pkey', parent || '_unpartitioned_pkey');
    END IF;
  END LOOP;
  IF to_regclass('audit_logs_unpartitioned') IS NOT NULL THEN
    ALTER TABLE audit_logs_unpartitioned ADD COLUMN IF NOT EXISTS subject_id text;
  END IF;
END
$$;
--> statement-breakpoint

-- A unique index of a partitioned table must contain the partition key. event_id determines
-- occurred_at (the span's or event's own time), so (event_id, occurred_at) is as good an
-- idempotency key as event_id alone. Chain positions are unique within a month; verify
-- detects a duplicate position across months (the second row does not link).
CREATE TABLE IF NOT EXISTS audit_logs (
  id uuid NOT NULL,
  event_id text NOT NULL,
  occurred_at timestamp(6) with time zone NOT NULL,
  recorded_at timestamp(6) with time zone DEFAULT now() NOT NULL,
  tenant_id text,
  actor_type text NOT NULL,
  actor_id text NOT NULL,
  subject_id text,
  action text NOT NULL,
  outcome text NOT NULL,
  resource_type text,
  resource_id text,
  conversation_id text,
  task_id text,
  agent_name text,
  tool_name text,
  approval_id text,
  metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
  trace_id text NOT NULL,
  span_id text NOT NULL,
  service_name text,
  chain_id text NOT NULL,
  chain_seq bigint NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  CONSTRAINT audit_logs_pkey PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS audit_logs_event_id_key ON audit_logs USING btree (event_id, occurred_at);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS audit_logs_chain_seq_key ON audit_logs USING btree (chain_id, chain_seq, occurred_at);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS audit_logs_tenant_occurred_idx ON audit_logs USING btree (tenant_id, occurred_at);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS audit_logs_action_occurred_idx ON audit_logs USING btree (action, occurred_at);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS audit_logs_conversation_idx ON audit_logs USING btree (conversation_id, occurred_at);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS audit_logs_trace_idx ON audit_logs USING btree (trace_id);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS audit_logs_chain_idx ON audit_logs USING btree (chain_id, chain_seq);
--> statement-breakpoint

-- 2. The vault: the personal values of each row, outside the hash chain. The chained row holds
--    salted commitments (sha256 over a random salt and the value); the salt lives here, so
--    deleting value and salt erases, and the commitment alone reveals nothing. `salts` NULL
--    marks a row whose values are also in the chained row in plain text (rows written before
--    this migration): those cannot be erased from the chain, and erasure says so.
--    Lookups by subject or actor go through this table's indexes.
CREATE TABLE IF NOT EXISTS audit_personal_data (
  row_id uuid NOT NULL,
  occurred_at timestamp(6) with time zone NOT NULL,
  tenant_id text,
  subject_id text,
  actor_id text,
  personal jsonb,
  salts jsonb,
  erased_by uuid,
  CONSTRAINT audit_personal_data_pkey PRIMARY KEY (row_id, occurred_at)
) PARTITION BY RANGE (occurred_at);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS audit_personal_data_subject_idx ON audit_personal_data USING btree (subject_id, occurred_at);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS audit_personal_data_actor_idx ON audit_personal_data USING btree (actor_id, occurred_at);
--> statement-breakpoint

-- Erasure only removes: a vault row may lose values (and their salts) and gain the receipt
-- that removed them, nothing else. Row-level, so partitions inherit it.
CREATE OR REPLACE FUNCTION aitrail_vault_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.row_id IS DISTINCT FROM OLD.row_id OR NEW.occurred_at IS DISTINCT FROM OLD.occurred_at
     OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id
     OR (NEW.subject_id IS NOT NULL AND NEW.subject_id IS DISTINCT FROM OLD.subject_id)
     OR (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id)
     OR (NEW.personal IS NOT NULL AND NEW.personal IS DISTINCT FROM OLD.personal)
     OR NEW.erased_by IS NULL THEN
    RAISE EXCEPTION 'aitrail: audit_personal_data values are only ever erased, never changed'
      USING ERRCODE = 'raise_exception', HINT = 'Use aitrail erase.';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE TRIGGER audit_personal_data_erase_only BEFORE UPDATE ON audit_personal_data
  FOR EACH ROW EXECUTE FUNCTION aitrail_vault_guard();
--> statement-breakpoint

-- 3. Partitions: one per month for both tables, created ahead of time (here, by the store when a
--    record's month has none, and by `aitrail retention apply`), plus a DEFAULT partition as a
--    safety net. Statement triggers and RLS are not inherited by partitions, so each partition
--    gets the append-only and TRUNCATE triggers, RLS enabled and forced with no policy (a
--    direct read by a role under RLS sees nothing: access goes through the parent), and no
--    privileges for the aitrail roles (inserts through the parent check the parent's only).
CREATE OR REPLACE FUNCTION aitrail_protect_partition(partition_name text, parent text) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  role_name text;
BEGIN
  IF parent = 'audit_logs' THEN
    EXECUTE format('CREATE OR REPLACE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON %I FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change()', partition_name);
    EXECUTE format('CREATE OR REPLACE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change()', partition_name);
  ELSE
    EXECUTE format('CREATE OR REPLACE TRIGGER audit_personal_data_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change()', partition_name);
  END IF;
  EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', partition_name);
  EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', partition_name);
  FOR role_name IN SELECT rolname FROM pg_roles
    WHERE rolname IN ('aitrail_writer', 'aitrail_reader', 'aitrail_auditor')
  LOOP
    EXECUTE format('REVOKE ALL ON %I FROM %I', partition_name, role_name);
  END LOOP;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION aitrail_ensure_partitions(from_month timestamptz, months integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET timezone = 'UTC' AS $$
DECLARE
  month_start timestamptz;
  parent text;
  partition_name text;
  occupied boolean;
  created integer := 0;
BEGIN
  IF months < 1 OR months > 240 THEN
    RAISE EXCEPTION 'aitrail_ensure_partitions: months must be 1..240, got %', months;
  END IF;
  -- Concurrent writers meeting a new month create its partition once.
  PERFORM pg_advisory_xact_lock(7305146823551209);
  FOR i IN 0 .. months - 1 LOOP
    month_start := date_trunc('month', from_month) + make_interval(months => i);
    FOREACH parent IN ARRAY ARRAY['audit_logs', 'audit_personal_data'] LOOP
      partition_name := format('%s_p%s', parent, to_char(month_start, 'YYYY_MM'));
      CONTINUE WHEN to_regclass(partition_name) IS NOT NULL;
      -- Rows of this month already in the DEFAULT partition: they stay there (a partition for
      -- the month cannot be attached over them, and audit rows are never moved).
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE occurred_at >= $1 AND occurred_at < $2)',
        parent || '_default') INTO occupied USING month_start, month_start + interval '1 month';
      IF occupied THEN
        RAISE WARNING 'aitrail: % has rows in %_default; no partition created for that month',
          to_char(month_start, 'YYYY-MM'), parent;
        CONTINUE;
      END IF;
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
        partition_name, parent, month_start, month_start + interval '1 month');
      PERFORM aitrail_protect_partition(partition_name, parent);
      created := created + 1;
    END LOOP;
  END LOOP;
  RETURN created;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aitrail_ensure_partitions(timestamptz, integer) FROM PUBLIC;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS audit_logs_default PARTITION OF audit_logs DEFAULT;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS audit_personal_data_default PARTITION OF audit_personal_data DEFAULT;
--> statement-breakpoint
SELECT aitrail_protect_partition('audit_logs_default', 'audit_logs');
--> statement-breakpoint
SELECT aitrail_protect_partition('audit_personal_data_default', 'audit_personal_data');
--> statement-breakpoint

-- Partitions for every month that has rows, and for this month and the next three; then the
-- rows of the tables that stepped aside, and the vault rows of old audit rows (their
-- identifiers are in plain text inside the chain; the vault indexes them too, so lookups by
-- actor work the same for every row).
DO $$
BEGIN
  IF to_regclass('audit_logs_unpartitioned') IS NOT NULL THEN
    PERFORM aitrail_ensure_partitions(m, 1) FROM (
      SELECT DISTINCT date_trunc('month', occurred_at, 'UTC') AS m FROM audit_logs_unpartitioned
    ) months;
  END IF;
  IF to_regclass('audit_personal_data_unpartitioned') IS NOT NULL THEN
    PERFORM aitrail_ensure_partitions(m, 1) FROM (
      SELECT DISTINCT date_trunc('month', occurred_at, 'UTC') AS m FROM audit_personal_data_unpartitioned
    ) months;
  END IF;
  PERFORM aitrail_ensure_partitions(now() - interval '1 month', 5);
  IF to_regclass('audit_personal_data_unpartitioned') IS NOT NULL THEN
    INSERT INTO audit_personal_data (row_id, occurred_at, tenant_id, subject_id, actor_id, personal, salts, erased_by)
    SELECT row_id, occurred_at, tenant_id, subject_id, actor_id, personal, salts, erased_by
    FROM audit_personal_data_unpartitioned;
    DROP TABLE audit_personal_data_unpartitioned;
  END IF;
  IF to_regclass('audit_logs_unpartitioned') IS NOT NULL THEN
    INSERT INTO audit_logs (id, event_id, occurred_at, recorded_at, tenant_id, actor_type, actor_id,
      subject_id, action, outcome, resource_type, resource_id, conversation_id, task_id, agent_name,
      tool_name, approval_id, metadata, trace_id, span_id, service_name, chain_id, chain_seq,
      prev_hash, hash)
    SELECT id, event_id, occurred_at, recorded_at, tenant_id, actor_type, actor_id,
      subject_id, action, outcome, resource_type, resource_id, conversation_id, task_id, agent_name,
      tool_name, approval_id, metadata, trace_id, span_id, service_name, chain_id, chain_seq,
      prev_hash, hash
    FROM audit_logs_unpartitioned;
    INSERT INTO audit_personal_data (row_id, occurred_at, tenant_id, subject_id, actor_id, salts)
    SELECT id, occurred_at, tenant_id, NULL, actor_id, NULL FROM audit_logs_unpartitioned
    ON CONFLICT (row_id, occurred_at) DO NOTHING;
    DROP TABLE audit_logs_unpartitioned;
  END IF;
END
$$;
--> statement-breakpoint

-- 4. What 0001 and 0003 gave the old parent, given again to the new one.
CREATE OR REPLACE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change();
--> statement-breakpoint
CREATE OR REPLACE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change();
--> statement-breakpoint
CREATE OR REPLACE TRIGGER audit_personal_data_no_truncate BEFORE TRUNCATE ON audit_personal_data
  FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change();
--> statement-breakpoint
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
-- The vault follows the same tenant isolation for readers; not forced, so its owner can run
-- erasure (the only UPDATE, see the guard trigger).
ALTER TABLE audit_personal_data ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
DROP POLICY IF EXISTS audit_personal_data_tenant_read ON audit_personal_data;
--> statement-breakpoint
CREATE POLICY audit_personal_data_tenant_read ON audit_personal_data FOR SELECT
  USING (tenant_id = NULLIF(current_setting('aitrail.tenant_id', true), ''));
--> statement-breakpoint
DROP POLICY IF EXISTS audit_personal_data_insert ON audit_personal_data;
--> statement-breakpoint
CREATE POLICY audit_personal_data_insert ON audit_personal_data FOR INSERT WITH CHECK (true);
--> statement-breakpoint

-- 5. Erasure receipts, legal holds, retention policies and prune records. Receipts and prune
--    records are evidence: append-only like the audit rows. None of them holds personal data
--    except a hold on a subject, which names the subject it protects from erasure.
CREATE TABLE IF NOT EXISTS audit_erasures (
  receipt_id uuid PRIMARY KEY,
  erased_at timestamp(6) with time zone NOT NULL,
  tenant_id text,
  subject_commitment text NOT NULL,
  rows_erased integer NOT NULL,
  plaintext_rows integer NOT NULL,
  algorithm text NOT NULL,
  key_id text,
  signature text
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS audit_legal_holds (
  id uuid PRIMARY KEY,
  tenant_id text,
  subject_id text,
  reason text NOT NULL,
  placed_at timestamp(6) with time zone NOT NULL DEFAULT now(),
  released_at timestamp(6) with time zone,
  CONSTRAINT audit_legal_holds_scope CHECK (tenant_id IS NOT NULL OR subject_id IS NOT NULL)
);
--> statement-breakpoint
-- A host-created table lacks the scope check.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'audit_legal_holds_scope') THEN
    ALTER TABLE audit_legal_holds ADD CONSTRAINT audit_legal_holds_scope
      CHECK (tenant_id IS NOT NULL OR subject_id IS NOT NULL);
  END IF;
END
$$;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS audit_legal_holds_active_idx ON audit_legal_holds (tenant_id, subject_id) WHERE released_at IS NULL;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS audit_retention_policies (
  tenant_id text PRIMARY KEY,
  keep_months integer NOT NULL CHECK (keep_months >= 1),
  override_reason text,
  updated_at timestamp(6) with time zone NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS audit_prunes (
  id uuid PRIMARY KEY,
  partition_name text NOT NULL,
  range_from timestamp(6) with time zone NOT NULL,
  range_to timestamp(6) with time zone NOT NULL,
  pruned_at timestamp(6) with time zone NOT NULL,
  rows_removed bigint NOT NULL,
  chains jsonb NOT NULL,
  algorithm text NOT NULL,
  key_id text,
  signature text
);
--> statement-breakpoint
CREATE OR REPLACE TRIGGER audit_erasures_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_erasures
  FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change();
--> statement-breakpoint
CREATE OR REPLACE TRIGGER audit_prunes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_prunes
  FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change();
--> statement-breakpoint

-- Erasure of one subject's personal values (and of their salts), everywhere they are the
-- subject or the actor; `p_tenant` NULL means every tenant. Free text of those rows goes too:
-- it is theirs or about them. Values of other people in the same rows (another actor, another
-- subject) stay. Returns how many rows lost values, and how many of those also hold the values
-- in plain text inside the chain (rows from before this migration), which erasure cannot reach.
CREATE OR REPLACE FUNCTION aitrail_erase_subject(p_tenant text, p_subject text, p_receipt uuid)
RETURNS TABLE (rows_erased bigint, plaintext_rows bigint)
LANGUAGE sql AS $$
  WITH erased AS (
    UPDATE audit_personal_data SET
      subject_id = CASE WHEN subject_id = p_subject THEN NULL ELSE subject_id END,
      actor_id = CASE WHEN actor_id = p_subject THEN NULL ELSE actor_id END,
      personal = NULL,
      salts = CASE WHEN salts IS NULL THEN NULL ELSE
        salts - 'personal'
          - CASE WHEN subject_id = p_subject THEN 'subject' ELSE '' END
          - CASE WHEN actor_id = p_subject THEN 'actor' ELSE '' END
      END,
      erased_by = p_receipt
    WHERE (subject_id = p_subject OR actor_id = p_subject)
      AND (p_tenant IS NULL OR tenant_id = p_tenant)
    RETURNING salts IS NULL AS plaintext
  )
  SELECT count(*), count(*) FILTER (WHERE plaintext) FROM erased
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aitrail_erase_subject(text, text, uuid) FROM PUBLIC;
--> statement-breakpoint

-- Retention drops a whole month, both tables, never row by row (aitrail retention apply writes
-- the signed prune record first, in the same transaction).
CREATE OR REPLACE FUNCTION aitrail_drop_month(month_start timestamptz) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp SET timezone = 'UTC' AS $$
DECLARE
  parent text;
  partition_name text;
BEGIN
  IF month_start <> date_trunc('month', month_start) THEN
    RAISE EXCEPTION 'aitrail_drop_month: % is not the start of a month (UTC)', month_start;
  END IF;
  FOREACH parent IN ARRAY ARRAY['audit_logs', 'audit_personal_data'] LOOP
    partition_name := format('%s_p%s', parent, to_char(month_start, 'YYYY_MM'));
    CONTINUE WHEN to_regclass(partition_name) IS NULL;
    EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', parent, partition_name);
    EXECUTE format('DROP TABLE %I', partition_name);
  END LOOP;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aitrail_drop_month(timestamptz) FROM PUBLIC;
--> statement-breakpoint

-- 6. Grants, when the roles of collector/init/01-roles.sql exist. The writer inserts rows and
--    vault rows (ON CONFLICT needs SELECT on the conflict targets) and may create the partition
--    of a new month; readers and auditors read the vault through the parent (default
--    privileges gave them SELECT); nobody but the owner changes the vault, and only by erasure.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_writer') THEN
    GRANT INSERT ON audit_logs, audit_personal_data TO aitrail_writer;
    GRANT SELECT (event_id, occurred_at) ON audit_logs TO aitrail_writer;
    GRANT SELECT (row_id, occurred_at) ON audit_personal_data TO aitrail_writer;
    GRANT EXECUTE ON FUNCTION aitrail_ensure_partitions(timestamptz, integer) TO aitrail_writer;
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_personal_data FROM aitrail_writer;
    REVOKE ALL ON audit_erasures, audit_legal_holds, audit_retention_policies, audit_prunes FROM aitrail_writer;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_reader') THEN
    GRANT SELECT ON audit_logs, audit_personal_data TO aitrail_reader;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_personal_data FROM aitrail_reader;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_auditor') THEN
    GRANT SELECT ON audit_logs, audit_personal_data TO aitrail_auditor;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_personal_data FROM aitrail_auditor;
  END IF;
END
$$;
