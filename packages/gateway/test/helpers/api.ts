/** What a test sends to a gateway: a path, and optionally a bearer token and a JSON body. */
export interface ApiInit {
  method?: string;
  token?: string;
  json?: unknown;
  headers?: Record<string, string>;
}

/**
 * fetch against a gateway whose base URL `base()` names (read per call: a harness may restart
 * it on another port). `token` becomes a Bearer header, `json` a JSON body (POST unless a method
 * is given); redirects are never followed, so a test sees the 302/303 itself.
 */
export function apiFetch(base: () => string) {
  return (path: string, init: ApiInit = {}): Promise<Response> =>
    fetch(`${base()}${path}`, {
      method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
      redirect: 'manual',
      headers: {
        ...(init.token !== undefined && { authorization: `Bearer ${init.token}` }),
        ...(init.json !== undefined && { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
    });
}
