import { describe, expect, it } from 'vitest';
import {
  ERROR_REASONS,
  explainErrorReason,
  UNDOCUMENTED_REASON,
  undocumentedErrorReasons,
} from '../../src/logs/error-reasons.js';

// Every code of the AWS page's "Error reason codes" table (ALB-LOGS), as the fact sheet lists them
// (aws-facts.md §2.1 and §2.3), plus the two nonce codes of the current page (issue 11).
const DOCUMENTED = [
  'LambdaAccessDenied',
  'LambdaBadRequest',
  'LambdaConnectionError',
  'LambdaConnectionTimeout',
  'LambdaEC2AccessDeniedException',
  'LambdaEC2ThrottledException',
  'LambdaEC2UnexpectedException',
  'LambdaENILimitReachedException',
  'LambdaInvalidResponse',
  'LambdaInvalidRuntimeException',
  'LambdaInvalidSecurityGroupIDException',
  'LambdaInvalidSubnetIDException',
  'LambdaInvalidZipFileException',
  'LambdaKMSAccessDeniedException',
  'LambdaKMSDisabledException',
  'LambdaKMSInvalidStateException',
  'LambdaKMSNotFoundException',
  'LambdaRequestTooLarge',
  'LambdaResourceNotFound',
  'LambdaResponseTooLarge',
  'LambdaServiceException',
  'LambdaSubnetIPAddressLimitReachedException',
  'LambdaThrottling',
  'LambdaUnhandled',
  'LambdaUnhandledException',
  'LambdaWebsocketNotSupported',
  'AuthInvalidCookie',
  'AuthInvalidGrantError',
  'AuthInvalidIdToken',
  'AuthInvalidStateParam',
  'AuthInvalidTokenResponse',
  'AuthInvalidUserinfoResponse',
  'AuthMissingCodeParam',
  'AuthMissingStateParam',
  'AuthMissingHostHeader',
  'AuthTokenEpRequestFailed',
  'AuthTokenEpRequestTimeout',
  'AuthUnhandledException',
  'AuthUserinfoEpRequestFailed',
  'AuthUserinfoEpRequestTimeout',
  'AuthUserinfoResponseSizeExceeded',
  'AuthInvalidAWSALBAuthNonce',
  'AuthMissingAWSALBAuthNonce',
  'AWSALBTGCookieInvalid',
  'WeightedTargetGroupsUnhandledException',
  'WAFConnectionError',
  'WAFConnectionTimeout',
  'WAFResponseReadTimeout',
  'WAFServiceError',
  'WAFUnhandledException',
];

describe('error_reason catalogue', () => {
  it.each(DOCUMENTED)('explains %s: meaning, cause, action and status', (code) => {
    const entry = ERROR_REASONS.get(code);
    expect(entry, code).toBeDefined();
    expect(entry?.meaning.length).toBeGreaterThan(10);
    expect(entry?.cause.length).toBeGreaterThan(10);
    expect(entry?.action.length).toBeGreaterThan(10);
    expect(entry?.status).toBeGreaterThanOrEqual(400);
    expect(explainErrorReason(code)).toBe(entry?.meaning);
  });

  it('gives the statuses and metrics AWS documents for the codes that differ from the usual 502', () => {
    expect(ERROR_REASONS.get('LambdaWebsocketNotSupported')).toMatchObject({
      status: 400,
      metric: 'LambdaUserError',
    });
    expect(ERROR_REASONS.get('LambdaRequestTooLarge')?.status).toBe(413);
    expect(ERROR_REASONS.get('LambdaUnhandledException')?.metric).toBe('LambdaInternalError');
    expect(ERROR_REASONS.get('LambdaThrottling')).toMatchObject({ status: 502, metric: 'LambdaUserError' });
    expect(ERROR_REASONS.get('AuthMissingAWSALBAuthNonce')).toMatchObject({
      group: 'authentication',
      status: 401,
    });
  });

  it('marks a code it lacks as undocumented instead of dropping it', () => {
    expect(explainErrorReason('LambdaSomethingNew')).toBe(UNDOCUMENTED_REASON);
    expect(UNDOCUMENTED_REASON).toMatch(/^undocumented/);
    expect(undocumentedErrorReasons(['LambdaThrottling', 'LambdaSomethingNew', 'X'])).toEqual([
      'LambdaSomethingNew',
      'X',
    ]);
  });
});
