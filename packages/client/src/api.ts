import { ChuteClientError, gatewayError, networkError } from './errors.ts';
import type { Grant, GrantRequest, PartUrls, StoredParts, Upload } from './types.ts';

/** Where the gateway is and who we are to it. `getToken` is asked before every call (tokens expire). */
export interface GatewayAuth {
  /** The gateway's base URL, e.g. `https://uploads.example.com` (no `/v1`). */
  endpoint: string;
  token?: string | undefined;
  getToken?: (() => string | Promise<string>) | undefined;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch | undefined;
}

async function call<T>(
  auth: GatewayAuth,
  path: string,
  init: { method: 'GET' | 'POST' | 'DELETE'; json?: unknown; signal: AbortSignal },
): Promise<{ status: number; body: T }> {
  const token = auth.getToken ? await auth.getToken() : auth.token;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== undefined && token !== '') headers['authorization'] = `Bearer ${token}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const url = `${auth.endpoint.replace(/\/+$/, '')}${path}`;
  let res: Response;
  let text: string;
  try {
    res = await (auth.fetch ?? fetch)(url, {
      method: init.method,
      headers,
      signal: init.signal,
      ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
    });
    text = await res.text();
  } catch (e) {
    throw networkError(e, init.signal, `${init.method} ${path}`);
  }
  if (res.status >= 400) throw gatewayError(res.status, text, res.headers);
  if (res.status === 204) return { status: res.status, body: undefined as T };
  try {
    return { status: res.status, body: JSON.parse(text) as T };
  } catch (e) {
    throw new ChuteClientError(
      'invalid_response',
      `${init.method} ${path} answered ${res.status} without JSON.`,
      {
        source: 'gateway',
        status: res.status,
        cause: e,
      },
    );
  }
}

const uploadPath = (id: string) => `/v1/uploads/${encodeURIComponent(id)}`;

/** POST /v1/grants → the grant, and when it reached us (its clock starts then). */
export async function requestGrant(
  auth: GatewayAuth,
  request: GrantRequest,
  signal: AbortSignal,
): Promise<{ grant: Grant; receivedAt: number }> {
  const { body } = await call<Grant>(auth, '/v1/grants', { method: 'POST', json: request, signal });
  const receivedAt = Date.now();
  if (typeof body?.id !== 'string' || typeof body.method !== 'string')
    throw new ChuteClientError('invalid_response', 'The grant has no id or method.', { source: 'gateway' });
  return { grant: body, receivedAt };
}

/**
 * POST /v1/uploads/{id}/complete (idempotent, so retrying it is safe). Multipart sends the parts
 * it uploaded; the gateway checks them against storage's ListParts before completing.
 */
export async function completeUpload(
  auth: GatewayAuth,
  id: string,
  signal: AbortSignal,
  parts?: readonly { number: number; etag: string }[],
): Promise<Upload> {
  const { body } = await call<Upload>(auth, `${uploadPath(id)}/complete`, {
    method: 'POST',
    signal,
    ...(parts !== undefined && { json: { parts } }),
  });
  return body;
}

/** GET /v1/uploads/{id}. */
export async function getUpload(auth: GatewayAuth, id: string, signal: AbortSignal): Promise<Upload> {
  return (await call<Upload>(auth, uploadPath(id), { method: 'GET', signal })).body;
}

// --- Multipart ---------------------------------------------------------------------------------

/**
 * POST /v1/uploads/{id}/parts?from=&count= → fresh URLs for parts from..from+count-1 (count ≤
 * 1000); 409 once the upload is no longer granted, 410 grant_expired past its 24 h.
 */
export async function requestPartUrls(
  auth: GatewayAuth,
  id: string,
  range: { from: number; count: number },
  signal: AbortSignal,
): Promise<{ urls: PartUrls; receivedAt: number }> {
  const q = `?from=${range.from}&count=${range.count}`;
  const { body } = await call<PartUrls>(auth, `${uploadPath(id)}/parts${q}`, { method: 'POST', signal });
  return { urls: body, receivedAt: Date.now() };
}

/** GET /v1/uploads/{id}/parts → the plan and what storage already holds (ListParts, every page). */
export async function listStoredParts(
  auth: GatewayAuth,
  id: string,
  signal: AbortSignal,
): Promise<StoredParts> {
  const { body } = await call<StoredParts>(auth, `${uploadPath(id)}/parts`, { method: 'GET', signal });
  if (!Array.isArray(body?.parts))
    throw new ChuteClientError('invalid_response', 'GET …/parts answered without a part list.', {
      source: 'gateway',
    });
  return body;
}

/**
 * DELETE /v1/uploads/{id} → 200 with the upload, now `withdrawn`: the gateway aborts the multipart
 * upload on storage (its parts freed) and releases the quota. 409 once completed.
 */
export async function abortUpload(auth: GatewayAuth, id: string, signal: AbortSignal): Promise<Upload> {
  return (await call<Upload>(auth, uploadPath(id), { method: 'DELETE', signal })).body;
}
