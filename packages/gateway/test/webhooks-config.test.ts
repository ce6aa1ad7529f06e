// The `webhooks` block of the config: defaults, and every bad input refused with its reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig, redactConfig } from '../src/config/index.ts';
import { EVENT_TYPES } from '../src/lifecycle/events.ts';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

function config(webhooks: unknown): Record<string, unknown> {
  return {
    storage: { endpoint: 'http://127.0.0.1:9000', bucket: 'chute', accessKeyId: 'a', secretAccessKey: 'b' },
    auth: { jwt: { secret: 'dev-secret-dev-secret-dev-secret-0123' } },
    routes: [{ name: 'logo', types: ['image/png'], maxSize: '20MB' }],
    ...(webhooks !== undefined && { webhooks }),
  };
}

/** The messages of a refused config, each with its path. */
function refusal(webhooks: unknown): string[] {
  try {
    parseConfig(config(webhooks));
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  }
  assert.fail('accepted');
}

test('defaults: no endpoints, 10 s timeout, the 5 s … 10 h schedule, every event type', () => {
  assert.deepEqual(parseConfig(config(undefined)).webhooks, {
    endpoints: [],
    timeoutMs: 10_000,
    retryScheduleMs: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000],
    intervalMs: 1000,
    concurrency: 8,
  });
  const c = parseConfig(
    config({ endpoints: [{ id: 'app', url: 'https://app.example.com/hooks', secret: SECRET }] }),
  );
  assert.deepEqual(c.webhooks.endpoints[0]?.events, [...EVENT_TYPES]);
  const some = parseConfig(
    config({
      endpoints: [{ id: 'app', url: 'http://10.0.0.1:8080/h', secret: SECRET, events: ['review.approved'] }],
      timeout: '2s',
      retrySchedule: ['1m', '1h'],
      interval: '500ms',
    }),
  ).webhooks;
  assert.deepEqual(some.endpoints[0]?.events, ['review.approved']);
  assert.equal(some.timeoutMs, 2000);
  assert.deepEqual(some.retryScheduleMs, [60_000, 3_600_000]);
  assert.equal(some.intervalMs, 500);
});

test('refused: bad secrets, unknown event types, duplicate ids, non-http URLs, bad durations, unknown keys', () => {
  const endpoint = (patch: Record<string, unknown>) => ({
    endpoints: [{ id: 'app', url: 'https://app.example.com/h', secret: SECRET, ...patch }],
  });
  const cases: [unknown, RegExp][] = [
    [
      endpoint({ secret: Buffer.alloc(32).toString('base64') }),
      /secret: a webhook secret starts with whsec_/,
    ],
    [endpoint({ secret: 'whsec_not base64!' }), /secret: a webhook secret is whsec_ followed by base64/],
    [endpoint({ secret: `whsec_${Buffer.alloc(16).toString('base64')}` }), /24–64 bytes \(this one: 16\)/],
    [endpoint({ secret: `whsec_${Buffer.alloc(65).toString('base64')}` }), /this one: 65/],
    [endpoint({ events: ['upload.verifed'] }), /events\.0: Invalid option/],
    [endpoint({ events: [] }), /events: list at least one event type/],
    [endpoint({ url: 'ftp://app.example.com/h' }), /url: an http:\/\/ or https:\/\/ URL/],
    [endpoint({ url: 'javascript:alert(1)' }), /url: an http:\/\/ or https:\/\/ URL/],
    [endpoint({ url: '/relative' }), /url: an http:\/\/ or https:\/\/ URL/],
    [endpoint({ url: 'https://user:pw@app.example.com/h' }), /url: no user:password@/],
    [endpoint({ id: '../x' }), /id: 1–64 of/],
    [endpoint({ colour: 'red' }), /Unrecognized key: "colour"/],
    [
      {
        endpoints: [
          { id: 'app', url: 'https://a.example.com/', secret: SECRET },
          { id: 'app', url: 'https://b.example.com/', secret: SECRET },
        ],
      },
      /webhook endpoint ids must be unique/,
    ],
    [{ timeout: 10 }, /timeout: Invalid input: expected string/],
    [{ timeout: '10' }, /invalid duration "10"/],
    [{ timeout: '10m' }, /webhooks.timeout must be 100ms … 5m/],
    [{ retrySchedule: ['5s', '0s'] }, /retrySchedule.1: a retry delay must be 1s … 7d/],
    [{ retrySchedule: Array.from({ length: 21 }, () => '1s') }, /at most 20 retries/],
    [{ interval: '50ms' }, /webhooks.interval must be/],
    [{ concurrency: 0 }, /concurrency/],
    [{ endpoint: [] }, /Unrecognized key: "endpoint"/],
  ];
  for (const [webhooks, message] of cases) {
    const issues = refusal(webhooks);
    assert.ok(
      issues.some((i) => message.test(i)),
      `${JSON.stringify(webhooks)} → ${issues.join(' | ')}`,
    );
  }
});

test('redactConfig hides endpoint secrets and everything of the URL but its origin', () => {
  const c = parseConfig(
    config({ endpoints: [{ id: 'app', url: 'https://hooks.example.com/T0K3N/x?key=abc', secret: SECRET }] }),
  );
  const text = JSON.stringify(redactConfig(c));
  assert.doesNotMatch(text, new RegExp(SECRET.slice(6, 20)));
  assert.doesNotMatch(text, /T0K3N|abc/);
  assert.match(text, /https:\/\/hooks\.example\.com\/\[redacted\]/);
});
