// `chute dev` and `chute token` as a user runs them: real processes, real ports (port 0).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run, start } from './helpers.ts';

describe('chute dev', () => {
  let data: string;
  before(async () => {
    data = await mkdtemp(path.join(tmpdir(), 'chute-cli-dev-'));
  });
  after(() => rm(data, { recursive: true, force: true }));

  async function startDev() {
    const dev = start(['dev', '--port', '0', '--s3-port', '0', '--data', data]);
    const [, page] = await dev.waitFor(/Page +(http:\/\/127\.0\.0\.1:\d+)\//);
    const [, storage] = await dev.waitFor(/Storage +(http:\/\/127\.0\.0\.1:\d+)/);
    return { dev, page: page!, storage: storage! };
  }

  test('starts the store and the gateway on their ports, prints how to get a token, stops on SIGTERM', async () => {
    const { dev, page, storage } = await startDev();
    try {
      const out = dev.output();
      assert.match(out, /alice, bob \(uploader\)/);
      assert.match(out, /npm run -s chute -- token --user alice/);
      assert.match(out, /Webhooks +http:\/\/127\.0\.0\.1:\d+\/dev\/webhooks/);
      assert.match(out, /\/v1\/grants/);
      assert.match(
        out,
        /logo: image\/png, image\/jpeg, image\/webp, image\/gif; ≤ 20 MB; ≤ 4096×4096 px; review on/,
      );
      const html = await fetch(`${page}/`);
      assert.equal(html.status, 200);
      assert.match(await html.text(), /<title>Chute/);
      assert.equal((await fetch(`${page}/healthz`)).status, 200);
      // The store answers S3 (anonymous: 403 AccessDenied in XML).
      const s3 = await fetch(`${storage}/`);
      assert.equal(s3.status, 403);
      assert.match(await s3.text(), /<Code>AccessDenied<\/Code>/);
      // The bucket's CORS rule lets the page's origin POST.
      const pre = await fetch(`${storage}/chute`, {
        method: 'OPTIONS',
        headers: { origin: page, 'access-control-request-method': 'POST' },
      });
      assert.equal(pre.status, 200);
      assert.equal(pre.headers.get('access-control-allow-origin'), page);
    } finally {
      assert.equal(await dev.stop('SIGTERM'), 0, dev.output());
    }
    assert.match(dev.output(), /SIGTERM: stopping/);
    assert.ok(existsSync(path.join(data, 'chute.db')));
    assert.equal((await stat(path.join(data, 'dev-secret'))).mode & 0o777, 0o600);
  });

  test('chute token prints only a token, which the gateway accepts, also after a restart', async () => {
    const t = run(['token', '--user', 'alice', '--data', data]);
    assert.equal(t.status, 0, t.stderr);
    const token = t.stdout.trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(t.stdout, `${token}\n`);
    const secretBefore = await readFile(path.join(data, 'dev-secret'), 'utf8');

    const { dev, page } = await startDev(); // a restart: the secret in the data dir is kept
    try {
      assert.equal(await readFile(path.join(data, 'dev-secret'), 'utf8'), secretBefore);
      const ok = await fetch(`${page}/v1/uploads`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { items: [] });
      const bad = await fetch(`${page}/v1/uploads`, { headers: { authorization: `Bearer ${token}x` } });
      assert.equal(bad.status, 401);
      // A reviewer token from the same command; an unknown user gets nothing from /dev/token.
      const rita = run(['token', '--user', 'rita', '--role', 'reviewer', '--ttl', '5m', '--data', data]);
      assert.equal(rita.status, 0, rita.stderr);
      const payload = JSON.parse(Buffer.from(rita.stdout.split('.')[1]!, 'base64url').toString());
      assert.deepEqual(payload.roles, ['reviewer']);
      assert.equal(payload.exp - payload.iat, 300);
      const demo = await fetch(`${page}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'mallory' }),
      });
      assert.equal(demo.status, 404);
    } finally {
      assert.equal(await dev.stop('SIGINT'), 0, dev.output());
    }
  });

  test('stops promptly although a browser left connections open that never sent a request', async () => {
    const { dev, page, storage } = await startDev();
    const sockets = [page, storage].map((u) => connect(Number(new URL(u).port), '127.0.0.1'));
    // Being dropped by the server is the expected outcome: a reset is not a failure.
    for (const s of sockets) s.on('error', () => {});
    await Promise.all(sockets.map((s) => once(s, 'connect')));
    try {
      const started = performance.now();
      assert.equal(await dev.stop('SIGINT'), 0, dev.output());
      // Both servers drop such sockets at once; had either waited for them, stop would have run
      // into chute dev's 5 s shutdown deadline.
      assert.ok(performance.now() - started < 4000, `took ${Math.round(performance.now() - started)} ms`);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  test('a port in use is a usage error naming the flag', async () => {
    const { dev, page } = await startDev();
    try {
      const port = new URL(page).port;
      const second = run(['dev', '--port', port, '--s3-port', '0', '--data', data]);
      assert.equal(second.status, 2);
      assert.match(second.stderr, new RegExp(`port ${port} is already in use .*--port`));
    } finally {
      await dev.stop();
    }
  });
});

describe('chute token', () => {
  test('without a dev secret: exit 2, says to run chute dev or pass --secret', () => {
    const r = run(['token', '--user', 'alice', '--data', path.join(tmpdir(), 'chute-no-such-dir')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no dev secret .* start `chute dev` once/);
    assert.equal(r.stdout, '');
  });

  test('--secret, and the usage errors', () => {
    const ok = run(['token', '--user', 'bob', '--secret', 'x'.repeat(32)]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^eyJ/);
    assert.match(run(['token']).stderr, /--user ID is required/);
    assert.match(
      run(['token', '--user', 'a', '--role', 'god', '--secret', 'x'.repeat(32)]).stderr,
      /--role must be/,
    );
    assert.match(run(['token', '--user', 'a', '--ttl', 'soon', '--secret', 'x'.repeat(32)]).stderr, /--ttl/);
    assert.match(run(['token', '--user', 'a|b', '--secret', 'x'.repeat(32)]).stderr, /user/);
    assert.match(run(['token', '--user', 'a', '--secret', 'short']).stderr, /at least 32/);
  });
});
