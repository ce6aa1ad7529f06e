// Uppy in a real browser (Debian's Chromium) against `chute dev` (gateway + embedded store): the
// real @uppy/core and @uppy/aws-s3 from npm, bundled for the page by esbuild, set up exactly as
// docs/uppy.md tells a user (a Companion link from POST /v1/companion, companionEndpoint,
// shouldUseMultipart: true, the size in the file's meta). Cases: a generated 200 MiB file
// (verified and frozen, its MD5 and SHA-256 equal to what the page made), a small file (one part
// below 5 MiB), the tab reloaded halfway through 200 MiB (Golden Retriever restores the file, Uppy
// lists the parts storage has and sends the rest: the same upload ends verified), Uppy's cancel
// mid-upload (the grant withdrawn, the multipart upload gone from storage), and a file
// verification refuses (Uppy reports the error). Run with `npm run test:e2e`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { mintToken } from '@chute/gateway';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { type DevServer, startDev } from '../../packages/cli/src/dev.ts';
import { launchChromium } from './browser.ts';

const MIB = 2 ** 20;

/** The page's module (the app's code and the test's probes), bundled with the packages. */
const PAGE_MODULE = join(dirname(fileURLToPath(import.meta.url)), 'uppy-page.js');
const PAGE = `<!doctype html><meta charset="utf-8"><title>uppy</title><body>
<script type="module" src="/uppy-e2e/bundle.js"></script></body>`;

/**
 * The bytes of the test file, MiB by MiB: each MiB its own number up front, then a pattern, so
 * parts out of order or a part sent twice change the digest. The page builds the same in JS.
 */
function mib(i: number, base: Uint8Array): Uint8Array[] {
  const head = new Uint8Array(16);
  new TextEncoder().encodeInto(`MiB ${String(i).padStart(11, '0')}\n`, head);
  return [head, base.subarray(16)];
}
function patternBase(): Uint8Array {
  const b = new Uint8Array(MIB);
  for (let j = 0; j < MIB; j++) b[j] = (j * 7 + (j >>> 10)) & 255;
  return b;
}
function digests(size: number): { md5: string; sha256: string } {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  const base = patternBase();
  let left = size;
  for (let i = 0; left > 0; i++) {
    for (const piece of mib(i, base)) {
      const p = piece.subarray(0, Math.min(piece.length, left));
      md5.update(p);
      sha.update(p);
      left -= p.length;
    }
  }
  return { md5: md5.digest('hex'), sha256: sha.digest('hex') };
}

/** What uppy-page.js reports for one file (see its `watch`). */
interface PageOutcome {
  successful: { location?: string; key?: string }[];
  failed: { error: string }[];
  progress: number;
  parts: number;
  uploadId?: string;
  cancelled?: boolean;
  calls?: string[];
}

/** uppy-page.js's globals, as page.evaluate sees them (Uppy's own types would bring the DOM lib). */
interface UppyLike {
  addFile(file: { name: string; type: string; data: Blob }): string;
  // biome-ignore lint/suspicious/noExplicitAny: Uppy's events have many shapes
  on(event: string, handler: (...args: any[]) => void): void;
  emit(event: string): void;
  cancelAll(): void;
  upload(): Promise<unknown>;
  getID(): string;
}
/** The slice of the page's IndexedDB the reload test reads (this project's types have no DOM). */
interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbDatabase {
  transaction(stores: string[]): {
    objectStore(name: string): { get(key: string): IdbRequest<unknown>; count(): IdbRequest<unknown> };
  };
  close(): void;
}
interface PageApi {
  calls: string[];
  companionEndpoint(token: string, route: string): Promise<string>;
  makeUppy(endpoint: string, options?: { retriever?: boolean; log?: (...args: unknown[]) => void }): UppyLike;
  makeBlob(size: number, type: string): Blob;
  watch(uppy: UppyLike): PageOutcome;
}

