import path from 'node:path';
import {
  type CheckResult,
  type DoctorInput,
  type DoctorOptions,
  doctorFailed,
  formatResults,
  runDoctor,
  type WebhookTarget,
} from '@chute/gateway';
import { loadConfigFile } from './config-file.ts';
import { DEV_BUCKET } from './dev.ts';
import { parseFlags, parsePort } from './flags.ts';
import { DEV_USER } from './s3.ts';

export interface DoctorArgs {
  /** A gateway config file; absent: what `chute dev` runs with. */
  config: string | undefined;
  /** `chute dev`'s data dir (its SQLite file), without --config. Absolute. */
  data: string;
  /** `chute dev`'s gateway port (the page's origin) and store port, without --config. */
  port: number;
  s3Port: number;
  origins: string[];
  webhooks: string[];
  json: boolean;
}

export function doctorArgs(argv: string[], dataDefault: string): DoctorArgs {
  const v = parseFlags({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string', short: 'c' },
      data: { type: 'string' },
      port: { type: 'string' },
      's3-port': { type: 'string' },
      origin: { type: 'string', multiple: true },
      webhook: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
  }).values;
  return {
    config: v.config,
    data: path.resolve(v.data ?? dataDefault),
    port: parsePort('--port', v.port, 3000),
    s3Port: parsePort('--s3-port', v['s3-port'], 9000),
    origins: v.origin ?? [],
    webhooks: v.webhook ?? [],
    json: v.json ?? false,
  };
}

const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * What to check. With --config: the file's storage and database; origins are the config's
 * cors.origins plus --origin, or else the gateway's own page (when it listens on a named host).
 * Without: `chute dev`'s embedded store, bucket, credentials, SQLite file and page origins.
 * Webhook endpoints: the config's `webhooks.endpoints`, plus each --webhook URL.
 */
export async function doctorInput(args: DoctorArgs): Promise<DoctorInput> {
  const webhooks: WebhookTarget[] = args.webhooks.map((url) => ({ url }));
  if (args.config === undefined) {
    return {
      storage: {
        endpoint: `http://127.0.0.1:${args.s3Port}`,
        region: 'us-east-1',
        bucket: DEV_BUCKET,
        ...DEV_USER,
        forcePathStyle: true,
      },
      origins: [`http://127.0.0.1:${args.port}`, `http://localhost:${args.port}`, ...args.origins],
      database: { url: `sqlite:${path.join(args.data, 'chute.db')}` },
      webhooks,
    };
  }
  const config = await loadConfigFile(args.config);
  let origins = [...new Set([...config.cors.origins, ...args.origins])];
  if (origins.length === 0 && !ANY_ADDRESS.has(config.listen.host))
    origins = [`http://${config.listen.host}:${config.listen.port}`];
  const configured = config.webhooks.endpoints.map((e): WebhookTarget => ({ id: e.id, url: e.url }));
  return {
    storage: config.storage,
    origins,
    database: { url: config.database.url },
    webhooks: [...configured, ...webhooks],
  };
}

/** `chute doctor`: the report on stdout (text or --json); exit code 1 on any FAIL. */
export async function runDoctorCommand(
  args: DoctorArgs,
  write: (text: string) => void,
  options: DoctorOptions = {},
): Promise<number> {
  const results: CheckResult[] = await runDoctor(await doctorInput(args), options);
  const failed = doctorFailed(results);
  write(args.json ? `${JSON.stringify({ ok: !failed, results }, null, 2)}\n` : `${formatResults(results)}\n`);
  return failed ? 1 : 0;
}
