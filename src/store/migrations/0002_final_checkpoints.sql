DROP INDEX IF EXISTS "audit_checkpoints_chain_seq_key";--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD COLUMN IF NOT EXISTS "final" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "audit_checkpoints_chain_seq_key" ON "audit_checkpoints" USING btree ("chain_id","chain_seq","final");