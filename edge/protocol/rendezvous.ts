/**
 * Weighted rendezvous hashing (highest random weight): which member of a pool a key goes to, and
 * the whole order for fail-over. Every process computes the same answer from the same pool;
 * adding a member moves only the keys it now wins (its weight's share), removing one moves only
 * its own keys. The gateway names an edge's broker with it and the agent's mirrors are ranked by
 * it, so it lives in the protocol, which the on-device agent may load (the hashes are bus/hash.ts's,
 * copied: the agent loads nothing of the hub).
 */

/** A pool member: its id is what is hashed; weight ≤ 0 takes no keys. */
export interface RendezvousMember {
  readonly id: string;
  readonly weight: number;
}

/** 32-bit FNV-1a over the UTF-16 code units of a string (the same as bus/hash.ts's fnv1a32). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A well-mixed 32-bit hash of two 32-bit values (murmur3 finaliser; bus/hash.ts's mix32). */
export function mix32(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** `-weight / ln(u)` for a uniform u in (0, 1) per (key, member): the largest wins. */
function score(keyHash: number, member: RendezvousMember): number {
  const u = (mix32(fnv1a32(member.id), keyHash) + 0.5) / 2 ** 32;
  return -member.weight / Math.log(u);
}

/** The member `key` goes to, or undefined with an empty pool (or only zero weights). */
export function pickByRendezvous<M extends RendezvousMember>(key: string, pool: readonly M[]): M | undefined {
  const keyHash = fnv1a32(key);
  let best = Number.NEGATIVE_INFINITY;
  let chosen: M | undefined;
  for (const member of pool) {
    if (member.weight <= 0) continue;
    const s = score(keyHash, member);
    if (s > best || (s === best && chosen !== undefined && member.id < chosen.id)) {
      best = s;
      chosen = member;
    }
  }
  return chosen;
}

/**
 * Every member with a weight, best first for `key` (the first is `pickByRendezvous`'s choice): the
 * order to fall over in. Removing a member leaves the others' order as it was.
 */
export function rankByRendezvous<M extends RendezvousMember>(key: string, pool: readonly M[]): M[] {
  const keyHash = fnv1a32(key);
  return pool
    .filter((m) => m.weight > 0)
    .map((member) => ({ member, s: score(keyHash, member) }))
    .sort((a, b) => b.s - a.s || (a.member.id < b.member.id ? -1 : a.member.id > b.member.id ? 1 : 0))
    .map((x) => x.member);
}
