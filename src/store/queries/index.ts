/** The compliance queries behind every CLI command, for the `aitrail/store` entry to re-export. */
export {
  type AuditLogEntry,
  type AuditLogFilter,
  MAX_QUERY_LIMIT,
  queryAuditLogs,
  type StreamOptions,
  streamAuditLogs,
} from '../queries.js';
export {
  AUDIT_READ_ACTION,
  type ReadEvent,
  type ReadOptions,
  recordRead,
} from '../reads/record-read.js';
export {
  APPROVAL_GROUPINGS,
  APPROVAL_STATUSES,
  type ApprovalGrouping,
  type ApprovalQuery,
  type ApprovalRequest,
  type ApprovalRequestStatus,
  type ApprovalSummary,
  listApprovals,
  summarizeApprovals,
} from './approvals.js';
export { buildEvidence, type Evidence, type EvidenceQuery } from './evidence.js';
export {
  type ExplainQuery,
  type Explanation,
  explainDecisions,
  type TimelineKind,
  type TimelineStep,
} from './explain.js';
export {
  countAuditEvents,
  STATS_BUCKETS,
  STATS_DIMENSIONS,
  type StatsBucket,
  type StatsDimension,
  type StatsOptions,
  type StatsRow,
} from './stats.js';
export {
  type ChainHead,
  ERASED_MARKER,
  exportSubject,
  type SubjectExport,
  type SubjectExportQuery,
  type SubjectExportRow,
  type SubjectRole,
} from './subject-export.js';
