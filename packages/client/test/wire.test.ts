// The small parsers: gateway and storage error bodies, the grant's clock, form framing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deadlineOf, isExpiry } from '../src/deadline.ts';
import { ChuteClientError, gatewayError, storageError } from '../src/errors.ts';
import { formBody } from '../src/transport/form.ts';

describe('error bodies', () => {
  test('the gateway\u2019s {error:{code,message,requestId}}, with Retry-After', () => {
    const e = gatewayError(
      429,
      JSON.stringify({ error: { code: 'quota_exceeded', message: 'Slow down.', requestId: 'req_1' } }),
      new Headers({ 'retry-after': '7' }),
    );
    assert.deepEqual(
      [e.code, e.message, e.status, e.requestId, e.retryAfterMs, e.source],
      ['quota_exceeded', 'Slow down.', 429, 'req_1', 7000, 'gateway'],
    );
  });

  test('not the gateway\u2019s JSON (a proxy\u2019s page, an empty body, JSON without error.code): http_<status>', () => {
    for (const body of ['<html>Bad gateway</html>', '', '{"error":"nope"}', '[1]', 'null']) {
      const e = gatewayError(502, body, new Headers({ 'x-request-id': 'rq' }));
      assert.deepEqual([e.code, e.status, e.requestId], ['http_502', 502, 'rq'], body);
    }
  });

  test('storage\u2019s XML error document, entities decoded; anything else http_<status>', () => {
    const e = storageError(
      403,
      '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired &amp; gone.</Message><RequestId>r1</RequestId></Error>',
      null,
    );
    assert.deepEqual(
      [e.code, e.message, e.requestId, e.source],
      ['AccessDenied', 'Invalid according to Policy: Policy expired & gone.', 'r1', 'storage'],
    );
    assert.equal(
      storageError(403, '<Error><Code>AccessDenied</Code><Message></Message></Error>', null).message,
      'Storage answered 403 AccessDenied.',
    );
    assert.equal(storageError(500, 'oops', '2').code, 'http_500');
    assert.equal(storageError(500, 'oops', '2').retryAfterMs, 2000);
  });
});

describe('the grant\u2019s clock', () => {
  const grant = (serverTime: string, expiresAt: string) => ({ serverTime, expiresAt });

  test('lifetime = expiresAt − serverTime, counted from arrival, whatever our clock says', () => {
    const received = Date.parse('2026-05-01T12:00:00Z');
    // The gateway's clock is a day behind ours: still 10 minutes to go.
    const d = deadlineOf(grant('2026-04-30T12:00:00Z', '2026-04-30T12:10:00Z'), received);
    assert.equal(d.at, received + 600_000);
    assert.equal(d.passed(received + 597_000), false);
    assert.equal(d.passed(received + 598_001), true, 'within the 2 s margin counts as passed');
  });

  test('unreadable times are an invalid_response', () => {
    assert.throws(() => deadlineOf(grant('yesterday', '2026-04-30T12:10:00Z'), 0), {
      code: 'invalid_response',
    });
  });

  test('expiry: grant_expired, storage\u2019s AccessDenied or 403 saying expired, or any 403 past the deadline', () => {
    const err = (code: string, source: 'gateway' | 'storage' | 'client', status: number, message = 'x') =>
      new ChuteClientError(code, message, { source, status });
    const fresh = deadlineOf(grant('2026-01-01T00:00:00Z', '2026-01-01T00:10:00Z'), Date.now());
    const old = deadlineOf(grant('2026-01-01T00:00:00Z', '2026-01-01T00:10:00Z'), Date.now() - 3600_000);
    assert.equal(isExpiry(err('grant_expired', 'gateway', 410), fresh), true);
    assert.equal(isExpiry(err('AccessDenied', 'storage', 403, 'Request has expired'), fresh), true);
    assert.equal(
      isExpiry(err('AccessDenied', 'storage', 403, 'Invalid according to Policy: Policy expired.'), fresh),
      true,
    );
    // RGW: AccessDenied, no message.
    assert.equal(isExpiry(err('AccessDenied', 'storage', 403, ''), fresh), true);
    assert.equal(isExpiry(err('SignatureDoesNotMatch', 'storage', 403, 'no'), old), true);
    assert.equal(isExpiry(err('SignatureDoesNotMatch', 'storage', 403, 'no'), fresh), false);
    assert.equal(isExpiry(err('grant_expired', 'client', 0), undefined), true);
    assert.equal(isExpiry(err('too_large', 'gateway', 413), old), false);
    assert.equal(isExpiry(err('EntityTooLarge', 'storage', 400, 'expired'), old), false);
  });
});

describe('multipart/form-data framing', () => {
  test('the announced length is the length of what is sent; the file field is last', async () => {
    const file = new Blob(['hello world']);
    const f = formBody(
      [
        ['key', 'incoming/a/up_1'],
        ['Policy', 'eyJ4Ijoi4oCmIn0='],
      ],
      { size: file.size, filename: 'a"b\r\nc.txt' },
      'BOUNDARY',
    );
    const whole = Buffer.concat([f.head, Buffer.from(await file.arrayBuffer()), f.tail]);
    assert.equal(whole.length, f.length);
    const text = whole.toString();
    assert.equal(f.contentType, 'multipart/form-data; boundary=BOUNDARY');
    assert.ok(text.indexOf('name="Policy"') < text.indexOf('name="file"'));
    // A filename cannot end its header or add one.
    assert.match(text, /filename="a%22b%0D%0Ac\.txt"\r\n/);
    assert.ok(text.endsWith('hello world\r\n--BOUNDARY--\r\n'));
  });

  test('non-ASCII values are counted in bytes, not characters', () => {
    const f = formBody([['x-amz-meta-note', 'café ☕']], { size: 0, filename: 'ü.txt' }, 'B');
    assert.equal(f.length, f.head.byteLength + f.tail.byteLength);
    const chars = new TextDecoder().decode(f.head).length;
    assert.equal(f.head.byteLength, chars + 1 + 2 + 1, 'é and ü are 2 bytes, ☕ is 3');
  });
});
