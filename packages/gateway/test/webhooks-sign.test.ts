// Our Standard Webhooks signer against the `standardwebhooks` package receivers use.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { secretKey, sign } from '../src/webhooks/sign.ts';

const whsec = (bytes: Uint8Array) => `whsec_${Buffer.from(bytes).toString('base64')}`;

test('sign() matches standardwebhooks for any secret (24–64 bytes), id, timestamp and body', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 24, maxLength: 64 }),
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 4_000_000_000 }),
      fc.string({ unit: 'binary', maxLength: 500 }),
      (key, id, ts, body) => {
        const secret = whsec(key);
        const ours = sign(secretKey(secret), id, ts, body);
        assert.equal(ours, new Webhook(secret).sign(id, new Date(ts * 1000), body));
      },
    ),
    { numRuns: 300 },
  );
});

test('standardwebhooks verifies what we sign, and refuses a tampered body, id, an old or future timestamp', () => {
  const secret = whsec(randomBytes(32));
  const wh = new Webhook(secret);
  const body = JSON.stringify({
    type: 'upload.verified',
    timestamp: new Date().toISOString(),
    data: { id: 'up_x' },
  });
  const now = Math.floor(Date.now() / 1000);
  const headers = (ts: number, b = body, id = 'ev_1') => ({
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': sign(secretKey(secret), id, ts, b),
  });
  assert.deepEqual(wh.verify(body, headers(now)), JSON.parse(body));
  assert.throws(() => wh.verify(body.replace('up_x', 'up_y'), headers(now)), /No matching signature/);
  assert.throws(() => wh.verify(body, { ...headers(now), 'webhook-id': 'ev_2' }), /No matching signature/);
  // A captured request replayed later: the timestamp is signed, so it cannot be refreshed.
  assert.throws(() => wh.verify(body, headers(now - 6 * 60)), /too old/);
  assert.throws(() => wh.verify(body, headers(now + 6 * 60)), /too new/);
  assert.throws(
    () => wh.verify(body, { ...headers(now - 6 * 60), 'webhook-timestamp': String(now) }),
    /No matching/,
  );
  assert.throws(
    () => new Webhook(whsec(randomBytes(32))).verify(body, headers(now)),
    /No matching signature/,
  );
});

test('secretKey refuses what is not a whsec_ secret of 24–64 bytes', () => {
  assert.equal(secretKey(whsec(new Uint8Array(24))).length, 24);
  assert.equal(secretKey(whsec(new Uint8Array(64))).length, 64);
  const bad: [string, RegExp][] = [
    [Buffer.alloc(32).toString('base64'), /starts with whsec_/],
    [`whsec_${'A'.repeat(43)}!`, /base64/],
    ['whsec_', /24–64 bytes \(this one: 0\)/],
    [whsec(new Uint8Array(23)), /this one: 23/],
    [whsec(new Uint8Array(65)), /this one: 65/],
    [`whsec_${Buffer.alloc(32).toString('base64url')}_-`, /base64/],
    [`whsec_${Buffer.alloc(32).toString('base64')} `, /base64/],
  ];
  for (const [secret, message] of bad) assert.throws(() => secretKey(secret), message, secret);
});
