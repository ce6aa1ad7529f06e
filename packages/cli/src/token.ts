import path from 'node:path';
import { mintToken, parseDuration, ROLES, type Role } from '@chute/gateway';
import { loadConfigFile } from './config-file.ts';
import { ConfigFileError, UsageError } from './errors.ts';
import { parseFlags } from './flags.ts';
import { readDevSecret } from './secret.ts';

export interface TokenArgs {
  user: string;
  role: Role;
  ttlSeconds: number;
  secret: string | undefined;
  config: string | undefined;
  data: string;
}

export function tokenArgs(argv: string[], defaults: { data: string; secret?: string }): TokenArgs {
  const v = parseFlags({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      user: { type: 'string', short: 'u' },
      role: { type: 'string' },
      ttl: { type: 'string' },
      secret: { type: 'string' },
      config: { type: 'string', short: 'c' },
      data: { type: 'string' },
    },
  }).values;
  if (!v.user) throw new UsageError('--user ID is required');
  const role = (v.role ?? 'uploader') as Role;
  if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got ${v.role}`);
  let ttlMs: number;
  try {
    ttlMs = parseDuration(v.ttl ?? '1h');
  } catch {
    throw new UsageError(`--ttl must be a duration like 90s, 10m, 1h, 7d; got ${v.ttl}`);
  }
  if (ttlMs < 1000) throw new UsageError('--ttl must be at least 1s');
  if (v.secret !== undefined && v.config !== undefined)
    throw new UsageError('--secret and --config are alternatives: pass one');
  return {
    user: v.user,
    role,
    ttlSeconds: Math.floor(ttlMs / 1000),
    secret: v.secret ?? (v.config === undefined ? defaults.secret : undefined),
    config: v.config,
    data: path.resolve(v.data ?? defaults.data),
  };
}

/**
 * `chute token`: an HS256 token for --user, signed with --secret, the config's auth.jwt (secret,
 * issuer, audience, roles claim), or the dev secret `chute dev` keeps in the data dir.
 */
export async function mintFromArgs(args: TokenArgs): Promise<string> {
  let jwt: { secret: string; issuer?: string; audience?: string | string[]; rolesClaim?: string };
  if (args.config !== undefined) {
    const config = await loadConfigFile(args.config);
    const j = config.auth.jwt;
    if (j?.secret === undefined)
      throw new ConfigFileError(
        `${args.config}: auth.jwt has no secret (with jwksUrl, tokens come from your identity provider)`,
      );
    jwt = {
      secret: j.secret,
      rolesClaim: j.rolesClaim,
      ...(j.issuer !== undefined && { issuer: j.issuer }),
      ...(j.audience !== undefined && { audience: j.audience }),
    };
  } else {
    jwt = { secret: args.secret ?? (await readDevSecret(args.data)) };
  }
  if (jwt.secret.length < 32) throw new UsageError('the secret must be at least 32 characters');
  try {
    return await mintToken({ ...jwt, user: args.user, role: args.role, ttl: args.ttlSeconds });
  } catch (e) {
    throw new UsageError(`--user: ${(e as Error).message}`);
  }
}
