import { XMLParser } from 'fast-xml-parser';
import type { ListPage } from './types.ts';

/**
 * The few S3 XML documents the gateway reads. Tag values stay strings (`parseTagValue: false`):
 * a key such as `007` or `1e3` must not turn into a number.
 */
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  isArray: (name, jpath) => jpath === 'ListBucketResult.Contents' || name === 'CommonPrefixes',
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
