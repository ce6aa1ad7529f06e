// Issue 11, the gateway half: multipart grants end to end over real HTTP against the embedded
// store (or RGW), on SQLite and PostgreSQL. Bad inputs tried: a part larger than planned, a part
// missing at complete, a wrong ETag list, a list of the wrong length, an expired part URL,
// someone else's upload id (parts, complete, cancel), multipart on a route that does not allow
// it, a single PUT over 5 GiB, `from` out of range, cancel after complete.
// With CHUTE_E2E_CLUSTER (`npm run test:cluster`) once through the cluster's balancer: part URLs
// signed by one instance, the upload completed by another.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { newUploadId } from '../src/domain/ids.ts';
import { route } from '../src/rules/builder.ts';
import { S3Storage } from '../src/storage/s3.ts';
import { CLUSTER } from './helpers/cluster.ts';
import { type Harness, startHarness, testSpread } from './helpers/e2e.ts';
import { type Engine, SUITE_ENGINES, sqliteEngine } from './helpers/engines.ts';

const MIB = 2 ** 20;
const ROUTES = [
  route('video').types('application/octet-stream').maxSize('6GiB').multipart({ threshold: '8MiB' }),
  route('small').types('application/octet-stream').maxSize('100MB').method('put'),
];

interface Part {
  number: number;
  size: number;
  url: string;
}
interface MultipartGrant {
  id: string;
  method: string;
  key: string;
  partSize: number;
  partCount: number;
  parts: Part[];
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** The harness's bucket through the gateway's own S3 client class (as the gateway signs and copies). */
const storageOf = (h: Harness, limits?: { maxCopyBytes: number }) =>
  new S3Storage(
    {
      endpoint: h.target.endpoint,
      region: h.target.region,
      bucket: h.bucket,
      accessKeyId: h.target.accessKeyId,
      secretAccessKey: h.target.secretAccessKey,
      forcePathStyle: true,
    },
    limits,
  );

for (const { name, open } of SUITE_ENGINES) {
  describe(`multipart grants (${name})`, () => {
    let engine: Engine;
    let h: Harness;
    let alice: string;
    let bob: string;

    before(async () => {
      engine = await open();
      if (engine.skip) return;
      h = await startHarness(engine, `mp-${engine.name}`, { routes: ROUTES });
      [alice, bob] = await Promise.all([h.token('alice'), h.token('bob')]);
    });
    after(async () => {
      try {
        await h?.close();
      } finally {
        await engine?.cleanup();
      }
    });
    const skip = (t: { skip(m: string): void }) => {
      if (engine.skip) t.skip(engine.skip);
      return engine.skip !== undefined;
    };

    async function grant(token: string, size: number, extra: Record<string, unknown> = {}) {
      const res = await h.api('/v1/grants', {
        token,
        json: { route: 'video', filename: 'v.bin', contentType: 'application/octet-stream', size, ...extra },
      });
      return {
        status: res.status,
        body: (await res.json()) as MultipartGrant & { error?: { code: string } },
        /** Which instance signed it (the cluster's balancer says; null without one). */
        instance: res.headers.get('x-chute-instance'),
      };
    }
    const put = (url: string, bytes: Uint8Array) => fetch(url, { method: 'PUT', body: bytes });
    const slice = (file: Buffer, g: MultipartGrant, n: number) =>
      file.subarray((n - 1) * g.partSize, Math.min(file.length, n * g.partSize));
    const complete = async (token: string, id: string, json?: unknown) => {
      const res = await h.api(`/v1/uploads/${id}/complete`, {
        token,
        method: 'POST',
        ...(json !== undefined && { json }),
      });
      return {
        status: res.status,
        body: (await res.json()) as {
          state?: string;
          error?: { code: string; details?: Record<string, unknown> };
        },
        instance: res.headers.get('x-chute-instance'),
      };
    };
    /** The multipart upload storage holds at a grant's key: the one the gateway created for it. */
    const multipartId = async (key: string) => {
      const list = await h.s3.send(new ListMultipartUploadsCommand({ Bucket: h.bucket, Prefix: key }));
      const ids = (list.Uploads ?? []).filter((u) => u.Key === key).map((u) => u.UploadId!);
      assert.equal(ids.length, 1, `multipart uploads at ${key}: ${ids.length}`);
      return ids[0]!;
    };

    test('above the threshold a grant is multipart: a plan, part URLs with their sizes; complete → verified', async (t) => {
      if (skip(t)) return;
      const file = randomBytes(20 * MIB + 12345);
      const { status, body: g, instance: signedBy } = await grant(alice, file.length);
      assert.equal(status, 201, JSON.stringify(g));
      assert.equal(g.method, 'multipart');
      assert.deepEqual([g.partSize, g.partCount], [16 * MIB, 2]);
      assert.deepEqual(
        g.parts.map((p) => [p.number, p.size]),
        [
          [1, 16 * MIB],
          [2, 4 * MIB + 12345],
        ],
      );
      for (const p of g.parts) assert.equal((await put(p.url, slice(file, g, p.number))).status, 200);
      // Resume: the gateway says what storage holds, read from storage.
      const stored = await h.api(`/v1/uploads/${g.id}/parts`, { token: alice });
      assert.deepEqual(
        ((await stored.json()) as { parts: { number: number; size: number }[] }).parts.map((p) => [
          p.number,
          p.size,
        ]),
        [
          [1, 16 * MIB],
          [2, 4 * MIB + 12345],
        ],
      );
      const done = await complete(alice, g.id);
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.state, 'verified');
      if (CLUSTER !== undefined) {
        t.diagnostic(`part URLs signed by ${signedBy}, completed by ${done.instance}`);
        assert.ok(signedBy !== null && done.instance !== null && signedBy !== done.instance);
      }
      const frozen = await h.s3.send(new GetObjectCommand({ Bucket: h.bucket, Key: `files/${g.id}` }));
      assert.equal(md5(await frozen.Body!.transformToByteArray()), md5(file));
    });

    test('a part larger than planned is refused by storage (its Content-Length is signed)', async (t) => {
      if (skip(t)) return;
      const { body: g } = await grant(alice, 17 * MIB, { method: 'multipart' });
      const res = await put(g.parts[1]!.url, randomBytes(g.parts[1]!.size + 1));
      assert.equal(res.status, 403, await res.text());
      const smaller = await put(g.parts[1]!.url, randomBytes(g.parts[1]!.size - 1));
      assert.equal(smaller.status, 403);
    });

    test('a missing part: complete → 409 naming it, the grant still usable; after uploading it → verified', async (t) => {
      if (skip(t)) return;
      const file = randomBytes(17 * MIB);
      const { body: g } = await grant(alice, file.length);
      await put(g.parts[0]!.url, slice(file, g, 1));
      const early = await complete(alice, g.id);
      assert.equal(early.status, 409);
      assert.deepEqual(early.body.error?.details?.missing, [2]);
      await put(g.parts[1]!.url, slice(file, g, 2));
      assert.equal((await complete(alice, g.id)).body.state, 'verified');
    });

    test('a part list that disagrees with storage is refused; storage’s list decides', async (t) => {
      if (skip(t)) return;
      const file = randomBytes(17 * MIB);
      const { body: g } = await grant(alice, file.length);
      const etags: string[] = [];
      for (const p of g.parts) etags.push((await put(p.url, slice(file, g, p.number))).headers.get('etag')!);
      const wrong = await complete(alice, g.id, {
        parts: [
          { number: 1, etag: etags[0] },
          { number: 2, etag: '"0000"' },
        ],
      });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error?.details?.part, 2);
      const short = await complete(alice, g.id, { parts: [{ number: 1, etag: etags[0] }] });
      assert.equal(short.status, 400);
      const bad = await complete(alice, g.id, { parts: 'all' });
      assert.equal(bad.status, 400);
      // A list as long as S3 allows is read (not refused as a body too large): then judged.
      const long = await complete(alice, g.id, {
        parts: Array.from({ length: 10_000 }, (_, i) => ({ number: i + 1, etag: `"${'0'.repeat(32)}"` })),
      });
      assert.equal(long.status, 400);
      assert.match(JSON.stringify(long.body), /names 10000 parts; the upload has 2/);
      const right = await complete(alice, g.id, { parts: etags.map((etag, i) => ({ number: i + 1, etag })) });
      assert.equal(right.status, 200, JSON.stringify(right.body));
      assert.equal(right.body.state, 'verified');
    });

    test('an expired part URL is refused by storage; POST …/parts signs it again', async (t) => {
      if (skip(t)) return;
      const file = randomBytes(9 * MIB);
      const { body: g } = await grant(alice, file.length);
      // A URL of 1 second, signed the way the gateway signs every part URL.
      const short = storageOf(h).presignPart({
        key: g.key,
        uploadId: await multipartId(g.key),
        partNumber: 1,
        size: 9 * MIB,
        expiresIn: 1,
      });
      await sleep(2100);
      const expired = await put(short, file);
      assert.equal(expired.status, 403);
      // S3 and the embedded store say "Request has expired"; Ceph RGW answers AccessDenied with no message.
      assert.match(await expired.text(), /expired|AccessDenied/i);
      const again = await h.api(`/v1/uploads/${g.id}/parts?from=1&count=5`, { token: alice, method: 'POST' });
      assert.equal(again.status, 200);
      const fresh = ((await again.json()) as { parts: Part[] }).parts;
      assert.deepEqual(
        fresh.map((p) => p.number),
        [1],
      );
      assert.equal((await put(fresh[0]!.url, file)).status, 200);
      assert.equal((await complete(alice, g.id)).body.state, 'verified');
      assert.equal(
        (await h.api(`/v1/uploads/${g.id}/parts?from=2`, { token: alice, method: 'POST' })).status,
        409,
      );
    });

    test('someone else’s upload id is not found, for parts, complete and cancel', async (t) => {
      if (skip(t)) return;
      const { body: g } = await grant(alice, 9 * MIB);
      assert.equal((await h.api(`/v1/uploads/${g.id}/parts`, { token: bob, method: 'POST' })).status, 404);
      assert.equal((await h.api(`/v1/uploads/${g.id}/parts`, { token: bob })).status, 404);
      assert.equal((await complete(bob, g.id)).status, 404);
      assert.equal((await h.api(`/v1/uploads/${g.id}`, { token: bob, method: 'DELETE' })).status, 404);
      assert.equal(
        (await h.api(`/v1/uploads/${g.id}/parts?from=99`, { token: alice, method: 'POST' })).status,
        400,
      );
    });

    test('cancel aborts the multipart upload on storage and withdraws the grant; a second cancel is 409', async (t) => {
      if (skip(t)) return;
      const { body: g } = await grant(alice, 9 * MIB);
      await put(g.parts[0]!.url, randomBytes(9 * MIB));
      const uploadId = await multipartId(g.key);
      const res = await h.api(`/v1/uploads/${g.id}`, { token: alice, method: 'DELETE' });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { state: string }).state, 'withdrawn');
      await assert.rejects(
        h.s3.send(new ListPartsCommand({ Bucket: h.bucket, Key: g.key, UploadId: uploadId })),
        // S3 and the embedded store: NoSuchUpload; Ceph RGW: NoSuchKey.
        (e: { name?: string }) => e.name === 'NoSuchUpload' || e.name === 'NoSuchKey',
      );
      assert.equal((await h.api(`/v1/uploads/${g.id}`, { token: alice, method: 'DELETE' })).status, 409);
      assert.equal((await complete(alice, g.id)).status, 200, 'complete answers the recorded state');
    });

    test('multipart where the route does not allow it, and one PUT over 5 GiB, are refused', async (t) => {
      if (skip(t)) return;
      const small = await h.api('/v1/grants', {
        token: alice,
        json: {
          route: 'small',
          filename: 'a',
          contentType: 'application/octet-stream',
          size: 10,
          method: 'multipart',
        },
      });
      assert.equal(small.status, 400);
      const huge = await grant(alice, 5 * 2 ** 30 + 1, { method: 'put' });
      assert.equal(huge.status, 413);
      assert.equal(huge.body.error?.code, 'too_large');
      const big = await grant(alice, 5 * 2 ** 30 + 1);
      assert.equal(big.status, 201, 'above 5 GiB the grant is multipart by default');
      assert.equal(big.body.partCount, Math.ceil((5 * 2 ** 30 + 1) / (16 * MIB)));
      await h.api(`/v1/uploads/${big.body.id}`, { token: alice, method: 'DELETE' });
    });

    test('the sweeper aborts multipart uploads no open grant owns, and those of expired grants', async (t) => {
      if (skip(t)) return;
      // It moves the gateway's clock a day on and runs its sweeper.
      if (h.internals !== false) return t.skip(h.internals);
      const stray = `incoming/alice/${newUploadId()}`;
      const created = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: h.bucket, Key: stray }));
      const { body: g } = await grant(bob, 9 * MIB);
      const row = (await h.gateway.services.repo.uploads.get(g.id))!;
      // Young strays are spared (a grant may be recording itself); an hour on, both go.
      assert.equal((await h.gateway.sweeper.once()).multipartAborted, 0);
      h.clock.offset = 25 * 3600_000;
      try {
        const report = await h.gateway.sweeper.once();
        assert.ok(report.expired >= 1);
        assert.ok(report.multipartAborted >= 1);
      } finally {
        h.clock.offset = 0;
      }
      for (const [Key, UploadId] of [
        [stray, created.UploadId!],
        [g.key, row.multipartId!],
      ]) {
        await assert.rejects(
          h.s3.send(new ListPartsCommand({ Bucket: h.bucket, Key, UploadId })),
          // S3 and the embedded store: NoSuchUpload; Ceph RGW: NoSuchKey.
          (e: { name?: string }) => e.name === 'NoSuchUpload' || e.name === 'NoSuchKey',
        );
      }
    });

    // Last: by now the tests above have sent their requests.
    testSpread(() => h);
  });
}

