import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants } from 'node:zlib';

/**
 * A directory tree as one buffer: a 4-byte little-endian length, a JSON index (the caller's
 * manifest, then every directory and file), then the files' bytes one after another, all
 * brotli-compressed. A file is stored without its trailing zero bytes and given back its full
 * size as a sparse tail: a Postgres WAL segment is 16 MiB, nearly all of it zeros.
 */
export interface ArchiveEntry {
  /** Relative path with `/` separators. */
  path: string;
  kind: 'directory' | 'file';
  /** File size on disk. */
  size: number;
  /** The file's bytes up to its last non-zero byte. */
  data: Buffer;
}

export interface Archive<M> {
  manifest: M;
  entries: ArchiveEntry[];
}

interface IndexEntry {
  path: string;
  kind: 'directory' | 'file';
  size: number;
  stored: number;
}

interface ArchiveIndex<M> {
  manifest: M;
  entries: IndexEntry[];
}

const compress = promisify(brotliCompress);
const decompress = promisify(brotliDecompress);

/** Packs `directory` (without the paths `skip` names), parents listed before their children. */
export async function packDirectory<M>(
  directory: string,
  manifest: M,
  skip: ReadonlySet<string> = new Set(),
): Promise<Buffer> {
  const entries: ArchiveEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    const children = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    for (const child of children) {
      const full = join(dir, child.name);
      const path = relative(directory, full).split(sep).join('/');
      if (skip.has(path)) continue;
      if (child.isDirectory()) {
        entries.push({ path, kind: 'directory', size: 0, data: Buffer.alloc(0) });
        await walk(full);
      } else if (child.isFile()) {
        const bytes = await readFile(full);
        let end = bytes.length;
        while (end > 0 && bytes[end - 1] === 0) end--;
        entries.push({ path, kind: 'file', size: bytes.length, data: bytes.subarray(0, end) });
      } else {
        throw new Error(`packDirectory: ${full} is neither a file nor a directory`);
      }
    }
  };
  await walk(directory);
  return packArchive({ manifest, entries });
}

/** Packs entries as they are (parents before their children). */
export async function packArchive<M>(archive: Archive<M>): Promise<Buffer> {
  const index: ArchiveIndex<M> = {
    manifest: archive.manifest,
    entries: archive.entries.map(({ path, kind, size, data }) => ({
      path,
      kind,
      size,
      stored: data.length,
    })),
  };
  const header = Buffer.from(JSON.stringify(index));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const raw = Buffer.concat([length, header, ...archive.entries.map((e) => e.data)]);
  // A 16 MiB window finds the repeats between relation files; quality 9 packs in about a second.
  return compress(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 9,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
}

/** Unpacks an archive in memory; a damaged or hostile index is an error. */
export async function readArchive<M>(packed: Buffer): Promise<Archive<M>> {
  const raw = await decompress(packed);
  const headerLength = raw.readUInt32LE(0);
  const index = JSON.parse(raw.subarray(4, 4 + headerLength).toString('utf8')) as ArchiveIndex<M>;
  let offset = 4 + headerLength;
  const entries = index.entries.map((entry): ArchiveEntry => {
    const data = raw.subarray(offset, offset + entry.stored);
    offset += entry.stored;
    if (data.length !== entry.stored || entry.stored > entry.size || !isSafePath(entry.path)) {
      throw new Error(`archive entry ${JSON.stringify(entry.path)} is damaged`);
    }
    return { path: entry.path, kind: entry.kind, size: entry.size, data };
  });
  if (offset !== raw.length) throw new Error('archive has bytes after its last entry');
  return { manifest: index.manifest, entries };
}

/** Relative, without `..` or empty segments: an archive never writes outside its target. */
function isSafePath(path: string): boolean {
  return (
    path.length > 0 &&
    !path.startsWith('/') &&
    path.split('/').every((part) => part !== '' && part !== '.' && part !== '..')
  );
}
