// @chute/client: upload a file through a Chute gateway, straight to storage. Browser and Node,
// no dependencies beyond the platform (fetch, XMLHttpRequest, Blob, AbortController).
export { completeUpload, type GatewayAuth, getUpload, requestGrant } from './api.ts';
export { type Deadline, deadlineOf, isExpiry } from './deadline.ts';
export {
  ChuteClientError,
  type ClientErrorCode,
  type ErrorSource,
  isChuteClientError,
  parseRetryAfter,
} from './errors.ts';
export { localStorageResume, memoryResume, type ResumeStore, resumeKey } from './resume.ts';
export {
  backoffMs,
  DEFAULT_RETRY,
  isRetryable,
  type RetryEvent,
  type RetryPolicy,
  retryDelay,
} from './retry.ts';
export {
  defaultTransport,
  fetchTransport,
  nodeTransport,
  type StorageBody,
  type StorageRequest,
  type StorageResponse,
  type Transport,
  xhrTransport,
} from './transport/index.ts';
export type * from './types.ts';
export { type UploadOptions, upload } from './upload.ts';
