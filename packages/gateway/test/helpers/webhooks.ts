import { parseConfig } from '../../src/config/parse.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import type { Engine } from './engines.ts';

/** A mutable clock for the gateway (schedule, deadlines); signatures use the real one. */
export interface TestClock {
  now: number;
}

/**
 * A gateway for dispatcher tests: the real database and wiring, the dispatcher not started (tests
 * call `gateway.dispatcher.once()` after moving the clock, unless `dispatch` is set). Storage is
 * never contacted: events come from `repo.outbox.append`.
 */
export function webhookGateway(
  engine: Engine,
  clock: TestClock,
  webhooks: Record<string, unknown>,
  options: { dispatch?: boolean } = {},
): Promise<Gateway> {
  const config = parseConfig({
    storage: { endpoint: 'http://127.0.0.1:9', bucket: 'unused', accessKeyId: 'k', secretAccessKey: 's' },
    database: { url: engine.url },
    auth: { jwt: { secret: 'webhook-test-secret-webhook-test-secret' } },
    routes: [{ name: 'doc', types: ['text/plain'], maxSize: '1MB' }],
    webhooks,
  });
  return createGateway(config, {
    logger: silentLogger(),
    clock: () => clock.now,
    database: engine.options,
    sweep: false,
    dispatch: options.dispatch ?? false,
    page: false,
    processMetrics: false,
  });
}
