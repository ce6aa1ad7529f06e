// End to end over real HTTP: gateway (node:http) → embedded store (or RGW with
// CHUTE_S3_TARGET=rgw) → SQLite and PostgreSQL. Browser uploads are made with fetch exactly as a
// browser would send them; storage, not the gateway, is what refuses the bad ones.
// With CHUTE_E2E_CLUSTER (helpers/cluster.ts; `npm run test:cluster` sets it), the same tests run
// once through the cluster's balancer instead, on the cluster's database.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteBucketCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { prepareBucket } from '../src/storage/admin.ts';
import {
  type GrantJson,
  type Harness,
  startHarness,
  testSpread,
  upload,
  uploadPost,
  uploadPut,
} from './helpers/e2e.ts';
import { type Engine, SUITE_ENGINES } from './helpers/engines.ts';
import { HTML, jpeg, png } from './helpers/images.ts';

/** What complete / GET answer with (or an error body). */
interface UploadJson {
  id: string;
  state: string;
  reason?: string;
  file?: { type: string; size: number; width?: number; height?: number; download: string };
  error?: { code: string; message: string };
}

const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

for (const [i, { name, open }] of SUITE_ENGINES.entries()) {
  describe(`gateway end to end (${name})`, () => {
    let engine: Engine;
    let h: Harness;
    let alice: string;
    let bob: string;
    let reviewer: string;
    let admin: string;

    before(async () => {
      engine = await open();
      if (engine.skip) return;
      h = await startHarness(engine, `gw-${engine.name}`);
      [alice, bob, reviewer, admin] = await Promise.all([
        h.token('alice'),
        h.token('bob'),
        h.token('rita', 'reviewer'),
        h.token('root', 'admin'),
      ]);
    });
    after(async () => {
      try {
        await h?.close();
      } finally {
        await engine?.cleanup();
      }
    });

    const skip = () => (engine.skip ? engine.skip : false);

    async function grant(token: string, body: Record<string, unknown>): Promise<GrantJson> {
      const res = await h.api('/v1/grants', { token, json: body });
      const json = await res.json();
      assert.equal(res.status, 201, JSON.stringify(json));
      return json as GrantJson;
    }
    async function complete(token: string, id: string) {
      const res = await h.api(`/v1/uploads/${id}/complete`, { token, method: 'POST' });
      return { status: res.status, body: (await res.json()) as UploadJson };
    }
    async function exists(key: string): Promise<boolean> {
      try {
        await h.s3.send(new HeadObjectCommand({ Bucket: h.bucket, Key: key }));
        return true;
      } catch (e) {
        if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
          return false;
        throw e;
      }
    }
    async function read(key: string): Promise<Buffer> {
      const r = await h.s3.send(new GetObjectCommand({ Bucket: h.bucket, Key: key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    }

    test('POST path: logo grant → form upload → complete → pending_review → download 302 → GET', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(640, 480, 5000);
      const g = await grant(alice, {
        route: 'logo',
        filename: 'logo.png',
        contentType: 'image/png',
        size: bytes.length,
      });
      assert.equal(g.method, 'post');
      assert.match(g.key, /^incoming\/alice\/up_[0-9A-Za-z]{22}$/);
      assert.ok(g.fields?.Policy && g.fields['x-amz-meta-upload-id'] === g.id);
      const up = await uploadPost(g, bytes);
      assert.equal(up.status, 201, await up.text());

      const done = await complete(alice, g.id);
      assert.equal(done.status, 200);
      assert.equal(done.body.state, 'pending_review');
      assert.deepEqual(
        {
          type: done.body.file?.type,
          size: done.body.file?.size,
          w: done.body.file?.width,
          h: done.body.file?.height,
        },
        { type: 'image/png', size: bytes.length, w: 640, h: 480 },
      );
      // Frozen: the bytes now live at files/{id}; the incoming key is gone.
      assert.equal(await exists(g.key), false);
      assert.deepEqual(await read(`files/${g.id}`), bytes);

      const view = await h.api(`/v1/uploads/${g.id}`, { token: alice });
      assert.equal(((await view.json()) as { state: string }).state, 'pending_review');

      const dl = await h.api(`/v1/files/${g.id}/download`, { token: alice });
      assert.equal(dl.status, 302);
      const location = dl.headers.get('location')!;
      const got = await fetch(location);
      assert.equal(got.status, 200);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);
      assert.match(got.headers.get('content-disposition') ?? '', /^attachment; filename="logo.png"/);

      // Reviewers and admins may download; someone else may not (and learns nothing).
      assert.equal((await h.api(`/v1/files/${g.id}/download`, { token: reviewer })).status, 302);
      assert.equal((await h.api(`/v1/files/${g.id}/download`, { token: admin })).status, 302);
      assert.equal((await h.api(`/v1/files/${g.id}/download`, { token: bob })).status, 404);
    });

    test('PUT path with a declared checksum: verified (route without review), checksum checked', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = Buffer.from('plain text file\n'.repeat(100));
      const g = await grant(alice, {
        route: 'doc',
        filename: 'notes.txt',
        contentType: 'text/plain',
        size: bytes.length,
        checksum: sha256b64(bytes),
      });
      assert.equal(g.method, 'put');
      assert.equal(g.headers?.['x-amz-checksum-sha256'], sha256b64(bytes));
      const up = await uploadPut(g, bytes);
      assert.equal(up.status, 200, await up.text());
      // Storage verified the bytes against the signed x-amz-checksum-sha256 and keeps it (where it
      // supports flexible checksums): complete then compares with HEAD's, without reading the file.
      const head = await h.s3.send(
        new HeadObjectCommand({ Bucket: h.bucket, Key: g.key, ChecksumMode: 'ENABLED' }),
      );
      if (h.target.name === 'embedded') assert.equal(head.ChecksumSHA256, sha256b64(bytes));
      const done = await complete(alice, g.id);
      assert.equal(done.body.state, 'verified');
      assert.equal(done.body.file?.type, 'text/plain');
      assert.deepEqual(await read(`files/${g.id}`), bytes);
    });

    test('PUT of a PNG avatar → verified with dimensions; POST chosen explicitly on a PUT route works too', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(256, 128);
      const g = await grant(alice, {
        route: 'avatar',
        filename: 'me.png',
        contentType: 'image/png',
        size: bytes.length,
      });
      assert.equal((await upload(g, bytes)).status, 200);
      const done = await complete(alice, g.id);
      assert.equal(done.body.state, 'verified');
      assert.equal(done.body.file?.width, 256);
      const g2 = await grant(alice, {
        route: 'avatar',
        filename: 'me.png',
        contentType: 'image/png',
        size: bytes.length,
        method: 'post',
      });
      assert.equal(g2.method, 'post');
      assert.equal((await upload(g2, bytes)).status, 201);
      assert.equal((await complete(alice, g2.id)).body.state, 'verified');
    });

    test('POST with 1 byte more than declared is refused by storage (EntityTooLarge)', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const g = await grant(alice, {
        route: 'logo',
        filename: 'a.png',
        contentType: 'image/png',
        size: 1000,
      });
      const res = await uploadPost(g, png(10, 10, 1001));
      assert.equal(res.status, 400);
      assert.match(await res.text(), /<Code>EntityTooLarge<\/Code>/);
      assert.equal(await exists(g.key), false);
    });

    test('PUT with more bytes than the signed Content-Length is refused by storage (403)', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const g = await grant(alice, {
        route: 'avatar',
        filename: 'a.png',
        contentType: 'image/png',
        size: 1000,
      });
      const res = await uploadPut(g, png(10, 10, 5000));
      assert.equal(res.status, 403);
      assert.match(await res.text(), /SignatureDoesNotMatch|AccessDenied/);
      assert.equal(await exists(g.key), false);
    });

    test('POST with Content-Type image/gif on an image/png grant is refused by storage (policy)', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(10, 10);
      const g = await grant(alice, {
        route: 'logo',
        filename: 'a.png',
        contentType: 'image/png',
        size: bytes.length,
      });
      const res = await uploadPost(g, bytes, { 'Content-Type': 'image/gif' });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /<Code>AccessDenied<\/Code>/);
      assert.equal(await exists(g.key), false);
    });

    test('PUT with Content-Type text/html on an image/png grant is refused by storage (signed header)', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const g = await grant(alice, {
        route: 'avatar',
        filename: 'a.png',
        contentType: 'image/png',
        size: HTML.length,
      });
      const res = await uploadPut(g, HTML, { 'content-type': 'text/html' });
      assert.equal(res.status, 403);
      assert.equal(await exists(g.key), false);
    });

    test('spoofed magic bytes: HTML declared image/png → rejected type_mismatch, object deleted', async (t) => {
      if (skip()) return t.skip(skip() as string);
      for (const route of ['logo', 'avatar']) {
        const g = await grant(alice, {
          route,
          filename: 'evil.png',
          contentType: 'image/png',
          size: HTML.length,
        });
        const up = await upload(g, HTML);
        assert.ok(up.ok, `storage took the bytes (it cannot know): ${up.status}`);
        const done = await complete(alice, g.id);
        assert.equal(done.status, 200);
        assert.deepEqual(
          [done.body.state, done.body.reason, done.body.file],
          ['rejected', 'type_mismatch', undefined],
        );
        assert.equal(await exists(g.key), false);
        assert.equal(await exists(`files/${g.id}`), false);
        assert.equal((await h.api(`/v1/files/${g.id}/download`, { token: alice })).status, 404);
      }
    });

    test('image over the pixel limit (5000×5000 PNG, limit 4096) → rejected image_too_large', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(5000, 5000);
      const g = await grant(alice, {
        route: 'logo',
        filename: 'big.png',
        contentType: 'image/png',
        size: bytes.length,
      });
      assert.equal((await upload(g, bytes)).status, 201);
      const done = await complete(alice, g.id);
      assert.deepEqual([done.body.state, done.body.reason], ['rejected', 'image_too_large']);
      assert.equal(await exists(g.key), false);
    });

    test('JPEG whose SOF lies 60 KB in (after EXIF) → dimensions read from a later range', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const big = jpeg(8000, 600, 60_000);
      const g = await grant(alice, {
        route: 'logo',
        filename: 'wide.jpg',
        contentType: 'image/jpeg',
        size: big.length,
      });
      assert.equal((await upload(g, big)).status, 201);
      const done = await complete(alice, g.id);
      assert.deepEqual([done.body.state, done.body.reason], ['rejected', 'image_too_large']);
      const ok = jpeg(800, 600, 60_000);
      const g2 = await grant(alice, {
        route: 'logo',
        filename: 'ok.jpg',
        contentType: 'image/jpeg',
        size: ok.length,
      });
      assert.equal((await upload(g2, ok)).status, 201);
      const done2 = await complete(alice, g2.id);
      assert.deepEqual(
        [done2.body.state, done2.body.file?.width, done2.body.file?.height],
        ['pending_review', 800, 600],
      );
    });

    test('declared checksum that does not match the POSTed bytes → rejected checksum_mismatch (streamed hash)', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(20, 20);
      const g = await grant(alice, {
        route: 'logo',
        filename: 'a.png',
        contentType: 'image/png',
        size: bytes.length,
        checksum: sha256b64(Buffer.from('something else')),
      });
      assert.equal((await upload(g, bytes)).status, 201);
      const done = await complete(alice, g.id);
      assert.deepEqual([done.body.state, done.body.reason], ['rejected', 'checksum_mismatch']);
    });

    test('complete with nothing uploaded → 409 conflict, and the grant still works afterwards', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(20, 20);
      const g = await grant(alice, {
        route: 'logo',
        filename: 'a.png',
        contentType: 'image/png',
        size: bytes.length,
      });
      const early = await complete(alice, g.id);
      assert.equal(early.status, 409);
      assert.equal(early.body.error?.code, 'conflict');
      const again = await h.api(`/v1/uploads/${g.id}`, { token: alice });
      assert.equal(((await again.json()) as UploadJson).state, 'granted');
      assert.equal((await upload(g, bytes)).status, 201);
      const done = await complete(alice, g.id);
      assert.equal(done.body.state, 'pending_review');
    });

    test('no token → 401 on every API endpoint, with WWW-Authenticate and x-request-id', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const res = await h.api('/v1/grants', {
        json: { route: 'logo', filename: 'a.png', contentType: 'image/png', size: 10 },
      });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      const body = (await res.json()) as { error: { code: string; requestId: string } };
      assert.equal(body.error.code, 'unauthenticated');
      assert.equal(body.error.requestId, res.headers.get('x-request-id'));
      for (const [method, path] of [
        ['GET', '/v1/uploads'],
        ['GET', '/v1/uploads/up_0000000000000000000000'],
        ['POST', '/v1/uploads/up_0000000000000000000000/complete'],
        ['GET', '/v1/files/up_0000000000000000000000/download'],
      ] as const) {
        assert.equal((await h.api(path, { method })).status, 401, `${method} ${path}`);
      }
      const forged = await h.api('/v1/uploads', { token: `${alice.slice(0, -4)}AAAA` });
      assert.equal(forged.status, 401);
    });

    test("someone else's token on my upload → 404 for read, complete and download; admin sees it", async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(32, 32);
      const g = await grant(alice, {
        route: 'avatar',
        filename: 'a.png',
        contentType: 'image/png',
        size: bytes.length,
      });
      await upload(g, bytes);
      const missing = await h.api('/v1/uploads/up_0000000000000000000000', { token: bob });
      const other = await h.api(`/v1/uploads/${g.id}`, { token: bob });
      assert.equal(other.status, 404);
      // Same answer as for an id that does not exist: existence does not leak.
      assert.deepEqual(
        ((await other.json()) as { error: { code: string } }).error.code,
        ((await missing.json()) as { error: { code: string } }).error.code,
      );
      assert.equal((await complete(bob, g.id)).status, 404);
      assert.equal((await h.api(`/v1/uploads/${g.id}`, { token: alice })).status, 200);
      assert.equal((await h.api(`/v1/uploads/${g.id}`, { token: admin })).status, 200);
      // Bob's complete did nothing: Alice's still works.
      assert.equal((await complete(alice, g.id)).body.state, 'verified');
      const bobsList = (await (await h.api('/v1/uploads', { token: bob })).json()) as {
        items: { id: string }[];
      };
      assert.ok(!bobsList.items.some((u) => u.id === g.id));
      const adminList = (await (await h.api('/v1/uploads?state=verified', { token: admin })).json()) as {
        items: { id: string }[];
      };
      assert.ok(adminList.items.some((u) => u.id === g.id));
    });

    test('re-PUT after freeze changes nothing: frozen bytes stay, the stray is swept', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const first = png(64, 64, 2000);
      const evil = Buffer.concat([HTML, Buffer.alloc(2000 - HTML.length, 0x20)]);
      const g = await grant(alice, {
        route: 'avatar',
        filename: 'a.png',
        contentType: 'image/png',
        size: first.length,
      });
      assert.equal((await uploadPut(g, first)).status, 200);
      const done = await complete(alice, g.id);
      assert.equal(done.body.state, 'verified');
      // The grant's URL is still valid: storage takes the second PUT.
      assert.equal((await uploadPut(g, evil)).status, 200);
      const again = await complete(alice, g.id);
      assert.deepEqual(again.body, done.body);
      assert.deepEqual(await read(`files/${g.id}`), first);
      if (h.internals === false) {
        const report = await h.gateway.sweeper.once();
        assert.ok(report.straysDeleted >= 1);
      } else {
        // Elsewhere the gateway's own sweeper runs on its schedule (the cluster's: every second).
        for (let i = 0; i < 150 && (await exists(g.key)); i++) await sleep(100);
      }
      assert.equal(await exists(g.key), false);
      assert.deepEqual(await read(`files/${g.id}`), first);
    });

    test('complete twice → same answer; 5 concurrent completes do the work once', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const bytes = png(48, 48);
      const g = await grant(alice, {
        route: 'avatar',
        filename: 'a.png',
        contentType: 'image/png',
        size: bytes.length,
      });
      await uploadPut(g, bytes);
      const results = await Promise.all(Array.from({ length: 5 }, () => complete(alice, g.id)));
      for (const r of results) assert.deepEqual(r, results[0]);
      assert.equal(results[0]!.body.state, 'verified');
      assert.deepEqual(await complete(alice, g.id), results[0]);
      if (h.internals !== false) return t.diagnostic(`outbox not read: ${h.internals}`);
      const events = await h.gateway.services.repo.outbox.forUpload(g.id);
      assert.deepEqual(
        events.map((e) => e.type),
        ['upload.verified'],
      );
    });

    test('expired grant is swept: state expired, object deleted, quota released, complete → 410', async (t) => {
      if (skip()) return t.skip(skip() as string);
      // It moves the gateway's clock past the deadline and runs its sweeper once.
      if (h.internals !== false) return t.skip(h.internals);
      const user = `exp-${engine.name}`;
      const token = await h.token(user);
      const bytes = png(16, 16);
      const g = await grant(token, {
        route: 'avatar',
        filename: 'a.png',
        contentType: 'image/png',
        size: bytes.length,
      });
      await uploadPut(g, bytes);
      const lifetime = Date.parse(g.expiresAt) - Date.parse(g.serverTime);
      h.clock.offset += lifetime + 2000; // past expiresAt + grace (1 s)
      try {
        const report = await h.gateway.sweeper.once();
        assert.ok(report.ran && report.expired >= 1);
        const view = (await (await h.api(`/v1/uploads/${g.id}`, { token })).json()) as { state: string };
        assert.equal(view.state, 'expired');
        assert.equal(await exists(g.key), false);
        const late = await complete(token, g.id);
        assert.equal(late.status, 410);
        assert.equal(late.body.error?.code, 'grant_expired');
      } finally {
        h.clock.offset = 0;
      }
    });

    // Storage only: once per file is enough.
    if (i === 0)
      test('prepareBucket (chute dev): creates a private bucket with CORS; a preflight from the origin is allowed, others not', async (t) => {
        if (skip()) return t.skip(skip() as string);
        const bucket = `${h.target.bucketPrefix}-prep`;
        const storage = {
          endpoint: h.target.endpoint,
          region: h.target.region,
          bucket,
          accessKeyId: h.target.accessKeyId,
          secretAccessKey: h.target.secretAccessKey,
          forcePathStyle: true,
        };
        const origin = 'http://127.0.0.1:3000';
        assert.deepEqual(await prepareBucket(storage, { corsOrigins: [origin] }), { created: true });
        assert.deepEqual(await prepareBucket(storage, { corsOrigins: [origin] }), { created: false });
        const preflight = (o: string) =>
          fetch(`${h.target.endpoint}/${bucket}/incoming/x`, {
            method: 'OPTIONS',
            headers: {
              origin: o,
              'access-control-request-method': 'PUT',
              'access-control-request-headers': 'content-type,x-amz-meta-upload-id',
            },
          });
        const ok = await preflight(origin);
        assert.equal(ok.status, 200);
        assert.equal(ok.headers.get('access-control-allow-origin'), origin);
        assert.notEqual((await preflight('http://evil.example')).status, 200);
        await h.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      });

    test('refusals at grant time: unknown route 404, type 415, size 413, empty 400 too_small, bad body 400 naming the field', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const cases: [Record<string, unknown>, number, string, RegExp?][] = [
        [{ route: 'nope', filename: 'a', contentType: 'image/png', size: 1 }, 404, 'route_not_found'],
        [
          { route: 'logo', filename: 'a.svg', contentType: 'image/svg+xml', size: 10 },
          415,
          'type_not_allowed',
        ],
        [{ route: 'logo', filename: 'a.png', contentType: 'image/png', size: 20_000_001 }, 413, 'too_large'],
        [{ route: 'logo', filename: 'a.png', contentType: 'image/png', size: 0 }, 400, 'too_small'],
        [{ route: 'logo', filename: 'a.png', contentType: 'image/png' }, 400, 'invalid_request', /^size:/],
        [
          { route: 'logo', filename: 'a.png', contentType: 'image/png', size: 1.5 },
          400,
          'invalid_request',
          /^size:/,
        ],
        [{ route: 'logo', filename: '../x', contentType: 'image/png', size: 5 }, 400, 'invalid_request'],
        [
          { route: 'logo', filename: 'a', contentType: 'image/png', size: 5, key: 'mine' },
          400,
          'invalid_request',
          /key/,
        ],
        [
          { route: 'logo', filename: 'a', contentType: 'image/png', size: 5, method: 'multipart' },
          400,
          'invalid_request',
          /does not take multipart/,
        ],
        [
          { route: 'logo', filename: 'a', contentType: 'image/png', size: 5, method: 'ftp' },
          400,
          'invalid_request',
          /^method:/,
        ],
      ];
      for (const [body, status, code, message] of cases) {
        const res = await h.api('/v1/grants', { token: alice, json: body });
        const json = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(res.status, status, JSON.stringify(body));
        assert.equal(json.error.code, code, JSON.stringify(body));
        if (message) assert.match(json.error.message, message);
      }
      const notJson = await h.api('/v1/grants', {
        token: alice,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(notJson.status, 400);
    });

    // Last: by now the tests above have sent their requests.
    testSpread(() => h);
  });
}

