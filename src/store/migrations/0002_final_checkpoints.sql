DROP INDEX "audit_checkpoints_chain_seq_key";--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD COLUMN "final" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "audit_checkpoints_chain_seq_key" ON "audit_checkpoints" USING btree ("chain_id","chain_seq","final");