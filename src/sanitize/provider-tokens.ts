import { rules as recommendedRules } from '@secretlint/secretlint-rule-preset-recommend';
import type { Span } from './candidate-spans.js';

/**
 * Provider token formats from secretlint's recommended preset (AWS, GCP, GitHub, GitLab, npm,
 * Slack tokens and webhooks, SendGrid, Shopify, Stripe, OpenAI, Anthropic, Hugging Face, Linear,
 * Notion, 1Password, database connection strings, Vault, Vercel, Databricks, Docker, Figma,
 * Cloudflare, Tailscale, …): a maintained list we follow by upgrading the package instead of
 * keeping our own copy of every vendor's format.
 *
 * The preset is driven through secretlint's public rule interface (`create(context, options)`
 * returning a synchronous `file(source)` handler that calls `context.report({ range })`); the
 * core linter is not needed and would be asynchronous.
 */

interface RuleReport {
  range?: readonly [number, number];
}

interface RuleContext {
  report(descriptor: RuleReport): void;
  ignore(descriptor: RuleReport): void;
  createTranslator(messages: unknown): (id: string, data?: unknown) => { message: string };
  sharedOptions: Record<string, unknown>;
}

interface RuleCreator {
  meta: { id: string };
  create(
    context: RuleContext,
    options: Record<string, unknown>,
  ): { file?: (source: ProviderTokenSource) => void };
}

interface ProviderTokenSource {
  content: string;
  filePath: string;
  ext: string;
  contentType: 'text';
}

/** Directive handling (`secretlint-disable` comments) makes no sense for values. */
const SKIPPED_RULES: ReadonlySet<string> = new Set(['@secretlint/secretlint-rule-filter-comments']);

const TOKEN_CHARACTER = /[A-Za-z0-9+/=_-]/;

/**
 * Some rules report a range that starts at the whole match but is as long as the secret group
 * (the AWS secret access key rule: `aws_secret_access_key = "…"` is reported from the key name
 * on), which would leave the secret's tail. A reported range is therefore carried on to the end
 * of the token it stops inside: masking reaches at least the end of the secret.
 */
function endOfToken(text: string, end: number): number {
  let cut = end;
  while (cut > 0 && cut < text.length && TOKEN_CHARACTER.test(text.charAt(cut - 1))) {
    if (!TOKEN_CHARACTER.test(text.charAt(cut))) break;
    cut++;
  }
  return cut;
}

export interface ProviderTokenScanner {
  /** Rule ids in use, for documentation and tests. */
  readonly ruleIds: readonly string[];
  /** Spans of provider tokens in `text`, sorted and merged. */
  scan(text: string): Span[];
}

/** Builds one scanner: each rule's handler is created once and reused for every string. */
export function createProviderTokenScanner(): ProviderTokenScanner {
  const found: Array<readonly [number, number]> = [];
  const context: RuleContext = {
    report(descriptor) {
      if (descriptor.range) found.push(descriptor.range);
    },
    ignore() {},
    createTranslator: () => (id) => ({ message: id }),
    sharedOptions: {},
  };
  const handlers: Array<(source: ProviderTokenSource) => void> = [];
  const ruleIds: string[] = [];
  for (const rule of recommendedRules as unknown as RuleCreator[]) {
    if (SKIPPED_RULES.has(rule.meta.id)) continue;
    const file = rule.create(context, {}).file;
    if (file === undefined) continue;
    handlers.push(file);
    ruleIds.push(rule.meta.id);
  }
  return {
    ruleIds,
    scan(text) {
      found.length = 0;
      const source: ProviderTokenSource = {
        content: text,
        filePath: '',
        ext: '',
        contentType: 'text',
      };
      for (const handler of handlers) handler(source);
      if (found.length === 0) return [];
      const sorted = [...found].sort((a, b) => a[0] - b[0]);
      const merged: Array<[number, number]> = [];
      for (const [start, reportedEnd] of sorted) {
        const end = endOfToken(text, reportedEnd);
        const last = merged[merged.length - 1];
        if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
        else merged.push([start, end]);
      }
      return merged;
    },
  };
}
