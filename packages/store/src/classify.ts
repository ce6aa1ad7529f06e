import { S3Error } from '@chute/errors';

export type OperationName =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'HeadBucket'
  | 'DeleteBucket'
  | 'GetBucketLocation'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListObjectVersions'
  | 'PutObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'DeleteObjects'
  | 'CopyObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'ListMultipartUploads'
  | 'PutBucketCors'
  | 'GetBucketCors'
  | 'DeleteBucketCors'
  | 'PutBucketAcl'
  | 'GetBucketAcl'
  | 'GetObjectTagging'
  | 'PutObjectTagging'
  | 'DeleteObjectTagging'
  | 'PostObject'
  | 'Preflight';

export interface Classified {
  op: OperationName;
  bucket?: string;
  key?: string;
  /** Bucket taken from the Host header (virtual-hosted style); the signer needs to know. */
  virtualBucket?: string;
}

/** Sub-resources S3 has that this store does not implement: answered NotImplemented, not misrouted. */
const UNSUPPORTED = [
  'policy',
  'versioning',
  'tagging',
  'lifecycle',
  'website',
  'logging',
  'notification',
  'replication',
  'encryption',
  'object-lock',
  'retention',
  'legal-hold',
  'accelerate',
  'requestPayment',
  'analytics',
  'metrics',
  'inventory',
  'intelligent-tiering',
  'ownershipControls',
  'publicAccessBlock',
  'attributes',
  'torrent',
  'restore',
  'select',
  'policyStatus',
];

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/** The bucket named by the Host header, if the host is `<bucket>.<a served domain>`. */
export function virtualHostBucket(
  hostHeader: string | undefined,
  domains: readonly string[],
): string | undefined {
  if (!hostHeader) return undefined;
  const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
  for (const d of ['localhost', ...domains]) {
    const suffix = `.${d.toLowerCase()}`;
    if (host.endsWith(suffix) && host.length > suffix.length) return host.slice(0, -suffix.length);
  }
  return undefined;
}

/**
 * Method + path (path style or virtual-hosted style) + query sub-resources → operation, as S3
 * dispatches. `rawPath` is still percent-encoded; the key is decoded exactly once here.
 */
export function classify(
  method: string,
  rawPath: string,
  query: URLSearchParams,
  headers: Record<string, string | string[] | undefined>,
  domains: readonly string[],
): Classified {
  const vb = virtualHostBucket(headers.host as string | undefined, domains);
  let bucket: string | undefined;
  let key: string | undefined;
  if (vb !== undefined) {
    bucket = vb;
    const rest = rawPath.slice(1);
    key = rest === '' ? undefined : decode(rest);
  } else {
    const rest = rawPath.slice(1);
    const slash = rest.indexOf('/');
    if (rest === '') bucket = undefined;
    else if (slash < 0) bucket = decode(rest);
    else {
      bucket = decode(rest.slice(0, slash));
      const k = rest.slice(slash + 1);
      key = k === '' ? undefined : decode(k);
    }
  }
  const has = (n: string) => query.has(n);
  const out = (op: OperationName): Classified => ({ op, bucket, key, virtualBucket: vb });

  if (method === 'OPTIONS') return out('Preflight');
  if (bucket === undefined) {
    if (method === 'GET') return out('ListBuckets');
    throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'SERVICE' });
  }
  const objectTagging =
    key !== undefined && (method === 'GET' || method === 'PUT' || method === 'DELETE') && has('tagging');
  for (const sub of UNSUPPORTED) {
    if (sub === 'tagging' && objectTagging) continue;
    if (has(sub)) throw new S3Error('NotImplemented', 'This sub-resource is not implemented by chute s3');
  }
  if (key === undefined) {
    switch (method) {
      case 'GET':
        if (has('location')) return out('GetBucketLocation');
        if (has('cors')) return out('GetBucketCors');
        if (has('acl')) return out('GetBucketAcl');
        if (has('uploads')) return out('ListMultipartUploads');
        if (has('versions')) return out('ListObjectVersions');
        if (query.get('list-type') === '2') return out('ListObjectsV2');
        return out('ListObjects');
      case 'HEAD':
        return out('HeadBucket');
      case 'PUT':
        if (has('cors')) return out('PutBucketCors');
        if (has('acl')) return out('PutBucketAcl');
        return out('CreateBucket');
      case 'DELETE':
        if (has('cors')) return out('DeleteBucketCors');
        return out('DeleteBucket');
      case 'POST':
        if (has('delete')) return out('DeleteObjects');
        return out('PostObject');
    }
    throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'BUCKET' });
  }
  switch (method) {
    case 'GET':
      if (has('uploadId')) return out('ListParts');
      if (objectTagging) return out('GetObjectTagging');
      if (has('acl')) throw new S3Error('NotImplemented', 'Object ACLs are not implemented by chute s3');
      return out('GetObject');
    case 'HEAD':
      return out('HeadObject');
    case 'PUT':
      if (has('acl')) throw new S3Error('NotImplemented', 'Object ACLs are not implemented by chute s3');
      if (objectTagging) return out('PutObjectTagging');
      if (has('partNumber') || has('uploadId')) {
        return out(headers['x-amz-copy-source'] !== undefined ? 'UploadPartCopy' : 'UploadPart');
      }
      if (headers['x-amz-copy-source'] !== undefined) return out('CopyObject');
      return out('PutObject');
    case 'DELETE':
      if (has('uploadId')) return out('AbortMultipartUpload');
      if (objectTagging) return out('DeleteObjectTagging');
      return out('DeleteObject');
    case 'POST':
      if (has('uploads')) return out('CreateMultipartUpload');
      if (has('uploadId')) return out('CompleteMultipartUpload');
      break;
  }
  throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'OBJECT' });
}
