// `chute serve --config examples/chute.config.ts`: the same gateway as chute.config.json, with
// routes from the typed builder and secrets from the environment (the config file is part of the
// entry point, so this is where the environment is read).
import { type GatewayConfigInput, route } from '@chute/gateway';

function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

export default {
  listen: { host: env('HOST', '127.0.0.1'), port: Number(env('PORT', '3000')) },
  storage: {
    endpoint: env('S3_ENDPOINT', 'http://127.0.0.1:9000'),
    region: env('S3_REGION', 'us-east-1'),
    bucket: env('S3_BUCKET', 'chute'),
    accessKeyId: env('S3_ACCESS_KEY', 'chutedev'),
    secretAccessKey: env('S3_SECRET_KEY', 'chutedev-secret-key'),
  },
  // sqlite:PATH (relative to the working directory) or postgres://user:pass@host:5432/db
  database: { url: env('DATABASE_URL', 'sqlite:.chute/chute.db') },
  auth: { jwt: { secret: env('CHUTE_JWT_SECRET') } },
  routes: [
    route('logo')
      .types('image/png', 'image/jpeg', 'image/webp', 'image/gif')
      .maxSize('20MB')
      .image({ maxWidth: 4096, maxHeight: 4096 })
      .review(),
    route('invoice').types('application/pdf').maxSize('10MB').method('put').lifetime('5m'),
  ],
} satisfies GatewayConfigInput;
