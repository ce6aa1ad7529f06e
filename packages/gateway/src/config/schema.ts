import { z } from 'zod';
import { hashApiKey } from '../auth/api-keys.ts';
import { ROLES } from '../auth/roles.ts';
import { isUserId } from '../domain/ids.ts';
import { type CompleteRoute, defineRoutes } from '../rules/builder.ts';
import { type RouteSpec, routeFromSpec } from '../rules/spec.ts';
import { parseSize } from '../units/size.ts';
import { DEFAULTS } from './defaults.ts';
import { webhooksSchema } from './webhooks.ts';

/** Runs a builder-style parser inside zod, turning its thrown message into a zod issue. */
function via<I, O>(fn: (input: I) => O) {
  return (input: I, ctx: z.RefinementCtx): O => {
    try {
      return fn(input);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
      return z.NEVER;
    }
  };
}

/** Sizes in config are strings with a unit ("1GB"); a bare number is refused as ambiguous. */
const size = z.string().transform(via(parseSize));

const role = z.enum(ROLES);

const jwt = z
  .strictObject({
    /** HS256 shared secret. RFC 7518 §3.2: the key must be at least as long as the hash (32 bytes). */
    secret: z.string().min(32, 'auth.jwt.secret must be at least 32 characters').optional(),
    /** Where the IdP publishes its public keys (RS256/ES256/EdDSA tokens). */
    jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
    issuer: z.string().min(1).optional(),
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** Claim holding the role(s): a key (`roles`, `https://example.com/roles`) or a dotted path. */
    rolesClaim: z.string().min(1).default(DEFAULTS.jwt.rolesClaim),
    clockToleranceSec: z.number().int().min(0).max(300).default(DEFAULTS.jwt.clockToleranceSec),
  })
  .refine((j) => (j.secret === undefined) !== (j.jwksUrl === undefined), {
    message: 'auth.jwt needs exactly one of secret (HS256) or jwksUrl',
  });

/** `ck_` + at least 32 characters: long enough that a SHA-256 (not a slow KDF) is a safe store. */
const API_KEY = /^ck_[A-Za-z0-9_-]{32,}$/;

const apiKeyBase = {
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  role,
  /** The user the key acts as (its uploads are owned by this id); defaults to the key's id. */
  user: z.string().refine(isUserId, 'not a valid user id').optional(),
};

const apiKey = z
  .union([
    z.strictObject({
      ...apiKeyBase,
      secretHash: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256'),
    }),
    z.strictObject({
      ...apiKeyBase,
      key: z.string().regex(API_KEY, 'ck_ followed by 32+ of A-Z a-z 0-9 _ -'),
    }),
  ])
  .transform((k) => ({
    id: k.id,
    role: k.role,
    user: k.user ?? k.id,
    secretHash: 'secretHash' in k ? k.secretHash : hashApiKey(k.key),
  }))
  .refine((k) => isUserId(k.user), 'the key id is not a valid user id; set user');

const routeSpec = z.strictObject({
  name: z.string(),
  types: z.array(z.string()).min(1),
  maxSize: z.string(),
  minSize: z.string().optional(),
  method: z.enum(['post', 'put']).optional(),
  image: z.strictObject({ maxWidth: z.number().optional(), maxHeight: z.number().optional() }).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  review: z
    .union([
      z.boolean(),
      z.strictObject({ reasons: z.array(z.string()).optional(), retention: z.string().optional() }),
    ])
    .optional(),
  publish: z.strictObject({ key: z.string().optional(), keepOne: z.boolean().optional() }).optional(),
  multipart: z.union([z.boolean(), z.strictObject({ threshold: z.string().optional() })]).optional(),
  lifetime: z.string().optional(),
  proxy: z.boolean().optional(),
});

function isBuilder(v: unknown): v is CompleteRoute {
  return typeof v === 'object' && v !== null && typeof (v as { build?: unknown }).build === 'function';
}

/**
 * A route is a builder (from a TS config: `route('logo')…`, recognised by its `build` method) or
 * a spec (JSON). Not a z.union: its "Invalid input" would hide which spec field is wrong.
 */
