// Issue 10: review, withdrawal, publication and the audit trail, end to end over real HTTP
// against the embedded store (or RGW), on SQLite and PostgreSQL. Bad inputs tried: an uploader on
// the review endpoints, a reject without a reason / with a reason not in the route's list, an
// approve with a reason, unknown fields, a second decision, two reviewers at once, a reviewer
// deciding their own upload, withdraw by a non-owner / twice / after a decision, decide after
// withdraw, UPDATE/DELETE/TRUNCATE of audit rows, storage failing the publication copy.
// With CHUTE_E2E_CLUSTER (`npm run test:cluster`) once through the cluster's balancer, on its
// database: uploads granted on one instance, decided on another.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { openDriver } from '../src/db/open.ts';
import { route } from '../src/rules/builder.ts';
import { StorageError } from '../src/storage/errors.ts';
import type { Storage } from '../src/storage/types.ts';
import { CLUSTER } from './helpers/cluster.ts';
import { type GrantJson, type Harness, startHarness, testSpread, upload } from './helpers/e2e.ts';
import { type Engine, SUITE_ENGINES } from './helpers/engines.ts';
import { png } from './helpers/images.ts';

const ROUTES = [
  route('logo')
    .types('image/png')
    .maxSize('1MB')
    .review({ reasons: ['blurry', 'off_brand'], retention: '1h' }),
  route('current')
    .types('image/png')
    .maxSize('1MB')
    .review()
    .publish({ key: 'logos/{userId}/current.png', keepOne: true }),
  route('avatar')
    .types('image/png')
    .maxSize('1MB')
    .method('put')
    .publish({ key: 'avatars/{userId}/{uploadId}' }),
  route('quick').types('image/png').maxSize('1MB').review({ retention: '0s' }),
];

interface View {
  id: string;
  state: string;
  reason?: string;
  review?: { decision: string; reviewer: string; reason?: string; note?: string };
  published?: { key: string; download: string };
  retiredAt?: string;
  file?: unknown;
  error?: { code: string; details?: { state?: string; allowed?: string[] } };
}

