import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { signPostPolicy } from '@chute/sigv4';
import {
  ACCESS_KEY,
  postForm,
  postRaw,
  RAW_BOUNDARY,
  REGION,
  type Running,
  rawForm,
  SECRET,
  s3Error,
  signedFields,
  signedFieldsV2,
  signPolicy,
  startStore,
} from './post-support.ts';

// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's form variable, literally.
const FILENAME = '${filename}';

let env: Running;
let url: string;

before(async () => {
  env = await startStore(['forms', 'public']);
  url = `${env.url}/forms`;
  await env.store.backend.updateBucket('public', { acl: 'public-read-write' });
});
after(() => env.stop());

const md5 = (s: string | Uint8Array) => createHash('md5').update(s).digest('hex');

async function stored(key: string, bucket = 'forms') {
  const meta = env.store.backend.headObject(bucket, key);
  if (!meta) return undefined;
  const handle = await env.store.backend.openObject(bucket, key);
  const chunks: Buffer[] = [];
  for await (const c of handle!.stream(0, meta.size - 1)) chunks.push(c as Buffer);
  await handle!.close();
  return { meta, body: Buffer.concat(chunks).toString() };
}

/** A valid signed form for `key` with the given extra conditions and fields. */
function form(
  key: string,
  conditions: unknown[] = [],
  fields: Record<string, string> = {},
): Record<string, string> {
  return { key, ...fields, ...signedFields({ conditions: [{ key }, ...conditions] }) };
}

