// `chute upload` as a user runs it: a real process against a real `chute dev` (port 0).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startProxy } from '../../client/test/helpers/proxy.ts';
import { startStack, textFile } from '../../client/test/helpers/stack.ts';
import { png } from '../../gateway/test/helpers/images.ts';
import { type Running, run, start } from './helpers.ts';

/** `chute upload …` to its exit, without blocking this process (a proxy may run in it). */
async function upload(args: string[], env: NodeJS.ProcessEnv = {}) {
  const p = start(['upload', ...args], { env });
  const [code] = (await once(p.child, 'exit')) as [number | null];
  return { code, output: p.output() };
}

describe('chute upload', () => {
  let data: string;
  let dev: Running;
  let page: string;
  let token: string;
  let files: { logo: string; logo2: string; text: string };

  before(async () => {
    data = await mkdtemp(path.join(tmpdir(), 'chute-cli-upload-'));
    dev = start(['dev', '--port', '0', '--s3-port', '0', '--data', data, '--quiet']);
    [, page] = (await dev.waitFor(/Page +(http:\/\/127\.0\.0\.1:\d+)\//)) as [string, string];
    const t = run(['token', '--user', 'alice', '--data', data]);
    assert.equal(t.status, 0, t.stderr);
    token = t.stdout.trim();
    files = {
      logo: path.join(data, 'logo.png'),
      logo2: path.join(data, 'second logo.png'),
      text: path.join(data, 'notes.txt'),
    };
    await writeFile(files.logo, png(640, 480, 3_000_000));
    await writeFile(files.logo2, png(32, 32));
    await writeFile(files.text, 'not an image\n');
  });
  after(async () => {
    await dev?.stop();
    await rm(data, { recursive: true, force: true });
  });

  test('two PNGs to the logo route: exit 0, one "<id> <state> <file>" line each, plain progress lines', async () => {
    const r = await upload([
      files.logo,
      files.logo2,
      '--route',
      'logo',
      '--endpoint',
      page,
      '--token',
      token,
    ]);
    assert.equal(r.code, 0, r.output);
    const lines = r.output.split('\n');
    const accepted = lines.filter((l) => /^up_\w+ pending_review /.test(l));
    assert.deepEqual(
      accepted.map((l) => l.split(' ').slice(2).join(' ')),
      [files.logo, files.logo2],
    );
    assert.ok(lines.includes('logo.png: uploading 3.00 MB'), r.output);
    assert.match(r.output, /^logo\.png: pending_review up_\w+ \(3\.00 MB in \d+\.\ds\)$/m);
    // Not a TTY: no bars, no escape sequences.
    assert.ok(!r.output.includes('\x1b') && !r.output.includes('[#'), r.output);
    // The gateway has them, waiting for review, as alice's.
    const id = accepted[0]!.split(' ')[0];
    const view = await fetch(`${page}/v1/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(((await view.json()) as { state: string; size: number }).size, 3_000_000);
  });

  test('token from CHUTE_TOKEN; a refused file → exit 1 with the gateway\u2019s code, the others still go', async () => {
    const r = await upload([files.text, files.logo2, '--route', 'logo', '--endpoint', page], {
      CHUTE_TOKEN: token,
    });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /notes\.txt: error type_not_allowed 415 from gateway: .*\[request \S+\]/);
    assert.match(r.output, /^up_\w+ pending_review .*second logo\.png$/m);
  });

  test('an image the route refuses after upload (too many pixels): rejected with its reason, exit 1', async () => {
    const big = path.join(data, 'huge.png');
    await writeFile(big, png(5000, 5000));
    const r = await upload([big, '--route', 'logo', '--endpoint', page, '--token', token]);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /huge\.png: rejected \(image_too_large\) up_\w+/);
  });

  test('bad token, unknown route, missing file, gateway down: exit 1 and what went wrong', async () => {
    const bad = await upload([files.logo2, '--route', 'logo', '--endpoint', page, '--token', 'nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.output, /error unauthenticated 401/);
    const route = await upload([files.logo2, '--route', 'menus', '--endpoint', page, '--token', token]);
    assert.match(route.output, /error route_not_found 404/);
    const missing = await upload([
      path.join(data, 'nope.png'),
      '--route',
      'logo',
      '--endpoint',
      page,
      '--token',
      token,
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.output, /nope\.png: not a readable file/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = await upload([
      files.logo2,
      '--route',
      'logo',
      '--endpoint',
      `http://127.0.0.1:${port}`,
      '--token',
      token,
    ]);
    assert.equal((down.output.match(/grant: network_error, retry \d/g) ?? []).length, 4, 'retried 4 times');
    assert.equal(down.code, 1);
    assert.match(down.output, /error network_error: POST \/v1\/grants: .*ECONNREFUSED/);
  });

  test('--resume with a gateway that grants POST: uploads as usual, nothing recorded (records are for multipart)', async () => {
    const r = await upload(
      [files.logo2, '--route', 'logo', '--endpoint', page, '--token', token, '--resume'],
      {
        CHUTE_DATA_DIR: data,
      },
    );
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /^up_\w+ pending_review /m);
    assert.equal(existsSync(path.join(data, 'uploads')), false);
  });

  test('usage errors: exit 2 (no file, no route, no token, bad --endpoint / --type)', () => {
    const cases: [string[], RegExp][] = [
      [['--route', 'logo', '--token', 't'], /name at least one FILE/],
      [[files.logo, '--token', 't'], /--route R is required/],
      [[files.logo, '--route', 'logo'], /a token is required: --token T or CHUTE_TOKEN/],
      [[files.logo, '--route', 'logo', '--token', 't', '--endpoint', 'ftp://x'], /--endpoint must be/],
      [[files.logo, '--route', 'logo', '--token', 't', '--type', 'png'], /--type must be a media type/],
    ];
    for (const [args, re] of cases) {
      const r = run(['upload', ...args], { env: { CHUTE_TOKEN: '' } });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });

  test('Ctrl-C while the gateway has not answered: aborts, says so, exit 130, promptly', async () => {
    const proxy = await startProxy(page);
    proxy.fault = (req) => (req.url === '/v1/grants' ? 'hang' : undefined);
    try {
      const p = start(['upload', files.logo, '--route', 'logo', '--endpoint', proxy.url, '--token', token]);
      await p.waitFor(/logo\.png: uploading/);
      for (let i = 0; i < 200 && !proxy.seen.includes('POST /v1/grants'); i++)
        await new Promise((r) => setTimeout(r, 25));
      assert.ok(proxy.seen.includes('POST /v1/grants'), 'the grant request reached the proxy');
      const code = await p.stop('SIGINT');
      assert.equal(code, 130, p.output());
      assert.match(p.output(), /SIGINT: aborting/);
      assert.match(p.output(), /logo\.png: aborted/);
    } finally {
      await proxy.close();
    }
  });
});

describe('chute upload, interrupted while storage has the request', () => {
  test('Ctrl-C during the PUT: exit 130, the upload named and left granted, nothing stored', async () => {
    const stack = await startStack('cli-abort');
    const dir = await mkdtemp(path.join(tmpdir(), 'chute-cli-abort-'));
    try {
      const file = await textFile(dir, 'notes.txt', 2_000_000);
      // Storage takes the PUT and never answers: the upload is in flight until interrupted.
      stack.storageProxy.fault = (req) => (req.method === 'PUT' ? 'hang' : undefined);
      const p = start(['upload', file.path, '--route', 'notes-put', '--endpoint', stack.gatewayUrl], {
        env: { CHUTE_TOKEN: stack.token },
      });
      for (let i = 0; i < 400 && !stack.storageProxy.seen.some((s) => s.startsWith('PUT ')); i++)
        await new Promise((r) => setTimeout(r, 25));
      assert.ok(
        stack.storageProxy.seen.some((s) => s.startsWith('PUT ')),
        p.output(),
      );
      assert.equal(await p.stop('SIGINT'), 130, p.output());
      const m = p.output().match(/notes\.txt: aborted \((up_\w+) left granted\)/);
      assert.ok(m, p.output());
      assert.equal((await stack.view(m[1]!)).state, 'granted');
      assert.equal(await stack.exists(`incoming/alice/${m[1]}`), false);
    } finally {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
