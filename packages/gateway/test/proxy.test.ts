// Proxy mode end to end over real HTTP: client → gateway (PUT /v1/uploads/{id}/content) → the
// embedded store (or RGW with CHUTE_S3_TARGET=rgw), on SQLite and PostgreSQL. Nothing is mocked.
//
// Bad inputs tried, each checked to leave nothing at the incoming key and the grant usable:
//   a body 1 byte over the declared size (Content-Length, and chunked without one) → 413;
//   1 byte under (Content-Length, and chunked) → 400; HTML declared image/png (wrong type by
//   magic bytes) → 415; a wrong declared checksum → 400; someone else's upload id → 404 (an
//   admin's too); a route without proxy → 405; over the per-instance in-flight cap → 503 +
//   Retry-After; the client hanging up mid-body; sending again after complete → 409.
// And: 200 MiB through with the process's peak RSS growth under 160 MiB (memory flat in size).
// With CHUTE_E2E_CLUSTER (`npm run test:cluster`) once through the cluster's balancer; the
// in-flight cap is per instance, so that test sends to one instance.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { route } from '../src/rules/builder.ts';
import { type GrantJson, type Harness, startHarness, testSpread } from './helpers/e2e.ts';
import { type Engine, SUITE_ENGINES } from './helpers/engines.ts';
import { HTML, png } from './helpers/images.ts';

const ROUTES = [
  route('pic').types('image/png').maxSize('1MB').proxy(),
  route('blob').types('application/octet-stream').maxSize('256MiB').method('put').proxy(),
  route('direct').types('image/png').maxSize('1MB'),
];

const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: { state?: string; reason?: string; error?: { code: string; message: string } };
}

/**
 * A PUT written by hand (node:http), so a test can send a body of another length than its
 * Content-Length says, send it chunked, pause, or hang up half way.
 */
