import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Credentials, signHeaders, uriEncode, uriEncodePath } from '@chute/sigv4';
import { codeForStatus, isStorageError, StorageError } from './errors.ts';
import { parseError } from './xml.ts';

/** SHA-256 of the empty body: every request the gateway sends without a body signs this. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface Endpoint {
  /** Origin the request goes to (path-style: the endpoint; virtual-host: bucket.endpoint). */
  origin: string;
  /** Path prefix before the key: `/bucket` (path-style) or `` (virtual host). */
  prefix: string;
}

export function endpointFor(url: string, bucket: string, pathStyle: boolean): Endpoint {
  const u = new URL(url);
  if (pathStyle) return { origin: u.origin, prefix: `/${bucket}` };
  return { origin: `${u.protocol}//${bucket}.${u.host}`, prefix: '' };
}

export interface Call {
  operation: string;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** A small XML body (CompleteMultipartUpload); its SHA-256 is signed. */
  body?: string;
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Statuses that are answers, not errors (e.g. 404 for HEAD, 416 for a range past the end). */
  accept?: readonly number[];
}

export interface RequestOptions {
  fetch: typeof fetch;
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
}

/**
 * Signed requests to one bucket with retries: what every storage operation is built on. Only
 * transient failures (no answer, 5xx, throttling) are retried, with exponential backoff.
 */
export class S3Requests {
  readonly #credentials: Credentials;
  readonly #region: string;
  readonly #internal: Endpoint;
  readonly #fetch: typeof fetch;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #timeoutMs: number;

  constructor(credentials: Credentials, region: string, internal: Endpoint, options: RequestOptions) {
    this.#credentials = credentials;
    this.#region = region;
    this.#internal = internal;
    this.#fetch = options.fetch;
    this.#attempts = Math.max(1, options.attempts);
    this.#backoffMs = options.backoffMs;
    this.#timeoutMs = options.timeoutMs;
  }

  /** One request with retries; a non-accepted status becomes a StorageError. */
  send(call: Call): Promise<Response> {
    return this.retry(call.operation, () => this.once(call));
  }

  async retry<T>(operation: string, fn: () => Promise<T>): Promise<T> {
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

  async once(call: Call): Promise<Response> {
    const path = `${this.#internal.prefix}/${call.key ?? ''}`;
    const signed = signHeaders({
      method: call.method,
      endpoint: this.#internal.origin,
      path: call.key === undefined ? this.#internal.prefix || '/' : path,
      ...(call.query !== undefined && { query: call.query }),
      headers: call.headers ?? {},
      credentials: this.#credentials,
      region: this.#region,
      payloadHash:
        call.body === undefined ? EMPTY_SHA256 : createHash('sha256').update(call.body).digest('hex'),
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
      ...(call.body !== undefined && { body: call.body }),
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
