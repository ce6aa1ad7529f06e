// The no-JS form in a real browser with JavaScript disabled (Chromium, javaScriptEnabled: false):
// `chute dev` in-process, the app's backend (this test) asks POST /v1/forms for alice's link, the
// browser opens it, picks a file and submits the plain <form> — straight to the embedded store,
// whose 303 brings it back to /form/done, which completes the upload and shows the result.
// Tried: a real PNG (pending review), HTML named .png (refused, shown readably), the used link
// opened again (refused). Run with `npm run test:e2e`.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mintToken } from '@chute/gateway';
import type { Page } from 'playwright-core';
import { type DevServer, startDev } from '../../packages/cli/src/dev.ts';
import { launchChromium } from './browser.ts';
import { logoPng } from './png.ts';

describe('the no-JS form (Chromium, JavaScript off)', () => {
  let dataDir: string;
  let dev: DevServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'chute-e2e-form-'));
    dev = await startDev({ dataDir, host: '127.0.0.1', port: 0, s3Port: 0 });
    browser = await launchChromium({ javaScript: false });
    page = await browser.context.newPage();
    page.on('console', (m) => {
      // The replay's 409 is expected; anything else (a CSP refusal of the form's redirect chain) is not.
      if (m.type() === 'error' && !/status of 409/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
  });
  after(async () => {
    await browser?.close();
    await dev?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function formLink(): Promise<string> {
    const token = await mintToken({ user: 'alice', role: 'uploader', secret: dev.config.auth.jwt!.secret! });
    const res = await fetch(`${dev.gatewayUrl}/v1/forms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'logo' }),
    });
    assert.equal(res.status, 201);
    return ((await res.json()) as { url: string }).url;
  }

  async function submitFile(
    url: string,
    file: { name: string; mimeType: string; buffer: Buffer },
    type: string,
  ) {
    const res = await page.goto(url);
    assert.equal(res?.status(), 200);
    assert.equal(await page.locator('script').count(), 0, 'no script on the page');
    await page.selectOption('select[name="Content-Type"]', type);
    await page.setInputFiles('input[type=file]', file);
    await Promise.all([page.waitForURL(/\/form\/done\//), page.click('button[type=submit]')]);
  }

  test('a PNG: uploaded with a real form submit, verified, waiting for review', async () => {
    const url = await formLink();
    await submitFile(
      url,
      { name: 'logo.png', mimeType: 'image/png', buffer: logoPng(128, 128, 50_000) },
      'image/png',
    );
    assert.equal(await page.textContent('h1'), 'Uploaded');
    assert.match((await page.textContent('body')) ?? '', /waiting for review/);
    const id = new URL(page.url()).pathname.split('/')[3]; // /form/done/{id}/…
    const token = await mintToken({ user: 'alice', role: 'uploader', secret: dev.config.auth.jwt!.secret! });
    const got = await fetch(`${dev.gatewayUrl}/v1/uploads/${id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(((await got.json()) as { state: string }).state, 'pending_review');

    // The same redirect again (reload): refused, showing the recorded outcome.
    const again = await page.reload();
    assert.equal(again?.status(), 409);
    assert.match((await page.textContent('body')) ?? '', /already used/);
    const form = await page.goto(url);
    assert.equal(form?.status(), 409);
    assert.deepEqual(problems, []);
  });

  test('HTML named logo.png: refused, and the page says why', async () => {
    const html = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');
    await submitFile(
      await formLink(),
      { name: 'logo.png', mimeType: 'image/png', buffer: html },
      'image/png',
    );
    assert.equal(await page.textContent('h1'), 'File refused');
    assert.match((await page.textContent('body')) ?? '', /not of the type chosen/);
  });
});
