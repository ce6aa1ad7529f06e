// Issue 15, point 1: an upload is judged by the rule its grant was signed under. A config changed
// (or a route removed) between grant and complete must not change which types, sizes, limits or
// review apply to grants already issued. Real gateway, real store, both databases; with
// CHUTE_E2E_CLUSTER (`npm run test:cluster`) the cluster's instances, restarted on each config.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDriver } from '../src/db/open.ts';
import { route } from '../src/rules/builder.ts';
import { type GrantJson, type Harness, startHarness, testSpread, upload } from './helpers/e2e.ts';
import { type Engine, SUITE_ENGINES } from './helpers/engines.ts';
import { png } from './helpers/images.ts';

// Rule A: notes are plain text, up to 1 KB, no review.
const A = [route('notes').types('text/plain').maxSize('1KB').method('put')];
// Rule B: the same route now wants PDFs only, at most 10 bytes, and review.
const B = [route('notes').types('application/pdf').maxSize('10B').method('put').review()];
// Rule C: the route is gone (another route keeps the config valid).
const C = [route('other').types('image/png').maxSize('1MB')];

const TEXT = Buffer.from('a plain text note, well over ten bytes long\n');

for (const { name, open } of SUITE_ENGINES) {
  describe(`the rule is frozen into the grant (${name})`, () => {
    let engine: Engine;
    let h: Harness;
    let alice: string;

    before(async () => {
      engine = await open();
      if (engine.skip) return;
      h = await startHarness(engine, `frozen-${engine.name}`, { routes: A });
      alice = await h.token('alice');
    });
    after(async () => {
      try {
        await h?.close();
      } finally {
        await engine?.cleanup();
      }
    });

    async function grantAndUpload(body: Record<string, unknown>, bytes: Buffer): Promise<GrantJson> {
      const res = await h.api('/v1/grants', { token: alice, json: body });
      const grant = (await res.json()) as GrantJson;
      assert.equal(res.status, 201, JSON.stringify(grant));
      assert.equal((await upload(grant, bytes)).status, 200);
      return grant;
    }
    const complete = async (id: string) => {
      const res = await h.api(`/v1/uploads/${id}/complete`, { method: 'POST', token: alice });
      return { status: res.status, body: (await res.json()) as { state?: string; error?: { code: string } } };
    };
    const note = { route: 'notes', filename: 'note.txt', contentType: 'text/plain', size: TEXT.length };

    test('granted under A, config changed to B: complete checks A (type, size, no review)', async (t) => {
      if (engine.skip) return t.skip(engine.skip);
      await h.restart(A);
      const grant = await grantAndUpload(note, TEXT);
      await h.restart(B);
      // Under B the same file would be type_not_allowed, too_large, and wait for review.
      const done = await complete(grant.id);
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.state, 'verified');
      // B does apply to grants made after the change: the declaration is refused at once.
      const refused = await h.api('/v1/grants', { token: alice, json: note });
      assert.equal(refused.status, 415);
    });

    test('granted under B, config changed back to A: complete checks B (review)', async (t) => {
      if (engine.skip) return t.skip(engine.skip);
      await h.restart(B);
      const pdf = Buffer.from('%PDF-1.');
      const grant = await grantAndUpload(
        { route: 'notes', filename: 'n.pdf', contentType: 'application/pdf', size: pdf.length },
        pdf,
      );
      await h.restart(A);
      const done = await complete(grant.id);
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.state, 'pending_review');
    });

    test('a route removed from the config still completes the grants it issued', async (t) => {
      if (engine.skip) return t.skip(engine.skip);
      await h.restart(A);
      const grant = await grantAndUpload(note, TEXT);
      await h.restart(C);
      const done = await complete(grant.id);
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.state, 'verified');
      const refused = await h.api('/v1/grants', { token: alice, json: note });
      assert.equal(refused.status, 404);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'route_not_found');
    });

    test('a grant whose recorded rule is unknown fails with route_not_found, and keeps its grant', async (t) => {
      if (engine.skip) return t.skip(engine.skip);
      await h.restart(C);
      const bytes = png(8, 8);
      const grant = await grantAndUpload(
        { route: 'other', filename: 'o.png', contentType: 'image/png', size: bytes.length, method: 'put' },
        bytes,
      );
      // Bad input: a row pointing at a rule no table holds (a database edited by hand, or restored
      // without its rules table). Nothing is guessed from the live config.
      const db = await openDriver(engine.url, engine.options);
      try {
        await db.run('UPDATE uploads SET rule_hash = ? WHERE id = ?', ['f'.repeat(32), grant.id]);
        const done = await complete(grant.id);
        assert.equal(done.status, 404);
        assert.equal(done.body.error?.code, 'route_not_found');
        const row = await db.all<{ state: string }>('SELECT state FROM uploads WHERE id = ?', [grant.id]);
        assert.deepEqual(
          row.map((r) => r.state),
          ['granted'],
        );
      } finally {
        await db.close();
      }
    });

    // Last: by now the tests above have sent their requests.
    testSpread(() => h);
  });
}
