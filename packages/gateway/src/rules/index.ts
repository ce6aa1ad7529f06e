export {
  type CompleteRoute,
  DEFAULT_LIFETIME_MS,
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_REJECT_REASONS,
  DEFAULT_REJECTED_RETENTION_MS,
  defineRoutes,
  MAX_LIFETIME_MS,
  MAX_MULTIPART_UPLOAD,
  MAX_SINGLE_UPLOAD,
  MIN_LIFETIME_MS,
  type ReviewOptions,
  type RouteBuilder,
  route,
} from './builder.ts';
export { checkDeclared, type Declared, type DeclaredInput, normaliseSha256 } from './check.ts';
export { type Condition, type PostInput, postConditions, postFields } from './post-conditions.ts';
export {
  DEFAULT_PUBLISH_KEY,
  type PublishOptions,
  type PublishRule,
  publishedKey,
  publishRule,
} from './publish.ts';
export { type PutInput, putSignedHeaders } from './put-headers.ts';
export type { ImageLimits, MultipartRule, RouteRule, Transport } from './rule.ts';
export { type RouteSpec, routeFromSpec } from './spec.ts';
