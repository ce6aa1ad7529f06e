// @chute/gateway: the upload service's foundation — config, routes, auth, metadata DB.
// (The HTTP API, complete/verify/freeze and the sweeper build on these.)
export * from './auth/index.ts';
export * from './config/index.ts';
export * from './db/index.ts';
export { type DurationString, parseDuration } from './duration.ts';
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
export * from './routes/index.ts';
export { formatSize, parseSize, type Size, type SizeString } from './size.ts';
