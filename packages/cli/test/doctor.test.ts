// `chute doctor` as a user runs it: against a running `chute dev` (its defaults), against a
// config file, and with nothing to talk to. Real processes, real ports.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run, start } from './helpers.ts';

async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const lines = (out: string) => out.trim().split('\n');

describe('chute doctor', () => {
  let data: string;
  let dev: ReturnType<typeof start>;
  let port: string;
  let s3Port: string;
  before(async () => {
    data = await mkdtemp(path.join(tmpdir(), 'chute-cli-doctor-'));
    dev = start(['dev', '--port', '0', '--s3-port', '0', '--data', data, '--quiet']);
    [, port] = (await dev.waitFor(/Page +http:\/\/127\.0\.0\.1:(\d+)\//)) as [string, string];
    [, s3Port] = (await dev.waitFor(/Storage +http:\/\/127\.0\.0\.1:(\d+)/)) as [string, string];
  });
  after(async () => {
    await dev?.stop();
    await rm(data, { recursive: true, force: true });
  });

  test('without --config it checks what chute dev runs: every check passes, exit 0', () => {
    const r = run(['doctor', '--data', data, '--port', port, '--s3-port', s3Port]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = lines(r.stdout);
    assert.deepEqual(
      out.map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
      [
        'PASS credentials',
        'PASS clock-skew',
        'PASS bucket-cors',
        'PASS enforce-signature',
        'PASS enforce-post-size',
        'PASS enforce-put-length',
        'PASS enforce-unsigned-field',
        'PASS database',
        'SKIP webhooks',
      ],
      r.stdout,
    );
    assert.match(
      r.stdout,
      new RegExp(`http://127\\.0\\.0\\.1:${port}, http://localhost:${port} may PUT and POST`),
    );
  });

  test('--json: the same results for machines', () => {
    const r = run(['doctor', '--json', '--data', data, '--port', port, '--s3-port', s3Port]);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { ok: boolean; results: Array<{ name: string; status: string }> };
    assert.equal(report.ok, true);
    assert.equal(report.results.find((c) => c.name === 'database')?.status, 'pass');
  });

  test('--config FILE: its storage and database; a wrong secret fails (exit 1) and says the fix', async () => {
    const file = path.join(data, 'wrong.json');
    await writeFile(
      file,
      JSON.stringify({
        storage: {
          endpoint: `http://127.0.0.1:${s3Port}`,
          bucket: 'chute',
          accessKeyId: 'chutedev',
          secretAccessKey: 'not-the-secret',
        },
        database: { url: `sqlite:${path.join(data, 'chute.db')}` },
        cors: { origins: [`http://127.0.0.1:${port}`] },
        auth: { jwt: { secret: 'x'.repeat(32) } },
        routes: [{ name: 'doc', types: ['text/plain'], maxSize: '1MB' }],
        webhooks: {
          endpoints: [
            { id: 'app', url: `http://127.0.0.1:${port}/nowhere`, secret: `whsec_${'A'.repeat(32)}` },
          ],
        },
      }),
    );
    const r = run(['doctor', '--config', file, '--webhook', `http://127.0.0.1:${port}/healthz`]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^FAIL {2}credentials +— HEAD of .* answered 403 \(SignatureDoesNotMatch.* \/ fix: /m,
    );
    assert.match(r.stdout, /^SKIP {2}bucket-cors +— not run: the credentials check failed/m);
    assert.match(r.stdout, /^PASS {2}database /m);
    assert.match(r.stdout, /^PASS {2}webhook +— http:\/\/127\.0\.0\.1:\d+\/healthz answered 200 to HEAD/m);
    // The config's endpoint, by its id: the gateway answers, but not at that path.
    assert.match(
      r.stdout,
      /^WARN {2}webhook app +— http:\/\/127\.0\.0\.1:\d+\/nowhere answered 404 to HEAD/m,
    );
  });
});

test('chute doctor with no store running fails (exit 1); a bad flag is a usage error (exit 2)', async () => {
  const data = await mkdtemp(path.join(tmpdir(), 'chute-cli-doctor-none-'));
  try {
    const r = run(['doctor', '--data', data, '--s3-port', String(await closedPort())]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^FAIL {2}credentials +— storage does not answer at .*ECONNREFUSED/m);
    assert.match(r.stdout, /^WARN {2}database +— no SQLite database at .* yet/m);
    const bad = run(['doctor', '--bogus']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /Unknown option '--bogus'/);
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});
