import { S3Error } from '@chute/errors';
import { ChunkedDecoder, type PayloadMode } from '@chute/sigv4';

type StreamingMode = Extract<PayloadMode, { kind: 'streaming-signed' | 'streaming-unsigned-trailer' }>;

/**
 * How an aws-chunked body must be decoded: from the verified auth result when the request was
 * signed, else (anonymous, e.g. a public-read-write bucket) only the unsigned-trailer framing is
 * acceptable — a signed-chunk body without a verified seed signature cannot be checked.
 */
export function streamingMode(
  auth: PayloadMode | undefined,
  sha256Header: string | undefined,
): StreamingMode {
  if (auth && (auth.kind === 'streaming-signed' || auth.kind === 'streaming-unsigned-trailer')) return auth;
  if (sha256Header === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') return { kind: 'streaming-unsigned-trailer' };
  throw new S3Error('InvalidRequest', `x-amz-content-sha256 ${sha256Header ?? ''} requires a signed request`);
}

/** The aws-chunked decoder of @chute/sigv4: verified payload bytes out, trailers at the end. */
export function dechunker(mode: StreamingMode): ChunkedDecoder {
  return new ChunkedDecoder(mode);
}
