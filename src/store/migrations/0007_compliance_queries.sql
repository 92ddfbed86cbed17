-- Compliance queries (aitrail logs/explain/approvals/stats/subject export).
-- subject_id is the agreed data-subject column (the subjects migration adds the same column;
-- IF NOT EXISTS keeps either order working).
ALTER TABLE "audit_logs" ADD COLUMN IF NOT EXISTS "subject_id" text;
--> statement-breakpoint
-- Keyset paging for unbounded exports: (occurred_at, id) is a unique order.
CREATE INDEX IF NOT EXISTS "audit_logs_occurred_id_idx" ON "audit_logs" USING btree ("occurred_at","id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "audit_logs_approval_idx" ON "audit_logs" USING btree ("approval_id") WHERE "approval_id" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "audit_logs_subject_occurred_idx" ON "audit_logs" USING btree ("subject_id","occurred_at");
--> statement-breakpoint
-- Every read through the typed API or the CLI writes an audit.read row into a reader chain of
-- its own, so the reading roles may insert — audit.read rows only (a restrictive policy).
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_reader') THEN
    GRANT INSERT ON audit_logs, audit_checkpoints TO aitrail_reader;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_auditor') THEN
    GRANT INSERT ON audit_logs, audit_checkpoints TO aitrail_auditor;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_reader')
     AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_auditor')
     AND NOT EXISTS (SELECT FROM pg_policies WHERE tablename = 'audit_logs' AND policyname = 'audit_logs_readers_insert_reads') THEN
    CREATE POLICY audit_logs_readers_insert_reads ON audit_logs AS RESTRICTIVE FOR INSERT
      TO aitrail_reader, aitrail_auditor WITH CHECK (action = 'audit.read');
  END IF;
END
$$;
