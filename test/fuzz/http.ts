import { createHash } from 'node:crypto';
import http from 'node:http';
import { signHeaders, uriDecode } from '@chute/sigv4';

export const CREDS = { accessKeyId: 'AKIDCHUTEFUZZ', secretAccessKey: 'chute-fuzz-secret-key' };
export const REGION = 'us-east-1';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** Closes the pooled connections (call in `after`). */
export function closeAgent(): void {
  agent.destroy();
}

/**
 * A request over node:http with the path sent exactly as given (fetch would resolve `..` and
 * `%2e%2e` segments before they reach the server, which is the very thing under test).
 */
export function send(
  origin: string,
  method: string,
  rawPathAndQuery: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<Answer> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: hostname, port, method, path: rawPathAndQuery, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A header-signed request for a raw (still percent-encoded) path: signed over the path the
 * verifier canonicalises, so malformed escapes reach the operation instead of failing the
 * signature.
 */
export function sendSigned(
  origin: string,
  method: string,
  rawPath: string,
  rawQuery: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<Answer> {
  const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  const query = Object.fromEntries(new URLSearchParams(rawQuery));
  const signed = signHeaders({
    method,
    endpoint: origin,
    path: uriDecode(rawPath),
    query,
    headers: { ...headers, 'content-length': String(bytes.length) },
    credentials: CREDS,
    region: REGION,
    payloadHash: createHash('sha256').update(bytes).digest('hex'),
  });
  return send(origin, method, rawQuery === '' ? rawPath : `${rawPath}?${rawQuery}`, signed, bytes);
}

export const md5b64 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');
export const codeOf = (body: string): string | undefined => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
