// What the quota random walks (quota-ledger.test.ts, quota-counters.test.ts) share.
import type { UploadState } from '../../src/db/types.ts';

/** The moves complete, review and the sweeper make (and a claim handed back to `granted`). */
export const MOVES: Record<UploadState, UploadState[]> = {
  granted: ['uploaded', 'expired', 'rejected'],
  uploaded: ['granted', 'pending_review', 'verified', 'rejected'],
  pending_review: ['approved', 'rejected', 'withdrawn'],
  verified: [],
  approved: [],
  rejected: [],
  expired: [],
  withdrawn: [],
};

/** Deterministic, so a failure can be replayed: mulberry32. */
export function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
