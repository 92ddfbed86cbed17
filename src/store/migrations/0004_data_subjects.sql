ALTER TABLE "audit_logs" ADD COLUMN "subject_id" text;--> statement-breakpoint
CREATE INDEX "audit_logs_subject_occurred_idx" ON "audit_logs" USING btree ("subject_id","occurred_at");
