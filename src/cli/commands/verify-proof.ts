import { readFileSync } from 'node:fs';
import { verifyInclusionProof } from '../../store/merkle/proof.js';
import { createCheckpointSigner } from '../../store/writer/checkpoint-signer.js';
import { type CliCommand, defineCommand } from '../command.js';
import { printable } from '../format.js';
import { signerFromEnv } from '../signing-key.js';
import { CheckFailed, UsageError } from '../usage-error.js';

/** Checks an inclusion proof with no database: exit 0 when it holds, 1 on any change. */
export const command: CliCommand = defineCommand({
  name: 'verify-proof',
  summary: 'Check an inclusion proof offline, with no database (exit 1 when it does not hold)',
  details:
    'The proof is the JSON aitrail prove printed. The tree head signature is checked with --public-key (Ed25519 public key PEM), or AITRAIL_SIGNING_KEY for an HMAC deployment.',
  positionals: [
    { name: 'FILE', description: 'the proof JSON printed by aitrail prove', required: true },
  ],
  flags: {
    'public-key': {
      type: 'string',
      valueName: 'PEM_FILE',
      description:
        'the Ed25519 public key PEM (file, or the PEM text); default AITRAIL_SIGNING_KEY',
    },
  },
  async run({ flags, positionals, io }) {
    const file = positionals[0] as string;
    const keyOption = flags['public-key'];
    let signer: ReturnType<typeof createCheckpointSigner> | null;
    if (keyOption === undefined) {
      signer = signerFromEnv(io.env);
    } else {
      const key = keyOption.includes('-----BEGIN')
        ? keyOption
        : readText('--public-key', keyOption);
      try {
        signer = createCheckpointSigner(key);
      } catch (error) {
        throw new UsageError(`--public-key: ${(error as Error).message}`);
      }
    }
    if (signer === null)
      throw new UsageError('verify-proof needs --public-key PEM_FILE (or AITRAIL_SIGNING_KEY)');
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
    io.out.write(
      `${printable(
        `ok: ${p.eventId} is row ${p.chainSeq} of chain ${p.chainId}, included in the tree head of size ${verdict.treeSize} signed by ${verdict.keyId}`,
      )}\n`,
    );
  },
});

function readText(option: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${option}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}
