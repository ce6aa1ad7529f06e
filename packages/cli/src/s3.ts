import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createStore, type Store, type StoreConfigInput } from '@chute/store';
import { z } from 'zod';
import { listenError, UsageError } from './errors.ts';
import { parsePort } from './flags.ts';
import { stopOnSignals } from './shutdown.ts';

/** Development credentials: fine on 127.0.0.1, printed on start; never use them elsewhere. */
export const DEV_USER = { accessKeyId: 'chutedev', secretAccessKey: 'chutedev-secret-key' };

const FileConfig = z.strictObject({
  users: z.array(z.strictObject({ accessKeyId: z.string(), secretAccessKey: z.string() })).optional(),
  buckets: z.array(z.string()).optional(),
  region: z.string().optional(),
  domains: z.array(z.string()).optional(),
});

/** `chute s3` flags → the store's config input (validated by createStore). */
export function s3Config(argv: string[]): { config: StoreConfigInput; quiet: boolean } {
  let v: ReturnType<typeof parse>['values'];
  function parse(a: string[]) {
    return parseArgs({
      args: a,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        data: { type: 'string' },
        host: { type: 'string' },
        'access-key': { type: 'string' },
        'secret-key': { type: 'string' },
        region: { type: 'string' },
        bucket: { type: 'string', multiple: true },
        config: { type: 'string' },
        quiet: { type: 'boolean' },
      },
    });
  }
  try {
    v = parse(argv).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!v.data) throw new UsageError('--data DIR is required');
  const port = parsePort('--port', v.port, 9000);
  if ((v['access-key'] === undefined) !== (v['secret-key'] === undefined)) {
    throw new UsageError('--access-key and --secret-key go together');
  }
  let file: z.infer<typeof FileConfig> = {};
  if (v.config) {
    try {
      file = FileConfig.parse(JSON.parse(readFileSync(v.config, 'utf8')));
    } catch (e) {
      throw new UsageError(`--config ${v.config}: ${(e as Error).message}`);
    }
  }
  const users = [...(file.users ?? [])];
  if (v['access-key'] !== undefined)
    users.push({ accessKeyId: v['access-key'], secretAccessKey: v['secret-key']! });
  if (users.length === 0) users.push(DEV_USER);
  return {
    quiet: v.quiet ?? false,
    config: {
      host: v.host ?? '127.0.0.1',
      port,
      dataDir: path.resolve(v.data),
      region: v.region ?? file.region ?? 'us-east-1',
      users,
      buckets: [...(file.buckets ?? []), ...(v.bucket ?? [])],
      domains: file.domains ?? [],
    },
  };
}

/** `chute s3`: the embedded store alone, until SIGINT/SIGTERM. */
export async function runStore(config: StoreConfigInput, quiet: boolean): Promise<void> {
  let store: Store;
  try {
    store = await createStore(config, quiet ? { log: () => {} } : {});
  } catch (e) {
    if (e instanceof z.ZodError) throw new UsageError(z.prettifyError(e));
    throw e;
  }
  const { url } = await store.listen().catch((e: unknown) => {
    throw listenError(e, '--port', config.port ?? 9000);
  });
  const c = store.config;
  const user = c.users[0];
  const bucket = c.buckets[0] ?? 'my-bucket';
  const lines = [
    `chute s3 listening on ${url}  (data: ${c.dataDir}, region: ${c.region})`,
    ...(user ? [`  access key: ${user.accessKeyId}`, `  secret key: ${user.secretAccessKey}`] : []),
    ...(c.buckets.length ? [`  buckets:    ${c.buckets.join(', ')}`] : []),
    '  try:',
    `    AWS_ACCESS_KEY_ID=${user?.accessKeyId ?? 'KEY'} AWS_SECRET_ACCESS_KEY=${user ? user.secretAccessKey : 'SECRET'} AWS_REGION=${c.region} \\`,
    `      aws --endpoint-url ${url} s3 cp ./README.md s3://${bucket}/hello.txt`,
    '  Ctrl-C stops it.',
  ];
  // Installed before the banner, which a supervisor may answer with a signal at once.
  stopOnSignals(
    () => store.close(),
    (line) => process.stderr.write(`${line}\n`),
  );
  process.stderr.write(`${lines.join('\n')}\n`);
}
