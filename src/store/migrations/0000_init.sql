CREATE TABLE IF NOT EXISTS "audit_checkpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"chain_id" text NOT NULL,
	"chain_seq" bigint NOT NULL,
	"head_hash" text NOT NULL,
	"created_at" timestamp(6) with time zone NOT NULL,
	"service_name" text,
	"algorithm" text NOT NULL,
	"key_id" text,
	"signature" text
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "audit_logs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"occurred_at" timestamp(6) with time zone NOT NULL,
	"recorded_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"tenant_id" text,
	"actor_type" text NOT NULL,
	"actor_id" text NOT NULL,
	"action" text NOT NULL,
	"outcome" text NOT NULL,
	"resource_type" text,
	"resource_id" text,
	"conversation_id" text,
	"task_id" text,
	"agent_name" text,
	"tool_name" text,
	"approval_id" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"trace_id" text NOT NULL,
	"span_id" text NOT NULL,
	"service_name" text,
	"chain_id" text NOT NULL,
	"chain_seq" bigint NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "audit_checkpoints_chain_seq_key" ON "audit_checkpoints" USING btree ("chain_id","chain_seq");--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "audit_logs_event_id_key" ON "audit_logs" USING btree ("event_id");--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "audit_logs_chain_seq_key" ON "audit_logs" USING btree ("chain_id","chain_seq");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "audit_logs_tenant_occurred_idx" ON "audit_logs" USING btree ("tenant_id","occurred_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "audit_logs_actor_occurred_idx" ON "audit_logs" USING btree ("actor_id","occurred_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "audit_logs_action_occurred_idx" ON "audit_logs" USING btree ("action","occurred_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "audit_logs_conversation_idx" ON "audit_logs" USING btree ("conversation_id","occurred_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "audit_logs_trace_idx" ON "audit_logs" USING btree ("trace_id");