// The multipart path of upload() — NOT WIRED: the gateway does not serve multipart yet. These
// tests run it against a stand-in for the proposed endpoints (helpers/multipart-contract.ts) over
// real storage (the embedded store, or RGW with CHUTE_S3_TARGET=rgw) behind a real proxy. When the
// gateway serves the contract, point them at it and drop the stand-in.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { memoryResume, type Progress, type RetryEvent, type UploadOptions, upload } from '../src/index.ts';
import { type Contract, PART_SIZE, startContract } from './helpers/multipart-contract.ts';
import { type Stack, startStack, textFile } from './helpers/stack.ts';

const SIZE = 2 * PART_SIZE + 1234; // three parts, the last short

describe('multipart upload (against a stand-in of the proposed gateway contract)', () => {
  let stack: Stack;
  let contract: Contract;
  let dir: string;
  let file: { path: string; sha256: string };

  before(async () => {
    stack = await startStack('multipart');
    contract = await startContract({
      target: stack.target,
      s3: stack.s3,
      bucket: stack.bucket,
      publicEndpoint: stack.storageProxy.url,
    });
    dir = await mkdtemp(join(tmpdir(), 'chute-client-mp-'));
    file = await textFile(dir, 'big.txt', SIZE);
  });
  after(async () => {
    await contract?.close();
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function reset() {
    contract.seen.length = 0;
    contract.expireParts.clear();
    stack.storageProxy.fault = undefined;
    stack.storageProxy.seen.length = 0;
  }

  async function run(options: Partial<UploadOptions> = {}) {
    const progress: Progress[] = [];
    const retries: RetryEvent[] = [];
    const blob = await openAsBlob(file.path);
    const r = await upload(blob, {
      endpoint: contract.url,
      token: 't',
      route: 'big',
      method: 'multipart',
      concurrency: 2,
      retry: { baseMs: 1 },
      ...options,
      onProgress: (p) => {
        progress.push(p);
        options.onProgress?.(p);
      },
      onRetry: (e) => retries.push(e),
    }).then(
      (value) => ({ value, error: undefined }),
      (error: unknown) => ({ value: undefined, error: error as { code: string; uploadId?: string } }),
    );
    return { ...r, progress, retries };
  }

  const partPuts = () => stack.storageProxy.seen.filter((s) => s.startsWith('PUT '));

  async function sha256Of(key: string): Promise<string> {
    const got = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
    return createHash('sha256')
      .update(await got.Body!.transformToByteArray())
      .digest('hex');
  }

  test('three parts, two at a time, URLs fetched in one aligned batch: assembled byte for byte', async () => {
    reset();
    const r = await run();
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(r.value!.state, 'verified');
    assert.equal(partPuts().length, 3);
    assert.equal(r.progress.at(-1)!.loaded, SIZE);
    const id = r.value!.id;
    assert.ok(
      contract.seen.includes(`POST /v1/uploads/${id}/parts?from=1&count=3`),
      contract.seen.join('\n'),
    );
    assert.equal(await sha256Of(contract.uploads.get(id)!.key), file.sha256);
  });

  test('a part URL storage calls expired: that part\u2019s URL is asked for again once, then it goes', async () => {
    reset();
    contract.expireParts.add(2);
    const r = await run();
    assert.equal(r.value?.state, 'verified', String(r.error));
    assert.equal(partPuts().length, 4);
    assert.deepEqual(r.retries, []);
    assert.equal(await sha256Of(contract.uploads.get(r.value!.id)!.key), file.sha256);
  });

  test('interrupted (storage keeps failing part 3), then resumed: only the missing part is sent', async () => {
    reset();
    const resume = memoryResume();
    stack.storageProxy.fault = (req) =>
      req.method === 'PUT' && req.url?.includes('partNumber=3')
        ? {
            status: 503,
            headers: { 'content-type': 'application/xml' },
            body: '<Error><Code>SlowDown</Code></Error>',
          }
        : undefined;
    // One at a time, so parts 1 and 2 are stored when 3 fails (in parallel, the failure would
    // also abort part 2 in flight, which would then be sent again on resume).
    const first = await run({ resume, concurrency: 1, retry: { attempts: 2, baseMs: 1 } });
    assert.equal(first.error?.code, 'SlowDown');
    const id = first.error!.uploadId!;
    assert.ok(!contract.seen.some((s) => s.startsWith('DELETE')), 'a retryable failure keeps the upload');

    stack.storageProxy.fault = undefined;
    stack.storageProxy.seen.length = 0;
    contract.seen.length = 0;
    const second = await run({ resume });
    assert.equal(second.value?.state, 'verified', String(second.error));
    assert.equal(second.value!.id, id, 'the same upload, continued');
    assert.deepEqual(
      partPuts().map((s) => s.split(' ')[0]),
      ['PUT'],
    );
    assert.ok(contract.seen.includes(`GET /v1/uploads/${id}/parts`));
    assert.ok(!contract.seen.includes('POST /v1/grants'), 'no new grant');
    assert.equal(await sha256Of(contract.uploads.get(id)!.key), file.sha256);
    // Done: forgotten, so a third upload of the same file starts afresh.
    contract.seen.length = 0;
    const third = await run({ resume });
    assert.notEqual(third.value!.id, id);
    assert.ok(contract.seen.includes('POST /v1/grants'));
  });

  test('abort mid-upload: aborted, the multipart upload aborted on storage (DELETE), nothing left to resume', async () => {
    reset();
    const resume = memoryResume();
    const controller = new AbortController();
    const r = await run({
      resume,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.loaded > PART_SIZE / 2) controller.abort();
      },
    });
    assert.equal(r.error?.code, 'aborted');
    const id = r.error!.uploadId!;
    assert.ok(contract.seen.includes(`DELETE /v1/uploads/${id}`), contract.seen.join('\n'));
    const open = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: stack.bucket }));
    assert.ok(
      !(open.Uploads ?? []).some((u) => u.Key === contract.uploads.get(id)!.key),
      'no open multipart upload',
    );
    reset();
    const again = await run({ resume });
    assert.notEqual(again.value?.id, id);
  });
});
