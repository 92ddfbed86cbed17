// `aitrail/store`: the audit store, its typed queries, chain verification and the writer.
// The drizzle tables are in `aitrail/schema`, so this entry's types never load drizzle-orm's.
export type { AuditRecord } from '../store/audit-record.js';
export type { AuditStore } from '../store/audit-store.js';
export type { AiAuditMetadata } from '../store/metadata.js';
export { type OpenAuditStoreOptions, openAuditStore } from '../store/open-store.js';
export { type AuditLogEntry, type AuditLogFilter, queryAuditLogs } from '../store/queries.js';
export {
  type ChainFailure,
  type ChainReport,
  type TamperKind,
  type VerifyOptions,
  type VerifyReport,
  VerifyScopeError,
  verifyAuditChains,
} from '../store/verify/index.js';
export {
  AuditWriter,
  type AuditWriterOptions,
  type WriterStats,
} from '../store/writer/audit-writer.js';
export {
  type CheckpointSigner,
  createCheckpointSigner,
} from '../store/writer/checkpoint-signer.js';
