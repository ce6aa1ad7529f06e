/**
 * CanonicalHeaders, from "Create a canonical request": "Lowercase(<HeaderName>) + ':' +
 * Trim(<value>) + '\n'", sorted by name; "Trim: remove leading and trailing spaces and convert
 * sequential spaces to a single space". Repeated headers are joined with ','; folded lines
 * (CR/LF) count as spaces, as the AWS SDKs treat them.
 */

const NEEDS_TRIM = /[\r\n\t]|^ | $| {2}/;

export function canonicalHeaderValue(value: string): string {
  if (!NEEDS_TRIM.test(value)) return value;
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

export interface CanonicalHeaders {
  /** `name:value\n` for every signed header, sorted. */
  block: string;
  /** `a;b;c`: the SignedHeaders value. */
  signedHeaders: string;
  names: string[];
}

/** From lowercase name → raw value (already joined for repeats). Names need not be sorted. */
export function canonicalHeaders(
  headers: ReadonlyMap<string, string> | Record<string, string>,
): CanonicalHeaders {
  const entries = headers instanceof Map ? [...headers] : Object.entries(headers);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let block = '';
  const names: string[] = [];
  for (const [name, value] of entries) {
    block += `${name}:${canonicalHeaderValue(value)}\n`;
    names.push(name);
  }
  return { block, signedHeaders: names.join(';'), names };
}

/** The value of a header of node:http's req.headers (repeats joined with ','), or undefined. */
export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.map(canonicalHeaderValue).join(',') : v;
}
