import { type Credentials, presignUrl, signPostPolicy, uriEncodePath } from '@chute/sigv4';
import { StorageError } from './errors.ts';
import { COPY_TIMEOUT_MS, copySource, MAX_COPY_BYTES, S3Multipart } from './multipart.ts';
import { type Endpoint, endpointFor, S3Requests } from './request.ts';
import type {
  CopyOptions,
  ListPage,
  MultipartListing,
  ObjectHead,
  PostForm,
  PostFormInput,
  PresignGetInput,
  PresignPartInput,
  PresignPutInput,
  Storage,
  StorageSettings,
  StoredPart,
} from './types.ts';
import { parseError, parseListV2 } from './xml.ts';

export type StorageConfig = StorageSettings;

export interface S3StorageOptions {
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Attempts per request for 5xx / network errors (default 4: the first and three retries). */
  attempts?: number;
  /** First backoff, ms (default 50); doubles each retry, with jitter. */
  backoffMs?: number;
  /** Per-request timeout for metadata operations, ms (default 30 s). */
  timeoutMs?: number;
  /** Copies above this go part by part (default: CopyObject's 5 GiB limit; tests lower it). */
  maxCopyBytes?: number;
}

/**
 * The storage interface over the S3 REST protocol: `fetch` plus @chute/sigv4. Requests the
 * gateway makes go to `endpoint`; URLs and forms for browsers are signed for `publicEndpoint`
 * (SigV4 signs the Host, so a URL signed for one host fails on another).
 */
export class S3Storage implements Storage {
  readonly bucket: string;
  readonly #region: string;
  readonly #credentials: Credentials;
  readonly #public: Endpoint;
  readonly #requests: S3Requests;
  readonly #multipart: S3Multipart;
  readonly #maxCopyBytes: number;

