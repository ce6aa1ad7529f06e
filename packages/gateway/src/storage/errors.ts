/**
 * A failed storage request, typed by the S3 error code storage answered with (`NoSuchKey`,
 * `AccessDenied`, `PreconditionFailed`, … — RGW and MinIO add their own, so the code is any
 * string), or `NetworkError` when no answer came. Never shown to API clients: the HTTP layer turns
 * it into `unavailable` (503), and the message (which names the endpoint) goes to the log only.
 */
export class StorageError extends Error {
  readonly code: string;
  /** HTTP status storage answered with; 0 for a network failure or timeout. */
  readonly status: number;
  readonly requestId: string | undefined;
  readonly operation: string;

  constructor(
    operation: string,
    code: string,
    status: number,
    message: string,
    options: { requestId?: string | undefined; cause?: unknown } = {},
  ) {
    super(`${operation}: ${code} (${status}): ${message}`, { cause: options.cause });
    this.name = 'StorageError';
    this.operation = operation;
    this.code = code;
    this.status = status;
    this.requestId = options.requestId;
  }

  /** Worth another attempt: no answer, a 5xx, or S3's throttling codes. */
  get retryable(): boolean {
    return (
      this.status === 0 || this.status >= 500 || this.code === 'SlowDown' || this.code === 'RequestTimeout'
    );
  }
}

export function isStorageError(e: unknown, code?: string): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

/** The code S3 implies for a status when there is no body to read it from (HEAD). */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'BadRequest';
    case 403:
      return 'AccessDenied';
    case 404:
      return 'NoSuchKey';
    case 409:
      return 'Conflict';
    case 412:
      return 'PreconditionFailed';
    case 416:
      return 'InvalidRange';
    case 503:
      return 'SlowDown';
    default:
      return status >= 500 ? 'InternalError' : `Http${status}`;
  }
}
