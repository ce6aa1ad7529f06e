// Clock skew on header-signed requests: "the request time stamp ... must be within 15 minutes of
// the AWS system time", else 403 RequestTimeTooSkewed, whose body tells the client the server's
// time so it can correct itself (the SDKs do):
//   <Code>RequestTimeTooSkewed</Code><Message>…</Message><RequestTime>20150604T232559Z</RequestTime>
//   <ServerTime>2015-06-04T22:26:16Z</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>
// (AWS's own responses, 2011–2025, all read "…and the current time is too large.")
// Signed with the SDK's own signer (not @chute/sigv4) at a chosen signing date.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { deviates, expectError } from './deviations.ts';
import { errorOf, useBucket, xmlText } from './helpers.ts';

const s = useBucket('skew');
const MIN = 60_000;

/** ListObjectsV2 of the suite's bucket, header-signed as if this machine's clock were `offsetMs` off. */
async function listSignedAt(offsetMs: number): Promise<{ res: Response; amzDate: string }> {
  const url = new URL(`${s.target.endpoint}/${s.bucket}?list-type=2`);
  const signer = new SignatureV4({
    credentials: { accessKeyId: s.target.accessKeyId, secretAccessKey: s.target.secretAccessKey },
    region: s.target.region,
    service: 's3',
    sha256: Sha256,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: { 'list-type': '2' },
      headers: {
        host: url.host,
        'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
    }),
    { signingDate: new Date(Date.now() + offsetMs) },
  );
  const headers = { ...signed.headers } as Record<string, string>;
  delete headers['host'];
  return { res: await fetch(url, { headers }), amzDate: headers['x-amz-date']! };
}

describe('clock skew (header auth)', () => {
  for (const [label, offset] of [
    ['16 min slow', -16 * MIN],
    ['16 min fast', 16 * MIN],
  ] as const) {
    it(`a request signed ${label} → 403 RequestTimeTooSkewed with the server's time`, async () => {
      const { res, amzDate } = await listSignedAt(offset);
      const e = await errorOf(res);
      expectError(s.target, e, 403, 'RequestTimeTooSkewed');
      if (!deviates(s.target, 'empty-error-message'))
        assert.equal(e.message, 'The difference between the request time and the current time is too large.');
      if (deviates(s.target, 'skew-no-server-time')) {
        assert.equal(xmlText(e.body, 'ServerTime'), undefined, e.body);
        return;
      }
      assert.equal(xmlText(e.body, 'RequestTime'), amzDate, e.body);
      assert.equal(xmlText(e.body, 'MaxAllowedSkewMilliseconds'), '900000', e.body);
      const server = Date.parse(xmlText(e.body, 'ServerTime') ?? '');
      assert.ok(Math.abs(server - Date.now()) < MIN, `ServerTime ${xmlText(e.body, 'ServerTime')}`);
      assert.match(xmlText(e.body, 'ServerTime')!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    });
  }

  it('a request signed 14 min off either way is within the window → 200', async () => {
    for (const offset of [-14 * MIN, 14 * MIN]) {
      const { res } = await listSignedAt(offset);
      assert.equal(res.status, 200, await res.text());
    }
  });
});
