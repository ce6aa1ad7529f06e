// chute doctor's webhook reachability probe against real HTTP servers, the CORS rule matcher,
// and the report's format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchRule, parseCors } from '../src/doctor/cors-rules.ts';
import { doctorFailed, formatResults } from '../src/doctor/run.ts';
import type { DoctorContext } from '../src/doctor/types.ts';
import { checkWebhooks } from '../src/doctor/webhooks.ts';
import { corsXml } from '../src/storage/admin.ts';
import { answering, closedPort, doctorInput, storageConfig } from './helpers/doctor.ts';

const storage = storageConfig(
  { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's' },
  'unused',
);
const ctx = (webhooks: DoctorContext['webhooks']): DoctorContext => ({
  ...doctorInput(storage, { webhooks }),
  now: Date.now,
  fetch,
  timeoutMs: 2_000,
});

test('webhooks: 405 and 204 pass, 404 warns, 503 and a closed port fail; none configured skips', async () => {
  const servers = await Promise.all([405, 204, 404, 503].map(answering));
  try {
    const closed = `http://127.0.0.1:${await closedPort()}/hooks`;
    const results = await checkWebhooks(
      ctx([
        { id: 'app', url: `${servers[0]!.url}/hooks` },
        { url: servers[1]!.url },
        { id: 'typo', url: `${servers[2]!.url}/hoks` },
        { id: 'broken', url: servers[3]!.url },
        { id: 'down', url: closed },
      ]),
    );
    assert.deepEqual(
      results.map((r) => [r.name, r.status]),
      [
        ['webhook app', 'pass'],
        ['webhook', 'pass'],
        ['webhook typo', 'warn'],
        ['webhook broken', 'fail'],
        ['webhook down', 'fail'],
      ],
    );
    assert.match(results[0]!.detail, /answered 405 to HEAD/);
    assert.match(results[4]!.detail, /does not answer: .*ECONNREFUSED/);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
  assert.deepEqual(
    (await checkWebhooks(ctx([]))).map((r) => r.status),
    ['skip'],
  );
});

test('CORS rules: the gateway’s own rule, wildcards, first match wins, headers caseless', () => {
  const own = parseCors(corsXml(['http://127.0.0.1:3000']))!;
  assert.ok(matchRule(own, 'http://127.0.0.1:3000', 'PUT', ['Content-Type', 'x-amz-meta-user-id']));
  assert.equal(matchRule(own, 'http://127.0.0.1:3001', 'PUT', []), undefined);
  assert.equal(matchRule(own, 'http://127.0.0.1:3000', 'DELETE', []), undefined);

  const rules = parseCors(
    `<?xml version="1.0"?><CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>
        <AllowedHeader>content-type</AllowedHeader></CORSRule>
      <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod>
        <AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader><ExposeHeader>ETag</ExposeHeader></CORSRule>
    </CORSConfiguration>`,
  )!;
  assert.equal(rules.length, 2);
  // The first rule matches the origin but not the x-amz-meta header: the second applies.
  assert.deepEqual(matchRule(rules, 'https://app.example.com', 'PUT', ['content-type'])?.expose, []);
  assert.deepEqual(
    matchRule(rules, 'https://app.example.com', 'PUT', ['content-type', 'X-Amz-Meta-A'])?.expose,
    ['ETag'],
  );
  assert.equal(matchRule(rules, 'https://example.com', 'PUT', ['content-type'])?.expose[0], 'ETag');
  assert.equal(parseCors('<Error><Code>NoSuchCORSConfiguration</Code></Error>'), undefined);
  assert.deepEqual(parseCors('<CORSConfiguration/>'), []);
  assert.equal(parseCors('not xml <<'), undefined);
});

test('the report: one line per check, the fix after the detail; FAIL (and only FAIL) fails', () => {
  const results = [
    { name: 'credentials', status: 'pass' as const, detail: 'ok' },
    { name: 'clock-skew', status: 'warn' as const, detail: '2 min', fix: 'NTP' },
    { name: 'webhooks', status: 'skip' as const, detail: 'none' },
  ];
  assert.equal(
    formatResults(results),
    ['PASS  credentials  — ok', 'WARN  clock-skew   — 2 min / fix: NTP', 'SKIP  webhooks     — none'].join(
      '\n',
    ),
  );
  assert.equal(doctorFailed(results), false);
  assert.equal(doctorFailed([...results, { name: 'x', status: 'fail', detail: 'd', fix: 'f' }]), true);
});
