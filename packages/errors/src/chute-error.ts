import { GATEWAY_CODES, type GatewayErrorCode } from './gateway-codes.ts';

// Re-exported so the package index needs one line for the whole gateway registry.
export {
  GATEWAY_CODES,
  type GatewayErrorCode,
  REJECTION_REASONS,
  type RejectionReason,
} from './gateway-codes.ts';

export interface ChuteErrorOptions {
  /** Replaces the registry's default message. Never sent to the client for a 5xx. */
  message?: string;
  /** Seconds; becomes the Retry-After header (quota_exceeded, unavailable). */
  retryAfter?: number;
  /** Extra response headers, e.g. WWW-Authenticate on a 401. */
  headers?: Record<string, string>;
  /** Safe, client-facing details (e.g. which field was invalid, the route's limit). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** The one error type the gateway throws for a request that fails; status comes from the registry. */
export class ChuteError extends Error {
  readonly code: GatewayErrorCode;
  readonly status: number;
  readonly retryAfter: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly #headers: Readonly<Record<string, string>>;

  constructor(code: GatewayErrorCode, options: ChuteErrorOptions = {}) {
    super(options.message ?? GATEWAY_CODES[code].message, { cause: options.cause });
    this.name = 'ChuteError';
    this.code = code;
    this.status = GATEWAY_CODES[code].status;
    this.retryAfter =
      options.retryAfter === undefined ? undefined : Math.max(1, Math.ceil(options.retryAfter));
    this.details = options.details;
    this.#headers = options.headers ?? {};
  }

  /** Headers the response must carry: the thrower's, plus Retry-After when set. */
  get headers(): Record<string, string> {
    const h: Record<string, string> = { ...this.#headers };
    if (this.retryAfter !== undefined) h['retry-after'] = String(this.retryAfter);
    return h;
  }
}

export function isChuteError(e: unknown): e is ChuteError {
  return e instanceof ChuteError;
}

/** Anything thrown, as a ChuteError: unknown errors become `internal`, keeping the original as cause. */
export function toChuteError(e: unknown): ChuteError {
  return isChuteError(e) ? e : new ChuteError('internal', { cause: e });
}

export interface ErrorJson {
  error: { code: GatewayErrorCode; message: string; requestId: string; details?: Record<string, unknown> };
}

/**
 * The response body for an error. A 5xx always carries the registry's message: an internal
 * message (a SQL error, a stack, a storage endpoint) is for the log, never for the client.
 */
export function toJson(error: unknown, requestId: string): ErrorJson {
  const e = toChuteError(error);
  const exposed = e.status < 500;
  const body: ErrorJson['error'] = {
    code: e.code,
    message: exposed ? e.message : GATEWAY_CODES[e.code].message,
    requestId,
  };
  if (exposed && e.details !== undefined) body.details = { ...e.details };
  return { error: body };
}
