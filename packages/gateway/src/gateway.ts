import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drainOnClose, guardSlowClients, type SlowClientLimits, slowClientOptions } from '@chute/httpd';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createAuthenticator } from './auth/authenticate.ts';
import type { GatewayConfig } from './config/parse.ts';
import type { OpenOptions } from './db/open.ts';
import { Repo } from './db/repo.ts';
import { buildApp } from './http/app.ts';
import type { Env } from './http/context.ts';
import { Completer } from './lifecycle/completer.ts';
import { Publisher } from './lifecycle/publisher.ts';
import { Reviews } from './lifecycle/reviews.ts';
import { Sweeper } from './lifecycle/sweeper.ts';
import { mountPage, type PageOptions } from './page/mount.ts';
import type { BaseServices, Services } from './services.ts';
import { S3Storage, type S3StorageOptions } from './storage/s3.ts';
import type { Storage } from './storage/types.ts';
import { createLogger, type Logger } from './telemetry/logger.ts';
import { Metrics } from './telemetry/metrics.ts';
import { Dispatcher } from './webhooks/dispatcher.ts';

export interface GatewayOptions {
  logger?: Logger;
  /** Epoch ms for the database and grant deadlines (tests move it); storage signing uses real time. */
  clock?: () => number;
  /** PostgreSQL: the schema to use (tests). */
  database?: OpenOptions;
  /** Replace the S3 storage client (never needed in production). */
  storage?: Storage;
  storageOptions?: S3StorageOptions;
  /** Start the sweeper's interval (default true); `gateway.sweeper.once()` works either way. */
  sweep?: boolean;
  /** Start the webhook dispatcher (default true); `gateway.dispatcher.once()` works either way. */
  dispatch?: boolean;
  /** Process metrics (event loop, memory) in /metrics; default true. */
  processMetrics?: boolean;
  /** Limits on slow clients (tests shorten them); see @chute/httpd's SLOW_CLIENT_DEFAULTS. */
  slowClients?: Partial<SlowClientLimits>;
  /** The upload page at `/` (default: served, without demo users); false: not mounted. */
  page?: PageOptions | false;
}

export interface Gateway {
  readonly app: Hono<Env>;
  readonly services: Services;
  readonly sweeper: Sweeper;
  readonly completer: Completer;
  /** Delivers the outbox to the configured webhook endpoints. */
  readonly dispatcher: Dispatcher;
  /** Serves the app over node:http on config.listen (port 0: any free port). */
  listen(): Promise<{ port: number; url: string }>;
  /** Stops the server (lets requests in flight finish), the sweeper, and closes the database. */
  close(): Promise<void>;
}

/**
 * The gateway: opens the database (migrating it) and the storage client, builds the API, starts
 * the sweeper. The config comes parsed (parseConfig); nothing here reads the environment.
 */
export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? createLogger();
  const repo = await Repo.open(config.database.url, { ...options.database, clock });
  // Every grant records its rule's fingerprint; the rule itself must be stored before any grant.
  await repo.rules.save(config.routes.values()).catch(async (e: unknown) => {
    await repo.close();
    throw e;
  });
  const base: BaseServices = {
    config,
    repo,
    storage: options.storage ?? new S3Storage(config.storage, options.storageOptions),
    auth: createAuthenticator(config.auth),
    clock,
    logger,
    metrics: new Metrics({ processMetrics: options.processMetrics ?? true }),
  };
  const publisher = new Publisher(base);
  const completer = new Completer(base, publisher);
  const reviews = new Reviews(base, publisher);
  const sweeper = new Sweeper(base, { publisher, reviews });
  const dispatcher = new Dispatcher({
    settings: config.webhooks,
    repo,
    clock,
    logger,
    metrics: base.metrics,
  });
  base.metrics.observeOutbox(async () => {
    const s = await repo.deliveries.stats();
    return {
      depth: s.depth,
      oldestAgeSeconds: s.oldestCreatedAt === null ? 0 : Math.max(0, (clock() - s.oldestCreatedAt) / 1000),
    };
  });
  const services: Services = { ...base, completer, reviews };
  const app = buildApp(services);
  if (options.page !== false) mountPage(app, config, options.page);
  if (options.sweep ?? true) sweeper.start();
  if (options.dispatch ?? true) dispatcher.start();

  let server: { close(): Promise<void> } | undefined;
  let closed = false;
  return {
    app,
    services,
    sweeper,
    completer,
    dispatcher,
    listen() {
      if (server !== undefined) throw new Error('already listening');
      return new Promise((resolve, reject) => {
        // Slow clients (slowloris, trickled bodies) must not hold sockets: headers within 20 s, a
        // body at ≥ 500 B/s, no deadline for a whole request (a proxied upload may take long), and
        // a socket silent both ways closed only after the longest storage call a complete makes.
        const slow = { idleMs: 16 * 60_000, ...options.slowClients };
        const s = serve(
          {
            fetch: app.fetch,
            port: config.listen.port,
            hostname: config.listen.host,
            serverOptions: slowClientOptions(slow),
          },
          (info: AddressInfo) => {
            const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
            const url = `http://${host}:${info.port}`;
            logger.info({ url }, 'gateway listening');
            resolve({ port: info.port, url });
          },
        );
        s.once('error', reject);
        guardSlowClients(s as Server, slow);
        server = drainOnClose(s as Server);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await sweeper.stop();
      await dispatcher.stop();
      // Requests in flight finish; idle and never-used connections are dropped (drain.ts).
      await server?.close();
      await repo.close();
    },
  };
}