function send(
  url: string,
  token: string,
  chunks: AsyncIterable<Buffer> | Buffer[],
  options: { length?: number; hangUpAfter?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/octet-stream',
    };
    if (options.length !== undefined) headers['content-length'] = String(options.length);
    const req = http.request(url, { method: 'PUT', headers });
    req.on('response', async (res) => {
      let text = '';
      for await (const c of res) text += c;
      resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : {} });
    });
    req.on('error', reject);
    (async () => {
      let sent = 0;
      for await (const c of chunks) {
        if (options.hangUpAfter !== undefined && sent + c.length > options.hangUpAfter) {
          req.write(c.subarray(0, options.hangUpAfter - sent));
          await sleep(100);
          req.destroy();
          resolve({ status: 0, headers: {}, json: {} });
          return;
        }
        sent += c.length;
        if (!req.write(c)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(reject);
  });
}

for (const { name, open } of SUITE_ENGINES) {
  describe(`proxy mode (${name})`, () => {
    let engine: Engine;
    let h: Harness;
    let alice: string;
    let bob: string;
    let admin: string;

    before(async () => {
      engine = await open();
      if (engine.skip) return;
      h = await startHarness(engine, `proxy-${engine.name}`, {
        routes: ROUTES,
        proxy: { maxInFlight: '1MiB' },
        quotas: { bytesPerDay: '10GB' },
      });
      [alice, bob, admin] = await Promise.all([h.token('alice'), h.token('bob'), h.token('root', 'admin')]);
    });
    after(async () => {
      try {
        await h?.close();
      } finally {
        await engine?.cleanup();
      }
    });
    const skip = () => (engine.skip ? engine.skip : false);

    async function grant(routeName: string, bytes: Buffer | number, extra: Record<string, unknown> = {}) {
      const size = typeof bytes === 'number' ? bytes : bytes.length;
      const contentType = routeName === 'blob' ? 'application/octet-stream' : 'image/png';
      const res = await h.api('/v1/grants', {
        token: alice,
        json: { route: routeName, filename: 'f.bin', contentType, size, ...extra },
      });
      assert.equal(res.status, 201);
      return (await res.json()) as GrantJson;
    }
    const contentUrl = (g: GrantJson, base = h.url) => `${base}/v1/uploads/${g.id}/content`;
    async function stored(key: string): Promise<boolean> {
      try {
        await h.s3.send(new HeadObjectCommand({ Bucket: h.bucket, Key: key }));
        return true;
      } catch {
        return false;
      }
    }
    /** The grant still works after a refusal: the right bytes go through and verify. */
    async function stillUsable(g: GrantJson, bytes: Buffer) {
      const ok = await send(contentUrl(g), alice, [bytes], { length: bytes.length });
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.equal(ok.json.state, 'verified');
    }

    test('a PNG sent through the gateway is stored, verified and frozen', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(64, 64, 30_000);
      const g = await grant('pic', bytes);
      const res = await fetch(contentUrl(g), {
        method: 'PUT',
        headers: { authorization: `Bearer ${alice}` },
        body: new Uint8Array(bytes),
      });
      const json = (await res.json()) as { state: string; file: { size: number; type: string } };
      assert.equal(res.status, 200, JSON.stringify(json));
      assert.equal(json.state, 'verified');
      assert.equal(json.file.size, bytes.length);
      assert.equal(json.file.type, 'image/png');
      assert.equal(await stored(g.key), false, 'the incoming key is emptied by the freeze');
      const dl = await h.api(`/v1/files/${g.id}/download`, { token: alice });
      const file = Buffer.from(await (await fetch(dl.headers.get('location') ?? '')).arrayBuffer());
      assert.ok(file.equals(bytes));
      // Counted by the instance that carried it: read them all.
      const metrics = await Promise.all(
        h.instanceUrls.map(async (u) => (await fetch(`${u}/metrics`)).text()),
      );
      assert.match(metrics.join('\n'), /chute_proxied_bytes_total\{route="pic"\} \d+/);
    });

    test('a declared checksum that matches verifies (storage checks it too)', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(8, 8, 5000);
      const g = await grant('pic', bytes, { checksum: sha256b64(bytes) });
      const res = await send(contentUrl(g), alice, [bytes], { length: bytes.length });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.state, 'verified');
    });

    test('one byte over: 413 (Content-Length and chunked), nothing stored', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(16, 16, 9000);
      const g = await grant('pic', bytes);
      const over = Buffer.concat([bytes, Buffer.from([0])]);
      const a = await send(contentUrl(g), alice, [over], { length: over.length });
      assert.equal(a.status, 413);
      assert.equal(a.json.error?.code, 'too_large');
      // Chunked, the extra byte a moment after the rest: by then every declared byte has gone
      // upstream, and only the held-back last chunk keeps storage from completing the object.
      async function* late() {
        yield bytes;
        await sleep(200);
        yield Buffer.from([0]);
      }
      const b = await send(contentUrl(g), alice, late());
      assert.equal(b.status, 413);
      assert.equal(await stored(g.key), false);
      await stillUsable(g, bytes);
    });

    test('one byte under: 400 (Content-Length and chunked), nothing stored', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(16, 16, 9000);
      const g = await grant('pic', bytes);
      const under = bytes.subarray(0, bytes.length - 1);
      const a = await send(contentUrl(g), alice, [under], { length: under.length });
      assert.equal(a.status, 400);
      assert.equal(a.json.error?.code, 'invalid_request');
      const b = await send(contentUrl(g), alice, [under.subarray(0, 6000), under.subarray(6000)]);
      assert.equal(b.status, 400);
      assert.match(b.json.error?.message ?? '', /ended after/);
      assert.equal(await stored(g.key), false);
      await stillUsable(g, bytes);
    });

    test('HTML declared image/png: 415 from the first bytes, nothing stored', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const page = Buffer.concat([HTML, Buffer.alloc(6000, 0x20)]);
      const g = await grant('pic', page);
      const res = await send(contentUrl(g), alice, [page], { length: page.length });
      assert.equal(res.status, 415);
      assert.equal(res.json.error?.code, 'type_not_allowed');
      assert.equal(await stored(g.key), false);
    });

    test('a wrong declared checksum: 400, nothing stored', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(16, 16, 7000);
      const other = Buffer.from(bytes);
      other.writeUInt8(other.readUInt8(other.length - 1) ^ 1, other.length - 1);
      const g = await grant('pic', bytes, { checksum: sha256b64(other) });
      const res = await send(contentUrl(g), alice, [bytes], { length: bytes.length });
      assert.equal(res.status, 400);
      assert.match(res.json.error?.message ?? '', /checksum/);
      assert.equal(await stored(g.key), false);
    });

    test("someone else's upload: 404, for an admin too; a route without proxy: 405", async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(8, 8, 3000);
      const g = await grant('pic', bytes);
      for (const token of [bob, admin]) {
        const res = await send(contentUrl(g), token, [bytes], { length: bytes.length });
        assert.equal(res.status, 404);
      }
      const d = await grant('direct', bytes);
      const res = await send(contentUrl(d), alice, [bytes], { length: bytes.length });
      assert.equal(res.status, 405);
      assert.equal(res.json.error?.code, 'method_not_allowed');
      assert.equal(await stored(g.key), false);
      await stillUsable(g, bytes);
      const again = await send(contentUrl(g), alice, [bytes], { length: bytes.length });
      assert.equal(again.status, 409);
    });

    test('over the in-flight cap: 503 + Retry-After before the body is read', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const big = Buffer.alloc(700_000, 7);
      const [g1, g2] = [await grant('blob', big), await grant('blob', big)];
      // The cap is one instance's: both go to the same one.
      const one = h.instanceUrls[0]!;
      // The first holds 700 kB of the 1 MiB cap while it trickles.
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      async function* slow() {
        yield big.subarray(0, 10_000);
        await gate;
        yield big.subarray(10_000);
      }
      const first = send(contentUrl(g1, one), alice, slow(), { length: big.length });
      try {
        await sleep(300);
        const second = await send(contentUrl(g2, one), alice, [big], { length: big.length });
        assert.equal(second.status, 503);
        assert.equal(second.headers['retry-after'], '5');
      } finally {
        release();
      }
      assert.equal((await first).status, 200);
      const retried = await send(contentUrl(g2, one), alice, [big], { length: big.length });
      assert.equal(retried.status, 200, JSON.stringify(retried.json));
    });

    test('the client hanging up mid-body: nothing stored, the grant still usable', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(32, 32, 200_000);
      const g = await grant('pic', bytes);
      await send(contentUrl(g), alice, [bytes.subarray(0, 50_000), bytes.subarray(50_000)], {
        length: bytes.length,
        hangUpAfter: 120_000,
      });
      await sleep(300);
      assert.equal(await stored(g.key), false);
      const got = (await (await h.api(`/v1/uploads/${g.id}`, { token: alice })).json()) as { state: string };
      assert.equal(got.state, 'granted');
      await stillUsable(g, bytes);
    });

    test('200 MiB through: peak RSS growth under 160 MiB', async (t) => {
      if (name === 'postgres') return t.skip('the engine plays no part: once is enough');
      // This process's peak RSS churns 55–100 MiB above its start whatever the size (measured:
      // 200 and 600 MiB alike; arrayBuffers fall back to ~3 MiB between collections): the
      // gateway's node:http copies every socket read of the client's body into a new Buffer,
      // which V8 frees only once ~64 MiB more has piled up — garbage awaiting GC, not a body held
      // in memory (that would be 200 MiB and more). The embedded store used to force a collection
      // every 4 MiB for the whole process, which hid it; it no longer does (store/body/takeover.ts).
      if (h.target.name === 'rgw') return t.skip('peak RSS is judged against the embedded store');
      if (skip()) return t.skip(skip() as string);
      const size = 200 * 2 ** 20;
      const g = await grant('blob', size);
      const block = Buffer.alloc(2 ** 20);
      for (let i = 0; i < block.length; i += 4096) block[i] = i & 0xff;
      async function* body() {
        for (let i = 0; i < 200; i++) yield block;
      }
      globalThis.gc?.();
      const base = process.memoryUsage().rss;
      let peak = base;
      const timer = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 20);
      try {
        const res = await send(contentUrl(g), alice, body(), { length: size });
        assert.equal(res.status, 200, JSON.stringify(res.json));
        assert.equal(res.json.state, 'verified');
      } finally {
        clearInterval(timer);
      }
      const growth = (peak - base) / 2 ** 20;
      assert.ok(growth < 160, `peak RSS grew ${growth.toFixed(1)} MiB`);
    });

    // Last: by now the tests above have sent their requests.
    testSpread(() => h);
  });
}
