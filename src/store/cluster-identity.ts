import { randomBytes } from 'node:crypto';
import type { ArchiveEntry } from './seed-archive.js';

const CONTROL_FILE = 'global/pg_control';
const WAL_SEGMENT = /^pg_wal\/[0-9A-F]{24}$/;
/** XLogLongPageHeaderData: the 24-byte short header, then `xlp_sysid`. */
const WAL_SYSID_OFFSET = 24;
/** `xlp_info` bit of a segment's first page: the long header, which carries the identifier. */
const XLP_LONG_HEADER = 0x0002;

/**
 * Gives a copy of a Postgres cluster its own system identifier. initdb draws one per cluster
 * and aitrail binds journals to it (writer/database-identity.ts), so every store planted from
 * the one seed must not share the seed's. Postgres keeps it in two places: `global/pg_control`
 * (the first field of the control data, which ends with its CRC-32C) and the long header at the
 * start of each WAL segment, which must match the control file. Changes `entries` in place and
 * returns the new identifier; throws when the files do not have the expected shape.
 */
export function giveNewSystemIdentifier(entries: ArchiveEntry[]): bigint {
  const control = entries.find((e) => e.path === CONTROL_FILE && e.kind === 'file');
  if (!control) throw new Error(`the cluster has no ${CONTROL_FILE}`);
  const controlData = Buffer.alloc(control.size);
  control.data.copy(controlData);
  const crcOffset = controlCrcOffset(controlData);
  const previous = controlData.readBigUInt64LE(0);
  const identifier = newSystemIdentifier();

  const segments = entries.filter((e) => e.kind === 'file' && WAL_SEGMENT.test(e.path));
  if (segments.length === 0) throw new Error('the cluster has no WAL segment');
  const patched = segments.map((segment) => {
    const head = Buffer.alloc(WAL_SYSID_OFFSET + 8);
    segment.data.copy(head, 0, 0, head.length);
    if (
      (head.readUInt16LE(2) & XLP_LONG_HEADER) === 0 ||
      head.readBigUInt64LE(WAL_SYSID_OFFSET) !== previous
    ) {
      throw new Error(`${segment.path} does not start with a header naming the cluster`);
    }
    const data = Buffer.from(segment.data);
    data.writeBigUInt64LE(identifier, WAL_SYSID_OFFSET);
    return { segment, data };
  });

  controlData.writeBigUInt64LE(identifier, 0);
  controlData.writeUInt32LE(crc32c(controlData.subarray(0, crcOffset)), crcOffset);
  control.data = controlData;
  for (const { segment, data } of patched) segment.data = data;
  return identifier;
}

/**
 * Where the control data's CRC-32C sits: the layout changes between Postgres versions, so it is
 * found rather than assumed, as the one 4-byte slot holding the CRC of everything before it.
 */
function controlCrcOffset(control: Buffer): number {
  const table = crc32cTable();
  let crc = 0xffffffff;
  let found = -1;
  for (let offset = 0; offset + 4 <= Math.min(control.length, 4096); offset++) {
    if (
      offset >= 8 &&
      offset % 4 === 0 &&
      (crc ^ 0xffffffff) >>> 0 === control.readUInt32LE(offset)
    ) {
      if (found !== -1) throw new Error(`${CONTROL_FILE} has more than one candidate checksum`);
      found = offset;
    }
    crc = (table[(crc ^ (control[offset] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  if (found === -1) throw new Error(`${CONTROL_FILE} has no valid checksum`);
  return found;
}

/** Like initdb's: the time in the high bits, so identifiers sort by creation; random below. */
function newSystemIdentifier(): bigint {
  const seconds = BigInt(Math.floor(Date.now() / 1000));
  return (seconds << 32n) | BigInt(randomBytes(4).readUInt32LE(0));
}

function crc32c(bytes: Uint8Array): number {
  const table = crc32cTable();
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Postgres uses. */
function crc32cTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}
