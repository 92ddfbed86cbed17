/**
 * Proofs: the cost of the Merkle tree the writer keeps (appends per second to the compact
 * tree), and of an inclusion proof at 1,000,000 leaves: generation time from the leaves, its
 * size in bytes, and offline verification time. With the dataset, `proveEvent` end to end
 * against Postgres (rows read back, leaves rebuilt, root checked) for the newest row of a chain.
 */
import { generateKeyPairSync } from 'node:crypto';
import { CompactTree } from '../src/store/merkle/compact-tree.js';
import { inclusionPath, rootFromInclusionPath } from '../src/store/merkle/inclusion.js';
import { INCLUSION_PROOF_FORMAT, type InclusionProof } from '../src/store/merkle/proof.js';
import { leafHash, treeHash } from '../src/store/merkle/tree-hash.js';
import { openAuditStore } from '../src/store/open-store.js';
import { proveEvent } from '../src/store/verify/prove.js';
import { createCheckpointSigner } from '../src/store/writer/checkpoint-signer.js';
import type { Dataset } from './dataset.js';
import { type Figure, figure } from './stats.js';

const GROUP = 'proofs';
const LEAVES = 1_000_000;

export async function benchProofs(options: {
  runs: number;
  dataset: Dataset | null;
}): Promise<Figure[]> {
  const leaves = Array.from({ length: LEAVES }, (_, i) => leafHash(`row ${i}`));
  const appendRate: number[] = [];
  const generateMs: number[] = [];
  const verifyMs: number[] = [];
  let proofBytes = 0;
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = createCheckpointSigner(privateKey);
  const root = treeHash(leaves);
  for (let run = 0; run < options.runs; run++) {
    const tree = new CompactTree();
    let started = performance.now();
    for (const leaf of leaves) tree.append(leaf);
    appendRate.push(LEAVES / ((performance.now() - started) / 1000));
    const index = Math.floor(LEAVES * 0.7) + run;
    started = performance.now();
    const path = inclusionPath(leaves, index);
    generateMs.push(performance.now() - started);
    started = performance.now();
    const ok = rootFromInclusionPath(leaves[index] as Buffer, index, LEAVES, path)?.equals(root);
    verifyMs.push(performance.now() - started);
    if (!ok) throw new Error('the audit path does not lead to the root');
    const unsigned = {
      chainId: 'bench',
      kind: 'periodic' as const,
      chainSeq: LEAVES,
      headHash: '0'.repeat(64),
      rootHash: root.toString('hex'),
      prevCheckpointHash: '0'.repeat(64),
      hashVersion: 2 as const,
      createdAt: new Date().toISOString(),
      serviceName: 'bench',
      algorithm: signer.algorithm,
      keyId: signer.keyId,
      final: false,
    };
    const proof: InclusionProof = {
      format: INCLUSION_PROOF_FORMAT,
      eventId: 'e',
      chainId: 'bench',
      chainSeq: index + 1,
      leafIndex: index,
      hashVersion: 2,
      canonicalFields: '{}',
      leafHash: (leaves[index] as Buffer).toString('hex'),
      auditPath: path.map((h) => h.toString('hex')),
      treeHead: { ...unsigned, signature: signer.sign(unsigned) },
      keyId: signer.keyId,
    };
    proofBytes = Buffer.byteLength(JSON.stringify(proof));
  }
  const figures = [
    figure({
      group: GROUP,
      id: 'p.append',
      label: 'compact Merkle tree: leaf appends (the writer, per committed row)',
      unit: 'leaves/s',
      samples: appendRate,
    }),
    figure({
      group: GROUP,
      id: 'p.generate',
      label: `inclusion path at ${LEAVES.toLocaleString('en-US')} leaves, from the leaves in memory`,
      unit: 'ms',
      samples: generateMs,
    }),
    figure({
      group: GROUP,
      id: 'p.verify',
      label: `inclusion path check at ${LEAVES.toLocaleString('en-US')} leaves (offline)`,
      unit: 'ms',
      samples: verifyMs,
    }),
    figure({
      group: GROUP,
      id: 'p.size',
      label: `proof JSON at ${LEAVES.toLocaleString('en-US')} leaves (${Math.ceil(Math.log2(LEAVES))} path hashes, signed head; row fields excluded)`,
      unit: 'bytes',
      samples: [proofBytes],
    }),
  ];
  if (options.dataset) figures.push(await proveFromDatabase(options.runs, options.dataset));
  return figures;
}

async function proveFromDatabase(runs: number, dataset: Dataset): Promise<Figure> {
  const store = await openAuditStore({ databaseUrl: dataset.database.url, migrate: false });
  const samples: number[] = [];
  let note: string | undefined;
  try {
    const [chain] = await store.query<{ chain_id: string; rows: string }>(
      `SELECT c.chain_id, c.chain_seq AS rows FROM audit_checkpoints c
       WHERE c.kind <> 'legacy' ORDER BY c.chain_seq DESC LIMIT 1`,
    );
    if (!chain)
      return figure({
        group: GROUP,
        id: 'p.db',
        label: 'proveEvent',
        unit: 'ms',
        samples: [],
        note: 'no tree head',
      });
    const [row] = await store.query<{ event_id: string }>(
      'SELECT event_id FROM audit_logs WHERE chain_id = $1 AND chain_seq = $2',
      [chain.chain_id, chain.rows],
    );
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const proof = await proveEvent(store, { eventId: row?.event_id as string });
      samples.push(performance.now() - started);
      note = `tree of ${proof.treeHead.chainSeq.toLocaleString('en-US')} rows, proof ${Buffer.byteLength(JSON.stringify(proof))} bytes with the row's fields`;
    }
  } finally {
    await store.close();
  }
  return figure({
    group: GROUP,
    id: 'p.db',
    label: 'proveEvent against Postgres (rows read back, leaves rebuilt, root checked)',
    unit: 'ms',
    samples,
    note,
  });
}
