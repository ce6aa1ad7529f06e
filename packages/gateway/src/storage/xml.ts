import { XMLParser } from 'fast-xml-parser';
import type { ListPage, MultipartListing, StoredPart } from './types.ts';

/**
 * The few S3 XML documents the gateway reads. Tag values stay strings (`parseTagValue: false`):
 * a key such as `007` or `1e3` must not turn into a number.
 */
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  isArray: (name, jpath) =>
    jpath === 'ListBucketResult.Contents' ||
    name === 'CommonPrefixes' ||
    jpath === 'ListPartsResult.Part' ||
    jpath === 'ListMultipartUploadsResult.Upload',
});

type Doc = Record<string, unknown>;

function parse(xml: string): Doc {
  try {
    return parser.parse(xml) as Doc;
  } catch {
    return {};
  }
}

/** `<Error><Code/><Message/><RequestId/></Error>`, or undefined when the body is not one. */
export function parseError(xml: string): { code: string; message: string; requestId?: string } | undefined {
  const e = parse(xml)['Error'] as Doc | undefined;
  if (e === undefined || typeof e['Code'] !== 'string') return undefined;
  return {
    code: e['Code'],
    message: typeof e['Message'] === 'string' ? e['Message'] : '',
    ...(typeof e['RequestId'] === 'string' && { requestId: e['RequestId'] }),
  };
}

/** ListObjectsV2's `ListBucketResult`. */
export function parseListV2(xml: string): ListPage {
  const r = parse(xml)['ListBucketResult'] as Doc | undefined;
  if (r === undefined) throw new TypeError('not a ListBucketResult');
  const contents = (r['Contents'] as Doc[] | undefined) ?? [];
  const objects = contents.map((c) => ({
    key: String(c['Key'] ?? ''),
    size: Number(c['Size'] ?? 0),
    lastModified: Date.parse(String(c['LastModified'] ?? '')) || 0,
  }));
  const truncated = String(r['IsTruncated'] ?? 'false') === 'true';
  const token = r['NextContinuationToken'];
  return truncated && typeof token === 'string' && token !== ''
    ? { objects, continuation: token }
    : { objects };
}

/** CreateMultipartUpload's `InitiateMultipartUploadResult`: the upload id. */
export function parseInitiate(xml: string): string {
  const r = parse(xml)['InitiateMultipartUploadResult'] as Doc | undefined;
  const id = r?.['UploadId'];
  if (typeof id !== 'string' || id === '') throw new TypeError('not an InitiateMultipartUploadResult');
  return id;
}

/** ListParts' `ListPartsResult`: one page of parts and the marker for the next. */
export function parseListParts(xml: string): { parts: StoredPart[]; next?: string } {
  const r = parse(xml)['ListPartsResult'] as Doc | undefined;
  if (r === undefined) throw new TypeError('not a ListPartsResult');
  const parts = ((r['Part'] as Doc[] | undefined) ?? []).map((p) => ({
    number: Number(p['PartNumber']),
    etag: String(p['ETag'] ?? ''),
    size: Number(p['Size'] ?? 0),
  }));
  const truncated = String(r['IsTruncated'] ?? 'false') === 'true';
  const marker = r['NextPartNumberMarker'];
  return truncated && typeof marker === 'string' && marker !== '' ? { parts, next: marker } : { parts };
}

/** ListMultipartUploads' `ListMultipartUploadsResult`. */
export function parseListUploads(xml: string): MultipartListing {
  const r = parse(xml)['ListMultipartUploadsResult'] as Doc | undefined;
  if (r === undefined) throw new TypeError('not a ListMultipartUploadsResult');
  const uploads = ((r['Upload'] as Doc[] | undefined) ?? []).map((u) => ({
    key: String(u['Key'] ?? ''),
    uploadId: String(u['UploadId'] ?? ''),
    initiated: Date.parse(String(u['Initiated'] ?? '')) || 0,
  }));
  const truncated = String(r['IsTruncated'] ?? 'false') === 'true';
  const keyMarker = r['NextKeyMarker'];
  const idMarker = r['NextUploadIdMarker'];
  return truncated && typeof keyMarker === 'string'
    ? { uploads, next: { keyMarker, uploadIdMarker: typeof idMarker === 'string' ? idMarker : '' } }
    : { uploads };
}

/** UploadPartCopy's `CopyPartResult`: the new part's ETag. */
export function parseCopyPart(xml: string): string {
  const r = parse(xml)['CopyPartResult'] as Doc | undefined;
  const etag = r?.['ETag'];
  if (typeof etag !== 'string' || etag === '') throw new TypeError('not a CopyPartResult');
  return etag;
}

/** The XML escape for text content (keys, ETags) in a request body. */
export function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
