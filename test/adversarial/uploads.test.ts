// Adversarial: what a client uploads with a valid grant, against `chute dev` over real HTTP.
// Tried: one byte more and one byte less than granted; an HTML page sent as image/png; a form
// whose Content-Type field says otherwise; metadata naming another upload; an extra uncovered
// field (success_action_redirect: an open redirect); a re-upload with the same grant after
// complete; a PUT to a POST grant's key; file names with CR/LF, quotes, NUL and non-ASCII, at
// the grant and as the multipart part's filename.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HTML, png } from '../../packages/gateway/test/helpers/images.ts';
import { grant, postForm, type Stack, startStack } from './helpers.ts';

let stack: Stack;
let alice: string;
before(async () => {
  stack = await startStack();
  alice = stack.token('alice');
});
after(() => stack.close());

const image = png(64, 48, 2000);
const logo = (size = image.length, filename = 'logo.png') => ({
  route: 'logo',
  filename,
  contentType: 'image/png',
  size,
});

async function complete(id: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await stack.api(`/v1/uploads/${id}/complete`, { method: 'POST', token: alice });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** What the store holds at a key, through the gateway's own view: HEAD with the dev user. */
async function stored(key: string): Promise<number> {
  const { S3Client, HeadObjectCommand } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client({
    endpoint: stack.store,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: stack.dev.config.storage.accessKeyId,
      secretAccessKey: stack.dev.config.storage.secretAccessKey,
    },
  });
  try {
    await s3.send(new HeadObjectCommand({ Bucket: stack.dev.bucket, Key: key }));
    return 200;
  } catch (e) {
    return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  } finally {
    s3.destroy();
  }
}

describe('adversarial: oversize and spoofed uploads', () => {
  test('one byte more, or one less, than granted: refused by the store, nothing stored, complete says conflict', async () => {
    for (const [bytes, code] of [
      [Buffer.concat([image, Buffer.from('x')]), 'EntityTooLarge'],
      [image.subarray(0, image.length - 1), 'EntityTooSmall'],
    ] as const) {
      const g = await grant(stack, alice, logo());
      const res = await postForm(g, bytes);
      assert.equal(res.status, 400);
      assert.match(await res.text(), new RegExp(`<Code>${code}</Code>`));
      assert.equal(await stored(g.key), 404);
      const done = await complete(g.id);
      assert.equal(done.status, 409);
      // The grant is still good for the bytes it names.
      assert.equal((await postForm(g, image)).status, 201);
      assert.equal((await complete(g.id)).body.state, 'pending_review');
    }
  });

  test('an HTML page declared and sent as image/png: stored, then rejected at complete and deleted', async () => {
    const g = await grant(stack, alice, logo(HTML.length));
    assert.equal((await postForm(g, HTML)).status, 201);
    const done = await complete(g.id);
    assert.deepEqual([done.body.state, done.body.reason], ['rejected', 'type_mismatch']);
    assert.equal(await stored(g.key), 404);
  });

  for (const [name, override] of [
    ['a Content-Type field of text/html', { 'Content-Type': 'text/html' }],
    ['metadata naming another upload', { 'x-amz-meta-upload-id': 'up_0000000000000000000000' }],
    ['metadata naming another user', { 'x-amz-meta-user-id': 'bob' }],
    [
      'success_action_redirect (uncovered: an open redirect)',
      { success_action_redirect: 'https://evil.example/' },
    ],
    ['an ACL making the object public', { acl: 'public-read' }],
  ] as const) {
    test(`a form with ${name}: 403 from the store, nothing stored`, async () => {
      const g = await grant(stack, alice, logo());
      const res = await postForm(g, image, override);
      assert.equal(res.status, 403, await res.clone().text());
      assert.equal(await stored(g.key), 404);
    });
  }

  test("a PUT to a POST grant's key without a signature is refused", async () => {
    const g = await grant(stack, alice, logo());
    const res = await fetch(`${stack.store}/${stack.dev.bucket}/${g.key}`, {
      method: 'PUT',
      body: new Uint8Array(image),
    });
    assert.equal(res.status, 403);
  });
});

describe('adversarial: re-upload after complete', () => {
  test('the same grant used again after complete changes nothing that was frozen', async () => {
    const g = await grant(stack, alice, logo());
    assert.equal((await postForm(g, image)).status, 201);
    const first = await complete(g.id);
    assert.equal(first.body.state, 'pending_review');
    // Same size, other bytes: the policy allows it until it expires; the frozen copy must not move.
    const other = png(32, 32, image.length);
    const again = await postForm(g, other);
    assert.ok(again.status === 201 || again.status === 403, String(again.status));
    const second = await complete(g.id);
    assert.deepEqual(second.body, first.body, 'complete is idempotent');
    const link = await stack.api(`/v1/files/${g.id}/download`, {
      token: stack.token('rita', { roles: ['reviewer'] }),
      headers: { accept: 'application/json' },
    });
    assert.equal(link.status, 200);
    const { url } = (await link.json()) as { url: string };
    const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
    assert.ok(bytes.equals(image), 'the frozen file changed after a re-upload');
  });
});

describe('adversarial: header injection in file names', () => {
  // Control characters are refused at the grant ("a name without a path or control
  // characters"); every other name is kept as data and never reaches a header raw.
  const NAMES: [string, 'refused' | 'kept'][] = [
    ['evil\r\nSet-Cookie: pwned=1.png', 'refused'],
    ['nul\u0000.png', 'refused'],
    ['a"; filename="evil.exe.png', 'kept'],
    ['ünï "quoted" %41;,.png', 'kept'],
    ['\u202Egnp.exe', 'kept'],
  ];

  for (const [filename, fate] of NAMES) {
    test(`file name ${JSON.stringify(filename)}: ${fate}, and no header carries it raw`, async () => {
      const res = await stack.api('/v1/grants', { token: alice, json: logo(image.length, filename) });
      if (fate === 'refused') {
        assert.equal(res.status, 400);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_request');
        return;
      }
      assert.equal(res.status, 201, await res.clone().text());
      for (const [k, v] of res.headers) assert.ok(!/[\r\n]/.test(v) && k !== 'set-cookie', `${k}: ${v}`);
      const g = (await res.json()) as Awaited<ReturnType<typeof grant>>;
      for (const v of Object.values(g.fields ?? {}))
        assert.ok(!v.includes(filename), `the file name went into a form field: ${v}`);
      // The multipart part's own filename carries the same name.
      const up = await postForm(g, image, {}, filename);
      assert.equal(up.status, 201);
      for (const [k, v] of up.headers) assert.ok(!/[\r\n]/.test(v) && k !== 'set-cookie', `${k}: ${v}`);
      assert.equal((await complete(g.id)).body.state, 'pending_review');
      const view = (await (await stack.api(`/v1/uploads/${g.id}`, { token: alice })).json()) as {
        filename: string;
      };
      assert.equal(view.filename, filename);
      // The download is an attachment whose name is escaped (RFC 6266/8187), never a raw header.
      const link = await stack.api(`/v1/files/${g.id}/download`, {
        token: alice,
        headers: { accept: 'application/json' },
      });
      const { url } = (await link.json()) as { url: string };
      const file = await fetch(url);
      assert.equal(file.status, 200);
      const disposition = file.headers.get('content-disposition') ?? '';
      assert.match(
        disposition,
        /^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%._~!$&+,;=:@`^{}|#-]*$/,
      );
      assert.equal(file.headers.get('set-cookie'), null);
      await file.arrayBuffer();
    });
  }
});
