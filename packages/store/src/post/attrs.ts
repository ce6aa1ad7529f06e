/**
 * What a POST form says about the object it creates. "Parameters that are passed to PUT through
 * HTTP headers are instead passed as form fields to POST": the REST headers S3 lists for POST
 * (Cache-Control, Content-Type, Content-Disposition, Content-Encoding, Expires), `x-amz-meta-*`,
 * and the integrity fields Content-MD5 and `x-amz-checksum-*`.
 */
import { S3Error } from '@chute/errors';
import { parseObjectAcl } from '../acl.ts';
import type { ChecksumAlgorithm, ObjectAttrs } from '../backend/types.ts';
import {
  CHECKSUM_ALGORITHMS,
  checkChecksumValue,
  checksumHeader,
  parseAlgorithm,
} from '../body/checksums.ts';
import { parseTagging } from '../tagging.ts';

/** What S3 stores when a POST form has no Content-Type field (the file part's own is not used). */
export const POST_DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

const MAX_USER_METADATA = 2048;

const REST_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'expires'];

const STORAGE_CLASSES = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'GLACIER_IR',
  'DEEP_ARCHIVE',
  'EXPRESS_ONEZONE',
];

/** What to verify about the file's bytes before the object may be committed. */
export interface IntegrityPlan {
  contentMd5?: Buffer;
  checksum?: { algorithm: ChecksumAlgorithm; expected: string | undefined };
}

export interface PostObjectPlan {
  attrs: Omit<ObjectAttrs, 'checksum'>;
  integrity: IntegrityPlan;
}

/**
 * "Amazon S3 stores user-defined metadata … encoded as per RFC 2047 to make them mail-safe":
 * a value a form sent in UTF-8 is kept in the Q encoding, so it can travel in an HTTP header.
 */
export function mailSafe(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  const encoded = [...Buffer.from(value, 'utf8')]
    .map((b) => {
      if (b === 0x20) return '_';
      if (b > 0x20 && b < 0x7f && b !== 0x3d && b !== 0x3f && b !== 0x5f) return String.fromCharCode(b);
      return `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
  return `=?UTF-8?Q?${encoded}?=`;
}

/** Reads the object's attributes and integrity claims from the (checked, expanded) form fields. */
export function planPostObject(fields: Record<string, string>): PostObjectPlan {
  let contentType: string | undefined;
  const headers: Record<string, string> = {};
  const userMeta: Record<string, string> = {};
  const integrity: IntegrityPlan = {};
  const checksums: [ChecksumAlgorithm, string][] = [];
  let declaredAlgorithm: string | undefined;
  let tags: [string, string][] | undefined;
  let acl: ReturnType<typeof parseObjectAcl>;

  for (const [name, value] of Object.entries(fields)) {
    const lower = name.toLowerCase();
    if (lower === 'content-type') contentType = value;
    else if (REST_HEADERS.includes(lower)) headers[lower] = mailSafe(value);
    else if (lower.startsWith('x-amz-meta-')) userMeta[lower.slice('x-amz-meta-'.length)] = mailSafe(value);
    else if (lower === 'content-md5') {
      const raw = Buffer.from(value, 'base64');
      if (raw.length !== 16 || raw.toString('base64') !== value.trim()) throw new S3Error('InvalidDigest');
      integrity.contentMd5 = raw;
    } else if (lower === 'x-amz-checksum-algorithm') declaredAlgorithm = value;
    // "tagging: Specifies a set of tags to associate with the object" — a Tagging document.
    else if (lower === 'tagging') tags = parseTagging(value);
    else if (lower === 'acl') acl = parseObjectAcl(value);
    else if (lower === 'x-amz-storage-class' && !STORAGE_CLASSES.includes(value)) {
      throw new S3Error('InvalidStorageClass', undefined, { StorageClassRequested: value });
    } else if (lower === 'x-amz-checksum-crc64nvme') {
      throw new S3Error('NotImplemented', 'The CRC64NVME checksum is not implemented by chute s3');
    } else {
      const algorithm = CHECKSUM_ALGORITHMS.find((a) => checksumHeader(a) === lower);
      if (algorithm) checksums.push([algorithm, value]);
    }
  }

  if (checksums.length > 1) {
    throw new S3Error(
      'InvalidRequest',
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  }
  const algorithm = parseAlgorithm(declaredAlgorithm);
  const given = checksums[0];
  if (given) {
    checkChecksumValue(given[0], given[1], 'form field');
    if (algorithm && algorithm !== given[0]) {
      throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-algorithm form field is invalid.');
    }
    integrity.checksum = { algorithm: given[0], expected: given[1] };
  } else if (algorithm) {
    // "If a value is specified, you must include the matching checksum header. Otherwise, your
    // request will generate a 400 error."
    throw new S3Error(
      'InvalidRequest',
      `${checksumHeader(algorithm)} must be specified with x-amz-checksum-algorithm.`,
    );
  }

  // "the user-defined metadata is limited to 2 KB in size" (key and value bytes, as PutObject).
  const metaBytes = Object.entries(userMeta).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
    0,
  );
  if (metaBytes > MAX_USER_METADATA) {
    throw new S3Error('MetadataTooLarge', undefined, {
      Size: String(metaBytes),
      MaxSizeAllowed: String(MAX_USER_METADATA),
    });
  }

  return {
    attrs: {
      contentType: contentType ?? POST_DEFAULT_CONTENT_TYPE,
      headers,
      userMeta,
      ...(tags !== undefined && tags.length > 0 ? { tags } : {}),
      ...(acl !== undefined ? { acl } : {}),
    },
    integrity,
  };
}
