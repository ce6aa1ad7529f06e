import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoSeconds, parseAmzDate, toAmzDate } from '../src/amz-date.ts';
import { safeEqual } from '../src/crypto.ts';
import { Lru } from '../src/lru.ts';
import { deriveSigningKey, signingKey, signingKeyCache } from '../src/signing-key.ts';

describe('signing key', () => {
  it('derives the AWS general reference example key (20120215/us-east-1/iam)', () => {
    // "Examples of how to derive a signing key for Signature Version 4".
    const key = deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam');
    assert.equal(key.toString('hex'), 'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });

  it('caches per secret/date/region/service and returns the same entry on a hit', () => {
    signingKeyCache.clear();
    const a = signingKey('s1', '20260102', 'us-east-1', 's3');
    assert.equal(signingKey('s1', '20260102', 'us-east-1', 's3'), a);
    assert.notEqual(signingKey('s2', '20260102', 'us-east-1', 's3'), a);
    assert.notEqual(signingKey('s1', '20260103', 'us-east-1', 's3'), a);
    assert.equal(signingKeyCache.size, 3);
  });

  it(`stays bounded at ${signingKeyCache.max} entries under 2000 distinct secrets`, () => {
    signingKeyCache.clear();
    for (let i = 0; i < 2000; i++) signingKey(`secret-${i}`, '20260102', 'us-east-1', 's3');
    assert.equal(signingKeyCache.size, signingKeyCache.max);
  });

  it('never keys the cache by the secret itself (only its SHA-256)', () => {
    signingKeyCache.clear();
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    signingKey(secret, '20260102', 'us-east-1', 's3');
    const [id] = signingKeyCache.keys();
    assert.ok(id !== undefined && !id.includes(secret) && !id.includes('wJalr'));
    assert.match(id, /^[0-9a-f]{64}\/20260102\/us-east-1\/s3$/);
  });
});

describe('Lru', () => {
  it('evicts the least recently used entry, not the oldest inserted', () => {
    const l = new Lru<string, number>(2);
    l.set('a', 1);
    l.set('b', 2);
    l.get('a');
    l.set('c', 3);
    assert.equal(l.get('b'), undefined);
    assert.equal(l.get('a'), 1);
  });
});

describe('amz dates', () => {
  it('formats YYYYMMDDTHHMMSSZ and parses it back', () => {
    const t = Date.UTC(2013, 4, 24, 1, 2, 3);
    assert.deepEqual(toAmzDate(t), { long: '20130524T010203Z', short: '20130524' });
    assert.equal(parseAmzDate('20130524T010203Z'), t);
  });
  it('refuses 20130231T000000Z (no such day), 2013-05-24T00:00:00Z and a missing Z', () => {
    for (const bad of ['20130231T000000Z', '2013-05-24T00:00:00Z', '20130524T000000']) {
      assert.ok(Number.isNaN(parseAmzDate(bad)), bad);
    }
  });
  it('prints ISO seconds without milliseconds', () => {
    assert.equal(isoSeconds(Date.UTC(2013, 4, 24, 0, 0, 0, 999)), '2013-05-24T00:00:00Z');
  });
});

describe('safeEqual', () => {
  it('is true only for identical strings, false for a different length without throwing', () => {
    assert.equal(safeEqual('abc', 'abc'), true);
    assert.equal(safeEqual('abc', 'abd'), false);
    assert.equal(safeEqual('abc', 'abcd'), false);
  });
});
