import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createGateway,
  createLogger,
  DEMO_USERS,
  type DemoUser,
  devConfig,
  formatSize,
  type Gateway,
  type GatewayConfig,
  prepareBucket,
} from '@chute/gateway';
import { createStore, type Store, type StoreOptions } from '@chute/store';
import { DEV_WEBHOOK_PATH, type DevReceiver, startDevReceiver } from './dev-webhooks.ts';
import type { DevLog } from './devlog.ts';
import { listenError } from './errors.ts';
import { DEV_USER } from './s3.ts';
import { DEV_SECRET_FILE, loadOrCreateDevSecret } from './secret.ts';

export const DEV_BUCKET = 'chute';
const DEV_REGION = 'us-east-1';

export interface DevOptions {
  /** `.chute/`: the SQLite file, the store's objects (`s3/`) and the dev JWT secret. Absolute. */
  dataDir: string;
  host: string;
  /** The gateway and its page (0: any free port). */
  port: number;
  /** The embedded store (0: any free port). */
  s3Port: number;
  /** Extra origins allowed by the bucket's CORS rule (the page's own are always in). */
  origins?: readonly string[];
  /** Where request lines go; undefined: nowhere. */
  log?: DevLog;
  /** The store's limits on slow clients (tests shorten them); the store's defaults otherwise. */
  storeSlowClients?: StoreOptions['slowClients'];
}

export interface DevServer {
  gatewayUrl: string;
  storeUrl: string;
  bucket: string;
  config: GatewayConfig;
  users: readonly DemoUser[];
  gateway: Gateway;
  store: Store;
  /** The receiver the gateway sends its webhooks to (endpoint `dev`). */
  webhooks: DevReceiver;
  /** Gateway first (no new grants or completes), then the store. */
  close(): Promise<void>;
}

/**
 * `chute dev` in-process: the embedded store on its port, the bucket with CORS for the page, the
 * gateway with the demo routes and users on SQLite under the data dir. Tests start it on port 0.
 */
export async function startDev(options: DevOptions): Promise<DevServer> {
  const secret = await loadOrCreateDevSecret(options.dataDir);
  await mkdir(join(options.dataDir, 's3'), { recursive: true });
  const store = await createStore(
    {
      host: options.host,
      port: options.s3Port,
      dataDir: join(options.dataDir, 's3'),
      region: DEV_REGION,
      users: [DEV_USER],
    },
    { log: options.log?.storeLine ?? (() => {}), slowClients: options.storeSlowClients },
  );
  let gateway: Gateway | undefined;
  let webhooks: DevReceiver | undefined;
  try {
    const { url: storeUrl } = await store.listen().catch((e: unknown) => {
      throw listenError(e, '--s3-port', options.s3Port);
    });
    webhooks = await startDevReceiver({
      host: options.host,
      ...(options.log && { onDelivery: options.log.webhookLine }),
    });
    const receiver = webhooks;
    const config = devConfig({
      storage: { endpoint: storeUrl, region: DEV_REGION, bucket: DEV_BUCKET, ...DEV_USER },
      dataDir: options.dataDir,
      jwtSecret: secret,
      host: options.host,
      port: options.port,
      webhooks: [{ id: 'dev', url: receiver.url, secret: receiver.secret }],
    });
    gateway = await createGateway(config, {
      logger: options.log
        ? createLogger({ destination: options.log.gatewayDestination })
        : createLogger({ level: 'silent' }),
      page: { demoUsers: DEMO_USERS, webhookLog: DEV_WEBHOOK_PATH },
    });
    // The receiver's last deliveries, same-origin for the page.
    gateway.app.get(DEV_WEBHOOK_PATH, (c) => c.json(receiver.recent()));
    const { url: gatewayUrl } = await gateway.listen().catch((e: unknown) => {
      throw listenError(e, '--port', options.port);
    });
    // The page posts straight to the bucket from the gateway's origin (as 127.0.0.1 or localhost).
    const { port } = new URL(gatewayUrl);
    const origins = new Set([
      new URL(gatewayUrl).origin,
      `http://127.0.0.1:${port}`,
      `http://localhost:${port}`,
      ...(options.origins ?? []),
    ]);
    await prepareBucket(config.storage, { corsOrigins: [...origins] });
    const g = gateway;
    return {
      gatewayUrl,
      storeUrl,
      bucket: DEV_BUCKET,
      config,
      users: DEMO_USERS,
      gateway: g,
      store,
      webhooks: receiver,
      async close() {
        try {
          await g.close();
        } finally {
          await receiver.close();
          await store.close();
        }
      },
    };
  } catch (e) {
    await gateway?.close().catch(() => {});
    await webhooks?.close().catch(() => {});
    await store.close().catch(() => {});
    throw e;
  }
}

