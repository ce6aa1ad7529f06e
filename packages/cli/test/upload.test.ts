// `chute upload` as a user runs it: a real process against a real `chute dev` (port 0).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
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

describe('chute upload --resume, interrupted mid-multipart', () => {
  // A real `chute dev` (its store's request lines count the parts) and a real client process,
  // killed with SIGKILL (no cleanup runs) or interrupted with SIGINT, then run again.
  // Bad inputs: --concurrency 0, x, 1.5, 65.
  let data: string;
  let dev: Running;
  let page: string;
  let token: string;
  let records: string;

  before(async () => {
    data = await mkdtemp(path.join(tmpdir(), 'chute-cli-resume-'));
    records = path.join(data, 'uploads');
    dev = start(['dev', '--port', '0', '--s3-port', '0', '--data', data]);
    [, page] = (await dev.waitFor(/Page +(http:\/\/127\.0\.0\.1:\d+)\//)) as [string, string];
    const t = run(['token', '--user', 'alice', '--data', data]);
    assert.equal(t.status, 0, t.stderr);
    token = t.stdout.trim();
  });
  after(async () => {
    await dev?.stop();
    await rm(data, { recursive: true, force: true });
  });

  const api = async (p: string) =>
    (await (await fetch(`${page}${p}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      state?: string;
      parts?: { number: number }[];
    };
  const partLines = (from: number) =>
    (
      dev
        .output()
        .slice(from)
        .match(/storage PUT +\/chute\/incoming\/alice\/up_\w+ 200 \d+ms UploadPart/g) ?? []
    ).length;

  /** A 40 MiB file of no known format (declared application/octet-stream: the video route takes it). */
  async function bigFile(name: string) {
    const file = path.join(data, name);
    const bytes = Buffer.concat([Buffer.from('CHUTE-TEST-BIN\n'), randomBytes(40 * 2 ** 20)]);
    await writeFile(file, bytes);
    return {
      file,
      bytes,
      args: [file, '--route', 'video', '--endpoint', page, '--token', token, '--resume'],
    };
  }

  /** `chute upload ARGS --concurrency 1`, running until storage holds a part of its upload. */
  async function startUntilAPart(args: string[]) {
    const child = start(['upload', ...args, '--concurrency', '1'], { env: { CHUTE_DATA_DIR: data } });
    let id: string | undefined;
    for (let i = 0; i < 2000 && id === undefined; i++) {
      const names = existsSync(records) ? readdirSync(records).filter((n) => n.endsWith('.json')) : [];
      if (names.length === 1)
        id = (JSON.parse(readFileSync(path.join(records, names[0]!), 'utf8')) as { id: string }).id;
      else await sleep(5);
    }
    assert.ok(id, `a resume record was written: ${child.output()}`);
    for (let i = 0; i < 4000; i++) {
      if (((await api(`/v1/uploads/${id}/parts`)).parts?.length ?? 0) > 0) break;
      await sleep(2);
    }
    return { child, id };
  }

  test('SIGKILL after a part, then --resume: only the missing parts sent, the same upload, verified, MD5 equal', async () => {
    const { bytes, args } = await bigFile('big.bin');
    const { child, id } = await startUntilAPart(args);
    assert.equal(await child.stop('SIGKILL'), null, 'killed, not exited');
    const held = (await api(`/v1/uploads/${id}/parts`)).parts!.length;
    assert.ok(held >= 1 && held < 3, `parts held when killed: ${held} of 3`);
    assert.equal((await api(`/v1/uploads/${id}`)).state, 'granted');

    const mark = dev.output().length;
    const second = await upload(args, { CHUTE_DATA_DIR: data });
    assert.equal(second.code, 0, second.output);
    assert.match(second.output, new RegExp(`^${id} verified `, 'm'), 'the same upload, continued');
    await sleep(200); // the store logs a request when its socket closes
    assert.equal(
      partLines(mark),
      3 - held,
      `parts sent on resume (held ${held})\n${dev.output().slice(mark)}`,
    );
    assert.deepEqual(readdirSync(records), [], 'the record is gone once done');

    // The frozen file is the file: its MD5 through the gateway's download link.
    const link = (await (
      await fetch(`${page}/v1/files/${id}/download`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      })
    ).json()) as { url: string };
    const got = await fetch(link.url);
    const md5 = createHash('md5');
    for await (const chunk of got.body!) md5.update(chunk);
    assert.equal(md5.digest('hex'), createHash('md5').update(bytes).digest('hex'));
  });

  test('Ctrl-C with --resume keeps the multipart upload (exit 130, says so); --resume continues it', async () => {
    const { args } = await bigFile('big2.bin');
    const { child, id } = await startUntilAPart(args);
    const stopping = Date.now();
    assert.equal(await child.stop('SIGINT'), 130, child.output());
    // Not a performance figure: a stall timer (30 s) left armed after the abort held the process
    // open that long (late write callbacks re-armed it); it must exit as soon as it stopped.
    assert.ok(Date.now() - stopping < 10_000, `exited ${Date.now() - stopping} ms after SIGINT`);
    assert.match(child.output(), new RegExp(`aborted \\(${id} kept: run again with --resume`));
    assert.equal((await api(`/v1/uploads/${id}`)).state, 'granted');
    assert.equal(readdirSync(records).length, 1, 'still remembered');
    const second = await upload(args, { CHUTE_DATA_DIR: data });
    assert.equal(second.code, 0, second.output);
    assert.match(second.output, new RegExp(`^${id} verified `, 'm'));
  });

  test('--concurrency must be a whole number 1–64', () => {
    for (const bad of ['0', 'x', '1.5', '65']) {
      const r = run(['upload', 'f', '--route', 'video', '--token', 't', '--concurrency', bad]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /--concurrency must be a whole number 1–64/);
    }
  });
});
