import type { Endpoint } from '../endpoints.ts';
import { ErrorBody } from '../schemas.ts';
import {
  CompanionLink,
  CompleteMultipartAnswer,
  CompleteMultipartRequest,
  CreateMultipartAnswer,
  CreateMultipartRequest,
  LinkRequest,
  SignedPartAnswer,
  StoredPartsAnswer,
} from './schemas.ts';

/**
 * The Companion-compatible endpoints @uppy/aws-s3 calls with `companionEndpoint` (docs/uppy.md),
 * and the call that hands out that endpoint. Listed with the API's (http/endpoints.ts), so they
 * are mounted and documented like every other.
 */
const link = {
  description: 'The Companion link (from POST /v1/companion): the credential of these calls.',
  schema: { type: 'string', pattern: '^cl1\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$' },
};
const uploadId = {
  description: 'The upload id the multipart call answered (up_…).',
  schema: { type: 'string', pattern: '^up_[0-9A-Za-z]{22}$' },
};
const keyQuery = {
  key: { description: 'The key the multipart call answered.', schema: { type: 'string' } },
};
const linkErrors = {
  '401': { description: 'unauthenticated: the link is forged, malformed or expired', schema: ErrorBody },
  '404': {
    description:
      'not_found: no such upload (also someone else\u2019s, or another route\u2019s); Companion not enabled',
    schema: ErrorBody,
  },
};
const uploadErrors = {
  ...linkErrors,
  '400': { description: 'invalid_request: a key that is not the upload\u2019s', schema: ErrorBody },
  '409': {
    description: 'conflict: not multipart, or no longer being uploaded (details.state)',
    schema: ErrorBody,
  },
};

export const COMPANION_ENDPOINTS: readonly Endpoint[] = [
  {
    method: 'post',
    path: '/v1/companion',
    operationId: 'createCompanionLink',
    summary:
      'A `companionEndpoint` for @uppy/aws-s3: this user, one route (which must take multipart uploads), until expiresAt.',
    auth: true,
    request: LinkRequest,
    responses: {
      '201': { description: 'The link.', schema: CompanionLink },
      '400': { description: 'invalid_request: the route does not take multipart uploads', schema: ErrorBody },
      '404': {
        description: 'route_not_found; not_found when companion.secret is not set',
        schema: ErrorBody,
      },
    },
  },
  {
    method: 'get',
    path: '/v1/companion/{link}/s3/params',
    operationId: 'companionParams',
    summary:
      'Uppy\u2019s simple upload: always refused (405 method_not_allowed). Set shouldUseMultipart: true: after a simple upload Uppy calls nothing, so it could not be verified.',
    auth: false,
    params: { link },
    responses: {
      ...linkErrors,
      '405': { description: 'method_not_allowed: use shouldUseMultipart: true', schema: ErrorBody },
    },
  },
  {
    method: 'post',
    path: '/v1/companion/{link}/s3/multipart',
    operationId: 'companionCreateMultipart',
    summary:
      'Uppy starts a multipart upload: a multipart grant on the link\u2019s route (rules, quota), cut into the parts Uppy sends.',
    auth: false,
    params: { link },
    request: CreateMultipartRequest,
    responses: {
      '200': { description: 'The upload.', schema: CreateMultipartAnswer },
      '400': {
        description: 'invalid_request (metadata.size missing, the route takes no multipart), too_small',
        schema: ErrorBody,
      },
      '401': linkErrors['401'],
      '404': { description: 'route_not_found: the link\u2019s route is gone', schema: ErrorBody },
      '413': { description: 'too_large', schema: ErrorBody },
      '415': { description: 'type_not_allowed', schema: ErrorBody },
      '429': { description: 'quota_exceeded', schema: ErrorBody, headers: { 'Retry-After': 'seconds' } },
    },
  },
  {
    method: 'get',
    path: '/v1/companion/{link}/s3/multipart/{uploadId}',
    operationId: 'companionListParts',
    summary: 'The parts storage holds (Uppy resumes from them).',
    auth: false,
    params: { link, uploadId },
    query: keyQuery,
    responses: {
      '200': { description: 'The parts.', schema: StoredPartsAnswer },
      ...uploadErrors,
      '410': { description: 'grant_expired', schema: ErrorBody },
    },
  },
  {
    method: 'get',
    path: '/v1/companion/{link}/s3/multipart/{uploadId}/{partNumber}',
    operationId: 'companionSignPart',
    summary: 'One presigned UploadPart URL, its exact Content-Length signed.',
    auth: false,
    params: {
      link,
      uploadId,
      partNumber: { description: '1…the plan\u2019s part count.', schema: { type: 'integer', minimum: 1 } },
    },
    query: keyQuery,
    responses: {
      '200': { description: 'The URL.', schema: SignedPartAnswer },
      ...uploadErrors,
      '400': {
        description: 'invalid_request: a part number outside the plan, a wrong key',
        schema: ErrorBody,
      },
      '410': { description: 'grant_expired', schema: ErrorBody },
    },
  },
  {
    method: 'post',
    path: '/v1/companion/{link}/s3/multipart/{uploadId}/complete',
    operationId: 'companionComplete',
    summary:
      'The gateway\u2019s complete: parts assembled from storage\u2019s list (Uppy\u2019s checked against it), then verify and freeze.',
    auth: false,
    params: { link, uploadId },
    query: keyQuery,
    request: CompleteMultipartRequest,
    responses: {
      '200': { description: 'Verified (or pending review).', schema: CompleteMultipartAnswer },
      ...uploadErrors,
      '400': {
        description: 'invalid_request: a part list that disagrees with storage, a wrong key',
        schema: ErrorBody,
      },
      '409': {
        description: 'conflict: parts missing or of the wrong size (details); the grant stays usable',
        schema: ErrorBody,
      },
      '410': { description: 'grant_expired', schema: ErrorBody },
      '422': {
        description: 'upload_rejected: verification refused the file (details.reason)',
        schema: ErrorBody,
      },
      '503': { description: 'unavailable (storage); retry', schema: ErrorBody },
    },
  },
  {
    method: 'delete',
    path: '/v1/companion/{link}/s3/multipart/{uploadId}',
    operationId: 'companionAbort',
    summary: 'Uppy\u2019s cancel: the grant withdrawn, the multipart upload aborted on storage.',
    auth: false,
    params: { link, uploadId },
    query: keyQuery,
    responses: {
      '200': { description: 'Cancelled: `{}`.' },
      ...uploadErrors,
      '409': { description: 'conflict: already completed (details.state)', schema: ErrorBody },
    },
  },
];
