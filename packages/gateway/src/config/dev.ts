import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { DemoUser } from '../page/mount.ts';
import { route } from '../rules/builder.ts';
import { type GatewayConfig, parseConfig } from './parse.ts';

/**
 * The demo routes of `chute dev`: restaurant logos, reviewed before use (issue 5); and large
 * files, multipart above 32 MiB (issue 11: `chute upload --resume`, resumable uploads by hand).
 * application/octet-stream takes bytes of no known format (sniffing finds none to disagree).
 */
export const DEMO_ROUTES = [
  route('logo')
    .types('image/png', 'image/jpeg', 'image/webp', 'image/gif')
    .maxSize('20MB')
    .image({ maxWidth: 4096, maxHeight: 4096 })
    .review()
    // So a newcomer can try proxy mode with curl against `chute dev`.
    .proxy(),
  route('video')
    .types('video/mp4', 'video/webm', 'video/quicktime', 'application/octet-stream')
    .maxSize('10GiB')
    .multipart({ threshold: '32MiB' }),
];

/**
 * The demo users of `chute dev`: the page offers them, and its dev-only token endpoint mints
 * tokens for them (and for no one else).
 */
export const DEMO_USERS: readonly DemoUser[] = [
  { id: 'alice', role: 'uploader' },
  { id: 'bob', role: 'uploader' },
  { id: 'rita', role: 'reviewer' },
  { id: 'root', role: 'admin' },
];

export interface DevConfigInput {
  /** The embedded store (or any S3 endpoint) the dev gateway uses. */
  storage: {
    endpoint: string;
    publicEndpoint?: string;
    region?: string;
    bucket: string;
    accessKeyId: string;
    secretAccessKey: string;
  };
  /** `.chute/` of the project: the SQLite file goes here. */
  dataDir: string;
  /** HS256 secret for `chute token` and the page's demo users (≥ 32 characters). */
  jwtSecret: string;
  host?: string;
  port?: number;
  /** Webhook endpoints (`chute dev`'s own receiver). */
  webhooks?: readonly { id: string; url: string; secret: string }[];
}

/**
 * The gateway config `chute dev` runs with: SQLite under the data dir, HS256 tokens with the dev
 * secret, the demo routes, a short sweep interval so stray objects are seen to go.
 */
export function devConfig(input: DevConfigInput): GatewayConfig {
  return parseConfig({
    listen: { host: input.host ?? '127.0.0.1', port: input.port ?? 3000 },
    storage: input.storage,
    database: { url: `sqlite:${join(input.dataDir, 'chute.db')}` },
    auth: { jwt: { secret: input.jwtSecret } },
    // The no-JS form works in dev too; its key is derived from the dev secret (never the same key).
    form: { secret: createHash('sha256').update(`chute-dev-form\n${input.jwtSecret}`).digest('hex') },
    // Uppy (@uppy/aws-s3) against `chute dev`: the Companion links' key, derived the same way.
    companion: {
      secret: createHash('sha256').update(`chute-dev-companion\n${input.jwtSecret}`).digest('hex'),
    },
    sweeper: { intervalMs: 30_000, graceMs: 60_000 },
    // The demo video route takes up to 10 GiB: a day's bytes must hold a few of those.
    quotas: { bytesPerDay: '50GB' },
    ...(input.webhooks !== undefined && { webhooks: { endpoints: input.webhooks } }),
    routes: DEMO_ROUTES,
  });
}
