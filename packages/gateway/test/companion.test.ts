// Uppy's Companion endpoints (issue 11, Uppy): every call @uppy/aws-s3 6.x makes with
// `companionEndpoint`, as it makes them, over real HTTP against the embedded store (or RGW), on
// SQLite. The storage URLs are the gateway's own and the store enforces what they sign.
// Bad inputs tried: no token / a bad route / a route without multipart for a link; Companion not
// enabled; a malformed, a forged (payload edited, signature of another secret) and an expired
// link; someone else's uploadId; another route's uploadId; a wrong key; part numbers 0, past the
// plan, not a number; a part larger than planned (refused by storage); complete with a part
// missing and with a wrong ETag; metadata without size; a type and a size the route refuses; a
// link whose route is gone; a create over the pending-grant quota; the simple-upload call
// (/s3/params); a file verification rejects; abort twice, and signing after abort. Also: the
// link never reaches the access log; a page on another origin passes the preflights.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { mintToken } from '../src/auth/mint.ts';
import { readCompanionLink, redactLinkPath, signCompanionLink } from '../src/http/companion/link.ts';
import { uppyPartSize } from '../src/http/companion/part-size.ts';
import { route } from '../src/rules/builder.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { type Harness, JWT_SECRET, startHarness } from './helpers/e2e.ts';
import { type Engine, sqliteEngine } from './helpers/engines.ts';

const MIB = 2 ** 20;
const SECRET = 'companion-test-secret-companion-test-0000';
const ROUTES = [
  route('clips')
    .types('video/mp4', 'application/octet-stream')
    .maxSize('100MB')
    .multipart({ threshold: '8MiB' }),
  route('other').types('application/octet-stream').maxSize('100MB').multipart({ threshold: '8MiB' }),
  route('notes').types('text/plain').maxSize('1MB').method('put'),
];

