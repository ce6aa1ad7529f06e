// The gateway's own server frees sockets held by slow clients (issue 14's adversarial suite
// found it on Node's defaults: headers 60 s checked every 30 s, no idle timeout): trickled
// headers, a trickled body, a silent socket. A real gateway on 127.0.0.1 with short limits.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../src/config/parse.ts';
import { createGateway, type Gateway } from '../src/gateway.ts';
import { route } from '../src/rules/builder.ts';
import { silentLogger } from '../src/telemetry/logger.ts';

let gw: Gateway;
let port: number;

before(async () => {
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    storage: { endpoint: 'http://127.0.0.1:9', bucket: 'bucket1', accessKeyId: 'k', secretAccessKey: 's' },
    database: { url: 'sqlite::memory:' },
    auth: { jwt: { secret: 'slow-clients-secret-slow-clients-secret-0' } },
    routes: [route('logo').types('image/png').maxSize('1MB')],
  });
  gw = await createGateway(config, {
    logger: silentLogger(),
    sweep: false,
    processMetrics: false,
    dispatch: false,
    slowClients: { headersMs: 400, idleMs: 800, minBytesPerSec: 100, rateWindowMs: 300, checkEveryMs: 50 },
  });
  port = (await gw.listen()).port;
});
after(async () => {
  await gw.close();
});

/** Runs `drive` on a raw socket; resolves with ms until the gateway closed it (∞ after 5 s). */
async function closedAfter(drive: (write: (s: string) => boolean) => Promise<void>): Promise<number> {
  const s = connect(port, '127.0.0.1');
  await once(s, 'connect');
  s.on('error', () => {});
  // Flowing, so that the server's close is seen (a paused socket never emits 'close').
  s.resume();
  const started = performance.now();
  const stop = new AbortController();
  const closed = Promise.race([
    new Promise<number>((r) => s.once('close', () => r(performance.now() - started))),
    sleep(5000, Number.POSITIVE_INFINITY, { signal: stop.signal }),
  ]);
  await drive((chunk) => !s.destroyed && s.write(chunk)).catch(() => {});
  const ms = await closed;
  stop.abort();
  s.destroy();
  return ms;
}

test('headers trickled a byte at a time: closed at the header deadline', async () => {
  const ms = await closedAfter(async (write) => {
    for (const ch of 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: '.split('')) {
      if (!write(ch)) return;
      await sleep(100);
    }
  });
  assert.ok(ms < 2000, `held for ${ms} ms`);
});

test('a body trickled below the minimum rate: closed within a window or two', async () => {
  const ms = await closedAfter(async (write) => {
    write(
      'POST /v1/grants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
    );
    for (let i = 0; i < 40; i++) {
      if (!write('{')) return;
      await sleep(100);
    }
  });
  assert.ok(ms < 2500, `held for ${ms} ms`);
});

test('a socket that connects and stays silent: closed', async () => {
  const ms = await closedAfter(async () => {});
  assert.ok(ms < 2500, `held for ${ms} ms`);
});

test('an honest request still gets its answer', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(res.status, 200);
});

test('a request with Expect: 100-continue (curl -T, the AWS SDK) is answered', async () => {
  const { request } = await import('node:http');
  const body = JSON.stringify({ route: 'logo' });
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/grants',
      headers: { expect: '100-continue', 'content-type': 'application/json', 'content-length': body.length },
      timeout: 3000,
    });
    req.on('continue', () => req.end(body));
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('no answer: the 100 never came')));
    req.on('error', reject);
  });
  assert.equal(status, 401); // answered (no token); before the fix it never was
});
