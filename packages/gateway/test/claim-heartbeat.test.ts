// A complete that takes longer than sweeper.claimTimeoutMs (a large file's assembly and freeze
// copy) keeps its claim: the completer touches it while it works, so the sweeper takes back
// only claims whose holder died. Storage here is the real embedded store, made slow: each HEAD
// waits 2.5 s (2.5 timeouts) before it is sent. Without the heartbeat the sweeper hands the claim
// back mid-complete (reclaimed 1) and a retry would verify the same file a second time.
// The dead-holder side (a claim nobody touches is taken back) is db-faults.test.ts's.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { route } from '../src/rules/builder.ts';
import type { Storage } from '../src/storage/types.ts';
import { type GrantJson, type Harness, startHarness, upload } from './helpers/e2e.ts';
import { type Engine, postgresEngine, sqliteEngine } from './helpers/engines.ts';

const HEAD_DELAY_MS = 2500;
const CLAIM_TIMEOUT_MS = 1000;

for (const [name, open] of [
  ['sqlite', async () => sqliteEngine()],
  ['postgres', postgresEngine],
] as const) {
  describe(`a slow complete keeps its claim (${name})`, () => {
    let engine: Engine;
    let h: Harness;
    let token: string;

    before(async () => {
      engine = await open();
      h = await startHarness(engine, `heartbeat-${name}`, {
        routes: [route('doc').types('text/plain').maxSize('1MB').method('put')],
        sweeper: { claimTimeoutMs: CLAIM_TIMEOUT_MS },
        wrapStorage: (real) =>
          new Proxy(real, {
            get(target, p) {
              if (p === 'head')
                return async (...args: Parameters<Storage['head']>) => {
                  await sleep(HEAD_DELAY_MS);
                  return target.head(...args);
                };
              const v = Reflect.get(target, p, target);
              return typeof v === 'function' ? v.bind(target) : v;
            },
          }),
      });
      token = await h.token('heartbeat-user');
    });
    after(async () => {
      try {
        await h?.close();
      } finally {
        await engine?.cleanup();
      }
    });

    test('the sweeper runs twice during the complete and takes nothing back; it verifies once', async () => {
      const body = Buffer.from('a text file that takes a while to verify\n');
      const res = await h.api('/v1/grants', {
        token,
        json: { route: 'doc', filename: 'd.txt', contentType: 'text/plain', size: body.length },
      });
      const g = (await res.json()) as GrantJson;
      assert.equal(res.status, 201, JSON.stringify(g));
      assert.equal((await upload(g, body)).status, 200);

      const completing = h.api(`/v1/uploads/${g.id}/complete`, { token, method: 'POST' });
      // Past one claim timeout, then past two: a claim left untouched since it was taken is stale.
      await sleep(CLAIM_TIMEOUT_MS * 1.3);
      assert.equal((await h.gateway.sweeper.once()).reclaimed, 0, 'claim taken back mid-complete');
      await sleep(CLAIM_TIMEOUT_MS * 0.8);
      assert.equal((await h.gateway.sweeper.once()).reclaimed, 0, 'claim taken back mid-complete');

      const done = await completing;
      const u = (await done.json()) as { state: string };
      assert.equal(done.status, 200, JSON.stringify(u));
      assert.equal(u.state, 'verified');
      const history = (await (await h.api(`/v1/uploads/${g.id}/history`, { token })).json()) as {
        items: { action: string }[];
      };
      const actions = history.items.map((i) => i.action);
      assert.deepEqual(
        actions.filter((a) => a === 'claim_released' || a === 'verified'),
        ['verified'],
        actions.join(', '),
      );
    });
  });
}
