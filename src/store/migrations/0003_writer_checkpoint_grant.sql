-- INSERT ... ON CONFLICT (chain_id, chain_seq, final) needs SELECT on the new conflict-target
-- column too (see 0001).
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'aitrail_writer') THEN
    GRANT SELECT (chain_id, chain_seq, final) ON audit_checkpoints TO aitrail_writer;
  END IF;
END
$$;
