// Several gateway instances on one PostgreSQL and one Ceph RGW behind HAProxy (round-robin):
// scripts/cluster-up.sh starts them, `npm run test:cluster` runs this. Nothing is mocked: the
// instances are `chute serve` processes, the balancer is Debian's HAProxy.
//
// - a grant from one instance completes on another;
// - N concurrent grants of one user, spread over every instance, admit exactly the quota;
// - one sweeper at a time (PostgreSQL advisory lock): strays are deleted once in all, never once
//   per instance; and when the instance that swept last is killed (SIGKILL), another sweeps
//   within seconds.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { png } from '../../packages/gateway/test/helpers/images.ts';

// Test configuration from cluster-up.sh's env file (sourced by scripts/test-cluster.sh).
const env = process.env;
const BALANCER = env.CHUTE_CLUSTER_URL;
const skip =
  BALANCER === undefined ? 'no cluster: run `npm run test:cluster` (scripts/cluster-up.sh)' : false;
const INSTANCES = (env.CHUTE_CLUSTER_INSTANCES ?? '').split(',').filter(Boolean);
const QUOTA = Number(env.CHUTE_CLUSTER_QUOTA ?? 0);
const SECRET = env.CHUTE_CLUSTER_JWT_SECRET ?? '';
const DIR = env.CHUTE_CLUSTER_DIR ?? '';

const token = (user: string) => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: user, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
};
const freshUser = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;

