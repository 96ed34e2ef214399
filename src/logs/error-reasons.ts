/**
 * Every `error_reason` the ALB documents, with what it means, the status the client usually sees,
 * the CloudWatch metric the ALB increments, the usual cause and what to do. Source:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#error-reason-codes
 * (meanings, metrics) and .../load-balancer-troubleshooting.html (status codes).
 */
export type ErrorReasonGroup = 'lambda' | 'authentication' | 'waf' | 'weighted-target-group' | 'target';

export interface ErrorReason {
  code: string;
  group: ErrorReasonGroup;
  /** ELB status code the client usually receives. */
  status: number;
  /** CloudWatch metric the ALB increments for it, when the docs name one. */
  metric?: string;
  meaning: string;
  cause: string;
  action: string;
}

const lambdaVpc = (what: string): Omit<ErrorReason, 'code'> => ({
  group: 'lambda',
  status: 502,
  metric: 'LambdaUserError',
  meaning: what,
  cause: 'the function could not start: a VPC, EC2 or KMS problem in its configuration, not load',
  action:
    "fix the function's VPC/KMS configuration; check its last update status with aws lambda get-function",
});

const auth = (meaning: string, metric: string): Omit<ErrorReason, 'code'> => ({
  group: 'authentication',
  status: metric === 'ELBAuthFailure' ? 401 : 500,
  metric,
  meaning,
  cause: "the listener's authenticate action (OIDC/Cognito) failed",
  action: "check the identity provider's endpoints, client settings and the listener's authenticate action",
});

const waf = (meaning: string): Omit<ErrorReason, 'code'> => ({
  group: 'waf',
  status: 500,
  meaning,
  cause: 'the load balancer could not get a verdict from AWS WAF',
  action: 'check AWS WAF health in the region; consider WAF fail-open on the load balancer',
});

