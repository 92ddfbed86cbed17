// `aitrail/store`: the audit store, the compliance queries behind every CLI command, chain
// verification and inclusion proofs, erasure, retention and legal holds, per-tenant readers,
// and the writer. The drizzle tables are in `aitrail/schema`, so this entry's types never load
// drizzle-orm's.
export type {
  AuditRecord,
  CheckpointKind,
  CheckpointRecord,
  SealedAuditRecord,
} from '../store/audit-record.js';
export type { AuditStore } from '../store/audit-store.js';
export {
  type EraseSubjectOptions,
  type ErasureReceipt,
  eraseSubject,
  receiptDigest,
  receiptStatement,
} from '../store/erasure/erase-subject.js';
export {
  CompactTree,
  canonicalColumns,
  canonicalHashedFields,
  checkpointHash,
  checkpointPayload,
  computeRowHash,
  EMPTY_TREE_HASH,
  HASHED_COLUMNS,
  type HashedFields,
  INCLUSION_PROOF_FORMAT,
  type InclusionProof,
  inclusionPath,
  leafHash,
  nodeHash,
  type ProofVerdict,
  readWitnessDirectory,
  rootFromInclusionPath,
  rowLeafHash,
  treeHash,
  verifyInclusionProof,
} from '../store/merkle/index.js';
export {
  DirectoryWitness,
  HttpWitness,
  type TreeHeadWitness,
} from '../store/merkle/witness.js';
export type { AiAuditMetadata } from '../store/metadata.js';
export { type OpenAuditStoreOptions, openAuditStore } from '../store/open-store.js';
export {
  assertProtections,
  type CatalogQuery,
  findMissingProtections,
  ProtectionsMissingError,
} from '../store/protections.js';
export {
  APPROVAL_GROUPINGS,
  APPROVAL_STATUSES,
  type ApprovalGrouping,
  type ApprovalQuery,
  type ApprovalRequest,
  type ApprovalRequestStatus,
  type ApprovalSummary,
  AUDIT_READ_ACTION,
  type AuditLogEntry,
  type AuditLogFilter,
  buildEvidence,
  type ChainHead,
  countAuditEvents,
  ERASED_MARKER,
  type Evidence,
  type EvidenceQuery,
  type ExplainQuery,
  type Explanation,
  explainDecisions,
  exportSubject,
  listApprovals,
  MAX_QUERY_LIMIT,
  queryAuditLogs,
  type ReadEvent,
  type ReadOptions,
  recordRead,
  STATS_BUCKETS,
  STATS_DIMENSIONS,
  type StatsBucket,
  type StatsDimension,
  type StatsOptions,
  type StatsRow,
  type StreamOptions,
  type SubjectExport,
  type SubjectExportQuery,
  type SubjectExportRow,
  type SubjectRole,
  streamAuditLogs,
  summarizeApprovals,
  type TimelineKind,
  type TimelineStep,
} from '../store/queries/index.js';
export {
  type GrantTenantReaderOptions,
  grantTenantReader,
  listTenantReaders,
  revokeTenantReader,
  type TenantReaderGrant,
  type TenantReaderOptions,
} from '../store/reader-tenants.js';
export {
  type ApplyRetentionOptions,
  applyRetention,
  type PruneRecord,
  type RetentionDecision,
  type RetentionResult,
} from '../store/retention/apply-retention.js';
export {
  type LegalHold,
  listLegalHolds,
  type PlaceHoldOptions,
  placeLegalHold,
  type ReleaseHoldOptions,
  releaseLegalHold,
} from '../store/retention/legal-holds.js';
export {
  DEFAULT_RETENTION_FLOOR_MONTHS,
  EVERY_TENANT,
  listRetentionPolicies,
  type RetentionPolicy,
  type SetRetentionPolicyOptions,
  setRetentionPolicy,
} from '../store/retention/policy.js';
export {
  type ChainFailure,
  type ChainReport,
  parseVerifiedHeads,
  type TamperKind,
  VERIFIED_HEADS_FORMAT,
  type VerifiedChain,
  type VerifiedHeads,
  type VerifyOptions,
  type VerifyReport,
  VerifyScopeError,
  verifyAuditChains,
} from '../store/verify/index.js';
export { type ProveOptions, proveEvent } from '../store/verify/prove.js';
export {
  AuditWriter,
  type AuditWriterOptions,
  type WriterStats,
} from '../store/writer/audit-writer.js';
export {
  type CheckpointAlgorithm,
  type CheckpointSigner,
  createCheckpointSigner,
} from '../store/writer/checkpoint-signer.js';