describe('POST Object: signed forms', () => {
  test('a form from the AWS SDK (createPresignedPost), sent like a browser: 204, stored', async () => {
    const { url: action, fields } = await createPresignedPost(env.s3, {
      Bucket: 'forms',
      Key: `sdk/${FILENAME}`,
      Conditions: [
        ['content-length-range', 1, 1024],
        ['starts-with', '$Content-Type', 'text/'],
      ],
      Fields: { 'Content-Type': 'text/plain' },
      Expires: 300,
    });
    const res = await postForm(action, fields, { content: 'hello from a browser', filename: 'hello.txt' });
    assert.equal(res.status, 204, await res.clone().text());
    assert.equal(res.headers.get('etag'), `"${md5('hello from a browser')}"`);
    assert.equal(res.headers.get('location'), `${env.url}/forms/sdk%2Fhello.txt`);
    const obj = await stored('sdk/hello.txt');
    assert.equal(obj?.body, 'hello from a browser');
    assert.equal(obj?.meta.contentType, 'text/plain');
  });

  test('a form from @chute/sigv4 signPostPolicy, virtual-host style is not needed: 204', async () => {
    const { url: action, fields } = signPostPolicy({
      endpoint: env.url,
      bucket: 'forms',
      key: 'chute/signed.txt',
      region: REGION,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
      conditions: [['content-length-range', 0, 100]],
    });
    const res = await postForm(action, fields, { content: 'x' });
    assert.equal(res.status, 204, await res.clone().text());
    assert.ok(await stored('chute/signed.txt'));
  });

  test('SigV2 forms (AWSAccessKeyId, signature) are accepted', async () => {
    const fields = { key: 'v2/a.txt', ...signedFieldsV2([{ key: 'v2/a.txt' }]) };
    const res = await postForm(url, fields, { content: 'v2' });
    assert.equal(res.status, 204, await res.clone().text());
    assert.equal((await stored('v2/a.txt'))?.body, 'v2');
  });

  test('tampered signature: 403 SignatureDoesNotMatch, nothing stored', async () => {
    const fields = form('t/sig.txt');
    const sig = fields['X-Amz-Signature']!;
    fields['X-Amz-Signature'] = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
    const res = await postForm(url, fields, { content: 'x' });
    assert.equal(res.status, 403);
    assert.equal((await s3Error(res)).Code, 'SignatureDoesNotMatch');
    assert.equal(await stored('t/sig.txt'), undefined);
  });

  test('tampered policy (re-encoded after signing): 403 SignatureDoesNotMatch before any parsing', async () => {
    const fields = form('t/policy.txt', [['content-length-range', 0, 10]]);
    const doc = JSON.parse(Buffer.from(fields.Policy!, 'base64').toString());
    doc.conditions = doc.conditions.filter((c: unknown) => !Array.isArray(c));
    fields.Policy = Buffer.from(JSON.stringify(doc)).toString('base64');
    const res = await postForm(url, fields, { content: 'a'.repeat(100) });
    assert.equal(res.status, 403);
    assert.equal((await s3Error(res)).Code, 'SignatureDoesNotMatch');
  });

  test('a signed policy that is not JSON: 400 InvalidPolicyDocument', async () => {
    const base = form('t/json.txt');
    const day = base['X-Amz-Date']!.slice(0, 8);
    const policy = Buffer.from('{"expiration": ').toString('base64');
    const res = await postForm(
      url,
      { ...base, Policy: policy, 'X-Amz-Signature': signPolicy(policy, day) },
      { content: 'x' },
    );
    assert.equal(res.status, 400);
    assert.deepEqual(await s3Error(res).then((e) => [e.Code, e.Message]), [
      'InvalidPolicyDocument',
      'Invalid Policy: Invalid JSON.',
    ]);
  });

  test('expired policy: 403 AccessDenied "Policy expired."', async () => {
    const fields = {
      key: 't/old.txt',
      ...signedFields({ conditions: [{ key: 't/old.txt' }], expiresIn: -60 }),
    };
    const res = await postForm(url, fields, { content: 'x' });
    assert.equal(res.status, 403);
    const err = await s3Error(res);
    assert.deepEqual(
      [err.Code, err.Message],
      ['AccessDenied', 'Invalid according to Policy: Policy expired.'],
    );
  });

  test('size over the range: 400 EntityTooLarge with ProposedSize and MaxSizeAllowed, nothing stored', async () => {
    const res = await postForm(url, form('t/big.txt', [['content-length-range', 5, 10]]), {
      content: '123456789012',
    });
    assert.equal(res.status, 400);
    const err = await s3Error(res);
    assert.deepEqual([err.Code, err.ProposedSize, err.MaxSizeAllowed], ['EntityTooLarge', '12', '10']);
    assert.equal(await stored('t/big.txt'), undefined);
  });

  test('size under the range: 400 EntityTooSmall; the bounds themselves are inclusive', async () => {
    const small = await postForm(url, form('t/small.txt', [['content-length-range', 5, 10]]), {
      content: '1',
    });
    assert.equal(small.status, 400);
    const err = await s3Error(small);
    assert.deepEqual([err.Code, err.ProposedSize, err.MinSizeAllowed], ['EntityTooSmall', '1', '5']);
    assert.equal(await stored('t/small.txt'), undefined);
    for (const content of ['12345', '1234567890']) {
      const res = await postForm(url, form('t/edge.txt', [['content-length-range', 5, 10]]), { content });
      assert.equal(res.status, 204, content);
    }
  });

  test('a file far over the limit is cut off: refused, nothing stored, no blob left behind', async () => {
    const blobs = join(env.store.config.dataDir, 'buckets', 'forms', 'blobs');
    // A blob an earlier test's overwrite replaced may still be being unlinked: wait for it first.
    await env.store.backend.released();
    const before = (await readdir(blobs)).sort();
    const big = new Uint8Array(3 * 1024 * 1024).fill(97);
    const res = await postForm(url, form('t/huge.bin', [['content-length-range', 0, 1024]]), {
      content: big,
    });
    assert.equal(res.status, 400);
    const err = await s3Error(res);
    assert.equal(err.Code, 'EntityTooLarge');
    assert.equal(err.MaxSizeAllowed, '1024');
    assert.equal(err.ProposedSize, String(big.length));
    assert.equal(await stored('t/huge.bin'), undefined);
    // The blob was aborted: no file of it survives the refusal.
    assert.deepEqual((await readdir(blobs)).sort(), before);
  });

  test('a client that hangs up mid-file leaves nothing behind', async () => {
    const blobs = join(env.store.config.dataDir, 'buckets', 'forms', 'blobs');
    // A blob an earlier test's overwrite replaced may still be being unlinked: wait for it first.
    await env.store.backend.released();
    const before = (await readdir(blobs)).sort();
    const head = rawForm([
      { name: 'key', value: 't/cut.bin' },
      ...Object.entries(signedFields({ conditions: [{ key: 't/cut.bin' }] })).map(([name, value]) => ({
        name,
        value,
      })),
    ]).subarray(0, -(RAW_BOUNDARY.length + 6));
    const fileHead = `--${RAW_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n\r\n`;
    const { hostname, port } = new URL(env.url);
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: hostname,
        port,
        path: '/forms',
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${RAW_BOUNDARY}`,
          'content-length': 10 * 1024 * 1024,
        },
      });
      req.on('error', () => resolve());
      req.write(head);
      req.write(fileHead);
      req.write(Buffer.alloc(256 * 1024, 1), () => setTimeout(() => req.destroy(), 50));
    });
    for (let i = 0; i < 50 && (await readdir(blobs)).length !== before.length; i++) await sleep(20);
    assert.deepEqual((await readdir(blobs)).sort(), before);
    assert.equal(await stored('t/cut.bin'), undefined);
  });

  test('key outside the policy prefix: 403 AccessDenied naming the condition', async () => {
    const fields = {
      key: 'elsewhere/x.txt',
      ...signedFields({ conditions: [['starts-with', '$key', 'user/1/']] }),
    };
    const res = await postForm(url, fields, { content: 'x' });
    assert.equal(res.status, 403);
    const err = await s3Error(res);
    assert.equal(err.Code, 'AccessDenied');
    assert.equal(
      err.Message,
      'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/1/"]',
    );
  });

  test('Content-Type prefix: image/png passes image/, text/html does not; the field sets the object type', async () => {
    const cond = [['starts-with', '$Content-Type', 'image/']];
    const ok = await postForm(url, form('t/img.png', cond, { 'Content-Type': 'image/png' }), {
      content: 'png',
      type: 'text/plain',
    });
    assert.equal(ok.status, 204);
    assert.equal((await stored('t/img.png'))?.meta.contentType, 'image/png');
    const bad = await postForm(url, form('t/page.html', cond, { 'Content-Type': 'text/html' }), {
      content: '<p>',
    });
    assert.equal(bad.status, 403);
    assert.match(
      (await s3Error(bad)).Message!,
      /Policy Condition failed: \["starts-with", "\$Content-Type", "image\/"\]/,
    );
  });

  test('without a Content-Type field the object is binary/octet-stream, whatever the part says', async () => {
    const res = await postForm(url, form('t/untyped'), { content: 'x', type: 'image/png' });
    assert.equal(res.status, 204);
    assert.equal((await stored('t/untyped'))?.meta.contentType, 'binary/octet-stream');
  });

  test('metadata must equal the policy value; it is stored lowercased', async () => {
    const cond = [{ 'x-amz-meta-owner': 'u-1' }];
    const ok = await postForm(url, form('t/meta.txt', cond, { 'X-Amz-Meta-Owner': 'u-1' }), { content: 'm' });
    assert.equal(ok.status, 204);
    assert.deepEqual((await stored('t/meta.txt'))?.meta.userMeta, { owner: 'u-1' });
    const bad = await postForm(url, form('t/meta2.txt', cond, { 'x-amz-meta-owner': 'u-2' }), {
      content: 'm',
    });
    assert.equal(bad.status, 403);
    assert.match(
      (await s3Error(bad)).Message!,
      /Policy Condition failed: \["eq", "\$x-amz-meta-owner", "u-1"\]/,
    );
  });

  test('UTF-8 metadata from a form is kept mail-safe and readable with GetObject', async () => {
    const cond = [{ 'x-amz-meta-title': 'Café Ünïcode' }];
    const res = await postForm(url, form('t/utf8.txt', cond, { 'x-amz-meta-title': 'Café Ünïcode' }), {
      content: 'u',
    });
    assert.equal(res.status, 204, await res.clone().text());
    const got = await env.s3.send(new GetObjectCommand({ Bucket: 'forms', Key: 't/utf8.txt' }));
    assert.equal(got.Metadata?.title, '=?UTF-8?Q?Caf=C3=A9_=C3=9Cn=C3=AFcode?=');
    assert.equal(await got.Body?.transformToString(), 'u');
  });

  test('a field no condition covers: 403 "Extra input fields"; x-ignore- fields are exempt', async () => {
    const bad = await postForm(url, form('t/extra.txt', [], { 'x-amz-meta-sneaky': '1' }), { content: 'x' });
    assert.equal(bad.status, 403);
    assert.equal(
      (await s3Error(bad)).Message,
      'Invalid according to Policy: Extra input fields: x-amz-meta-sneaky',
    );
    const ok = await postForm(url, form('t/ignored.txt', [], { 'x-ignore-tracking': '1' }), { content: 'x' });
    assert.equal(ok.status, 204);
  });

  test('the filename variable in the key is the file name after the last slash or backslash', async () => {
    const fields = {
      key: `user/7/${FILENAME}`,
      ...signedFields({ conditions: [['starts-with', '$key', 'user/7/']] }),
    };
    const res = await postForm(url, fields, { content: 'f', filename: 'photo 1.jpg' });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('location'), `${env.url}/forms/user%2F7%2Fphoto%201.jpg`);
    assert.ok(await stored('user/7/photo 1.jpg'));
    const raw = rawForm([
      { name: 'key', value: `user/7/${FILENAME}` },
      ...Object.entries(signedFields({ conditions: [['starts-with', '$key', 'user/7/']] })).map(
        ([name, value]) => ({
          name,
          value,
        }),
      ),
      { name: 'file', value: 'w', filename: 'C:\\Users\\me\\doc.txt' },
    ]);
    assert.equal((await postRaw(url, raw)).status, 204);
    assert.ok(await stored('user/7/doc.txt'));
  });

  test('Content-MD5 that does not match the file: 400 BadDigest, nothing stored', async () => {
    const wrong = createHash('md5').update('other').digest('base64');
    const res = await postForm(url, form('t/md5.txt', [{ 'content-md5': wrong }], { 'Content-MD5': wrong }), {
      content: 'x',
    });
    assert.equal(res.status, 400);
    assert.equal((await s3Error(res)).Code, 'BadDigest');
    assert.equal(await stored('t/md5.txt'), undefined);
  });
});

describe('POST Object: the answer', () => {
  const withStatus = (status: string, key: string) =>
    form(key, [{ success_action_status: status }], { success_action_status: status });

  test('success_action_status 200: empty 200', async () => {
    const res = await postForm(url, withStatus('200', 's/200'), { content: 'x' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
    assert.equal(res.headers.get('etag'), `"${md5('x')}"`);
  });

  test('success_action_status 201: PostResponse XML with Location, Bucket, Key, ETag', async () => {
    const res = await postForm(url, withStatus('201', 's/a b/201.txt'), { content: 'x' });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('content-type'), 'application/xml');
    assert.equal(
      await res.text(),
      '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>' +
        `<Location>${env.url}/forms/s%2Fa%20b%2F201.txt</Location><Bucket>forms</Bucket>` +
        `<Key>s/a b/201.txt</Key><ETag>"${md5('x')}"</ETag></PostResponse>`,
    );
  });

  test('success_action_status 204, absent or invalid: empty 204', async () => {
    for (const [fields, key] of [
      [withStatus('204', 's/204'), 's/204'],
      [form('s/none'), 's/none'],
      [withStatus('404', 's/404'), 's/404'],
    ] as const) {
      const res = await postForm(url, fields, { content: 'x' });
      assert.equal(res.status, 204, key);
      assert.equal(await res.text(), '');
    }
  });

  test('success_action_redirect: 303 to the URL plus bucket, key and quoted etag, form-encoded', async () => {
    const target = 'https://app.example/done?upload=1';
    const fields = form('r/a b.txt', [{ success_action_redirect: target }], {
      success_action_redirect: target,
    });
    const res = await postForm(url, fields, { content: 'x' });
    assert.equal(res.status, 303);
    assert.equal(
      res.headers.get('location'),
      `https://app.example/done?upload=1&bucket=forms&key=r%2Fa+b.txt&etag=%22${md5('x')}%22`,
    );
    assert.equal(res.headers.get('etag'), `"${md5('x')}"`);
  });

  test('the legacy redirect field works too; a relative URL is ignored (204)', async () => {
    const legacy = form('r/legacy', [{ redirect: 'http://app.example/ok' }], {
      redirect: 'http://app.example/ok',
    });
    const res = await postForm(url, legacy, { content: 'x' });
    assert.equal(res.status, 303);
    assert.ok(
      res.headers.get('location')?.startsWith('http://app.example/ok?bucket=forms&key=r%2Flegacy&etag=%22'),
    );
    const relative = form('r/rel', [{ success_action_redirect: '/done' }], {
      success_action_redirect: '/done',
    });
    assert.equal((await postForm(url, relative, { content: 'x' })).status, 204);
  });

  test('a cross-origin POST gets the bucket CORS headers, so the page can read ETag', async () => {
    await env.store.backend.updateBucket('forms', {
      settings: {
        cors: [
          {
            allowedOrigins: ['https://app.example'],
            allowedMethods: ['POST'],
            allowedHeaders: ['*'],
            exposeHeaders: ['ETag', 'Location'],
          },
        ],
      },
    });
    try {
      const ok = await postForm(url, form('c/ok'), { content: 'x' }, { origin: 'https://app.example' });
      assert.equal(ok.status, 204);
      assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.equal(ok.headers.get('access-control-expose-headers'), 'ETag, Location');
      const refused = await postForm(
        url,
        { ...form('c/no'), 'x-amz-meta-x': '1' },
        { content: 'x' },
        { origin: 'https://app.example' },
      );
      assert.equal(refused.status, 403);
      assert.equal(refused.headers.get('access-control-allow-origin'), 'https://app.example');
    } finally {
      await env.store.backend.updateBucket('forms', { settings: { cors: undefined } });
    }
  });
});

