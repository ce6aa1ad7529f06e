import type { Authenticator } from './auth/authenticate.ts';
import type { GatewayConfig } from './config/parse.ts';
import type { Repo } from './db/repo.ts';
import type { Storage } from './storage/types.ts';
import type { Logger } from './telemetry/logger.ts';
import type { Metrics } from './telemetry/metrics.ts';

/** What every handler, the completer and the sweeper are given; built once by createGateway. */
export interface Deps {
  readonly config: GatewayConfig;
  readonly repo: Repo;
  readonly storage: Storage;
  readonly auth: Authenticator;
  /** Epoch ms; the DB's times and grant deadlines. Storage signatures always use the real clock. */
  readonly clock: () => number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}
