/**
 * How S3 applies a bucket's CORS rules (PutBucketCors, "How Amazon S3 evaluates the CORS
 * configuration"): "uses the first CORSRule rule that matches the incoming browser request":
 * the Origin must match an AllowedOrigin, the method (or Access-Control-Request-Method of a
 * preflight) must be an AllowedMethod, and every header in Access-Control-Request-Headers must
 * match an AllowedHeader. Pure: headers in, headers out.
 */
import { S3Error } from '@chute/errors';
import { CORS_METHODS, type CorsRule } from './config.ts';

/** S3 sends this Vary on every CORS answer, so caches keep one copy per origin and request. */
export const CORS_VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

/** Whether the request names a bucket only or an object: S3 reports it on a refused preflight. */
export type ResourceType = 'BUCKET' | 'OBJECT';

/**
 * `value` against a pattern with at most one `*` that stands for any text (possibly empty).
 * The text around the `*` may not overlap: 'a*a' matches 'aa' but not 'a'.
 */
export function matchWildcard(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return value.length >= prefix.length + suffix.length && value.startsWith(prefix) && value.endsWith(suffix);
}

/** Origins compare as text, case-sensitively: 'https://EXAMPLE.com' is another origin. */
function originAllowed(rule: CorsRule, origin: string): boolean {
  return rule.allowedOrigins.some((pattern) => matchWildcard(pattern, origin));
}

/** Header names are case-insensitive (RFC 9110), so patterns and names compare in lowercase. */
function headerAllowed(rule: CorsRule, header: string): boolean {
  return rule.allowedHeaders.some((pattern) => matchWildcard(pattern.trim().toLowerCase(), header));
}

/** The names in an Access-Control-Request-Headers value: lowercase, trimmed, empty ones dropped. */
export function requestedHeaders(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

/**
 * The first rule that allows this origin and method and, for a preflight, every requested
 * header; undefined when none does.
 */
export function matchCorsRule(
  rules: readonly CorsRule[],
  origin: string,
  method: string,
  headers: readonly string[] = [],
): CorsRule | undefined {
  return rules.find(
    (rule) =>
      originAllowed(rule, origin) &&
      (rule.allowedMethods as readonly string[]).includes(method) &&
      headers.every((h) => headerAllowed(rule, h)),
  );
}

/** The headers S3 puts on an answer that `rule` allowed (preflight or actual request). */
function allowHeaders(rule: CorsRule, origin: string): Record<string, string> {
  // A literal `*` among the rule's origins makes S3 answer `*` (and then no credentials, which
  // browsers refuse together with `*`); any other match echoes the request's Origin.
  const any = rule.allowedOrigins.includes('*');
  const headers: Record<string, string> = {
    'access-control-allow-origin': any ? '*' : origin,
    'access-control-allow-methods': rule.allowedMethods.join(', '),
  };
  return headers;
}

function tailHeaders(rule: CorsRule, headers: Record<string, string>): Record<string, string> {
  if (rule.exposeHeaders.length > 0) headers['access-control-expose-headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) headers['access-control-max-age'] = String(rule.maxAgeSeconds);
  if (!rule.allowedOrigins.includes('*')) headers['access-control-allow-credentials'] = 'true';
  headers['vary'] = CORS_VARY;
  return headers;
}

export interface PreflightRequest {
  origin: string | undefined;
  /** Access-Control-Request-Method */
  method: string | undefined;
  /** Access-Control-Request-Headers, raw */
  headers: string | undefined;
}

/**
 * A preflight must carry an Origin and a method CORS rules can allow; S3 answers 400 BadRequest
 * otherwise, before it looks at the bucket.
 */
export function checkPreflightRequest(request: PreflightRequest): { origin: string; method: string } {
  const { origin, method } = request;
  if (origin === undefined || origin === '') {
    throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  }
  if (method === undefined || !(CORS_METHODS as readonly string[]).includes(method)) {
    throw new S3Error('BadRequest', `Invalid Access-Control-Request-Method: ${method ?? 'null'}`);
  }
  return { origin, method };
}

/**
 * The answer to an OPTIONS preflight: the headers of a 200, or an S3Error to send instead.
 * `rules` is undefined when the bucket has no CORS configuration.
 *
 * S3's checks, in order: an Origin (400 BadRequest), a valid Access-Control-Request-Method
 * (400 BadRequest), a configuration (403 AccessForbidden "CORS is not enabled"), a rule that
 * matches (403 AccessForbidden), each refusal naming the Method and the ResourceType.
 */
export function preflight(
  rules: readonly CorsRule[] | undefined,
  request: PreflightRequest,
  resourceType: ResourceType,
): Record<string, string> {
  const { origin, method } = checkPreflightRequest(request);
  const details = { Method: method, ResourceType: resourceType };
  if (rules === undefined) {
    throw new S3Error('AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.', details);
  }
  const asked = requestedHeaders(request.headers);
  const rule = matchCorsRule(rules, origin, method, asked);
  if (rule === undefined) throw new S3Error('AccessForbidden', undefined, details);
  const headers = allowHeaders(rule, origin);
  // "In response to any preflight OPTIONS request, Amazon S3 returns any requested headers
  // that are allowed." — every requested header matched, so all of them, in lowercase.
  if (asked.length > 0) headers['access-control-allow-headers'] = asked.join(', ');
  return tailHeaders(rule, headers);
}

/**
 * The CORS headers for an actual (non-OPTIONS) request, success or error alike: empty when the
 * request has no Origin, the bucket no configuration, or no rule allows origin and method.
 * AllowedHeader plays no part here: browsers only check it in the preflight.
 */
export function actualRequestHeaders(
  rules: readonly CorsRule[] | undefined,
  origin: string | undefined,
  method: string,
): Record<string, string> {
  if (rules === undefined || origin === undefined || origin === '') return {};
  const rule = matchCorsRule(rules, origin, method);
  if (rule === undefined) return {};
  return tailHeaders(rule, allowHeaders(rule, origin));
}