/** What `chute dev` prints once both servers answer. */
export function devBanner(dev: DevServer, dataDir: string): string {
  const api = dev.gatewayUrl;
  const routes = [...dev.config.routes.values()].map((r) => {
    const img = r.image ? `; ≤ ${r.image.maxWidth}×${r.image.maxHeight} px` : '';
    return `${r.name}: ${r.types.join(', ')}; ≤ ${formatSize(r.maxSize)}${img}; review ${r.review ? 'on' : 'off'}`;
  });
  const byRole = ['uploader', 'reviewer', 'admin']
    .map((role) => {
      const ids = dev.users.filter((u) => u.role === role).map((u) => u.id);
      return ids.length ? `${ids.join(', ')} (${role})` : '';
    })
    .filter(Boolean)
    .join(' · ');
  const auth = '-H "authorization: Bearer $TOKEN"';
  return [
    '',
    'Chute dev is running.',
    '',
    `  Page      ${api}/`,
    `  API       ${api}/v1   (OpenAPI: ${api}/v1/openapi.json, metrics: ${api}/metrics)`,
    `  Storage   ${dev.storeUrl}   bucket "${dev.bucket}", key ${DEV_USER.accessKeyId} / ${DEV_USER.secretAccessKey}`,
    `  Data      ${dataDir}   (chute.db, s3/, ${DEV_SECRET_FILE})`,
    `  Webhooks  ${dev.webhooks.url}   (each delivery logged; the last 50: ${api}${DEV_WEBHOOK_PATH})`,
    `  Routes    ${routes.join('\n            ')}`,
    `  Users     ${byRole} — pick one on the page`,
    '',
    '  A token for scripts (signed with the dev secret, valid 1 h):',
    '    TOKEN=$(npm run -s chute -- token --user alice)',
    '',
    '  The three calls with curl and jq (grant, upload straight to storage, complete):',
    `    G=$(curl -s ${api}/v1/grants ${auth} -H 'content-type: application/json' \\`,
    `          -d '{"route":"logo","filename":"logo.png","contentType":"image/png","size":'$(wc -c < logo.png)'}')`,
    `    curl -s "$(jq -r .url <<<"$G")" $(jq -r '.fields | to_entries[] | "-F \\(.key)=\\(.value)"' <<<"$G") -F file=@logo.png`,
    `    curl -s -X POST ${api}/v1/uploads/$(jq -r .id <<<"$G")/complete ${auth}`,
    '',
    '  Then review it as a reviewer (the queue, then a decision); the receiver logs review.approved:',
    '    R=$(npm run -s chute -- token --user rita --role reviewer)',
    `    curl -s ${api}/v1/reviews -H "authorization: Bearer $R"`,
    `    curl -s ${api}/v1/uploads/$(jq -r .id <<<"$G")/decision -H "authorization: Bearer $R" \\`,
    `          -H 'content-type: application/json' -d '{"decision":"approve"}'`,
    '',
    '  Ctrl-C stops both servers.',
    '',
  ].join('\n');
}
