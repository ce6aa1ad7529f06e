// Faults (issue 14): kill -9 of the embedded store under load. One `chute serve` on SQLite and the
// store as its own process (`chute s3`), restarted on the same data directory after each SIGKILL.
// Every upload the store acknowledged (201/200) must be there afterwards with the bytes sent (its
// writes are atomic renames: a crash leaves the old object or the new one, never half of one);
// a complete while the store is down answers 503 `unavailable` + Retry-After, and succeeds later.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GrantJson, upload } from '../../packages/gateway/test/helpers/e2e.ts';
import { newSecret, type Receiver, startReceiver } from '../../packages/gateway/test/helpers/receiver.ts';
import { runLoad, Tally, until } from './helpers/load.ts';
import { assertClean, reportLine } from './helpers/report.ts';
import { Stack } from './helpers/stack.ts';
import { settle } from './helpers/verdict.ts';

const skip = process.env.CHUTE_FAULTS === '1' ? false : 'fault tests: run `npm run test:faults`';
const TOTAL = Number(process.env.FAULTS_FLOWS ?? 300);

describe('faults: store kill -9 under load', { skip }, () => {
  const dbDir = mkdtempSync(path.join(tmpdir(), 'chute-faults-sqlite-'));
  const dbFile = path.join(dbDir, 'chute.db');
  let receiver: Receiver;
  let stack: Stack;

  before(async () => {
    const secret = newSecret();
    receiver = await startReceiver(secret);
    stack = await Stack.start({
      label: 'storekill',
      databaseUrl: `sqlite:${dbFile}`,
      gateways: 1,
      balancer: false,
      webhook: { url: receiver.url, secret },
    });
  });

  after(async () => {
    await stack?.close();
    await receiver?.close();
    rmSync(dbDir, { recursive: true, force: true });
  });

  /** The gateway's tables, read through a connection of the test's own (WAL: readers never block it). */
  function read<T>(sql: string): T[] {
    const db = new DatabaseSync(dbFile, { readOnly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  }

  test('SIGKILL the store twice mid-load: every upload it acknowledged is there, byte for byte', async (t) => {
    const api = stack.api;
    const token = await stack.token('probe');
    // An upload stored before the first kill, completed while the store is down.
    const bytes = Buffer.from('probe: completed while storage is down\n');
    const g = await fetch(`${api}/v1/grants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        route: 'doc',
        filename: 'probe.txt',
        contentType: 'text/plain',
        size: bytes.length,
      }),
    });
    assert.equal(g.status, 201);
    const probe = (await g.json()) as GrantJson;
    assert.equal((await upload(probe, bytes)).status, 200);
    const completeProbe = () =>
      fetch(`${api}/v1/uploads/${probe.id}/complete`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });

    const tally = new Tally();
    const load = runLoad(
      { api, token: (u) => stack.token(u), total: TOTAL, concurrency: 8, users: 6, label: 'sk' },
      tally,
    );
    const acked = () => tally.acknowledged.length;
    const downAnswers: string[] = [];
    await until(() => acked() >= TOTAL * 0.25, 120_000, 'the first quarter');
    await stack.store.kill9();
    // Down: a complete is refused with a retryable, stable answer (and the load's own see the same).
    for (let i = 0; i < 3; i++) {
      const res = await completeProbe();
      const body = (await res.json()) as { error?: { code: string } };
      downAnswers.push(`${res.status} ${body.error?.code} retry-after=${res.headers.get('retry-after')}`);
      assert.equal(res.status, 503);
      assert.equal(body.error?.code, 'unavailable');
      assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
      await sleep(300);
    }
    await stack.store.start();
    const later = await completeProbe();
    assert.equal(later.status, 200, await later.clone().text());
    assert.equal(((await later.json()) as { state: string }).state, 'verified');
    // The second kill: straight back up, so it lands among uploads in flight.
    await until(() => acked() >= TOTAL * 0.6, 120_000, 'sixty per cent');
    await stack.store.kill9();
    await stack.store.start();
    await load;

    const acks = [
      ...tally.acknowledged,
      { id: probe.id, user: 'probe', md5: createHash('md5').update(bytes).digest('hex') },
    ];
    const { settledMs, lost, hooks, broken } = await settle({
      stack,
      receiver,
      acks,
      query: async <T>(sql: string) => read<T>(sql),
      settleMs: 30_000,
    });
    reportLine('store-kill', tally, lost.length, {
      storeKills: 2,
      webhooks: hooks.events,
      webhooksMissing: hooks.missing.length,
      settledMs: Math.round(settledMs),
    });
    t.diagnostic(`complete while the store was down: ${downAnswers.join('; ')}`);
    assertClean(tally, lost);
    assert.deepEqual(broken, []);
    assert.equal(tally.stored, TOTAL, 'every flow had its bytes acknowledged by the store');
    assert.equal(tally.acknowledged.length, TOTAL);
    assert.ok(tally.retried > 0, 'the kills cost some requests a retry');
    assert.deepEqual(hooks.missing, []);
  });
});
