import { uriDecode, uriEncode } from './uri-encode.ts';

/**
 * CanonicalQueryString, from "Create a canonical request": "URI-encode each parameter name and
 * value ... Sort the encoded parameters by name in ascending order (by character code point);
 * parameters with duplicate names are sorted by value. ... If a parameter has no value, use an
 * empty string (`uploads=`)". A presigned request signs every query parameter except
 * X-Amz-Signature itself.
 */

export type QueryPair = [name: string, value: string];

/** Parses a raw query ('a=1&b&c=%20') into decoded pairs, in wire order. */
export function parseQuery(rawQuery: string): QueryPair[] {
  const pairs: QueryPair[] = [];
  if (rawQuery === '') return pairs;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    pairs.push([uriDecode(name, true), uriDecode(value, true)]);
  }
  return pairs;
}

/** Sorts already-encoded pairs on (name, value) by code point, in place. */
export function sortEncodedPairs(pairs: QueryPair[]): QueryPair[] {
  return pairs.sort((a, b) => {
    if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
  });
}

/** `n1=v1&n2=v2` of sorted encoded pairs. */
export function joinQuery(sorted: readonly QueryPair[]): string {
  let out = '';
  for (let i = 0; i < sorted.length; i++) {
    const [n, v] = sorted[i]!;
    out += i === 0 ? `${n}=${v}` : `&${n}=${v}`;
  }
  return out;
}

/** Canonical query of decoded pairs; `skip` is an exact parameter name left out (X-Amz-Signature). */
export function canonicalQuery(pairs: Iterable<readonly [string, string]>, skip?: string): string {
  const encoded: QueryPair[] = [];
  for (const [name, value] of pairs) {
    if (name !== skip) encoded.push([uriEncode(name), uriEncode(value)]);
  }
  return joinQuery(sortEncodedPairs(encoded));
}
