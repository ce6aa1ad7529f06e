// The no-JS form end to end over real HTTP: app backend → POST /v1/forms → the form page →
// a multipart POST to the embedded store (as a browser submits it, fields in order, file last) →
// storage's 303 → GET /form/done → 303 to the app's return URL. SQLite and PostgreSQL.
// (test/e2e/form.test.ts does the same in Chromium with JavaScript disabled.)
//
// Bad inputs tried: an expired done link (410), a replayed one (409, the recorded outcome, nothing
// run again), a tampered key / etag / bucket in the redirect (400), a tampered signature and
// another upload's id in a valid link (403), someone else's grant (403 / 400), a return URL not
// configured (POST /v1/forms 400; a malformed one refuses the config), a file whose bytes are not
// its type (rejected, shown readably on the page and passed to the app), a type picked from the
// list that the route does not allow, a file over the route's maxSize (storage refuses the POST),
// storage failing the freeze during done (an HTML 503 page; the same link works once it is back).
// With CHUTE_E2E_CLUSTER (`npm run test:cluster`) once through the cluster's balancer: the form
// made on one instance, its done link answered by another.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../src/config/parse.ts';
import { route } from '../src/rules/builder.ts';
import { StorageError } from '../src/storage/errors.ts';
import { CLUSTER } from './helpers/cluster.ts';
import { type Harness, startHarness, testSpread } from './helpers/e2e.ts';
import { type Engine, SUITE_ENGINES, sqliteEngine } from './helpers/engines.ts';
import { HTML, jpeg, png } from './helpers/images.ts';

const RETURN = 'http://127.0.0.1:9/app/uploaded';
const SECRET = 'form-secret-form-secret-form-secret-0000';
const ROUTES = [
  route('pic').types('image/png').maxSize('100KB'),
  route('photo').types('image/png', 'image/jpeg').maxSize('1MB').review(),
];

const unHtml = (s: string) => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));

/** The form a page renders: its action and every field, in order. */
function parseForm(html: string): { action: string; fields: [string, string][]; select: string[] } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  assert.ok(action, 'a form posting somewhere');
  const fields = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
    (m): [string, string] => [unHtml(m[1]!), unHtml(m[2]!)],
  );
  const select = [...html.matchAll(/<option value="([^"]+)">/g)].map((m) => unHtml(m[1]!));
  return { action: unHtml(action), fields, select };
}

/** Submits the form as a browser does: fields in order, the file last; storage answers. */
async function submit(form: ReturnType<typeof parseForm>, bytes: Buffer, contentType?: string) {
  const body = new FormData();
  for (const [k, v] of form.fields) body.append(k, v);
  if (contentType !== undefined) body.append('Content-Type', contentType);
  body.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }), 'x.png');
  return fetch(form.action, { method: 'POST', body, redirect: 'manual' });
}

