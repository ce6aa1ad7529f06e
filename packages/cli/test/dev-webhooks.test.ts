// `chute dev`'s webhook receiver, in-process: a real upload through the page's API reaches it,
// signed; it logs one line per delivery and shows the last ones at GET /dev/webhooks.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { png } from '../../gateway/test/helpers/images.ts';
import { startDev } from '../src/dev.ts';
import { devLog } from '../src/devlog.ts';

test('chute dev: the upload.verified of an upload arrives at the dev receiver, verified, logged, listed', async () => {
  const data = await mkdtemp(path.join(tmpdir(), 'chute-dev-webhooks-'));
  const lines: string[] = [];
  const dev = await startDev({
    dataDir: data,
    host: '127.0.0.1',
    port: 0,
    s3Port: 0,
    log: devLog((l) => lines.push(l)),
  });
  try {
    const api = dev.gatewayUrl;
    const { token } = (await (
      await fetch(`${api}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'alice' }),
      })
    ).json()) as { token: string };
    const bytes = png(20, 20);
    const grantRes = await fetch(`${api}/v1/grants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        route: 'logo',
        filename: 'l.png',
        contentType: 'image/png',
        size: bytes.length,
      }),
    });
    const grant = (await grantRes.json()) as { id: string; url: string; fields: Record<string, string> };
    const form = new FormData();
    for (const [k, v] of Object.entries(grant.fields)) form.append(k, v);
    form.append('file', new Blob([new Uint8Array(bytes)]), 'l.png');
    assert.equal((await fetch(grant.url, { method: 'POST', body: form })).status, 201);
    const done = await fetch(`${api}/v1/uploads/${grant.id}/complete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(((await done.json()) as { state: string }).state, 'pending_review');

    // The dispatcher is woken by the event: no interval to wait for, but the request is async.
    let listed: {
      id: string;
      type: string;
      uploadId: string;
      verified: boolean;
      body: { data: { id: string } };
    }[] = [];
    for (let i = 0; i < 100 && listed.length === 0; i++) {
      listed = ((await (await fetch(`${api}/dev/webhooks`)).json()) as { items: typeof listed }).items;
      if (listed.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.type, 'upload.verified');
    assert.equal(listed[0]?.uploadId, grant.id);
    assert.equal(listed[0]?.verified, true);
    assert.equal(listed[0]?.body.data.id, grant.id);
    assert.ok(
      lines.some((l) => new RegExp(`webhook upload\\.verified ${grant.id} ev_\\w{22} signature ok$`).test(l)),
      lines.join('\n'),
    );

    // Something posing as the gateway without the secret: refused (401) and shown as failed.
    const forged = await fetch(dev.webhooks.url, {
      method: 'POST',
      headers: {
        'webhook-id': 'ev_forged',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,AAAA',
      },
      body: JSON.stringify({ type: 'review.approved', data: { id: grant.id } }),
    });
    assert.equal(forged.status, 401);
    const { items } = (await (await fetch(`${api}/dev/webhooks`)).json()) as {
      items: { verified: boolean; body?: unknown }[];
    };
    assert.equal(items[0]?.verified, false);
    assert.equal(items[0]?.body, undefined);
    // The page is told where the log is (dev only).
    const page = (await (await fetch(`${api}/ui/config.json`)).json()) as { webhooks?: string };
    assert.equal(page.webhooks, '/dev/webhooks');
    assert.ok(lines.some((l) => / webhook review\.approved \S+ ev_forged signature failed$/.test(l)));
  } finally {
    await dev.close();
    await rm(data, { recursive: true, force: true });
  }
});
