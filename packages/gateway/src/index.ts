// @chute/gateway: the upload service — config, routes, auth, metadata DB, storage client,
// the HTTP API, complete = verify + freeze, the sweeper, telemetry.
export { createGateway, type Gateway, type GatewayOptions } from './app.ts';
export * from './auth/index.ts';
export { Completer } from './complete.ts';
export * from './config/index.ts';
export * from './db/index.ts';
export type { Deps } from './deps.ts';
export { DEMO_ROUTES, DEMO_USERS, type DevConfigInput, devConfig } from './dev.ts';
export * from './doctor/index.ts';
export { type DurationString, parseDuration } from './duration.ts';
export { buildApp } from './http/app.ts';
export { ENDPOINTS, openApiDocument } from './http/openapi.ts';
export {
  assertUserId,
  fileKey,
  incomingKey,
  isUploadId,
  isUserId,
  newEventId,
  newUploadId,
  randomBase62,
  USER_ID,
} from './ids.ts';
export { essence, typeAllowed } from './mime.ts';
export { type DemoUser, mountPage, type PageOptions, pageCsp, storageOrigins } from './page/mount.ts';
export * from './routes/index.ts';
export { serveGateway } from './server.ts';
export { formatSize, parseSize, type Size, type SizeString } from './size.ts';
export * from './storage/index.ts';
export { Sweeper, type SweepReport } from './sweeper.ts';
export { createLogger, type Logger, REDACT_PATHS, silentLogger } from './telemetry/logger.ts';
export { Metrics } from './telemetry/metrics.ts';
export { type Rejected, type Verified, verifyObject } from './verify/verify.ts';