async function api(base: string, p: string, user: string, json?: unknown) {
  const res = await fetch(`${base}${p}`, {
    method: json === undefined && !p.endsWith('/complete') ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token(user)}`,
      ...(json !== undefined && { 'content-type': 'application/json' }),
    },
    ...(json !== undefined && { body: JSON.stringify(json) }),
  });
  return {
    status: res.status,
    instance: res.headers.get('x-chute-instance'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

function s3(): S3Client {
  return new S3Client({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.S3_ACCESS_KEY ?? '', secretAccessKey: env.S3_SECRET_KEY ?? '' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

/** chute_sweeper_actions_total{action="stray_deleted"} of each live instance (undefined: down). */
async function strayCounts(): Promise<(number | undefined)[]> {
  return Promise.all(
    INSTANCES.map(async (url) => {
      try {
        const text = await (await fetch(`${url}/metrics`)).text();
        const m = /^chute_sweeper_actions_total\{action="stray_deleted"\} (\d+)/m.exec(text);
        return m ? Number(m[1]) : 0;
      } catch {
        return undefined;
      }
    }),
  );
}

const upId = () => `up_${randomBytes(16).toString('base64url').replace(/[-_]/g, 'A').slice(0, 22)}`;

async function putStrays(client: S3Client, n: number): Promise<string[]> {
  const keys = Array.from({ length: n }, () => `incoming/stray/${upId()}`);
  await Promise.all(
    keys.map((Key) =>
      client.send(new PutObjectCommand({ Bucket: env.CHUTE_CLUSTER_BUCKET, Key, Body: 'x' })),
    ),
  );
  return keys;
}

async function waitUntilGone(client: S3Client, keys: string[], ms: number): Promise<number> {
  const started = performance.now();
  const wanted = new Set(keys);
  while (performance.now() - started < ms) {
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: env.CHUTE_CLUSTER_BUCKET, Prefix: 'incoming/stray/' }),
    );
    if (!(listed.Contents ?? []).some((o) => wanted.has(o.Key!))) return performance.now() - started;
    await sleep(100);
  }
  return Number.POSITIVE_INFINITY;
}

describe('cluster', { skip }, () => {
  test('a grant from one instance completes on another; the balancer spreads requests round-robin', async (t) => {
    assert.ok(INSTANCES.length >= 2, 'at least two instances');
    const user = freshUser('cross');
    const image = png(40, 30, 900);
    const [a, b] = INSTANCES as [string, string];
    const g = await api(a, '/v1/grants', user, {
      route: 'photo',
      filename: 'a.png',
      contentType: 'image/png',
      size: image.length,
    });
    assert.equal(g.status, 201, JSON.stringify(g.body));
    const form = new FormData();
    for (const [k, v] of Object.entries(g.body.fields as Record<string, string>)) form.append(k, v);
    form.append('file', new Blob([new Uint8Array(image)]), 'a.png');
    const up = await fetch(g.body.url as string, { method: 'POST', body: form });
    assert.equal(up.status, 201, await up.text());
    const done = await api(b, `/v1/uploads/${g.body.id}/complete`, user);
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.state, 'verified');
    // Read back through the balancer: every instance knows it.
    const seen = new Set<string>();
    for (let i = 0; i < INSTANCES.length * 2; i++) {
      const view = await api(BALANCER!, `/v1/uploads/${g.body.id}`, user);
      assert.equal(view.body.state, 'verified');
      seen.add(view.instance ?? '?');
    }
    assert.equal(seen.size, INSTANCES.length, `served by ${[...seen].join(', ')}`);
    t.diagnostic(`granted on ${a}, completed on ${b}, read back from ${[...seen].sort().join(', ')}`);
  });

  test('N concurrent grants of one user across all instances admit exactly the quota', async (t) => {
    const user = freshUser('quota');
    const N = 10 * QUOTA;
    const targets = [BALANCER!, ...INSTANCES];
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        api(targets[i % targets.length]!, '/v1/grants', user, {
          route: 'photo',
          filename: `${i}.png`,
          contentType: 'image/png',
          size: 100,
        }),
      ),
    );
    const admitted = answers.filter((a) => a.status === 201).length;
    const refused = answers.filter(
      (a) => a.status === 429 && (a.body.error as { code: string }).code === 'quota_exceeded',
    ).length;
    assert.equal(
      admitted,
      QUOTA,
      JSON.stringify(answers.filter((a) => a.status !== 201 && a.status !== 429)),
    );
    assert.equal(refused, N - QUOTA);
    // The list agrees: exactly QUOTA pending grants for this user, whichever instance is asked.
    for (const url of INSTANCES) {
      const list = await api(url, '/v1/uploads?state=granted', user);
      assert.equal((list.body.items as unknown[]).length, QUOTA);
    }
    t.diagnostic(
      `${N} concurrent grants over ${targets.length} endpoints: ${admitted} admitted, ${refused} quota_exceeded`,
    );
  });

  test('one sweeper at a time: strays are deleted once in all, never once per instance', async (t) => {
    const client = s3();
    try {
      const before = await strayCounts();
      const keys = await putStrays(client, 30);
      const ms = await waitUntilGone(client, keys, 15_000);
      assert.ok(Number.isFinite(ms), 'strays still there after 15 s');
      await sleep(1500); // a sweep that overlapped would have finished counting by now
      const after = await strayCounts();
      const deltas = after.map((n, i) => (n ?? 0) - (before[i] ?? 0));
      assert.equal(
        deltas.reduce((s, d) => s + d, 0),
        keys.length,
        `deleted per instance: ${deltas.join(', ')}`,
      );
      t.diagnostic(`30 strays gone in ${Math.round(ms)} ms; deletions per instance ${deltas.join(', ')}`);
    } finally {
      client.destroy();
    }
  });

  test('the instance that swept last is killed: another sweeps within seconds', async (t) => {
    const client = s3();
    try {
      const before = await strayCounts();
      const first = await putStrays(client, 5);
      assert.ok(Number.isFinite(await waitUntilGone(client, first, 15_000)));
      await sleep(200);
      const mid = await strayCounts();
      const sweeper = mid.findIndex((n, i) => (n ?? 0) > (before[i] ?? 0));
      assert.ok(sweeper >= 0, 'no instance counted the deletions');
      // SIGKILL: no shutdown, no unlock; PostgreSQL releases the advisory lock with the connection.
      const pid = Number(readFileSync(path.join(DIR, `gw${sweeper + 1}.pid`), 'utf8'));
      process.kill(pid, 'SIGKILL');
      const killedAt = performance.now();
      const second = await putStrays(client, 5);
      const ms = await waitUntilGone(client, second, 20_000);
      const took = performance.now() - killedAt;
      assert.ok(Number.isFinite(ms), 'nobody swept after the sweeper was killed');
      await sleep(200);
      const end = await strayCounts();
      assert.equal(end[sweeper], undefined, 'the killed instance still answers');
      const survivors = end.map((n, i) => (i === sweeper ? 0 : (n ?? 0) - (mid[i] ?? 0)));
      assert.equal(
        survivors.reduce((s, d) => s + d, 0),
        second.length,
      );
      t.diagnostic(
        `killed gw${sweeper + 1}; strays swept by the others ${Math.round(took)} ms later (${survivors.join(', ')})`,
      );
    } finally {
      client.destroy();
    }
  });
});
