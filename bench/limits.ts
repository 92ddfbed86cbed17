/**
 * What limits the figures whose targets the bench reports as missed, printed under their group's
 * table in docs/performance.md (`bench/report.ts`). Where a profile shows it, the script that
 * made the profile is named, so anyone can run it again; the amounts are the table's.
 */
export const LIMITS: Readonly<Record<string, readonly string[]>> = {
  'hot path': [
    'What limits the non-audit span (`b*.caller-cpu` against `a.caller-cpu`, caller CPU from',
    '`node --cpu-prof` of both compositions in one process): identity is no longer stamped on the',
    "caller's turn in the compositions an app gets from `initAuditTelemetry` (`b.deferred`) or",
    '`createAuditPipeline()` (`b.pipeline`): the wrapped exporter writes it on each exported copy.',
    'What is left is the recogniser lookup at start and at end (a Map lookup and two or three',
    'attribute reads each, about 70 ns a span), the `onEnding` audit check, the context lookup, and',
    'the SDK handing each span to a second processor. `b` is `new AuditSpanProcessor()` with its',
    "default `stampIdentity: 'at-start'`: five `setAttribute` calls a span, each of which allocates",
    'in SDK 3.x; an app that composes by hand without the pipeline pays that (say',
    "`stampIdentity: 'deferred'` and wrap the exporter to avoid it).",
  ],
  redactor: [
    'What limits `redactValue` (`r.value.clean` against the deep copy `r.value.base`; profile of',
    '`redactValue` over the bench corpus with `node --cpu-prof`): strings that never recur (order',
    'ids, cursors, timestamps) are scanned and checked every time (about a fifth of the time), the',
    'check for a secret split across adjacent fields another fifth, reading lists in context about',
    'a seventh, and the walk itself costs 0.7× a deep copy with no detector at all. A JavaScript loop',
    'over characters costs 2–7 ns a character here against about 1 ns for a native regex or',
    '`indexOf`: reaching half the deep copy needs a native prefilter over the whole serialized',
    'value, with a proof for each detector that it never misses, which is not built.',
    '`r.text.clean` runs at about one regex pass over the same text (`r.text.base`): the prefilter',
    'is a single scan, and the remaining gap to 100 MB/s is that scan.',
  ],
  verify: [
    'What limits `v.rate` (`npx tsx bench/profile-verify.ts`: Node by area and function, the',
    "verifying process's CPU, and the Postgres backends' CPU from /proc): CPU, on both sides of",
    "the socket. Each chain's rows stream as binary COPY, planned as a walk of the chain index (left",
    'to estimates, Postgres scanned and sorted the whole table for every page, at 3× the CPU), and',
    'are checked from the bytes on a walk thread with a connection of its own, two chains at once:',
    'two threads and their two backends share the two cores. Per row the threads spend about',
    "a quarter in SHA-256 (the row's hash, its Merkle leaf and a tree node: three one-shot calls),",
    "a third writing canonical JSON (the metadata's jsonb text re-sorted), a tenth in the garbage",
    'collector and the rest in postgres.js and the walk; the database about a third of what Node',
    'spends. On a loaded machine the figure is the share of the cores the bench gets. Memory is',
    'flat (`v.rss` against `v.rss.100k`; the two walk threads are a constant part of it), and a',
    'run given verified heads reads only the new rows (`v.incr`).',
  ],
  'embedded store: app': [
    'What limits the app figures: the longest block (`es.app.*.block`) is the loading of the',
    "OpenTelemetry SDK's modules by `initAuditTelemetry` on the app's thread, not the store, whose",
    'own longest block is `es.store.*.block` (PGlite runs on a worker thread). Peak RSS is the',
    "process with PGlite's worker: about the same as the Postgres-backed app's (`es.app.pg.*.rss`),",
    "whose writer thread and postgres.js take what PGlite's heap takes.",
  ],
};
