import type { AuditLogFilter } from '../store/queries.js';
import type { FlagSpec, FlagValues } from './command.js';
import { parseTimeRange } from './time-bound.js';
import { UsageError } from './usage-error.js';

/** The row filters shared by logs, stats and approvals: one declaration, one mapping. */
export const FILTER_FLAGS = {
  action: {
    type: 'string',
    multiple: true,
    valueName: 'ACTION',
    description: 'only this action (e.g. ai.tool_call)',
  },
  actor: { type: 'string', valueName: 'ID', description: 'only rows by this actor id' },
  subject: {
    type: 'string',
    valueName: 'ID',
    description: 'only rows about this data subject (subject_id, else a user actor)',
  },
  tenant: {
    type: 'string',
    valueName: 'T',
    description: 'only this tenant (also sets it for RLS)',
  },
  conversation: { type: 'string', valueName: 'C', description: 'only this conversation' },
  trace: { type: 'string', valueName: 'TRACE_ID', description: 'only this trace (32 hex)' },
  tool: { type: 'string', valueName: 'NAME', description: 'only calls of this tool' },
  approval: { type: 'string', valueName: 'ID', description: 'only rows of this approval id' },
  agent: { type: 'string', valueName: 'NAME', description: 'only rows of this agent' },
  task: { type: 'string', valueName: 'ID', description: 'only rows of this task id' },
  outcome: {
    type: 'string',
    multiple: true,
    valueName: 'OUTCOME',
    choices: ['success', 'failure', 'denied'],
    description: 'only this outcome',
  },
  'resource-type': { type: 'string', valueName: 'TYPE', description: 'only this resource type' },
  'resource-id': { type: 'string', valueName: 'ID', description: 'only this resource id' },
  service: { type: 'string', valueName: 'NAME', description: 'only rows of this service' },
  since: {
    type: 'string',
    valueName: '7d|DATE|MONTH|ISO',
    description:
      'from this time on: a duration ago (24h, 7d), a date, a month (2026-11) or ISO time',
  },
  until: {
    type: 'string',
    valueName: '1h|DATE|MONTH|ISO',
    description: 'up to this time; a date or month includes the whole of it',
  },
} as const satisfies Record<string, FlagSpec>;

export function filterFromFlags(
  values: FlagValues<typeof FILTER_FLAGS>,
  now: number = Date.now(),
): AuditLogFilter {
  if (values.trace !== undefined && !/^[0-9a-fA-F]{32}$/.test(values.trace)) {
    throw new UsageError(`--trace expects a 32-character hex trace id, got "${values.trace}"`);
  }
  const filter: AuditLogFilter = {};
  if (values.action?.length) filter.action = values.action;
  if (values.outcome?.length) filter.outcome = values.outcome;
  const direct: Array<[keyof typeof values, keyof AuditLogFilter]> = [
    ['actor', 'actorId'],
    ['subject', 'subjectId'],
    ['tenant', 'tenantId'],
    ['conversation', 'conversationId'],
    ['trace', 'traceId'],
    ['tool', 'toolName'],
    ['approval', 'approvalId'],
    ['agent', 'agentName'],
    ['task', 'taskId'],
    ['resource-type', 'resourceType'],
    ['resource-id', 'resourceId'],
    ['service', 'serviceName'],
  ];
  for (const [flag, key] of direct) {
    const value = values[flag];
    if (typeof value === 'string') (filter as Record<string, unknown>)[key] = value;
  }
  Object.assign(filter, parseTimeRange({ since: values.since, until: values.until }, now));
  return filter;
}
