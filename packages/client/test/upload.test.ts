// upload() in Node against a real gateway and the embedded store (or RGW: CHUTE_S3_TARGET=rgw),
// with real proxies in front of both to inject the failures a network has.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ChuteClientError,
  fetchTransport,
  type Grant,
  type Progress,
  type RetryEvent,
  type UploadOptions,
  upload,
} from '../src/index.ts';
import { type Stack, startStack, textFile } from './helpers/stack.ts';

const MB = 1_000_000;
const SLOW_DOWN = {
  status: 503,
  headers: { 'content-type': 'application/xml' },
  body: '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
};

describe('upload() against the gateway and storage', () => {
  let stack: Stack;
  let dir: string;
  let file4: { path: string; sha256: string };
  let file2: { path: string; sha256: string };

  before(async () => {
    stack = await startStack('client');
    dir = await mkdtemp(join(tmpdir(), 'chute-client-files-'));
    file4 = await textFile(dir, 'four.txt', 4 * MB);
    file2 = await textFile(dir, 'two.txt', 2 * MB);
  });
  after(async () => {
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** upload() with the stack's endpoint and token, recording progress, retries and grants. */
  async function run(path: string, options: Partial<UploadOptions> & { route: string }) {
    const progress: Progress[] = [];
    const retries: RetryEvent[] = [];
    const grants: Grant[] = [];
    const blob = await openAsBlob(path, { type: 'text/plain' });
    const result = upload(blob, {
      endpoint: stack.gatewayProxy.url,
      token: stack.token,
      filename: 'notes.txt',
      retry: { baseMs: 5, random: () => 0.5 },
      ...options,
      onProgress: (p) => {
        progress.push(p);
        options.onProgress?.(p);
      },
      onRetry: (e) => retries.push(e),
      onGrant: (g) => {
        grants.push(g);
        options.onGrant?.(g);
      },
    });
    const settled = await result.then(
      (value) => ({ value, error: undefined }),
      (error: unknown) => ({ value: undefined, error: error as ChuteClientError }),
    );
    return { ...settled, progress, retries, grants };
  }

  function reset() {
    stack.gatewayProxy.fault = undefined;
    stack.storageProxy.fault = undefined;
    stack.gatewayProxy.seen.length = 0;
    stack.storageProxy.seen.length = 0;
    stack.storageProxy.bodyBytes.length = 0;
    stack.clock.offset = 0;
    stack.expire.next = 0;
  }

  function assertProgress(progress: Progress[], size: number) {
    assert.ok(progress.length > 2, `only ${progress.length} progress events`);
    for (const p of progress) assert.equal(p.total, size);
    for (let i = 1; i < progress.length; i++)
      assert.ok(progress[i]!.loaded >= progress[i - 1]!.loaded, 'progress went back without a retry');
    assert.equal(progress.at(-1)!.loaded, size);
  }

  for (const [route, method, transport] of [
    ['notes', 'post', undefined],
    ['notes-put', 'put', undefined],
    ['notes', 'post', fetchTransport],
    ['notes-put', 'put', fetchTransport],
  ] as const) {
    test(`${method.toUpperCase()} (${transport?.name ?? 'default: node:http'}): 4 MB from disk, progress to exactly the size, verified, the same bytes`, async () => {
      reset();
      const r = await run(file4.path, { route, transport });
      assert.equal(r.error, undefined, r.error?.stack);
      assert.equal(r.grants.length, 1);
      assert.equal(r.grants[0]!.method, method);
      assert.equal(r.value!.state, 'verified');
      assert.equal(r.value!.size, 4 * MB);
      assertProgress(r.progress, 4 * MB);
      assert.deepEqual(r.retries, []);
      assert.deepEqual(stack.storageProxy.seen, [
        `${method.toUpperCase()} /${stack.bucket}${method === 'put' ? `/${r.grants[0]!.key}` : ''}`,
      ]);
      assert.equal(await stack.downloadSha256(r.value!.id), file4.sha256);
    });
  }

  test('abort mid-upload: aborted, nothing stored or completed, the grant left granted, no listener left', async () => {
    reset();
    const controller = new AbortController();
    let listenersDuring = -1;
    const r = await run(file4.path, {
      route: 'notes-put',
      signal: controller.signal,
      onProgress: (p) => {
        if (p.loaded >= MB && !controller.signal.aborted) {
          listenersDuring = getEventListeners(controller.signal, 'abort').length;
          controller.abort(new Error('user pressed cancel'));
        }
      },
    });
    assert.ok(r.error instanceof ChuteClientError, String(r.error));
    assert.equal(r.error.code, 'aborted');
    assert.equal((r.error.cause as Error).message, 'user pressed cancel');
    assert.equal(r.error.uploadId, r.grants[0]!.id);
    assert.ok(r.progress.at(-1)!.loaded < 4 * MB);
    assert.equal(listenersDuring, 1, 'one listener (ours) on the caller\u2019s signal while running');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    assert.equal((await stack.view(r.grants[0]!.id)).state, 'granted');
    assert.equal(await stack.exists(r.grants[0]!.key), false);
    assert.ok(!stack.gatewayProxy.seen.some((s) => s.endsWith('/complete')), 'complete was never called');
  });

  test('an already aborted signal: nothing is asked for at all', async () => {
    reset();
    const r = await run(file2.path, { route: 'notes', signal: AbortSignal.abort() });
    assert.equal(r.error?.code, 'aborted');
    assert.deepEqual(stack.gatewayProxy.seen, []);
  });

  test('storage 503 SlowDown twice, then the upload goes through (retried, same grant)', async () => {
    reset();
    stack.storageProxy.fault = (_req, i) => (i < 2 ? SLOW_DOWN : undefined);
    const r = await run(file2.path, { route: 'notes' });
    assert.equal(r.error, undefined, r.error?.stack);
    assert.equal(r.value!.state, 'verified');
    assert.equal(r.grants.length, 1);
    assert.deepEqual(
      r.retries.map((e) => [e.what, e.retry, e.error.code, e.error.source, e.error.status]),
      [
        ['upload', 1, 'SlowDown', 'storage', 503],
        ['upload', 2, 'SlowDown', 'storage', 503],
      ],
    );
    // Full jitter with random 0.5: half of 5 ms, then half of 10 ms.
    assert.deepEqual(
      r.retries.map((e) => e.delayMs),
      [2, 5],
    );
    assert.equal(stack.storageProxy.seen.length, 3);
    assert.equal(r.progress.at(-1)!.loaded, 2 * MB);
  });

  test('the gateway unreachable once (reset) and then 503 + Retry-After from its proxy: grant retried', async () => {
    reset();
    stack.gatewayProxy.fault = (_req, i) =>
      i === 0 ? 'reset' : i === 1 ? { status: 503, headers: { 'retry-after': '1' } } : undefined;
    const r = await run(file2.path, { route: 'notes-put' });
    assert.equal(r.error, undefined, r.error?.stack);
    assert.equal(r.value!.state, 'verified');
    assert.deepEqual(
      r.retries.map((e) => [e.what, e.error.code, e.delayMs]),
      [
        ['grant', 'network_error', 2],
        ['grant', 'http_503', 1000],
      ],
    );
  });

  for (const route of ['notes', 'notes-put']) {
    test(`${route}: storage takes the request and then says nothing: the stalled attempt is dropped and retried`, async () => {
      reset();
      let hung = 0;
      stack.storageProxy.fault = (req) => (req.method !== 'OPTIONS' && hung++ === 0 ? 'hang' : undefined);
      const r = await run(file2.path, { route, stallMs: 300 });
      assert.equal(r.error, undefined, r.error?.stack);
      assert.equal(r.value!.state, 'verified');
      assert.deepEqual(
        r.retries.map((e) => [e.what, e.error.code, e.error.details?.['stalled']]),
        [['upload', 'network_error', true]],
      );
      assert.match(r.retries[0]!.error.message, /stalled/);
      assert.equal(stack.storageProxy.seen.length, 2);
    });
  }

  test('a 5xx that never ends: gives up after `attempts`, with the last error', async () => {
    reset();
    stack.storageProxy.fault = () => SLOW_DOWN;
    const r = await run(file2.path, { route: 'notes-put', retry: { attempts: 3, baseMs: 1 } });
    assert.equal(r.error?.code, 'SlowDown');
    assert.equal(r.error?.uploadId, r.grants[0]!.id);
    assert.equal(stack.storageProxy.seen.length, 3);
    assert.equal(r.retries.length, 2);
  });

  test('4xx are never retried: 413 too_large from the gateway, its code and request id surfaced', async () => {
    reset();
    const r = await run(file2.path, { route: 'small' });
    assert.ok(r.error instanceof ChuteClientError);
    assert.deepEqual([r.error.code, r.error.status, r.error.source], ['too_large', 413, 'gateway']);
    assert.match(r.error.requestId ?? '', /\S/);
    assert.deepEqual(stack.gatewayProxy.seen, ['POST /v1/grants']);
    assert.deepEqual(r.retries, []);
    assert.equal(r.grants.length, 0);
  });

  test('4xx from storage are never retried: a wrong declared checksum is refused by storage once', async () => {
    reset();
    const r = await run(file2.path, { route: 'notes-put', checksum: 'a'.repeat(64) });
    if (stack.target.name === 'rgw') {
      // RGW 16 ignores x-amz-checksum-sha256 (no flexible checksums): the gateway's own hash refuses it.
      assert.deepEqual([r.value?.state, r.value?.reason], ['rejected', 'checksum_mismatch']);
      return;
    }
    assert.ok(r.error instanceof ChuteClientError);
    assert.equal(r.error.source, 'storage');
    assert.equal(r.error.status, 400);
    assert.equal(stack.storageProxy.seen.length, 1);
    assert.deepEqual(r.retries, []);
    assert.equal((await stack.view(r.grants[0]!.id)).state, 'granted');
  });

  test('getToken is asked before every gateway call (grant, complete), not once', async () => {
    reset();
    let asked = 0;
    const r = await run(file2.path, {
      route: 'notes',
      token: undefined,
      getToken: async () => {
        asked++;
        return stack.token;
      },
    });
    assert.equal(r.value?.state, 'verified', r.error?.stack);
    assert.equal(asked, 2);
  });

  test('unknown route, bad token: 404 route_not_found and 401 unauthenticated, not retried', async () => {
    reset();
    const a = await run(file2.path, { route: 'nope' });
    assert.deepEqual([a.error?.code, a.error?.status], ['route_not_found', 404]);
    const b = await run(file2.path, { route: 'notes', token: `${stack.token}x` });
    assert.deepEqual([b.error?.code, b.error?.status], ['unauthenticated', 401]);
    assert.equal(stack.gatewayProxy.seen.length, 2);
  });

  for (const [route, method] of [
    ['notes', 'post'],
    ['notes-put', 'put'],
  ] as const) {
    test(`${method.toUpperCase()}: storage says the grant expired → one new grant, uploaded again, verified`, async () => {
      reset();
      stack.expire.next = 1;
      const r = await run(file2.path, { route });
      assert.equal(r.error, undefined, r.error?.stack);
      assert.equal(r.grants.length, 2);
      assert.equal(r.value!.id, r.grants[1]!.id);
      assert.equal(r.value!.state, 'verified');
      assert.equal((await stack.view(r.grants[0]!.id)).state, 'granted');
      assert.deepEqual(r.retries, []);
      assert.equal(r.progress.at(-1)!.loaded, 2 * MB);
      // PUT expects 100 (Continue): storage refused the expired URL before a byte of the body.
      if (method === 'put') assert.deepEqual(stack.storageProxy.bodyBytes, [0, 2 * MB]);
    });
  }

  test('expired again after the re-grant: only one re-grant, storage\u2019s 403 surfaced', async () => {
    reset();
    stack.expire.next = 5;
    const r = await run(file2.path, { route: 'notes-put' });
    assert.equal(r.grants.length, 2);
    assert.deepEqual([r.error?.code, r.error?.status, r.error?.source], ['AccessDenied', 403, 'storage']);
    // Ours and S3 say "Request has expired"; RGW 16 sends no message.
    assert.match(r.error!.message, stack.target.name === 'rgw' ? /403 AccessDenied/ : /expired/i);
    assert.equal(r.error?.uploadId, r.grants[1]!.id);
  });

  test('the gateway says 410 grant_expired at complete (its clock moved on) → re-grant, verified', async () => {
    reset();
    let moved = false;
    const r = await run(file2.path, {
      route: 'notes',
      onProgress: (p) => {
        if (p.loaded === p.total && !moved) {
          moved = true;
          stack.clock.offset = 20 * 60_000; // past expiresAt + grace
        }
      },
    });
    assert.equal(r.error, undefined, r.error?.stack);
    assert.equal(r.grants.length, 2);
    assert.equal(r.value!.state, 'verified');
    assert.equal((await stack.view(r.grants[0]!.id)).state, 'granted');
    assert.deepEqual(
      stack.gatewayProxy.seen.filter((s) => s.endsWith('/complete')),
      [`POST /v1/uploads/${r.grants[0]!.id}/complete`, `POST /v1/uploads/${r.grants[1]!.id}/complete`],
    );
  });

  for (const skew of [-3600_000, 3600_000]) {
    test(`the gateway's clock ${skew > 0 ? 'an hour ahead' : 'an hour behind'}: one grant, judged by serverTime`, async () => {
      reset();
      stack.clock.offset = skew;
      // One 503 first: the retry re-checks the grant's deadline, which a client judging
      // expiresAt by its own clock would get wrong.
      stack.storageProxy.fault = (_req, i) => (i === 0 ? SLOW_DOWN : undefined);
      const r = await run(file2.path, { route: 'notes-put' });
      assert.equal(r.error, undefined, r.error?.stack);
      assert.equal(r.grants.length, 1);
      assert.equal(r.value!.state, 'verified');
    });
  }

  test('no listener is left on the caller\u2019s signal after a success or a failure', async () => {
    reset();
    const ok = new AbortController();
    const a = await run(file2.path, { route: 'notes', signal: ok.signal });
    assert.equal(a.value?.state, 'verified');
    assert.equal(getEventListeners(ok.signal, 'abort').length, 0);
    const bad = new AbortController();
    stack.storageProxy.fault = () => SLOW_DOWN;
    const b = await run(file2.path, {
      route: 'notes',
      signal: bad.signal,
      retry: { attempts: 2, baseMs: 1 },
    });
    assert.equal(b.error?.code, 'SlowDown');
    assert.equal(getEventListeners(bad.signal, 'abort').length, 0);
  });
});
