export { DEFAULTS } from './defaults.ts';
export {
  ConfigError,
  type GatewayConfig,
  type GatewayConfigInput,
  parseConfig,
  redactConfig,
} from './parse.ts';