// Its own gateway with pendingGrants 2, on the first engine (test/cluster checks the cluster's
// quota with concurrent grants across instances).
describe(`quota (${SUITE_ENGINES[0]!.name})`, () => {
  let engine: Engine;
  let h: Harness;
  before(async () => {
    engine = await SUITE_ENGINES[0]!.open();
    h = await startHarness(engine, 'gw-quota', { quotas: { pendingGrants: 2 } });
  });
  after(async () => {
    try {
      await h?.close();
    } finally {
      await engine?.cleanup();
    }
  });

  test('third pending grant → 429 quota_exceeded with Retry-After; completing one frees a slot', async () => {
    const token = await h.token('quota-user');
    const body = { route: 'doc', filename: 'a.txt', contentType: 'text/plain', size: 5 };
    const grants: GrantJson[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await h.api('/v1/grants', { token, json: body });
      assert.equal(res.status, 201);
      grants.push((await res.json()) as GrantJson);
    }
    const res = await h.api('/v1/grants', { token, json: body });
    assert.equal(res.status, 429);
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 600, `Retry-After ${retryAfter}`);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'quota_exceeded');
    // Another user is not affected.
    assert.equal(
      (await h.api('/v1/grants', { token: await h.token('someone-else'), json: body })).status,
      201,
    );
    await uploadPut(grants[0]!, Buffer.from('hello'));
    await h.api(`/v1/uploads/${grants[0]!.id}/complete`, { token, method: 'POST' });
    assert.equal((await h.api('/v1/grants', { token, json: body })).status, 201);
  });
});
