// Issue 14, storage faults: the gateway talks to the real embedded store through a real HTTP
// proxy on 127.0.0.1 that can be told to misbehave — refuse connections (storage down), answer
// 500, hang (a slow loris that never answers), or cut a body short. Whatever storage does, a
// complete answers 503 + Retry-After (never a 500, never a false rejection that deletes the
// file), keeps the grant, and a later complete succeeds once storage is back. Browsers still
// upload straight to the store (publicEndpoint), as in production behind a broken internal path.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { route } from '../src/rules/builder.ts';
import { S3Storage } from '../src/storage/s3.ts';
import { type GrantJson, type Harness, startHarness, upload } from './helpers/e2e.ts';
import { type Engine, sqliteEngine } from './helpers/engines.ts';
import { png } from './helpers/images.ts';

type Mode = 'pass' | 'down' | 'error500' | 'hang' | 'truncate';

/** A forwarding proxy whose behaviour a test switches; it counts what it saw. */
async function faultyProxy(upstream: string) {
  const state = { mode: 'pass' as Mode, requests: 0, truncated: 0 };
  const sockets = new Set<Socket>();
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    state.requests++;
    if (state.mode === 'down') return req.socket.destroy();
    if (state.mode === 'error500') {
      res.writeHead(500, { 'content-type': 'application/xml' });
      return res.end('<Error><Code>InternalError</Code><Message>injected</Message></Error>');
    }
    if (state.mode === 'hang') return; // never answers; the client's timeout must end it
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        const truncate = state.mode === 'truncate' && req.method === 'GET';
        res.writeHead(r.statusCode ?? 502, r.headers);
        if (!truncate) return r.pipe(res);
        // Half the announced body, then the connection drops.
        state.truncated++;
        let sent = 0;
        const half = Math.floor(Number(r.headers['content-length'] ?? 0) / 2);
        r.on('data', (chunk: Buffer) => {
          if (sent >= half) return;
          res.write(chunk.subarray(0, half - sent));
          sent += Math.min(chunk.length, half - sent);
          if (sent >= half) res.socket?.destroy();
        });
      },
    );
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('storage faults at complete', () => {
  let engine: Engine;
  let h: Harness;
  let proxy: Awaited<ReturnType<typeof faultyProxy>>;
  let alice: string;
  let storageViaProxy: S3Storage | undefined;

  before(async () => {
    engine = sqliteEngine();
    // The proxy needs the store's address and the harness starts the store, so the gateway's
    // storage is swapped for the one through the proxy once both exist.
    h = await startHarness(engine, 'faults', {
      routes: [route('logo').types('image/png').maxSize('1MB').method('put')],
      wrapStorage: (real) =>
        new Proxy(real, {
          get(target, prop) {
            const s = storageViaProxy ?? target;
            const v = Reflect.get(s, prop, s);
            return typeof v === 'function' ? v.bind(s) : v;
          },
        }),
    });
    proxy = await faultyProxy(h.target.endpoint);
    storageViaProxy = new S3Storage(
      {
        endpoint: proxy.url,
        publicEndpoint: h.target.endpoint,
        region: h.target.region,
        bucket: h.bucket,
        accessKeyId: h.target.accessKeyId,
        secretAccessKey: h.target.secretAccessKey,
        forcePathStyle: true,
      },
      { timeoutMs: 500, attempts: 2, backoffMs: 10 },
    );
    alice = await h.token('alice');
  });
  after(async () => {
    try {
      await h?.close();
      await proxy?.close();
    } finally {
      await engine?.cleanup();
    }
  });

  async function uploaded(): Promise<GrantJson> {
    const bytes = png(16, 16);
    const res = await h.api('/v1/grants', {
      token: alice,
      json: { route: 'logo', filename: 'l.png', contentType: 'image/png', size: bytes.length },
    });
    const g = (await res.json()) as GrantJson;
    assert.equal((await upload(g, bytes)).status, 200);
    return g;
  }
  const complete = async (id: string) => {
    const res = await h.api(`/v1/uploads/${id}/complete`, { token: alice, method: 'POST' });
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as { state?: string; error?: { code: string } },
    };
  };

  for (const mode of ['down', 'error500', 'hang', 'truncate'] as const) {
    test(`storage ${mode}: 503 unavailable + Retry-After, the grant kept; back up, complete verifies`, async () => {
      const g = await uploaded();
      proxy.state.mode = mode;
      const seen = proxy.state.requests;
      let failed: Awaited<ReturnType<typeof complete>>;
      try {
        failed = await complete(g.id);
      } finally {
        proxy.state.mode = 'pass';
      }
      assert.ok(proxy.state.requests > seen, 'the complete went through the proxy');
      if (mode === 'truncate') assert.ok(proxy.state.truncated > 0, 'a body was cut short');
      assert.equal(failed.status, 503, JSON.stringify(failed.body));
      assert.equal(failed.body.error?.code, 'unavailable');
      assert.ok(Number(failed.retryAfter) >= 1);
      assert.equal((await h.gateway.services.repo.uploads.get(g.id))?.state, 'granted');
      const done = await complete(g.id);
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.state, 'verified');
    });
  }
});