describe('POST Object: the form', () => {
  const signed = (key: string) =>
    Object.entries(signedFields({ conditions: [{ key }] })).map(([name, value]) => ({ name, value }));

  test('a part with a filename that is not named file is a field', async () => {
    const body = rawForm([
      { name: 'key', value: 'f/named.txt', filename: 'key' },
      ...signed('f/named.txt'),
      { name: 'file', value: 'content', filename: 'file' },
    ]);
    const res = await postRaw(url, body);
    assert.equal(res.status, 204, await res.clone().text());
    assert.equal((await stored('f/named.txt'))?.body, 'content');
  });

  test('a part without a name: 400 MalformedPOSTRequest, and the store keeps answering', async () => {
    // One such unauthenticated POST used to throw inside busboy and end the store's process.
    const boundary = 'nameless0123';
    const body = `--${boundary}\r\nContent-Disposition: form-data; filename="x"\r\n\r\nhi\r\n--${boundary}--\r\n`;
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    assert.equal(res.status, 400);
    assert.equal((await s3Error(res)).Code, 'MalformedPOSTRequest');
    const again = await postRaw(
      url,
      rawForm([
        ...signed('f/after-nameless.txt'),
        { name: 'key', value: 'f/after-nameless.txt' },
        { name: 'file', value: 'ok', filename: 'a' },
      ]),
    );
    assert.equal(again.status, 204, await again.clone().text());
  });

  test('fields after file are ignored', async () => {
    const body = rawForm([
      { name: 'key', value: 'f/after.txt' },
      ...signed('f/after.txt'),
      { name: 'file', value: 'content', filename: 'a.txt' },
      { name: 'x-amz-meta-late', value: 'would be an extra field' },
      { name: 'submit', value: 'Upload' },
    ]);
    assert.equal((await postRaw(url, body)).status, 204);
    assert.deepEqual((await stored('f/after.txt'))?.meta.userMeta, {});
  });

  test('the key after file counts as missing: 400 InvalidArgument naming key', async () => {
    const body = rawForm([
      ...signed('f/late-key'),
      { name: 'file', value: 'x', filename: 'a' },
      { name: 'key', value: 'f/late-key' },
    ]);
    const res = await postRaw(url, body);
    assert.equal(res.status, 400);
    const err = await s3Error(res);
    assert.deepEqual([err.Code, err.ArgumentName], ['InvalidArgument', 'key']);
  });

  test('no file: 400 InvalidArgument "POST requires exactly one file upload per request."', async () => {
    const res = await postRaw(url, rawForm([{ name: 'key', value: 'f/none' }, ...signed('f/none')]));
    assert.equal(res.status, 400);
    const err = await s3Error(res);
    assert.deepEqual(
      [err.Code, err.Message, err.ArgumentName, err.ArgumentValue],
      ['InvalidArgument', 'POST requires exactly one file upload per request.', 'file', '0'],
    );
  });

  test('fields before the file above 20 KB: 400 MaxPostPreDataLengthExceeded', async () => {
    const res = await postForm(
      url,
      { ...form('f/pad'), 'x-ignore-pad': 'p'.repeat(21 * 1024) },
      { content: 'x' },
    );
    assert.equal(res.status, 400);
    const err = await s3Error(res);
    assert.deepEqual([err.Code, err.MaxPostPreDataLengthBytes], ['MaxPostPreDataLengthExceeded', '20480']);
  });

  test('not multipart/form-data: 412 PreconditionFailed; a broken body: 400 MalformedPOSTRequest', async () => {
    const urlencoded = await fetch(url, { method: 'POST', body: new URLSearchParams({ key: 'k' }) });
    assert.equal(urlencoded.status, 412);
    assert.equal(
      (await s3Error(urlencoded)).Condition,
      'Bucket POST must be of the enclosure-type multipart/form-data',
    );
    const broken = await postRaw(
      url,
      Buffer.from(`--${RAW_BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk`),
    );
    assert.equal(broken.status, 400);
    assert.equal((await s3Error(broken)).Code, 'MalformedPOSTRequest');
  });

  test('a bucket that does not exist: 404 NoSuchBucket', async () => {
    const res = await postForm(`${env.url}/nope-bucket`, form('k'), { content: 'x' });
    assert.equal(res.status, 404);
    assert.equal((await s3Error(res)).Code, 'NoSuchBucket');
  });
});

describe('POST Object: anonymous forms', () => {
  test('refused on a private bucket: 403 AccessDenied, nothing stored', async () => {
    const res = await postForm(url, { key: 'anon.txt' }, { content: 'x' });
    assert.equal(res.status, 403);
    assert.equal((await s3Error(res)).Code, 'AccessDenied');
    assert.equal(await stored('anon.txt'), undefined);
  });

  test('a policy without signing fields is still anonymous', async () => {
    const policy = Buffer.from('{"expiration":"2099-01-01T00:00:00Z","conditions":[]}').toString('base64');
    const res = await postForm(url, { key: 'anon2.txt', policy }, { content: 'x' });
    assert.equal(res.status, 403);
    assert.equal((await s3Error(res)).Code, 'AccessDenied');
  });

  test('accepted on a public-read-write bucket, the filename variable expanded', async () => {
    const res = await postForm(
      `${env.url}/public`,
      { key: `drop/${FILENAME}` },
      { content: 'anon', filename: 'a.txt' },
    );
    assert.equal(res.status, 204, await res.clone().text());
    assert.equal((await stored('drop/a.txt', 'public'))?.body, 'anon');
  });
});
