// The S3 client's own behaviour where a real server cannot be made to misbehave on cue: a server
// that ignores Range, 5xx then success, 4xx never retried. The happy paths run against real
// storage in e2e.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isStorageError } from '../src/storage/errors.ts';
import { S3Storage } from '../src/storage/s3.ts';
import { parseError, parseListV2 } from '../src/storage/xml.ts';

const config = {
  endpoint: 'http://127.0.0.1:9000',
  region: 'us-east-1',
  bucket: 'b1',
  accessKeyId: 'AKID',
  secretAccessKey: 'secret',
  forcePathStyle: true,
};

function scripted(responses: (() => Response)[]) {
  const calls: Request[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push(new Request(input, init));
    const next = responses.shift();
    if (next === undefined) throw new TypeError('fetch failed');
    return next();
  }) as typeof fetch;
  return { calls, fetchImpl };
}

describe('S3Storage', () => {
  test('getRange against a server that ignores Range (200, whole object) returns only the asked bytes', async () => {
    const whole = Buffer.alloc(1_000_000, 7);
    whole.write('abcdef', 100);
    const { fetchImpl } = scripted([() => new Response(whole, { status: 200 })]);
    const s = new S3Storage(config, { fetch: fetchImpl });
    const got = await s.getRange('k', 100, 105);
    assert.equal(got.toString(), 'abcdef');
  });

  test('a 503 then a 200 is retried; the request is re-signed (path-style, encoded key)', async () => {
    const { calls, fetchImpl } = scripted([
      () => new Response('<Error><Code>SlowDown</Code><Message>slow</Message></Error>', { status: 503 }),
      () => new Response(null, { status: 204 }),
    ]);
    const s = new S3Storage(config, { fetch: fetchImpl, backoffMs: 1 });
    await s.delete('incoming/a b/c');
    assert.equal(calls.length, 2);
    assert.equal(new URL(calls[1]!.url).pathname, '/b1/incoming/a%20b/c');
    assert.match(calls[1]!.headers.get('authorization') ?? '', /^AWS4-HMAC-SHA256 Credential=AKID\//);
  });

  test('a 403 is not retried and becomes StorageError AccessDenied', async () => {
    const { calls, fetchImpl } = scripted([
      () => new Response('<Error><Code>AccessDenied</Code><Message>no</Message></Error>', { status: 403 }),
    ]);
    const s = new S3Storage(config, { fetch: fetchImpl, backoffMs: 1 });
    await assert.rejects(s.list('incoming/'), (e) => isStorageError(e, 'AccessDenied') && e.status === 403);
    assert.equal(calls.length, 1);
  });

  test('HEAD 404 → undefined; network errors exhaust the attempts then throw NetworkError', async () => {
    const s = new S3Storage(config, {
      fetch: scripted([() => new Response(null, { status: 404 })]).fetchImpl,
    });
    assert.equal(await s.head('nope'), undefined);
    const down = scripted([]);
    const s2 = new S3Storage(config, { fetch: down.fetchImpl, attempts: 3, backoffMs: 1 });
    await assert.rejects(s2.head('k'), (e) => isStorageError(e, 'NetworkError'));
  });

  test('a CopyObject answered 200 with an <Error> body is a failure', async () => {
    const { fetchImpl } = scripted([
      () => new Response('<Error><Code>InternalError</Code><Message>x</Message></Error>', { status: 200 }),
      () => new Response('<CopyObjectResult><ETag>"e"</ETag></CopyObjectResult>', { status: 200 }),
    ]);
    const s = new S3Storage(config, { fetch: fetchImpl, backoffMs: 1 });
    await s.copy('a', 'b'); // the first answer is retried (InternalError), the second succeeds
  });

  test('presigned URLs use publicEndpoint; requests use endpoint', () => {
    const s = new S3Storage({ ...config, publicEndpoint: 'https://cdn.example.com' });
    assert.match(
      s.presignGet({ key: 'files/x', expiresIn: 60 }),
      /^https:\/\/cdn\.example\.com\/b1\/files\/x\?/,
    );
    assert.equal(
      s.postForm({ key: 'k', conditions: [], fields: {}, expiresIn: 60 }).url,
      'https://cdn.example.com/b1',
    );
  });
});

describe('S3 XML', () => {
  test('ListObjectsV2: keys stay strings (007, 1e3), single Contents, continuation token', () => {
    const xml = `<?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated>
      <Contents><Key>007</Key><Size>5</Size><LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents>
      <NextContinuationToken>tok</NextContinuationToken></ListBucketResult>`;
    assert.deepEqual(parseListV2(xml), {
      objects: [{ key: '007', size: 5, lastModified: Date.parse('2026-01-01T00:00:00Z') }],
      continuation: 'tok',
    });
    assert.deepEqual(parseListV2('<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>'), {
      objects: [],
    });
  });
  test('Error documents; anything else is not one', () => {
    assert.deepEqual(
      parseError('<Error><Code>NoSuchKey</Code><Message>m</Message><RequestId>r</RequestId></Error>'),
      {
        code: 'NoSuchKey',
        message: 'm',
        requestId: 'r',
      },
    );
    assert.equal(parseError('<CopyObjectResult/>'), undefined);
    assert.equal(parseError('not xml <'), undefined);
  });
});
