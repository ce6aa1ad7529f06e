// The outbox and its deliveries as stored: the same tests on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type QuotaLimits, Repo } from '../src/db/index.ts';
import { newUploadId, randomBase62 } from '../src/domain/ids.ts';
import { type Engine, postgresEngine, sqliteEngine } from './helpers/engines.ts';
import { newGrant } from './helpers/grants.ts';

const engines: Engine[] = [sqliteEngine(), await postgresEngine()];
const T0 = Date.UTC(2026, 11, 3, 12);
const LOOSE: QuotaLimits = { pendingGrants: 1000, bytesPerDay: 1e12, grantsPerMinute: 1000 };

for (const engine of engines) {
  describe(`outbox and deliveries on ${engine.name}`, { skip: engine.skip }, () => {
    let now = T0;
    let repo: Repo;
    /** Endpoint ids unique per test, so tests share the database without seeing each other's rows. */
    const ep = () => `ep-${randomBase62(6)}`;
    const all = ['upload.verified', 'review.approved', 'upload.expired'];

    before(async () => {
      repo = await Repo.open(engine.url, { ...engine.options, clock: () => now });
    });
    after(async () => {
      await repo?.close();
      await engine.cleanup();
    });

    /** Fans out everything pending, for these subscriptions. */
    const fanOutAll = async (subs: { id: string; events: string[] }[]) => {
      let total = 0;
      for (let n = -1; n !== 0; total += n) n = await repo.deliveries.fanOut(subs, 2);
      return total;
    };

    test('a transition writes its event in its own transaction, and signals after COMMIT; a lost CAS writes none', async () => {
      let signals = 0;
      const off = repo.outbox.onCommitted(() => signals++);
      const u = await repo.grants.insert(newGrant('alice', {}, now), LOOSE);
      const event = { type: 'upload.expired', uploadId: u.id, payload: { id: u.id } };
      assert.ok(await repo.uploads.transition(u.id, ['granted'], 'expired', { event }));
      assert.equal(await repo.uploads.transition(u.id, ['granted'], 'expired', { event }), undefined);
      assert.equal(signals, 1);
      assert.deepEqual(
        (await repo.outbox.forUpload(u.id)).map((e) => e.type),
        ['upload.expired'],
      );
      off();
      await repo.outbox.append({ type: 'upload.expired', payload: {} });
      assert.equal(signals, 1, 'unsubscribed');
      await fanOutAll([]); // leaves nothing for the next tests
    });

    test('fan-out: one delivery per endpoint taking the type, once per event, in batches; later events of an upload wait', async () => {
      const [a, b] = [ep(), ep()];
      const up = newUploadId();
      const ids = [
        await repo.outbox.append({ type: 'upload.verified', uploadId: up, payload: { n: 1 } }),
        await repo.outbox.append({ type: 'review.approved', uploadId: up, payload: { n: 2 } }),
        await repo.outbox.append({ type: 'upload.expired', payload: { n: 3 } }),
      ];
      const subs = [
        { id: a, events: all },
        { id: b, events: ['review.approved'] },
      ];
      assert.equal(await fanOutAll(subs), 3);
      assert.equal(await fanOutAll(subs), 0, 'each event is fanned out once');
      assert.deepEqual(
        (await repo.deliveries.forEndpoint(a)).map((d) => [d.eventId, d.state, d.attempts, d.createdAt]),
        [
          [ids[0], 'pending', 0, T0],
          [ids[1], 'waiting', 0, T0], // behind ids[0], same upload, same batch
          [ids[2], 'pending', 0, T0], // no upload: no order to keep
        ],
      );
      assert.deepEqual(
        (await repo.deliveries.forEndpoint(b)).map((d) => [d.eventId, d.state]),
        [[ids[1], 'pending']],
      );
      // A later batch: behind the open delivery already stored.
      const later = await repo.outbox.append({ type: 'upload.expired', uploadId: up, payload: { n: 4 } });
      assert.equal(await fanOutAll(subs), 1);
      assert.equal((await repo.deliveries.forEvent(later))[0]?.state, 'waiting');
      assert.deepEqual(await repo.deliveries.stats(), { depth: 5, oldestCreatedAt: T0 });
      assert.equal(await repo.deliveries.retireOthers([], 'cleanup'), 5);
    });

    test('due: soonest first; an upload\u2019s later event waits until the earlier one is delivered or dead, per endpoint', async () => {
      const [a, b] = [ep(), ep()];
      const [x, y] = [newUploadId(), newUploadId()];
      const x1 = await repo.outbox.append({ type: 'upload.verified', uploadId: x, payload: { n: 1 } });
      const x2 = await repo.outbox.append({ type: 'review.approved', uploadId: x, payload: { n: 2 } });
      const y1 = await repo.outbox.append({ type: 'upload.verified', uploadId: y, payload: { n: 3 } });
      const free = await repo.outbox.append({ type: 'upload.expired', payload: { n: 4 } });
      await fanOutAll([
        { id: a, events: all },
        { id: b, events: all },
      ]);
      const dueFor = async (id: string) => (await repo.deliveries.due(id, 100)).map((d) => d.eventId);
      assert.deepEqual(await dueFor(a), [x1, y1, free]);
      const [first] = await repo.deliveries.due(a, 1);
      assert.equal(first?.payload, '{"n":1}', 'the payload as stored');
      assert.equal(first?.type, 'upload.verified');
      assert.equal(first?.eventCreatedAt, T0);
      // x1 fails for a: retried in a minute; x2 still waits for it; b is not held up by a.
      assert.ok(
        await repo.deliveries.record(x1, a, {
          kind: 'retry',
          status: 500,
          error: 'HTTP 500',
          at: T0 + 60_000,
        }),
      );
      assert.deepEqual(await dueFor(a), [y1, free]);
      assert.deepEqual(await dueFor(b), [x1, y1, free]);
      now = T0 + 60_000;
      assert.deepEqual(await dueFor(a), [y1, free, x1], 'soonest first: x1 was due a minute later');
      assert.ok(await repo.deliveries.record(x1, a, { kind: 'delivered', status: 200 }));
      assert.equal(await repo.deliveries.record(x1, a, { kind: 'delivered', status: 200 }), false, 'once');
      assert.deepEqual(await dueFor(a), [y1, free, x2], 'x2 released, due now');
      // A dead delivery does not hold the next one back either.
      assert.ok(await repo.deliveries.record(x1, b, { kind: 'dead', status: null, error: 'ECONNREFUSED' }));
      assert.deepEqual(await dueFor(b), [y1, free, x2]);
      const rows = await repo.deliveries.forEvent(x1);
      const byEndpoint = new Map(rows.map((d) => [d.endpointId, d]));
      assert.equal(byEndpoint.get(a)?.attempts, 2);
      assert.equal(byEndpoint.get(a)?.state, 'delivered');
      assert.equal(byEndpoint.get(a)?.deliveredAt, T0 + 60_000);
      assert.equal(byEndpoint.get(b)?.state, 'dead');
      assert.equal(byEndpoint.get(b)?.lastError, 'ECONNREFUSED');
      now = T0;
      await repo.deliveries.retireOthers([], 'cleanup');
    });

    test('disable (410): recorded with its URL, pending deliveries end in the same transaction; enable forgets it', async () => {
      const [a, b] = [ep(), ep()];
      for (let i = 0; i < 3; i++) await repo.outbox.append({ type: 'upload.expired', payload: { i } });
      await fanOutAll([
        { id: a, events: all },
        { id: b, events: all },
      ]);
      assert.equal(await repo.deliveries.disable({ id: a, url: 'http://a.example/' }, 'gone'), 3);
      assert.deepEqual(
        (await repo.deliveries.forEndpoint(a)).map((d) => [d.state, d.lastError]),
        [
          ['dead', 'gone'],
          ['dead', 'gone'],
          ['dead', 'gone'],
        ],
      );
      assert.equal((await repo.deliveries.forEndpoint(b)).filter((d) => d.state === 'pending').length, 3);
      const disabled = (await repo.deliveries.disabled()).filter((d) => d.id === a);
      assert.deepEqual(disabled, [{ id: a, url: 'http://a.example/', disabledAt: T0, reason: 'gone' }]);
      assert.equal(await repo.deliveries.disable({ id: a, url: 'http://a2.example/' }, 'gone again'), 0);
      assert.equal((await repo.deliveries.disabled()).find((d) => d.id === a)?.url, 'http://a2.example/');
      assert.ok(await repo.deliveries.enable(a));
      assert.equal(
        (await repo.deliveries.disabled()).find((d) => d.id === a),
        undefined,
      );
      // Endpoints removed from the config: their pending deliveries end, the kept ones stay.
      assert.equal(await repo.deliveries.retireOthers([a], 'removed'), 3);
      assert.deepEqual(
        [...new Set((await repo.deliveries.forEndpoint(b)).map((d) => `${d.state}:${d.lastError}`))],
        ['dead:removed'],
      );
      assert.deepEqual(await repo.deliveries.stats(), { depth: 0, oldestCreatedAt: null });
    });
  });
}
