export type { Backend, BucketInfo, ObjectMeta } from './backend/types.ts';
export {
  parseStoreConfig,
  redactConfig,
  type StoreConfig,
  type StoreConfigInput,
  StoreConfigSchema,
} from './config.ts';
export { crc32c } from './crc32c.ts';
export { createStore, type Store, type StoreOptions, stdoutLog } from './server.ts';
