/**
 * One gateway for the grant benchmarks, run as a child process (so the load generator's CPU is
 * not the server's): `node bench/lib/grant-server.ts '{"database":…,"schema":…,"port":…}'`.
 * It serves POST /v1/grants with the bench's config and, on the same stack (hono on
 * @hono/node-server, the same middleware: request id, metrics, access log), the peer: a
 * constant-JSON endpoint, POST /bench/constant. Prints `listening on URL`; on SIGTERM prints the
 * server's event-loop delay over its life and exits.
 *
 * Signing is pure: no storage request is made for a grant, so no store needs to run. The logger
 * is silent; quotas are set high (the benches spread requests over many users): they measure the
 * work of a grant, not a 429. No sweeper or dispatcher: only grants run.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createGateway, parseConfig, route, silentLogger } from '@chute/gateway';

export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret-00';

/** What the parent passes, as one JSON argument. */
export interface GrantServerOptions {
  /** sqlite:… or postgres://… */
  database: string;
  /** PostgreSQL: the schema (made by the parent) every instance of one run shares. */
  schema?: string;
  /** 0: any free port. */
  port: number;
}

/** The request body both endpoints get: a grant the `logo` route admits. */
export const GRANT_BODY = JSON.stringify({
  route: 'logo',
  filename: 'logo.png',
  contentType: 'image/png',
  size: 123_456,
});

if (import.meta.main) await serve(JSON.parse(process.argv[2]!) as GrantServerOptions);

async function serve(options: GrantServerOptions): Promise<void> {
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: options.port },
    storage: {
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'bench',
      accessKeyId: 'benchkey',
      secretAccessKey: 'benchsecret',
    },
    database: { url: options.database },
    auth: { jwt: { secret: BENCH_SECRET } },
    quotas: { pendingGrants: 1_000_000, bytesPerDay: '1000TB', grantsPerMinute: 1_000_000 },
    routes: [
      route('logo')
        .types('image/png', 'image/jpeg')
        .maxSize('20MB')
        .image({ maxWidth: 4096, maxHeight: 4096 })
        .review(),
    ],
  });
  const gateway = await createGateway(config, {
    ...(options.schema !== undefined && { database: { schema: options.schema } }),
    logger: silentLogger(),
    sweep: false,
    dispatch: false,
    processMetrics: false,
  });
  const constant = { id: 'up_0000000000000000000000', ok: true };
  gateway.app.post('/bench/constant', async (c) => {
    await c.req.text();
    return c.json(constant, 201);
  });
  const { url } = await gateway.listen();
  // Event-loop delay: how long the server's one thread was blocked (sync SQLite, GC), as opposed
  // to requests queueing for CPU.
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  process.stdout.write(`listening on ${url}\n`);
  const stop = () => {
    eld.disable();
    const ms = (ns: number) => (ns / 1e6).toFixed(1);
    process.stdout.write(
      `server event-loop delay over the run: p50 ${ms(eld.percentile(50))} ms, p99 ${ms(eld.percentile(99))} ms, max ${ms(eld.max)} ms\n`,
    );
    gateway.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
