import { toAmzDate } from './amz-date.ts';
import { canonicalHeaders } from './canonical-headers.ts';
import { canonicalQuery } from './canonical-query.ts';
import { canonicalRequest } from './canonical-request.ts';
import { parseEndpoint } from './endpoint.ts';
import { signingKeyFor } from './signing-key.ts';
import { ALGORITHM, credentialScope, stringToSign } from './string-to-sign.ts';
import type { ChunkSigningContext, SignedHeaders, SignHeadersInput } from './types.ts';
import { uriEncodePath } from './uri-encode.ts';

/**
 * Authorization-header signing ("Signature Calculations for the Authorization Header"):
 *   Authorization: AWS4-HMAC-SHA256 Credential=AKID/scope, SignedHeaders=a;b, Signature=hex
 * Every header given is signed, plus host, x-amz-date, x-amz-content-sha256 and, with temporary
 * credentials, x-amz-security-token.
 */

export interface SignedRequest {
  headers: SignedHeaders;
  signature: string;
  /** What a client needs to go on signing aws-chunked chunks after this seed signature. */
  chunkContext: ChunkSigningContext;
}

export function signRequest(input: SignHeadersInput): SignedRequest {
  const service = input.service ?? 's3';
  const { credentials } = input;
  const endpoint = parseEndpoint(input.endpoint);
  const date = toAmzDate(input.now ?? Date.now());
  const scope = credentialScope(date.short, input.region, service);

  const headers: Record<string, string> = { host: endpoint.host };
  if (input.headers !== undefined) {
    for (const name in input.headers) headers[name.toLowerCase()] = String(input.headers[name]);
  }
  headers['x-amz-date'] = date.long;
  headers['x-amz-content-sha256'] = input.payloadHash;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  delete headers['authorization'];

  const canonical = canonicalHeaders(headers);
  const path = uriEncodePath(input.path.startsWith('/') ? input.path : `/${input.path}`);
  const request = canonicalRequest(
    input.method,
    path,
    input.query === undefined ? '' : canonicalQuery(Object.entries(input.query)),
    canonical.block,
    canonical.signedHeaders,
    input.payloadHash,
  );
  const key = signingKeyFor(credentials, date.short, input.region, service);
  const signature = key.key.hex(stringToSign(date.long, scope, request));
  headers['authorization'] =
    `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${canonical.signedHeaders}, Signature=${signature}`;
  return {
    headers,
    signature,
    chunkContext: { seedSignature: signature, amzDate: date.long, scope, signingKey: key.bytes },
  };
}

export function signHeaders(input: SignHeadersInput): SignedHeaders {
  return signRequest(input).headers;
}
