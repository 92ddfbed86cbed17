-- Signed tree heads (RFC 9162 hashing). A checkpoint row is a tree head of its chain: kind
-- genesis (size 0, written before the chain's first row), periodic or final; rows written by
-- the release before tree heads keep kind 'legacy' and hash version 1 and still verify.
ALTER TABLE "audit_checkpoints" ADD COLUMN IF NOT EXISTS "kind" text DEFAULT 'legacy' NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD COLUMN IF NOT EXISTS "root_hash" text;--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD COLUMN IF NOT EXISTS "prev_checkpoint_hash" text;--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD COLUMN IF NOT EXISTS "hash_version" smallint DEFAULT 1 NOT NULL;--> statement-breakpoint
-- chain_seq is the tree size (rows 1..chain_seq are the leaves); named for readers of the table.
ALTER TABLE "audit_checkpoints" ADD COLUMN IF NOT EXISTS "tree_size" bigint GENERATED ALWAYS AS ("chain_seq") STORED;--> statement-breakpoint
ALTER TABLE "audit_checkpoints" DROP CONSTRAINT IF EXISTS "audit_checkpoints_kind_check";--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD CONSTRAINT "audit_checkpoints_kind_check"
  CHECK ("kind" IN ('legacy', 'genesis', 'periodic', 'final'));--> statement-breakpoint
-- The data subject a row is about; hashed from hash version 2 on (shared with the subjects area).
ALTER TABLE "audit_logs" ADD COLUMN IF NOT EXISTS "subject_id" text;--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_writer') THEN
    GRANT SELECT (chain_id, chain_seq, final) ON audit_checkpoints TO aitrail_writer;
  END IF;
END
$$;
