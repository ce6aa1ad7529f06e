/**
 * The one error the client throws. `code` is the gateway's code (`too_large`, `grant_expired`, …,
 * see docs/errors.md), storage's S3 code (`AccessDenied`, `SlowDown`, …), or one of the client's
 * own below; `source` says which of the three it is, so a caller never has to guess.
 */
export type ClientErrorCode =
  /** No HTTP answer: connection refused or reset, DNS, TLS, a body stream that failed. */
  | 'network_error'
  /** The caller's AbortSignal fired. */
  | 'aborted'
  /** An answer that is not what the API promises (not JSON, missing fields). */
  | 'invalid_response'
  /** The grant named a method this client does not know. */
  | 'unsupported_method';

export type ErrorSource = 'gateway' | 'storage' | 'client';

export interface ChuteClientErrorInit {
  source: ErrorSource;
  status?: number | undefined;
  requestId?: string | undefined;
  /** Retry-After of the answer, in ms from when it arrived. */
  retryAfterMs?: number | undefined;
  /** The upload (grant) this happened to, once there was one. */
  uploadId?: string | undefined;
  details?: Record<string, unknown> | undefined;
  cause?: unknown;
}

export class ChuteClientError extends Error {
  override name = 'ChuteClientError';
  readonly code: string;
  readonly source: ErrorSource;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  uploadId: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ClientErrorCode | (string & {}), message: string, init: ChuteClientErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.source = init.source;
    this.status = init.status;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
    this.uploadId = init.uploadId;
    this.details = init.details;
  }
}

export function isChuteClientError(e: unknown): e is ChuteClientError {
  return e instanceof ChuteClientError;
}

export function abortedError(signal: AbortSignal): ChuteClientError {
  return new ChuteClientError('aborted', 'The upload was aborted.', {
    source: 'client',
    cause: signal.reason,
  });
}

/** Any failure of fetch/XHR/body streams as a typed error; an abort stays an abort. */
export function networkError(e: unknown, signal: AbortSignal, what: string): ChuteClientError {
  if (e instanceof ChuteClientError) return e;
  if (signal.aborted) return abortedError(signal);
  const detail = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
  return new ChuteClientError('network_error', `${what}: ${detail}`, { source: 'client', cause: e });
}

/**
 * The gateway's `{error: {code, message, requestId}}`. Anything else with a 4xx/5xx status (a
 * proxy's HTML page) still becomes an error with the status, coded `http_<status>`.
 */
export function gatewayError(status: number, body: string, headers: Headers): ChuteClientError {
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'), Date.now());
  const requestId = headers.get('x-request-id') ?? undefined;
  try {
    const json = JSON.parse(body) as {
      error?: { code?: unknown; message?: unknown; requestId?: unknown; details?: unknown };
    };
    const e = json.error;
    if (e !== undefined && typeof e.code === 'string') {
      return new ChuteClientError(e.code, typeof e.message === 'string' ? e.message : e.code, {
        source: 'gateway',
        status,
        requestId: typeof e.requestId === 'string' ? e.requestId : requestId,
        retryAfterMs,
        details: isRecord(e.details) ? e.details : undefined,
      });
    }
  } catch {
    // not JSON: fall through
  }
  return new ChuteClientError(`http_${status}`, `The gateway answered ${status}.`, {
    source: 'gateway',
    status,
    requestId,
    retryAfterMs,
  });
}

/** S3's XML error document (`<Error><Code>…</Code><Message>…</Message>…`), read without a parser. */
export function storageError(status: number, body: string, retryAfter: string | null): ChuteClientError {
  const tag = (name: string) => body.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];
  const code = tag('Code') ?? `http_${status}`;
  // Ceph RGW sends some errors (AccessDenied) with no Message at all.
  const message = tag('Message') || `Storage answered ${status} ${code}.`;
  return new ChuteClientError(code, unescapeXml(message), {
    source: 'storage',
    status,
    requestId: tag('RequestId'),
    retryAfterMs: parseRetryAfter(retryAfter, Date.now()),
  });
}

/**
 * Retry-After (RFC 9110 §10.2.3): "either an HTTP-date or a number of seconds". Returns ms from
 * `now`, never negative; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP-date names a weekday and a month; Date.parse would also take "-5" or "1.5" as years.
  if (!/[A-Za-z]/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
