// The multipart path of upload() against the real gateway (SQLite) and real storage (the
// embedded store, or Ceph RGW with CHUTE_S3_TARGET=rgw), each behind a real proxy that counts
// requests and can fail them. Bad inputs and failures tried: a part URL storage calls expired,
// parts storage keeps resetting (the upload interrupted, then resumed), an abort mid-part,
// storage refusing a part with a 400 (not retried), complete refused with a 400, a remembered
// record whose plan disagrees with the gateway's.
import assert from 'node:assert/strict';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import {
  type Grant,
  memoryResume,
  type Progress,
  type RetryEvent,
  type UploadOptions,
  upload,
} from '../src/index.ts';
import { type Stack, startStack, textFile } from './helpers/stack.ts';

const MIB = 2 ** 20;
/** The gateway's part size (packages/gateway/src/rules/parts.ts). */
const PART = 16 * MIB;
const SIZE = 2 * PART + 1234; // three parts, the last short

describe('multipart upload through the gateway', () => {
  let stack: Stack;
  let dir: string;
  let file: { path: string; sha256: string };

  before(async () => {
    stack = await startStack('multipart');
    dir = await mkdtemp(join(tmpdir(), 'chute-client-mp-'));
    file = await textFile(dir, 'big.txt', SIZE);
  });
  after(async () => {
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function reset() {
    stack.expire.parts.clear();
    for (const p of [stack.storageProxy, stack.gatewayProxy]) {
      p.fault = undefined;
      p.seen.length = 0;
      p.maxActive = 0;
    }
  }

  async function run(options: Partial<UploadOptions> = {}) {
    const progress: Progress[] = [];
    const retries: RetryEvent[] = [];
    const grants: Grant[] = [];
    const blob = await openAsBlob(file.path);
    const r = await upload(blob, {
      endpoint: stack.gatewayProxy.url,
      token: stack.token,
      route: 'big',
      contentType: 'text/plain',
      concurrency: 2,
      retry: { baseMs: 1 },
      ...options,
      onProgress: (p) => {
        progress.push(p);
        options.onProgress?.(p);
      },
      onRetry: (e) => retries.push(e),
      onGrant: (g) => grants.push(g),
    }).then(
      (value) => ({ value, error: undefined }),
      (error: unknown) => ({ value: undefined, error: error as { code: string; uploadId?: string } }),
    );
    return { ...r, progress, retries, grants };
  }

  const partPuts = () => stack.storageProxy.seen.filter((s) => s.startsWith('PUT '));
  const gatewayCalls = () => stack.gatewayProxy.seen;
  const openUploads = async (key: string) =>
    ((await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: stack.bucket }))).Uploads ?? []).filter(
      (u) => u.Key === key,
    );
  const storagePartFault = (n: number, fault: NonNullable<Stack['storageProxy']['fault']>) => {
    stack.storageProxy.fault = (req, i) =>
      req.method === 'PUT' && new URL(req.url ?? '/', 'http://x').searchParams.get('partNumber') === String(n)
        ? fault(req, i)
        : undefined;
  };

  test('above the threshold: a multipart grant, parts two at a time, progress to exactly the size, verified byte for byte', async () => {
    reset();
    const r = await run();
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(r.value!.state, 'verified');
    assert.equal(r.value!.method, 'multipart');
    const g = r.grants[0]!;
    assert.equal(g.method, 'multipart');
    if (g.method === 'multipart') assert.deepEqual([g.partSize, g.partCount], [PART, 3]);
    assert.equal(partPuts().length, 3);
    assert.ok(stack.storageProxy.maxActive >= 2, `parts in flight at once: ${stack.storageProxy.maxActive}`);
    assert.equal(r.progress.at(-1)!.loaded, SIZE);
    assert.ok(r.progress.every((p) => p.loaded <= SIZE && p.total === SIZE));
    // The grant carried all three URLs: no POST …/parts.
    assert.deepEqual(gatewayCalls(), ['POST /v1/grants', `POST /v1/uploads/${r.value!.id}/complete`]);
    assert.equal(await stack.downloadSha256(r.value!.id), file.sha256);
  });

  test('a part URL storage calls expired: its URL is signed again (POST …/parts) once, then it goes', async () => {
    reset();
    stack.expire.parts.add(2);
    const r = await run();
    assert.equal(r.value?.state, 'verified', String(r.error));
    const id = r.value!.id;
    assert.equal(partPuts().length, 4, 'part 2 twice: refused, then with its fresh URL');
    assert.deepEqual(r.retries, [], 'an expiry is not a retry');
    assert.ok(gatewayCalls().includes(`POST /v1/uploads/${id}/parts`), gatewayCalls().join('\n'));
    assert.equal(r.grants.length, 1, 'no new grant');
    assert.equal(await stack.downloadSha256(id), file.sha256);
  });

  test('interrupted (storage keeps resetting part 3), then resumed: only the missing part is sent, same upload', async () => {
    reset();
    const resume = memoryResume();
    storagePartFault(3, () => 'reset');
    // One at a time, so parts 1 and 2 are stored when 3 fails (in parallel, the failure would
    // also stop part 2 in flight, which would then be sent again on resume).
    const first = await run({ resume, concurrency: 1, retry: { attempts: 2, baseMs: 1 } });
    assert.equal(first.error?.code, 'network_error');
    const id = first.error!.uploadId!;
    assert.ok(!gatewayCalls().some((s) => s.startsWith('DELETE')), 'a retryable failure keeps the upload');
    assert.equal((await stack.view(id)).state, 'granted');

    reset();
    const second = await run({ resume });
    assert.equal(second.value?.state, 'verified', String(second.error));
    assert.equal(second.value!.id, id, 'the same upload, continued');
    assert.equal(partPuts().length, 1, partPuts().join('\n'));
    assert.equal(second.grants.length, 0, 'no new grant');
    assert.deepEqual(gatewayCalls(), [
      `GET /v1/uploads/${id}`,
      `GET /v1/uploads/${id}/parts`,
      `POST /v1/uploads/${id}/parts`,
      `POST /v1/uploads/${id}/complete`,
    ]);
    assert.equal(second.progress.at(-1)!.loaded, SIZE);
    assert.equal(await stack.downloadSha256(id), file.sha256);
    // Done: forgotten, so a third upload of the same file starts afresh.
    reset();
    const third = await run({ resume });
    assert.notEqual(third.value!.id, id);
    assert.equal(third.grants.length, 1);
  });

  test('a remembered record whose plan is not the gateway\u2019s is dropped: a fresh grant', async () => {
    reset();
    const resume = memoryResume();
    storagePartFault(2, () => 'reset');
    const first = await run({ resume, concurrency: 1, retry: { attempts: 1 }, resumeKey: 'k' });
    const id = first.error!.uploadId!;
    const record = JSON.parse((await resume.get('k'))!) as { partSize: number };
    await resume.set('k', JSON.stringify({ ...record, partSize: 8 * MIB }));
    reset();
    const second = await run({ resume, resumeKey: 'k' });
    assert.equal(second.value?.state, 'verified', String(second.error));
    assert.notEqual(second.value!.id, id);
    assert.equal(partPuts().length, 3);
  });

  test('abort mid-upload: aborted, DELETE sent, the upload withdrawn and storage’s multipart upload gone', async () => {
    reset();
    const resume = memoryResume();
    const controller = new AbortController();
    const r = await run({
      resume,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.loaded > PART / 2) controller.abort();
      },
    });
    assert.equal(r.error?.code, 'aborted');
    const id = r.error!.uploadId!;
    assert.ok(gatewayCalls().includes(`DELETE /v1/uploads/${id}`), gatewayCalls().join('\n'));
    assert.equal((await stack.view(id)).state, 'withdrawn');
    assert.deepEqual(await openUploads(r.grants[0]!.key), [], 'no open multipart upload');
    reset();
    const again = await run({ resume });
    assert.equal(again.value?.state, 'verified');
    assert.notEqual(again.value!.id, id, 'nothing was left to resume');
  });

  test('complete refused (a 4xx) once every part is stored: nothing cancelled; resume completes without sending a part', async () => {
    reset();
    const resume = memoryResume();
    stack.gatewayProxy.fault = (req) =>
      req.method === 'POST' && req.url?.endsWith('/complete')
        ? {
            status: 400,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ error: { code: 'invalid_request', message: 'no', requestId: 'r' } }),
          }
        : undefined;
    const first = await run({ resume });
    assert.equal(first.error?.code, 'invalid_request');
    assert.deepEqual(first.retries, [], 'a 4xx is not retried');
    const id = first.error!.uploadId!;
    assert.ok(!gatewayCalls().some((s) => s.startsWith('DELETE')), 'the stored parts are not thrown away');
    assert.equal((await stack.view(id)).state, 'granted');
    reset();
    const second = await run({ resume });
    assert.equal(second.value?.state, 'verified', String(second.error));
    assert.equal(second.value!.id, id);
    assert.deepEqual(partPuts(), [], 'every part was already stored');
    assert.equal(await stack.downloadSha256(id), file.sha256);
  });

  test('storage refuses a part with a 400: not retried, the upload given up (DELETE → withdrawn)', async () => {
    reset();
    const resume = memoryResume();
    storagePartFault(2, () => ({
      status: 400,
      headers: { 'content-type': 'application/xml' },
      body: '<?xml version="1.0"?><Error><Code>InvalidArgument</Code><Message>no</Message></Error>',
    }));
    const r = await run({ resume, concurrency: 1 });
    assert.equal(r.error?.code, 'InvalidArgument');
    assert.deepEqual(r.retries, []);
    assert.equal(partPuts().length, 2, 'part 1, then part 2 once');
    const id = r.error!.uploadId!;
    assert.ok(gatewayCalls().includes(`DELETE /v1/uploads/${id}`));
    assert.equal((await stack.view(id)).state, 'withdrawn');
    assert.deepEqual(await openUploads(r.grants[0]!.key), []);
  });
});
