import type { Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_RECOGNISERS,
  RecogniserIndex,
  type SpanRecogniser,
} from '../src/processor/recognisers/index.js';

/** A source known by the value `tool` of its own attribute. */
function recogniserOn(attribute: string, visibleAtStart = true): SpanRecogniser {
  return {
    source: attribute,
    matchOn: { attribute },
    mappings: { tool: { action: `ai.tool_call.${attribute}` } },
    visibleAtStart,
  };
}

function ended(name: string, attributes: Attributes): ReadableSpan {
  return { name, attributes } as unknown as ReadableSpan;
}

const SOURCES = ['a.kind', 'b.kind', 'c.kind', 'd.kind', 'e.kind', 'f.kind'];

describe('RecogniserIndex', () => {
  it('claims a span by any of its recognisers, however many match attributes they read', () => {
    const index = new RecogniserIndex(SOURCES.map((attribute) => recogniserOn(attribute)));
    for (const attribute of SOURCES) {
      const found = index.find(ended('call', { [attribute]: 'tool' }));
      expect(found?.recogniser.source).toBe(attribute);
      expect(index.findAtStart('call', { [attribute]: 'tool' })?.recogniser.source).toBe(attribute);
    }
    expect(index.find(ended('call', { 'g.kind': 'tool', 'a.kind': 'other' }))).toBeUndefined();
  });

  it('at start, knows only the sources that set their match value at start', () => {
    const index = new RecogniserIndex([
      recogniserOn('a.kind'),
      recogniserOn('b.kind', false),
      recogniserOn('c.kind'),
      recogniserOn('d.kind', false),
      recogniserOn('e.kind', false),
    ]);
    for (const [attribute, atStart] of [
      ['a.kind', true],
      ['b.kind', false],
      ['c.kind', true],
      ['d.kind', false],
      ['e.kind', false],
    ] as const) {
      expect(index.findAtStart('call', { [attribute]: 'tool' }) !== undefined).toBe(atStart);
      expect(index.find(ended('call', { [attribute]: 'tool' }))?.recogniser.source).toBe(attribute);
    }
  });

  it('lets the first recogniser listed win when two claim the same span', () => {
    const index = new RecogniserIndex(BUILT_IN_RECOGNISERS);
    const mcpToolCall = ended('tools/call lookup', {
      'mcp.method.name': 'tools/call',
      'gen_ai.operation.name': 'execute_tool',
    });
    expect(index.find(mcpToolCall)?.recogniser.source).toBe('mcp');
  });

  it('reads match values as strings only, and names through a Map', () => {
    const index = new RecogniserIndex(BUILT_IN_RECOGNISERS);
    expect(index.find(ended('constructor', { 'gen_ai.operation.name': 7 }))).toBeUndefined();
    expect(index.find(ended('ai.toolCall', {}))?.recogniser.source).toBe('vercel-ai');
    expect(
      index.find(ended('work', { 'openinference.span.kind': 'TOOL' }))?.recogniser.source,
    ).toBe('openinference');
    expect(index.findAtStart('work', { 'openinference.span.kind': 'TOOL' })).toBeUndefined();
  });
});
