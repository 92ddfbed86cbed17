import { AI_AUDIT_ACTIONS } from '../actions.js';
import { AUDIT_ATTRS, GEN_AI_EVALUATION_ATTRS } from '../attributes.js';
import { type CommonOptions, checkHelperOptions } from './common-options.js';
import { type AuditEventRef, emitAuditSpan, identityAttributes } from './emit.js';
import { checkOptionalNumber, checkOptionalString, checkString } from './options.js';
import { instrumentSettings } from './settings.js';

export interface RecordEvaluationOptions extends CommonOptions {
  /** The evaluation's name (`relevance`, `faithfulness`, …): `resource_id` of the row. */
  name: string;
  /** The score as the evaluator gave it; give it, a label, or both. */
  scoreValue?: number;
  scoreLabel?: string;
  /** The evaluator's explanation, recorded redacted. */
  explanation?: string;
  /** The model response evaluated. */
  responseId?: string;
}

const OWN_KEYS = ['name', 'scoreValue', 'scoreLabel', 'explanation', 'responseId'] as const;

/**
 * Records an evaluation of a model output (`ai.evaluation_recorded`), with the score and label as
 * the evaluator gave them, like a `gen_ai.evaluation.result` event of the GenAI conventions.
 */
export function recordEvaluation(options: RecordEvaluationOptions): AuditEventRef {
  const fn = 'recordEvaluation';
  checkHelperOptions(fn, options, OWN_KEYS);
  checkString(fn, 'name', options.name);
  checkOptionalNumber(fn, 'scoreValue', options.scoreValue);
  checkOptionalString(fn, 'scoreLabel', options.scoreLabel);
  checkOptionalString(fn, 'explanation', options.explanation);
  checkOptionalString(fn, 'responseId', options.responseId);
  if (options.scoreValue === undefined && options.scoreLabel === undefined) {
    throw new TypeError(`${fn}: give scoreValue, scoreLabel or both — what the evaluator said`);
  }
  const { redactor } = instrumentSettings();
  const attributes: Record<string, string | number> = {
    ...(identityAttributes(options) as Record<string, string>),
    [AUDIT_ATTRS.ACTION]: AI_AUDIT_ACTIONS.EVALUATION_RECORDED,
    [AUDIT_ATTRS.OUTCOME]: 'success',
    [AUDIT_ATTRS.RESOURCE_TYPE]: 'evaluation',
    [AUDIT_ATTRS.RESOURCE_ID]: options.name,
    [GEN_AI_EVALUATION_ATTRS.NAME]: options.name,
  };
  const metadata: Record<string, string | number> = { evaluationName: options.name };
  if (options.scoreValue !== undefined) {
    attributes[GEN_AI_EVALUATION_ATTRS.SCORE_VALUE] = options.scoreValue;
    metadata.evaluationScoreValue = options.scoreValue;
  }
  if (options.scoreLabel !== undefined) {
    attributes[GEN_AI_EVALUATION_ATTRS.SCORE_LABEL] = options.scoreLabel;
    metadata.evaluationScoreLabel = options.scoreLabel;
  }
  if (options.explanation !== undefined) {
    const explanation = redactor.redactText(options.explanation);
    attributes[GEN_AI_EVALUATION_ATTRS.EXPLANATION] = explanation;
    metadata.evaluationExplanation = explanation;
  }
  if (options.responseId !== undefined) {
    attributes[GEN_AI_EVALUATION_ATTRS.RESPONSE_ID] = options.responseId;
    metadata.responseId = options.responseId;
  }
  attributes[AUDIT_ATTRS.METADATA] = JSON.stringify(metadata);
  return emitAuditSpan(`evaluation ${options.name}`, attributes);
}
