// chute doctor against s3rver, an emulator that checks signatures but enforces no POST policy
// condition and ignores what a presigned URL signs: the enforcement checks must FAIL, each naming
// its hole. (The credentials, clock and CORS checks pass: those s3rver does.)
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { doctorFailed, formatResults, runDoctor } from '../src/doctor/run.ts';
import { corsXml } from '../src/storage/admin.ts';
import { doctorInput } from './helpers/doctor.ts';

const ORIGIN = 'http://127.0.0.1:3000';
const BUCKET = 'doctor';
let server: { run(): Promise<AddressInfo>; close(): Promise<void> };
let dir: string;
let endpoint: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-doctor-s3rver-'));
  // s3rver ships no types; only its constructor, run() and close() are used.
  const specifier: string = 's3rver';
  const { default: S3rver } = (await import(specifier)) as {
    default: new (opts: Record<string, unknown>) => typeof server;
  };
  server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: [{ name: BUCKET, configs: [corsXml([ORIGIN])] }],
  });
  endpoint = `http://127.0.0.1:${(await server.run()).port}`;
});
after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const storage = () => ({
  endpoint,
  region: 'us-east-1',
  bucket: BUCKET,
  // s3rver's fixed credentials.
  accessKeyId: 'S3RVER',
  secretAccessKey: 'S3RVER',
  forcePathStyle: true,
});

test('s3rver: credentials, clock and CORS pass; every enforcement check fails and names its hole', async () => {
  const results = await runDoctor(doctorInput(storage(), { origins: [ORIGIN] }));
  const out = formatResults(results);
  const checks = new Map(results.map((r) => [r.name, r]));
  for (const name of ['credentials', 'clock-skew', 'bucket-cors'])
    assert.equal(checks.get(name)!.status, 'pass', out);
  const holes: Array<[string, RegExp]> = [
    [
      'enforce-signature',
      /accepted a request signed with a wrong secret \(200\): the store does not verify signatures/,
    ],
    [
      'enforce-post-size',
      /accepted a 17-byte file under content-length-range 1\.\.16 .*: a POST grant limits no size here/,
    ],
    [
      'enforce-put-length',
      /accepted 17 bytes on a PUT URL signed for content-length 16 .*: a PUT grant limits no size here/,
    ],
    [
      'enforce-unsigned-field',
      /accepted a form with a field no condition covers \(x-amz-meta-doctor\).*: a browser can add any field/,
    ],
  ];
  for (const [name, hole] of holes) {
    const r = checks.get(name)!;
    assert.equal(r.status, 'fail', out);
    assert.match(r.detail, hole, out);
    assert.match(r.fix!, /(does not enforce what grants are signed for|verifies SigV4)/);
  }
  assert.equal(doctorFailed(results), true);
});

test('s3rver: an unknown key fails the credentials check; a wrong secret passes it, and enforce-signature says why', async () => {
  const unknown = await runDoctor(doctorInput({ ...storage(), accessKeyId: 'NOSUCHKEY' }));
  const credentials = unknown.find((r) => r.name === 'credentials')!;
  assert.equal(credentials.status, 'fail', formatResults(unknown));
  assert.match(credentials.detail, /403 \(InvalidAccessKeyId/);

  const wrong = new Map(
    (await runDoctor(doctorInput({ ...storage(), secretAccessKey: 'wrong' }))).map((r) => [r.name, r]),
  );
  assert.equal(wrong.get('credentials')!.status, 'pass');
  assert.equal(wrong.get('enforce-signature')!.status, 'fail');
  assert.match(wrong.get('enforce-signature')!.detail, /does not verify signatures/);
});
