// The review journey in a real browser (Debian's Chromium) against `chute dev` in-process: an
// owner uploads a logo, a reviewer sees it in the queue with its preview and approves it, the
// owner sees it published; a second upload is rejected with a reason; the history shows who did
// what; chute dev's webhook receiver shows review.approved, signature verified. Run with
// `npm run test:e2e`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Console, openConsole } from './console.ts';
import { logoPng } from './png.ts';

describe('review in the console (Chromium)', () => {
  let c: Console;
  let page: Console['page'];

  before(async () => {
    c = await openConsole('review');
    page = c.page;
  });
  after(async () => {
    await c?.close();
  });
  const problems = () => c.problems;
  const shoot = (name: string) => c.shoot(name);

  async function uploadAs(user: string, name: string, buffer: Buffer): Promise<string> {
    await page.selectOption('#user', user);
    await page.setInputFiles('#file', { name, mimeType: 'image/png', buffer });
    await page.click('#upload');
    await page.waitForSelector('#verdict:not([hidden]), #error:not([hidden])');
    assert.equal(
      await page.getAttribute('#state', 'data-state'),
      'pending_review',
      (await page.textContent('#error')) ?? '',
    );
    const id = /up_[0-9A-Za-z]{22}/.exec((await page.textContent('#details')) ?? '')?.[0];
    assert.ok(id);
    return id;
  }

  /** Selects a demo user and waits until the lists were loaded for them. */
  async function actAs(user: string) {
    await page.selectOption('#user', user);
    await page.waitForFunction(
      `document.querySelector('#uploads-list') && !document.querySelector('#uploads').hidden`,
    );
    await page.waitForTimeout(200);
  }

  test('an uploader sees no queue; the owner’s upload waits for review', async () => {
    const id = await uploadAs('alice', 'logo.png', logoPng(200, 120));
    await actAs('alice');
    assert.equal(await page.isHidden('#queue'), true);
    await page.waitForSelector(`#uploads-list li[data-id="${id}"][data-state="pending_review"]`);
  });

  test('the reviewer sees the queue with the image preview, approves, and the owner sees it published', async () => {
    const id = await uploadAs('bob', 'bob-logo.png', logoPng(160, 160));
    await actAs('rita');
    const card = `#queue-list li[data-id="${id}"]`;
    await page.waitForSelector(card);
    // The preview is a signed GET from storage that the browser actually decoded (CSP allows it).
    await page.waitForFunction(
      `(() => { const i = document.querySelector('${card} img.thumb'); return i && i.complete && i.naturalWidth === 160; })()`,
    );
    assert.match((await page.textContent(card)) ?? '', /bob · logo · image\/png · 160×160/);
    await shoot('chute-e2e-review-queue.png');
    await page.fill(`${card} input.note`, 'looks great');
    await page.click(`${card} button.approve`);
    await page.waitForSelector(card, { state: 'detached' });

    await actAs('bob');
    const mine = `#uploads-list li[data-id="${id}"][data-state="approved"]`;
    await page.waitForSelector(mine);
    assert.match((await page.textContent(mine)) ?? '', new RegExp(`published at published/logo/bob/${id}`));
    // The published copy downloads with the same bytes the owner sent.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click(`${mine} a:text("published file")`),
    ]);
    const { readFile } = await import('node:fs/promises');
    assert.deepEqual(await readFile(await download.path()), logoPng(160, 160));
    // Its history names each step and who took it.
    await page.click(`${mine} button:text("history")`);
    await page.waitForSelector(`${mine} ol.history li[data-action="published"]`);
    const history = (await page.textContent(`${mine} ol.history`)) ?? '';
    assert.match(history, /granted by bob \(uploader\)/);
    assert.match(history, /approved by rita \(reviewer\) “looks great”/);
    // chute dev's built-in receiver got review.approved for it, with a valid Standard Webhooks
    // signature (the receiver verifies it with the dev secret); the page lists it.
    const delivered = `#webhooks-list li[data-type="review.approved"][data-verified="true"]`;
    for (let i = 0; i < 50 && !(await page.$(`${delivered}:has-text("${id}")`)); i++) {
      await page.click('#refresh');
      await page.waitForTimeout(200);
    }
    assert.ok(await page.$(`${delivered}:has-text("${id}")`), (await page.textContent('#webhooks')) ?? '');
    await shoot('chute-e2e-review-published.png');
  });

  test('the reviewer rejects with one of the route’s reasons; the owner sees why', async () => {
    const id = await uploadAs('alice', 'blurry.png', logoPng(64, 64));
    await actAs('rita');
    const card = `#queue-list li[data-id="${id}"]`;
    await page.waitForSelector(card);
    const reasons = await page.$$eval(`${card} select.reason option`, (os) =>
      os.map((o) => o.getAttribute('value')),
    );
    assert.deepEqual(reasons, ['inappropriate', 'low_quality', 'wrong_subject', 'other']);
    await page.selectOption(`${card} select.reason`, 'low_quality');
    await page.fill(`${card} input.note`, 'too small');
    await page.click(`${card} button.reject`);
    await page.waitForSelector(card, { state: 'detached' });
    await actAs('alice');
    const mine = `#uploads-list li[data-id="${id}"][data-state="rejected"]`;
    await page.waitForSelector(mine);
    assert.match((await page.textContent(mine)) ?? '', /rejected: low_quality “too small”/);
  });

  test('the owner withdraws an upload waiting for review', async () => {
    const id = await uploadAs('alice', 'oops.png', logoPng(32, 32));
    await actAs('alice');
    const mine = `#uploads-list li[data-id="${id}"]`;
    await page.click(`${mine} button.withdraw`);
    await page.waitForSelector(`${mine}[data-state="withdrawn"]`);
  });

  test('no script errors and no CSP violations on the way', () => {
    assert.deepEqual(problems(), []);
  });
});
