import { describe, expect, it } from 'vitest';
import { CompactTree } from '../src/store/merkle/compact-tree.js';
import { inclusionPath, rootFromInclusionPath } from '../src/store/merkle/inclusion.js';
import { EMPTY_TREE_HASH, leafHash, nodeHash, treeHash } from '../src/store/merkle/tree-hash.js';

const leaves = Array.from({ length: 70 }, (_, i) => leafHash(`leaf ${i}`));

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

  it('the compact tree gives the same root as the full recursive definition at every size', () => {
    const tree = new CompactTree();
    expect(tree.root()).toEqual(treeHash([]));
    leaves.forEach((leaf, i) => {
      tree.append(leaf);
      expect(tree.root().toString('hex')).toBe(treeHash(leaves.slice(0, i + 1)).toString('hex'));
    });
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
