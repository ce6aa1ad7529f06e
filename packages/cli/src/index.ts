// @chute/cli as a library: what the `chute` command runs, for tests and embedding.
export { loadConfigFile } from './config-file.ts';
export { DEV_BUCKET, type DevOptions, type DevServer, devBanner, startDev } from './dev.ts';
export { DEV_SECRET_FILE, loadOrCreateDevSecret, readDevSecret } from './secret.ts';
