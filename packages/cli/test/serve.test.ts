// `chute serve --config FILE`: the example configs start a gateway; a bad config exits 2 and says why.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfigFile } from '../src/config-file.ts';
import { ROOT, run, start } from './helpers.ts';

const JSON_EXAMPLE = path.join(ROOT, 'examples/chute.config.json');
const TS_EXAMPLE = path.join(ROOT, 'examples/chute.config.ts');
const SECRET = 'example-secret-example-secret-0123456789';

describe('chute serve', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'chute-cli-serve-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the example configs parse (JSON, and .ts with the route builder)', async () => {
    const json = await loadConfigFile(JSON_EXAMPLE);
    assert.deepEqual([...json.routes.keys()], ['logo', 'invoice']);
    assert.equal(json.routes.get('logo')!.maxSize, 20_000_000);
    assert.equal(json.routes.get('logo')!.review, true);
    process.env['CHUTE_JWT_SECRET'] = SECRET;
    try {
      const ts = await loadConfigFile(TS_EXAMPLE);
      // Both describe the same gateway.
      assert.deepEqual([...ts.routes.entries()], [...json.routes.entries()]);
      assert.equal(ts.auth.jwt?.secret, SECRET);
    } finally {
      delete process.env['CHUTE_JWT_SECRET'];
    }
  });

  for (const [name, file] of [
    ['JSON', JSON_EXAMPLE],
    ['.ts', TS_EXAMPLE],
  ] as const) {
    test(`starts with the ${name} example, serves the page without demo users, stops on SIGTERM`, async () => {
      const serve = start(['serve', '--config', file, '--port', '0'], {
        cwd: dir,
        env: { CHUTE_JWT_SECRET: SECRET },
      });
      try {
        const [, url] = await serve.waitFor(/gateway on (http:\/\/127\.0\.0\.1:\d+)/);
        assert.equal((await fetch(`${url}/healthz`)).status, 200);
        assert.equal((await fetch(`${url}/`)).status, 200);
        const cfg = (await (await fetch(`${url}/ui/config.json`)).json()) as { demo: boolean };
        assert.equal(cfg.demo, false);
        // No demo tokens outside `chute dev`.
        const demo = await fetch(`${url}/dev/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"user":"alice"}',
        });
        assert.equal(demo.status, 404);
        assert.equal((await fetch(`${url}/v1/uploads`)).status, 401);
        // The secret never reaches the log.
        assert.doesNotMatch(serve.output(), new RegExp(SECRET));
        assert.doesNotMatch(serve.output(), /chutedev-secret-key/);
      } finally {
        assert.equal(await serve.stop(), 0, serve.output());
      }
    });
  }

  test('chute token --config mints with the config’s secret', () => {
    const r = run(['token', '--user', 'alice', '--config', JSON_EXAMPLE]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  test('a bad config: exit 2, the file and every problem named, no usage text', async () => {
    const bad = path.join(dir, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({
        storage: { endpoint: 'not a url', bucket: 'B', accessKeyId: 'k', secretAccessKey: 's' },
        auth: {},
        routes: [{ name: 'logo', types: ['image/png'], maxSize: 20000000 }],
        colour: 'blue',
      }),
    );
    const r = run(['serve', '--config', bad]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`chute: ${bad.replace(/[.]/g, '\\.')}: invalid config`));
    assert.match(r.stderr, /colour/);
    assert.match(r.stderr, /storage\.endpoint/);
    assert.match(r.stderr, /not a valid S3 bucket name/);
    assert.match(r.stderr, /anonymous/);
    assert.match(r.stderr, /maxSize/);
    assert.doesNotMatch(r.stderr, /Usage:/);
  });

  test('missing file, broken JSON, a .ts that throws, no --config: exit 2 with the reason', async () => {
    const missing = run(['serve', '--config', path.join(dir, 'nope.json')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.json: no such file/);
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{"listen": ');
    const b = run(['serve', '--config', broken]);
    assert.equal(b.status, 2);
    assert.match(b.stderr, /broken\.json: not valid JSON/);
    const ts = run(['serve', '--config', TS_EXAMPLE], { env: { CHUTE_JWT_SECRET: '' } });
    assert.equal(ts.status, 2);
    assert.match(ts.stderr, /chute\.config\.ts: could not load: CHUTE_JWT_SECRET is not set/);
    const none = run(['serve']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /--config FILE is required/);
  });
});
