import type { Attributes } from '@opentelemetry/api';

/**
 * Attributes that hold prompts and completions under the conventions aitrail recognises: what
 * `captureContent` decides about on every exported span, ours and other libraries' alike.
 * Tool arguments and results are not content: they are redacted like tool params.
 */
const CONTENT_KEYS: ReadonlySet<string> = new Set([
  // GenAI semantic conventions, and the names before them.
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.prompt',
  'gen_ai.completion',
  // Vercel AI SDK (v5/v6 `ai.*` telemetry).
  'ai.prompt',
  'ai.prompt.messages',
  'ai.response.text',
  'ai.response.object',
  'ai.response.reasoning',
  // OpenInference.
  'llm.prompts',
]);

/** Flattened lists: `gen_ai.prompt.0.content`, `llm.input_messages.0.message.content`. */
const CONTENT_PREFIXES: readonly string[] = [
  'gen_ai.prompt.',
  'gen_ai.completion.',
  'llm.input_messages.',
  'llm.output_messages.',
  'llm.prompts.',
  'llm.prompt_template.variables',
];

/** OpenInference's `input.value`/`output.value`: a prompt and an answer, except on a tool's span. */
const OPENINFERENCE_IO: ReadonlySet<string> = new Set(['input.value', 'output.value']);
const OPENINFERENCE_KIND = 'openinference.span.kind';

/** Is `key` prompt or completion content, on a span with these attributes? */
export function isContentAttribute(key: string, spanAttributes: Attributes): boolean {
  if (CONTENT_KEYS.has(key)) return true;
  if (OPENINFERENCE_IO.has(key)) {
    const kind = spanAttributes[OPENINFERENCE_KIND];
    return kind !== undefined && kind !== 'TOOL';
  }
  for (const prefix of CONTENT_PREFIXES) if (key.startsWith(prefix)) return true;
  return false;
}
