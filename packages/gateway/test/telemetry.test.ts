import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { mintToken } from '../src/auth/mint.ts';
import { parseConfig, redactConfig } from '../src/config/parse.ts';
import { createGateway, type Gateway } from '../src/gateway.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { ROUTES } from './helpers/e2e.ts';
import { sqliteEngine } from './helpers/engines.ts';

const SECRET = 'log-test-secret-log-test-secret-0000000';
const engine = sqliteEngine();
const lines: Record<string, unknown>[] = [];
let gw: Gateway;

before(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  const config = parseConfig({
    storage: {
      endpoint: 'http://127.0.0.1:9',
      bucket: 'bucket1',
      accessKeyId: 'AKID',
      secretAccessKey: 'very-secret-key',
    },
    database: { url: engine.url },
    auth: { jwt: { secret: SECRET } },
    routes: ROUTES,
  });
  gw = await createGateway(config, {
    logger: createLogger({ destination: sink }),
    sweep: false,
    processMetrics: false,
  });
  gw.services.logger.info({ config: redactConfig(config) }, 'config');
});
after(async () => {
  await gw.close();
  await engine.cleanup();
});

test('one JSON access line per request with requestId, route and user; no token, no secret, no signed URL', async () => {
  const token = await mintToken({ user: 'alice', secret: SECRET });
  const res = await gw.app.request('/v1/grants', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'x-request-id': 'req-12345678',
    },
    body: JSON.stringify({ route: 'logo', filename: 'a.png', contentType: 'image/png', size: 10 }),
  });
  assert.equal(res.status, 201);
  const { url } = (await res.json()) as { url: string };
  await new Promise((r) => setImmediate(r));
  const access = lines.find((l) => l['requestId'] === 'req-12345678');
  assert.deepEqual(access && [access['route'], access['status'], access['userId'], access['msg']], [
    '/v1/grants',
    201,
    'alice',
    'request',
  ]);
  const all = JSON.stringify(lines);
  assert.ok(!all.includes(token), 'token logged');
  assert.ok(!all.includes('very-secret-key'), 'storage secret logged');
  assert.ok(!all.includes(SECRET), 'jwt secret logged');
  assert.ok(!all.includes(new URL(url).search || 'X-Amz-Signature'), 'signed URL logged');
});
