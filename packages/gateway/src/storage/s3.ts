import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Credentials,
  presignUrl,
  signHeaders,
  signPostPolicy,
  uriEncode,
  uriEncodePath,
} from '@chute/sigv4';
import { codeForStatus, isStorageError, StorageError } from './errors.ts';
import type {
  CopyOptions,
  ListPage,
  ObjectHead,
  PostForm,
  PostFormInput,
  PresignGetInput,
  PresignPutInput,
  Storage,
  StorageSettings,
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
}

/** SHA-256 of the empty body: every request the gateway sends without a body signs this. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** A server-side copy of a 5 GiB object can take minutes on engines that copy bytes (RGW). */
const COPY_TIMEOUT_MS = 15 * 60_000;

interface Endpoint {
  /** Origin the request goes to (path-style: the endpoint; virtual-host: bucket.endpoint). */
  origin: string;
  /** Path prefix before the key: `/bucket` (path-style) or `` (virtual host). */
  prefix: string;
}

function endpointFor(url: string, bucket: string, pathStyle: boolean): Endpoint {
  const u = new URL(url);
  if (pathStyle) return { origin: u.origin, prefix: `/${bucket}` };
  return { origin: `${u.protocol}//${bucket}.${u.host}`, prefix: '' };
}

interface Call {
  operation: string;
  method: 'GET' | 'HEAD' | 'PUT' | 'DELETE';
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Statuses that are answers, not errors (e.g. 404 for HEAD, 416 for a range past the end). */
  accept?: readonly number[];
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
  readonly #internal: Endpoint;
  readonly #public: Endpoint;
  readonly #fetch: typeof fetch;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #timeoutMs: number;

  constructor(config: StorageConfig, options: S3StorageOptions = {}) {
    this.bucket = config.bucket;
    this.#region = config.region;
    this.#credentials = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey };
    this.#internal = endpointFor(config.endpoint, config.bucket, config.forcePathStyle);
    this.#public = endpointFor(
      config.publicEndpoint ?? config.endpoint,
      config.bucket,
      config.forcePathStyle,
    );
    this.#fetch = options.fetch ?? fetch;
    this.#attempts = Math.max(1, options.attempts ?? 4);
    this.#backoffMs = options.backoffMs ?? 50;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async head(key: string, options: { checksum?: boolean } = {}): Promise<ObjectHead | undefined> {
    const res = await this.#send({
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
    return this.#retry('GetObject', async () => {
      const res = await this.#once({
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
    const res = await this.#send({ operation: 'GetObject', method: 'GET', key, timeoutMs: COPY_TIMEOUT_MS });
    if (res.body === null) throw new StorageError('GetObject', 'EmptyBody', res.status, 'no body');
    return res.body;
  }

  async copy(from: string, to: string, options: CopyOptions = {}): Promise<void> {
    const headers: Record<string, string> = {
      'x-amz-copy-source': `${this.bucket}/${from
        .split('/')
        .map((p) => uriEncode(p))
        .join('/')}`,
      'x-amz-metadata-directive': 'COPY',
    };
    if (options.ifMatch !== undefined) headers['x-amz-copy-source-if-match'] = options.ifMatch;
    await this.#retry('CopyObject', async () => {
      const res = await this.#once({
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

  async delete(key: string): Promise<void> {
    const res = await this.#send({ operation: 'DeleteObject', method: 'DELETE', key, accept: [404] });
    await res.body?.cancel();
  }

  async list(prefix: string, continuation?: string): Promise<ListPage> {
    const query: Record<string, string> = { 'list-type': '2', prefix, 'max-keys': '1000' };
    if (continuation !== undefined) query['continuation-token'] = continuation;
    const res = await this.#send({ operation: 'ListObjectsV2', method: 'GET', query });
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

  /** One request with retries; a non-accepted status becomes a StorageError. */
  #send(call: Call): Promise<Response> {
    return this.#retry(call.operation, () => this.#once(call));
  }

  async #retry<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const err = isStorageError(e)
          ? e
          : new StorageError(operation, 'NetworkError', 0, e instanceof Error ? e.message : String(e), {
              cause: e,
            });
        if (!err.retryable || attempt >= this.#attempts) throw err;
        // Exponential backoff with full jitter: 50, 100, 200 ms ceilings by default.
        await sleep(Math.random() * this.#backoffMs * 2 ** (attempt - 1));
      }
    }
  }

  async #once(call: Call): Promise<Response> {
    const path = `${this.#internal.prefix}/${call.key ?? ''}`;
    const signed = signHeaders({
      method: call.method,
      endpoint: this.#internal.origin,
      path: call.key === undefined ? this.#internal.prefix || '/' : path,
      ...(call.query !== undefined && { query: call.query }),
      headers: call.headers ?? {},
      credentials: this.#credentials,
      region: this.#region,
      payloadHash: EMPTY_SHA256,
    });
    delete signed['host']; // fetch sends the same Host itself
    const encodedPath = uriEncodePath(call.key === undefined ? this.#internal.prefix || '/' : path);
    const qs =
      call.query === undefined
        ? ''
        : `?${Object.entries(call.query)
            .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
            .join('&')}`;
    const res = await this.#fetch(`${this.#internal.origin}${encodedPath}${qs}`, {
      method: call.method,
      headers: signed,
      signal: AbortSignal.timeout(call.timeoutMs ?? this.#timeoutMs),
      redirect: 'manual',
    });
    if (res.ok || call.accept?.includes(res.status)) return res;
    const body = call.method === 'HEAD' ? '' : await res.text().catch(() => '');
    const parsed = parseError(body);
    throw new StorageError(
      call.operation,
      parsed?.code ?? codeForStatus(res.status),
      res.status,
      parsed?.message ?? res.statusText,
      { requestId: parsed?.requestId ?? res.headers.get('x-amz-request-id') ?? undefined },
    );
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
