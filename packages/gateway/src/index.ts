// @chute/gateway: the upload service — config, routes, auth, metadata DB, storage client,
// the HTTP API, complete = verify + freeze, the sweeper, telemetry.

export * from './auth/index.ts';
export { DEMO_ROUTES, DEMO_USERS, type DevConfigInput, devConfig } from './config/dev.ts';
export * from './config/index.ts';
export * from './db/index.ts';
export * from './doctor/index.ts';
export {
  assertUserId,
  EVENT_ID,
  fileKey,
  incomingKey,
  isUploadId,
  isUserId,
  newEventId,
  newUploadId,
  randomBase62,
  USER_ID,
} from './domain/ids.ts';
export { createGateway, type Gateway, type GatewayOptions } from './gateway.ts';
export { buildApp } from './http/app.ts';
export { ENDPOINTS } from './http/endpoints.ts';
export { openApiDocument } from './http/openapi.ts';
export { Completer } from './lifecycle/completer.ts';
export { EVENT_TYPES, type EventType } from './lifecycle/events.ts';
export { Sweeper, type SweepReport } from './lifecycle/sweeper.ts';
export { type DemoUser, mountPage, type PageOptions, pageCsp, storageOrigins } from './page/mount.ts';
export * from './rules/index.ts';
export { essence, typeAllowed } from './rules/mime.ts';
export type { Services } from './services.ts';
export * from './storage/index.ts';
export { createLogger, type Logger, REDACT_PATHS, silentLogger } from './telemetry/logger.ts';
export { Metrics } from './telemetry/metrics.ts';
export { type DurationString, parseDuration } from './units/duration.ts';
export { formatSize, parseSize, type Size, type SizeString } from './units/size.ts';
export { type Rejected, type Verified, verifyObject } from './verify/verify.ts';
export { Dispatcher, type DispatcherOptions, type DispatchReport } from './webhooks/dispatcher.ts';
export type { WebhookEndpoint, WebhookSettings } from './webhooks/settings.ts';
export { secretKey, sign } from './webhooks/sign.ts';
