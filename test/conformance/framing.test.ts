// How a PUT body may be framed. S3 needs the object's length before it takes a byte: a plain
// `Transfer-Encoding: chunked` body without Content-Length is refused (411 MissingContentLength,
// "You must provide the Content-Length HTTP header."), while an aws-chunked body announces its
// decoded length in x-amz-decoded-content-length and may then come chunked (newer AWS CLIs and
// SDKs send it so).
import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { deviates, expectError } from './deviations.ts';
import { bytes, md5hex, type S3ErrorShape, sdkErrorOf, useBucket, xmlText } from './helpers.ts';

const s = useBucket('framing');

/** Sends `body` to `url` as a PUT in HTTP chunks, with the given headers and no Content-Length. */
function putChunked(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<S3ErrorShape> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers: { ...headers, 'transfer-encoding': 'chunked' } });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          code: xmlText(text, 'Code') ?? '',
          message: xmlText(text, 'Message') ?? '',
          hasBody: text.length > 0,
          body: text,
        });
      });
    });
    req.on('error', reject);
    // Two chunks, so the framing is chunked on the wire whatever node would have chosen.
    req.write(body.subarray(0, body.length >> 1));
    req.end(body.subarray(body.length >> 1));
  });
}

describe('Transfer-Encoding: chunked PUT', () => {
  it('without Content-Length (and not aws-chunked): 411 MissingContentLength, nothing stored', async () => {
    const url = await getSignedUrl(s.s3, new PutObjectCommand({ Bucket: s.bucket, Key: 'te.bin' }), {
      expiresIn: 300,
    });
    const res = await putChunked(url, bytes(5000));
    expectError(s.target, res, 411, 'MissingContentLength');
    const err = await sdkErrorOf(s.s3.send(new HeadObjectCommand({ Bucket: s.bucket, Key: 'te.bin' })));
    expectError(s.target, err, 404, 'NotFound');
  });

  it('aws-chunked with x-amz-decoded-content-length, sent chunked without Content-Length: 200', async () => {
    // The SDK's default integrity mode streams a body as aws-chunked with a trailing checksum.
    const seen: Record<string, string>[] = [];
    const sdk = new S3Client({
      endpoint: s.target.endpoint,
      region: s.target.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s.target.accessKeyId, secretAccessKey: s.target.secretAccessKey },
      maxAttempts: 1,
    });
    sdk.middlewareStack.add(
      (next) => async (args) => {
        seen.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    const data = bytes(70_000, 7);
    const put = sdk.send(
      new PutObjectCommand({
        Bucket: s.bucket,
        Key: 'aws-chunked.bin',
        Body: Readable.from([data.subarray(0, 30_000), data.subarray(30_000)]),
        ContentLength: data.length,
      }),
    );
    try {
      if (deviates(s.target, 'aws-chunked-needs-content-length')) {
        expectError(s.target, await sdkErrorOf(put), 200, 'none', {
          deviation: 'aws-chunked-needs-content-length',
        });
        return;
      }
      await put;
    } finally {
      sdk.destroy();
      const sent = seen.at(-1) ?? {};
      assert.equal(sent['content-length'], undefined, 'the SDK sent a Content-Length');
      assert.equal(sent['x-amz-decoded-content-length'], String(data.length));
    }
    const got = await s.s3.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'aws-chunked.bin' }));
    assert.equal(md5hex(Buffer.from(await got.Body!.transformToByteArray())), md5hex(data));
  });
});
