// Faults (issue 14): kill -9 of a gateway instance under load. Two `chute serve` processes on one
// PostgreSQL database (a database of this test's own on the machine's server) and the embedded
// store (`chute s3`, its own process), behind HAProxy. A bounded load of grant → upload → complete
// runs through the balancer; one instance gets SIGKILL mid-load and is restarted, then the other.
// Afterwards: every acknowledged upload is verified, frozen and readable with its MD5; nothing is
// left open (a retried complete or the sweeper finishes or expires each, within a bound); every
// recorded verified/expired change has its webhook (Standard Webhooks, signature verified).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { newSecret, type Receiver, startReceiver } from '../../packages/gateway/test/helpers/receiver.ts';
import { runLoad, Tally, until } from './helpers/load.ts';
import { assertClean, reportLine } from './helpers/report.ts';
import { CLAIM_TIMEOUT_MS, LIFETIME_MS, Stack, SWEEP_MS } from './helpers/stack.ts';
import { settle } from './helpers/verdict.ts';

const ADMIN = process.env.CHUTE_FAULTS_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const skip = process.env.CHUTE_FAULTS === '1' ? false : 'fault tests: run `npm run test:faults`';
const TOTAL = Number(process.env.FAULTS_FLOWS ?? 300);
/** A grant nobody completes expires LIFETIME_MS after it was made; a dead claim is handed back after CLAIM_TIMEOUT_MS. */
const SETTLE_MS = LIFETIME_MS + CLAIM_TIMEOUT_MS + 5 * SWEEP_MS + 10_000;

describe('faults: gateway kill -9 under load', { skip }, () => {
  const db = `chute_faults_${process.pid}`;
  const url = `${ADMIN.slice(0, ADMIN.lastIndexOf('/'))}/${db}`;
  let receiver: Receiver;
  let stack: Stack;

  before(async () => {
    const admin = new pg.Client({ connectionString: ADMIN });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    const secret = newSecret();
    receiver = await startReceiver(secret);
    stack = await Stack.start({
      label: 'gwkill',
      databaseUrl: url,
      gateways: 2,
      balancer: true,
      webhook: { url: receiver.url, secret },
    });
  });

  after(async () => {
    await stack?.close();
    await receiver?.close();
    const admin = new pg.Client({ connectionString: ADMIN });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  });

  async function query<T>(sql: string): Promise<T[]> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql)).rows as T[];
    } finally {
      await c.end();
    }
  }

  test('SIGKILL one instance mid-load, restart it, then the other: nothing acknowledged is lost', async (t) => {
    const tally = new Tally();
    const load = runLoad(
      { api: stack.api, token: (u) => stack.token(u), total: TOTAL, concurrency: 8, users: 6, label: 'gk' },
      tally,
    );
    const [gw1, gw2] = stack.gateways as [(typeof stack.gateways)[0], (typeof stack.gateways)[0]];
    const acked = () => tally.acknowledged.length;
    const kills: string[] = [];
    for (const [victim, at] of [
      [gw1, 0.2],
      [gw2, 0.55],
    ] as const) {
      await until(() => acked() >= TOTAL * at, 120_000, `${TOTAL * at} acknowledged`);
      const sentBefore = tally.sent;
      await victim.kill9();
      // Load on the survivor alone for a while, then the victim comes back on its port.
      await until(() => acked() >= TOTAL * (at + 0.15), 120_000, 'load on the survivor');
      await victim.start();
      kills.push(`${victim.name} killed after ${sentBefore} requests, back after ${tally.sent}`);
    }
    await load;

    const { settledMs, final, lost, hooks, broken } = await settle({
      stack,
      receiver,
      acks: tally.acknowledged,
      query,
      settleMs: SETTLE_MS,
    });
    const states: Record<string, number> = {};
    for (const r of final.values()) states[r.state] = (states[r.state] ?? 0) + 1;
    reportLine('gateway-kill', tally, lost.length, {
      claimsHandedBack: stack.claimsHandedBack(),
      expired: tally.expired,
      orphansExpired: states.expired ?? 0,
      webhooks: hooks.events,
      webhooksMissing: hooks.missing.length,
      webhookDuplicates: hooks.duplicates,
      settledMs: Math.round(settledMs),
    });
    t.diagnostic(kills.join('; '));
    t.diagnostic(`recorded states: ${JSON.stringify(states)}`);
    assertClean(tally, lost);
    assert.deepEqual(broken, [], 'half-written changes');
    assert.deepEqual(tally.forgotten, [], 'grants answered 201 and then unknown');
    assert.equal(
      tally.acknowledged.length + tally.expired,
      TOTAL,
      'every flow acknowledged (or its grant ran out)',
    );
    assert.ok(tally.retried > 0, 'the kills cost some requests a retry (else nothing was in flight)');
    assert.deepEqual(hooks.missing, [], 'webhooks for recorded changes not delivered');
    assert.equal(hooks.forged, 0);
  });
});
