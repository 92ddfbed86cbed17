/**
 * Realistic inputs: tool-call parameters of about 1 KB, chat messages, planted secrets, and
 * audit records with production-like cardinalities. Distributions come from a seeded PRNG so
 * two runs measure the same data; ids come from crypto random bytes, like the real ones.
 */
import { randomBytes } from 'node:crypto';
import type { AuditRecord } from '../src/store/audit-record.js';

export type Random = () => number;

/** mulberry32: a small, fast, seeded PRNG in [0, 1). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

let hexPool = '';
/** `length` random lowercase hex digits (trace and span ids). */
export function randomHex(length: number): string {
  if (hexPool.length < length) hexPool = randomBytes(8192).toString('hex');
  const hex = hexPool.slice(0, length);
  hexPool = hexPool.slice(length);
  return hex;
}

const STATUSES = ['shipped', 'delayed', 'partially_shipped', 'returned', 'processing'];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'ap-southeast-2'];
const NOTES = [
  'Customer called about the late parcel; the agent promised an update by Friday. Check whether the replacement shipped and whether a partial refund was already issued before offering another one.',
  'Escalated by the support lead: three orders in the same basket show different carriers. Confirm the split shipment and list the tracking numbers in the reply, most recent first.',
  'Account flagged for review after two chargebacks. Read-only lookup, do not change anything on the account until the risk team has replied to the ticket.',
];

/** Parameters of a tool call, about 1 KB as JSON, with nothing secret in them. */
export function toolParams(random: Random): Record<string, unknown> {
  const year = 2026;
  const orderIds = Array.from(
    { length: 12 },
    () => `ORD-${year}-${String(Math.floor(random() * 1e6)).padStart(6, '0')}`,
  );
  return {
    query: 'orders delayed by more than three days, shipped from the EU warehouse',
    customerId: `cus_${randomHex(14)}`,
    filters: {
      status: [pick(random, STATUSES), pick(random, STATUSES)],
      region: pick(random, REGIONS),
      createdAfter: '2026-10-01T00:00:00.000Z',
      createdBefore: '2026-11-27T00:00:00.000Z',
      carriers: ['dhl', 'ups', 'gls'],
      minTotal: Math.round(random() * 10_000) / 100,
    },
    pagination: { limit: 50, cursor: randomHex(40) },
    orderIds,
    include: ['items', 'shipments', 'refunds', 'notes'],
    note: pick(random, NOTES),
    locale: 'en-GB',
    dryRun: random() < 0.5,
  };
}

/** The same shape with secrets and personal data planted in keys, values and free text. */
export function toolParamsWithSecrets(random: Random): Record<string, unknown> {
  const params = toolParams(random);
  params.apiKey = `sk-proj-${randomHex(40)}`;
  params.note = `${pick(random, NOTES)} Reach the customer at jane.doe${Math.floor(random() * 1000)}@example.com or +44 20 7946 0${Math.floor(100 + random() * 899)}; card on file 4111 1111 1111 1111.`;
  params.auth = { password: 'hunter2-correct-horse', token: randomHex(32) };
  return params;
}

const SENTENCES = [
  'Can you check why my order has not arrived yet? It was supposed to be delivered on Tuesday.',
  'I looked up the shipment: it left the warehouse on Monday and is now with the local carrier.',
  'The tracking page says "in transit" but nothing has changed for three days, which is unusual.',
  'Would a partial refund of the shipping cost be possible, or should I wait until the end of the week?',
  'Summarise the last five tickets from this customer and suggest a reply in a friendly tone.',
  'Der Kunde möchte die Rechnung auf eine neue Adresse umstellen; bitte bestätige die Änderung.',
  'Le client demande si la commande peut être livrée en point relais à la place du domicile. 📦',
  'The assistant compared three plans and recommended the annual one, saving about 18% per year.',
  'Tool result: 12 orders found, 3 delayed, 1 returned; the oldest delayed order is 9 days late.',
  'Please do not share internal notes with the customer; keep the reply short and specific.',
];

/** Secrets and personal data as they turn up in chat: one per planted line. */
export const PLANTED_SECRETS = [
  'You can reach me at maria.garcia@example.org or on +1 (415) 555-0134 after six.',
  'My card is 4111 1111 1111 1111, expiry 12/29, in case you need it for the refund.',
  'Here is the key the vendor sent: sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD.',
  'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXZhbHVlLWhlcmU',
  'Refund to IBAN DE89 3704 0044 0532 0130 00 please, not to the card.',
  'the config still has password=Sommer2026! and api_key: "AKIAIOSFODNN7EXAMPLE" in it.',
  'The server at 192.168.10.24 rejected the login from postgres://admin:s3cret@db.internal/app.',
];

