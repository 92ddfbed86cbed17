import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { verifyInclusionProof } from '../../store/merkle/proof.js';
import { createCheckpointSigner } from '../../store/writer/checkpoint-signer.js';
import { printable } from '../format.js';
import { CheckFailed, UsageError } from '../usage-error.js';

export const VERIFY_PROOF_USAGE =
  'aitrail verify-proof FILE --public-key PEM_FILE  (offline; AITRAIL_SIGNING_KEY for an HMAC deployment)';

/** Checks an inclusion proof with no database: exit 0 when it holds, 1 on any change. */
export async function verifyProofCommand(
  args: string[],
  out: NodeJS.WritableStream,
): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { 'public-key': { type: 'string' } },
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    throw new UsageError(`verify-proof expects exactly one FILE (${VERIFY_PROOF_USAGE})`);
  const keyOption = values['public-key'];
  const key =
    keyOption === undefined
      ? process.env.AITRAIL_SIGNING_KEY || undefined
      : keyOption.includes('-----BEGIN')
        ? keyOption
        : readText('--public-key', keyOption);
  if (key === undefined)
    throw new UsageError('verify-proof needs --public-key PEM_FILE (or AITRAIL_SIGNING_KEY)');
  let signer: ReturnType<typeof createCheckpointSigner>;
  try {
    signer = createCheckpointSigner(key);
  } catch (error) {
    throw new UsageError(`--public-key: ${(error as Error).message}`);
  }
  let proof: unknown;
  try {
    proof = JSON.parse(readText('FILE', file));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new CheckFailed(`proof ${file} is not valid JSON`);
  }
  const verdict = verifyInclusionProof(proof, { signer });
  if (!verdict.ok) throw new CheckFailed(`proof does not hold: ${verdict.reason}`);
  const p = proof as { eventId: string; chainId: string; chainSeq: number };
  out.write(
    `${printable(
      `ok: ${p.eventId} is row ${p.chainSeq} of chain ${p.chainId}, included in the tree head of size ${verdict.treeSize} signed by ${verdict.keyId}`,
    )}\n`,
  );
}

function readText(option: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${option}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}
