#!/usr/bin/env node
/**
 * The `chute` command. The only module that reads process.env / argv: everything below it gets
 * its configuration passed in.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createStore, type Store, type StoreConfigInput } from '@chute/store';
import { z } from 'zod';

const USAGE = `Usage:
  chute dev                         start the embedded S3 store with development defaults
  chute s3 --port P --data DIR [options]
                                    run the embedded S3-compatible store alone

Options for "s3":
  --port P            port to listen on (0 = any free port)          [9000]
  --data DIR          data directory (created if missing)            (required)
  --host H            address to bind                                [127.0.0.1]
  --access-key K      access key id of the (single) user
  --secret-key S      its secret access key
  --region R          region the store signs for                     [us-east-1]
  --bucket NAME       bucket to create at start (repeatable)
  --config FILE       JSON file: {"users":[{"accessKeyId","secretAccessKey"}], "buckets":[…]}
  --quiet             no per-request log lines
`;

/** Development credentials: fine on 127.0.0.1, printed on start; never use them elsewhere. */
const DEV_USER = { accessKeyId: 'chutedev', secretAccessKey: 'chutedev-secret-key' };

class UsageError extends Error {}

const FileConfig = z.strictObject({
  users: z.array(z.strictObject({ accessKeyId: z.string(), secretAccessKey: z.string() })).optional(),
  buckets: z.array(z.string()).optional(),
  region: z.string().optional(),
  domains: z.array(z.string()).optional(),
});

function s3Config(argv: string[]): { config: StoreConfigInput; quiet: boolean } {
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
  const port = v.port === undefined ? 9000 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0..65535, got ${v.port}`);
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

async function runStore(config: StoreConfigInput, quiet: boolean, intro: string[]): Promise<void> {
  let store: Store;
  try {
    store = await createStore(config, quiet ? { log: () => {} } : {});
  } catch (e) {
    if (e instanceof z.ZodError) throw new UsageError(z.prettifyError(e));
    throw e;
  }
  const { url } = await store.listen().catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EADDRINUSE') throw new UsageError(`port ${config.port} is already in use (try --port 0)`);
    throw e;
  });
  const c = store.config;
  const user = c.users[0];
  const bucket = c.buckets[0] ?? 'my-bucket';
  const lines = [
    ...intro,
    `chute s3 listening on ${url}  (data: ${c.dataDir}, region: ${c.region})`,
    ...(user ? [`  access key: ${user.accessKeyId}`, `  secret key: ${user.secretAccessKey}`] : []),
    ...(c.buckets.length ? [`  buckets:    ${c.buckets.join(', ')}`] : []),
    '  try:',
    `    AWS_ACCESS_KEY_ID=${user?.accessKeyId ?? 'KEY'} AWS_SECRET_ACCESS_KEY=${user ? user.secretAccessKey : 'SECRET'} AWS_REGION=${c.region} \\`,
    `      aws --endpoint-url ${url} s3 cp ./README.md s3://${bucket}/hello.txt`,
    '  Ctrl-C stops it.',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`${signal}: finishing in-flight requests…\n`);
    store.close().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`error while stopping: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 's3': {
      const { config, quiet } = s3Config(rest);
      await runStore(config, quiet, []);
      return;
    }
    case 'dev': {
      // Until the gateway exists, `dev` is the embedded store with development defaults.
      const { config, quiet } = s3Config(['--data', '.chute/s3', '--bucket', 'chute', ...rest]);
      await runStore(config, quiet, [
        'chute dev: the gateway is not built yet; starting the embedded S3 store with dev defaults.',
      ]);
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

main(process.argv.slice(2)).catch((e) => {
  if (e instanceof UsageError) {
    process.stderr.write(`chute: ${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
  process.stderr.write(`chute: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
