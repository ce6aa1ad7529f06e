import { XMLParser } from 'fast-xml-parser';

/**
 * A bucket's CORS configuration (GET ?cors) and S3's rule matching: "Amazon S3 evaluates the
 * cors configuration on the bucket and uses the first CORSRule rule that matches the incoming
 * browser request": the origin must match an AllowedOrigin, the method an AllowedMethod, and
 * every header of Access-Control-Request-Headers an AllowedHeader. AllowedOrigin and
 * AllowedHeader may hold one `*` wildcard; header names compare case-insensitively.
 */
export interface CorsRule {
  origins: string[];
  methods: string[];
  headers: string[];
  expose: string[];
}

const LISTS = new Set(['CORSRule', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader']);
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  removeNSPrefix: true,
  isArray: (name) => LISTS.has(name),
});

/** undefined when the body is not a CORSConfiguration document. */
export function parseCors(xml: string): CorsRule[] | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const config = doc['CORSConfiguration'];
  if (config === undefined) return undefined;
  // An empty <CORSConfiguration/> parses as '' (no rules).
  const rules =
    typeof config === 'object' && config !== null
      ? (((config as Record<string, unknown>)['CORSRule'] as Record<string, unknown>[] | undefined) ?? [])
      : [];
  const list = (r: Record<string, unknown>, k: string) =>
    ((r[k] as unknown[]) ?? []).map((v) => String(v).trim());
  return rules.map((r) => ({
    origins: list(r, 'AllowedOrigin'),
    methods: list(r, 'AllowedMethod'),
    headers: list(r, 'AllowedHeader'),
    expose: list(r, 'ExposeHeader'),
  }));
}

function wildcard(pattern: string, value: string, caseless: boolean): boolean {
  const p = caseless ? pattern.toLowerCase() : pattern;
  const v = caseless ? value.toLowerCase() : value;
  const star = p.indexOf('*');
  if (star < 0) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

/** The rule S3 would apply to a request from `origin` with `method` and these request headers. */
export function matchRule(
  rules: readonly CorsRule[],
  origin: string,
  method: string,
  headers: readonly string[],
): CorsRule | undefined {
  return rules.find(
    (r) =>
      r.origins.some((o) => wildcard(o, origin, false)) &&
      r.methods.includes(method) &&
      headers.every((h) => r.headers.some((a) => wildcard(a, h, true))),
  );
}
