// The upload page in a real browser (Debian's Chromium): `chute dev` in-process on free ports,
// a demo user picks a file, the browser uploads it straight to the embedded store by POST grant,
// the page completes it and shows the verdict. Run with `npm run test:e2e`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createGateway, devConfig, mintToken, prepareBucket, silentLogger } from '@chute/gateway';
import { type Console, openConsole } from './console.ts';
import { logoPng } from './png.ts';

describe('the upload page (Chromium)', () => {
  let c: Console;
  let dataDir: string;
  let dev: Console['dev'];
  let browser: Console['browser'];
  let page: Console['page'];

  before(async () => {
    // The refusal tests' 415 (gateway) and 403 (storage) are expected errors; nothing else is.
    c = await openConsole('page', /status of (415|403)/);
    ({ dataDir, dev, browser, page } = c);
  });
  after(async () => {
    await c?.close();
  });
  const problems = () => c.problems;
  const shoot = (name: string) => c.shoot(name);

  async function uploadFile(file: { name: string; mimeType: string; buffer: Buffer }) {
    await page.selectOption('#user', 'alice');
    await page.setInputFiles('#file', file);
    await page.click('#upload');
    await page.waitForSelector('#verdict:not([hidden]), #error:not([hidden])');
  }

  test('serves a strict CSP, the demo users and the logo route', async () => {
    const res = await fetch(`${dev.gatewayUrl}/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, new RegExp(`connect-src 'self' ${dev.storeUrl}`));
    const users = await page.$$eval('#user option', (os) => os.map((o) => o.getAttribute('value')));
    assert.deepEqual(users, ['alice', 'bob', 'rita', 'root']);
    assert.equal(await page.inputValue('#route'), 'logo');
    assert.match((await page.textContent('#route-hint')) ?? '', /image\/png.*20 MB.*4096×4096/);
  });

  test('a real PNG logo: progress reaches 100%, the verdict is pending_review with a download link', async () => {
    const png = logoPng(256, 256, 3_000_000); // 3 MB: several progress events on the way
    const seen: number[] = [];
    await page.exposeFunction('chuteProgress', (v: number) => seen.push(v));
    // Every value the percentage shows on the way (a string: this suite has no DOM types).
    await page.evaluate(`
      new MutationObserver(() => window.chuteProgress(parseInt(document.getElementById('percent').textContent)))
        .observe(document.getElementById('percent'), { childList: true, characterData: true, subtree: true });
    `);
    await uploadFile({ name: 'logo.png', mimeType: 'image/png', buffer: png });
    assert.equal(await page.isHidden('#error'), true, (await page.textContent('#error')) ?? '');
    assert.equal(await page.getAttribute('#state', 'data-state'), 'pending_review');
    assert.equal(await page.$eval('#progress', (p) => (p as unknown as { value: number }).value), 100);
    assert.equal(await page.textContent('#percent'), '100%');
    assert.equal(seen.at(-1), 100, `progress seen: ${seen.join(',')}`);
    const details = (await page.textContent('#details')) ?? '';
    assert.match(details, /up_[0-9A-Za-z]{22}/);
    assert.match(details, /image\/png, 256×256/);
    assert.ok(await page.isVisible('#details a:text("download")'));
    await shoot('chute-e2e-page.png');

    // The download link fetches a signed URL (Bearer auth) and goes there: the same bytes come back.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#details a')]);
    const path = await download.path();
    const { readFile } = await import('node:fs/promises');
    assert.deepEqual(await readFile(path), png);
  });

  test('a spoofed file (HTML named logo.png, declared image/png) → rejected, type_mismatch', async () => {
    const html = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>\n');
    await uploadFile({ name: 'logo.png', mimeType: 'image/png', buffer: html });
    assert.equal(await page.getAttribute('#state', 'data-state'), 'rejected');
    assert.match((await page.textContent('#details')) ?? '', /type_mismatch/);
    assert.equal(await page.isVisible('#details a'), false);
    await shoot('chute-e2e-page-rejected.png');
  });

  test('a type the route refuses is shown as the gateway’s error, readably', async () => {
    await uploadFile({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello\n') });
    const text = (await page.textContent('#error')) ?? '';
    assert.match(text, /Gateway: type_not_allowed/);
    assert.match(text, /request id \w+/);
    assert.equal(await page.isHidden('#verdict'), true);
  });

  test('storage’s refusal (a tampered signature) is shown with S3’s Code and Message', async () => {
    // Not a mock: the real request goes to the real store, with one byte of the signature changed.
    await page.route(`${dev.storeUrl}/**`, (route) => {
      const req = route.request();
      const body = req.postDataBuffer();
      if (req.method() !== 'POST' || body === null) return route.continue();
      const tampered = body
        .toString('latin1')
        .replace(
          /(name="x-amz-signature"\r\n\r\n[0-9a-f]{63})([0-9a-f])/i,
          (_, head: string, last: string) => `${head}${last === '0' ? '1' : '0'}`,
        );
      assert.notEqual(tampered, body.toString('latin1'), 'the form has an x-amz-signature field');
      return route.continue({ postData: Buffer.from(tampered, 'latin1') });
    });
    try {
      await uploadFile({ name: 'logo.png', mimeType: 'image/png', buffer: logoPng(32, 32) });
      const text = (await page.textContent('#error')) ?? '';
      assert.match(text, /Storage: SignatureDoesNotMatch/);
      assert.match(text, /signature we calculated does not match/i);
      await shoot('chute-e2e-page-storage-error.png');
      assert.equal(await page.isHidden('#verdict'), true);
    } finally {
      await page.unroute(`${dev.storeUrl}/**`);
    }
  });

  test('outside dev mode: no demo users; the page uploads with a pasted bearer token', async () => {
    // A second gateway on the same store and database, as `chute serve` runs it (no demo users).
    const config = devConfig({
      storage: dev.config.storage,
      dataDir,
      jwtSecret: dev.config.auth.jwt!.secret!,
      port: 0,
    });
    const served = await createGateway(config, { logger: silentLogger(), sweep: false });
    const other = await browser.context.newPage();
    try {
      const { url } = await served.listen();
      await prepareBucket(config.storage, { corsOrigins: [dev.gatewayUrl, url] });
      await other.goto(`${url}/`);
      await other.waitForSelector('body[data-ready="true"]');
      assert.equal(await other.isHidden('#who-demo'), true);
      assert.equal((await other.request.post(`${url}/dev/token`, { data: { user: 'alice' } })).status(), 404);
      const token = await mintToken({ user: 'bob', secret: dev.config.auth.jwt!.secret! });
      await other.fill('#token', `Bearer ${token}`);
      await other.setInputFiles('#file', { name: 'b.png', mimeType: 'image/png', buffer: logoPng(64, 48) });
      await other.click('#upload');
      await other.waitForSelector('#verdict:not([hidden]), #error:not([hidden])');
      assert.equal(await other.getAttribute('#state', 'data-state'), 'pending_review');
      assert.match((await other.textContent('#details')) ?? '', /image\/png, 64×48/);
    } finally {
      await other.close();
      await served.close();
    }
  });

  test('no script errors and no CSP violations on the way', () => {
    assert.deepEqual(problems(), []);
  });
});
