import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CompactTree } from '../src/store/merkle/compact-tree.js';
import {
  InclusionPathBuilder,
  inclusionPath,
  rootFromInclusionPath,
} from '../src/store/merkle/inclusion.js';
import {
  EMPTY_TREE_HASH,
  leafHash,
  nodeHash,
  splitPoint,
  treeHash,
} from '../src/store/merkle/tree-hash.js';

const leaves = Array.from({ length: 70 }, (_, i) => leafHash(`leaf ${i}`));

/** MTH(D[n]) exactly as RFC 9162 section 2.1.1 writes it: the reference the fast code must match. */
function referenceTreeHash(d: readonly Buffer[]): Buffer {
  if (d.length === 0) return createHash('sha256').digest();
  if (d.length === 1) return d[0] as Buffer;
  const k = splitPoint(d.length);
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(referenceTreeHash(d.slice(0, k)))
    .update(referenceTreeHash(d.slice(k)))
    .digest();
}

describe('RFC 9162 Merkle tree', () => {
  it('hashes leaves and nodes with distinct prefixes, and the empty tree as SHA-256 of nothing', () => {
    expect(EMPTY_TREE_HASH.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    // SHA-256(0x00) for the empty leaf.
    expect(leafHash('').toString('hex')).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    expect(nodeHash(leaves[0] as Buffer, leaves[1] as Buffer)).not.toEqual(
      leafHash(Buffer.concat([leaves[0] as Buffer, leaves[1] as Buffer])),
    );
  });

  it('the compact tree and treeHash give the root of the recursive definition at every size', () => {
    const tree = new CompactTree();
    expect(tree.root()).toEqual(referenceTreeHash([]));
    expect(treeHash([])).toEqual(referenceTreeHash([]));
    leaves.forEach((leaf, i) => {
      tree.append(leaf);
      const reference = referenceTreeHash(leaves.slice(0, i + 1)).toString('hex');
      expect(tree.root().toString('hex')).toBe(reference);
      expect(treeHash(leaves.slice(0, i + 1)).toString('hex')).toBe(reference);
    });
  });

  it('leaf and node hashes are SHA-256 over the 0x00 and 0x01 prefixed bytes', () => {
    const left = leaves[0] as Buffer;
    const right = leaves[1] as Buffer;
    expect(nodeHash(left, right)).toEqual(
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([1]), left, right]))
        .digest(),
    );
    expect(leafHash('row é')).toEqual(
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([0]), Buffer.from('row é')]))
        .digest(),
    );
    expect(leafHash(Buffer.from('row é'))).toEqual(leafHash('row é'));
  });

  it('a tree continued from its frontier gives the same roots as the tree rebuilt from every leaf', () => {
    for (const cut of [0, 1, 2, 3, 7, 8, 9, 31, 32, 33, 64, 69]) {
      const before = new CompactTree();
      for (const leaf of leaves.slice(0, cut)) before.append(leaf);
      const frontier = before.frontier();
      expect(frontier.size).toBe(cut);
      // One hash per set bit of the size.
      expect(frontier.hashes).toHaveLength(cut.toString(2).replaceAll('0', '').length);
      const resumed = CompactTree.fromFrontier(JSON.parse(JSON.stringify(frontier)));
      expect(resumed.root()).toEqual(before.root());
      leaves.slice(cut).forEach((leaf, i) => {
        resumed.append(leaf);
        expect(resumed.root()).toEqual(referenceTreeHash(leaves.slice(0, cut + i + 1)));
      });
    }
  });

  it('a frontier whose hash count does not fit its size is refused with a TypeError', () => {
    const tree = new CompactTree();
    for (const leaf of leaves.slice(0, 5)) tree.append(leaf);
    const { hashes } = tree.frontier();
    expect(() => CompactTree.fromFrontier({ size: 7, hashes })).toThrow(TypeError);
    expect(() => CompactTree.fromFrontier({ size: 5, hashes: hashes.slice(1) })).toThrow(
      /frontier.hashes must hold 2 hash/,
    );
    expect(() =>
      CompactTree.fromFrontier({ size: 5, hashes: [hashes[0] as string, 'zz'] }),
    ).toThrow(/frontier.hashes\[1\]/);
    expect(() => CompactTree.fromFrontier({ size: -1, hashes: [] })).toThrow(/frontier.size/);
  });

  it('the audit path built while the leaves stream past equals the one built from all leaves', () => {
    for (const size of [1, 2, 3, 5, 8, 13, 64, 70]) {
      for (let index = 0; index < size; index++) {
        const builder = new InclusionPathBuilder(index, size);
        for (const leaf of leaves.slice(0, size)) builder.add(leaf);
        expect(builder.leaf).toEqual(leaves[index]);
        expect(builder.path()).toEqual(inclusionPath(leaves.slice(0, size), index));
      }
    }
    const unfinished = new InclusionPathBuilder(2, 4);
    unfinished.add(leaves[0] as Buffer);
    expect(() => unfinished.path()).toThrow(RangeError);
  });

  it('every leaf has an audit path of at most ceil(log2 n) hashes that leads to the root', () => {
    for (const size of [1, 2, 3, 5, 8, 13, 64, 70]) {
      const root = treeHash(leaves.slice(0, size));
      for (let index = 0; index < size; index++) {
        const path = inclusionPath(leaves.slice(0, size), index);
        expect(path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(size)));
        expect(rootFromInclusionPath(leaves[index] as Buffer, index, size, path)).toEqual(root);
      }
    }
  });

  it('a path for another index, size or leaf does not lead to the root', () => {
    const size = 13;
    const root = treeHash(leaves.slice(0, size));
    const path = inclusionPath(leaves.slice(0, size), 6);
    expect(rootFromInclusionPath(leaves[7] as Buffer, 6, size, path)).not.toEqual(root);
    expect(rootFromInclusionPath(leaves[6] as Buffer, 7, size, path)).not.toEqual(root);
    expect(rootFromInclusionPath(leaves[6] as Buffer, 6, size, path.slice(1))).toBeNull();
    expect(
      rootFromInclusionPath(leaves[6] as Buffer, 6, size, [...path, path[0] as Buffer]),
    ).toBeNull();
  });
});
