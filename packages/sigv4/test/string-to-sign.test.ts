import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chunkStringToSign,
  credentialScope,
  EMPTY_SHA256,
  trailerStringToSign,
} from '../src/string-to-sign.ts';

describe('string to sign', () => {
  it('scopes credentials as date/region/service/aws4_request', () => {
    assert.equal(credentialScope('20130524', 'us-east-1', 's3'), '20130524/us-east-1/s3/aws4_request');
  });
  it('chains chunk signatures over the previous signature and the empty hash', () => {
    assert.equal(
      chunkStringToSign('D', 'S', 'prev', 'h'),
      `AWS4-HMAC-SHA256-PAYLOAD\nD\nS\nprev\n${EMPTY_SHA256}\nh`,
    );
  });
  it('labels trailer signatures AWS4-HMAC-SHA256-TRAILER', () => {
    assert.equal(trailerStringToSign('D', 'S', 'prev', 'h'), 'AWS4-HMAC-SHA256-TRAILER\nD\nS\nprev\nh');
  });
});
