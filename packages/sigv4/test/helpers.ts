import { Sha256 } from '@aws-crypto/sha256-js';
import { S3Error } from '@chute/errors';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials } from '../src/types.ts';

/** mulberry32: a small seeded PRNG, so a failing generated case can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rand: () => number, items: readonly T[]): T =>
  items[Math.floor(rand() * items.length)]!;

const KEY_PIECES = [
  'photos',
  'a b',
  'x+y',
  'k=v',
  'me@host',
  'tilde~',
  'ünïcödé',
  '日本語',
  'emoji😀',
  '',
  "q'(!)*",
  'per%cent',
  'semi;colon',
  'comma,',
  'hash#',
  'dollar$&',
  'UPPER',
  '123',
  'dot.name',
];

/** Object keys S3 users really have: spaces, + = @ ~, unicode, repeated '/', reserved chars. */
export function oddKey(rand: () => number): string {
  const n = 1 + Math.floor(rand() * 4);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(pick(rand, KEY_PIECES));
  const key = parts.join('/');
  return key === '' || key.startsWith('/') ? `k${key}` : key;
}

export const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-west-2', 'eu-central-1'];

export function credentials(rand: () => number): Credentials {
  const c: Credentials = {
    accessKeyId: pick(rand, ['AKIAIOSFODNN7EXAMPLE', 'AKIDTEST', 'chute-dev']),
    secretAccessKey: pick(rand, ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'secret+/=', 's3cr3t']),
  };
  if (rand() < 0.3) c.sessionToken = pick(rand, ['FQoGZXIvYXdzE//token+/=', 'tok en']);
  return c;
}

/** A smithy SignatureV4 configured as S3 uses it (no path double-encoding). */
export function smithySigner(creds: Credentials, region: string): SignatureV4 {
  return new SignatureV4({ credentials: creds, region, service: 's3', sha256: Sha256, uriEscapePath: false });
}

/** The SDK's own path encoding (independent from ours): encodeURIComponent plus !'()*, '/' kept. */
export function sdkEncodePath(path: string): string {
  return path
    .split('/')
    .map((s) =>
      encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

/** Runs fn and returns the S3Error it throws (fails if it throws anything else or nothing). */
export function s3ErrorOf(fn: () => unknown): S3Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  throw new Error('expected an S3Error, nothing was thrown');
}

export const FIXED_NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