describe('Uppy (@uppy/core + @uppy/aws-s3 from npm) in Chromium against chute dev', () => {
  let dataDir: string;
  let dev: DevServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let token: string;
  const problems: string[] = [];

  before(async () => {
    const bundled = await build({
      entryPoints: [PAGE_MODULE],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'chrome120',
      write: false,
      logLevel: 'silent',
    });
    const bundle = bundled.outputFiles[0]!.text;
    dataDir = await mkdtemp(join(tmpdir(), 'chute-e2e-uppy-'));
    dev = await startDev({ dataDir, host: '127.0.0.1', port: 0, s3Port: 0 });
    // The app's page, on the gateway's origin (as the console is with chute dev).
    dev.gateway.app.get('/uppy-e2e/', (c) => c.html(PAGE));
    dev.gateway.app.get('/uppy-e2e/bundle.js', (c) =>
      c.body(bundle, 200, { 'content-type': 'text/javascript; charset=utf-8' }),
    );
    const secret = dev.config.auth.jwt?.secret;
    assert.ok(secret);
    token = await mintToken({ user: 'alice', role: 'uploader', secret });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(`${dev.gatewayUrl}/uppy-e2e/`);
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  });
  after(async () => {
    await browser?.close();
    await dev?.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  /**
   * In the page: the app asks the gateway for a Companion link with the user's token, builds
   * Uppy as docs/uppy.md shows, adds a generated file and uploads it. `cancelAfterParts`: Uppy's
   * cancelAll once that many parts are up.
   */
  function runInPage(args: { size: number; type: string; cancelAfterParts?: number }): Promise<PageOutcome> {
    return page.evaluate(
      async ({ size, type, cancelAfterParts, token }) => {
        const api = (globalThis as unknown as { uppyE2E: PageApi }).uppyE2E;
        api.calls.length = 0;
        const uppy = api.makeUppy(await api.companionEndpoint(token, 'video'));
        const out = api.watch(uppy);
        uppy.addFile({ name: 'clip.bin', type, data: api.makeBlob(size, type) });
        const cancelled = new Promise<void>((resolve) => {
          uppy.on('s3-multipart:part-uploaded', () => {
            if (cancelAfterParts !== undefined && out.parts === cancelAfterParts) {
              out.cancelled = true;
              uppy.cancelAll();
              resolve();
            }
          });
        });
        const uploaded = uppy.upload();
        await (cancelAfterParts === undefined ? uploaded : cancelled);
        return { ...out, calls: [...api.calls] };
      },
      { ...args, token },
    );
  }

  /** Upload throttled to this many bytes/s (Chromium's own network emulation); -1: no limit. */
  async function throttle(bytesPerSec: number): Promise<void> {
    const cdp = await browser.context.newCDPSession(page);
    try {
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: bytesPerSec,
      });
    } finally {
      await cdp.detach();
    }
  }

  async function view(id: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${dev.gatewayUrl}/v1/uploads/${id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return (await res.json()) as Record<string, unknown>;
  }
  /** The frozen file's digests, read back through the gateway's download link. */
  async function downloaded(id: string): Promise<{ md5: string; sha256: string; size: number }> {
    const link = await fetch(`${dev.gatewayUrl}/v1/files/${id}/download`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
    const { url } = (await link.json()) as { url: string };
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const md5 = createHash('md5');
    const sha = createHash('sha256');
    let size = 0;
    for await (const chunk of res.body!) {
      md5.update(chunk);
      sha.update(chunk);
      size += chunk.length;
    }
    return { md5: md5.digest('hex'), sha256: sha.digest('hex'), size };
  }
  const idOf = (location: string | undefined) => /\/v1\/uploads\/(up_\w+)$/.exec(location ?? '')?.[1];

  test('a 200 MiB file through Uppy: verified and frozen, MD5 and SHA-256 those of the bytes the page made', async () => {
    const size = 200 * MIB;
    const r = await runInPage({ size, type: 'application/octet-stream' });
    assert.deepEqual(r.failed, []);
    assert.equal(r.successful.length, 1);
    assert.equal(r.progress, size);
    assert.equal(r.parts, 40, "Uppy's 5 MiB parts");
    // Exactly Companion's multipart calls: start, one signature per part, complete.
    const shape = (r.calls ?? []).map((c) => c.replace(/up_\w+/, 'ID').replace(/\/\d+$/, '/N'));
    assert.deepEqual(shape, [
      'POST /multipart',
      ...Array(40).fill('GET /multipart/ID/N'),
      'POST /multipart/ID/complete',
    ]);
    const id = idOf(r.successful[0]!.location);
    assert.ok(id, JSON.stringify(r.successful));
    const v = await view(id);
    assert.equal(v['state'], 'verified');
    assert.equal(v['size'], size);
    assert.deepEqual(await downloaded(id), { ...digests(size), size });
    assert.deepEqual(problems, []);
  });

  test('200 MiB, the tab reloaded halfway (Golden Retriever): the same upload resumes from the parts storage has, verified', async () => {
    const size = 200 * MIB;
    await throttle(12_000_000);
    let before: { uploadId?: string; parts: number };
    try {
      before = await page.evaluate(
        async ({ size, token }) => {
          const api = (globalThis as unknown as { uppyE2E: PageApi }).uppyE2E;
          const logs: string[] = [];
          const uppy = api.makeUppy(await api.companionEndpoint(token, 'video'), {
            retriever: true,
            log: (...a) => logs.push(a.join(' ')),
          });
          const out = api.watch(uppy);
          uppy.addFile({
            name: 'clip.bin',
            type: 'application/octet-stream',
            data: api.makeBlob(size, 'application/octet-stream'),
          });
          void uppy.upload();
          // Polls `ok` until it holds; a minute without it fails the test instead of hanging it
          // (page.evaluate has no timeout of its own).
          const until = async (ok: () => boolean | Promise<boolean>, what: string) => {
            const deadline = Date.now() + 60_000;
            while (!(await ok())) {
              if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
              await new Promise((r) => setTimeout(r, 50));
            }
          };
          // The file kept in IndexedDB, some parts up, and Uppy's state (uploadId, key) written.
          await until(
            () => logs.some((l) => l.includes('Added 1 blobs')) && out.parts >= 8,
            'the blob and 8 parts',
          );
          // Golden Retriever's writes to IndexedDB are best-effort and finish after it says so:
          // the blob ("Added 1 blobs") once its transaction commits, the snapshot of Uppy's
          // state on a 500 ms throttle. A reload before both restored the file as a ghost,
          // without its bytes, and nothing was uploaded (seen in CI on a loaded machine). Wait
          // until a new transaction sees both: the blob, and the snapshot with the upload's id.
          const idb = (
            globalThis as unknown as { indexedDB: { open(name: string): IdbRequest<IdbDatabase> } }
          ).indexedDB;
          const request = <T>(r: IdbRequest<T>) =>
            new Promise<T>((resolve, reject) => {
              r.onsuccess = () => resolve(r.result);
              r.onerror = () => reject(r.error);
            });
          const stored = async () => {
            const db = await request(idb.open('uppy-blobs'));
            try {
              const record = (await request(
                db.transaction(['metadata']).objectStore('metadata').get(uppy.getID()),
              )) as { metadata: string } | undefined;
              const files = Object.values(
                (
                  JSON.parse(record?.metadata ?? '{}') as {
                    files?: Record<string, { s3Multipart?: { uploadId?: string } }>;
                  }
                ).files ?? {},
              );
              const blobs = (await request(db.transaction(['files']).objectStore('files').count())) as number;
              return blobs > 0 && files.some((f) => f.s3Multipart?.uploadId !== undefined);
            } finally {
              db.close();
            }
          };
          await until(stored, "Golden Retriever's stored blob and snapshot");
          return { uploadId: out.uploadId, parts: out.parts };
        },
        { size, token },
      );
      // A reload: every request of the page dies mid-flight, as in a crash.
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    } finally {
      await throttle(-1);
    }
    assert.ok(before.uploadId);
    assert.ok(before.parts < 40, `stopped at part ${before.parts}`);
    const after = await page.evaluate(
      async ({ token }) => {
        const api = (globalThis as unknown as { uppyE2E: PageApi }).uppyE2E;
        // A new page: a new link, the same Uppy setup; Golden Retriever restores the file.
        const uppy = api.makeUppy(await api.companionEndpoint(token, 'video'), { retriever: true });
        const out = api.watch(uppy);
        await new Promise((r) => uppy.on('restored', r));
        const done = new Promise((r) => uppy.on('complete', r));
        uppy.emit('restore-confirmed'); // what the Dashboard's "resume" does
        await done;
        return { ...out, calls: [...api.calls] };
      },
      { token },
    );
    assert.deepEqual(after.failed, []);
    const id = idOf(after.successful[0]?.location);
    assert.equal(id, before.uploadId, 'the same upload, resumed');
    const calls = after.calls ?? [];
    assert.equal(calls[0], `GET /multipart/${id}`, 'Uppy first lists the parts storage holds');
    const signed = calls.filter((c) => /^GET \/multipart\/up_\w+\/\d+$/.test(c)).length;
    assert.ok(signed <= 40 - before.parts, `only the missing parts were sent again (${signed})`);
    process.stderr.write(
      `# reloaded after ${before.parts} of 40 parts; ${signed} signed again after the reload\n`,
    );
    const v = await view(id!);
    assert.equal(v['state'], 'verified');
    assert.deepEqual(await downloaded(id!), { ...digests(size), size });
    assert.deepEqual(problems, []);
  });

  test('a small file (one part below 5 MiB): verified, bytes intact', async () => {
    const size = 300_001;
    const r = await runInPage({ size, type: 'application/octet-stream' });
    assert.deepEqual(r.failed, []);
    const id = idOf(r.successful[0]?.location);
    assert.ok(id);
    assert.equal((await view(id))['state'], 'verified');
    assert.deepEqual(await downloaded(id), { ...digests(size), size });
  });

  test('Uppy cancel mid-upload: the grant withdrawn, the multipart upload aborted on storage', async () => {
    const r = await runInPage({ size: 60 * MIB, type: 'application/octet-stream', cancelAfterParts: 2 });
    assert.equal(r.cancelled, true);
    assert.deepEqual(r.successful, []);
    const id = r.uploadId;
    assert.ok(id);
    // Uppy's abort (DELETE …/s3/multipart/{uploadId}) is sent without waiting for its answer.
    let state = '';
    for (let i = 0; i < 100 && state !== 'withdrawn'; i++) {
      state = String((await view(id))['state']);
      if (state !== 'withdrawn') await sleep(50);
    }
    assert.equal(state, 'withdrawn');
    // The grant is withdrawn first, then storage's upload aborted (lifecycle/reviews.ts: cancel).
    const upload = await dev.gateway.services.repo.uploads.get(id);
    const { storage } = dev.gateway.services;
    let parts = await storage.listParts(upload!.incomingKey, upload!.multipartId!);
    for (let i = 0; i < 100 && parts !== undefined; i++) {
      await sleep(50);
      parts = await storage.listParts(upload!.incomingKey, upload!.multipartId!);
    }
    assert.equal(parts, undefined, 'the multipart upload is gone from storage (NoSuchUpload)');
    assert.equal(await storage.head(upload!.incomingKey), undefined);
  });

  test('a file verification refuses (declared video/mp4, bytes of none): Uppy reports the error', async () => {
    const r = await runInPage({ size: 6 * MIB, type: 'video/mp4' });
    assert.deepEqual(r.successful, []);
    assert.equal(r.failed.length, 1, JSON.stringify(r));
    const rejected = await fetch(`${dev.gatewayUrl}/v1/uploads?state=rejected`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const list = (await rejected.json()) as { items: { reason: string }[] };
    assert.equal(list.items[0]?.reason, 'type_mismatch');
  });
});
