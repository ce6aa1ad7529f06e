// One Chute deployment on loopback for a fault test, every part its own process: the embedded
// store (`chute s3`), N gateways (`chute serve`) on one database, and optionally HAProxy in front
// (round-robin, health-checked, redispatching a refused connection, as in production).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { mintToken } from '../../../packages/gateway/src/auth/mint.ts';
import { freePort, Service } from './procs.ts';

export const BUCKET = 'chute-faults';
const ACCESS_KEY = 'faultskey';
const SECRET_KEY = 'faults-secret-key-0123456789';
/** Grants live the shortest a route allows (60 s): what no one completes expires soon after. */
export const LIFETIME_MS = 60_000;
/** The sweeper's interval and how long a complete's claim is trusted before it is handed back. */
export const SWEEP_MS = 1000;
export const CLAIM_TIMEOUT_MS = 4000;

export interface StackOptions {
  label: string;
  databaseUrl: string;
  gateways: number;
  balancer: boolean;
  webhook: { url: string; secret: string };
}

export class Stack {
  readonly dir: string;
  readonly store: Service;
  readonly storeUrl: string;
  readonly gateways: Service[];
  readonly gatewayUrls: string[];
  readonly balancer: Service | undefined;
  /** Where clients send API requests: the balancer, or the one gateway. */
  readonly api: string;
  readonly #secret: string;

  private constructor(
    dir: string,
    parts: {
      store: Service;
      storeUrl: string;
      gateways: Service[];
      gatewayUrls: string[];
      balancer: Service | undefined;
      api: string;
      secret: string;
    },
  ) {
    this.dir = dir;
    this.store = parts.store;
    this.storeUrl = parts.storeUrl;
    this.gateways = parts.gateways;
    this.gatewayUrls = parts.gatewayUrls;
    this.balancer = parts.balancer;
    this.api = parts.api;
    this.#secret = parts.secret;
  }

  static async start(o: StackOptions): Promise<Stack> {
    const dir = mkdtempSync(path.join(tmpdir(), `chute-faults-${o.label}-`));
    const storePort = await freePort();
    const storeUrl = `http://127.0.0.1:${storePort}`;
    mkdirSync(path.join(dir, 'store'));
    const store = Service.chute(
      'store',
      [
        's3',
        '--port',
        String(storePort),
        '--data',
        path.join(dir, 'store'),
        '--access-key',
        ACCESS_KEY,
        '--secret-key',
        SECRET_KEY,
        '--bucket',
        BUCKET,
        '--quiet',
      ],
      path.join(dir, 'store.log'),
      `${storeUrl}/`,
    );
    const secret = randomBytes(32).toString('hex');
    const config = {
      listen: { host: '127.0.0.1', port: 0 },
      storage: {
        endpoint: storeUrl,
        region: 'us-east-1',
        bucket: BUCKET,
        accessKeyId: ACCESS_KEY,
        secretAccessKey: SECRET_KEY,
      },
      database: { url: o.databaseUrl },
      auth: { jwt: { secret } },
      quotas: { pendingGrants: 100_000, bytesPerDay: '100GB', grantsPerMinute: 1_000_000 },
      sweeper: { intervalMs: SWEEP_MS, graceMs: 0, claimTimeoutMs: CLAIM_TIMEOUT_MS },
      webhooks: {
        endpoints: [{ id: 'faults', url: o.webhook.url, secret: o.webhook.secret }],
        retrySchedule: ['1s', '1s', '2s', '3s', '5s', '10s'],
        interval: '500ms',
        timeout: '5s',
      },
      routes: [
        { name: 'logo', types: ['image/png'], maxSize: '1MB', lifetime: '60s' },
        { name: 'doc', types: ['text/plain'], maxSize: '1MB', method: 'put', lifetime: '60s' },
      ],
    };
    const configFile = path.join(dir, 'chute.config.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
    const gatewayUrls: string[] = [];
    const gateways: Service[] = [];
    for (let i = 1; i <= o.gateways; i++) {
      const port = await freePort();
      gatewayUrls.push(`http://127.0.0.1:${port}`);
      gateways.push(
        Service.chute(
          `gw${i}`,
          ['serve', '--config', configFile, '--port', String(port), '--no-page'],
          path.join(dir, `gw${i}.log`),
          `http://127.0.0.1:${port}/healthz`,
          [200],
        ),
      );
    }
    let balancer: Service | undefined;
    let api = gatewayUrls[0]!;
    if (o.balancer) {
      const port = await freePort();
      api = `http://127.0.0.1:${port}`;
      const servers = gatewayUrls.map((u, i) => `  server gw${i + 1} ${new URL(u).host} check`).join('\n');
      // retries + redispatch: a connection refused by a dead instance (before the health check
      // has noticed) goes to another one. A request already sent to an instance that dies gets a
      // 502: only the client can know whether to send it again.
      const cfg = `global
  maxconn 2048

defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 90s
  timeout http-request 20s
  option http-server-close
  retries 3
  option redispatch

frontend chute
  bind 127.0.0.1:${port}
  default_backend gateways

backend gateways
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
  default-server inter 300ms fall 2 rise 2
  http-response set-header x-chute-instance %s
${servers}
`;
      writeFileSync(path.join(dir, 'haproxy.cfg'), cfg);
      balancer = new Service('haproxy', {
        command: 'haproxy',
        args: ['-db', '-f', path.join(dir, 'haproxy.cfg')],
        log: path.join(dir, 'haproxy.log'),
        ready: `${api}/healthz`,
        readyStatus: [200],
      });
    }
    const stack = new Stack(dir, { store, storeUrl, gateways, gatewayUrls, balancer, api, secret });
    try {
      await store.start();
      // One at a time: the first applies the migrations, the others find them done.
      for (const g of gateways) await g.start();
      await balancer?.start();
    } catch (e) {
      await stack.close(true);
      throw e;
    }
    return stack;
  }

  /**
   * `uploaded` claims the sweepers handed back (their completer died), summed over the gateways'
   * logs: how often the claim timeout, not a live completer, finished an upload.
   */
  claimsHandedBack(): number {
    let n = 0;
    for (let i = 1; i <= this.gateways.length; i++) {
      const log = path.join(this.dir, `gw${i}.log`);
      if (!existsSync(log)) continue;
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        if (!line.includes('"msg":"sweep"')) continue;
        n += Number((JSON.parse(line) as { reclaimed?: number }).reclaimed ?? 0);
      }
    }
    return n;
  }

  token(user: string, role: 'uploader' | 'admin' = 'uploader'): Promise<string> {
    return mintToken({ user, role, secret: this.#secret });
  }

  s3(): S3Client {
    return new S3Client({
      endpoint: this.storeUrl,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
  }

  /** Stops everything; the directory (logs, data) stays when `keep` or KEEP_FAULTS=1. */
  async close(keep = false): Promise<void> {
    await this.balancer?.stop();
    for (const g of this.gateways) await g.stop();
    await this.store.stop();
    if (!keep && process.env.KEEP_FAULTS !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}
