import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CREDS, presign, rawRequest, sha256hex, signFor } from './helpers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = path.join(ROOT, 'packages/cli/bin/chute.js');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `chute s3` as a child process (the same Node that runs the tests); resolves with its URL. */
function startChild(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      's3',
      '--port',
      '0',
      '--data',
      dir,
      '--access-key',
      CREDS.accessKeyId,
      '--secret-key',
      CREDS.secretAccessKey,
      '--bucket',
      'crash',
      '--quiet',
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(err);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`chute s3 exited ${code}: ${err}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

function files(dir: string, sub: string[]): string[] {
  try {
    return readdirSync(path.join(dir, ...sub));
  } catch {
    return [];
  }
}

async function putSmall(url: string, key: string, body: string) {
  const s = signFor(url, 'PUT', `/crash/${key}`, { payloadHash: sha256hex(body) });
  const res = await rawRequest(s.url, {
    method: 'PUT',
    headers: { ...s.headers, 'content-length': body.length },
    body,
  });
  assert.equal(res.status, 200, res.body);
}

test('kill -9 in the middle of a 200 MiB PUT leaves no object and no garbage after restart', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'chute-crash-'));
  dirs.push(dir);
  const first = await startChild(dir);
  await putSmall(first.url, 'keep', 'kept bytes');
  // An upload in progress with one part: must survive the crash as it was.
  const init = signFor(first.url, 'POST', '/crash/mp', {
    query: { uploads: '' },
    payloadHash: sha256hex(''),
  });
  const created = await rawRequest(init.url, { method: 'POST', headers: init.headers });
  const uploadId = /<UploadId>([^<]+)</.exec(created.body)![1]!;
  const part = signFor(first.url, 'PUT', '/crash/mp', {
    query: { partNumber: '1', uploadId },
    payloadHash: sha256hex('part'),
  });
  assert.equal(
    (
      await rawRequest(part.url, {
        method: 'PUT',
        headers: { ...part.headers, 'content-length': 4 },
        body: 'part',
      })
    ).status,
    200,
  );

  const size = 200 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  const req = http.request(presign(first.url, 'PUT', '/crash/big'), {
    method: 'PUT',
    headers: { 'content-length': size },
  });
  req.on('error', () => {});
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < size / 2) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      resolve();
    };
    pump();
  });
  // Wait until the store has bytes of the new blob on disk, then kill it mid-body.
  const blobs = () => files(dir, ['buckets', 'crash', 'blobs']);
  for (let i = 0; i < 200; i++) {
    if (blobs().some((b) => statSync(path.join(dir, 'buckets', 'crash', 'blobs', b)).size > 8 * 1024 * 1024))
      break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const gone = exited(first.child);
  first.child.kill('SIGKILL');
  await gone;
  req.destroy();
  assert.ok(blobs().length >= 3, 'the partial blob was on disk before the kill');

  const second = await startChild(dir);
  try {
    const get = (key: string) => {
      const s = signFor(second.url, 'GET', `/crash/${key}`);
      return rawRequest(s.url, { method: 'GET', headers: s.headers });
    };
    assert.equal((await get('big')).status, 404);
    assert.deepEqual([(await get('keep')).status, (await get('keep')).body], [200, 'kept bytes']);
    const list = signFor(second.url, 'GET', '/crash', { query: { 'list-type': '2' } });
    const listed = await rawRequest(list.url, { method: 'GET', headers: list.headers });
    assert.deepEqual(
      [...listed.body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]),
      ['keep'],
    );
    const parts = signFor(second.url, 'GET', '/crash/mp', { query: { uploadId } });
    assert.match(
      (await rawRequest(parts.url, { method: 'GET', headers: parts.headers })).body,
      /<PartNumber>1<\/PartNumber>/,
    );
    // Exactly the blobs records point to (keep + the part); nothing in tmp.
    assert.equal(blobs().length, 2, `blobs: ${blobs().join(',')}`);
    assert.deepEqual(files(dir, ['tmp']), []);
    // And the store still takes writes.
    await putSmall(second.url, 'after', 'ok');
  } finally {
    const code = exited(second.child);
    second.child.kill('SIGTERM');
    assert.equal(await code, 0, 'SIGTERM shuts down cleanly with exit 0');
  }
});
