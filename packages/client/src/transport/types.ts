/**
 * A transport sends one request to storage and reports file bytes sent. It knows nothing of
 * grants, retries or expiry (those are upload.ts's); it answers with whatever storage said, and
 * throws only when there is no answer (`network_error`) or the signal fired (`aborted`).
 */
export type StorageBody =
  /** The bytes as they are (PUT, UploadPart). */
  | { kind: 'bytes'; blob: Blob }
  /** multipart/form-data: `fields` in order, then the file as the last field, `file` (POST Object). */
  | { kind: 'form'; fields: readonly (readonly [string, string])[]; file: Blob; filename: string };

export interface StorageRequest {
  method: 'POST' | 'PUT';
  url: string;
  /** Sent verbatim; `content-length` is taken from the body (and must agree with it). */
  headers: Readonly<Record<string, string>>;
  body: StorageBody;
  signal: AbortSignal;
  /** File bytes handed to the network so far (form framing not counted). */
  onProgress?: ((loaded: number) => void) | undefined;
}

export interface StorageResponse {
  status: number;
  header(name: string): string | null;
  text: string;
}

export interface Transport {
  readonly name: string;
  send(request: StorageRequest): Promise<StorageResponse>;
}

/** Headers a transport must not set itself: the body decides them. */
export function withoutLength(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'content-length') out[k] = v;
  return out;
}
