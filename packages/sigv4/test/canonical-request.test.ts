import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalRequest } from '../src/canonical-request.ts';
import { stringToSign } from '../src/string-to-sign.ts';

describe('canonicalRequest', () => {
  it("builds the AWS doc's GET /test.txt canonical request and string to sign", () => {
    // "Signature Calculations for the Authorization Header: Transferring Payload in a Single Chunk".
    const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const cr = canonicalRequest(
      'GET',
      '/test.txt',
      '',
      `host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:${empty}\nx-amz-date:20130524T000000Z\n`,
      'host;range;x-amz-content-sha256;x-amz-date',
      empty,
    );
    assert.equal(
      cr,
      'GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n' +
        `x-amz-content-sha256:${empty}\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n${empty}`,
    );
    assert.equal(
      stringToSign('20130524T000000Z', '20130524/us-east-1/s3/aws4_request', cr),
      'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n' +
        '7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
    );
  });
});