// Storage only, no gateway: in-process is enough.
describe('copies above the single-copy limit go part by part (UploadPartCopy)', {
  skip: CLUSTER && 'storage only (S3Storage against the S3 target): no gateway to run through the cluster',
}, () => {
  let engine: Engine;
  let h: Harness;
  before(async () => {
    engine = sqliteEngine();
    h = await startHarness(engine, 'mp-copy', { routes: ROUTES });
  });
  after(async () => {
    try {
      await h?.close();
    } finally {
      await engine?.cleanup();
    }
  });

  test('the copy keeps bytes, type and metadata; a changed source (If-Match) is refused and nothing is left', async () => {
    // The same store and bucket, with the limit lowered so a 12 MiB object takes the part-by-part path.
    const storage = storageOf(h, { maxCopyBytes: 5 * MIB });
    const bytes = randomBytes(12 * MIB + 7);
    await h.s3.send(
      new PutObjectCommand({
        Bucket: h.bucket,
        Key: 'src/big',
        Body: bytes,
        ContentType: 'application/x-test',
        Metadata: { 'upload-id': 'up_x', 'user-id': 'alice' },
      }),
    );
    const head = (await storage.head('src/big'))!;
    await storage.copy('src/big', 'dst/big', { ifMatch: head.etag, size: bytes.length });
    const got = await h.s3.send(new GetObjectCommand({ Bucket: h.bucket, Key: 'dst/big' }));
    assert.equal(md5(await got.Body!.transformToByteArray()), md5(bytes));
    assert.equal(got.ContentType, 'application/x-test');
    assert.deepEqual(got.Metadata, { 'upload-id': 'up_x', 'user-id': 'alice' });
    await assert.rejects(
      storage.copy('src/big', 'dst/other', { ifMatch: '"0123"', size: bytes.length }),
      (e: { code?: string }) => e.code === 'PreconditionFailed',
    );
    assert.equal(await storage.head('dst/other'), undefined);
    assert.deepEqual((await storage.listMultipartUploads('dst/')).uploads, []);
  });
});