const routeEntry = z.unknown().transform((v, ctx): CompleteRoute => {
  if (isBuilder(v)) return v;
  const spec = routeSpec.safeParse(v);
  if (!spec.success) {
    for (const issue of spec.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  }
  return via((s: RouteSpec) => routeFromSpec(s))(spec.data as RouteSpec, ctx);
});

const routes = z
  .array(routeEntry)
  .min(1, 'declare at least one route')
  .transform(via((list: CompleteRoute[]) => defineRoutes(...list)));

export const configSchema = z.strictObject({
  listen: z
    .strictObject({
      host: z.string().min(1).default(DEFAULTS.listen.host),
      port: z.number().int().min(0).max(65535).default(DEFAULTS.listen.port),
    })
    .prefault({}),
  cors: z
    .strictObject({
      /**
       * Exact origins (`https://app.example.com`, no path) or `*`. Tokens travel in the
       * Authorization header, never in cookies, so no credentialed CORS is needed or offered.
       */
      origins: z
        .array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'an origin: scheme://host[:port], or *'))
        .default(DEFAULTS.cors.origins),
      maxAgeSec: z.number().int().min(0).max(86_400).default(DEFAULTS.cors.maxAgeSec),
    })
    .prefault({}),
  storage: z.strictObject({
    /** Where the gateway reaches storage, e.g. http://127.0.0.1:9000. */
    endpoint: z.url({ protocol: /^https?$/ }),
    /** Where browsers reach storage, when it differs (a proxy, a public hostname). */
    publicEndpoint: z.url({ protocol: /^https?$/ }).optional(),
    region: z.string().min(1).default(DEFAULTS.storage.region),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name'),
    accessKeyId: z.string().min(1),
    secretAccessKey: z.string().min(1),
    forcePathStyle: z.boolean().default(DEFAULTS.storage.forcePathStyle),
  }),
  database: z
    .strictObject({
      url: z
        .string()
        .refine((u) => /^sqlite:.+/.test(u) || /^postgres(ql)?:\/\/./.test(u), 'sqlite:PATH or postgres://…')
        .default(DEFAULTS.database.url),
    })
    .prefault({}),
  auth: z
    .strictObject({
      jwt: jwt.optional(),
      apiKeys: z
        .array(apiKey)
        .default([])
        .refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, 'API key ids must be unique'),
    })
    .refine((a) => a.jwt !== undefined || a.apiKeys.length > 0, {
      message: 'auth needs jwt or apiKeys: the gateway never grants to anonymous users',
    }),
  quotas: z
    .strictObject({
      pendingGrants: z.number().int().min(1).default(DEFAULTS.quotas.pendingGrants),
      bytesPerDay: size.prefault(DEFAULTS.quotas.bytesPerDay),
      grantsPerMinute: z.number().int().min(1).default(DEFAULTS.quotas.grantsPerMinute),
    })
    .prefault({}),
  sweeper: z
    .strictObject({
      intervalMs: z.number().int().min(1000).default(DEFAULTS.sweeper.intervalMs),
      graceMs: z.number().int().min(0).default(DEFAULTS.sweeper.graceMs),
      claimTimeoutMs: z.number().int().min(1000).default(DEFAULTS.sweeper.claimTimeoutMs),
    })
    .prefault({}),
  webhooks: webhooksSchema,
  proxy: z
    .strictObject({
      /** Bytes of proxied uploads one instance carries at once (declared sizes); beyond: 503. */
      maxInFlight: size.prefault(DEFAULTS.proxy.maxInFlight),
    })
    .prefault({}),
  form: z
    .strictObject({
      /**
       * Signs the links to the no-JS form page and the redirect storage sends the browser back
       * with (HMAC-SHA256). Without it the form endpoints are not mounted.
       */
      secret: z.string().min(32, 'form.secret must be at least 32 characters').optional(),
      /** Where browsers reach the gateway (the redirect target is signed into the policy); default: the request's origin. */
      publicUrl: z.url({ protocol: /^https?$/ }).optional(),
      /**
       * The only URLs a form may send the browser back to, exactly (no open redirect). A form
       * without one shows the gateway's own result page.
       */
      returnUrls: z
        .array(
          z
            .url({ protocol: /^https?$/ })
            .refine((u) => !new URL(u).hash, 'a return URL has no #fragment')
            .refine((u) => !new URL(u).username, 'a return URL has no credentials'),
        )
        .default([]),
    })
    .prefault({}),
  companion: z
    .strictObject({
      /**
       * Signs the Companion links @uppy/aws-s3 is pointed at (HMAC-SHA256; docs/uppy.md). Without
       * it `/v1/companion/*` answers 404. The browser's fetch to these endpoints carries no
       * Authorization header, so the link itself is the (short-lived, one-route) credential.
       */
      secret: z.string().min(32, 'companion.secret must be at least 32 characters').optional(),
      /** Where browsers reach the gateway (the links point there); default: the request's origin. */
      publicUrl: z.url({ protocol: /^https?$/ }).optional(),
    })
    .prefault({}),
  routes,
});
