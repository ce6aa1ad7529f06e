/**
 * The public shapes of @chute/sigv4. Pure data: no I/O anywhere in this package.
 * Times are epoch milliseconds. Header names in every input are case-insensitive;
 * everything this package returns uses lowercase header names.
 */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** STS session token; signed as X-Amz-Security-Token. */
  sessionToken?: string;
}

/** The scope a signature is bound to: `date/region/service/aws4_request`. */
export interface Scope {
  region: string;
  /** Defaults to 's3'. */
  service?: string;
}

export interface PresignInput extends Scope {
  method: string;
  /** Origin of the endpoint, e.g. 'http://127.0.0.1:9000' or 'https://bucket.s3.amazonaws.com'. */
  endpoint: string;
  /** Decoded path, e.g. '/bucket/my photo+1.png'; encoded here exactly once as S3 expects. */
  path: string;
  /** Extra query parameters (decoded), e.g. { partNumber: '1', uploadId: 'abc' }. */
  query?: Record<string, string>;
  /**
   * Headers the client will send and that are signed, besides `host` (always signed):
   * content-type, content-length, content-md5, x-amz-meta-*, x-amz-checksum-sha256, x-amz-acl, …
   */
  headers?: Record<string, string>;
  credentials: Credentials;
  /** Seconds, 1..604800 (7 days); anything else throws RangeError. */
  expiresIn: number;
  /** Signing time, epoch ms. Defaults to Date.now(). */
  now?: number;
  /** Defaults to 'UNSIGNED-PAYLOAD'. */
  payloadHash?: string;
}

export interface SignHeadersInput extends Scope {
  method: string;
  endpoint: string;
  path: string;
  query?: Record<string, string>;
  /** Headers to send; all of them are signed (host and x-amz-date/x-amz-content-sha256 are added). */
  headers?: Record<string, string>;
  credentials: Credentials;
  now?: number;
  /**
   * 'UNSIGNED-PAYLOAD', a lowercase hex SHA-256 of the body,
   * 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' or
   * 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'.
   */
  payloadHash: string;
}

/** Headers to send with a header-signed request, including `authorization`. */
export type SignedHeaders = Record<string, string>;

/** A request as it arrived on the wire, before any decoding. */
export interface WireRequest {
  method: string;
  /** Path exactly as sent, still percent-encoded, without the query: '/bucket/a%20b'. */
  rawPath: string;
  /** Query exactly as sent, without the leading '?': 'X-Amz-Algorithm=…&partNumber=1'. May be ''. */
  rawQuery: string;
  /**
   * node:http's req.headers (lowercase names). Prefer `req.headersDistinct`: node joins repeated
   * unknown headers with ', ' while AWS canonicalises repeats joined with ','.
   */
  headers: Record<string, string | string[] | undefined>;
  /**
   * The bucket when it was named by the Host (virtual-hosted style, `bucket.s3.example.com`):
   * SigV2's CanonicalizedResource starts with `/bucket` even though the path does not.
   */
  virtualBucket?: string;
}

export interface VerifyOptions {
  /** Returns the secret for an access key id, or undefined if there is no such key. */
  lookupSecret: (accessKeyId: string) => string | undefined;
  /** Server time, epoch ms. */
  now: number;
  /** The region this endpoint serves; a credential scoped to another region is refused. */
  region: string;
  /** Allowed clock skew for header auth, ms. S3 uses 15 minutes. */
  maxSkewMs?: number;
  /** The service name a credential scope must carry. Defaults to 's3'. */
  service?: string;
}

/** How the body of an authenticated request is to be checked by the caller. */
export type PayloadMode =
  | { kind: 'unsigned' }
  | { kind: 'sha256'; hash: string }
  | {
      kind: 'streaming-signed';
      /** true for STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
      trailer: boolean;
      /** Feed to ChunkedDecoder: seed signature and the context to chain chunk signatures. */
      seed: ChunkSigningContext;
    }
  | { kind: 'streaming-unsigned-trailer' };

export interface ChunkSigningContext {
  seedSignature: string;
  /** `YYYYMMDDTHHMMSSZ` of the request */
  amzDate: string;
  /** `YYYYMMDD/region/service/aws4_request` */
  scope: string;
  signingKey: Buffer;
}

export type AuthResult =
  | {
      /** Who signed, and how. 'anonymous' when the request carries no signature at all. */
      kind: 'sigv4-header' | 'sigv4-query' | 'sigv2-header' | 'sigv2-query';
      accessKeyId: string;
      /** Lowercase names of the headers covered by the signature (SigV2: the ones it covers). */
      signedHeaders: string[];
      payload: PayloadMode;
    }
  | { kind: 'anonymous' };

/** SigV4 POST form fields a verifier reads (names as sent; compared case-insensitively). */
export type FormFields = Record<string, string>;
