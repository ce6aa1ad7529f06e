// Uppy in a real browser (Debian's Chromium) against `chute dev` (gateway + embedded store): the
// real @uppy/core and @uppy/aws-s3 from npm, bundled for the page by esbuild, set up exactly as
// docs/uppy.md tells a user (a Companion link from POST /v1/companion, companionEndpoint,
// shouldUseMultipart: true, the size in the file's meta). Cases: a generated 200 MiB file
// (verified and frozen, its MD5 and SHA-256 equal to what the page made), a small file (one part
// below 5 MiB), Uppy's cancel mid-upload (the grant withdrawn, the multipart upload gone from
// storage), and a file verification refuses (Uppy reports the error). Run with `npm run test:e2e`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintToken } from '@chute/gateway';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { type DevServer, startDev } from '../../packages/cli/src/dev.ts';
import { launchChromium } from './browser.ts';

const MIB = 2 ** 20;

/** The page's entry: the packages as a user imports them, put where page.evaluate finds them. */
const ENTRY = `
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';
window.Uppy = Uppy;
window.AwsS3 = AwsS3;
document.body.dataset.ready = 'true';
`;
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

/** What the test calls on an Uppy instance (the package's own types are not loaded here). */
interface UppyLike {
  use(plugin: unknown, opts: object): UppyLike;
  addFile(file: { name: string; type: string; data: Blob }): string;
  // biome-ignore lint/suspicious/noExplicitAny: Uppy's events have many shapes
  on(event: string, handler: (...args: any[]) => void): void;
  getFile(id: string): { s3Multipart?: { uploadId: string } } | undefined;
  cancelAll(): void;
  upload(): Promise<{ successful?: { response?: { body?: object } }[] } | undefined>;
}

interface PageOutcome {
  successful: { location?: string; key?: string }[];
  failed: { error: string }[];
  progress: number;
  parts: number;
  uploadId?: string;
  cancelled?: boolean;
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
      stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'js' },
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
        // Uppy's own types are not imported: they bring the DOM lib into every file's types.
        const w = globalThis as unknown as { Uppy: new (opts: object) => UppyLike; AwsS3: unknown };
        const res = await fetch('/v1/companion', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ route: 'video' }),
        });
        const { companionEndpoint } = (await res.json()) as { companionEndpoint: string };

        const uppy = new w.Uppy({
          // As docs/uppy.md has it: Uppy's default duplicate check, plus the size in the meta.
          onBeforeFileAdded: (file: { id: string; meta: object; size: number }, files: object) =>
            !Object.hasOwn(files, file.id) && { ...file, meta: { ...file.meta, size: file.size } },
        }).use(w.AwsS3, { companionEndpoint, shouldUseMultipart: true });

        const MiB = 1 << 20;
        const base = new Uint8Array(MiB);
        for (let j = 0; j < MiB; j++) base[j] = (j * 7 + (j >>> 10)) & 255;
        const pieces: Uint8Array[] = [];
        for (let i = 0, left = size; left > 0; i++) {
          const head = new Uint8Array(16);
          new TextEncoder().encodeInto(`MiB ${String(i).padStart(11, '0')}\n`, head);
          for (const piece of [head, base.subarray(16)]) {
            const p = piece.subarray(0, Math.min(piece.length, left));
            pieces.push(p);
            left -= p.length;
          }
        }
        const fileId = uppy.addFile({ name: 'clip.bin', type, data: new Blob(pieces, { type }) });

        const out: PageOutcome = { successful: [], failed: [], progress: 0, parts: 0 };
        uppy.on('upload-progress', (_f: unknown, p: { bytesUploaded: number }) => {
          out.progress = Math.max(out.progress, p.bytesUploaded);
        });
        uppy.on('upload-error', (_f: unknown, e: Error) => out.failed.push({ error: e.message }));
        const cancelled = new Promise<void>((resolve) => {
          uppy.on('s3-multipart:part-uploaded', () => {
            out.parts++;
            out.uploadId = uppy.getFile(fileId)?.s3Multipart?.uploadId;
            if (cancelAfterParts !== undefined && out.parts === cancelAfterParts) {
              out.cancelled = true;
              uppy.cancelAll();
              resolve();
            }
          });
        });
        const uploaded = uppy.upload().then((r) => {
          for (const f of r?.successful ?? []) out.successful.push(f.response?.body ?? {});
        });
        await (cancelAfterParts === undefined ? uploaded : cancelled);
        return out;
      },
      { ...args, token },
    );
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
    const id = idOf(r.successful[0]!.location);
    assert.ok(id, JSON.stringify(r.successful));
    const v = await view(id);
    assert.equal(v['state'], 'verified');
    assert.equal(v['size'], size);
    assert.deepEqual(await downloaded(id), { ...digests(size), size });
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
