import { createHash } from 'node:crypto';
import { S3Error } from '@chute/errors';
import type { BlobWriter, ChecksumAlgorithm, StoredChecksum } from '../backend/types.ts';
import type { RequestContext } from '../context.ts';
import {
  CHECKSUM_ALGORITHMS,
  checkChecksumValue,
  checksumHeader,
  checksummer,
  parseAlgorithm,
} from './checksums.ts';
import { dechunker, streamingMode } from './chunked.ts';
import { startMd5 } from './md5.ts';
import { SocketBody } from './socket-body.ts';

/** "Upload objects in a single operation … up to 5 GB" (PutObject). */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;

export interface Ingested {
  size: number;
  md5: Buffer;
  /** The flexible checksum the client sent (header or trailer), verified; stored with the object. */
  checksum?: StoredChecksum;
}

interface BodyPlan {
  length: number;
  chunked: boolean;
  contentMd5?: Buffer;
  sha256?: string;
  checksum?: { algorithm: ChecksumAlgorithm; expected?: string; trailer: boolean };
}

/**
 * Reads the request's framing and integrity headers before any byte is accepted, refusing what
 * S3 refuses: no length (411), too large, malformed Content-MD5 or checksum values, several
 * checksums at once.
 */
export function planBody(ctx: RequestContext, maxBytes: number): BodyPlan {
  const h = (n: string) => ctx.header(n);
  const sha = h('x-amz-content-sha256');
  // aws-chunked framing is announced by a STREAMING-* payload hash (content-encoding: aws-chunked
  // accompanies it but is not what S3 keys on).
  const chunked = sha?.startsWith('STREAMING-') === true;
  const lengthHeader = chunked ? h('x-amz-decoded-content-length') : h('content-length');
  if (lengthHeader === undefined) throw new S3Error('MissingContentLength');
  if (!/^\d+$/.test(lengthHeader)) throw new S3Error('InvalidArgument', 'Content-Length is not a number');
  const length = Number(lengthHeader);
  if (length > maxBytes) {
    throw new S3Error('EntityTooLarge', undefined, {
      ProposedSize: String(length),
      MaxSizeAllowed: String(maxBytes),
    });
  }
  const plan: BodyPlan = { length, chunked };

  const md5 = h('content-md5');
  if (md5 !== undefined) {
    const raw = Buffer.from(md5, 'base64');
    if (raw.length !== 16 || raw.toString('base64') !== md5.trim()) throw new S3Error('InvalidDigest');
    plan.contentMd5 = raw;
  }
  if (ctx.auth.kind !== 'anonymous' && ctx.auth.payload.kind === 'sha256')
    plan.sha256 = ctx.auth.payload.hash;
  else if (sha !== undefined && /^[0-9a-f]{64}$/i.test(sha)) plan.sha256 = sha.toLowerCase();

  const present = CHECKSUM_ALGORITHMS.filter((a) => h(checksumHeader(a)) !== undefined);
  if (h('x-amz-checksum-crc64nvme') !== undefined) {
    throw new S3Error('NotImplemented', 'The CRC64NVME checksum is not implemented by chute s3');
  }
  const trailer = h('x-amz-trailer');
  const sdkAlgorithm = parseAlgorithm(h('x-amz-sdk-checksum-algorithm'));
  if (present.length > 1 || (present.length === 1 && trailer !== undefined)) {
    throw new S3Error(
      'InvalidRequest',
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  }
  if (present.length === 1) {
    const algorithm = present[0]!;
    const expected = h(checksumHeader(algorithm))!;
    checkChecksumValue(algorithm, expected);
    if (sdkAlgorithm && sdkAlgorithm !== algorithm) {
      throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    }
    plan.checksum = { algorithm, expected, trailer: false };
  } else if (trailer !== undefined) {
    const m = /^x-amz-checksum-([a-z0-9]+)$/i.exec(trailer.trim());
    if (!m || !chunked)
      throw new S3Error('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported');
    plan.checksum = { algorithm: parseAlgorithm(m[1])!, trailer: true };
  } else if (sdkAlgorithm) {
    // The SDK names an algorithm but sends no value: S3 computes and stores it.
    plan.checksum = { algorithm: sdkAlgorithm, trailer: false };
  }
  return plan;
}

/**
 * Streams the body into `writer` (which bounds the writes in flight; see body/md5.ts for where
 * the MD5 is computed), and verifies every integrity claim before the caller may commit:
 * x-amz-content-sha256, Content-MD5, x-amz-checksum-* (header or aws-chunked trailer), and that
 * exactly the announced number of bytes arrived.
 */
export async function ingest(ctx: RequestContext, writer: BlobWriter, plan: BodyPlan): Promise<Ingested> {
  const md5 = startMd5(writer);
  const sha256 = plan.sha256 ? createHash('sha256') : undefined;
  const sum = plan.checksum ? checksummer(plan.checksum.algorithm) : undefined;
  let size = 0;

  // A body read into reused memory must only reach a writer that copies it at once (a staged
  // one); server.ts takes only bodies that get one, and this holds it should that ever change.
  const copy = ctx.body instanceof SocketBody && !writer.onSpan;
  const take = (b: Buffer): Promise<void> | undefined => {
    size += b.length;
    if (size > plan.length) {
      throw new S3Error('IncompleteBody', 'The decoded body is longer than x-amz-decoded-content-length');
    }
    md5.update(b);
    sha256?.update(b);
    sum?.update(b);
    return writer.write(copy ? Buffer.from(b) : b);
  };

  let trailers: Record<string, string> = {};
  let digest: Buffer;
  try {
    if (plan.chunked) {
      const payload = ctx.auth.kind === 'anonymous' ? undefined : ctx.auth.payload;
      const d = dechunker(streamingMode(payload, ctx.header('x-amz-content-sha256')));
      await ctx.body.consume((raw) => {
        // One socket read can hold several decoded pieces; each waits for the writer to take
        // the one before it.
        const pieces = d.push(raw);
        let i = 0;
        const next = (): Promise<void> | undefined => {
          while (i < pieces.length) {
            const p = take(pieces[i++]!);
            if (p) return p.then(next);
          }
          return undefined;
        };
        return next();
      });
      trailers = d.end();
    } else {
      await ctx.body.consume(take);
    }
    ctx.logFields.bytesIn = size;
    if (size < plan.length) throw new S3Error('IncompleteBody');
    if (sha256 && sha256.digest('hex') !== plan.sha256) {
      throw new S3Error('XAmzContentSHA256Mismatch', undefined, {
        ClientComputedContentSHA256: plan.sha256 ?? '',
      });
    }
    writer.flush?.();
    digest = await md5.digest();
  } catch (e) {
    md5.cancel();
    // A client that hangs up mid-body is not an S3 error to answer; the caller aborts the blob.
    if (!ctx.body.complete && !(e instanceof S3Error)) throw new S3Error('IncompleteBody');
    throw e;
  }
  if (plan.contentMd5 && !digest.equals(plan.contentMd5)) throw new S3Error('BadDigest');
  let checksum: StoredChecksum | undefined;
  if (plan.checksum && sum) {
    const { algorithm } = plan.checksum;
    let expected = plan.checksum.expected;
    if (plan.checksum.trailer) {
      const name = checksumHeader(algorithm);
      expected = Object.entries(trailers)
        .find(([k]) => k.toLowerCase() === name)?.[1]
        ?.trim();
      if (expected === undefined)
        throw new S3Error('InvalidRequest', `The trailer ${name} was declared but not sent`);
      checkChecksumValue(algorithm, expected, 'trailer');
    }
    const actual = sum.digest();
    if (expected !== undefined && actual !== expected) {
      throw new S3Error('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
    }
    checksum = { algorithm, value: actual, type: 'FULL_OBJECT' };
  }
  return { size, md5: digest, checksum };
}
