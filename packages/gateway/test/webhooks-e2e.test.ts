// Webhooks from the real flow: grant → upload to the embedded store → complete (and the sweeper),
// delivered by the running dispatcher to a receiver verifying with standardwebhooks.
// With CHUTE_E2E_CLUSTER (`npm run test:cluster`) once through the cluster's balancer: events
// written by one instance, delivered by whichever holds the dispatcher lock.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type GrantJson, type Harness, startHarness, testSpread, upload } from './helpers/e2e.ts';
import { type Engine, SUITE_ENGINES } from './helpers/engines.ts';
import { png } from './helpers/images.ts';
import { newSecret, type Receiver, startReceiver } from './helpers/receiver.ts';

for (const { name, open } of SUITE_ENGINES) {
  describe(`webhooks end to end (${name})`, () => {
    let engine: Engine;
    let h: Harness;
    let r: Receiver;
    let alice: string;
    const secret = newSecret();

    before(async () => {
      engine = await open();
      if (engine.skip) return;
      r = await startReceiver(secret);
      h = await startHarness(engine, `wh-${engine.name}`, {
        webhooks: { endpoints: [{ id: 'app', url: r.url, secret }] },
      });
      alice = await h.token('alice');
    });
    after(async () => {
      try {
        await h?.close();
        await r?.close();
      } finally {
        await engine?.cleanup();
      }
    });
    const skip = () => (engine.skip ? engine.skip : false);

    async function grant(body: Record<string, unknown>): Promise<GrantJson> {
      const res = await h.api('/v1/grants', { token: alice, json: body });
      assert.equal(res.status, 201);
      return (await res.json()) as GrantJson;
    }
    const complete = async (id: string) =>
      (await h.api(`/v1/uploads/${id}/complete`, { token: alice, method: 'POST' })).json() as Promise<{
        state: string;
      }>;

    test('verified, rejected and expired uploads each reach the app once, signed, with what it needs', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const image = png(64, 32);
      const ok = await grant({
        route: 'avatar',
        filename: 'a.png',
        contentType: 'image/png',
        size: image.length,
      });
      assert.equal((await upload(ok, image)).status, 200);
      assert.equal((await complete(ok.id)).state, 'verified');
      await r.waitFor(1);
      // A PNG declared as text: storage takes it, complete rejects it from its bytes.
      const bad = await grant({
        route: 'doc',
        filename: 'a.txt',
        contentType: 'text/plain',
        size: image.length,
      });
      assert.equal((await upload(bad, image)).status, 200);
      assert.equal((await complete(bad.id)).state, 'rejected');
      await r.waitFor(2);
      // The expiry moves the gateway's clock and runs its sweeper: not in the cluster.
      const expired: [string, string][] = [];
      if (h.internals === false) {
        const never = await grant({ route: 'doc', filename: 'b.txt', contentType: 'text/plain', size: 10 });
        h.clock.offset = 11 * 60_000; // past the grant's 10 min + grace
        assert.equal((await h.gateway.sweeper.once()).expired, 1);
        await r.waitFor(3);
        expired.push(['upload.expired', never.id]);
      }

      assert.ok(
        r.received.every((x) => x.verified),
        'every signature verifies',
      );
      assert.deepEqual(
        r.received.map((x) => [x.json.type, x.json.data.id]),
        [['upload.verified', ok.id], ['upload.rejected', bad.id], ...expired],
      );
      const [verified, rejected] = r.received;
      assert.deepEqual(verified!.json.data, {
        id: ok.id,
        userId: 'alice',
        route: 'avatar',
        filename: 'a.png',
        state: 'verified',
        file: { key: `files/${ok.id}`, size: image.length, type: 'image/png', width: 64, height: 32 },
      });
      assert.equal(rejected!.json.data.reason, 'type_not_allowed', 'a PNG on a text route');
      if (h.internals !== false)
        return t.diagnostic(`the expiry, the outbox and the delivery records not checked: ${h.internals}`);
      // The body's data is the outbox payload, unchanged.
      const [event] = await h.gateway.services.repo.outbox.forUpload(ok.id);
      assert.deepEqual(verified!.json.data, event!.payload);
      assert.equal(verified!.headers['webhook-id'], event!.id);
      await h.gateway.dispatcher.once(); // runs after the round in progress: its records are written
      const rows = await h.gateway.services.repo.deliveries.forEndpoint('app');
      assert.deepEqual(
        rows.map((d) => d.state),
        ['delivered', 'delivered', 'delivered'],
      );
      assert.equal(r.received.length, 3, 'each once');
    });

    test('a reviewed upload: upload.verified (pending_review), then review.approved with the published key, in order', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const before = r.received.length;
      const image = png(40, 40);
      const g = await grant({
        route: 'logo',
        filename: 'l.png',
        contentType: 'image/png',
        size: image.length,
      });
      assert.equal((await upload(g, image)).status, 201);
      assert.equal((await complete(g.id)).state, 'pending_review');
      const rita = await h.token('rita', 'reviewer');
      const decided = await h.api(`/v1/uploads/${g.id}/decision`, {
        token: rita,
        json: { decision: 'approve' },
      });
      assert.equal(decided.status, 200, await decided.clone().text());
      await r.waitFor(before + 2);
      const mine = r.received.slice(before);
      assert.ok(mine.every((x) => x.verified));
      assert.deepEqual(
        mine.map((x) => [x.json.type, x.json.data.state]),
        [
          ['upload.verified', 'pending_review'],
          ['review.approved', 'approved'],
        ],
      );
      const approved = mine[1]!.json.data as { publishedKey?: string; review?: { reviewer: string } };
      assert.equal(typeof approved.publishedKey, 'string');
      assert.equal(approved.review?.reviewer, 'rita');
      assert.ok(mine[0]!.headers['webhook-id']! < mine[1]!.headers['webhook-id']!, 'event ids in order');
    });

    // Last: by now the tests above have sent their requests.
    testSpread(() => h);
  });
}
