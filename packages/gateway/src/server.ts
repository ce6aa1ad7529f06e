import { createGateway, type Gateway, type GatewayOptions } from './app.ts';
import type { GatewayConfig } from './config/parse.ts';

/**
 * `chute serve`'s body: build the gateway, listen, and close cleanly on SIGINT/SIGTERM. The CLI
 * reads and parses the config file; this takes the parsed config.
 */
export async function serveGateway(
  config: GatewayConfig,
  options: GatewayOptions = {},
): Promise<Gateway & { url: string }> {
  const gateway = await createGateway(config, options);
  const { url } = await gateway.listen();
  const stop = () => {
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return Object.assign(gateway, { url });
}
