import { HttpRequest } from '@smithy/protocol-http';
import type { Credentials, WireRequest } from '../src/types.ts';
import { credentials, FIXED_NOW, oddKey, pick, REGIONS, sdkEncodePath, smithySigner } from './helpers.ts';

/** One request as the AWS SDK signs it, plus what our verifier should see on the wire. */
export interface SdkCase {
  label: string;
  creds: Credentials;
  region: string;
  now: number;
  wire: WireRequest;
  /** Lowercase names of headers the SDK signed (besides those it adds). */
  headers: Record<string, string>;
  payloadHash: string;
  endpoint: string;
  method: string;
  path: string;
  query: Record<string, string>;
}

export const PAYLOADS = [
  'UNSIGNED-PAYLOAD',
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
];

const esc = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function rawQueryOf(q: Record<string, string | string[] | null>): string {
  return Object.keys(q)
    .sort()
    .map((k) => `${esc(k)}=${esc(String(q[k]))}`)
    .join('&');
}

export function generateInput(rand: () => number, i: number) {
  const creds = credentials(rand);
  const region = pick(rand, REGIONS);
  const method = pick(rand, ['GET', 'PUT', 'HEAD', 'DELETE', 'POST']);
  const path = `/bucket/${oddKey(rand)}`;
  const endpoint = pick(rand, ['http://127.0.0.1:9000', 'https://s3.example.com', 'http://minio.local:80']);
  const headers: Record<string, string> = {};
  if (rand() < 0.5) headers['content-type'] = pick(rand, ['image/png', 'text/plain; charset=utf-8']);
  if (rand() < 0.5) headers['content-length'] = String(Math.floor(rand() * 1e9));
  if (rand() < 0.3) headers['content-md5'] = '1B2M2Y8AsgTpgAmY7PhCfg==';
  if (rand() < 0.4) headers['x-amz-meta-upload-id'] = `u-${i}`;
  if (rand() < 0.3) headers['x-amz-checksum-sha256'] = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
  if (rand() < 0.2) headers['x-amz-acl'] = 'private';
  if (rand() < 0.2) headers['range'] = 'bytes=0-9';
  const query: Record<string, string> = {};
  if (rand() < 0.3)
    Object.assign(query, { partNumber: String(1 + Math.floor(rand() * 10000)), uploadId: 'Up+load/ID=' });
  if (rand() < 0.2) query['uploads'] = '';
  if (rand() < 0.2) query['prefix'] = 'a b/ü';
  const now = FIXED_NOW + Math.floor(rand() * 1e10);
  return { creds, region, method, path, endpoint, headers, query, now };
}

/** The generated input as the SDK's HttpRequest, path encoded the SDK's way. */
function sdkRequest(g: ReturnType<typeof generateInput>, payloadHash: string): HttpRequest {
  const url = new URL(g.endpoint);
  return new HttpRequest({
    method: g.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: sdkEncodePath(g.path),
    query: { ...g.query },
    headers: { host: url.host, ...g.headers, 'x-amz-content-sha256': payloadHash },
  });
}

export async function sdkHeaderCase(rand: () => number, i: number): Promise<SdkCase> {
  const g = generateInput(rand, i);
  const payloadHash = pick(rand, PAYLOADS);
  const request = sdkRequest(g, payloadHash);
  const signed = (await smithySigner(g.creds, g.region).sign(request, {
    signingDate: new Date(g.now),
  })) as HttpRequest;
  return {
    label: `header #${i} ${g.method} ${g.path} ${payloadHash.slice(0, 20)}`,
    ...g,
    payloadHash,
    wire: {
      method: g.method,
      rawPath: signed.path,
      rawQuery: rawQueryOf(signed.query),
      headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v])),
    },
  };
}

export async function sdkQueryCase(rand: () => number, i: number): Promise<SdkCase> {
  const g = generateInput(rand, i);
  const expiresIn = 60 + Math.floor(rand() * 604000);
  const request = sdkRequest(g, 'UNSIGNED-PAYLOAD');
  const signed = (await smithySigner(g.creds, g.region).presign(request, {
    signingDate: new Date(g.now),
    expiresIn,
    // Half the cases hoist x-amz-* into the query (the SDK default), half sign them as headers.
    unhoistableHeaders: rand() < 0.5 ? new Set(Object.keys(g.headers)) : new Set(),
  })) as HttpRequest;
  // The client sends the headers that stayed headers, and nothing else but host.
  return {
    label: `query #${i} ${g.method} ${g.path}`,
    ...g,
    payloadHash: 'UNSIGNED-PAYLOAD',
    now: g.now + Math.floor(rand() * expiresIn * 1000),
    wire: {
      method: g.method,
      rawPath: signed.path,
      rawQuery: rawQueryOf(signed.query),
      headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v])),
    },
  };
}
