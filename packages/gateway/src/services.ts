import type { Authenticator } from './auth/authenticate.ts';
import type { GatewayConfig } from './config/parse.ts';
import type { Repo } from './db/repo.ts';
import type { Completer } from './lifecycle/completer.ts';
import type { Reviews } from './lifecycle/reviews.ts';
import type { Storage } from './storage/types.ts';
import type { Logger } from './telemetry/logger.ts';
import type { Metrics } from './telemetry/metrics.ts';

/**
 * What the gateway is made of, built once by createGateway: every handler and background job is
 * given this one object (the jobs themselves are built from the parts above them).
 */
export interface Services {
  readonly config: GatewayConfig;
  readonly repo: Repo;
  readonly storage: Storage;
  readonly auth: Authenticator;
  /** Epoch ms; the DB's times and grant deadlines. Storage signatures always use the real clock. */
  readonly clock: () => number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly completer: Completer;
  readonly reviews: Reviews;
}

/** What the jobs (completer, reviews, sweeper, …) are built from: the services without the jobs. */
export type BaseServices = Omit<Services, 'completer' | 'reviews'>;