/** A chat message of about `bytes` characters; with secrets, one planted line in three. */
export function chatMessage(random: Random, bytes: number, withSecrets: boolean): string {
  let text = '';
  while (text.length < bytes) {
    const planted = withSecrets && random() < 1 / 3;
    text += `${pick(random, planted ? PLANTED_SECRETS : SENTENCES)} `;
  }
  return text.trimEnd();
}

const ACTIONS_BY_WEIGHT: ReadonlyArray<readonly [string, number]> = [
  ['ai.tool_call', 0.4],
  ['ai.chat_message', 0.35],
  ['ai.approval_created', 0.04],
  ['ai.approval_approved', 0.03],
  ['ai.approval_rejected', 0.01],
  ['ai.agent_handoff', 0.05],
  ['ai.task_completed', 0.04],
  ['billing.refund_issued', 0.08],
];
const TOOLS = ['search_orders', 'issue_refund', 'lookup_customer', 'send_email', 'create_ticket'];
const AGENTS = ['triage', 'billing', 'shipping', 'support'];

/** Production-like cardinalities of the generated audit table. */
export const DATASET_SHAPE = {
  actors: 10_000,
  conversations: 50_000,
  tenants: 20,
  /** `occurred_at` spreads uniformly over this many days before generation. */
  days: 30,
  /** One busy service actor (a billing bot) writes this share of the rows. */
  serviceActor: 'svc-billing-bot',
  serviceShare: 0.05,
} as const;

function weightedAction(random: Random): string {
  let r = random();
  for (const [action, weight] of ACTIONS_BY_WEIGHT) {
    r -= weight;
    if (r < 0) return action;
  }
  return 'ai.tool_call';
}

/** ISO 8601 with microseconds, as the processor writes `occurred_at`. */
function isoMicros(epochMs: number, micros: number): string {
  return `${new Date(epochMs).toISOString().slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

export function conversationActor(conversation: number): number {
  return (conversation * 7919) % DATASET_SHAPE.actors;
}

/**
 * One audit record of the generated table: conversations belong to one actor each, actors to
 * one tenant each; 5% of rows come from one busy service actor.
 */
export function datasetRecord(random: Random, now: number): AuditRecord {
  const shape = DATASET_SHAPE;
  const occurredAt = isoMicros(
    now - Math.floor(random() * shape.days * 86_400_000),
    Math.floor(random() * 1000),
  );
  const traceId = randomHex(32);
  const spanId = randomHex(16);
  const base = { eventId: `${traceId}:${spanId}`, occurredAt, traceId, spanId };
  if (random() < shape.serviceShare) {
    return {
      ...base,
      tenantId: `tenant-${Math.floor(random() * shape.tenants)}`,
      actorType: 'service',
      actorId: shape.serviceActor,
      subjectId: null,
      action: 'billing.refund_issued',
      outcome: 'success',
      resourceType: 'order',
      resourceId: `ORD-2026-${String(Math.floor(random() * 1e6)).padStart(6, '0')}`,
      conversationId: null,
      taskId: null,
      agentName: null,
      toolName: null,
      approvalId: null,
      metadata: { source: 'aitrail', amount: Math.round(random() * 20_000) / 100, currency: 'EUR' },
      serviceName: 'billing-worker',
    };
  }
  const conversation = Math.floor(random() * shape.conversations);
  const actor = conversationActor(conversation);
  const action = weightedAction(random);
  const toolName = action === 'ai.tool_call' ? pick(random, TOOLS) : null;
  const agentName = pick(random, AGENTS);
  const metadata: AuditRecord['metadata'] = {
    source: 'aitrail',
    spanName: toolName ? `execute_tool ${toolName}` : action,
    durationMs: Math.round(random() * 200_000) / 100,
    conversationId: `conv-${conversation}`,
    agentName,
  };
  if (toolName) {
    metadata.toolName = toolName;
    metadata.toolParams = toolParams(random) as AuditRecord['metadata']['toolParams'];
  } else if (action === 'ai.chat_message') {
    metadata.model = 'gpt-4o-mini';
    metadata.provider = 'openai';
    metadata.inputTokens = Math.floor(random() * 4000);
    metadata.outputTokens = Math.floor(random() * 800);
    metadata.content = [{ role: 'user', content: chatMessage(random, 300, false) }];
  }
  return {
    ...base,
    tenantId: `tenant-${actor % shape.tenants}`,
    actorType: 'user',
    actorId: `user-${actor}`,
    subjectId: `user-${actor}`,
    action,
    outcome: random() < 0.97 ? 'success' : 'failure',
    resourceType: null,
    resourceId: null,
    conversationId: `conv-${conversation}`,
    taskId: null,
    agentName,
    toolName,
    approvalId: action.startsWith('ai.approval') ? `appr-${randomHex(12)}` : null,
    metadata,
    serviceName: 'support-assistant',
  };
}
