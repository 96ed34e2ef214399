/**
 * What must not land in a recording: credentials in headers (Authorization, Cookie, Set-Cookie,
 * X-Amz-Security-Token, API keys) and signature-like query values (SigV4 presigned URLs, tokens).
 * Applied to everything written to --out unless --no-redact.
 */
export const REDACTED = '[REDACTED]';

const SENSITIVE_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-credential',
  'x-api-key',
  'x-auth-token',
  'x-csrf-token',
  'x-xsrf-token',
]);

const SENSITIVE_QUERY =
  /^(x-amz-(signature|security-token|credential)|signature|sig|token|access_token|id_token|refresh_token|api[-_]?key|apikey|auth|password|passwd|secret|client_secret|session|sessionid)$/i;

export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADERS.has(name.toLowerCase());
}

export function isSensitiveQueryParam(name: string): boolean {
  return SENSITIVE_QUERY.test(name);
}

export function redactHeaderValue(name: string, value: string, redact = true): string {
  return redact && isSensitiveHeader(name) ? REDACTED : value;
}

/** Header map with sensitive values replaced. */
export function redactHeaders(headers: Record<string, string>, redact = true): Record<string, string> {
  if (!redact) return { ...headers };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = redactHeaderValue(k, v);
  return out;
}

/** URL with signature-like query values replaced; anything unparsable is returned unchanged. */
export function redactUrl(url: string, redact = true): string {
  if (!redact || !url.includes('?')) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  let changed = false;
  const params = new URLSearchParams();
  for (const [k, v] of u.searchParams) {
    if (isSensitiveQueryParam(k)) {
      params.append(k, REDACTED);
      changed = true;
    } else params.append(k, v);
  }
  if (!changed) return url;
  u.search = params.toString();
  return u.href;
}
