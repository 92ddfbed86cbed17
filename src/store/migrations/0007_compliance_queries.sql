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
