import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signHeaders } from '../src/sign-headers.ts';
import { prng } from './helpers.ts';
import { sdkHeaderCase } from './sdk-requests.ts';

describe('signHeaders', () => {
  it('matches the AWS doc example (GET /test.txt with Range)', () => {
    // "Signature Calculations for the Authorization Header: Transferring Payload in a Single
    // Chunk", example "GET Object".
    const headers = signHeaders({
      method: 'GET',
      endpoint: 'https://examplebucket.s3.amazonaws.com',
      path: '/test.txt',
      headers: { Range: 'bytes=0-9' },
      region: 'us-east-1',
      credentials: {
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      },
      now: Date.UTC(2013, 4, 24),
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    assert.equal(
      headers['authorization'],
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('equals @smithy/signature-v4 sign (every header) on 300 generated requests', async () => {
    const rand = prng(7);
    for (let i = 0; i < 300; i++) {
      const c = await sdkHeaderCase(rand, i);
      const ours = signHeaders({
        method: c.method,
        endpoint: c.endpoint,
        path: c.path,
        query: c.query,
        headers: c.headers,
        credentials: c.creds,
        region: c.region,
        now: c.now,
        payloadHash: c.payloadHash,
      });
      assert.deepEqual(ours, c.wire.headers, c.label);
    }
  });
});
