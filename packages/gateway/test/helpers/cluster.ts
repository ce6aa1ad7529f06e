import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * A cluster of scripts/cluster-up.sh (instances of `chute serve` on one PostgreSQL database
 * behind HAProxy), named by CHUTE_E2E_CLUSTER, its state directory (`npm run test:cluster` sets
 * it). The gateway's suites then run through its balancer: their harness (helpers/e2e.ts) writes
 * each suite's config and restarts the instances on it. Undefined when CHUTE_E2E_CLUSTER is not set.
 */
export interface Cluster {
  dir: string;
  /** The balancer. */
  url: string;
  /** Each instance's own URL, bypassing the balancer. */
  instances: readonly string[];
  /** The sections of the cluster's config (cluster-up.sh's chute.config.json) every suite's config keeps. */
  site: Site & { storage: { endpoint: string; bucket: string } };
}

/**
 * The parts of a config that are the site's, not the suite's: where the gateway listens, its
 * storage, database, token secret, and how its sweeper runs.
 */
export interface Site {
  listen: Record<string, unknown>;
  storage: Record<string, unknown>;
  database: { url: string };
  auth: { jwt: { secret: string } };
  sweeper: Record<string, unknown>;
}

export const CLUSTER = cluster();

function cluster(): Cluster | undefined {
  const dir = process.env['CHUTE_E2E_CLUSTER'];
  if (dir === undefined || dir === '') return undefined;
  let env: string;
  let config: Cluster['site'];
  try {
    env = readFileSync(path.join(dir, 'env'), 'utf8');
    config = JSON.parse(readFileSync(path.join(dir, 'chute.config.json'), 'utf8'));
  } catch (e) {
    throw new Error(`CHUTE_E2E_CLUSTER=${dir}: no cluster there (start one with scripts/cluster-up.sh)`, {
      cause: e,
    });
  }
  const vars = new Map(
    env
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l): [string, string] => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const url = vars.get('CHUTE_CLUSTER_URL');
  const instances = (vars.get('CHUTE_CLUSTER_INSTANCES') ?? '').split(',').filter(Boolean);
  if (url === undefined || instances.length === 0)
    throw new Error(`CHUTE_E2E_CLUSTER=${dir}: its env names no balancer or no instances`);
  const { listen, storage, database, auth, sweeper } = config;
  return { dir, url, instances, site: { listen, storage, database, auth, sweeper } };
}

const RESTART = fileURLToPath(new URL('../../../../scripts/cluster-restart.sh', import.meta.url));

/**
 * Restarts the cluster's instances on `config` (scripts/cluster-restart.sh), on an emptied
 * database with `emptyDatabase`: returns once every instance is healthy and the balancer reaches
 * each of them. The config file holds secrets: only its owner reads it.
 */
export async function restartCluster(
  c: Cluster,
  config: Record<string, unknown>,
  o: { emptyDatabase: boolean },
): Promise<void> {
  const file = path.join(c.dir, 'suite.config.json');
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  try {
    await promisify(execFile)('bash', [RESTART, ...(o.emptyDatabase ? ['--empty-db'] : []), file], {
      env: { ...process.env, CHUTE_CLUSTER_DIR: c.dir },
    });
  } catch (e) {
    throw new Error(`scripts/cluster-restart.sh failed:\n${(e as { stderr?: string }).stderr ?? e}`);
  }
}
