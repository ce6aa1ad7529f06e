import { z } from 'zod';

/**
 * The store's configuration: parsed once at start (by the CLI or a test) and passed explicitly.
 * Defaults live here and nowhere else. Unknown keys are refused so a misspelt option fails loudly.
 */
const User = z.strictObject({
  accessKeyId: z.string().min(3).max(128),
  secretAccessKey: z.string().min(8).max(256),
});

export const StoreConfigSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(9000),
  dataDir: z.string().min(1),
  region: z.string().min(1).default('us-east-1'),
  users: z.array(User).default([]),
  /** Buckets created (if missing) at start, owned by the store's users. */
  buckets: z.array(z.string()).default([]),
  /**
   * Host names under which virtual-hosted-style requests arrive (`bucket.<name>`).
   * `localhost` is always accepted.
   */
  domains: z.array(z.string()).default([]),
  /** Allowed clock skew for header-signed requests, ms (S3: 15 minutes). */
  maxSkewMs: z
    .number()
    .int()
    .positive()
    .default(15 * 60 * 1000),
});

export type StoreConfigInput = z.input<typeof StoreConfigSchema>;
export type StoreConfig = z.output<typeof StoreConfigSchema>;

export function parseStoreConfig(input: unknown): StoreConfig {
  return StoreConfigSchema.parse(input);
}

/** For logs: the config with secrets replaced. */
export function redactConfig(c: StoreConfig): unknown {
  return { ...c, users: c.users.map((u) => ({ accessKeyId: u.accessKeyId, secretAccessKey: '***' })) };
}
