import { uriEncode } from '@chute/sigv4';
import { isStorageError, StorageError } from './errors.ts';
import type { S3Requests } from './request.ts';
import type { MultipartListing, StoredPart } from './types.ts';
import {
  parseCopyPart,
  parseError,
  parseInitiate,
  parseListParts,
  parseListUploads,
  xmlText,
} from './xml.ts';

/** A server-side copy of a 5 GiB object can take minutes on engines that copy bytes (RGW). */
export const COPY_TIMEOUT_MS = 15 * 60_000;
/** "You can create a copy of your object up to 5 GB in size in a single atomic action" (CopyObject). */
export const MAX_COPY_BYTES = 5 * 2 ** 30;
/** Ranges of a part-by-part copy: well under UploadPartCopy's 5 GiB, few enough for 5 TiB (≤ 10,000). */
const COPY_PART_BYTES = 1024 * 2 ** 20;

/** The `x-amz-copy-source` header: bucket/key with each segment URI-encoded. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key
    .split('/')
    .map((p) => uriEncode(p))
    .join('/')}`;
}

/**
 * Multipart operations over S3 requests: create, list parts, complete, abort, list uploads, and
 * the part-by-part copy that objects over 5 GiB need.
 */
export class S3Multipart {
  readonly #requests: S3Requests;
  readonly #bucket: string;

  constructor(requests: S3Requests, bucket: string) {
    this.#requests = requests;
    this.#bucket = bucket;
  }

  async create(key: string, headers: Record<string, string>): Promise<string> {
    const res = await this.#requests.send({
      operation: 'CreateMultipartUpload',
      method: 'POST',
      key,
      query: { uploads: '' },
      headers,
    });
    return parseInitiate(await res.text());
  }

  async listParts(key: string, uploadId: string): Promise<StoredPart[] | undefined> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    do {
      const query: Record<string, string> = { uploadId, 'max-parts': '1000' };
      if (marker !== undefined) query['part-number-marker'] = marker;
      let text: string;
      try {
        const res = await this.#requests.send({ operation: 'ListParts', method: 'GET', key, query });
        text = await res.text();
      } catch (e) {
        // S3 says NoSuchUpload; Ceph RGW says NoSuchKey for an upload completed or aborted.
        if (isStorageError(e, 'NoSuchUpload') || isStorageError(e, 'NoSuchKey')) return undefined;
        throw e;
      }
      const page = parseListParts(text);
      parts.push(...page.parts);
      marker = page.next;
    } while (marker !== undefined);
    return parts;
  }

  async complete(key: string, uploadId: string, parts: readonly StoredPart[]): Promise<void> {
    const body = `<CompleteMultipartUpload>${parts
      .map((p) => `<Part><PartNumber>${p.number}</PartNumber><ETag>${xmlText(p.etag)}</ETag></Part>`)
      .join('')}</CompleteMultipartUpload>`;
    const res = await this.#requests.send({
      operation: 'CompleteMultipartUpload',
      method: 'POST',
      key,
      query: { uploadId },
      headers: { 'content-type': 'application/xml' },
      body,
      timeoutMs: COPY_TIMEOUT_MS,
    });
    // "Processing of a Complete Multipart Upload request could take several minutes … Amazon S3
    // could fail the request after the initial 200 OK response has been sent": the error is the body.
    const err = parseError(await res.text());
    if (err !== undefined) {
      throw new StorageError('CompleteMultipartUpload', err.code, 500, err.message, {
        requestId: err.requestId,
      });
    }
  }

  async abort(key: string, uploadId: string): Promise<void> {
    const res = await this.#requests.send({
      operation: 'AbortMultipartUpload',
      method: 'DELETE',
      key,
      query: { uploadId },
      accept: [404],
    });
    await res.body?.cancel();
  }

  async list(prefix: string, marker?: MultipartListing['next']): Promise<MultipartListing> {
    const query: Record<string, string> = { uploads: '', prefix, 'max-uploads': '1000' };
    if (marker !== undefined) {
      query['key-marker'] = marker.keyMarker;
      query['upload-id-marker'] = marker.uploadIdMarker;
    }
    const res = await this.#requests.send({ operation: 'ListMultipartUploads', method: 'GET', query });
    return parseListUploads(await res.text());
  }

  /**
   * Copies an object of `size` bytes into the upload `uploadId` part by part (UploadPartCopy),
   * every part pinned to the source ETag when given, then completes; aborts on any failure so no
   * parts are left behind.
   */
  async copyParts(
    from: string,
    to: string,
    uploadId: string,
    size: number,
    ifMatch: string | undefined,
  ): Promise<void> {
    try {
      const parts: StoredPart[] = [];
      for (let start = 0, n = 1; start < size; start += COPY_PART_BYTES, n++) {
        const end = Math.min(size, start + COPY_PART_BYTES) - 1;
        const headers: Record<string, string> = {
          'x-amz-copy-source': copySource(this.#bucket, from),
          'x-amz-copy-source-range': `bytes=${start}-${end}`,
        };
        if (ifMatch !== undefined) headers['x-amz-copy-source-if-match'] = ifMatch;
        const res = await this.#requests.send({
          operation: 'UploadPartCopy',
          method: 'PUT',
          key: to,
          query: { partNumber: String(n), uploadId },
          headers,
          timeoutMs: COPY_TIMEOUT_MS,
        });
        const text = await res.text();
        const err = parseError(text);
        if (err !== undefined) throw new StorageError('UploadPartCopy', err.code, 500, err.message);
        parts.push({ number: n, etag: parseCopyPart(text), size: end - start + 1 });
      }
      await this.complete(to, uploadId, parts);
    } catch (e) {
      await this.abort(to, uploadId).catch(() => {});
      throw e;
    }
  }
}
