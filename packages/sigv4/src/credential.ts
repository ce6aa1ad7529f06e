import { S3Error } from '@chute/errors';

/**
 * The Credential component, `AKID/YYYYMMDD/region/service/aws4_request`. S3 answers a bad one
 * with AuthorizationHeaderMalformed (header auth) or AuthorizationQueryParametersError (query and
 * POST auth), with a message that names the part that is wrong and, for a wrong region, the
 * region it expects (so a client can retry against the right one).
 */

export type AuthPlace = 'header' | 'query';

export interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  scope: string;
}

export function credentialError(place: AuthPlace, reason: string, details?: Record<string, string>): S3Error {
  return place === 'header'
    ? new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${reason}`, details)
    : new S3Error(
        'AuthorizationQueryParametersError',
        `Error parsing the X-Amz-Credential parameter; ${reason}`,
        details,
      );
}

export function parseCredential(
  value: string,
  place: AuthPlace,
  region: string,
  service: string,
): Credential {
  const parts = value.split('/');
  if (parts.length !== 5) {
    throw credentialError(
      place,
      'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  }
  const [accessKeyId, date, credRegion, credService, terminal] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (accessKeyId === '') {
    throw credentialError(place, 'a non-empty Access Key (AKID) must be provided in the credential.');
  }
  if (!/^\d{8}$/.test(date)) {
    throw credentialError(
      place,
      `incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".`,
    );
  }
  if (credRegion !== region) {
    throw credentialError(place, `the region '${credRegion}' is wrong; expecting '${region}'`, {
      Region: region,
    });
  }
  if (credService !== service) {
    throw credentialError(
      place,
      `incorrect service "${credService}". This endpoint belongs to "${service}".`,
    );
  }
  if (terminal !== 'aws4_request') {
    throw credentialError(place, `incorrect terminal "${terminal}". This endpoint uses "aws4_request".`);
  }
  return { accessKeyId, date, region: credRegion, service: credService, scope: parts.slice(1).join('/') };
}
