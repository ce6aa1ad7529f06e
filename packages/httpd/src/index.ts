export { drainOnClose } from './drain.ts';
export {
  guardSlowClients,
  SLOW_CLIENT_DEFAULTS,
  type SlowClientLimits,
  slowClientOptions,
} from './slow-clients.ts';