const APP = 'https://app.example.com';
/** The gateway's log lines (JSON), to check what reaches them. */
const logLines: string[] = [];
const logSink = new Writable({
  write(chunk, _enc, done) {
    logLines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
type Json = Record<string, unknown> & {
  error?: { code: string; message: string; details?: Record<string, unknown> };
};

describe('Companion endpoints for @uppy/aws-s3', () => {
  let engine: Engine;
  let h: Harness;
  let off: Harness;
  let alice: string;
  let bob: string;
  let ep: string; // alice's companionEndpoint on "clips", path only
  let bobEp: string;

  before(async () => {
    engine = await sqliteEngine();
    h = await startHarness(engine, 'companion', {
      routes: ROUTES,
      companion: { secret: SECRET },
      cors: { origins: [APP] },
      logger: createLogger({ destination: logSink }),
    });
    [alice, bob] = await Promise.all([h.token('alice'), h.token('bob')]);
    ep = await link(alice, 'clips');
    bobEp = await link(bob, 'clips');
  });
  after(async () => {
    try {
      await h?.close();
      await off?.close();
    } finally {
      await engine?.cleanup();
    }
  });

  async function link(token: string, routeName: string): Promise<string> {
    const res = await h.api('/v1/companion', { token, json: { route: routeName } });
    const body = (await res.json()) as { companionEndpoint: string };
    assert.equal(res.status, 201, JSON.stringify(body));
    return new URL(body.companionEndpoint).pathname;
  }
  /** A call as Uppy's CompanionS3 makes it: plain fetch, no Authorization header. */
  async function call(path: string, init: { method?: string; json?: unknown } = {}) {
    const res = await h.api(path, init);
    return { status: res.status, body: (await res.json()) as Json };
  }
  const create = (base: string, size: number | undefined, type = 'video/mp4') =>
    call(`${base}/s3/multipart`, {
      json: {
        filename: 'clip.mp4',
        type,
        metadata: { name: 'clip.mp4', type, ...(size !== undefined && { size }) },
      },
    });
  const q = (key: string) => `?${new URLSearchParams({ key })}`;
  const signPart = (base: string, id: string, key: string, n: number | string) =>
    call(`${base}/s3/multipart/${id}/${n}${q(key)}`);

  test('link: for the caller and a multipart route only; the access log\u2019s path has the link cut out', async () => {
    assert.equal((await h.api('/v1/companion', { json: { route: 'clips' } })).status, 401);
    const unknown = await h.api('/v1/companion', { token: alice, json: { route: 'nope' } });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as Json).error?.code, 'route_not_found');
    const single = await h.api('/v1/companion', { token: alice, json: { route: 'notes' } });
    assert.equal(single.status, 400);
    assert.match(((await single.json()) as Json).error!.message, /multipart/);
    const ttl = await h.api('/v1/companion', { token: alice, json: { route: 'clips', ttl: 10 ** 9 } });
    assert.equal(ttl.status, 400);
    // A short-lived token gets a link that ends with it, not the hour asked for.
    const brief = await mintToken({ user: 'alice', secret: JWT_SECRET, ttl: 120 });
    const capped = await h.api('/v1/companion', { token: brief, json: { route: 'clips', ttl: 3600 } });
    const cappedBody = (await capped.json()) as { expiresAt: string };
    assert.equal(capped.status, 201);
    assert.ok(Date.parse(cappedBody.expiresAt) <= Date.now() + 121_000, cappedBody.expiresAt);
    const claims = readCompanionLink(SECRET, ep.split('/')[3]!);
    assert.equal(claims?.userId, 'alice');
    assert.equal(claims?.route, 'clips');
    assert.equal(redactLinkPath(`${ep}/s3/multipart`), '/v1/companion/…/s3/multipart');
    await create(ep, 1000);
    const lines = logLines.filter((l) => l.includes('/v1/companion/'));
    assert.ok(
      lines.some((l) => l.includes('"path":"/v1/companion/…/s3/multipart"')),
      lines.join('\n'),
    );
    const secretPart = ep.split('/')[3]!.split('.')[2]!;
    assert.ok(!logLines.some((l) => l.includes(secretPart)), 'no log line carries a link');
  });

  test('Companion not enabled (no companion.secret): 404 not_found', async () => {
    off = await startHarness(engine, 'companion-off', { routes: ROUTES });
    const res = await off.api('/v1/companion', { token: alice, json: { route: 'clips' } });
    assert.equal(res.status, 404);
    assert.equal(
      (await off.api(`${ep}/s3/multipart`, { json: { filename: 'a', type: 'video/mp4' } })).status,
      404,
    );
  });

  test('malformed, forged and expired links: 401 before anything is read', async () => {
    const [, , , good] = ep.split('/');
    const [, payload, sig] = good!.split('.');
    const edited = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), u: 'bob' }),
    ).toString('base64url');
    const other = signCompanionLink('another-secret-another-secret-another-00', {
      userId: 'alice',
      role: 'admin',
      route: 'clips',
      exp: Date.now() + 3600_000,
    });
    for (const bad of ['nope', `cl1.${payload}.${'A'.repeat(43)}`, `cl1.${edited}.${sig}`, other]) {
      const r = await create(`/v1/companion/${bad}`, 1000);
      assert.equal(r.status, 401, bad);
      assert.equal(r.body.error?.code, 'unauthenticated');
    }
    const expired = signCompanionLink(SECRET, {
      userId: 'alice',
      role: 'uploader',
      route: 'clips',
      exp: Date.now() - 1,
    });
    const r = await create(`/v1/companion/${expired}`, 1000);
    assert.equal(r.status, 401);
    assert.match(r.body.error!.message, /expired/);
  });

  test('Uppy\u2019s multipart flow: create, sign each part, PUT, list, complete → verified and frozen, bytes intact', async () => {
    const size = 12 * MIB + 12_345;
    const file = randomBytes(size);
    const created = await create(ep, size, 'application/octet-stream');
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const { uploadId, key } = created.body as { uploadId: string; key: string };
    assert.match(uploadId, /^up_/);
    assert.equal(key, `incoming/alice/${uploadId}`);
    // Uppy's own cut: 5 MiB parts (the gateway signs each one's exact length).
    const partSize = uppyPartSize(size);
    assert.equal(partSize, 5 * MIB);
    const parts: { PartNumber: number; ETag: string }[] = [];
    for (let n = 1; n <= 3; n++) {
      const signed = await signPart(ep, uploadId, key, n);
      assert.equal(signed.status, 200, JSON.stringify(signed.body));
      const bytes = file.subarray((n - 1) * partSize, Math.min(size, n * partSize));
      const put = await fetch(signed.body['url'] as string, { method: 'PUT', body: bytes });
      assert.equal(put.status, 200, await put.text());
      parts.push({ PartNumber: n, ETag: put.headers.get('etag')! });
    }
    const listed = await call(`${ep}/s3/multipart/${uploadId}${q(key)}`);
    assert.equal(listed.status, 200);
    assert.deepEqual(
      (listed.body as unknown as { PartNumber: number; ETag: string }[]).map((p) => [p.PartNumber, p.ETag]),
      parts.map((p) => [p.PartNumber, p.ETag]),
    );
    const done = await call(`${ep}/s3/multipart/${uploadId}/complete${q(key)}`, { json: { parts } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body['location'], `${h.url}/v1/uploads/${uploadId}`);
    assert.equal(done.body['key'], key);
    const view = (await (await h.api(`/v1/uploads/${uploadId}`, { token: alice })).json()) as Json;
    assert.equal(view['state'], 'verified');
    assert.equal(view['size'], size);
    const frozen = await h.s3.send(new GetObjectCommand({ Bucket: h.bucket, Key: `files/${uploadId}` }));
    assert.equal(md5(await frozen.Body!.transformToByteArray()), md5(file));
    // Completed: a second complete answers the same outcome; parts are closed.
    assert.equal(
      (await call(`${ep}/s3/multipart/${uploadId}/complete${q(key)}`, { json: { parts } })).status,
      200,
    );
    assert.equal((await signPart(ep, uploadId, key, 1)).body.error?.code, 'conflict');
  });

  test('someone else\u2019s uploadId, another route\u2019s, a wrong key: refused; part numbers outside the plan refused', async () => {
    const created = await create(ep, 6 * MIB);
    const { uploadId, key } = created.body as { uploadId: string; key: string };
    // bob's link, alice's upload: exactly as if it did not exist.
    for (const path of [
      `${bobEp}/s3/multipart/${uploadId}/1${q(key)}`,
      `${bobEp}/s3/multipart/${uploadId}${q(key)}`,
    ]) {
      const r = await call(path);
      assert.equal(r.status, 404, path);
      assert.equal(r.body.error?.code, 'not_found');
    }
    assert.equal(
      (await call(`${bobEp}/s3/multipart/${uploadId}${q(key)}`, { method: 'DELETE' })).status,
      404,
    );
    assert.equal(
      (await call(`${bobEp}/s3/multipart/${uploadId}/complete${q(key)}`, { json: { parts: [] } })).status,
      404,
    );
    const otherRoute = await link(alice, 'other');
    assert.equal((await signPart(otherRoute, uploadId, key, 1)).status, 404);
    assert.equal((await signPart(ep, 'up_notanid', key, 1)).status, 404);
    const wrongKey = await signPart(ep, uploadId, `incoming/bob/${uploadId}`, 1);
    assert.equal(wrongKey.status, 400);
    assert.equal(wrongKey.body.error?.details?.['field'], 'key');
    assert.equal((await call(`${ep}/s3/multipart/${uploadId}/1`)).status, 400, 'no key at all');
    for (const n of [0, 3, 99999, 'abc', '1e3']) {
      const r = await signPart(ep, uploadId, key, n);
      assert.equal(r.status, 400, `part ${n}`);
      assert.equal(r.body.error?.code, 'invalid_request');
    }
    // The plan (6 MiB in Uppy's 5 MiB parts) has 2 parts: part 2 is 1 MiB, signed as such.
    const signed = await signPart(ep, uploadId, key, 2);
    const tooBig = await fetch(signed.body['url'] as string, { method: 'PUT', body: randomBytes(MIB + 1) });
    assert.ok(tooBig.status >= 400, `a part larger than planned: ${tooBig.status}`);
    await call(`${ep}/s3/multipart/${uploadId}${q(key)}`, { method: 'DELETE' });
  });

  test('complete with a part missing (409, the grant stays usable) and with a wrong ETag (400)', async () => {
    const size = 6 * MIB;
    const file = randomBytes(size);
    const { uploadId, key } = (await create(ep, size, 'application/octet-stream')).body as {
      uploadId: string;
      key: string;
    };
    const one = await signPart(ep, uploadId, key, 1);
    const put1 = await fetch(one.body['url'] as string, { method: 'PUT', body: file.subarray(0, 5 * MIB) });
    const etag1 = put1.headers.get('etag')!;
    const missing = await call(`${ep}/s3/multipart/${uploadId}/complete${q(key)}`, {
      json: { parts: [{ PartNumber: 1, ETag: etag1 }] },
    });
    assert.equal(missing.status, 409);
    assert.deepEqual(missing.body.error?.details?.['missing'], [2]);
    const two = await signPart(ep, uploadId, key, 2);
    assert.equal(two.status, 200, 'still granted after a refused complete');
    const put2 = await fetch(two.body['url'] as string, { method: 'PUT', body: file.subarray(5 * MIB) });
    const wrong = await call(`${ep}/s3/multipart/${uploadId}/complete${q(key)}`, {
      json: {
        parts: [
          { PartNumber: 1, ETag: etag1 },
          { PartNumber: 2, ETag: '"0123456789abcdef0123456789abcdef"' },
        ],
      },
    });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error?.code, 'invalid_request');
    const right = await call(`${ep}/s3/multipart/${uploadId}/complete${q(key)}`, {
      json: {
        parts: [
          { PartNumber: 1, ETag: etag1 },
          { PartNumber: 2, ETag: put2.headers.get('etag')! },
        ],
      },
    });
    assert.equal(right.status, 200, JSON.stringify(right.body));
  });

  test('create: no size, a refused type or size, a route gone; the simple upload refused with what to set', async () => {
    const noSize = await create(ep, undefined);
    assert.equal(noSize.status, 400);
    assert.equal(noSize.body.error?.details?.['field'], 'metadata.size');
    assert.match(noSize.body.error!.message, /onBeforeFileAdded/);
    assert.equal((await create(ep, 1000, 'image/png')).body.error?.code, 'type_not_allowed');
    assert.equal((await create(ep, 200 * MIB)).body.error?.code, 'too_large');
    assert.equal((await create(ep, -1)).status, 400);
    const gone = signCompanionLink(SECRET, {
      userId: 'alice',
      role: 'uploader',
      route: 'gone',
      exp: Date.now() + 60_000,
    });
    assert.equal((await create(`/v1/companion/${gone}`, 1000)).body.error?.code, 'route_not_found');
    const params = await call(`${ep}/s3/params?filename=a.mp4&type=video%2Fmp4&metadata%5Bsize%5D=10`);
    assert.equal(params.status, 405);
    assert.equal(params.body.error?.code, 'method_not_allowed');
    assert.match(params.body.error!.message, /shouldUseMultipart: true/);
  });

  test('a file verification refuses: complete answers 422 upload_rejected with the reason', async () => {
    const size = 100_000; // one part, below S3's 5 MiB minimum: the last part may be smaller
    const { uploadId, key } = (await create(ep, size, 'video/mp4')).body as { uploadId: string; key: string };
    const signed = await signPart(ep, uploadId, key, 1);
    const put = await fetch(signed.body['url'] as string, { method: 'PUT', body: randomBytes(size) });
    const done = await call(`${ep}/s3/multipart/${uploadId}/complete${q(key)}`, {
      json: { parts: [{ PartNumber: 1, ETag: put.headers.get('etag')! }] },
    });
    assert.equal(done.status, 422, JSON.stringify(done.body));
    assert.equal(done.body.error?.code, 'upload_rejected');
    assert.equal(done.body.error?.details?.['reason'], 'type_mismatch');
    const view = (await (await h.api(`/v1/uploads/${uploadId}`, { token: alice })).json()) as Json;
    assert.equal(view['state'], 'rejected');
  });

  test('abort: the grant withdrawn, the multipart upload gone from storage; again → 409; no more parts', async () => {
    const { uploadId, key } = (await create(ep, 6 * MIB)).body as { uploadId: string; key: string };
    const signed = await signPart(ep, uploadId, key, 1);
    await fetch(signed.body['url'] as string, { method: 'PUT', body: randomBytes(5 * MIB) });
    const aborted = await call(`${ep}/s3/multipart/${uploadId}${q(key)}`, { method: 'DELETE' });
    assert.equal(aborted.status, 200);
    assert.deepEqual(aborted.body, {});
    const view = (await (await h.api(`/v1/uploads/${uploadId}`, { token: alice })).json()) as Json;
    assert.equal(view['state'], 'withdrawn');
    const upload = await h.gateway.services.repo.uploads.get(uploadId);
    await assert.rejects(
      h.s3.send(new ListPartsCommand({ Bucket: h.bucket, Key: key, UploadId: upload!.multipartId! })),
      (e: Error) => e.name === 'NoSuchUpload',
    );
    assert.equal((await call(`${ep}/s3/multipart/${uploadId}${q(key)}`, { method: 'DELETE' })).status, 409);
    assert.equal((await signPart(ep, uploadId, key, 2)).body.error?.code, 'conflict');
  });

  test('quota: a create beyond the pending-grant quota → 429 quota_exceeded with Retry-After; cancel frees it', async () => {
    const tight = await startHarness(engine, 'companion-quota', {
      routes: ROUTES,
      companion: { secret: SECRET },
      quotas: { pendingGrants: 1 },
    });
    try {
      // carol: no grants yet in this (shared) database.
      const res = await tight.api('/v1/companion', {
        token: await tight.token('carol'),
        json: { route: 'clips' },
      });
      const base = new URL(((await res.json()) as { companionEndpoint: string }).companionEndpoint).pathname;
      const json = { filename: 'c.mp4', type: 'video/mp4', metadata: { size: 6 * MIB } };
      const first = await tight.api(`${base}/s3/multipart`, { json });
      assert.equal(first.status, 200);
      const { uploadId, key } = (await first.json()) as { uploadId: string; key: string };
      const second = await tight.api(`${base}/s3/multipart`, { json });
      assert.equal(second.status, 429);
      assert.equal(((await second.json()) as Json).error?.code, 'quota_exceeded');
      assert.ok(second.headers.get('retry-after'));
      assert.equal(
        (await tight.api(`${base}/s3/multipart/${uploadId}${q(key)}`, { method: 'DELETE' })).status,
        200,
      );
      assert.equal((await tight.api(`${base}/s3/multipart`, { json })).status, 200);
    } finally {
      await tight.close();
    }
  });

  test('a page on another origin: preflights for Uppy\u2019s POST (JSON) and DELETE (cancel) are allowed', async () => {
    for (const [method, path] of [
      ['POST', `${ep}/s3/multipart`],
      ['DELETE', `${ep}/s3/multipart/up_0000000000000000000000`],
    ] as const) {
      const res = await h.api(path, {
        method: 'OPTIONS',
        headers: {
          origin: APP,
          'access-control-request-method': method,
          'access-control-request-headers': 'content-type',
        },
      });
      assert.ok(res.status === 204 || res.status === 200, `${method}: ${res.status}`);
      assert.equal(res.headers.get('access-control-allow-origin'), APP);
      assert.match(res.headers.get('access-control-allow-methods') ?? '', new RegExp(method));
    }
  });

  test('Uppy\u2019s part size: 5 MiB up to 10,000 parts, then size/10,000', () => {
    assert.equal(uppyPartSize(1), 5 * MIB);
    assert.equal(uppyPartSize(200 * MIB), 5 * MIB);
    assert.equal(uppyPartSize(10_000 * 5 * MIB), 5 * MIB);
    assert.equal(uppyPartSize(10_000 * 5 * MIB + 1), 5 * MIB + 1);
    const big = 5 * 2 ** 40;
    assert.ok(Math.ceil(big / uppyPartSize(big)) <= 10_000);
  });
});
