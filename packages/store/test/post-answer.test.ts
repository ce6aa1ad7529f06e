import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { S3Error } from '@chute/errors';
import { mailSafe, planPostObject } from '../src/post/attrs.ts';
import { objectLocation, postAnswer, redirectUrl } from '../src/post/respond.ts';

const result = { bucket: 'b', key: 'a/b c+d.txt', etag: 'abc', location: 'http://h/b/a%2Fb%20c%2Bd.txt' };

describe('redirectUrl', () => {
  test('appends bucket, key, etag form-encoded; keeps the query as written; keeps the fragment last', () => {
    assert.equal(
      redirectUrl('https://x/done', result),
      'https://x/done?bucket=b&key=a%2Fb+c%2Bd.txt&etag=%22abc%22',
    );
    assert.equal(
      redirectUrl('https://x/done?a=1&path=x y', result),
      'https://x/done?a=1&path=x y&bucket=b&key=a%2Fb+c%2Bd.txt&etag=%22abc%22',
    );
    assert.equal(
      redirectUrl('https://x/done?', result),
      'https://x/done?bucket=b&key=a%2Fb+c%2Bd.txt&etag=%22abc%22',
    );
    assert.equal(
      redirectUrl('https://x/#/uploaded', result),
      'https://x/?bucket=b&key=a%2Fb+c%2Bd.txt&etag=%22abc%22#/uploaded',
    );
  });
});

describe('postAnswer', () => {
  test('success_action_redirect wins over success_action_status; field names are case-insensitive', () => {
    const a = postAnswer({ Success_Action_Redirect: 'http://x/', success_action_status: '201' }, result);
    assert.equal(a.status, 303);
    assert.equal(a.headers.etag, '"abc"');
  });

  test('a redirect S3 cannot interpret is ignored: relative, javascript:, garbage', () => {
    for (const target of ['/done', 'javascript:alert(1)', 'not a url', '']) {
      assert.equal(postAnswer({ success_action_redirect: target }, result).status, 204, target);
    }
  });

  test('201 escapes the XML; 200 and 204 carry no body but ETag and Location', () => {
    const xml = postAnswer({ success_action_status: '201' }, { ...result, key: '<&>' }).body;
    assert.match(xml, /<Key>&lt;&amp;&gt;<\/Key>/);
    const ok = postAnswer({ success_action_status: '200' }, result);
    assert.deepEqual([ok.status, ok.body, ok.headers.location], [200, '', result.location]);
  });

  test('objectLocation encodes the key with / as %2F, path- or virtual-host style', () => {
    assert.equal(objectLocation('http://h:1', 'b', 'a/é b', false), 'http://h:1/b/a%2F%C3%A9%20b');
    assert.equal(objectLocation('http://b.localhost:1', 'b', 'k', true), 'http://b.localhost:1/k');
  });
});

describe('planPostObject', () => {
  test('REST headers, metadata (lowercased), Content-Type; unknown fields are not stored', () => {
    const plan = planPostObject({
      'Content-Type': 'image/png',
      'Cache-Control': 'max-age=60',
      'Content-Disposition': 'attachment',
      'X-Amz-Meta-Owner': 'u1',
      acl: 'private',
      'x-ignore-x': '1',
    });
    assert.deepEqual(plan.attrs, {
      contentType: 'image/png',
      headers: { 'cache-control': 'max-age=60', 'content-disposition': 'attachment' },
      userMeta: { owner: 'u1' },
    });
  });

  test('non-ASCII values are kept RFC 2047-encoded, as S3 returns them', () => {
    assert.equal(mailSafe('plain'), 'plain');
    assert.equal(mailSafe('ÄMÄZÕÑ S3'), '=?UTF-8?Q?=C3=84M=C3=84Z=C3=95=C3=91_S3?=');
    assert.deepEqual(planPostObject({ 'x-amz-meta-name': 'café' }).attrs.userMeta, {
      name: '=?UTF-8?Q?caf=C3=A9?=',
    });
  });

  test('integrity fields: Content-MD5 and one x-amz-checksum-*', () => {
    const md5 = Buffer.alloc(16, 1).toString('base64');
    const sha = Buffer.alloc(32, 2).toString('base64');
    const plan = planPostObject({ 'Content-MD5': md5, 'x-amz-checksum-sha256': sha });
    assert.deepEqual(plan.integrity, {
      contentMd5: Buffer.alloc(16, 1),
      checksum: { algorithm: 'SHA256', expected: sha },
    });
  });

  const refused: [string, Record<string, string>, string][] = [
    ['a Content-MD5 that is not 16 bytes', { 'content-md5': 'abc' }, 'InvalidDigest'],
    [
      'two checksums',
      { 'x-amz-checksum-sha256': Buffer.alloc(32).toString('base64'), 'x-amz-checksum-crc32': 'AAAAAA==' },
      'InvalidRequest',
    ],
    ['an algorithm without its value', { 'x-amz-checksum-algorithm': 'CRC32' }, 'InvalidRequest'],
    ['an unknown storage class', { 'x-amz-storage-class': 'FAST' }, 'InvalidStorageClass'],
    ['metadata above 2 KB', { 'x-amz-meta-big': 'x'.repeat(2100) }, 'MetadataTooLarge'],
  ];
  for (const [name, fields, code] of refused) {
    test(`refuses ${name}: ${code}`, () => {
      assert.throws(
        () => planPostObject(fields),
        (e: unknown) => e instanceof S3Error && e.code === code,
      );
    });
  }
});
