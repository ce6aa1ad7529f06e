// @chute/client in a real browser (Debian's Chromium): the package's own source, served to a page
// on 127.0.0.1 (types stripped by Node, nothing bundled), uploads through a real gateway to the
// embedded store by XMLHttpRequest. Run with `npm run test:e2e`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { stripTypeScriptTypes } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { type Stack, startStack } from '../../packages/client/test/helpers/stack.ts';
import { launchChromium } from './browser.ts';

const CLIENT_SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../packages/client/src');

const PAGE = `<!doctype html><meta charset="utf-8"><title>client</title>
<script type="module">
  import * as client from '/client/index.ts';
  window.chute = client;
  document.body.dataset.ready = 'true';
</script><body></body>`;

/** The page and the client's modules, each .ts stripped to JavaScript on the way out. */
async function startPageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(PAGE);
    }
    const m = url.pathname.match(/^\/client\/((?:[\w-]+\/)*[\w-]+\.ts)$/);
    if (m === null) {
      res.writeHead(404);
      return res.end();
    }
    try {
      const source = await readFile(path.join(CLIENT_SRC, m[1]!), 'utf8');
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(stripTypeScriptTypes(source));
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface PageResult {
  transport: string;
  state?: string;
  id?: string;
  error?: { code: string; status?: number; uploadId?: string; source: string };
  progress: number[];
  grants: number;
  retries: string[];
}

describe('@chute/client in Chromium', () => {
  let site: Awaited<ReturnType<typeof startPageServer>>;
  let stack: Stack;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    site = await startPageServer();
    stack = await startStack('browser', { corsOrigin: site.origin });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(`${site.origin}/`);
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
    await site?.close();
  });

  /** upload() in the page of a File of `size` bytes of text; `abortAt`: abort once this many bytes went. */
  function runInPage(args: { route: string; size: number; abortAt?: number }): Promise<PageResult> {
    return page.evaluate(
      async ({ route, size, abortAt, endpoint, token }) => {
        const { upload, defaultTransport } = (
          globalThis as unknown as { chute: typeof import('../../packages/client/src/index.ts') }
        ).chute;
        const line = 'browser upload line of plain text\n';
        const file = new File([line.repeat(Math.ceil(size / line.length)).slice(0, size)], 'notes.txt', {
          type: 'text/plain',
        });
        const controller = new AbortController();
        const out: PageResult = { transport: defaultTransport().name, progress: [], grants: 0, retries: [] };
        try {
          const done = await upload(file, {
            route,
            endpoint,
            token,
            signal: controller.signal,
            retry: { baseMs: 10 },
            onGrant: () => out.grants++,
            onRetry: (e) => out.retries.push(`${e.what}:${e.error.code}`),
            onProgress: (p) => {
              out.progress.push(p.loaded);
              if (abortAt !== undefined && p.loaded >= abortAt) controller.abort();
            },
          });
          out.state = done.state;
          out.id = done.id;
        } catch (e) {
          const err = e as { code: string; status?: number; uploadId?: string; source: string };
          out.error = { code: err.code, status: err.status, uploadId: err.uploadId, source: err.source };
        }
        return out;
      },
      { ...args, endpoint: stack.gatewayUrl, token: stack.token },
    );
  }

  test('POST and PUT of 3 MB by XMLHttpRequest: verified, progress up to exactly the size', async () => {
    for (const route of ['notes', 'notes-put']) {
      const r = await runInPage({ route, size: 3_000_000 });
      assert.equal(r.transport, 'xhr');
      assert.equal(r.error, undefined, JSON.stringify(r.error));
      assert.equal(r.state, 'verified');
      assert.equal(r.progress.at(-1), 3_000_000);
      for (let i = 1; i < r.progress.length; i++) assert.ok(r.progress[i]! >= r.progress[i - 1]!);
    }
    assert.deepEqual(problems, []);
  });

  test('multipart of 33 MiB by XMLHttpRequest: parts in parallel, ETags readable (bucket CORS), verified byte for byte', async () => {
    const size = 33 * 2 ** 20;
    stack.storageProxy.seen.length = 0;
    const r = await runInPage({ route: 'big', size });
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.state, 'verified');
    assert.equal(r.progress.at(-1), size);
    assert.equal(stack.storageProxy.seen.filter((s) => s.startsWith('PUT ')).length, 3, 'three 16 MiB parts');
    const line = 'browser upload line of plain text\n';
    const bytes = Buffer.from(line.repeat(Math.ceil(size / line.length)).slice(0, size));
    assert.equal(await stack.downloadSha256(r.id!), createHash('sha256').update(bytes).digest('hex'));
    assert.deepEqual(problems, []);
  });

  test('abort mid-upload (upload throttled to 1 MB/s): aborted, the grant left granted, nothing stored', async () => {
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 1_000_000,
    });
    try {
      const r = await runInPage({ route: 'notes-put', size: 3_000_000, abortAt: 500_000 });
      assert.equal(r.error?.code, 'aborted', JSON.stringify(r));
      assert.ok(r.progress.at(-1)! < 3_000_000);
      const id = r.error!.uploadId!;
      assert.equal((await stack.view(id)).state, 'granted');
      assert.equal(await stack.exists(`incoming/alice/${id}`), false);
    } finally {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
      await cdp.detach();
    }
  });

  test('storage behind a load balancer answering 503 (no CORS headers: a network error to the page): retried', async () => {
    let failures = 1;
    stack.storageProxy.fault = (req) =>
      req.method === 'PUT' && failures-- > 0 ? { status: 503 } : undefined;
    try {
      const r = await runInPage({ route: 'notes-put', size: 100_000 });
      assert.equal(r.state, 'verified', JSON.stringify(r));
      assert.deepEqual(r.retries, ['upload:network_error']);
      assert.equal(r.grants, 1);
    } finally {
      stack.storageProxy.fault = undefined;
    }
  });

  test('a refused declaration: the gateway\u2019s code reaches the page (413 too_large), nothing retried', async () => {
    const r = await runInPage({ route: 'small', size: 2_000_000 });
    assert.deepEqual(r.error, { code: 'too_large', status: 413, uploadId: undefined, source: 'gateway' });
    assert.deepEqual(r.retries, []);
  });
});
