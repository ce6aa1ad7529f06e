import { HmacKey, hmac, sha256Hex } from './crypto.ts';
import { Lru } from './lru.ts';
import type { Credentials } from './types.ts';

/**
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
 * Four HMACs per request would dominate signing, so keys are cached. The cache is bounded (LRU)
 * and keyed by a SHA-256 of the secret: a heap dump of the cache does not hand out secrets, and a
 * rotated secret gets a new entry instead of a stale key.
 */

export interface SigningKey {
  /** The raw 32-byte key (what aws-chunked verification and the tests need). */
  bytes: Buffer;
  /** The same key with its HMAC pads precomputed. */
  key: HmacKey;
}

const MAX_KEYS = 512;
const cache = new Lru<string, SigningKey>(MAX_KEYS);

export function deriveSigningKey(secret: string, shortDate: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret}`, shortDate);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

function cached(
  secretHash: string,
  secret: string,
  shortDate: string,
  region: string,
  service: string,
): SigningKey {
  const id = `${secretHash}/${shortDate}/${region}/${service}`;
  let entry = cache.get(id);
  if (entry === undefined) {
    const bytes = deriveSigningKey(secret, shortDate, region, service);
    entry = { bytes, key: new HmacKey(bytes) };
    cache.set(id, entry);
  }
  return entry;
}

export function signingKey(secret: string, shortDate: string, region: string, service: string): SigningKey {
  return cached(sha256Hex(secret), secret, shortDate, region, service);
}

// Signers pass the same Credentials object over and over: remember its secret's hash by object
// identity (weakly, so a dropped credentials object takes its entry with it).
const secretHashes = new WeakMap<Credentials, { secret: string; hash: string }>();

export function signingKeyFor(
  credentials: Credentials,
  shortDate: string,
  region: string,
  service: string,
): SigningKey {
  const secret = credentials.secretAccessKey;
  let h = secretHashes.get(credentials);
  if (h === undefined || h.secret !== secret) {
    h = { secret, hash: sha256Hex(secret) };
    secretHashes.set(credentials, h);
  }
  return cached(h.hash, secret, shortDate, region, service);
}

/** For tests: how many keys are cached, and a way to start cold. */
export const signingKeyCache = {
  get size(): number {
    return cache.size;
  },
  max: MAX_KEYS,
  clear(): void {
    cache.clear();
  },
  /** The cache's keys, so tests can check no secret is in them. */
  keys(): string[] {
    return cache.keys();
  },
};