/** Fails CopyObject into the published prefixes while `failing` is set (the store itself is real). */
const publishFault = { failing: false };
function failPublication(real: Storage): Storage {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'copy') {
        return (src: string, dst: string, o?: { ifMatch?: string }) => {
          if (publishFault.failing && !dst.startsWith('files/')) {
            return Promise.reject(new StorageError('CopyObject', 'InternalError', 500, 'injected'));
          }
          return target.copy(src, dst, o);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

for (const { name, open } of SUITE_ENGINES) {
  describe(`review, publication, audit (${name})`, () => {
    let engine: Engine;
    let h: Harness;
    let alice: string;
    let bob: string;
    let rita: string;
    let rex: string;
    let root: string;

    before(async () => {
      engine = await open();
      if (engine.skip) return;
      h = await startHarness(engine, `review-${engine.name}`, {
        routes: ROUTES,
        // The cluster's instances are processes of their own: nothing can be injected there.
        ...(CLUSTER === undefined && { wrapStorage: failPublication }),
      });
      [alice, bob, rita, rex, root] = await Promise.all([
        h.token('alice'),
        h.token('bob'),
        h.token('rita', 'reviewer'),
        h.token('rex', 'reviewer'),
        h.token('root', 'admin'),
      ]);
    });
    after(async () => {
      try {
        await h?.close();
      } finally {
        await engine?.cleanup();
      }
    });
    const skip = (t: { skip(m: string): void }) => {
      if (engine.skip) {
        t.skip(engine.skip);
        return true;
      }
      return false;
    };

    /** Granted, uploaded and completed; `grantedBy`: the instance that granted it (behind the cluster's balancer). */
    async function uploaded(
      token: string,
      routeName: string,
      bytes = png(32, 16),
    ): Promise<View & { grantedBy: string | null }> {
      const res = await h.api('/v1/grants', {
        token,
        json: { route: routeName, filename: 'logo.png', contentType: 'image/png', size: bytes.length },
      });
      const g = (await res.json()) as GrantJson;
      assert.equal(res.status, 201, JSON.stringify(g));
      const up = await upload(g, bytes);
      assert.ok(up.ok, await up.text());
      const done = await h.api(`/v1/uploads/${g.id}/complete`, { token, method: 'POST' });
      return { ...((await done.json()) as View), grantedBy: res.headers.get('x-chute-instance') };
    }
    const decide = async (token: string, id: string, body: unknown) => {
      const res = await h.api(`/v1/uploads/${id}/decision`, { token, json: body });
      return {
        status: res.status,
        body: (await res.json()) as View,
        instance: res.headers.get('x-chute-instance'),
      };
    };
    const history = async (token: string, id: string) => {
      const res = await h.api(`/v1/uploads/${id}/history`, { token });
      assert.equal(res.status, 200);
      return (
        (await res.json()) as {
          items: {
            action: string;
            actor: string;
            from?: string;
            to: string;
            requestId?: string;
            detail?: Record<string, unknown>;
          }[];
        }
      ).items;
    };
    const exists = async (key: string) =>
      h.s3
        .send(new HeadObjectCommand({ Bucket: h.bucket, Key: key }))
        .then(() => true)
        .catch((e) => {
          if (e?.$metadata?.httpStatusCode === 404) return false;
          throw e;
        });
    const md5 = async (key: string) => {
      const r = await h.s3.send(new GetObjectCommand({ Bucket: h.bucket, Key: key }));
      return createHash('md5')
        .update(await r.Body!.transformToByteArray())
        .digest('hex');
    };
    /** The outbox rows of one upload, read straight from the database. */
    const events = async (id: string) => {
      const db = await openDriver(engine.url, engine.options);
      try {
        const rows = await db.all<{ type: string; payload: string }>(
          'SELECT type, payload FROM events WHERE upload_id = ? ORDER BY created_at, id',
          [id],
        );
        return rows.map((r) => ({ type: r.type, payload: JSON.parse(r.payload) as Record<string, unknown> }));
      } finally {
        await db.close();
      }
    };

    test('uploaders never reach the review endpoints; reviewers see the queue oldest first, with previews', async (t) => {
      if (skip(t)) return;
      const first = await uploaded(alice, 'logo');
      const second = await uploaded(bob, 'logo');
      assert.equal(first.state, 'pending_review');
      for (const token of [alice, bob]) {
        assert.equal((await h.api('/v1/reviews', { token })).status, 403);
        assert.equal((await decide(token, second.id, { decision: 'approve' })).status, 403);
      }
      assert.equal((await h.api('/v1/reviews?state=bogus', { token: rita })).status, 400);
      // Page through the whole queue one item at a time: ours come in verification order.
      const seen: {
        id: string;
        owner: string;
        reasons: string[];
        preview?: { url: string; disposition: string };
      }[] = [];
      let cursor = '';
      for (let i = 0; i < 100; i++) {
        const res = await h.api(`/v1/reviews?state=pending&limit=1${cursor}`, { token: rita });
        assert.equal(res.status, 200);
        const page = (await res.json()) as { items: typeof seen; nextCursor?: string };
        seen.push(...page.items);
        if (page.nextCursor === undefined) break;
        cursor = `&cursor=${encodeURIComponent(page.nextCursor)}`;
      }
      const ours = seen.filter((s) => s.id === first.id || s.id === second.id);
      assert.deepEqual(
        ours.map((s) => s.id),
        [first.id, second.id],
      );
      assert.equal(ours[0]!.owner, 'alice');
      assert.deepEqual(ours[0]!.reasons, ['blurry', 'off_brand']);
      // The preview is a signed GET that renders inline for a PNG, typed from the bytes.
      const preview = await fetch(ours[0]!.preview!.url);
      assert.equal(preview.status, 200);
      assert.equal(preview.headers.get('content-disposition'), 'inline');
      assert.equal(preview.headers.get('content-type'), 'image/png');
      assert.equal(ours[0]!.preview!.disposition, 'inline');
    });

    test('approve publishes the file, writes review.approved, and a second decision is 409 with the state', async (t) => {
      if (skip(t)) return;
      const u = await uploaded(alice, 'logo');
      const ok = await decide(rita, u.id, { decision: 'approve', note: 'nice' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      if (CLUSTER !== undefined) {
        t.diagnostic(`granted by ${u.grantedBy}, decided by ${ok.instance}`);
        assert.ok(u.grantedBy !== null && ok.instance !== null && u.grantedBy !== ok.instance);
      }
      assert.equal(ok.body.state, 'approved');
      assert.deepEqual(ok.body.review, {
        decision: 'approve',
        reviewer: 'rita',
        at: ok.body.review?.['at' as 'reviewer'],
        note: 'nice',
      });
      const key = `published/logo/alice/${u.id}`;
      assert.equal(ok.body.published?.key, key);
      assert.equal(await md5(key), await md5(`files/${u.id}`));
      const again = await decide(rex, u.id, { decision: 'reject', reason: 'blurry' });
      assert.equal(again.status, 409);
      assert.equal(again.body.error?.details?.state, 'approved');
      const approved = (await events(u.id)).find((e) => e.type === 'review.approved');
      assert.equal(approved!.payload.publishedKey, key);
      // The owner sees where the file is published and can fetch the published copy.
      const dl = await h.api(`/v1/files/${u.id}/download?copy=published`, { token: alice });
      assert.equal(dl.status, 302);
      assert.equal((await fetch(dl.headers.get('location')!)).status, 200);
    });

    test('of two reviewers deciding at once, exactly one wins; the others get 409', async (t) => {
      if (skip(t)) return;
      const u = await uploaded(bob, 'logo');
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          i % 2
            ? decide(rita, u.id, { decision: 'approve' })
            : decide(rex, u.id, { decision: 'reject', reason: 'blurry' }),
        ),
      );
      const won = results.filter((r) => r.status === 200);
      assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
      for (const r of results) if (r.status !== 200) assert.equal(r.status, 409);
      const decisions = (await history(root, u.id)).filter(
        (e) => e.action === 'approved' || e.action === 'review_rejected',
      );
      assert.equal(decisions.length, 1);
    });

    test('reject needs a reason from the route’s list; the file is kept for the retention, then purged', async (t) => {
      if (skip(t)) return;
      const u = await uploaded(alice, 'logo');
      const noReason = await decide(rita, u.id, { decision: 'reject' });
      assert.equal(noReason.status, 400);
      assert.deepEqual(noReason.body.error?.details?.allowed, ['blurry', 'off_brand']);
      assert.equal((await decide(rita, u.id, { decision: 'reject', reason: 'inappropriate' })).status, 400);
      assert.equal((await decide(rita, u.id, { decision: 'approve', reason: 'blurry' })).status, 400);
      assert.equal((await decide(rita, u.id, { decision: 'maybe' })).status, 400);
      assert.equal((await decide(rita, u.id, { decision: 'approve', extra: 1 })).status, 400);
      const no = await decide(rita, u.id, { decision: 'reject', reason: 'off_brand', note: 'wrong colours' });
      assert.equal(no.status, 200);
      assert.equal(no.body.state, 'rejected');
      assert.equal(no.body.reason, 'review_rejected');
      assert.deepEqual(no.body.review && { r: no.body.review.reason, n: no.body.review.note }, {
        r: 'off_brand',
        n: 'wrong colours',
      });
      const ev = (await events(u.id)).find((e) => e.type === 'review.rejected');
      assert.deepEqual(ev!.payload.review, {
        reviewer: 'rita',
        decision: 'reject',
        reason: 'off_brand',
        note: 'wrong colours',
      });
      // Kept for the route's retention (1 h), then the sweeper deletes it.
      assert.equal(await exists(`files/${u.id}`), true);
      if (h.internals !== false) return t.diagnostic(`purge after the retention not run: ${h.internals}`);
      await h.gateway.sweeper.once();
      assert.equal(await exists(`files/${u.id}`), true);
      h.clock.offset = 3_600_001;
      try {
        const report = await h.gateway.sweeper.once();
        assert.ok(report.purged >= 1);
      } finally {
        h.clock.offset = 0;
      }
      assert.equal(await exists(`files/${u.id}`), false);
      assert.equal((await h.api(`/v1/files/${u.id}/download`, { token: rita })).status, 404);
      assert.deepEqual(
        (await history(alice, u.id)).map((e) => e.action),
        ['granted', 'upload_seen', 'verified', 'review_rejected', 'purged'],
      );
    });

    test('retention 0s deletes a rejected file at once', async (t) => {
      if (skip(t)) return;
      const u = await uploaded(alice, 'quick');
      const no = await decide(rita, u.id, { decision: 'reject', reason: 'low_quality' });
      assert.equal(no.status, 200);
      assert.equal(await exists(`files/${u.id}`), false);
      assert.equal(no.body.file, undefined);
    });

    test('a reviewer cannot decide their own upload; an admin can', async (t) => {
      if (skip(t)) return;
      const mine = await uploaded(rita, 'logo');
      const self = await decide(rita, mine.id, { decision: 'approve' });
      assert.equal(self.status, 403);
      const rootOwn = await uploaded(root, 'logo');
      assert.equal((await decide(root, rootOwn.id, { decision: 'approve' })).status, 200);
    });

    test('the owner withdraws a pending upload: file deleted, upload.withdrawn; nobody else can', async (t) => {
      if (skip(t)) return;
      const u = await uploaded(alice, 'logo');
      const w = (path: string, token: string) => h.api(path, { token, method: 'POST' });
      assert.equal((await w(`/v1/uploads/${u.id}/withdraw`, bob)).status, 404);
      assert.equal((await w(`/v1/uploads/${u.id}/withdraw`, rita)).status, 403);
      const ok = await w(`/v1/uploads/${u.id}/withdraw`, alice);
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as View).state, 'withdrawn');
      assert.equal(await exists(`files/${u.id}`), false);
      assert.ok((await events(u.id)).some((e) => e.type === 'upload.withdrawn'));
      const twice = await w(`/v1/uploads/${u.id}/withdraw`, alice);
      assert.equal(twice.status, 409);
      assert.equal(((await twice.json()) as View).error?.details?.state, 'withdrawn');
      assert.equal((await decide(rita, u.id, { decision: 'approve' })).status, 409);
      // A decided upload cannot be withdrawn either.
      const d = await uploaded(alice, 'logo');
      await decide(rita, d.id, { decision: 'approve' });
      assert.equal((await w(`/v1/uploads/${d.id}/withdraw`, alice)).status, 409);
    });

    test('keepOne: approving a new file retires the previous one at the same current key', async (t) => {
      if (skip(t)) return;
      const a = await uploaded(bob, 'current', png(10, 10));
      const b = await uploaded(bob, 'current', png(20, 20));
      assert.equal((await decide(rita, a.id, { decision: 'approve' })).status, 200);
      const key = 'logos/bob/current.png';
      assert.equal(await md5(key), await md5(`files/${a.id}`));
      const second = await decide(rita, b.id, { decision: 'approve' });
      assert.equal(second.body.published?.key, key);
      assert.equal(await md5(key), await md5(`files/${b.id}`));
      const old = (await (await h.api(`/v1/uploads/${a.id}`, { token: bob })).json()) as View;
      assert.equal(old.published, undefined);
      assert.ok(old.retiredAt);
      assert.ok((await history(bob, a.id)).some((e) => e.action === 'retired'));
    });

    test('a route without review that publishes: verified and published at once, upload.verified says where', async (t) => {
      if (skip(t)) return;
      const v = await uploaded(alice, 'avatar');
      assert.equal(v.state, 'verified');
      assert.equal(v.published?.key, `avatars/alice/${v.id}`);
      assert.equal(await exists(`avatars/alice/${v.id}`), true);
      const ev = (await events(v.id)).find((e) => e.type === 'upload.verified');
      assert.equal(ev!.payload.publishedKey, `avatars/alice/${v.id}`);
    });

    test('publication that fails is retried by the sweeper; review.approved goes out once published', async (t) => {
      if (skip(t)) return;
      // It fails the gateway's storage copy, then moves its clock and runs its sweeper.
      if (h.internals !== false) return t.skip(h.internals);
      const u = await uploaded(alice, 'logo');
      publishFault.failing = true;
      let decided: View;
      try {
        decided = (await decide(rita, u.id, { decision: 'approve' })).body;
      } finally {
        publishFault.failing = false;
      }
      assert.equal(decided.state, 'approved');
      assert.equal(decided.published, undefined);
      assert.equal(
        (await events(u.id)).some((e) => e.type === 'review.approved'),
        false,
      );
      h.clock.offset = 61_000;
      try {
        assert.ok((await h.gateway.sweeper.once()).published >= 1);
      } finally {
        h.clock.offset = 0;
      }
      const now = (await (await h.api(`/v1/uploads/${u.id}`, { token: alice })).json()) as View;
      assert.equal(now.published?.key, `published/logo/alice/${u.id}`);
      assert.equal((await events(u.id)).filter((e) => e.type === 'review.approved').length, 1);
    });

    test('history: every change with actor, role and request id; the audit table refuses UPDATE and DELETE', async (t) => {
      if (skip(t)) return;
      const u = await uploaded(alice, 'logo');
      const res = await h.api(`/v1/uploads/${u.id}/decision`, {
        token: rita,
        json: { decision: 'approve' },
        headers: { 'x-request-id': 'review-req-0001' },
      });
      assert.equal(res.status, 200);
      const items = await history(alice, u.id);
      assert.deepEqual(
        items.map((e) => [e.action, e.actor, e.from ?? null, e.to]),
        [
          ['granted', 'alice', null, 'granted'],
          ['upload_seen', 'alice', 'granted', 'uploaded'],
          ['verified', 'alice', 'uploaded', 'pending_review'],
          ['approved', 'rita', 'pending_review', 'approved'],
          ['published', 'rita', 'approved', 'approved'],
        ],
      );
      assert.equal(items[3]!.requestId, 'review-req-0001');
      assert.ok(items.every((e) => e.action === 'granted' || typeof e.requestId === 'string'));
      assert.equal((await h.api(`/v1/uploads/${u.id}/history`, { token: bob })).status, 404);
      assert.equal((await h.api(`/v1/uploads/${u.id}/history`, { token: rex })).status, 200);

      const db = await openDriver(engine.url, engine.options);
      try {
        const before = await db.all('SELECT * FROM audit WHERE upload_id = ? ORDER BY at, id', [u.id]);
        await assert.rejects(
          db.run("UPDATE audit SET actor = 'mallory' WHERE upload_id = ?", [u.id]),
          /append-only/,
        );
        await assert.rejects(db.run('DELETE FROM audit WHERE upload_id = ?', [u.id]), /append-only/);
        await assert.rejects(
          db.transaction((tx) => tx.run('DELETE FROM audit')),
          /append-only/,
        );
        if (engine.url.startsWith('postgres')) await assert.rejects(db.exec('TRUNCATE audit'), /append-only/);
        assert.deepEqual(
          await db.all('SELECT * FROM audit WHERE upload_id = ? ORDER BY at, id', [u.id]),
          before,
        );
      } finally {
        await db.close();
      }
    });

    // Last: by now the tests above have sent their requests.
    testSpread(() => h);
  });
}