const ENTRIES: Record<string, Omit<ErrorReason, 'code'>> = {
  LambdaThrottling: {
    group: 'lambda',
    status: 502,
    metric: 'LambdaUserError',
    meaning: 'the Lambda function was throttled because there were too many requests',
    cause:
      "no concurrency was free: all functions without reserved concurrency share one account pool (1,000 by default), so one busy function can take it all and throttle the others; or the function hit its own reserved concurrency; or it scaled faster than 1,000 environments per 10 s. A throttled invocation never runs, so the function's own logs show nothing",
    action:
      'find the function that holds the pool (CloudWatch ConcurrentExecutions by function at the throttled minutes: throttlescope metrics), cap it with reserved concurrency (aws lambda put-function-concurrency), give the victims a guarantee, or raise the account quota',
  },
  LambdaUnhandled: {
    group: 'lambda',
    status: 502,
    metric: 'LambdaUserError',
    meaning: 'the Lambda function encountered an unhandled exception',
    cause: 'the handler threw, timed out or ran out of memory',
    action: "read the function's CloudWatch Logs for the trace id's time; check its timeout and memory",
  },
  LambdaInvalidResponse: {
    group: 'lambda',
    status: 502,
    metric: 'LambdaUserError',
    meaning: 'the response from the Lambda function is malformed or is missing required fields',
    cause:
      'the handler returned something other than {statusCode, headers|multiValueHeaders, body, isBase64Encoded}',
    action: 'return a valid ALB response object: a numeric statusCode, string body, string header values',
  },
  LambdaResponseTooLarge: {
    group: 'lambda',
    status: 502,
    metric: 'LambdaUserError',
    meaning: 'the size of the response exceeded 1 MB',
    cause: 'the function returned more than 1 MB of response JSON',
    action: 'paginate, compress, or serve large bodies from S3/CloudFront',
  },
  LambdaRequestTooLarge: {
    group: 'lambda',
    status: 413,
    metric: 'LambdaUserError',
    meaning: 'the size of the request body exceeded 1 MB',
    cause: 'the client sent a body larger than the 1 MB Lambda target limit',
    action: 'upload large bodies directly to S3 (pre-signed URL) instead of through the ALB',
  },
  LambdaBadRequest: {
    group: 'lambda',
    status: 400,
    metric: 'LambdaUserError',
    meaning:
      'Lambda invocation failed because the client request headers or body did not contain only UTF-8 characters',
    cause: 'a client sent non-UTF-8 headers or body',
    action: 'usually a client problem; reject or encode such requests earlier',
  },
  LambdaAccessDenied: {
    group: 'lambda',
    status: 502,
    metric: 'LambdaUserError',
    meaning: 'the load balancer did not have permission to invoke the Lambda function',
    cause:
      "the function's resource policy lacks lambda:InvokeFunction for elasticloadbalancing.amazonaws.com",
    action:
      'aws lambda add-permission --principal elasticloadbalancing.amazonaws.com --source-arn <target group ARN>',
  },
  LambdaResourceNotFound: {
    group: 'lambda',
    status: 502,
    metric: 'LambdaUserError',
    meaning: 'the Lambda function could not be found',
    cause: 'the registered function, version or alias was deleted or renamed',
    action: 'register an existing function ARN in the target group',
  },
  LambdaServiceException: {
    group: 'lambda',
    status: 502,
    metric: 'LambdaInternalError',
    meaning: 'Lambda encountered an internal error',
    cause: 'a fault inside the Lambda service',
    action: 'check the AWS Health Dashboard; retry; open a support case if it persists',
  },
  LambdaConnectionError: {
    group: 'lambda',
    status: 502,
    metric: 'LambdaInternalError',
    meaning: 'the load balancer cannot connect to Lambda',
    cause: 'a network or service problem between the load balancer and Lambda',
    action: 'check the AWS Health Dashboard; retry',
  },
  LambdaConnectionTimeout: {
    group: 'lambda',
    status: 504,
    metric: 'LambdaInternalError',
    meaning: 'an attempt to connect to Lambda timed out',
    cause: 'a network or service problem between the load balancer and Lambda',
    action: 'check the AWS Health Dashboard; retry',
  },
  LambdaUnhandledException: {
    group: 'lambda',
    status: 502,
    metric: 'LambdaInternalError',
    meaning: 'the load balancer encountered an unhandled exception',
    cause: 'a fault inside the load balancer',
    action: 'open a support case with the trace ids',
  },
  LambdaWebsocketNotSupported: {
    group: 'lambda',
    status: 400,
    metric: 'LambdaUserError',
    meaning: 'WebSockets are not supported with Lambda targets',
    cause: 'a client sent a WebSocket upgrade request to a rule that forwards to a Lambda target group',
    action:
      'route WebSocket traffic to an instance/IP target group or to API Gateway WebSocket APIs; Lambda targets answer upgrades with 400',
  },
  LambdaEC2AccessDeniedException: lambdaVpc(
    'Amazon EC2 denied access to Lambda during function initialization',
  ),
  LambdaEC2ThrottledException: lambdaVpc('Amazon EC2 throttled Lambda during function initialization'),
  LambdaEC2UnexpectedException: lambdaVpc(
    'Amazon EC2 encountered an unexpected exception during function initialization',
  ),
  LambdaENIAccessDeniedException: lambdaVpc(
    'Lambda was denied access to create a network interface in the VPC',
  ),
  LambdaENILimitReachedException: lambdaVpc(
    "Lambda couldn't create a network interface in the VPC because the limit for network interfaces was exceeded",
  ),
  LambdaInvalidRuntimeException: lambdaVpc('the specified version of the Lambda runtime is not supported'),
  LambdaInvalidSecurityGroupIDException: lambdaVpc(
    "the security group ID in the function's configuration is not valid",
  ),
  LambdaInvalidSubnetIDException: lambdaVpc("the subnet ID in the function's configuration is not valid"),
  LambdaInvalidZipFileException: lambdaVpc('Lambda could not unzip the specified function zip file'),
  LambdaKMSAccessDeniedException: lambdaVpc(
    'Lambda could not decrypt environment variables: access to the KMS key was denied',
  ),
  LambdaKMSDisabledException: lambdaVpc(
    'Lambda could not decrypt environment variables: the KMS key is disabled',
  ),
  LambdaKMSInvalidStateException: lambdaVpc(
    'Lambda could not decrypt environment variables: the KMS key state is not valid',
  ),
  LambdaKMSNotFoundException: lambdaVpc(
    'Lambda could not decrypt environment variables: the KMS key was not found',
  ),
  LambdaSubnetIPAddressLimitReachedException: lambdaVpc(
    'Lambda could not set up VPC access because one or more subnets have no available IP addresses',
  ),
  // The nonce codes are on the current AWS page (issue 11) but not in the 2023 copy the fact sheet
  // quotes, which names no metric for them: none is claimed. Status 401 as load balancers log them.
  AuthInvalidAWSALBAuthNonce: {
    ...auth('the AWSALBAuthNonce cookie does not match the nonce in the ID token', 'ELBAuthFailure'),
    metric: undefined,
    cause:
      "the OIDC callback came back with another browser session's nonce cookie (a replayed or shared callback URL, or a cookie a proxy rewrote)",
    action:
      'start the sign-in again from the application URL, not a bookmarked /oauth2/idpresponse link; make sure proxies pass the AWSALBAuthNonce cookie unchanged',
  },
  AuthMissingAWSALBAuthNonce: {
    ...auth('the AWSALBAuthNonce cookie is missing from the OIDC callback', 'ELBAuthFailure'),
    metric: undefined,
    cause:
      'the browser did not send the nonce cookie set when sign-in began (cookies blocked, another domain, or a callback opened directly)',
    action:
      'start the sign-in from the application URL; check that the callback domain matches the listener and that cookies are not stripped',
  },
  AuthInvalidCookie: auth('the authentication cookie is not valid', 'ELBAuthFailure'),
  AuthInvalidGrantError: auth(
    'the authorization grant code from the token endpoint is not valid',
    'ELBAuthFailure',
  ),
  AuthInvalidIdToken: auth('the ID token is not valid', 'ELBAuthFailure'),
  AuthInvalidStateParam: auth('the state parameter is not valid', 'ELBAuthFailure'),
  AuthInvalidTokenResponse: auth('the response from the token endpoint is not valid', 'ELBAuthFailure'),
  AuthInvalidUserinfoResponse: auth(
    'the response from the user info endpoint is not valid',
    'ELBAuthFailure',
  ),
  AuthMissingCodeParam: auth(
    "the authorization endpoint's response is missing the 'code' query parameter",
    'ELBAuthFailure',
  ),
  AuthMissingHostHeader: auth(
    "the authorization endpoint's response is missing a host header field",
    'ELBAuthError',
  ),
  AuthMissingStateParam: auth(
    "the authorization endpoint's response is missing the 'state' query parameter",
    'ELBAuthFailure',
  ),
  AuthTokenEpRequestFailed: auth(
    'there is an error response (non-2XX) from the token endpoint',
    'ELBAuthError',
  ),
  AuthTokenEpRequestTimeout: auth(
    'the load balancer is unable to communicate with the token endpoint',
    'ELBAuthError',
  ),
  AuthUnhandledException: auth('the load balancer encountered an unhandled exception', 'ELBAuthError'),
  AuthUserinfoEpRequestFailed: auth(
    'there is an error response (non-2XX) from the IdP user info endpoint',
    'ELBAuthError',
  ),
  AuthUserinfoEpRequestTimeout: auth(
    'the load balancer is unable to communicate with the IdP user info endpoint',
    'ELBAuthError',
  ),
  AuthUserinfoResponseSizeExceeded: auth(
    'the size of the claims returned by the IdP exceeded 11K bytes',
    'ELBAuthUserClaimsSizeExceeded',
  ),
  AWSALBTGCookieInvalid: {
    group: 'weighted-target-group',
    status: 400,
    meaning: 'the AWSALBTG cookie used with weighted target groups is not valid (e.g. URL-encoded)',
    cause: 'a client or proxy altered the stickiness cookie',
    action: 'make sure clients and proxies pass AWSALBTG through unchanged',
  },
  WeightedTargetGroupsUnhandledException: {
    group: 'weighted-target-group',
    status: 500,
    meaning: 'the load balancer encountered an unhandled exception with weighted target groups',
    cause: 'a fault inside the load balancer',
    action: 'open a support case with the trace ids',
  },
  WAFConnectionError: waf('the load balancer cannot connect to AWS WAF'),
  WAFConnectionTimeout: waf('the connection to AWS WAF timed out'),
  WAFResponseReadTimeout: waf('a request to AWS WAF timed out'),
  WAFServiceError: waf('AWS WAF returned a 5XX error'),
  WAFUnhandledException: waf('the load balancer encountered an unhandled exception talking to AWS WAF'),
  TargetConnectionErrorCode: {
    group: 'target',
    status: 502,
    meaning: 'the connection between the load balancer and the target failed',
    cause: 'the target refused or reset the connection, or a security group blocks it',
    action:
      "check the target's health, its security group and its keep-alive timeout (longer than the ALB idle timeout)",
  },
  TargetResponseTimeout: {
    group: 'target',
    status: 504,
    meaning: 'the target did not respond before the idle timeout',
    cause: 'the target is slow or stuck',
    action: "check the target's latency and the load balancer's idle timeout",
  },
};

export const ERROR_REASONS: ReadonlyMap<string, ErrorReason> = new Map(
  Object.entries(ENTRIES).map(([code, entry]) => [code, { code, ...entry }]),
);

/** The catalogue entry, or undefined for a reason AWS has not documented (kept and reported as-is). */
export function errorReason(code: string): ErrorReason | undefined {
  return ERROR_REASONS.get(code);
}

/** The note shown for a reason the catalogue lacks: it is counted and shown as written, never dropped. */
export const UNDOCUMENTED_REASON = 'undocumented: not in the AWS documentation this build knows';

/** One line for summaries: the meaning, or UNDOCUMENTED_REASON. */
export function explainErrorReason(code: string): string {
  return ERROR_REASONS.get(code)?.meaning ?? UNDOCUMENTED_REASON;
}

/** The reasons among `codes` the catalogue lacks, in their order (e.g. a summary's byErrorReason keys). */
export function undocumentedErrorReasons(codes: Iterable<string>): string[] {
  return [...codes].filter((c) => !ERROR_REASONS.has(c));
}
