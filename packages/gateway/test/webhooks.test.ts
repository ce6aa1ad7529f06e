// The dispatcher against real receivers on 127.0.0.1 that verify with the `standardwebhooks`
// package, on SQLite and PostgreSQL. Time is moved with the gateway's clock, never waited for.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { newUploadId } from '../src/domain/ids.ts';
import type { Gateway } from '../src/gateway.ts';
import { type Engine, postgresEngine, sqliteEngine } from './helpers/engines.ts';
import { newSecret, type Receiver, startReceiver } from './helpers/receiver.ts';
import { type TestClock, webhookGateway } from './helpers/webhooks.ts';

const probe = await postgresEngine();
await probe.cleanup();
const KINDS: { name: string; make: () => Promise<Engine>; skip?: string | undefined }[] = [
  { name: 'sqlite', make: async () => sqliteEngine() },
  { name: 'postgres', make: postgresEngine, skip: probe.skip },
];

const S = 1000;
const MIN = 60 * S;

for (const kind of KINDS) {
  describe(`webhooks on ${kind.name}`, { skip: kind.skip }, () => {
    let engine: Engine;
    let clock: TestClock;
    const open: Gateway[] = [];
    const receivers: Receiver[] = [];

    beforeEach(async () => {
      engine = await kind.make();
      clock = { now: Date.UTC(2026, 11, 3, 12) };
    });
    afterEach(async () => {
      for (const g of open.splice(0)) await g.close();
      for (const r of receivers.splice(0)) await r.close();
      await engine.cleanup();
    });

    const gateway = async (webhooks: Record<string, unknown>, options: { dispatch?: boolean } = {}) => {
      const g = await webhookGateway(engine, clock, webhooks, options);
      open.push(g);
      return g;
    };
    const receiver = async (secret: string, behave?: Receiver['behave']) => {
      const r = await startReceiver(secret, behave);
      receivers.push(r);
      return r;
    };
    /** Closes a gateway as a restart would (the next one opens the same database). */
    const restart = async (g: Gateway, webhooks: Record<string, unknown>) => {
      await g.close();
      open.splice(open.indexOf(g), 1);
      return gateway(webhooks);
    };
    const verified = (g: Gateway, uploadId: string, extra: Record<string, unknown> = {}) =>
      g.services.repo.outbox.append({
        type: 'upload.verified',
        uploadId,
        payload: { id: uploadId, userId: 'alice', route: 'doc', state: 'verified', ...extra },
      });
    const deliveriesOf = (g: Gateway, endpoint: string) => g.services.repo.deliveries.forEndpoint(endpoint);

    test('delivers each event once, signed so that standardwebhooks verifies it, to the endpoints taking its type', async () => {
      const secret = newSecret();
      const all = await receiver(secret);
      const onlyExpired = await receiver(secret);
      const g = await gateway({
        endpoints: [
          { id: 'all', url: all.url, secret },
          { id: 'expired', url: onlyExpired.url, secret, events: ['upload.expired'] },
        ],
      });
      const up = newUploadId();
      const payload = {
        id: up,
        userId: 'alice',
        route: 'doc',
        state: 'verified',
        file: { key: `files/${up}` },
      };
      const id = await g.services.repo.outbox.append({ type: 'upload.verified', uploadId: up, payload });
      const report = await g.dispatcher.once();
      assert.deepEqual(report, { ran: true, fannedOut: 1, delivered: 1, retried: 0, dead: 0 });
      assert.equal(all.received.length, 1);
      assert.equal(onlyExpired.received.length, 0, 'not subscribed to upload.verified');
      const [r] = all.received;
      assert.ok(r!.verified, r!.error);
      assert.equal(r!.headers['webhook-id'], id);
      assert.match(r!.headers['webhook-signature']!, /^v1,[A-Za-z0-9+/]{43}=$/);
      assert.ok(Math.abs(Number(r!.headers['webhook-timestamp']) - Date.now() / 1000) < 5, 'real time');
      assert.equal(r!.headers['content-type'], 'application/json');
      assert.equal(r!.headers['user-agent'], 'Chute-Webhooks/1');
      assert.deepEqual(r!.json, {
        type: 'upload.verified',
        timestamp: new Date(clock.now).toISOString(),
        data: payload,
      });
      // A receiver that verifies with the wrong secret refuses it.
      await assert.rejects(
        (async () =>
          new (await import('standardwebhooks')).Webhook(newSecret()).verify(r!.body, r!.headers))(),
        /No matching signature/,
      );
      const [row] = await deliveriesOf(g, 'all');
      assert.equal(row?.state, 'delivered');
      assert.equal(row?.attempts, 1);
      assert.equal(row?.lastStatus, 204);
      assert.deepEqual(await deliveriesOf(g, 'expired'), []);
      assert.deepEqual(await g.dispatcher.once(), {
        ran: true,
        fannedOut: 0,
        delivered: 0,
        retried: 0,
        dead: 0,
      });
      assert.equal(all.received.length, 1, 'delivered once');
    });

    test('a receiver answering 500 is retried on the schedule (±20 %) until it answers 2xx', async () => {
      const secret = newSecret();
      const r = await receiver(secret, () => 500);
      const g = await gateway({ endpoints: [{ id: 'flaky', url: r.url, secret }] });
      const t0 = clock.now;
      const id = await verified(g, newUploadId());
      assert.equal((await g.dispatcher.once()).retried, 1);
      assert.equal(r.received.length, 1);
      const [row] = await deliveriesOf(g, 'flaky');
      assert.equal(row?.state, 'pending');
      assert.equal(row?.lastStatus, 500);
      assert.equal(row?.lastError, 'HTTP 500');
      assert.ok(row!.nextAttemptAt >= t0 + 4 * S && row!.nextAttemptAt <= t0 + 6 * S, 'the 5 s step, ±20 %');
      // Before the earliest the jitter allows: nothing.
      clock.now = t0 + 3.9 * S;
      await g.dispatcher.once();
      assert.equal(r.received.length, 1);
      clock.now = t0 + 6.1 * S;
      await g.dispatcher.once();
      assert.equal(r.received.length, 2, 'second attempt after ~5 s');
      const t1 = clock.now;
      clock.now = t1 + 3.9 * MIN;
      await g.dispatcher.once();
      assert.equal(r.received.length, 2, 'the next step is ~5 min');
      r.behave = () => 200; // recovers
      clock.now = t1 + 6.1 * MIN;
      assert.equal((await g.dispatcher.once()).delivered, 1);
      assert.equal(r.received.length, 3);
      assert.ok(
        r.received.every((x) => x.verified && x.headers['webhook-id'] === id),
        'same id on every retry',
      );
      const [done] = await deliveriesOf(g, 'flaky');
      assert.equal(done?.state, 'delivered');
      assert.equal(done?.attempts, 3);
      assert.equal(done?.lastStatus, 200);
      clock.now += 24 * 60 * MIN;
      await g.dispatcher.once();
      assert.equal(r.received.length, 3, 'nothing after delivery');
    });

    test('a receiver that never answers times out and is retried', async () => {
      const secret = newSecret();
      const r = await receiver(secret, () => 'hang');
      const g = await gateway({ endpoints: [{ id: 'slow', url: r.url, secret }], timeout: '300ms' });
      await verified(g, newUploadId());
      const started = Date.now();
      assert.equal((await g.dispatcher.once()).retried, 1);
      assert.ok(Date.now() - started >= 290, 'waited for the timeout');
      const [row] = await deliveriesOf(g, 'slow');
      assert.equal(row?.lastError, 'no answer within 300 ms');
      assert.equal(row?.lastStatus, null);
      r.behave = () => 202;
      clock.now += 10 * S;
      assert.equal((await g.dispatcher.once()).delivered, 1);
      assert.equal(r.delivered().length, 1);
    });

    test('410 disables the endpoint: its pending deliveries end, nothing more is sent; a new URL enables it', async () => {
      const secret = newSecret();
      const gone = await receiver(secret, () => 410);
      const ok = await receiver(secret);
      const config = (goneUrl: string) => ({
        endpoints: [
          { id: 'gone', url: goneUrl, secret },
          { id: 'ok', url: ok.url, secret },
        ],
      });
      let g = await gateway(config(gone.url));
      const up = newUploadId();
      for (let i = 0; i < 3; i++) await verified(g, up, { n: i }); // the 2nd and 3rd wait for the 1st
      // A delivery that becomes due during a round (the next of an upload, once the one before it
      // ended) may fall to the next round when the round read its due list ahead: a few rounds.
      const report = { dead: 0, delivered: 0 };
      for (let round = 0; round < 6 && report.dead + report.delivered < 6; round++) {
        const r = await g.dispatcher.once();
        report.dead += r.dead;
        report.delivered += r.delivered;
      }
      assert.equal(report.dead, 3);
      assert.equal(report.delivered, 3);
      assert.equal(gone.received.length, 1, 'one request, then nothing');
      assert.deepEqual(
        ok.delivered().map((x) => x.json.data.n),
        [0, 1, 2],
      );
      const rows = await deliveriesOf(g, 'gone');
      assert.deepEqual(
        rows.map((d) => [d.state, d.lastError]),
        Array.from({ length: 3 }, () => ['dead', 'endpoint answered 410 Gone: disabled']),
      );
      assert.equal(rows[0]?.lastStatus, 410);
      // New events, and a restart with the same URL: still nothing for it.
      g = await restart(g, config(gone.url));
      await verified(g, newUploadId());
      await g.dispatcher.once();
      clock.now += 24 * 60 * MIN;
      await g.dispatcher.once();
      assert.equal(gone.received.length, 1);
      assert.equal(ok.delivered().length, 4);
      // The operator points it elsewhere: delivered again, from the next event on.
      const moved = await receiver(secret);
      g = await restart(g, config(moved.url));
      await verified(g, newUploadId());
      await g.dispatcher.once();
      assert.equal(moved.delivered().length, 1);
    });

    test('restart mid-retry: delivered after the restart, no event lost, none delivered twice', async () => {
      const secret = newSecret();
      const r = await receiver(secret, () => 503);
      const config = { endpoints: [{ id: 'app', url: r.url, secret }] };
      let g = await gateway(config);
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await verified(g, newUploadId()));
      assert.equal((await g.dispatcher.once()).retried, 5);
      g = await restart(g, config);
      r.behave = () => 200;
      clock.now += 10 * S;
      assert.equal((await g.dispatcher.once()).delivered, 5);
      const byId = new Map<string, number>();
      for (const x of r.delivered())
        byId.set(x.headers['webhook-id']!, (byId.get(x.headers['webhook-id']!) ?? 0) + 1);
      assert.deepEqual([...byId.keys()].sort(), [...ids].sort(), 'every event delivered');
      assert.ok(
        [...byId.values()].every((n) => n === 1),
        'each once',
      );
      assert.equal(r.received.length, 10, 'one failed attempt and one delivery each');
    });

    test('restart with a request in flight: it stays pending (not an attempt) and is sent by the next instance', async () => {
      const secret = newSecret();
      const r = await receiver(secret, () => 'hang');
      const config = { endpoints: [{ id: 'app', url: r.url, secret }], timeout: '1m' };
      let g = await gateway(config);
      const id = await verified(g, newUploadId());
      const round = g.dispatcher.once();
      await r.waitFor(1);
      const closing = Date.now();
      g = await restart(g, config); // aborts the request instead of waiting a minute
      assert.ok(Date.now() - closing < 5000);
      assert.equal((await round).delivered, 0);
      const [row] = await deliveriesOf(g, 'app');
      assert.equal(row?.state, 'pending');
      assert.equal(row?.attempts, 0);
      r.behave = () => 200;
      assert.equal((await g.dispatcher.once()).delivered, 1, 'due at once, no clock moved');
      assert.deepEqual(
        r.received.map((x) => x.headers['webhook-id']),
        [id, id],
        'sent twice, delivered once: what at-least-once allows',
      );
      assert.equal(r.delivered().length, 1);
    });

    test('events of one upload arrive in order: the second waits while the first is failing', async () => {
      const secret = newSecret();
      let firstFails = true;
      const r = await receiver(secret, (x) => (firstFails && x.json.data.n === 1 ? 500 : 200));
      const g = await gateway({ endpoints: [{ id: 'app', url: r.url, secret }] });
      const up = newUploadId();
      const other = newUploadId();
      const e1 = await verified(g, up, { n: 1 });
      const e2 = await g.services.repo.outbox.append({
        type: 'review.approved',
        uploadId: up,
        payload: { id: up, n: 2 },
      });
      const e3 = await verified(g, other, { n: 3 });
      await g.dispatcher.once();
      assert.deepEqual(
        r.received.map((x) => x.headers['webhook-id']),
        [e1, e3],
        'e2 not sent while e1 is pending; the other upload is not held up',
      );
      clock.now += 10 * S;
      firstFails = false;
      await g.dispatcher.once();
      assert.deepEqual(
        r.delivered().map((x) => x.headers['webhook-id']),
        [e3, e1, e2],
      );
    });

    test('dead-letter after the last step of the schedule', async () => {
      const secret = newSecret();
      const r = await receiver(secret, () => 500);
      const g = await gateway({
        endpoints: [{ id: 'down', url: r.url, secret }],
        retrySchedule: ['1s', '2s'],
      });
      await verified(g, newUploadId());
      for (let i = 0; i < 3; i++) {
        await g.dispatcher.once();
        clock.now += 3 * S;
      }
      assert.equal(r.received.length, 3, 'first attempt + 2 retries');
      const [row] = await deliveriesOf(g, 'down');
      assert.equal(row?.state, 'dead');
      assert.equal(row?.attempts, 3);
      assert.equal(row?.lastError, 'HTTP 500');
      assert.ok(row?.deadAt !== null);
      clock.now += 24 * 60 * MIN;
      await g.dispatcher.once();
      assert.equal(r.received.length, 3);
      const metrics = await (await g.app.request('/metrics')).text();
      assert.match(metrics, /chute_webhook_deliveries_total\{endpoint="down",outcome="retry"\} 2/);
      assert.match(metrics, /chute_webhook_deliveries_total\{endpoint="down",outcome="dead"\} 1/);
      assert.match(metrics, /chute_outbox_depth 0/);
    });

    test('a redirect is not followed: it is a failed attempt', async () => {
      const secret = newSecret();
      const target = await receiver(secret);
      const r = await receiver(secret, () => ({ status: 307, headers: { location: target.url } }));
      const g = await gateway({ endpoints: [{ id: 'moved', url: r.url, secret }] });
      await verified(g, newUploadId());
      assert.equal((await g.dispatcher.once()).retried, 1);
      assert.equal(target.received.length, 0);
      assert.equal((await deliveriesOf(g, 'moved'))[0]?.lastStatus, 307);
    });

    test('an endpoint removed from the config: its pending deliveries end', async () => {
      const secret = newSecret();
      const r = await receiver(secret, () => 500);
      const kept = await receiver(secret);
      let g = await gateway({ endpoints: [{ id: 'old', url: r.url, secret }] });
      await verified(g, newUploadId());
      await g.dispatcher.once();
      g = await restart(g, { endpoints: [{ id: 'new', url: kept.url, secret }] });
      const report = await g.dispatcher.once();
      assert.equal(report.dead, 1);
      const [row] = await deliveriesOf(g, 'old');
      assert.equal(row?.state, 'dead');
      assert.equal(row?.lastError, 'endpoint removed from the config');
      assert.equal(
        kept.received.length,
        0,
        'an event fanned out before the endpoint existed is not sent to it',
      );
    });

    test('at most `concurrency` requests at once', async () => {
      const secret = newSecret();
      const r = await receiver(secret, () => ({ status: 200, delayMs: 50 }));
      const g = await gateway({ endpoints: [{ id: 'app', url: r.url, secret }], concurrency: 2 });
      for (let i = 0; i < 6; i++) await verified(g, newUploadId());
      assert.equal((await g.dispatcher.once()).delivered, 6);
      assert.equal(r.maxConcurrent, 2);
    });

    test('a receiver that hangs does not hold up the others: each endpoint gets its share of the slots', async () => {
      const secret = newSecret();
      const slow = await receiver(secret, () => 'hang');
      const fast = await receiver(secret);
      const g = await gateway({
        endpoints: [
          { id: 'slow', url: slow.url, secret },
          { id: 'fast', url: fast.url, secret },
        ],
        concurrency: 2,
        timeout: '300ms',
      });
      for (let i = 0; i < 3; i++) await verified(g, newUploadId());
      let slowWhenFastDone = -1;
      fast.behave = (_x, n) => {
        if (n === 2) slowWhenFastDone = slow.received.length;
        return 204;
      };
      const report = await g.dispatcher.once();
      assert.equal(report.delivered, 3);
      assert.equal(report.retried, 3);
      assert.equal(slowWhenFastDone, 1, 'fast was served while the slow one held its one slot');
    });

    test('wakes when this process writes an event, without waiting for the interval', async () => {
      const secret = newSecret();
      const r = await receiver(secret);
      const g = await gateway(
        { endpoints: [{ id: 'app', url: r.url, secret }], interval: '1h' },
        { dispatch: true },
      );
      const id = await verified(g, newUploadId());
      await r.waitFor(1);
      assert.equal(r.received[0]?.headers['webhook-id'], id);
    });

    test('two instances on one database: one dispatches at a time, each event is delivered once', async (t) => {
      // A SQLite file belongs to one process (Driver.exclusive), so this is PostgreSQL's case.
      if (kind.name !== 'postgres') return t.skip('one process per SQLite file');
      const secret = newSecret();
      const r = await receiver(secret, () => ({ status: 200, delayMs: 20 }));
      const config = { endpoints: [{ id: 'app', url: r.url, secret }] };
      const [a, b] = [await gateway(config), await gateway(config)];
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await verified(i % 2 === 0 ? a : b, newUploadId()));
      const reports = await Promise.all([a, b, a, b].map((g) => g.dispatcher.once()));
      assert.ok(
        reports.some((x) => !x.ran),
        'the other instance skipped while one held the lock',
      );
      await a.dispatcher.once();
      await b.dispatcher.once();
      assert.deepEqual(
        r.received.map((x) => x.headers['webhook-id']).sort(),
        [...ids].sort(),
        'each event once, none twice',
      );
    });

    test('metrics: deliveries by outcome, outbox depth, oldest pending age', async () => {
      const secret = newSecret();
      const r = await receiver(secret, () => 500);
      const g = await gateway({ endpoints: [{ id: 'app', url: r.url, secret }] });
      const scrape = async () => (await g.app.request('/metrics')).text();
      await verified(g, newUploadId());
      clock.now += 7 * S;
      let text = await scrape();
      assert.match(text, /chute_outbox_depth 1/, 'an event not yet fanned out counts');
      assert.match(text, /chute_outbox_oldest_pending_seconds 7/);
      await g.dispatcher.once();
      clock.now += 3 * S;
      text = await scrape();
      assert.match(text, /chute_outbox_depth 1/);
      assert.match(text, /chute_outbox_oldest_pending_seconds 10/);
      assert.match(text, /chute_webhook_deliveries_total\{endpoint="app",outcome="retry"\} 1/);
      r.behave = () => 200;
      clock.now += 10 * S;
      assert.equal((await g.dispatcher.once()).delivered, 1);
      text = await scrape();
      assert.match(text, /chute_outbox_depth 0/);
      assert.match(text, /chute_outbox_oldest_pending_seconds 0/);
      assert.match(text, /chute_webhook_deliveries_total\{endpoint="app",outcome="delivered"\} 1/);
    });
  });
}
