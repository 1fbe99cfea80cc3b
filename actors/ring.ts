/**
 * Placement: which live hub node owns which shard, by rendezvous (highest-random-weight)
 * hashing. Every node computes the same answer from the same member list, with no
 * coordination; when a node joins, only the shards whose highest weight is now the new node
 * move (≈ 1/(N+1) of them) and nothing else; when one leaves, only its own shards move.
 * Measured balance and movement: `npm run bench -- rebalance` and ring.test.ts.
 */
import { fnv1a32, mix32 } from '../bus/mod.ts';

export class HashRing {
  readonly nodes: readonly string[];
  readonly #seeds: Uint32Array;

  constructor(nodes: Iterable<string>) {
    this.nodes = [...new Set(nodes)].sort();
    this.#seeds = Uint32Array.from(this.nodes, (node) => fnv1a32(node));
  }

  /** The node owning `shard`, or undefined when there are no nodes. */
  ownerOf(shard: number): string | undefined {
    let best = -1;
    let owner: string | undefined;
    for (let i = 0; i < this.nodes.length; i++) {
      const weight = mix32(this.#seeds[i]!, shard);
      if (weight > best) {
        best = weight;
        owner = this.nodes[i];
      }
    }
    return owner;
  }

  /** The shards of `0..shards-1` that `node` owns. */
  shardsOf(node: string, shards: number): number[] {
    const out: number[] = [];
    for (let s = 0; s < shards; s++) if (this.ownerOf(s) === node) out.push(s);
    return out;
  }

  /** Owner of every shard, as an array indexed by shard. */
  assignment(shards: number): (string | undefined)[] {
    return Array.from({ length: shards }, (_, s) => this.ownerOf(s));
  }
}
