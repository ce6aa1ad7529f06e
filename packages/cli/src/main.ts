#!/usr/bin/env node
/**
 * The `chute` command. The only module that reads process.env / argv: everything below it gets
 * its configuration passed in.
 */
import path from 'node:path';
import { z } from 'zod';
import { ConfigFileError, UsageError } from './errors.ts';
import { parseFlags, parsePort } from './flags.ts';

const USAGE = `Usage:
  chute dev [--port 3000] [--s3-port 9000] [--host H] [--data .chute] [--origin URL]… [--quiet]
      Everything on one machine: the embedded store, a bucket with CORS, the gateway and its
      page on http://127.0.0.1:3000, SQLite and a dev JWT secret under ./.chute/, demo users.
  chute serve --config FILE [--host H] [--port P] [--no-page]
      The gateway against any S3 endpoint and SQLite or PostgreSQL. FILE: JSON, or a .ts/.js
      module whose default export is the config (see docs/configuration.md).
  chute token --user ID [--role uploader|reviewer|admin] [--ttl 1h]
              [--secret S | --config FILE | --data DIR]
      Print a token (HS256) signed with the dev secret of DIR (./.chute), S, or FILE's auth.jwt.
  chute s3 --port P --data DIR [options]
      The embedded S3-compatible store alone.
  chute upload FILE... --route R [--endpoint URL] [--token T] [--type MIME] [--resume]
               [--concurrency N]
      Upload each file through the gateway (default http://127.0.0.1:3000) straight to storage,
      with a progress bar per file; prints "<id> <state> <file>" per accepted file. Exit 1 if any
      failed (the gateway's error code is printed), 130 on Ctrl-C. Token: --token or CHUTE_TOKEN.
      --resume: a multipart upload interrupted (Ctrl-C, kill, network) is remembered under the
      data dir and continued by the next --resume run of the same file (path, size, mtime).
      --concurrency: multipart parts in flight at once (default 4).
  chute doctor [--config FILE] [--origin URL]… [--webhook URL]… [--json]
               [--data .chute --port 3000 --s3-port 9000]
      Checks a deployment, one PASS/WARN/FAIL line each with the fix: credentials, clock skew,
      bucket CORS, that the store enforces what grants sign, the database, webhook endpoints.
      Without --config: what "chute dev" runs. Exit code 1 on any FAIL (docs/doctor.md).

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

Environment: CHUTE_DATA_DIR (default data dir of dev/token), CHUTE_JWT_SECRET (token's --secret),
  CHUTE_TOKEN (upload's --token).
`;

const say = (line: string) => process.stderr.write(`${line}\n`);

async function dev(argv: string[], dataDefault: string): Promise<void> {
  const v = parseFlags({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      's3-port': { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      origin: { type: 'string', multiple: true },
      quiet: { type: 'boolean' },
    },
  }).values;
  const host = v.host ?? '127.0.0.1';
  const dataDir = path.resolve(v.data ?? dataDefault);
  const [{ devBanner, startDev }, { devLog }, { stopOnSignals }] = await Promise.all([
    import('./dev.ts'),
    import('./devlog.ts'),
    import('./shutdown.ts'),
  ]);
  const server = await startDev({
    dataDir,
    host,
    port: parsePort('--port', v.port, 3000),
    s3Port: parsePort('--s3-port', v['s3-port'], 9000),
    origins: v.origin ?? [],
    ...(!v.quiet && { log: devLog((line) => process.stdout.write(`${line}\n`)) }),
  });
  // Handlers first, banner second: whoever reads the banner may signal at once (a test does), and
  // until process.on('SIGINT') runs, SIGINT kills the process instead of stopping it cleanly.
  stopOnSignals(() => server.close(), say, 5_000);
  process.stdout.write(`${devBanner(server, dataDir)}\n`);
  if (!['127.0.0.1', 'localhost', '::1'].includes(host))
    say(`warning: --host ${host}: anyone who can reach this port can mint demo tokens (POST /dev/token)`);
}

/**
 * Each command loads only what it runs (dynamic imports): `chute s3` never loads the gateway, so
 * the store alone starts with less memory.
 */
async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const [cmd, ...rest] = argv;
  const dataDefault = env['CHUTE_DATA_DIR'] || '.chute';
  switch (cmd) {
    case 'dev':
      return dev(rest, dataDefault);
    case 'serve': {
      const { runServe, serveArgs } = await import('./serve.ts');
      return runServe(serveArgs(rest));
    }
    case 'token': {
      const { mintFromArgs, tokenArgs } = await import('./token.ts');
      const args = tokenArgs(rest, {
        data: dataDefault,
        ...(env['CHUTE_JWT_SECRET'] && { secret: env['CHUTE_JWT_SECRET'] }),
      });
      process.stdout.write(`${await mintFromArgs(args)}\n`);
      return;
    }
    case 's3': {
      const { runStore, s3Config } = await import('./s3.ts');
      const { config, quiet } = s3Config(rest);
      return runStore(config, quiet);
    }
    case 'doctor': {
      const { doctorArgs, runDoctorCommand } = await import('./doctor.ts');
      const code = await runDoctorCommand(doctorArgs(rest, dataDefault), (t) => process.stdout.write(t));
      // Exit now: a database pool or socket the checks gave up on must not keep the process up.
      return process.exit(code);
    }
    case 'upload': {
      const { uploadArgs, uploadCommand } = await import('./upload.ts');
      process.exitCode = await uploadCommand(
        uploadArgs(rest, { token: env['CHUTE_TOKEN'], data: dataDefault }),
      );
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

main(process.argv.slice(2), process.env).catch((e: unknown) => {
  if (e instanceof UsageError) {
    process.stderr.write(`chute: ${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (e instanceof ConfigFileError) {
    process.stderr.write(`chute: ${e.message}\n`);
    process.exit(2);
  }
  if (e instanceof z.ZodError) {
    process.stderr.write(`chute: ${z.prettifyError(e)}\n`);
    process.exit(2);
  }
  process.stderr.write(`chute: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