for (const { name, open } of SUITE_ENGINES) {
  describe(`no-JS form (${name})`, () => {
    let engine: Engine;
    let h: Harness;
    let alice: string;
    let bob: string;

    before(async () => {
      engine = await open();
      if (engine.skip) return;
      h = await startHarness(engine, `form-${engine.name}`, {
        routes: ROUTES,
        form: { secret: SECRET, returnUrls: [RETURN] },
      });
      [alice, bob] = await Promise.all([h.token('alice'), h.token('bob')]);
    });
    after(async () => {
      try {
        await h?.close();
      } finally {
        await engine?.cleanup();
      }
    });
    const skip = () => (engine.skip ? engine.skip : false);

    async function newForm(token: string, body: Record<string, unknown>) {
      const res = await h.api('/v1/forms', { token, json: body });
      const json = (await res.json()) as { id: string; url: string; html: string };
      assert.equal(res.status, 201, JSON.stringify(json));
      const page = await fetch(json.url);
      assert.equal(page.status, 200);
      const instance = res.headers.get('x-chute-instance');
      return { ...json, page, form: parseForm(await page.text()), instance };
    }
    /** Upload through the form; the done link storage redirected to. */
    async function uploadVia(f: { form: ReturnType<typeof parseForm> }, bytes: Buffer, type?: string) {
      const res = await submit(f.form, bytes, type);
      assert.equal(res.status, 303, await res.text());
      const done = res.headers.get('location') ?? '';
      assert.ok(done.startsWith(`${h.url}/form/done/`), done);
      return done;
    }
    const state = async (id: string) =>
      ((await (await h.api(`/v1/uploads/${id}`, { token: alice })).json()) as { state: string }).state;

    test('upload through the form, then back to the app with the outcome', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const f = await newForm(alice, { route: 'pic', returnUrl: RETURN });
      const csp = f.page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'none'/);
      assert.match(csp, new RegExp(`form-action 'self' ${new URL(h.target.endpoint).origin}`));
      assert.doesNotMatch(f.html, /<script/i);
      assert.ok(f.form.fields.some(([k, v]) => k === 'Content-Type' && v === 'image/png'));
      const bytes = png(32, 32, 4000);
      const done = await uploadVia(f, bytes);
      const back = await fetch(done, { redirect: 'manual' });
      assert.equal(back.status, 303);
      if (CLUSTER !== undefined) {
        const doneBy = back.headers.get('x-chute-instance');
        t.diagnostic(`form made by ${f.instance}, done link answered by ${doneBy}`);
        assert.ok(f.instance !== null && doneBy !== null && f.instance !== doneBy);
      }
      const target = new URL(back.headers.get('location') ?? '');
      assert.equal(`${target.origin}${target.pathname}`, RETURN);
      assert.equal(target.searchParams.get('upload'), f.id);
      assert.equal(target.searchParams.get('state'), 'verified');
      const got = (await (await h.api(`/v1/uploads/${f.id}`, { token: alice })).json()) as {
        file: { size: number; type: string };
      };
      assert.equal(got.file.size, bytes.length);
      assert.equal(got.file.type, 'image/png');

      // Replayed: refused, showing what was recorded; nothing runs again.
      const again = await fetch(done, { redirect: 'manual' });
      assert.equal(again.status, 409);
      assert.match(await again.text(), /already used.*uploaded and checked/s);
      const page = await fetch(f.url);
      assert.equal(page.status, 409, 'the form page of a used grant is not served again');
      const history = (await (await h.api(`/v1/uploads/${f.id}/history`, { token: alice })).json()) as {
        items: { action: string }[];
      };
      assert.deepEqual(
        history.items.map((i) => i.action),
        ['granted', 'upload_seen', 'upload_seen', 'verified'],
      );
    });

    test('tampered bucket, key, etag, signature or upload id: refused, grant intact', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const f = await newForm(alice, { route: 'pic' });
      const done = new URL(await uploadVia(f, png(8, 8, 2000)));
      const tamper = async (k: string, v: string) => {
        const u = new URL(done);
        u.searchParams.set(k, v);
        return (await fetch(u, { redirect: 'manual' })).status;
      };
      // The signed part is the path: /form/done/{id}/{exp}/{to}/{sig}.
      const segment = (i: number, v: string) => {
        const u = new URL(done);
        const parts = u.pathname.split('/');
        parts[3 + i] = v;
        u.pathname = parts.join('/');
        return fetch(u, { redirect: 'manual' }).then((r) => r.status);
      };
      const exp = done.pathname.split('/')[4];
      assert.equal(await tamper('bucket', 'other-bucket'), 400);
      assert.equal(await tamper('key', `${done.searchParams.get('key')}x`), 400);
      assert.equal(await tamper('etag', '"0123456789abcdef0123456789abcdef"'), 400);
      assert.equal(await segment(3, 'A'.repeat(43)), 403);
      assert.equal(await segment(1, String(Number(exp) + 60_000)), 403);
      assert.equal(await segment(2, Buffer.from(RETURN).toString('base64url')), 403);
      const g = await newForm(alice, { route: 'pic' });
      assert.equal(await segment(0, g.id), 403);
      assert.equal(await state(f.id), 'granted');
      // The untouched link still completes it, and shows the gateway's own result page.
      const ok = await fetch(done, { redirect: 'manual' });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /uploaded and checked/);
    });

    test("someone else's grant: their link with my key, my id in their link", async (t) => {
      if (skip()) return t.skip(skip() as string);
      const mine = await newForm(alice, { route: 'pic' });
      const theirs = await newForm(bob, { route: 'pic' });
      const myDone = new URL(await uploadVia(mine, png(8, 8, 2000)));
      const theirDone = new URL(await uploadVia(theirs, png(8, 8, 2000)));
      const mixed = new URL(theirDone);
      mixed.searchParams.set('key', myDone.searchParams.get('key') ?? '');
      mixed.searchParams.set('etag', myDone.searchParams.get('etag') ?? '');
      assert.equal((await fetch(mixed, { redirect: 'manual' })).status, 400);
      const swapped = new URL(theirDone);
      swapped.pathname = swapped.pathname.replace(theirs.id, mine.id);
      assert.equal((await fetch(swapped, { redirect: 'manual' })).status, 403);
      assert.equal(await state(mine.id), 'granted');
    });

    test('an expired done link: 410', async (t) => {
      if (skip()) return t.skip(skip() as string);
      // It moves the gateway's clock past the link's expiry.
      if (h.internals !== false) return t.skip(h.internals);
      const f = await newForm(alice, { route: 'pic' });
      const done = await uploadVia(f, png(8, 8, 2000));
      h.clock.offset = 11 * 60_000 + 2000; // past expiry + the harness's 1 s grace
      try {
        const res = await fetch(done, { redirect: 'manual' });
        assert.equal(res.status, 410);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(await res.text(), /link has expired/);
        assert.equal((await fetch(f.url)).status, 410);
      } finally {
        h.clock.offset = 0;
      }
      assert.equal(await state(f.id), 'granted', 'left for the sweeper');
    });

    test('a return URL not configured is refused', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const res = await h.api('/v1/forms', {
        token: alice,
        json: { route: 'pic', returnUrl: 'https://evil.example/steal' },
      });
      assert.equal(res.status, 400);
      const base = {
        storage: { endpoint: 'http://127.0.0.1:1', bucket: 'b-b-b', accessKeyId: 'a', secretAccessKey: 's' },
        auth: { jwt: { secret: SECRET } },
        routes: [{ name: 'x', types: ['image/png'], maxSize: '1MB' }],
      };
      assert.throws(() => parseConfig({ ...base, form: { secret: SECRET, returnUrls: ['/relative'] } }));
      assert.throws(() =>
        parseConfig({ ...base, form: { secret: SECRET, returnUrls: ['javascript:alert(1)'] } }),
      );
      assert.throws(() => parseConfig({ ...base, form: { secret: 'short' } }));
    });

    test('a file whose bytes are not its type: refused, shown readably and passed on', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const f = await newForm(alice, { route: 'pic' });
      const page = await fetch(await uploadVia(f, Buffer.concat([HTML, Buffer.alloc(100, 32)])));
      assert.equal(page.status, 200);
      assert.match(await page.text(), /File refused.*not of the type chosen.*type_mismatch/s);
      const g = await newForm(alice, { route: 'pic', returnUrl: RETURN });
      const back = await fetch(await uploadVia(g, HTML), { redirect: 'manual' });
      const target = new URL(back.headers.get('location') ?? '');
      assert.equal(target.searchParams.get('state'), 'rejected');
      assert.equal(target.searchParams.get('reason'), 'type_mismatch');
    });

    test('several types: picked from a list; a type outside the route is not taken', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const f = await newForm(alice, { route: 'photo' });
      assert.deepEqual(f.form.select, ['image/png', 'image/jpeg']);
      assert.ok(!f.form.fields.some(([k]) => k === 'Content-Type'));
      const page = await fetch(await uploadVia(f, jpeg(40, 30), 'image/jpeg'));
      assert.match(await page.text(), /waiting for review/);
      const g = await newForm(alice, { route: 'photo' });
      const zip = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 1)]);
      const refused = await fetch(await uploadVia(g, zip, 'application/zip'));
      assert.match(await refused.text(), /File refused/);
      const got = (await (await h.api(`/v1/uploads/${g.id}`, { token: alice })).json()) as { reason: string };
      assert.equal(got.reason, 'type_mismatch');
    });

    test('a file over the route’s maxSize: storage refuses the POST, nothing stored', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const f = await newForm(alice, { route: 'pic' });
      const res = await submit(f.form, png(64, 64, 100_001));
      assert.equal(res.status, 400);
      assert.match(await res.text(), /EntityTooLarge/);
      const redirect = f.form.fields.find(([k]) => k === 'success_action_redirect')![1];
      const key = f.form.fields.find(([k]) => k === 'key')![1];
      const done = `${redirect}?${new URLSearchParams({ bucket: h.bucket, key, etag: '"x"' })}`;
      assert.equal((await fetch(done, { redirect: 'manual' })).status, 409, 'nothing uploaded yet');
    });

    // Last: by now the tests above have sent their requests.
    testSpread(() => h);
  });
}

