import { toAmzDate } from './amz-date.ts';
import { canonicalHeaderValue } from './canonical-headers.ts';
import { joinQuery, type QueryPair, sortEncodedPairs } from './canonical-query.ts';
import { canonicalRequest } from './canonical-request.ts';
import { parseEndpoint } from './endpoint.ts';
import { signingKeyFor } from './signing-key.ts';
import { ALGORITHM, credentialScope, stringToSign } from './string-to-sign.ts';
import type { PresignInput } from './types.ts';
import { uriDecode, uriEncode, uriEncodePath } from './uri-encode.ts';

/**
 * Query-string authentication ("Authenticating Requests: Using Query Parameters"). Every header
 * given is signed as a header (not hoisted into the query as the AWS SDK does for x-amz-*):
 * a client must then send exactly those values, which is how a grant pins Content-Length,
 * Content-Type and metadata. The URL's query is ordered like the AWS SDK's (sorted by raw name)
 * so the two can be compared byte for byte.
 */

export const MAX_EXPIRES = 604800;

const AUTH_PARAMS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
]);

type Pair = QueryPair;
const PLAIN_LIST = /^[a-z0-9\-._~;]*$/;
const byFirst = (a: Pair, b: Pair) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

export function presignUrl(input: PresignInput): string {
  const { expiresIn } = input;
  // "X-Amz-Expires ... minimum value you can set is 1, and the maximum is 604800 (seven days)".
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES) {
    throw new RangeError(`expiresIn must be an integer in 1..${MAX_EXPIRES}, got ${expiresIn}`);
  }
  const { credentials } = input;
  const service = input.service ?? 's3';
  const endpoint = parseEndpoint(input.endpoint);
  const date = toAmzDate(input.now ?? Date.now());
  const scope = credentialScope(date.short, input.region, service);

  // Signed headers: host plus whatever the caller gave, names lowercased, sorted.
  const headers: Pair[] = [['host', endpoint.host]];
  if (input.headers !== undefined) {
    for (const name in input.headers) {
      const lower = name.toLowerCase();
      const value = canonicalHeaderValue(String(input.headers[name]));
      if (lower === 'host') headers[0] = ['host', value];
      else headers.push([lower, value]);
    }
    headers.sort(byFirst);
  }
  let block = '';
  let signedHeaders = '';
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    block += `${name}:${value}\n`;
    signedHeaders += i === 0 ? name : `;${name}`;
  }

  // Encoded pairs. The canonical query sorts by encoded name; the URL (like the SDK's) sorts by
  // raw name. The two orders agree whenever no name needed encoding, the usual case.
  const pairs: Pair[] = [];
  let namesPlain = true;
  if (input.query !== undefined) {
    for (const name in input.query) {
      if (AUTH_PARAMS.has(name))
        throw new TypeError(`query must not contain ${name}: it is set by presignUrl`);
      const encodedName = uriEncode(name);
      if (encodedName !== name) namesPlain = false;
      pairs.push([encodedName, uriEncode(String(input.query[name]))]);
    }
  }
  pairs.push(
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', encodedCredential(credentials.accessKeyId, scope)],
    ['X-Amz-Date', date.long],
    ['X-Amz-Expires', String(expiresIn)],
    // Header names are tokens, nearly always [a-z0-9-]: then only the ';' separators need escaping.
    [
      'X-Amz-SignedHeaders',
      PLAIN_LIST.test(signedHeaders) ? signedHeaders.replaceAll(';', '%3B') : uriEncode(signedHeaders),
    ],
  );
  if (credentials.sessionToken) pairs.push(['X-Amz-Security-Token', uriEncode(credentials.sessionToken)]);
  sortEncodedPairs(pairs);
  const query = joinQuery(pairs);

  const path = uriEncodePath(input.path.startsWith('/') ? input.path : `/${input.path}`);
  const payloadHash = input.payloadHash ?? 'UNSIGNED-PAYLOAD';
  const request = canonicalRequest(input.method, path, query, block, signedHeaders, payloadHash);
  const key = signingKeyFor(credentials, date.short, input.region, service);
  const signature = key.key.hex(stringToSign(date.long, scope, request));

  let url = `${endpoint.origin}${path}?`;
  if (namesPlain) {
    // Insert X-Amz-Signature where a sort by name puts it.
    let placed = false;
    for (let i = 0; i < pairs.length; i++) {
      const [n, v] = pairs[i]!;
      if (!placed && n > 'X-Amz-Signature') {
        url += `X-Amz-Signature=${signature}&`;
        placed = true;
      }
      url += i === pairs.length - 1 ? `${n}=${v}` : `${n}=${v}&`;
    }
    if (!placed) url += `&X-Amz-Signature=${signature}`;
  } else {
    const raw = pairs.map((p): [string, string, string] => [uriDecode(p[0]), p[0], p[1]]);
    raw.push(['X-Amz-Signature', 'X-Amz-Signature', signature]);
    raw.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    url += raw.map((p) => `${p[1]}=${p[2]}`).join('&');
  }
  return url;
}

// The encoded X-Amz-Credential changes once a day per key: remember the last one.
let lastCredential = '';
let lastEncoded = '';
function encodedCredential(accessKeyId: string, scope: string): string {
  const credential = `${accessKeyId}/${scope}`;
  if (credential !== lastCredential) {
    lastEncoded = uriEncode(credential);
    lastCredential = credential;
  }
  return lastEncoded;
}
