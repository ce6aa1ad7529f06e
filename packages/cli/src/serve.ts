import { createGateway, createLogger, type GatewayConfig, redactConfig } from '@chute/gateway';
import { loadConfigFile } from './config-file.ts';
import { listenError, UsageError } from './errors.ts';
import { parseFlags, parsePort } from './flags.ts';
import { stopOnSignals } from './shutdown.ts';

export interface ServeArgs {
  config: string;
  host: string | undefined;
  port: number | undefined;
  page: boolean;
}

export function serveArgs(argv: string[]): ServeArgs {
  const v = parseFlags({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string', short: 'c' },
      host: { type: 'string' },
      port: { type: 'string' },
      'no-page': { type: 'boolean' },
    },
  }).values;
  if (!v.config) throw new UsageError('--config FILE is required');
  return {
    config: v.config,
    host: v.host,
    port: v.port === undefined ? undefined : parsePort('--port', v.port, 0),
    page: !v['no-page'],
  };
}

/** The config file with --host/--port applied over its `listen`. */
export function loadServeConfig(args: ServeArgs): Promise<GatewayConfig> {
  return loadConfigFile(args.config, (input) => {
    if (args.host === undefined && args.port === undefined) return input;
    const listen = { ...(input['listen'] as Record<string, unknown> | undefined) };
    if (args.host !== undefined) listen['host'] = args.host;
    if (args.port !== undefined) listen['port'] = args.port;
    return { ...input, listen };
  });
}

/** `chute serve`: the gateway (JSON logs on stdout) until SIGINT/SIGTERM. */
export async function runServe(args: ServeArgs): Promise<void> {
  const config = await loadServeConfig(args);
  const logger = createLogger();
  logger.info({ config: redactConfig(config) }, 'config');
  const gateway = await createGateway(config, { logger, ...(!args.page && { page: false }) });
  const { url } = await gateway.listen().catch(async (e: unknown) => {
    await gateway.close();
    throw listenError(e, '--port', config.listen.port);
  });
  const database = (redactConfig(config)['database'] as { url: string }).url;
  const storage = config.storage.publicEndpoint ?? config.storage.endpoint;
  // 30 s: a complete in flight (verify + copy) gets the time an orchestrator usually grants.
  // Installed before the line announcing the server, which a supervisor may answer with a signal.
  stopOnSignals(
    () => gateway.close(),
    (line) => process.stderr.write(`${line}\n`),
    30_000,
  );
  process.stderr.write(
    `chute serve: gateway on ${url}  (storage ${storage}, bucket "${config.storage.bucket}"; database ${database})\n`,
  );
}