describe('no-JS form, storage failing during done', {
  skip:
    CLUSTER &&
    "it injects storage faults into the gateway (wrapStorage): the cluster's are processes of their own",
}, () => {
  let engine: Engine;
  let h: Harness;
  const failing = { copy: false };

  before(async () => {
    engine = sqliteEngine();
    h = await startHarness(engine, 'form-faults', {
      routes: ROUTES,
      form: { secret: SECRET, returnUrls: [RETURN] },
      wrapStorage: (real) =>
        new Proxy(real, {
          get(target, prop) {
            if (prop === 'copy' && failing.copy) {
              return async () => {
                throw new StorageError('CopyObject', 'ServiceUnavailable', 503, 'down for the test');
              };
            }
            const v = Reflect.get(target, prop, target);
            return typeof v === 'function' ? v.bind(target) : v;
          },
        }),
    });
  });
  after(async () => {
    try {
      await h?.close();
    } finally {
      await engine?.cleanup();
    }
  });

  test('an HTML 503 page, the grant kept; the same link completes once storage is back', async () => {
    const token = await h.token('alice');
    const res = await h.api('/v1/forms', { token, json: { route: 'pic', returnUrl: RETURN } });
    const { url, id } = (await res.json()) as { url: string; id: string };
    const form = parseForm(await (await fetch(url)).text());
    const posted = await submit(form, png(8, 8, 2000));
    const done = posted.headers.get('location') ?? '';
    failing.copy = true;
    const down = await fetch(done, { redirect: 'manual' });
    assert.equal(down.status, 503);
    assert.match(down.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await down.text(), /Try again in a moment/);
    const got = (await (await h.api(`/v1/uploads/${id}`, { token })).json()) as { state: string };
    assert.equal(got.state, 'granted');
    failing.copy = false;
    const back = await fetch(done, { redirect: 'manual' });
    assert.equal(back.status, 303);
    assert.equal(new URL(back.headers.get('location') ?? '').searchParams.get('state'), 'verified');
  });
});
