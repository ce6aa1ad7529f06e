import { ChuteError } from '@chute/errors';
import { formatSize } from '../units/size.ts';
import { essence, typeAllowed } from './mime.ts';
import type { RouteRule } from './rule.ts';

export interface DeclaredInput {
  contentType: string;
  size: number;
  filename: string;
  /** SHA-256 of the file, base64 (as S3's x-amz-checksum-sha256) or hex. */
  checksum?: string | undefined;
}

/** What the client declared, checked against the route and normalised. */
export interface Declared {
  /** As sent, trimmed: this exact string is signed, so the client must send it verbatim. */
  contentType: string;
  /** Lowercase `type/subtype`, for comparisons. */
  type: string;
  size: number;
  filename: string;
  /** Base64 SHA-256, or undefined when none was declared. */
  checksum: string | undefined;
}

/** Browsers' File.name is a leaf name; we store it for display only and never put it in a key. */
const FILENAME_MAX = 255;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const FILENAME_BAD = /[\x00-\x1f\x7f/\\]/;

/**
 * The grant-time check: the client's declared type and size against the route, before anything
 * is reserved or signed. Storage then enforces what we sign, and complete re-checks the bytes.
 * Throws ChuteError: invalid_request (malformed), type_not_allowed (415), too_large (413), too_small.
 */
export function checkDeclared(rule: RouteRule, input: DeclaredInput): Declared {
  const type = typeof input.contentType === 'string' ? essence(input.contentType) : undefined;
  if (type === undefined) {
    throw new ChuteError('invalid_request', { message: 'contentType must be a media type, e.g. image/png.' });
  }
  if (!typeAllowed(type, rule.types)) {
    throw new ChuteError('type_not_allowed', {
      message: `Route "${rule.name}" accepts ${rule.types.join(', ')}; got ${type}.`,
      details: { allowed: rule.types },
    });
  }
  const { size } = input;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new ChuteError('invalid_request', { message: 'size must be a whole number of bytes.' });
  }
  if (size > rule.maxSize) {
    throw new ChuteError('too_large', {
      message: `Route "${rule.name}" accepts files up to ${formatSize(rule.maxSize)}.`,
      details: { maxSize: rule.maxSize },
    });
  }
  if (size < rule.minSize) {
    throw new ChuteError('too_small', {
      message: `Route "${rule.name}" accepts files from ${formatSize(rule.minSize)}.`,
      details: { minSize: rule.minSize },
    });
  }
  const { filename } = input;
  if (typeof filename !== 'string' || filename.length === 0 || filename.length > FILENAME_MAX) {
    throw new ChuteError('invalid_request', { message: 'filename must be 1–255 characters.' });
  }
  if (FILENAME_BAD.test(filename)) {
    throw new ChuteError('invalid_request', {
      message: 'filename must be a name without a path or control characters.',
    });
  }
  return {
    contentType: input.contentType.trim(),
    type,
    size,
    filename,
    checksum: input.checksum === undefined ? undefined : normaliseSha256(input.checksum),
  };
}

/** A SHA-256 given as 64 hex digits or 44 base64 characters, as base64 (what S3 compares). */
export function normaliseSha256(checksum: string): string {
  if (/^[0-9a-fA-F]{64}$/.test(checksum)) return Buffer.from(checksum, 'hex').toString('base64');
  if (/^[A-Za-z0-9+/]{43}=$/.test(checksum) && Buffer.from(checksum, 'base64').length === 32) return checksum;
  throw new ChuteError('invalid_request', {
    message: 'checksum must be a SHA-256 as 64 hex digits or 44 base64 characters.',
  });
}
