import type { Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { AI_AUDIT_ACTIONS } from '../../actions.js';
import { AUDIT_ATTRS, GEN_AI_ATTRS, GEN_AI_EVALUATION_ATTRS } from '../../attributes.js';
import type { AuditRecord } from '../../store/audit-record.js';
import type { AiAuditMetadata } from '../../store/metadata.js';
import { eventRecord, type MappingEnvironment } from '../span-to-records.js';

/**
 * Span events of the GenAI conventions that are audit records: `gen_ai.evaluation.result`, an
 * evaluator's verdict on a response, recorded as `ai.evaluation_recorded` with the score and
 * label as given. Evaluations sent through the Logs API (the conventions allow either) are not
 * seen by a span processor.
 */
export function hasRecognisedEvent(span: ReadableSpan): boolean {
  const events = span.events;
  for (let i = 0; i < events.length; i++) {
    if (events[i]?.name === GEN_AI_EVALUATION_ATTRS.EVENT_NAME) return true;
  }
  return false;
}

export function recognisedEventRecords(span: ReadableSpan, env: MappingEnvironment): AuditRecord[] {
  const records: AuditRecord[] = [];
  span.events.forEach((event, index) => {
    const attributes = event.attributes ?? {};
    if (event.name !== GEN_AI_EVALUATION_ATTRS.EVENT_NAME) return;
    if (attributes[AUDIT_ATTRS.ACTION] !== undefined) return;
    records.push(
      eventRecord(
        span,
        index,
        evaluationAttributes(attributes),
        env,
        evaluationMetadata(attributes, env),
      ),
    );
  });
  return records;
}

function evaluationAttributes(attributes: Attributes): Attributes {
  const translated: Attributes = {
    [AUDIT_ATTRS.ACTION]: AI_AUDIT_ACTIONS.EVALUATION_RECORDED,
    [AUDIT_ATTRS.RESOURCE_TYPE]: 'evaluation',
  };
  const name = attributes[GEN_AI_EVALUATION_ATTRS.NAME];
  if (typeof name === 'string') translated[AUDIT_ATTRS.RESOURCE_ID] = name;
  for (const key of [GEN_AI_ATTRS.CONVERSATION_ID, GEN_AI_ATTRS.AGENT_NAME]) {
    const value = attributes[key];
    if (value !== undefined) translated[key] = value;
  }
  return translated;
}

/** Score, label and explanation as the evaluator gave them; free text redacted. */
function evaluationMetadata(attributes: Attributes, env: MappingEnvironment): AiAuditMetadata {
  const metadata: AiAuditMetadata = { source: 'gen-ai' };
  const text = (key: string) => {
    const value = attributes[key];
    return typeof value === 'string' && value !== '' ? env.redactor.redactText(value) : undefined;
  };
  const name = text(GEN_AI_EVALUATION_ATTRS.NAME);
  if (name !== undefined) metadata.evaluationName = name;
  const score = attributes[GEN_AI_EVALUATION_ATTRS.SCORE_VALUE];
  if (typeof score === 'number' && Number.isFinite(score)) metadata.evaluationScoreValue = score;
  const label = text(GEN_AI_EVALUATION_ATTRS.SCORE_LABEL);
  if (label !== undefined) metadata.evaluationScoreLabel = label;
  const explanation = text(GEN_AI_EVALUATION_ATTRS.EXPLANATION);
  if (explanation !== undefined) metadata.evaluationExplanation = explanation;
  const responseId = text(GEN_AI_EVALUATION_ATTRS.RESPONSE_ID);
  if (responseId !== undefined) metadata.responseId = responseId;
  return metadata;
}
