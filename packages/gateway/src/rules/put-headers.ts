import type { RouteRule } from './rule.ts';

export interface PutInput {
  uploadId: string;
  userId: string;
  /** The declared Content-Type, as returned by checkDeclared. */
  contentType: string;
  /** The declared size. */
  size: number;
  /** Base64 SHA-256 from checkDeclared, if the client declared one. */
  checksum?: string | undefined;
}

/**
 * Headers signed into a presigned PUT URL (lowercase names). A presigned PUT limits nothing it
 * does not sign: unsigned, Content-Length is free (no size limit) and Content-Type is free (an
 * HTML page stored as image/png). Signed, storage refuses any request whose headers differ.
 * With a declared checksum, storage also refuses bytes whose SHA-256 differs (BadDigest).
 * The client must send exactly these headers; `host` is added by the signer.
 */
export function putSignedHeaders(rule: RouteRule, input: PutInput): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': input.contentType,
    'content-length': String(input.size),
    'x-amz-meta-upload-id': input.uploadId,
    'x-amz-meta-user-id': input.userId,
  };
  for (const [k, v] of Object.entries(rule.metadata)) headers[`x-amz-meta-${k}`] = v;
  if (input.checksum !== undefined) headers['x-amz-checksum-sha256'] = input.checksum;
  return headers;
}