  constructor(config: StorageConfig, options: S3StorageOptions = {}) {
    this.bucket = config.bucket;
    this.#region = config.region;
    this.#credentials = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey };
    this.#public = endpointFor(
      config.publicEndpoint ?? config.endpoint,
      config.bucket,
      config.forcePathStyle,
    );
    this.#requests = new S3Requests(
      this.#credentials,
      this.#region,
      endpointFor(config.endpoint, config.bucket, config.forcePathStyle),
      {
        fetch: options.fetch ?? fetch,
        attempts: options.attempts ?? 4,
        backoffMs: options.backoffMs ?? 50,
        timeoutMs: options.timeoutMs ?? 30_000,
      },
    );
    this.#multipart = new S3Multipart(this.#requests, this.bucket);
    this.#maxCopyBytes = options.maxCopyBytes ?? MAX_COPY_BYTES;
  }

  async head(key: string, options: { checksum?: boolean } = {}): Promise<ObjectHead | undefined> {
    const res = await this.#requests.send({
      operation: 'HeadObject',
      method: 'HEAD',
      key,
      // Storage returns x-amz-checksum-* only when asked (and only if it kept one).
      ...(options.checksum && { headers: { 'x-amz-checksum-mode': 'ENABLED' } }),
      accept: [404],
    });
    if (res.status === 404) return undefined;
    const metadata: Record<string, string> = {};
    for (const [name, value] of res.headers) {
      if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = value;
    }
    const lastModified = res.headers.get('last-modified');
    return {
      size: Number(res.headers.get('content-length') ?? Number.NaN),
      etag: res.headers.get('etag') ?? '',
      contentType: res.headers.get('content-type') ?? undefined,
      metadata,
      checksumSha256: res.headers.get('x-amz-checksum-sha256') ?? undefined,
      lastModified: lastModified === null ? undefined : Date.parse(lastModified),
    };
  }

  async getRange(key: string, start: number, end: number): Promise<Buffer> {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end >= start)) {
      throw new RangeError(`bad range ${start}-${end}`);
    }
    const max = end - start + 1;
    return this.#requests.retry('GetObject', async () => {
      const res = await this.#requests.once({
        operation: 'GetObject',
        method: 'GET',
        key,
        headers: { range: `bytes=${start}-${end}` },
        accept: [416],
      });
      if (res.status === 416) {
        await res.body?.cancel();
        return Buffer.alloc(0);
      }
      // A server that ignores Range answers 200 with the whole object: read only what we asked
      // for and drop the connection, so a 5 GB object never lands in memory.
      const skip = res.status === 200 ? start : 0;
      return readAtMost(res.body, skip, max);
    });
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#requests.send({
      operation: 'GetObject',
      method: 'GET',
      key,
      timeoutMs: COPY_TIMEOUT_MS,
    });
    if (res.body === null) throw new StorageError('GetObject', 'EmptyBody', res.status, 'no body');
    return res.body;
  }

  async copy(from: string, to: string, options: CopyOptions = {}): Promise<void> {
    if (options.size !== undefined && options.size > this.#maxCopyBytes) {
      // Part by part: the new object is a new multipart upload, so it is given the source's type
      // and metadata itself (CopyObject's COPY directive does that for a single copy).
      const head = await this.head(from);
      if (head === undefined) throw new StorageError('CopyObject', 'NoSuchKey', 404, from);
      if (options.ifMatch !== undefined && head.etag !== options.ifMatch)
        throw new StorageError('CopyObject', 'PreconditionFailed', 412, 'the source changed');
      const headers: Record<string, string> = {};
      if (head.contentType !== undefined) headers['content-type'] = head.contentType;
      for (const [k, v] of Object.entries(head.metadata)) headers[`x-amz-meta-${k}`] = v;
      const uploadId = await this.#multipart.create(to, headers);
      return this.#multipart.copyParts(from, to, uploadId, options.size, head.etag);
    }
    const headers: Record<string, string> = {
      'x-amz-copy-source': copySource(this.bucket, from),
      'x-amz-metadata-directive': 'COPY',
    };
    if (options.ifMatch !== undefined) headers['x-amz-copy-source-if-match'] = options.ifMatch;
    await this.#requests.retry('CopyObject', async () => {
      const res = await this.#requests.once({
        operation: 'CopyObject',
        method: 'PUT',
        key: to,
        headers,
        timeoutMs: COPY_TIMEOUT_MS,
      });
      // S3 may answer a copy 200 and still fail it: the error is then the body ("CopyObject":
      // "a 200 OK response can contain either a success or an error").
      const body = await res.text();
      const err = parseError(body);
      if (err !== undefined) {
        throw new StorageError('CopyObject', err.code, 500, err.message, { requestId: err.requestId });
      }
    });
  }

  objectUrl(key: string): string {
    return `${this.#public.origin}${uriEncodePath(`${this.#public.prefix}/${key}`)}`;
  }

  createMultipart(key: string, headers: Record<string, string>): Promise<string> {
    return this.#multipart.create(key, headers);
  }

  presignPart(input: PresignPartInput): string {
    return presignUrl({
      method: 'PUT',
      endpoint: this.#public.origin,
      path: `${this.#public.prefix}/${input.key}`,
      query: { partNumber: String(input.partNumber), uploadId: input.uploadId },
      headers: { 'content-length': String(input.size) },
      credentials: this.#credentials,
      region: this.#region,
      expiresIn: input.expiresIn,
    });
  }

  listParts(key: string, uploadId: string): Promise<StoredPart[] | undefined> {
    return this.#multipart.listParts(key, uploadId);
  }

  completeMultipart(key: string, uploadId: string, parts: readonly StoredPart[]): Promise<void> {
    return this.#multipart.complete(key, uploadId, parts);
  }

  abortMultipart(key: string, uploadId: string): Promise<void> {
    return this.#multipart.abort(key, uploadId);
  }

  listMultipartUploads(prefix: string, marker?: MultipartListing['next']): Promise<MultipartListing> {
    return this.#multipart.list(prefix, marker);
  }

  async delete(key: string): Promise<void> {
    const res = await this.#requests.send({
      operation: 'DeleteObject',
      method: 'DELETE',
      key,
      accept: [404],
    });
    await res.body?.cancel();
  }

  async list(prefix: string, continuation?: string): Promise<ListPage> {
    const query: Record<string, string> = { 'list-type': '2', prefix, 'max-keys': '1000' };
    if (continuation !== undefined) query['continuation-token'] = continuation;
    const res = await this.#requests.send({ operation: 'ListObjectsV2', method: 'GET', query });
    return parseListV2(await res.text());
  }

  presignPut(input: PresignPutInput): string {
    return presignUrl({
      method: 'PUT',
      endpoint: this.#public.origin,
      path: `${this.#public.prefix}/${input.key}`,
      headers: input.headers,
      credentials: this.#credentials,
      region: this.#region,
      expiresIn: input.expiresIn,
    });
  }

  presignGet(input: PresignGetInput): string {
    const query: Record<string, string> = {};
    if (input.responseContentDisposition !== undefined)
      query['response-content-disposition'] = input.responseContentDisposition;
    if (input.responseContentType !== undefined) query['response-content-type'] = input.responseContentType;
    return presignUrl({
      method: 'GET',
      endpoint: this.#public.origin,
      path: `${this.#public.prefix}/${input.key}`,
      query,
      credentials: this.#credentials,
      region: this.#region,
      expiresIn: input.expiresIn,
    });
  }

  postForm(input: PostFormInput): PostForm {
    const signed = signPostPolicy({
      endpoint: this.#public.origin,
      bucket: this.bucket,
      key: input.key,
      conditions: input.conditions,
      fields: input.fields,
      credentials: this.#credentials,
      region: this.#region,
      expiresIn: input.expiresIn,
      virtualHost: this.#public.prefix === '',
    });
    return { url: signed.url, fields: signed.fields };
  }
}

/** Reads `max` bytes after skipping `skip`, then cancels the rest of the body. */
async function readAtMost(
  body: ReadableStream<Uint8Array> | null,
  skip: number,
  max: number,
): Promise<Buffer> {
  if (body === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let have = 0;
  let toSkip = skip;
  const reader = body.getReader();
  try {
    while (have < max) {
      const { done, value } = await reader.read();
      if (done) break;
      let chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if (toSkip > 0) {
        const n = Math.min(toSkip, chunk.length);
        chunk = chunk.subarray(n);
        toSkip -= n;
      }
      if (chunk.length === 0) continue;
      const take = chunk.subarray(0, max - have);
      chunks.push(take);
      have += take.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks, have);
}
