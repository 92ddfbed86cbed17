/**
 * What limits the figures whose targets the bench reports as missed, printed under their group's
 * table in docs/performance.md (`bench/report.ts`). Where a profile shows it, the script that
 * made the profile is named, so anyone can run it again; the amounts are the table's.
 */
export const LIMITS: Readonly<Record<string, readonly string[]>> = {
  'hot path': [
    'What limits the non-audit span (`b*.caller-cpu` against `a.caller-cpu`; `b*.caller-chunk` is',
    'the same comparison read from the median chunk, which a loaded machine disturbs less): the',
    'compositions an app gets from `initAuditTelemetry` (`b.deferred`) or `createAuditPipeline()`',
    "(`b.pipeline`) stamp no identity on the caller's turn: the processor keeps the context each",
    'span started in, and the wrapped exporter writes the identity on each exported copy. What is',
    'left, per span: one recogniser lookup at start and one at end (a Map lookup on the name and',
    'one cached attribute read per match attribute: a read site of its own per key, where one',
    "loop over the keys cost about 10 ns a read), the end's check for `audit.action` and events,",
    'the parent lookup for helper overlap, and the SDK handing each span to a second processor',
    '(about 1% of a bare span, measured with an empty processor beside the batch processor; one',
    'processor forwarding to the other saved a third of that, so the two are not folded). The',
    "`AuditSampler` answers sooner than the SDK's default sampler, which pays back about 4%.",
    "`b` is `new AuditSpanProcessor()` with its default `stampIdentity: 'at-start'`: four or five",
    '`setAttribute` calls a span, and in SDK 3.x each validates its value with a new WeakSet. Four',
    'such calls on the bare SDK, without aitrail, cost 1.15× a bare span (the same four attributes',
    'given at start, 1.25×: start attributes are cleaned twice). The default stays: it is the one',
    'composition in which every exporter, wrapped or not, sees the identity on the span. An app',
    "composing by hand defers by wrapping its exporter with the pipeline's `exporter()`.",
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
    'What limits `v.rate` (`npx tsx bench/profile-verify.ts`: Node by area and function, and the',
    "Postgres backends' CPU from /proc): on two cores the database's COPY of the rows and the",
    "verifying thread's hashing and row checks share the machine; each chain streams as binary COPY",
    'tuples and is checked from the bytes, with one-shot SHA-256. Walk threads hash on free cores',
    'only with four or more CPUs: on two, the database needs the other core to send the rows, and',
    'threads cost more than they give. Memory is flat (`v.rss` against `v.rss.100k`), and a run',
    'given verified heads reads only the new rows (`v.incr`).',
  ],
  'embedded store: app': [
    'What limits the app figures: the longest block (`es.app.*.block`) is the loading of the',
    "OpenTelemetry SDK's modules by `initAuditTelemetry` on the app's thread, not the store, whose",
    'own longest block is `es.store.*.block` (PGlite runs on a worker thread). Peak RSS is the',
    "process with PGlite's worker: about the same as the Postgres-backed app's (`es.app.pg.*.rss`),",
    "whose writer thread and postgres.js take what PGlite's heap takes.",
  ],
};
