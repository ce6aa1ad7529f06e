import { z } from 'zod';
import type { AuthSettings } from '../auth/settings.ts';
import type { RouteRule } from '../rules/rule.ts';
import type { StorageSettings } from '../storage/types.ts';
import type { WebhookSettings } from '../webhooks/settings.ts';
import { configSchema } from './schema.ts';

export type GatewayConfig = z.output<typeof configSchema>;

/**
 * The parts take their own settings types, not the schema's (the config depends on them, not the
 * other way round); this fails to type-check when the schema stops producing what they ask for.
 */
type Provides<T extends U, U> = T;
export type SchemaProvides = [
  Provides<GatewayConfig['auth'], AuthSettings>,
  Provides<GatewayConfig['storage'], StorageSettings>,
  Provides<GatewayConfig['webhooks'], WebhookSettings>,
];
/** What a config file or a TS config object may contain before defaults are applied. */
export type GatewayConfigInput = z.input<typeof configSchema>;

export class ConfigError extends Error {
  readonly issues: readonly z.core.$ZodIssue[];
  constructor(issues: readonly z.core.$ZodIssue[], pretty: string) {
    super(`invalid config:\n${pretty}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * Validates and completes the config once, at start. Unknown keys are refused (a misspelt
 * `maxsize` must not silently mean "no limit"). Throws ConfigError listing every problem.
 */
export function parseConfig(input: unknown): GatewayConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) throw new ConfigError(result.error.issues, z.prettifyError(result.error));
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value) && !(value instanceof Map)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const REDACTED = '[redacted]';

/**
 * The config as it may be logged: secrets replaced, the database password masked, routes as
 * plain objects. Never log the parsed config itself.
 */
export function redactConfig(config: GatewayConfig): Record<string, unknown> {
  return {
    ...config,
    storage: { ...config.storage, secretAccessKey: REDACTED },
    database: { url: redactUrl(config.database.url) },
    auth: {
      ...(config.auth.jwt && {
        jwt: { ...config.auth.jwt, ...(config.auth.jwt.secret !== undefined && { secret: REDACTED }) },
      }),
      apiKeys: config.auth.apiKeys.map((k) => ({
        id: k.id,
        role: k.role,
        user: k.user,
        secretHash: REDACTED,
      })),
    },
    webhooks: {
      ...config.webhooks,
      // A receiver's URL may carry a token of its own (path or query): only its origin is logged.
      endpoints: config.webhooks.endpoints.map((e) => ({
        ...e,
        url: `${new URL(e.url).origin}/${REDACTED}`,
        secret: REDACTED,
      })),
    },
    form: { ...config.form, ...(config.form.secret !== undefined && { secret: REDACTED }) },
    companion: {
      ...config.companion,
      ...(config.companion.secret !== undefined && { secret: REDACTED }),
    },
    routes: Object.fromEntries([...config.routes].map(([name, rule]): [string, RouteRule] => [name, rule])),
  };
}

function redactUrl(url: string): string {
  if (url.startsWith('sqlite:')) return url;
  try {
    const u = new URL(url);
    if (u.password) u.password = REDACTED;
    for (const k of [...u.searchParams.keys()])
      if (/pass|secret|key/i.test(k)) u.searchParams.set(k, REDACTED);
    return u.toString();
  } catch {
    return REDACTED;
  }
}
