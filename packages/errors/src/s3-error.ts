import { S3_CODES, type S3ErrorCode } from './s3-codes.ts';

/**
 * The one error type for S3-protocol failures. `message` defaults to AWS's text for the code;
 * `details` become extra child elements of the XML <Error> (e.g. ProposedSize, MaxSizeAllowed,
 * StringToSign), in insertion order, as S3 does.
 */
export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly details: Readonly<Record<string, string>>;

  constructor(code: S3ErrorCode, message?: string, details: Record<string, string> = {}) {
    super(message ?? S3_CODES[code].message);
    this.name = 'S3Error';
    this.code = code;
    this.status = S3_CODES[code].status;
    this.details = details;
  }
}

export function isS3Error(e: unknown): e is S3Error {
  return e instanceof S3Error;
}
